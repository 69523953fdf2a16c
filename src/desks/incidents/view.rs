//! The Incidents desk on screen: the timeline, newest first, with its filters, and the selected row in
//! full under it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

use super::model::{IncidentsDesk, Kind};
use crate::desks::{Context, fit};
use crate::ui::Theme;
use crate::ui::widgets::{column_widths, text_box, wrap};

pub fn render(frame: &mut Frame, area: Rect, desk: &IncidentsDesk, cx: &Context, theme: &Theme) {
    let [filter_row, table_area, detail_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(2),
    ])
    .areas(area);
    if !desk.loaded {
        frame.render_widget(Paragraph::new(" loading the timeline..."), filter_row);
        return;
    }
    let visible = desk.visible();
    let kind = desk.kind.map_or("every kind but exits", Kind::word);
    let mut spans = vec![
        Span::raw(" Timeline: "),
        Span::styled(kind, theme.header()),
        Span::raw(" over "),
        Span::styled(desk.span.words(), theme.header()),
        Span::raw(format!(
            " ({}{})",
            visible.len(),
            if desk.rows.len() >= 500 {
                ", the newest 500"
            } else {
                ""
            }
        )),
    ];
    if desk.nav.filtering || !desk.nav.filter.value().is_empty() {
        spans.push(Span::raw("  Filter: "));
        spans.extend(text_box(
            &desk.nav.filter,
            24,
            desk.nav.filtering,
            theme.header(),
            theme,
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), filter_row);

    let wide = table_area.width >= 120;
    let widths = [
        Constraint::Length(if wide { 15 } else { 8 }),
        Constraint::Length(8),
        Constraint::Length(if wide { 22 } else { 14 }),
        Constraint::Fill(1),
    ];
    let time_format = if wide { "%d %b %H:%M:%S" } else { "%H:%M:%S" };
    // Cut to their columns with a mark (the selected row is shown in full below the table).
    let columns = column_widths(&widths, table_area.width.saturating_sub(2));
    let who_width = columns.get(2).copied().unwrap_or(0);
    let what_width = columns.get(3).copied().unwrap_or(0);
    let rows = visible.iter().map(|e| {
        let style = match e.kind {
            Kind::Alerts | Kind::Outages => theme.warn(),
            Kind::Notes => theme.header(),
            _ => ratatui::style::Style::new(),
        };
        Row::new(vec![
            Cell::from(cx.local(e.at, time_format)),
            Cell::from(e.kind.word()),
            Cell::from(fit(&e.who, who_width)),
            Cell::from(fit(&e.what, what_width)),
        ])
        .style(style)
    });
    let inner = Rect::new(
        table_area.x + 1,
        table_area.y,
        table_area.width.saturating_sub(1),
        table_area.height,
    );
    let table = Table::new(rows, widths)
        .header(Row::new(["Time", "Kind", "Who", "What"]).style(theme.header()))
        .column_spacing(1)
        .row_highlight_style(theme.selected())
        .highlight_symbol(">")
        .highlight_spacing(ratatui::widgets::HighlightSpacing::Always);
    let mut state = TableState::default().with_selected(if visible.is_empty() {
        None
    } else {
        Some(desk.nav.selected)
    });
    frame.render_stateful_widget(table, inner, &mut state);
    if visible.is_empty() {
        let message = if !desk.nav.needle().is_empty() {
            " Nothing matches the filter (Esc clears it)."
        } else if desk.wanted || desk.in_flight {
            " Reading the timeline..."
        } else {
            " Nothing happened here in that time (t looks further back)."
        };
        frame.render_widget(
            Paragraph::new(Line::styled(message, theme.dim())),
            Rect::new(table_area.x, table_area.y + 1, table_area.width, 1),
        );
    }
    if let Some(e) = desk.selected_row() {
        let text = format!(
            "{} {} ({}): {}",
            cx.local(e.at, "%H:%M:%S"),
            e.who,
            e.kind.word(),
            e.what
        );
        let lines: Vec<Line> = wrap(&text, usize::from(detail_area.width).saturating_sub(2))
            .into_iter()
            .take(usize::from(detail_area.height))
            .map(|row| Line::styled(format!(" {row}"), theme.dim()))
            .collect();
        frame.render_widget(Paragraph::new(lines), detail_area);
    }
}

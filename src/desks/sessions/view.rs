//! The Sessions desk on screen.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

use super::forecast;
use super::model::{SessionRow, SessionStatus};
use crate::desks::Context;
use crate::desks::{fit, fit_column};
use crate::ui::Theme;
use crate::ui::widgets::{column_widths, text_box};

/// Amber from here; red when full.
const AMBER_FROM: f64 = 0.9;

pub fn render(
    frame: &mut Frame,
    area: Rect,
    desk: &super::model::SessionsDesk,
    cx: &Context,
    theme: &Theme,
) {
    let [filter_row, table_area, detail_row] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    if !desk.loaded {
        frame.render_widget(Paragraph::new(" loading sessions..."), filter_row);
        return;
    }
    let visible = desk.visible();
    let live = desk
        .rows
        .iter()
        .filter(|r| r.status == SessionStatus::Live)
        .count();
    let mut spans = vec![Span::raw(format!(
        " Today: {} sessions, {live} live",
        desk.rows.len()
    ))];
    if desk.nav.filtering || !desk.nav.filter.value().is_empty() {
        spans.push(Span::raw("   Filter: "));
        spans.extend(text_box(
            &desk.nav.filter,
            30,
            desk.nav.filtering,
            theme.header(),
            theme,
        ));
        spans.push(Span::styled(
            format!("  ({} shown)", visible.len()),
            theme.dim(),
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), filter_row);

    let wide = table_area.width >= 120;
    let gauge_width = if wide { 12 } else { 6 };
    let mut widths = vec![
        Constraint::Length(11),
        Constraint::Length(if wide { 18 } else { 10 }),
    ];
    widths.push(Constraint::Fill(1));
    if wide {
        widths.push(Constraint::Length(10));
    }
    widths.extend([
        Constraint::Length(9),
        Constraint::Length(4),
        Constraint::Length(gauge_width as u16 + 5),
        Constraint::Length(9),
    ]);
    let inner = Rect::new(
        table_area.x + 1,
        table_area.y,
        table_area.width.saturating_sub(1),
        table_area.height,
    );
    // Rooms and titles cut to their columns but still told apart ("Work~Lab A", "Work~Lab B"); the
    // table's own cut would show both as "Workshop L". One column is the highlight symbol's.
    let columns = column_widths(&widths, inner.width.saturating_sub(1));
    let room_width = columns.get(1).copied().unwrap_or(0);
    let title_width = columns.get(2).copied().unwrap_or(0);
    let rooms = fit_column(
        &visible
            .iter()
            .map(|s| s.room.clone().unwrap_or_else(|| "-".to_owned()))
            .collect::<Vec<_>>(),
        room_width,
    );
    let titles = fit_column(
        &visible.iter().map(|s| s.title.clone()).collect::<Vec<_>>(),
        title_width,
    );
    let rows = visible
        .iter()
        .zip(rooms.into_iter().zip(titles))
        .map(|(s, named)| session_row(s, named, cx, theme, wide, gauge_width));
    let mut header = vec!["Time", "Room", "Title"];
    if wide {
        header.push("Type");
    }
    header.extend(["Reg/Max", "Here", "Fill", "Status"]);
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.header()))
        .column_spacing(1)
        .row_highlight_style(theme.selected())
        .highlight_symbol(">")
        .highlight_spacing(ratatui::widgets::HighlightSpacing::Always);
    let mut table_state = TableState::default().with_selected(if visible.is_empty() {
        None
    } else {
        Some(desk.nav.selected)
    });
    frame.render_stateful_widget(table, inner, &mut table_state);
    if visible.is_empty() {
        let message = if desk.rows.is_empty() {
            " No sessions today."
        } else {
            " Nothing matches the filter (Esc clears it)."
        };
        frame.render_widget(
            Paragraph::new(Line::styled(message, theme.dim())),
            Rect::new(table_area.x, table_area.y + 1, table_area.width, 1),
        );
    }

    if let Some(selected) = desk.selected_row() {
        let said = forecast::said(&selected.forecast());
        // The title gives way to the forecast, which must fit whole on the line (cut at its edge).
        let title_width = match &said {
            Some(said) => (detail_row.width as usize)
                .saturating_sub(said.chars().count() + 4)
                .clamp(16, 40),
            None => 40,
        };
        let mut parts = vec![
            format!(" {}", fit(&selected.title, title_width)),
            selected
                .session_type
                .clone()
                .unwrap_or_else(|| "session".to_owned()),
        ];
        parts.push(format!("{} waiting", selected.waiting));
        parts.push(format!("{} registered", selected.registered));
        parts.push(format!("{} in the room", selected.present));
        parts.push(match selected.max {
            Some(max) => format!("capacity {max}"),
            None => "no capacity limit".to_owned(),
        });
        // The forecast first after the title: the line is cut at the screen's edge.
        if let Some(said) = said {
            parts.insert(1, said);
        }
        frame.render_widget(
            Paragraph::new(Line::styled(
                parts.join(&format!(" {} ", theme.dot())),
                theme.dim(),
            )),
            detail_row,
        );
    }
}

/// `named`: the row's room and title as fitted to their columns.
fn session_row<'a>(
    s: &SessionRow,
    (room, title): (String, String),
    cx: &Context,
    theme: &Theme,
    wide: bool,
    gauge_width: usize,
) -> Row<'a> {
    let time = format!(
        "{}-{}",
        cx.local(s.start, "%H:%M"),
        cx.local(s.end, "%H:%M")
    );
    let max = s.max.map_or("-".to_owned(), |m| m.to_string());
    let (gauge, gauge_style) = match s.fill() {
        Some(fill) => {
            let style = if fill >= 1.0 {
                theme.bad()
            } else if fill >= AMBER_FROM {
                theme.warn()
            } else {
                theme.good()
            };
            (
                format!(
                    "{} {:>3}%",
                    theme.gauge(fill, gauge_width),
                    (fill * 100.0).round() as i64
                ),
                style,
            )
        }
        None => ("no limit".to_owned(), theme.dim()),
    };
    let status_style = match s.status {
        SessionStatus::Live => theme.good(),
        SessionStatus::Cancelled => theme.bad(),
        SessionStatus::Completed => theme.dim(),
        SessionStatus::Scheduled => Style::new(),
    };
    let mut cells = vec![Cell::from(time), Cell::from(room), Cell::from(title)];
    if wide {
        cells.push(Cell::from(s.session_type.clone().unwrap_or_default()));
    }
    cells.extend([
        Cell::from(format!("{:>4}/{:<4}", s.registered, max)),
        Cell::from(format!("{:>4}", s.present)),
        Cell::from(gauge).style(gauge_style),
        match forecast::short(&s.forecast()) {
            // Heading for capacity: when, instead of the status (the detail line says how sure).
            Some(when) => Cell::from(when).style(theme.warn()),
            None => Cell::from(s.status.as_str()).style(status_style),
        },
    ]);
    let row = Row::new(cells);
    if s.status.over() {
        row.style(theme.dim())
    } else {
        row
    }
}

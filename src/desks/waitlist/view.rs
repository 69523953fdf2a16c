//! The Waitlist desk on screen.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

use super::model::{EXPIRING_WITHIN_MINUTES, WaitStatus, countdown};
use crate::desks::Context;
use crate::desks::{fit, fit_column};
use crate::ui::Theme;
use crate::ui::widgets::{column_widths, text_box};

pub fn render(
    frame: &mut Frame,
    area: Rect,
    desk: &super::model::WaitlistDesk,
    cx: &Context,
    theme: &Theme,
) {
    if !desk.loaded {
        frame.render_widget(Paragraph::new(" loading waitlists..."), area);
        return;
    }
    let [head, list] = Layout::vertical([Constraint::Length(1), Constraint::Min(3)]).areas(area);
    let visible = desk.visible();
    let count = |status: WaitStatus| desk.rows.iter().filter(|r| r.status == status).count();
    let waiting = count(WaitStatus::Waiting);
    let offered = count(WaitStatus::Offered);
    let mut spans = vec![
        Span::raw(format!(" Waiting {waiting}   Offered {offered}   ")),
        Span::styled(
            format!(
                "expiring in {EXPIRING_WITHIN_MINUTES} min {}",
                desk.expiring_within(cx.now, EXPIRING_WITHIN_MINUTES)
            ),
            theme.warn(),
        ),
    ];
    if let Some((_, title)) = &desk.only_session {
        spans.push(Span::raw("   Queue: "));
        spans.push(Span::styled(fit(title, 28), theme.header()));
        spans.push(Span::styled(" (Esc: all)", theme.dim()));
    }
    if desk.nav.filtering || !desk.nav.filter.value().is_empty() {
        spans.push(Span::raw("   Filter: "));
        spans.extend(text_box(
            &desk.nav.filter,
            20,
            desk.nav.filtering,
            theme.header(),
            theme,
        ));
    }
    if desk.history {
        spans.push(Span::styled("   + last hour", theme.dim()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), head);

    let wide = list.width >= 120;
    let mut widths = vec![
        Constraint::Fill(2),
        Constraint::Length(4),
        Constraint::Fill(2),
    ];
    let mut header = vec!["Queue", "Pos", "Attendee"];
    if wide {
        widths.push(Constraint::Length(20));
        header.push("Reason");
    }
    widths.extend([
        Constraint::Length(9),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(8),
    ]);
    header.extend(["Status", "Offered", "Expires", "Notified"]);
    // Queues (session titles) cut to their column but told apart; one column is the highlight's.
    let queue_width = column_widths(&widths, list.width.saturating_sub(2))
        .first()
        .copied()
        .unwrap_or(0);
    let queues = fit_column(
        &visible
            .iter()
            .map(|r| r.queue().to_owned())
            .collect::<Vec<_>>(),
        queue_width,
    );
    let rows = visible.iter().zip(queues).map(|(r, queue)| {
        let offered = r.status == WaitStatus::Offered;
        let left = match r.expires_at {
            Some(at) if offered => countdown(at, cx.now),
            _ => String::new(),
        };
        let left_style = match r.expires_at {
            Some(at) if offered && (at - cx.now).num_seconds() < 120 => theme.bad(),
            _ if offered => theme.warn(),
            _ => Style::new(),
        };
        let mut cells = vec![
            Cell::from(queue),
            Cell::from(r.position.map_or("-".to_owned(), |p| p.to_string())),
            Cell::from(r.attendee.clone()),
            Cell::from(r.status.as_str()),
            Cell::from(
                r.offered_at
                    .map(|t| cx.local(t, "%H:%M"))
                    .unwrap_or_default(),
            ),
            Cell::from(left).style(left_style),
            Cell::from(
                r.notified_at
                    .map(|t| cx.local(t, "%H:%M"))
                    .unwrap_or_else(|| "-".to_owned()),
            ),
        ];
        if wide {
            cells.insert(
                3,
                Cell::from(r.reason.clone().unwrap_or_default().replace('_', " ")),
            );
        }
        let style = if r.active() {
            Style::new()
        } else {
            theme.dim()
        };
        Row::new(cells).style(style)
    });

    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.header()))
        .column_spacing(1)
        .row_highlight_style(theme.selected())
        .highlight_symbol(">")
        .highlight_spacing(ratatui::widgets::HighlightSpacing::Always);
    let mut table_state =
        TableState::default().with_selected((!visible.is_empty()).then_some(desk.nav.selected));
    frame.render_stateful_widget(
        table,
        Rect::new(
            list.x + 1,
            list.y,
            list.width.saturating_sub(1),
            list.height,
        ),
        &mut table_state,
    );
    if visible.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled(" Nobody is waiting here.", theme.dim())),
            Rect::new(list.x, list.y + 1, list.width, 1),
        );
    }
}

//! The Announcements desk on screen, and its compose form.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, TableState};

use crate::ui::widgets::{indented, text_box};

use super::compose::{Compose, Field, METHODS};
use super::model::{
    AnnouncementRow, AnnouncementStatus, Audience, DeliveryMethod, Priority, methods_said,
};
use crate::desks::Context;
use crate::desks::words::ColumnWords;
use crate::desks::{clean, fit};
use crate::ui::Theme;

pub fn render(
    frame: &mut Frame,
    area: Rect,
    desk: &super::model::AnnouncementsDesk,
    cx: &Context,
    theme: &Theme,
) {
    if !desk.loaded {
        frame.render_widget(Paragraph::new(" loading announcements..."), area);
        return;
    }
    let detail_height = if area.height >= 40 { 10 } else { 5 };
    let [head, list, detail] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(detail_height),
    ])
    .areas(area);
    let count =
        |status: AnnouncementStatus| desk.rows.iter().filter(|r| r.status == status).count();
    let mut spans = vec![Span::raw(format!(
        " Draft {}   Scheduled {}   Sent {}   Cancelled {}",
        count(AnnouncementStatus::Draft),
        count(AnnouncementStatus::Scheduled),
        count(AnnouncementStatus::Sent),
        count(AnnouncementStatus::Cancelled)
    ))];
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
    frame.render_widget(Paragraph::new(Line::from(spans)), head);

    let visible = desk.visible();
    let wide = list.width >= 120;
    let rows = visible.iter().map(|r| {
        let priority_style = match r.priority {
            Priority::Urgent => theme.bad(),
            Priority::High => theme.warn(),
            Priority::Normal | Priority::Low => Style::new(),
        };
        let when = r
            .when()
            .map(|t| cx.local(t, if wide { "%a %H:%M" } else { "%H:%M" }))
            .unwrap_or_else(|| "-".to_owned());
        let mut cells = vec![
            Cell::from(r.status.as_str()),
            Cell::from(if r.priority == Priority::Urgent {
                "URGENT"
            } else {
                r.priority.as_str()
            })
            .style(priority_style),
            Cell::from(r.title.clone()),
            Cell::from(r.audience.map_or("-", Audience::as_str)),
            Cell::from(methods_short(&r.methods)),
            Cell::from(when),
            Cell::from(format!("{:>6}", r.recipients)),
        ];
        if wide {
            cells.insert(4, Cell::from(fit(&r.session_titles.join(", "), 30)));
        }
        let style = match r.status {
            AnnouncementStatus::Cancelled | AnnouncementStatus::Sent => theme.dim(),
            AnnouncementStatus::Draft | AnnouncementStatus::Scheduled => Style::new(),
        };
        Row::new(cells).style(style)
    });
    let mut widths = vec![
        Constraint::Length(9),
        Constraint::Length(6),
        Constraint::Fill(1),
        Constraint::Length(10),
    ];
    let mut header = vec!["Status", "Pri", "Title", "Audience"];
    if wide {
        widths.push(Constraint::Length(30));
        header.push("Sessions");
    }
    widths.extend([
        Constraint::Length(7),
        Constraint::Length(if wide { 9 } else { 5 }),
        Constraint::Length(6),
    ]);
    header.extend(["Via", "When", "Reach"]);
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
            Paragraph::new(Line::styled(
                " No announcements yet: n writes one.",
                theme.dim(),
            )),
            Rect::new(list.x, list.y + 1, list.width, 1),
        );
    }
    if let Some(row) = desk.selected_row() {
        frame.render_widget(
            Paragraph::new(detail_lines(row, usize::from(detail.width), theme)),
            detail,
        );
    }
}

/// "email, push" -> "ep..": the delivery methods by initial, to fit 80 columns.
fn methods_short(methods: &[DeliveryMethod]) -> String {
    METHODS
        .iter()
        .map(|m| {
            if methods.contains(m) {
                m.as_str().chars().next().unwrap_or('?')
            } else {
                '.'
            }
        })
        .collect()
}

/// Each line starts at column 1; what does not fit goes on under itself, never from column 0.
fn detail_lines(r: &AnnouncementRow, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let title = format!(" {}", r.title);
    let about = format!(
        "{} to {} ({} people) by {}",
        r.priority,
        r.audience.map_or("nobody chosen", Audience::as_str),
        r.recipients,
        methods_said(&r.methods)
    );
    let mut lines = if title.chars().count() + 2 + about.chars().count() <= width {
        vec![Line::from(vec![
            Span::styled(title, theme.header()),
            Span::raw(format!("  {about}")),
        ])]
    } else {
        let mut lines = vec![Line::styled(fit(&title, width), theme.header())];
        lines.extend(indented(&about, width));
        lines
    };
    if !r.session_titles.is_empty() {
        lines.extend(indented(
            &format!("sessions: {}", r.session_titles.join(", ")),
            width,
        ));
    }
    for line in r.content.lines() {
        lines.extend(indented(&clean(line), width));
    }
    lines
}

/// The compose form, drawn over the desk.
pub fn render_compose(frame: &mut Frame, area: Rect, form: &Compose, theme: &Theme) {
    let width = area.width.saturating_sub(4).min(100);
    let height = area.height.min(20);
    let rect = Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    );
    frame.render_widget(Clear, rect);
    let title = if form.editing.is_some() {
        " Edit draft (Ctrl-S saves, Esc closes) "
    } else {
        " New announcement (Ctrl-S saves, Esc closes) "
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_set(theme.border())
        .border_style(theme.title())
        .title(Span::styled(title, theme.title()));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);

    let content_rows = inner.height.saturating_sub(8).max(1);
    let mut constraints = Vec::new();
    for field in Field::ALL {
        constraints.push(Constraint::Length(if field == Field::Content {
            content_rows
        } else {
            1
        }));
    }
    constraints.push(Constraint::Length(1));
    let areas = Layout::vertical(constraints).split(inner);
    for (i, field) in Field::ALL.into_iter().enumerate() {
        let focused = form.field() == field;
        let label_style = if focused {
            theme.selected().patch(theme.header())
        } else {
            theme.header()
        };
        let cursor = if focused { "_" } else { "" };
        let [label_area, value_area] =
            Layout::horizontal([Constraint::Length(10), Constraint::Min(10)]).areas(areas[i]);
        // A one-line field scrolls to keep its cursor in sight, however long the text.
        let one_line = |input: &tui_input::Input| {
            Line::from(text_box(
                input,
                usize::from(value_area.width).saturating_sub(1),
                focused,
                Style::new(),
                theme,
            ))
        };
        let value: Vec<Line> = match field {
            Field::Title => vec![one_line(&form.title)],
            Field::Content => {
                let text = format!("{}{cursor}", form.content.value());
                let all: Vec<&str> = text.split('\n').collect();
                // The last lines, so the cursor stays in sight.
                let skip = all.len().saturating_sub(content_rows as usize);
                all[skip..]
                    .iter()
                    .map(|l| Line::raw((*l).to_owned()))
                    .collect()
            }
            Field::Priority => vec![choices(form.priority, focused, theme)],
            Field::Audience => vec![choices(form.audience, focused, theme)],
            Field::Sessions => vec![if form.sessions.value().is_empty() && !focused {
                Line::raw(
                    "(all; or parts of today's session titles, ;-separated, HH:MM first to pick)",
                )
            } else {
                one_line(&form.sessions)
            }],
            Field::Methods => vec![Line::from(
                METHODS
                    .iter()
                    .zip(form.methods)
                    .enumerate()
                    .map(|(n, (m, on))| {
                        Span::styled(
                            format!("[{}] {} {m}  ", if on { "x" } else { " " }, n + 1),
                            if on { theme.header() } else { Style::new() },
                        )
                    })
                    .collect::<Vec<_>>(),
            )],
            Field::Schedule => vec![if form.schedule.value().is_empty() && !focused {
                Line::raw("(empty: save as a draft; HH:MM today or YYYY-MM-DD HH:MM)")
            } else {
                one_line(&form.schedule)
            }],
        };
        frame.render_widget(
            Paragraph::new(Span::styled(format!("{:<9}", field.label()), label_style)),
            label_area,
        );
        let mut value = value;
        if let Some(error) = form.error(field)
            && let Some(first) = value.first_mut()
        {
            first
                .spans
                .push(Span::styled(format!("  <- {error}"), theme.bad()));
        }
        frame.render_widget(Paragraph::new(value), value_area);
    }
    if let Some(hint_area) = areas.last() {
        frame.render_widget(
            Paragraph::new(Line::styled(
                "Tab next  Left/Right choose  1-4 methods  Enter in Content: new line",
                theme.dim(),
            )),
            *hint_area,
        );
    }
}

fn choices<W: ColumnWords>(chosen: W, focused: bool, theme: &Theme) -> Line<'static> {
    let mut spans = Vec::new();
    for item in W::ALL {
        let style = if *item == chosen {
            theme.header()
        } else {
            theme.dim()
        };
        let text = if *item == chosen {
            format!("<{item}> ")
        } else {
            format!(" {item}  ")
        };
        spans.push(Span::styled(text, style));
    }
    if focused {
        spans.push(Span::styled(" (Left/Right)", theme.dim()));
    }
    Line::from(spans)
}

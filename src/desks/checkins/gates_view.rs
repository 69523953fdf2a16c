//! Gate watch on screen: the alert line over the feed, and every gate (`f`) with its rate, last entry,
//! refusal share and alert, the open alerts' sentences under the table.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::gates::{AlertKind, GateAlert, GateWatch};
use super::model::Summary;
use super::view::{per_minute, thousands};
use crate::desks::{Context, fit};
use crate::ui::Theme;
use crate::ui::widgets::wrap;

/// One line over the feed while an alert is open: the one `a` acknowledges (else the oldest), how many
/// more, and what to press.
pub fn alert_line(watch: &GateWatch, width: u16, cx: &Context, theme: &Theme) -> Line<'static> {
    let Some(first) = watch.to_acknowledge().or(watch.alerts.first()) else {
        return Line::raw("");
    };
    let more = watch.alerts.len() - 1;
    let what = short(first, watch, cx);
    let tail = match &first.acknowledged {
        None => "  a acknowledges, f shows the gates".to_owned(),
        Some((name, at)) => format!("  seen by {name} at {}", cx.local(*at, "%H:%M")),
    };
    let more = if more > 0 {
        format!(" (+{more} more)")
    } else {
        String::new()
    };
    let room = usize::from(width)
        .saturating_sub(3 + more.chars().count() + tail.chars().count())
        .max(12);
    let style = if first.acknowledged.is_none() {
        theme.bad()
    } else {
        theme.warn()
    };
    Line::from(vec![
        Span::styled(format!(" ! {}", fit(&what, room)), style),
        Span::styled(more, style),
        Span::styled(tail, theme.dim()),
    ])
}

/// "East Gate silent since 15:36", "South Gate refusing 24% of 58 scans (5 min)": the database's
/// numbers, in a few words.
fn short(alert: &GateAlert, watch: &GateWatch, cx: &Context) -> String {
    let row = watch.rows.iter().find(|r| r.gate == alert.gate);
    match alert.kind {
        AlertKind::Silent => {
            let since = row.and_then(|r| r.last_at).unwrap_or(alert.raised_at);
            format!("{} silent since {}", alert.gate, cx.local(since, "%H:%M"))
        }
        AlertKind::Refusals => match row.and_then(|r| r.refusal_percent.map(|p| (p, r))) {
            Some((percent, r)) => format!(
                "{} refusing {percent}% of {} scans ({} min)",
                alert.gate,
                r.window_entries + r.window_refusals,
                r.window_minutes
            ),
            None => format!("{} refusing many scans", alert.gate),
        },
    }
}

/// Every gate, busiest first (`f`): entries, rate and refusals over the event's window, last entry,
/// share of all entries, alert; the open alerts' sentences below. Before the gate watch is read (or
/// from a server without it) the totals' gates, with what they have.
pub fn render(
    frame: &mut Frame,
    area: Rect,
    summary: &Summary,
    watch: &GateWatch,
    cx: &Context,
    theme: &Theme,
) {
    let details: Vec<Line> = watch
        .alerts
        .iter()
        .flat_map(|a| {
            let said = match &a.acknowledged {
                Some((name, at)) => format!(
                    "{} (raised {}, seen by {name} at {})",
                    a.detail,
                    cx.local(a.raised_at, "%H:%M"),
                    cx.local(*at, "%H:%M")
                ),
                None => format!("{} (raised {})", a.detail, cx.local(a.raised_at, "%H:%M")),
            };
            wrap(&said, usize::from(area.width).saturating_sub(2).max(10))
                .into_iter()
                .enumerate()
                .map(|(i, row)| {
                    let lead = if i == 0 { "! " } else { "  " };
                    Line::styled(format!("{lead}{row}"), theme.warn())
                })
                .collect::<Vec<_>>()
        })
        .collect();
    // The table comes first (its header and every gate); the sentences take what is left.
    let table_rows = gate_count(summary, watch) as u16 + 1;
    let detail_rows = (details.len() as u16).min(area.height.saturating_sub(1 + table_rows));
    let [title, table_area, detail_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(2),
        Constraint::Length(detail_rows),
    ])
    .areas(area);
    let window = watch.rows.first().map_or(5, |r| r.window_minutes);
    let silent = watch.rows.first().map_or(3, |r| r.silent_minutes);
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(
                format!("All gates ({})", gate_count(summary, watch)),
                theme.header(),
            ),
            Span::styled(
                format!("  rates over {window} min; silent after {silent} min; f: feed"),
                theme.dim(),
            ),
        ])),
        title,
    );
    frame.render_widget(Paragraph::new(details), detail_area);

    let all: i64 = summary.gates.iter().map(|g| g.total).sum();
    let share = |entries: i64| {
        if all > 0 {
            format!("{:.1}%", 100.0 * entries as f64 / all as f64)
        } else {
            "-".to_owned()
        }
    };
    let right = |text: String| Cell::from(Line::from(text).right_aligned());
    let mut rows: Vec<Row> = if watch.loaded && !watch.rows.is_empty() {
        watch
            .rows
            .iter()
            .map(|g| {
                let alert = watch.alert_at(&g.gate);
                let (flag, style) = match alert {
                    Some(a) if a.acknowledged.is_none() => (a.kind.label().to_owned(), theme.bad()),
                    Some(a) => (format!("{} seen", a.kind.label()), theme.warn()),
                    None => (String::new(), Style::new()),
                };
                Row::new(vec![
                    Cell::from(g.gate.clone()),
                    right(thousands(g.entries)),
                    right(per_minute_over(g.window_entries, g.window_minutes)),
                    right(
                        g.last_at
                            .map_or_else(|| "-".to_owned(), |t| cx.local(t, "%H:%M:%S")),
                    ),
                    right(g.refusal_percent.map_or_else(
                        || "-".to_owned(),
                        |p| format!("{p}% of {}", g.window_entries + g.window_refusals),
                    )),
                    right(share(g.entries)),
                    Cell::from(Span::styled(flag, style)),
                ])
            })
            .collect()
    } else {
        summary
            .gates
            .iter()
            .map(|g| {
                Row::new(vec![
                    Cell::from(g.gate.clone()),
                    right(thousands(g.total)),
                    right(per_minute(g.last_5_min)),
                    right("-".to_owned()),
                    right("-".to_owned()),
                    right(share(g.total)),
                    Cell::from(""),
                ])
            })
            .collect()
    };
    // The header row takes one line; a last line is kept to count what does not fit.
    let room = usize::from(table_area.height.saturating_sub(1));
    let total = rows.len();
    if total > room {
        rows.truncate(room.saturating_sub(1));
        rows.push(Row::new(vec![Cell::from(Span::styled(
            format!("+{} more: a taller window shows them", total - rows.len()),
            theme.dim(),
        ))]));
    }
    let table = Table::new(
        rows,
        [
            Constraint::Fill(1),
            Constraint::Length(7),
            Constraint::Length(5),
            Constraint::Length(8),
            Constraint::Length(10),
            Constraint::Length(6),
            Constraint::Length(13),
        ],
    )
    .header(
        Row::new([
            "Gate", "Entries", "/min", "Last in", "Refused", "Share", "Alert",
        ])
        .style(theme.header()),
    )
    .column_spacing(1);
    // At most about a hundred columns: a wide terminal does not push the numbers away from the names.
    let table_area = Rect {
        width: table_area.width.min(100),
        ..table_area
    };
    frame.render_widget(table, table_area);
}

fn gate_count(summary: &Summary, watch: &GateWatch) -> usize {
    if watch.loaded && !watch.rows.is_empty() {
        watch.rows.len()
    } else {
        summary.gates.len()
    }
}

/// Entries a minute over a window of `minutes`.
fn per_minute_over(entries: i64, minutes: i32) -> String {
    let rate = entries as f64 / f64::from(minutes.max(1));
    if rate >= 10.0 || rate == 0.0 {
        format!("{rate:.0}")
    } else {
        format!("{rate:.1}")
    }
}

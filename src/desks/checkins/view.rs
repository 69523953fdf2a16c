//! The Check-ins desk on screen.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Sparkline, Table, TableState};

use super::gates_view;
use super::model::{AttendeeStatus, Problem, ScanOutcome};
use crate::desks::Context;
use crate::desks::{fit, fit_column};
use crate::ui::Theme;
use crate::ui::widgets::{column_widths, text_box};

pub fn render(
    frame: &mut Frame,
    area: Rect,
    desk: &super::model::CheckinsDesk,
    cx: &Context,
    theme: &Theme,
) {
    let gate_lines = desk
        .summary
        .as_ref()
        .map_or_else(Vec::new, |s| gate_lines(s, area.width, theme));
    let alert_rows = u16::from(!desk.gates.alerts.is_empty());
    let [totals, gates, alert, spark_label, spark, scan, rest] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(gate_lines.len().max(1) as u16),
        Constraint::Length(alert_rows),
        Constraint::Length(1),
        Constraint::Length(2),
        Constraint::Length(2),
        Constraint::Min(4),
    ])
    .areas(area);
    let Some(summary) = &desk.summary else {
        frame.render_widget(Paragraph::new(" loading check-ins..."), totals);
        return;
    };

    let percent = if summary.expected > 0 {
        summary.checked_in as f64 * 100.0 / summary.expected as f64
    } else {
        0.0
    };
    let problems_style = if summary.problems_15_min > 0 {
        theme.warn()
    } else {
        Style::new()
    };
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::raw(" Checked in "),
            Span::styled(
                format!(
                    "{} / {}",
                    thousands(summary.checked_in),
                    thousands(summary.expected)
                ),
                theme.header(),
            ),
            Span::raw(format!(" ({percent:.1}%)   Present now ")),
            Span::styled(thousands(summary.present), theme.header()),
            Span::raw("   Problems (15 min) "),
            Span::styled(summary.problems_15_min.to_string(), problems_style),
        ])),
        totals,
    );

    frame.render_widget(Paragraph::new(gate_lines), gates);
    if alert_rows > 0 {
        frame.render_widget(
            Paragraph::new(gates_view::alert_line(&desk.gates, alert.width, cx, theme)),
            alert,
        );
    }

    let arrivals = &summary.arrivals_per_minute;
    let peak = arrivals.iter().copied().max().unwrap_or(0);
    let this_minute = arrivals.last().copied().unwrap_or(0);
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::raw(" Arrivals per minute, last hour:  busiest minute "),
            Span::styled(peak.to_string(), theme.header()),
            Span::raw("  this minute "),
            Span::styled(this_minute.to_string(), theme.header()),
        ])),
        spark_label,
    );
    let shown = (spark.width as usize).saturating_sub(2).min(arrivals.len());
    let recent: Vec<u64> = arrivals[arrivals.len() - shown..].to_vec();
    let spark_area = Rect::new(spark.x + 1, spark.y, shown as u16, spark.height);
    frame.render_widget(
        Sparkline::default()
            .data(&recent)
            .max(peak.max(1))
            .bar_set(theme.bars())
            .style(theme.good()),
        spark_area,
    );

    render_scan(frame, scan, desk, cx, theme);

    if desk.search.is_some() {
        render_search(frame, rest, desk, theme);
        return;
    }
    if desk.show_gates {
        gates_view::render(frame, indent(rest), summary, &desk.gates, cx, theme);
        return;
    }
    if rest.width >= 120 {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)])
                .spacing(1)
                .areas(rest);
        render_feed(frame, left, desk, cx, theme);
        render_problems(frame, right, desk, cx, theme);
    } else {
        let feed_rows = (rest.height * 3 / 5).max(3);
        let [top, bottom] =
            Layout::vertical([Constraint::Length(feed_rows), Constraint::Min(2)]).areas(rest);
        render_feed(frame, top, desk, cx, theme);
        render_problems(frame, bottom, desk, cx, theme);
    }
}

/// Entries per gate, busiest first, on one row or two; what still does not fit is counted, never cut.
/// The label says what the numbers are: entries (a re-entry counts again, so they can add up to more
/// than "Checked in") and, in brackets, the rate over the last five minutes.
fn gate_lines(summary: &super::model::Summary, width: u16, theme: &Theme) -> Vec<Line<'static>> {
    let width = usize::from(width);
    let label = " Gate entries (re-entries too; /min over 5 min): ";
    if summary.gates.is_empty() {
        return vec![Line::from(vec![
            Span::raw(label),
            Span::styled("no entries yet", theme.dim()),
        ])];
    }
    let items: Vec<(String, String, String)> = summary
        .gates
        .iter()
        .map(|g| {
            (
                format!("{} ", g.gate),
                thousands(g.total),
                format!(" ({}/min)", per_minute(g.last_5_min)),
            )
        })
        .collect();
    let item_width = |i: &(String, String, String)| {
        i.0.chars().count() + i.1.chars().count() + i.2.chars().count()
    };
    let separator = format!(" {} ", theme.dot());
    let more_room = " +99 more (f)".len();
    let separator_width = separator.chars().count();
    let mut lines: Vec<Vec<Span<'static>>> = vec![vec![Span::raw(label)]];
    let mut used = label.chars().count();
    'gates: for (n, item) in items.iter().enumerate() {
        loop {
            // On the last row, room is kept for "+N more" unless this is the last gate.
            let more = if lines.len() == 2 && n + 1 < items.len() {
                more_room
            } else {
                0
            };
            let row_len = lines.last().map_or(0, Vec::len);
            let gap = if row_len > 1 { separator_width } else { 0 };
            if used + gap + item_width(item) + more <= width {
                if let Some(row) = lines.last_mut() {
                    if gap > 0 {
                        row.push(Span::raw(separator.clone()));
                    }
                    row.push(Span::raw(item.0.clone()));
                    row.push(Span::styled(item.1.clone(), theme.header()));
                    row.push(Span::styled(item.2.clone(), theme.dim()));
                }
                used += gap + item_width(item);
                break;
            }
            if lines.len() < 2 {
                lines.push(vec![Span::raw(" ")]);
                used = 1;
                continue;
            }
            if let Some(row) = lines.last_mut() {
                row.push(Span::styled(
                    format!(" +{} more (f)", items.len() - n),
                    theme.dim(),
                ));
            }
            break 'gates;
        }
    }
    lines.into_iter().map(Line::from).collect()
}

fn render_scan(
    frame: &mut Frame,
    area: Rect,
    desk: &super::model::CheckinsDesk,
    cx: &Context,
    theme: &Theme,
) {
    let scan = &desk.scan;
    let [input_row, result_row] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(area);
    let first = if scan.on {
        let mut spans = vec![Span::styled(" SCAN> ", theme.key())];
        spans.extend(text_box(&scan.input, 50, true, Style::new(), theme));
        if scan.in_flight > 0 {
            spans.push(Span::styled(
                format!("  ({} checking)", scan.in_flight),
                theme.dim(),
            ));
        }
        Line::from(spans)
    } else if cx.permissions.has(crate::desks::Permission::CheckIn) {
        Line::styled(
            " Scanner ready on every desk; s types a code by hand",
            theme.dim(),
        )
    } else {
        Line::styled(
            " Scanning needs the check in attendees permission",
            theme.dim(),
        )
    };
    frame.render_widget(Paragraph::new(first), input_row);
    if let Some(last) = scan.history.front() {
        frame.render_widget(
            Paragraph::new(outcome_line(last, usize::from(result_row.width), cx, theme)),
            result_row,
        );
    }
}

/// The last scan on one row. A refusal's sentence comes first (it says what is wrong and often what
/// to do); the code follows only where there is room. The notice below carries the whole sentence
/// when even that is too long.
fn outcome_line(outcome: &ScanOutcome, width: usize, cx: &Context, theme: &Theme) -> Line<'static> {
    if outcome.accepted {
        let at = outcome
            .at
            .map(|t| cx.local(t, "%H:%M:%S"))
            .unwrap_or_default();
        Line::from(vec![
            Span::styled(format!(" {} ACCEPTED ", theme.tick()), theme.good()),
            Span::raw(format!(
                "{at} {} ({})",
                outcome.name.as_deref().unwrap_or("?"),
                outcome.ticket_type.as_deref().unwrap_or("no ticket type")
            )),
        ])
    } else {
        // A rule's refusal carries its code; without one the scan could not be asked at all.
        let verdict = if outcome.reason_code.is_some() {
            "REFUSED"
        } else {
            "FAILED"
        };
        let label = format!(" {} {verdict} ", theme.cross());
        let room = width.saturating_sub(label.chars().count());
        let message = outcome.message.as_deref().unwrap_or("refused");
        let code = format!(" ({})", fit(&outcome.code, 20));
        let text = if message.chars().count() + code.chars().count() <= room {
            format!("{message}{code}")
        } else if message.chars().count() <= room {
            message.to_owned()
        } else {
            // Cut between words, saying where the rest is.
            let tail = " ... (in full below)";
            let head: String = message
                .chars()
                .take(room.saturating_sub(tail.len()))
                .collect();
            let head = head.rsplit_once(' ').map_or(head.as_str(), |(h, _)| h);
            format!("{head}{tail}")
        };
        Line::from(vec![Span::styled(label, theme.bad()), Span::raw(text)])
    }
}

fn render_feed(
    frame: &mut Frame,
    area: Rect,
    desk: &super::model::CheckinsDesk,
    cx: &Context,
    theme: &Theme,
) {
    let wide = area.width >= 90;
    let widths = if wide {
        vec![
            Constraint::Length(8),
            Constraint::Fill(2),
            Constraint::Length(14),
            Constraint::Fill(1),
            Constraint::Length(9),
        ]
    } else {
        vec![
            Constraint::Length(8),
            Constraint::Fill(2),
            Constraint::Length(11),
            Constraint::Length(16),
            Constraint::Length(9),
        ]
    };
    let area = indent(area);
    // Doors cut to their column but still told apart: two sessions' titles that start alike keep their
    // ends ("Rust f~(deep dive)"), where the table's own cut would show the same words for both.
    let place_width = column_widths(&widths, area.width)
        .get(3)
        .copied()
        .unwrap_or(0);
    let places = fit_column(
        &desk
            .feed
            .iter()
            .map(|r| match (&r.session, &r.gate) {
                (Some(session), _) => session.clone(),
                (None, Some(gate)) => gate.clone(),
                (None, None) => "-".to_owned(),
            })
            .collect::<Vec<_>>(),
        place_width,
    );
    let rows = desk.feed.iter().zip(places).map(|(r, place)| {
        let method = match r.out_at {
            Some(out) => format!("out {}", cx.local(out, "%H:%M")),
            None => r
                .method
                .clone()
                .unwrap_or_default()
                .replace("qr_code", "qr"),
        };
        let mut cells = vec![
            Cell::from(cx.local(r.at, "%H:%M:%S")),
            Cell::from(r.name.clone()),
            Cell::from(r.ticket_type.clone().unwrap_or_default()),
            Cell::from(place),
        ];
        cells.push(Cell::from(method));
        let style = if r.out_at.is_some() {
            theme.dim()
        } else {
            Style::new()
        };
        Row::new(cells).style(style)
    });
    let table = Table::new(rows, widths)
        .header(
            Row::new(["Time", "Live feed: name", "Ticket", "Gate / door", "Method"])
                .style(theme.header()),
        )
        .column_spacing(1);
    frame.render_widget(table, area);
}

fn render_problems(
    frame: &mut Frame,
    area: Rect,
    desk: &super::model::CheckinsDesk,
    cx: &Context,
    theme: &Theme,
) {
    let widths = [
        Constraint::Length(8),
        Constraint::Length(12),
        Constraint::Length(12),
        Constraint::Fill(1),
    ];
    let area = indent(area);
    // Cut to their columns with a mark; a repeated problem keeps its count whatever is cut.
    let columns = column_widths(&widths, area.width);
    let gate_width = columns.get(2).copied().unwrap_or(0);
    let detail_width = columns.get(3).copied().unwrap_or(0);
    let rows = desk.problem_groups().into_iter().map(|(p, times)| {
        let count = match times {
            1 => String::new(),
            n => format!(" ({n} times)"),
        };
        let detail = format!(
            "{}{count}",
            fit(
                &problem_detail(p, cx),
                detail_width.saturating_sub(count.chars().count())
            )
        );
        Row::new(vec![
            Cell::from(cx.local(p.at, "%H:%M:%S")),
            Cell::from(p.reason_code.label()).style(theme.warn()),
            Cell::from(fit(p.gate.as_deref().unwrap_or("-"), gate_width)),
            Cell::from(detail),
        ])
    });
    let table = Table::new(rows, widths)
        .header(Row::new(["Time", "Problem", "Gate", "Detail"]).style(theme.header()))
        .column_spacing(1);
    frame.render_widget(table, area);
}

fn problem_detail(p: &Problem, cx: &Context) -> String {
    match (&p.first_gate, p.first_at) {
        (first_gate, Some(first_at)) => format!(
            "{}first in {} {}",
            p.name
                .as_deref()
                .map(|n| format!("{n}: "))
                .unwrap_or_default(),
            first_gate.as_deref().unwrap_or("?"),
            cx.local(first_at, "%H:%M")
        ),
        _ => match &p.name {
            Some(name) => format!("{name} ({})", fit(&p.code, 16)),
            None => fit(&p.code, 40),
        },
    }
}

fn render_search(frame: &mut Frame, area: Rect, desk: &super::model::CheckinsDesk, theme: &Theme) {
    let Some(search) = &desk.search else {
        return;
    };
    let [input_row, results] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    let mut spans = vec![Span::styled(" Search attendees: ", theme.header())];
    spans.extend(text_box(
        &search.input,
        50,
        search.editing,
        Style::new(),
        theme,
    ));
    if search.searching {
        spans.push(Span::styled("  searching...", theme.dim()));
    } else if let Some(q) = &search.searched {
        let found = if search.more {
            // A cap, not a count: say so, and what to do.
            format!(
                "  first {} for {}; more match, type more to narrow",
                search.hits.len(),
                fit(q, 20)
            )
        } else if search.hits.is_empty() {
            format!("  nobody matches {}", fit(q, 20))
        } else {
            format!("  {} found for {}", search.hits.len(), fit(q, 20))
        };
        spans.push(Span::styled(found, theme.dim()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), input_row);
    let rows = search.hits.iter().map(|h| {
        let inside = if h.inside { "inside" } else { "" };
        let cancelled = h.status == AttendeeStatus::Cancelled;
        let style = if cancelled { theme.dim() } else { Style::new() };
        Row::new(vec![
            Cell::from(h.name.clone()),
            Cell::from(h.email.clone()),
            Cell::from(h.tickets.clone()),
            Cell::from(if cancelled { h.status.as_str() } else { inside }),
        ])
        .style(style)
    });
    let table = Table::new(
        rows,
        [
            Constraint::Fill(2),
            Constraint::Fill(2),
            Constraint::Fill(2),
            Constraint::Length(9),
        ],
    )
    .header(Row::new(["Name", "Email", "Tickets", "Status"]).style(theme.header()))
    .column_spacing(1)
    .row_highlight_style(if search.editing {
        Style::new()
    } else {
        theme.selected()
    })
    .highlight_symbol(">")
    .highlight_spacing(ratatui::widgets::HighlightSpacing::Always);
    let mut table_state = TableState::default().with_selected(Some(search.selected));
    frame.render_stateful_widget(table, indent(results), &mut table_state);
}

/// One column of margin on the left, like the lines above.
fn indent(area: Rect) -> Rect {
    Rect::new(
        area.x + 1,
        area.y,
        area.width.saturating_sub(1),
        area.height,
    )
}

/// Entries per minute over the last five minutes.
pub fn per_minute(last_5_min: i64) -> String {
    let rate = last_5_min as f64 / 5.0;
    if rate >= 10.0 || rate == 0.0 {
        format!("{rate:.0}")
    } else {
        format!("{rate:.1}")
    }
}

/// 12345 -> "12,345".
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::{gate_lines, thousands};
    use crate::desks::checkins::model::{GateStat, Summary};
    use crate::ui::Theme;

    #[test]
    fn gates_that_do_not_fit_are_counted_not_cut() {
        let summary = Summary {
            expected: 0,
            checked_in: 0,
            present: 0,
            gates: (1..=12)
                .map(|n| GateStat {
                    gate: format!("Gate {n}"),
                    total: 1000 + n,
                    last_5_min: 50,
                })
                .collect(),
            arrivals_per_minute: Vec::new(),
            problems_15_min: 0,
            as_of: chrono::Utc::now(),
            batch: None,
        };
        let lines = gate_lines(&summary, 80, &Theme::plain());
        let text: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        assert_eq!(text.len(), 2, "{text:?}");
        assert!(text.iter().all(|l| l.chars().count() <= 80), "{text:?}");
        assert!(text[1].ends_with("more (f)"), "{text:?}");
        assert!(text.iter().all(|l| !l.contains('~')), "{text:?}");
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(-4200), "-4,200");
    }
}

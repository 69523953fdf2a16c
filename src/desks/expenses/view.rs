//! The Expenses desk on screen.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

use super::keys::Action;
use super::model::{ExpenseRow, ExpenseStatus, money};
use crate::desks::Context;
use crate::desks::fit;
use crate::ui::Theme;
use crate::ui::widgets::{indented, text_box};

pub fn render(
    frame: &mut Frame,
    area: Rect,
    desk: &super::model::ExpensesDesk,
    cx: &Context,
    theme: &Theme,
) {
    if !desk.loaded {
        frame.render_widget(Paragraph::new(" loading expenses..."), area);
        return;
    }
    let detail_height = if area.height >= 40 { 8 } else { 5 };
    let category_rows = if area.width >= 120 { 0 } else { 1 };
    let [totals_row, category_row, filter_row, list, detail] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(category_rows),
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(detail_height),
    ])
    .areas(area);

    let totals = desk.totals();
    let mut spans = vec![Span::raw(" ")];
    for (i, status) in [
        ExpenseStatus::Pending,
        ExpenseStatus::Approved,
        ExpenseStatus::Paid,
        ExpenseStatus::Rejected,
    ]
    .into_iter()
    .enumerate()
    {
        let parts: Vec<String> = totals
            .by_status
            .iter()
            .filter(|((s, _), _)| *s == status)
            .map(|((_, currency), (n, sum))| format!("{n} {} {currency}", money(*sum)))
            .collect();
        if i > 0 {
            spans.push(Span::raw(format!(" {} ", theme.dot())));
        }
        spans.push(Span::styled(format!("{status} "), theme.header()));
        spans.push(Span::raw(if parts.is_empty() {
            "0".to_owned()
        } else {
            parts.join(" + ")
        }));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), totals_row);
    if category_rows > 0 {
        // Narrow terminals: the categories on one line, largest first (a wide one has a side pane).
        let mut categories: Vec<_> = totals.by_category.iter().collect();
        categories.sort_by(|a, b| b.1.cmp(a.1));
        let parts: Vec<String> = categories
            .iter()
            .map(|((category, currency), sum)| format!("{category} {} {currency}", money(**sum)))
            .collect();
        frame.render_widget(
            Paragraph::new(Line::styled(
                format!(
                    " by category: {}",
                    parts.join(&format!(" {} ", theme.dot()))
                ),
                theme.dim(),
            )),
            category_row,
        );
    }

    let visible = desk.visible();
    let mut header = vec![Span::raw(format!(
        " Showing {} ({}), oldest first",
        desk.view.label(),
        visible.len()
    ))];
    // Marks are on pending expenses: the approved view shows none of them.
    if !desk.marked.is_empty() && desk.view.offers(Action::ApproveMarked) {
        header.push(Span::styled(
            format!("   {} marked", desk.marked.len()),
            theme.warn(),
        ));
    }
    if desk.nav.filtering || !desk.nav.filter.value().is_empty() {
        header.push(Span::raw("   Filter: "));
        header.extend(text_box(
            &desk.nav.filter,
            24,
            desk.nav.filtering,
            theme.header(),
            theme,
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(header)), filter_row);

    let wide = list.width >= 120;
    let (table_area, side) = if wide {
        let [t, s] = Layout::horizontal([Constraint::Min(80), Constraint::Length(36)])
            .spacing(1)
            .areas(list);
        (t, Some(s))
    } else {
        (list, None)
    };
    let amount_width = visible
        .iter()
        .map(|r| money(r.amount).len())
        .max()
        .unwrap_or(8)
        .max(6);
    let rows = visible.iter().map(|r| {
        let mark = if desk.marked.contains(&r.id) {
            "*"
        } else {
            " "
        };
        let mine = cx.profile.is_some() && r.created_by == cx.profile;
        let age = age(cx.now - r.created_at);
        let mut cells = vec![
            Cell::from(mark),
            Cell::from(format!("{:>amount_width$} {}", money(r.amount), r.currency)),
            Cell::from(r.category.clone().unwrap_or_default()),
            Cell::from(r.vendor.clone().unwrap_or_else(|| "-".to_owned())),
            Cell::from(if mine {
                "you".to_owned()
            } else {
                r.submitter.clone()
            }),
            Cell::from(age),
        ];
        if wide {
            cells.insert(2, Cell::from(r.name.clone()));
            cells.push(Cell::from(r.status.as_str()));
        }
        let style = match r.status {
            ExpenseStatus::Rejected => theme.dim(),
            ExpenseStatus::Paid => theme.good(),
            _ if mine => theme.dim(),
            _ => Style::new(),
        };
        Row::new(cells).style(style)
    });
    let mut widths = vec![
        Constraint::Length(1),
        Constraint::Length(amount_width as u16 + 4),
    ];
    let mut names = vec!["", "Amount", "Category", "Vendor", "Submitted by", "Age"];
    if wide {
        widths.push(Constraint::Fill(2));
        names.insert(2, "Expense");
    }
    widths.extend([
        Constraint::Length(13),
        Constraint::Fill(1),
        Constraint::Fill(1),
        Constraint::Length(5),
    ]);
    if wide {
        widths.push(Constraint::Length(9));
        names.push("Status");
    }
    let table = Table::new(rows, widths)
        .header(Row::new(names).style(theme.header()))
        .column_spacing(1)
        .row_highlight_style(theme.selected())
        .highlight_symbol(">")
        .highlight_spacing(ratatui::widgets::HighlightSpacing::Always);
    let mut table_state =
        TableState::default().with_selected((!visible.is_empty()).then_some(desk.nav.selected));
    frame.render_stateful_widget(
        table,
        Rect::new(
            table_area.x + 1,
            table_area.y,
            table_area.width.saturating_sub(1),
            table_area.height,
        ),
        &mut table_state,
    );
    if visible.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled(
                format!(" No expenses {}.", desk.view.label()),
                theme.dim(),
            )),
            Rect::new(table_area.x, table_area.y + 1, table_area.width, 1),
        );
    }
    if let Some(side) = side {
        let mut lines = vec![Line::styled("By category (not rejected)", theme.header())];
        for ((category, currency), sum) in &totals.by_category {
            lines.push(Line::raw(format!(
                "{:<14}{:>16} {currency}",
                fit(category, 13),
                money(*sum)
            )));
        }
        frame.render_widget(Paragraph::new(lines), side);
    }

    if let Some(row) = desk.selected_row() {
        frame.render_widget(
            Paragraph::new(detail_lines(row, usize::from(detail.width), cx, theme)),
            detail,
        );
    }
}

/// Each line starts at column 1; a long one (an address) goes on under itself, never from column 0.
fn detail_lines(r: &ExpenseRow, width: usize, cx: &Context, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = vec![Line::from(vec![
        Span::styled(format!(" {}", r.name), theme.header()),
        Span::raw(format!(
            "  {} {}  {}  invoice {}",
            money(r.amount),
            r.currency,
            r.status,
            r.invoice_number.as_deref().unwrap_or("-")
        )),
    ])];
    lines.extend(indented(
        r.description.as_deref().unwrap_or("(no description)"),
        width,
    ));
    let receipt = format!("receipt {}", r.receipt_url.as_deref().unwrap_or("-"));
    let invoice = format!("invoice {}", r.invoice_url.as_deref().unwrap_or("-"));
    if receipt.chars().count() + invoice.chars().count() + 3 <= width {
        lines.push(Line::raw(format!(" {receipt}  {invoice}")));
    } else {
        lines.extend(indented(&receipt, width));
        lines.extend(indented(&invoice, width));
    }
    let decided = match (r.status, &r.approved_by, r.approved_at) {
        (ExpenseStatus::Rejected, _, _) => format!(
            " rejected: {}",
            r.rejection_reason.as_deref().unwrap_or("-")
        ),
        (_, Some(by), Some(at)) => {
            let mut text = format!(" approved by {by} at {}", cx.local(at, "%H:%M"));
            if let Some(paid) = r.payment_date {
                text.push_str(&format!(", paid {paid}"));
            }
            text
        }
        _ => format!(
            " submitted {} by {}",
            cx.local(r.created_at, "%Y-%m-%d %H:%M"),
            r.submitter
        ),
    };
    lines.push(Line::styled(decided, theme.dim()));
    lines
}

/// 3m, 5h, 2d.
fn age(elapsed: chrono::Duration) -> String {
    let minutes = elapsed.num_minutes().max(0);
    if minutes < 60 {
        format!("{minutes}m")
    } else if minutes < 60 * 48 {
        format!("{}h", minutes / 60)
    } else {
        format!("{}d", minutes / (60 * 24))
    }
}

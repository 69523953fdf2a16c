//! The Expenses desk's dialogs: what each asks, how its answer is checked, and what follows.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::commands::Cmd;
use super::model::{ExpenseRow, ExpensesDesk, Intent, money, parse_payment_date};
use crate::desks::Context;
use crate::desks::desk::{Answer, Confirm, Outcome, PromptText, required_reason};
use crate::desks::fit;
use crate::ui::Tone;

#[derive(Debug, Clone)]
pub enum Prompt {
    RejectReason(ExpenseRow),
    PaymentDate(ExpenseRow),
}

/// An expense in a dialog: its name, then amount, vendor and submitter.
fn expense_lines(expense: &ExpenseRow) -> Vec<String> {
    vec![
        fit(&expense.name, 56),
        format!(
            "{} {}  {}  by {}",
            money(expense.amount),
            expense.currency,
            fit(expense.vendor.as_deref().unwrap_or("no vendor"), 24),
            fit(&expense.submitter, 24)
        ),
    ]
}

/// What the model's intent leads to.
pub fn intent(intent: Intent, ctx: &Context) -> Outcome<ExpensesDesk> {
    match intent {
        Intent::Nothing | Intent::NotMine => Outcome::nothing(),
        Intent::Say(text) => Outcome::say(text, Tone::Info),
        Intent::Approve(expense) => {
            let mut lines = expense_lines(&expense);
            lines.insert(0, "Approve this expense?".to_owned());
            Outcome::confirm(Confirm::new(
                "Approve expense",
                lines,
                Cmd::Approve {
                    expense: expense.id,
                    name: expense.name,
                },
            ))
        }
        Intent::ApproveMany(expenses) => {
            let mut totals: BTreeMap<String, Decimal> = BTreeMap::new();
            for e in &expenses {
                *totals.entry(e.currency.clone()).or_default() += e.amount;
            }
            let sum: Vec<String> = totals
                .iter()
                .map(|(currency, amount)| format!("{} {currency}", money(*amount)))
                .collect();
            let mine = expenses
                .iter()
                .filter(|e| ctx.profile.is_some() && e.created_by == ctx.profile)
                .count();
            let mut lines = vec![
                format!("Approve {} marked expenses?", expenses.len()),
                format!("Total {}", sum.join(" + ")),
                "Each is approved on its own; any refusal is listed after.".to_owned(),
            ];
            if mine > 0 {
                lines.push(format!(
                    "{mine} of them are yours: those will be refused (four eyes)."
                ));
            }
            Outcome::confirm(Confirm::new(
                "Approve marked",
                lines,
                Cmd::ApproveMany {
                    expenses: expenses.into_iter().map(|e| (e.id, e.name)).collect(),
                },
            ))
        }
        Intent::Reject(expense) => Outcome::prompt(Prompt::RejectReason(expense)),
        Intent::MarkPaid(expense) => Outcome::prompt(Prompt::PaymentDate(expense)),
    }
}

pub fn describe(prompt: &Prompt, ctx: &Context) -> PromptText {
    match prompt {
        Prompt::RejectReason(expense) => PromptText {
            title: "Reject expense".to_owned(),
            lines: expense_lines(expense),
            label: "Reason: ",
            hint: "required: the submitter sees it".to_owned(),
        },
        Prompt::PaymentDate(expense) => PromptText {
            title: "Mark paid".to_owned(),
            lines: expense_lines(expense),
            label: "Paid on: ",
            hint: format!(
                "YYYY-MM-DD; empty for today ({})",
                ctx.local(ctx.now, "%Y-%m-%d")
            ),
        },
    }
}

pub fn answer(prompt: &Prompt, text: &str) -> Result<Answer<ExpensesDesk>, String> {
    match prompt {
        Prompt::RejectReason(expense) => {
            let reason = required_reason(text, "a rejection needs a reason")?;
            let mut lines = expense_lines(expense);
            lines.push(format!("reason: {}", fit(reason, 50)));
            Ok(Answer::Confirm(
                Confirm::new(
                    "Reject expense",
                    lines,
                    Cmd::Reject {
                        expense: expense.id,
                        name: expense.name.clone(),
                        reason: reason.to_owned(),
                    },
                )
                .dangerous(),
            ))
        }
        Prompt::PaymentDate(expense) => {
            let date = parse_payment_date(text)?;
            let mut lines = expense_lines(expense);
            lines.push(match date {
                Some(date) => format!("paid on {date}"),
                None => "paid today (the event's date)".to_owned(),
            });
            Ok(Answer::Confirm(Confirm::new(
                "Mark paid",
                lines,
                Cmd::MarkPaid {
                    expense: expense.id,
                    name: expense.name.clone(),
                    date,
                },
            )))
        }
    }
}

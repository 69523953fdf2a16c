//! The Expenses desk's commands: how each runs against the database and what its answer says.

use uuid::Uuid;

use super::model::{ExpenseRow, ExpensesDesk};
use super::store;
use crate::db::Failure;
use crate::desks::Context;
use crate::desks::desk::{Env, Outcome, RowsAsked, RowsRead, attempt};
use crate::desks::fit;

#[derive(Debug, Clone, PartialEq)]
pub enum Cmd {
    Fetch(RowsAsked),
    Approve {
        expense: Uuid,
        name: String,
    },
    /// Marked expenses, each approved on its own.
    ApproveMany {
        expenses: Vec<(Uuid, String)>,
    },
    Reject {
        expense: Uuid,
        name: String,
        reason: String,
    },
    MarkPaid {
        expense: Uuid,
        name: String,
        /// None: the event's today, as the database reckons it.
        date: Option<chrono::NaiveDate>,
    },
}

#[derive(Debug)]
pub enum Answer {
    Fetched(RowsRead<ExpenseRow>),
    /// One expense decided: "{verb} {name}".
    Decided {
        verb: &'static str,
        name: String,
        result: Result<(), Failure>,
    },
    /// Approvals of marked expenses: how many went through, and why the rest did not.
    ApprovedMany {
        approved: usize,
        failed: Vec<(String, Failure)>,
    },
}

const APPROVED: &str = "approved";
const REJECTED: &str = "rejected";
const PAID: &str = "marked paid";

pub async fn run(env: &Env, cmd: Cmd) -> Answer {
    match cmd {
        Cmd::Fetch(asked) => {
            let result = attempt(async {
                store::expenses(&*env.client().await?, env.event, asked.ids.as_deref()).await
            })
            .await;
            Answer::Fetched(asked.answer(result))
        }
        Cmd::Approve { expense, name } => Answer::Decided {
            result: attempt(async { store::approve(&*env.client().await?, expense).await }).await,
            verb: APPROVED,
            name,
        },
        Cmd::ApproveMany { expenses: marked } => {
            // Each on its own: one refusal (four eyes, decided meanwhile) does not stop the rest.
            let db = match attempt(env.client()).await {
                Ok(db) => db,
                Err(why) => return failed(Cmd::ApproveMany { expenses: marked }, why),
            };
            let mut approved = 0;
            let mut failed = Vec::new();
            for (id, name) in marked {
                match attempt(store::approve(&db, id)).await {
                    Ok(()) => approved += 1,
                    Err(why) => failed.push((name, why)),
                }
            }
            Answer::ApprovedMany { approved, failed }
        }
        Cmd::Reject {
            expense,
            name,
            reason,
        } => Answer::Decided {
            result: attempt(async { store::reject(&*env.client().await?, expense, &reason).await })
                .await,
            verb: REJECTED,
            name,
        },
        Cmd::MarkPaid {
            expense,
            name,
            date,
        } => Answer::Decided {
            result: attempt(async { store::mark_paid(&*env.client().await?, expense, date).await })
                .await,
            verb: PAID,
            name,
        },
    }
}

pub fn change_in_words(cmd: &Cmd) -> Option<String> {
    Some(match cmd {
        Cmd::Fetch(_) => return None,
        Cmd::Approve { name, .. } => format!("approving {name}"),
        Cmd::ApproveMany { expenses } => format!("approving {} expenses", expenses.len()),
        Cmd::Reject { name, .. } => format!("rejecting {name}"),
        Cmd::MarkPaid { name, .. } => format!("marking {name} paid"),
    })
}

pub fn failed(cmd: Cmd, why: Failure) -> Answer {
    let decided = |verb, name| Answer::Decided {
        verb,
        name,
        result: Err(why.clone()),
    };
    match cmd {
        Cmd::Fetch(asked) => Answer::Fetched(asked.answer(Err(why))),
        Cmd::Approve { name, .. } => decided(APPROVED, name),
        Cmd::ApproveMany { expenses } => Answer::ApprovedMany {
            approved: 0,
            failed: expenses
                .into_iter()
                .map(|(_, name)| (name, why.clone()))
                .collect(),
        },
        Cmd::Reject { name, .. } => decided(REJECTED, name),
        Cmd::MarkPaid { name, .. } => decided(PAID, name),
    }
}

pub fn answered(desk: &mut ExpensesDesk, answer: Answer, ctx: &Context) -> Outcome<ExpensesDesk> {
    match answer {
        Answer::Fetched(read) => read.apply(
            desk,
            |desk| &mut desk.fetch,
            ctx,
            "expenses",
            |desk, rows, requested| match requested {
                None => desk.replace(rows),
                Some(ids) => desk.merge(&ids, rows),
            },
        ),
        Answer::Decided { verb, name, result } => {
            Outcome::done(result, || format!("{verb} {}", fit(&name, 50)))
        }
        Answer::ApprovedMany { approved, failed } => {
            let mut text = format!("approved {approved}");
            if failed.is_empty() {
                return Outcome::done(Ok(()), || text);
            }
            let reasons: Vec<String> = failed
                .iter()
                .map(|(name, why)| format!("{}: {why}", fit(name, 24)))
                .collect();
            text.push_str(&format!(
                "; {} not approved: {}",
                failed.len(),
                reasons.join("; ")
            ));
            Outcome::bad(text)
        }
    }
}

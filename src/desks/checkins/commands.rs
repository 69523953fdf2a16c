//! The Check-ins desk's commands: reading what the doors did, scanning, searching, checking in and out
//! by hand; how each runs against the database and what its answer says.

use uuid::Uuid;

use super::gates::{GateAlert, GateRow};
use super::model::{AttendeeHit, CheckinRow, CheckinsDesk, Problem, ScanOutcome, Summary};
use super::{dialogs, feed, store};
use crate::db::Failure;
use crate::db::listen::XidRange;
use crate::desks::desk::{Env, Outcome, attempt};
use crate::desks::{Context, clean, fit};
use crate::ui::Tone;

#[derive(Debug, Clone, PartialEq)]
pub enum Cmd {
    /// What the hints heard call for.
    Changes {
        generation: u64,
        checkins: Option<XidRange>,
        problems: Option<XidRange>,
        /// The flusher's views of these batches cover the ranges (empty: read the ranges); the totals
        /// come with them.
        batches: Vec<i64>,
        /// Also read the totals.
        summary: bool,
    },
    Scan {
        code: String,
    },
    Search {
        seq: u64,
        query: String,
    },
    CheckIn {
        attendee: Uuid,
        name: String,
    },
    CheckOut {
        attendee: Uuid,
        name: String,
    },
    /// The gates and their open alerts (gate watch).
    Gates {
        generation: u64,
    },
    Acknowledge {
        alert: Uuid,
        gate: String,
    },
}

#[derive(Debug)]
pub enum Answer {
    Changes {
        generation: u64,
        result: Result<Box<CheckinChanges>, Failure>,
    },
    Scanned {
        code: String,
        result: Result<ScanOutcome, Failure>,
    },
    Searched {
        seq: u64,
        result: Result<Vec<AttendeeHit>, Failure>,
    },
    CheckedIn {
        attendee: Uuid,
        name: String,
        result: Result<(), Failure>,
    },
    CheckedOut {
        attendee: Uuid,
        name: String,
        result: Result<(), Failure>,
    },
    Gates {
        generation: u64,
        result: Result<(Vec<GateRow>, Vec<GateAlert>), Failure>,
    },
    Acknowledged {
        gate: String,
        result: Result<(), Failure>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct CheckinChanges {
    /// Read when asked for (at most once a second).
    pub summary: Option<Summary>,
    /// How long the totals took to read, which spaces out the next read.
    pub summary_took: Option<std::time::Duration>,
    pub checkins: Vec<CheckinRow>,
    pub problems: Vec<Problem>,
    /// Sessions whose presence moved with these entries.
    pub sessions_touched: Vec<Uuid>,
}

pub async fn run(env: &Env, cmd: Cmd) -> Answer {
    match cmd {
        Cmd::Changes {
            generation,
            checkins,
            problems,
            batches,
            summary,
        } => Answer::Changes {
            generation,
            result: attempt(changes(env, checkins, problems, &batches, summary))
                .await
                .map(Box::new),
        },
        Cmd::Scan { code } => Answer::Scanned {
            result: attempt(async {
                store::scan(&*env.door_client().await?, env.event, &code, &env.gate).await
            })
            .await,
            code,
        },
        Cmd::Search { seq, query } => Answer::Searched {
            seq,
            result: attempt(async {
                store::search(&*env.client().await?, env.event, &query).await
            })
            .await,
        },
        Cmd::CheckIn { attendee, name } => {
            let outcome = attempt(async {
                store::check_in(&*env.door_client().await?, attendee, &env.gate).await
            })
            .await;
            Answer::CheckedIn {
                attendee,
                name,
                // Refused at the door's rules: a refusal, with its rule.
                result: outcome.and_then(|outcome| {
                    if outcome.accepted {
                        Ok(())
                    } else {
                        Err(Failure::Refused {
                            rule: outcome.reason_code.unwrap_or_else(|| "refused".to_owned()),
                            sentence: outcome.message.unwrap_or_else(|| "refused".to_owned()),
                        })
                    }
                }),
            }
        }
        Cmd::CheckOut { attendee, name } => Answer::CheckedOut {
            result: attempt(async { store::check_out(&*env.door_client().await?, attendee).await })
                .await,
            attendee,
            name,
        },
        Cmd::Gates { generation } => Answer::Gates {
            generation,
            result: attempt(async { store::gates(&*env.client().await?, env.event).await }).await,
        },
        Cmd::Acknowledge { alert, gate } => Answer::Acknowledged {
            result: attempt(async { store::acknowledge(&*env.client().await?, alert).await }).await,
            gate,
        },
    }
}

/// The changes behind the hints: the flusher's views of the batches by number when all are there (one
/// call), else the ranges, pipelined on one connection.
async fn changes(
    env: &Env,
    range: Option<XidRange>,
    problem_range: Option<XidRange>,
    batches: &[i64],
    with_summary: bool,
) -> anyhow::Result<CheckinChanges> {
    let db = env.client().await?;
    if !batches.is_empty() {
        let views = match store::batch_views(&db, env.event, batches).await {
            Ok(views) => views,
            Err(e) => {
                db.statement_cache.clear();
                return Err(e);
            }
        };
        if views.len() == batches.len() {
            let mut changes = CheckinChanges {
                summary: None,
                summary_took: None,
                checkins: Vec::new(),
                problems: Vec::new(),
                sessions_touched: Vec::new(),
            };
            // Oldest first, so a later batch's version of an entry (its check-out) wins.
            for view in views {
                changes.checkins.extend(view.checkins);
                changes.problems.extend(view.problems);
                changes.sessions_touched.extend(view.sessions);
                changes.summary = Some(view.summary);
            }
            return Ok(changes);
        }
        tracing::debug!(
            asked = batches.len(),
            found = views.len(),
            "batch views missing; reading the ranges"
        );
    }
    let with_summary = with_summary || !batches.is_empty();
    // One round trip, not four: the reads are pipelined on the one connection, each a cached prepared
    // statement (a batch lands every few milliseconds while doors are busy).
    let feed = async {
        match &range {
            Some(range) => store::checkins(&db, env.event, Some(range)).await,
            None => Ok(Vec::new()),
        }
    };
    let problems = async {
        match &problem_range {
            Some(range) => store::problems(&db, env.event, Some(range)).await,
            None => Ok(Vec::new()),
        }
    };
    let summary = async {
        if !with_summary {
            return Ok((None, None));
        }
        let started = std::time::Instant::now();
        let summary = store::summary(&db, env.event).await?;
        Ok::<_, anyhow::Error>((Some(summary), Some(started.elapsed())))
    };
    let sessions_touched = async {
        match &range {
            Some(range) => store::sessions_touched(&db, env.event, range).await,
            None => Ok(Vec::new()),
        }
    };
    let read = tokio::try_join!(feed, problems, summary, sessions_touched);
    let (checkins, problems, (summary, summary_took), sessions_touched) = match read {
        Ok(read) => read,
        Err(e) => {
            // A statement prepared before a migration may no longer fit; prepare afresh next time.
            db.statement_cache.clear();
            return Err(e);
        }
    };
    Ok(CheckinChanges {
        summary,
        summary_took,
        checkins,
        problems,
        sessions_touched,
    })
}

pub fn change_in_words(cmd: &Cmd) -> Option<String> {
    match cmd {
        Cmd::Changes { .. } | Cmd::Search { .. } | Cmd::Gates { .. } => None,
        Cmd::Scan { code } => Some(format!("the scan of {}", fit(&clean(code), 24))),
        Cmd::CheckIn { name, .. } => Some(format!("checking in {name}")),
        Cmd::CheckOut { name, .. } => Some(format!("checking out {name}")),
        Cmd::Acknowledge { gate, .. } => Some(format!("acknowledging the alert at {gate}")),
    }
}

pub fn failed(cmd: Cmd, why: Failure) -> Answer {
    match cmd {
        Cmd::Changes { generation, .. } => Answer::Changes {
            generation,
            result: Err(why),
        },
        Cmd::Scan { code } => Answer::Scanned {
            code,
            result: Err(why),
        },
        Cmd::Search { seq, .. } => Answer::Searched {
            seq,
            result: Err(why),
        },
        Cmd::CheckIn { attendee, name } => Answer::CheckedIn {
            attendee,
            name,
            result: Err(why),
        },
        Cmd::CheckOut { attendee, name } => Answer::CheckedOut {
            attendee,
            name,
            result: Err(why),
        },
        Cmd::Gates { generation } => Answer::Gates {
            generation,
            result: Err(why),
        },
        Cmd::Acknowledge { gate, .. } => Answer::Acknowledged {
            gate,
            result: Err(why),
        },
    }
}

pub fn answered(desk: &mut CheckinsDesk, answer: Answer, ctx: &Context) -> Outcome<CheckinsDesk> {
    match answer {
        Answer::Changes { generation, result } => {
            if generation != ctx.generation {
                return Outcome::nothing();
            }
            desk.fetch.in_flight = false;
            match result {
                Ok(changes) => feed::apply(desk, *changes, ctx),
                Err(failure) => Outcome::unreadable("check-ins", &failure),
            }
        }
        Answer::Scanned { code, result } => scanned(desk, code, result),
        Answer::Searched { seq, result } => match result {
            // "Nobody matches" is said in the search box itself, so no sentence outlives it.
            Ok(hits) => {
                let next = desk.searched(seq, hits);
                dialogs::intent(desk, next, ctx)
            }
            Err(failure) => {
                let next = desk.searched(seq, Vec::new());
                let mut outcome = dialogs::intent(desk, next, ctx);
                if outcome.say.is_none() {
                    outcome.say = Some((failure.notice(), Tone::Bad));
                }
                outcome
            }
        },
        Answer::CheckedIn {
            attendee,
            name,
            result,
        } => {
            if result.is_ok() {
                desk.mark_inside(attendee, true);
            }
            Outcome::done(result, || format!("checked in {name}"))
        }
        Answer::CheckedOut {
            attendee,
            name,
            result,
        } => {
            if result.is_ok() {
                desk.mark_inside(attendee, false);
            }
            Outcome::done(result, || format!("checked out {name}"))
        }
        Answer::Gates { generation, result } => {
            if generation != ctx.generation {
                return Outcome::nothing();
            }
            match result {
                Ok((rows, alerts)) => {
                    desk.gates.read(rows, alerts);
                    Outcome::nothing()
                }
                Err(failure) => {
                    desk.gates.failed();
                    Outcome::unreadable("the gates", &failure)
                }
            }
        }
        Answer::Acknowledged { gate, result } => {
            // Read again either way: acknowledged here, or by someone else first.
            desk.gates.wanted = true;
            Outcome::done(result, || format!("acknowledged the alert at {gate}"))
        }
    }
}

/// A scan's answer in the scan box and on the notice line: ACCEPTED, REFUSED (a rule said no, with its
/// sentence) or FAILED (no answer to act on).
fn scanned(
    desk: &mut CheckinsDesk,
    code: String,
    result: Result<ScanOutcome, Failure>,
) -> Outcome<CheckinsDesk> {
    let outcome = match result {
        Ok(outcome) => outcome,
        // A refusal raised as an error (a permission) is REFUSED; no answer at all is FAILED.
        Err(failure) => ScanOutcome {
            code: clean(&code),
            accepted: false,
            reason_code: failure.rule().map(str::to_owned),
            message: Some(failure.sentence().to_owned()),
            name: None,
            ticket_type: None,
            at: None,
        },
    };
    let said = if outcome.accepted {
        let name = outcome.name.clone().unwrap_or_default();
        let ticket = outcome.ticket_type.clone().unwrap_or_default();
        Outcome::say(format!("ACCEPTED {name} ({ticket})"), Tone::Good)
    } else {
        let why = outcome
            .message
            .clone()
            .unwrap_or_else(|| "refused".to_owned());
        let verdict = if outcome.reason_code.is_some() {
            "REFUSED"
        } else {
            "FAILED"
        };
        Outcome::bad(format!("{verdict} {}: {why}", fit(&clean(&code), 24)))
    };
    desk.scanned(outcome);
    said
}

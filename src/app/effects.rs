//! Effects: each Cmd runs on its own tokio task through the pool and answers with one Msg.
//! Nothing here touches the state; failures come back as one sentence.

use std::sync::Arc;

use anyhow::{Context, Result};
use deadpool_postgres::Pool;
use tokio::sync::mpsc::UnboundedSender;
use uuid::Uuid;

use super::msg::{CheckinChanges, Cmd, Done, Failure, Msg, Snapshot};
use crate::desks::announcements::store as announcements;
use crate::desks::checkins::store as checkins;
use crate::desks::expenses::store as expenses;
use crate::desks::sessions::store as sessions;
use crate::desks::waitlist::store as waitlist;
use crate::desks::{Permissions, clean, fit};

/// The longest a read may take, and how long a change waits before the operator is told it is late.
pub const EFFECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);
/// A change unanswered this long is given up, and reported as not known to have happened. Until then its
/// real answer is awaited, so a frozen or overloaded server that applies it late is never reported as
/// having refused it.
pub const CHANGE_GIVE_UP: std::time::Duration = std::time::Duration::from_secs(120);

/// What `cmd` changes, in words for "NO ANSWER YET for ...", or None for a read (a read that times out
/// is simply read again later).
fn change_in_words(cmd: &Cmd) -> Option<String> {
    let words = match cmd {
        Cmd::Snapshot { .. }
        | Cmd::CheckinChanges { .. }
        | Cmd::Sessions { .. }
        | Cmd::Expenses { .. }
        | Cmd::Waitlist { .. }
        | Cmd::Announcements { .. }
        | Cmd::Permissions
        | Cmd::Search { .. } => return None,
        Cmd::Scan { code } => format!("the scan of {}", fit(&clean(code), 24)),
        Cmd::CheckIn { name, .. } => format!("checking in {name}"),
        Cmd::CheckOut { name, .. } => format!("checking out {name}"),
        Cmd::SetSessionStatus { title, .. } | Cmd::SetSessionCapacity { title, .. } => {
            format!("the change to {title}")
        }
        Cmd::ApproveExpense { name, .. } => format!("approving {name}"),
        Cmd::ApproveExpenses { expenses } => format!("approving {} expenses", expenses.len()),
        Cmd::RejectExpense { name, .. } => format!("rejecting {name}"),
        Cmd::MarkExpensePaid { name, .. } => format!("marking {name} paid"),
        Cmd::OfferNext { queue, .. } => format!("the offer in {queue}"),
        Cmd::ExtendOffer { attendee, .. }
        | Cmd::CancelEntry { attendee, .. }
        | Cmd::ConvertOffer { attendee, .. } => format!("the waitlist change for {attendee}"),
        Cmd::SaveAnnouncement { draft, .. } => format!("saving {}", draft.title),
        Cmd::SendAnnouncement { title, .. }
        | Cmd::ScheduleAnnouncement { title, .. }
        | Cmd::CancelAnnouncement { title, .. } => format!("the change to {title}"),
    };
    Some(words)
}

/// The answer to `cmd` when it could not run at all.
pub fn failed(cmd: Cmd, why: Failure) -> Msg {
    match cmd {
        Cmd::Snapshot { generation, .. } => Msg::Snapshot {
            generation,
            result: Err(why),
        },
        Cmd::CheckinChanges { generation, .. } => Msg::CheckinChanges {
            generation,
            result: Err(why),
        },
        Cmd::Sessions { generation, ids } => Msg::Sessions {
            generation,
            requested: ids,
            result: Err(why),
        },
        Cmd::Expenses { generation, ids } => Msg::Expenses {
            generation,
            requested: ids,
            result: Err(why),
        },
        Cmd::Waitlist { generation, ids } => Msg::Waitlist {
            generation,
            requested: ids,
            result: Err(why),
        },
        Cmd::Announcements { generation, ids } => Msg::Announcements {
            generation,
            requested: ids,
            result: Err(why),
        },
        Cmd::Permissions => Msg::Permissions(Err(why)),
        Cmd::Scan { code } => Msg::Scanned {
            code,
            result: Err(why),
        },
        Cmd::Search { seq, .. } => Msg::SearchDone {
            seq,
            result: Err(why),
        },
        Cmd::CheckIn { attendee, name } => done(
            Done::CheckedIn {
                attendee,
                outcome_name: name,
            },
            why,
        ),
        Cmd::CheckOut { attendee, name } => done(Done::CheckedOut { attendee, name }, why),
        Cmd::SetSessionStatus { title, status, .. } => {
            done(Done::SessionStatus { title, status }, why)
        }
        Cmd::SetSessionCapacity {
            title, capacity, ..
        } => done(Done::SessionCapacity { title, capacity }, why),
        Cmd::ApproveExpense { name, .. } => done(
            Done::Expense {
                verb: "approved",
                name,
            },
            why,
        ),
        Cmd::ApproveExpenses { expenses } => Msg::Done {
            done: Done::ApprovedMany {
                approved: 0,
                failed: expenses
                    .into_iter()
                    .map(|(_, n)| (n, why.clone()))
                    .collect(),
            },
            result: Ok(()),
        },
        Cmd::RejectExpense { name, .. } => done(
            Done::Expense {
                verb: "rejected",
                name,
            },
            why,
        ),
        Cmd::MarkExpensePaid { name, .. } => done(
            Done::Expense {
                verb: "marked paid",
                name,
            },
            why,
        ),
        Cmd::OfferNext { queue, places, .. } => done(
            Done::Offered {
                queue,
                asked: places,
                offered: 0,
            },
            why,
        ),
        Cmd::ExtendOffer { attendee, .. } => done(
            Done::Entry {
                verb: "extended the offer to",
                attendee,
            },
            why,
        ),
        Cmd::CancelEntry { attendee, .. } => done(
            Done::Entry {
                verb: "cancelled the waitlist entry of",
                attendee,
            },
            why,
        ),
        Cmd::ConvertOffer { attendee, .. } => done(
            Done::Entry {
                verb: "converted the offer of",
                attendee,
            },
            why,
        ),
        Cmd::SaveAnnouncement { draft, id, .. } => done(
            Done::AnnouncementSaved {
                verb: "saved",
                title: draft.title,
                id,
            },
            why,
        ),
        Cmd::SendAnnouncement { title, id, .. } => done(
            Done::Announcement {
                verb: "sent",
                title,
                id: Some(id),
            },
            why,
        ),
        Cmd::ScheduleAnnouncement { title, id, .. } => done(
            Done::Announcement {
                verb: "scheduled",
                title,
                id: Some(id),
            },
            why,
        ),
        Cmd::CancelAnnouncement { title, id, .. } => done(
            Done::Announcement {
                verb: "cancelled",
                title,
                id: Some(id),
            },
            why,
        ),
    }
}

fn done(done: Done, why: Failure) -> Msg {
    Msg::Done {
        done,
        result: Err(why),
    }
}

pub struct Effects {
    pub pool: Pool,
    pub event: Uuid,
    /// Where this console's scans are recorded as coming from.
    pub gate: String,
}

async fn client(pool: &Pool) -> Result<deadpool_postgres::Object> {
    pool.get().await.context("no database connection")
}

impl Effects {
    /// Runs `cmd` in the background; the answer arrives on `tx`.
    pub fn spawn(self: &Arc<Self>, cmd: Cmd, tx: UnboundedSender<Msg>) {
        let effects = Arc::clone(self);
        tokio::spawn(async move {
            let run = effects.run(cmd.clone());
            tokio::pin!(run);
            // A query that never answers (a lock wait, a frozen server, a half-open connection) must
            // not leave its desk waiting forever. A read past the limit is a failure like any other;
            // a change may still be applied, so the operator is told it is late and its answer awaited.
            let msg = match tokio::time::timeout(EFFECT_TIMEOUT, &mut run).await {
                Ok(msg) => msg,
                Err(_) => match change_in_words(&cmd) {
                    None => {
                        tracing::warn!(?cmd, "read timed out");
                        failed(
                            cmd,
                            format!(
                                "the database did not answer within {} s",
                                EFFECT_TIMEOUT.as_secs()
                            )
                            .into(),
                        )
                    }
                    Some(what) => {
                        tracing::warn!(?cmd, "change unanswered; still waiting");
                        let _ = tx.send(Msg::StillWaiting { what });
                        match tokio::time::timeout(CHANGE_GIVE_UP - EFFECT_TIMEOUT, &mut run).await
                        {
                            Ok(msg) => msg,
                            Err(_) => {
                                tracing::warn!(?cmd, "change given up");
                                failed(
                                    cmd,
                                    format!(
                                        "the database has not answered for {} s, so this console \
                                         gave up waiting: whether it went through shows on the desk \
                                         once the server answers again",
                                        CHANGE_GIVE_UP.as_secs()
                                    )
                                    .into(),
                                )
                            }
                        }
                    }
                },
            };
            // The console may have quit meanwhile; nobody is waiting then.
            let _ = tx.send(msg);
        });
    }

    async fn run(&self, cmd: Cmd) -> Msg {
        let fail = |e: anyhow::Error| {
            tracing::warn!(error = format!("{e:#}"), "effect failed");
            Failure::of(&e)
        };
        match cmd {
            Cmd::Snapshot {
                generation,
                expenses,
            } => Msg::Snapshot {
                generation,
                result: self.snapshot(expenses).await.map(Box::new).map_err(fail),
            },
            Cmd::CheckinChanges {
                generation,
                checkins: range,
                problems,
                batches,
                summary,
            } => Msg::CheckinChanges {
                generation,
                result: self
                    .checkin_changes(range, problems, &batches, summary)
                    .await
                    .map(Box::new)
                    .map_err(fail),
            },
            Cmd::Sessions { generation, ids } => {
                let result = async {
                    let db = client(&self.pool).await?;
                    sessions::sessions(&db, self.event, ids.as_deref()).await
                }
                .await
                .map_err(fail);
                Msg::Sessions {
                    generation,
                    requested: ids,
                    result,
                }
            }
            Cmd::Expenses { generation, ids } => {
                let result = async {
                    let db = client(&self.pool).await?;
                    expenses::expenses(&db, self.event, ids.as_deref()).await
                }
                .await
                .map_err(fail);
                Msg::Expenses {
                    generation,
                    requested: ids,
                    result,
                }
            }
            Cmd::ApproveExpense { expense, name } => Msg::Done {
                done: Done::Expense {
                    verb: "approved",
                    name,
                },
                result: async {
                    let db = client(&self.pool).await?;
                    expenses::approve(&db, expense).await
                }
                .await
                .map_err(fail),
            },
            Cmd::ApproveExpenses { expenses: marked } => {
                // Each on its own: one refusal (four eyes, decided meanwhile) does not stop the rest.
                let mut approved = 0;
                let mut failed = Vec::new();
                match client(&self.pool).await {
                    Ok(db) => {
                        for (id, name) in marked {
                            match expenses::approve(&db, id).await {
                                Ok(()) => approved += 1,
                                Err(e) => failed.push((name, fail(e))),
                            }
                        }
                    }
                    Err(e) => {
                        let why = fail(e);
                        failed = marked.into_iter().map(|(_, n)| (n, why.clone())).collect();
                    }
                }
                Msg::Done {
                    done: Done::ApprovedMany { approved, failed },
                    result: Ok(()),
                }
            }
            Cmd::RejectExpense {
                expense,
                name,
                reason,
            } => Msg::Done {
                done: Done::Expense {
                    verb: "rejected",
                    name,
                },
                result: async {
                    let db = client(&self.pool).await?;
                    expenses::reject(&db, expense, &reason).await
                }
                .await
                .map_err(fail),
            },
            Cmd::MarkExpensePaid {
                expense,
                name,
                date,
            } => Msg::Done {
                done: Done::Expense {
                    verb: "marked paid",
                    name,
                },
                result: async {
                    let db = client(&self.pool).await?;
                    expenses::mark_paid(&db, expense, date).await
                }
                .await
                .map_err(fail),
            },
            Cmd::Waitlist { generation, ids } => {
                let result = async {
                    let db = client(&self.pool).await?;
                    waitlist::entries(&db, self.event, ids.as_deref()).await
                }
                .await
                .map_err(fail);
                Msg::Waitlist {
                    generation,
                    requested: ids,
                    result,
                }
            }
            Cmd::OfferNext {
                session,
                queue,
                places,
            } => {
                let result = async {
                    let db = client(&self.pool).await?;
                    waitlist::offer_next(&db, self.event, session, places).await
                }
                .await;
                match result {
                    Ok(offered) => Msg::Done {
                        done: Done::Offered {
                            queue,
                            asked: places,
                            offered,
                        },
                        result: Ok(()),
                    },
                    Err(e) => Msg::Done {
                        done: Done::Offered {
                            queue,
                            asked: places,
                            offered: 0,
                        },
                        result: Err(fail(e)),
                    },
                }
            }
            Cmd::ExtendOffer {
                entry,
                attendee,
                minutes,
            } => Msg::Done {
                done: Done::Entry {
                    verb: "extended the offer to",
                    attendee,
                },
                result: async {
                    let db = client(&self.pool).await?;
                    waitlist::extend(&db, entry, minutes).await
                }
                .await
                .map_err(fail),
            },
            Cmd::CancelEntry {
                entry,
                attendee,
                reason,
            } => Msg::Done {
                done: Done::Entry {
                    verb: "cancelled the waitlist entry of",
                    attendee,
                },
                result: async {
                    let db = client(&self.pool).await?;
                    waitlist::cancel(&db, entry, &reason).await
                }
                .await
                .map_err(fail),
            },
            Cmd::ConvertOffer { entry, attendee } => Msg::Done {
                done: Done::Entry {
                    verb: "converted the offer of",
                    attendee,
                },
                result: async {
                    let db = client(&self.pool).await?;
                    waitlist::convert(&db, entry).await
                }
                .await
                .map_err(fail),
            },
            Cmd::Announcements { generation, ids } => {
                let result = async {
                    let db = client(&self.pool).await?;
                    announcements::announcements(&db, self.event, ids.as_deref()).await
                }
                .await
                .map_err(fail);
                Msg::Announcements {
                    generation,
                    requested: ids,
                    result,
                }
            }
            Cmd::SaveAnnouncement {
                id,
                draft,
                schedule,
            } => {
                let verb = match (id, schedule) {
                    (_, Some(_)) => "scheduled",
                    (None, None) => "saved the draft",
                    (Some(_), None) => "saved the draft",
                };
                let title = draft.title.clone();
                let result = async {
                    let mut db = client(&self.pool).await?;
                    announcements::save(&mut db, self.event, id, &draft, schedule).await
                }
                .await
                .map_err(fail);
                Msg::Done {
                    done: Done::AnnouncementSaved {
                        verb,
                        title,
                        id: result.as_ref().ok().copied().or(id),
                    },
                    result: result.map(|_| ()),
                }
            }
            Cmd::SendAnnouncement { id, title } => Msg::Done {
                done: Done::Announcement {
                    verb: "sent",
                    title,
                    id: Some(id),
                },
                result: async {
                    let db = client(&self.pool).await?;
                    announcements::send_now(&db, id).await
                }
                .await
                .map_err(fail),
            },
            Cmd::ScheduleAnnouncement { id, title, at } => Msg::Done {
                done: Done::Announcement {
                    verb: "scheduled",
                    title,
                    id: Some(id),
                },
                result: async {
                    let db = client(&self.pool).await?;
                    announcements::schedule(&db, id, at).await
                }
                .await
                .map_err(fail),
            },
            Cmd::CancelAnnouncement { id, title } => Msg::Done {
                done: Done::Announcement {
                    verb: "cancelled",
                    title,
                    id: Some(id),
                },
                result: async {
                    let db = client(&self.pool).await?;
                    announcements::cancel(&db, id).await
                }
                .await
                .map_err(fail),
            },
            Cmd::Permissions => Msg::Permissions(
                async {
                    let db = client(&self.pool).await?;
                    permissions(&db, self.event).await
                }
                .await
                .map_err(fail),
            ),
            Cmd::Scan { code } => {
                let result = async {
                    let db = client(&self.pool).await?;
                    checkins::scan(&db, self.event, &code, &self.gate).await
                }
                .await
                .map_err(fail);
                Msg::Scanned { code, result }
            }
            Cmd::Search { seq, query } => Msg::SearchDone {
                seq,
                result: async {
                    let db = client(&self.pool).await?;
                    checkins::search(&db, self.event, &query).await
                }
                .await
                .map_err(fail),
            },
            Cmd::CheckIn { attendee, name } => {
                let result = async {
                    let db = client(&self.pool).await?;
                    checkins::check_in(&db, attendee, &self.gate).await
                }
                .await;
                let done = Done::CheckedIn {
                    attendee,
                    outcome_name: name,
                };
                match result {
                    Ok(outcome) if outcome.accepted => Msg::Done {
                        done,
                        result: Ok(()),
                    },
                    Ok(outcome) => Msg::Done {
                        done,
                        result: Err(Failure::Refused {
                            rule: outcome.reason_code.unwrap_or_else(|| "refused".to_owned()),
                            sentence: outcome.message.unwrap_or_else(|| "refused".to_owned()),
                        }),
                    },
                    Err(e) => Msg::Done {
                        done,
                        result: Err(fail(e)),
                    },
                }
            }
            Cmd::CheckOut { attendee, name } => Msg::Done {
                done: Done::CheckedOut { attendee, name },
                result: async {
                    let db = client(&self.pool).await?;
                    checkins::check_out(&db, attendee).await
                }
                .await
                .map_err(fail),
            },
            Cmd::SetSessionStatus {
                session,
                title,
                status,
            } => {
                let result = async {
                    let db = client(&self.pool).await?;
                    sessions::set_status(&db, session, &status).await
                }
                .await
                .map_err(fail);
                Msg::Done {
                    done: Done::SessionStatus { title, status },
                    result,
                }
            }
            Cmd::SetSessionCapacity {
                session,
                title,
                capacity,
            } => {
                let result = async {
                    let db = client(&self.pool).await?;
                    sessions::set_capacity(&db, session, capacity).await
                }
                .await
                .map_err(fail);
                Msg::Done {
                    done: Done::SessionCapacity { title, capacity },
                    result,
                }
            }
        }
    }

    async fn snapshot(&self, with_expenses: bool) -> Result<Snapshot> {
        let db = client(&self.pool).await?;
        // One repeatable-read transaction: every desk's numbers from the same moment.
        db.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .context("cannot start the snapshot")?;
        let result = async {
            Ok::<_, anyhow::Error>(Snapshot {
                summary: checkins::summary(&db, self.event).await?,
                feed: checkins::checkins(&db, self.event, None).await?,
                problems: checkins::problems(&db, self.event, None).await?,
                sessions: sessions::sessions(&db, self.event, None).await?,
                expenses: if with_expenses {
                    expenses::expenses(&db, self.event, None).await?
                } else {
                    Vec::new()
                },
                waitlist: waitlist::entries(&db, self.event, None).await?,
                announcements: announcements::announcements(&db, self.event, None).await?,
            })
        }
        .await;
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        db.batch_execute(end)
            .await
            .context("cannot finish the snapshot")?;
        result
    }

    async fn checkin_changes(
        &self,
        range: Option<crate::db::listen::XidRange>,
        problem_range: Option<crate::db::listen::XidRange>,
        batches: &[i64],
        with_summary: bool,
    ) -> Result<CheckinChanges> {
        let db = client(&self.pool).await?;
        // The flusher made each batch once for every console: one call, when all of them are there.
        if !batches.is_empty() {
            let views = match checkins::batch_views(&db, self.event, batches).await {
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
        // One round trip, not four: the reads are pipelined on the one connection, each a cached
        // prepared statement (a batch lands every few milliseconds while doors are busy).
        let feed = async {
            match &range {
                Some(range) => checkins::checkins(&db, self.event, Some(range)).await,
                None => Ok(Vec::new()),
            }
        };
        let problems = async {
            match &problem_range {
                Some(range) => checkins::problems(&db, self.event, Some(range)).await,
                None => Ok(Vec::new()),
            }
        };
        let summary = async {
            if !with_summary {
                return Ok((None, None));
            }
            let started = std::time::Instant::now();
            let summary = checkins::summary(&db, self.event).await?;
            Ok::<_, anyhow::Error>((Some(summary), Some(started.elapsed())))
        };
        let sessions_touched = async {
            match &range {
                Some(range) => checkins::sessions_touched(&db, self.event, range).await,
                None => Ok(Vec::new()),
            }
        };
        let read = tokio::try_join!(feed, problems, summary, sessions_touched);
        let (checkins_changed, problems, (summary, summary_took), sessions_touched) = match read {
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
            checkins: checkins_changed,
            problems,
            sessions_touched,
        })
    }
}

/// The operator's role and permissions at the event.
pub async fn permissions(
    db: &tokio_postgres::Client,
    event: Uuid,
) -> Result<(String, Permissions)> {
    let row = db
        .query_one(
            "SELECT is_administrator(),
                    (SELECT t.role FROM event_teams t
                      WHERE t.event_id = $1 AND t.member_id = acting_profile_id() AND t.status = 'active'),
                    has_event_permission($1, NULL),
                    has_event_permission($1, 'check_in_attendees'),
                    has_event_permission($1, 'manage_sessions'),
                    has_event_permission($1, 'manage_attendees'),
                    has_event_permission($1, 'send_announcements'),
                    has_event_permission($1, 'submit_expenses'),
                    has_event_permission($1, 'approve_expenses')",
            &[&event],
        )
        .await
        .context("cannot read your permissions")?;
    if row.get::<_, bool>(0) {
        return Ok(("administrator".to_owned(), Permissions::all()));
    }
    let flag = |i: usize| row.get::<_, Option<bool>>(i).unwrap_or(false);
    Ok((
        row.get::<_, Option<String>>(1)
            .unwrap_or_else(|| "no team role".to_owned()),
        Permissions {
            member: flag(2),
            check_in: flag(3),
            manage_sessions: flag(4),
            manage_attendees: flag(5),
            send_announcements: flag(6),
            submit_expenses: flag(7),
            approve_expenses: flag(8),
        },
    ))
}

//! The Announcements desk's commands: how each runs against the database and what its answer says.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::compose::Draft;
use super::model::{AnnouncementRow, AnnouncementsDesk};
use super::store;
use crate::db::Failure;
use crate::desks::Context;
use crate::desks::desk::{Dialog, Env, Outcome, RowsAsked, RowsRead, attempt};
use crate::desks::fit;

#[derive(Debug, Clone, PartialEq)]
pub enum Cmd {
    Fetch(RowsAsked),
    /// The compose form's save: a new draft (id None) or an edited one, scheduled or not.
    Save {
        id: Option<Uuid>,
        draft: Draft,
        schedule: Option<DateTime<Utc>>,
    },
    Send {
        id: Uuid,
        title: String,
    },
    Schedule {
        id: Uuid,
        title: String,
        at: DateTime<Utc>,
    },
    Cancel {
        id: Uuid,
        title: String,
    },
}

#[derive(Debug)]
pub enum Answer {
    Fetched(RowsRead<AnnouncementRow>),
    /// The form's save (a refusal reopens the form); `id`: the row to read again at once.
    Saved {
        verb: &'static str,
        title: String,
        id: Option<Uuid>,
        result: Result<(), Failure>,
    },
    /// A send, schedule or cancel of `id`, read again at once so the operator's own change shows
    /// without waiting for its hint.
    Changed {
        verb: &'static str,
        title: String,
        id: Uuid,
        result: Result<(), Failure>,
    },
}

pub async fn run(env: &Env, cmd: Cmd) -> Answer {
    match cmd {
        Cmd::Fetch(asked) => {
            let result = attempt(async {
                store::announcements(&*env.client().await?, env.event, asked.ids.as_deref()).await
            })
            .await;
            Answer::Fetched(asked.answer(result))
        }
        Cmd::Save {
            id,
            draft,
            schedule,
        } => {
            let saved = attempt(async {
                let mut db = env.client().await?;
                store::save(&mut db, env.event, id, &draft, schedule).await
            })
            .await;
            Answer::Saved {
                verb: saved_verb(schedule),
                title: draft.title,
                id: saved.as_ref().ok().copied().or(id),
                result: saved.map(|_| ()),
            }
        }
        Cmd::Send { id, title } => Answer::Changed {
            result: attempt(async { store::send_now(&*env.client().await?, id).await }).await,
            verb: "sent",
            title,
            id,
        },
        Cmd::Schedule { id, title, at } => Answer::Changed {
            result: attempt(async { store::schedule(&*env.client().await?, id, at).await }).await,
            verb: "scheduled",
            title,
            id,
        },
        Cmd::Cancel { id, title } => Answer::Changed {
            result: attempt(async { store::cancel(&*env.client().await?, id).await }).await,
            verb: "cancelled",
            title,
            id,
        },
    }
}

fn saved_verb(schedule: Option<DateTime<Utc>>) -> &'static str {
    match schedule {
        Some(_) => "scheduled",
        None => "saved the draft",
    }
}

pub fn change_in_words(cmd: &Cmd) -> Option<String> {
    match cmd {
        Cmd::Fetch(_) => None,
        Cmd::Save { draft, .. } => Some(format!("saving {}", draft.title)),
        Cmd::Send { title, .. } | Cmd::Schedule { title, .. } | Cmd::Cancel { title, .. } => {
            Some(format!("the change to {title}"))
        }
    }
}

pub fn failed(cmd: Cmd, why: Failure) -> Answer {
    let changed = |verb, title, id| Answer::Changed {
        verb,
        title,
        id,
        result: Err(why.clone()),
    };
    match cmd {
        Cmd::Fetch(asked) => Answer::Fetched(asked.answer(Err(why))),
        Cmd::Save { id, draft, .. } => Answer::Saved {
            verb: "saved",
            title: draft.title,
            id,
            result: Err(why),
        },
        Cmd::Send { id, title } => changed("sent", title, id),
        Cmd::Schedule { id, title, .. } => changed("scheduled", title, id),
        Cmd::Cancel { id, title } => changed("cancelled", title, id),
    }
}

pub fn answered(
    desk: &mut AnnouncementsDesk,
    answer: Answer,
    ctx: &Context,
) -> Outcome<AnnouncementsDesk> {
    match answer {
        Answer::Fetched(read) => read.apply(
            desk,
            |desk| &mut desk.fetch,
            ctx,
            "announcements",
            |desk, rows, requested| match requested {
                None => desk.replace(rows),
                Some(ids) => desk.merge(&ids, rows),
            },
        ),
        Answer::Saved {
            verb,
            title,
            id,
            result,
        } => {
            let form = desk.saving.take();
            match result {
                Ok(()) => {
                    // Read the row now: the operator's own change shows at once.
                    if let Some(id) = id {
                        desk.fetch.hear(Some(id));
                    }
                    Outcome::done(Ok(()), || format!("{verb}: {}", fit(&title, 50)))
                }
                Err(failure) => Outcome {
                    // Reopened as it was (unless another dialog is open by now).
                    dialog: form.map(Dialog::Form),
                    ..Outcome::bad(failure.notice())
                },
            }
        }
        Answer::Changed {
            verb,
            title,
            id,
            result,
        } => {
            if result.is_ok() {
                desk.fetch.hear(Some(id));
            }
            Outcome::done(result, || format!("{verb}: {}", fit(&title, 50)))
        }
    }
}

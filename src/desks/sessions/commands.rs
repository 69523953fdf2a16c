//! The Sessions desk's commands: how each runs against the database and what its answer says.

use uuid::Uuid;

use super::model::{SessionRow, SessionStatus, SessionsDesk};
use super::store;
use crate::db::Failure;
use crate::desks::Context;
use crate::desks::desk::{Env, Outcome, attempt, rows_read};
use crate::desks::fit;

#[derive(Debug, Clone, PartialEq)]
pub enum Cmd {
    /// Today's sessions (None) or these.
    Fetch {
        generation: u64,
        ids: Option<Vec<Uuid>>,
    },
    SetStatus {
        session: Uuid,
        title: String,
        status: SessionStatus,
    },
    SetCapacity {
        session: Uuid,
        title: String,
        capacity: Option<i32>,
    },
}

#[derive(Debug)]
pub enum Answer {
    Fetched {
        generation: u64,
        requested: Option<Vec<Uuid>>,
        result: Result<Vec<SessionRow>, Failure>,
    },
    Status {
        title: String,
        status: SessionStatus,
        result: Result<(), Failure>,
    },
    Capacity {
        title: String,
        capacity: Option<i32>,
        result: Result<(), Failure>,
    },
}

pub async fn run(env: &Env, cmd: Cmd) -> Answer {
    match cmd {
        Cmd::Fetch { generation, ids } => Answer::Fetched {
            result: attempt(async {
                store::sessions(&*env.client().await?, env.event, ids.as_deref()).await
            })
            .await,
            generation,
            requested: ids,
        },
        Cmd::SetStatus {
            session,
            title,
            status,
        } => Answer::Status {
            result: attempt(async {
                store::set_status(&*env.client().await?, session, status).await
            })
            .await,
            title,
            status,
        },
        Cmd::SetCapacity {
            session,
            title,
            capacity,
        } => Answer::Capacity {
            result: attempt(async {
                store::set_capacity(&*env.client().await?, session, capacity).await
            })
            .await,
            title,
            capacity,
        },
    }
}

pub fn change_in_words(cmd: &Cmd) -> Option<String> {
    match cmd {
        Cmd::Fetch { .. } => None,
        Cmd::SetStatus { title, .. } | Cmd::SetCapacity { title, .. } => {
            Some(format!("the change to {title}"))
        }
    }
}

pub fn failed(cmd: Cmd, why: Failure) -> Answer {
    match cmd {
        Cmd::Fetch { generation, ids } => Answer::Fetched {
            generation,
            requested: ids,
            result: Err(why),
        },
        Cmd::SetStatus { title, status, .. } => Answer::Status {
            title,
            status,
            result: Err(why),
        },
        Cmd::SetCapacity {
            title, capacity, ..
        } => Answer::Capacity {
            title,
            capacity,
            result: Err(why),
        },
    }
}

pub fn answered(desk: &mut SessionsDesk, answer: Answer, ctx: &Context) -> Outcome<SessionsDesk> {
    match answer {
        Answer::Fetched {
            generation,
            requested,
            result,
        } => rows_read(
            desk,
            |desk| &mut desk.fetch,
            generation,
            ctx,
            "sessions",
            result,
            |desk, rows| match requested {
                None => desk.replace(rows, ctx.now),
                Some(ids) => desk.merge(&ids, rows, ctx.now),
            },
        ),
        Answer::Status {
            title,
            status,
            result,
        } => Outcome::done(result, || format!("{} is now {status}", fit(&title, 40))),
        Answer::Capacity {
            title,
            capacity,
            result,
        } => Outcome::done(result, || {
            format!(
                "{} now holds {}",
                fit(&title, 40),
                capacity.map_or("any number".to_owned(), |c| c.to_string())
            )
        }),
    }
}

//! The Sessions desk's commands: how each runs against the database and what its answer says.

use uuid::Uuid;

use super::model::{SessionRow, SessionStatus, SessionsDesk};
use super::store;
use crate::db::Failure;
use crate::desks::Context;
use crate::desks::desk::{Env, Outcome, RowsAsked, RowsRead, attempt};
use crate::desks::fit;

#[derive(Debug, Clone, PartialEq)]
pub enum Cmd {
    Fetch(RowsAsked),
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
    Fetched(RowsRead<SessionRow>),
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
        Cmd::Fetch(asked) => {
            let result = attempt(async {
                store::sessions(&*env.client().await?, env.event, asked.ids.as_deref()).await
            })
            .await;
            Answer::Fetched(asked.answer(result))
        }
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
        Cmd::Fetch(_) => None,
        Cmd::SetStatus { title, .. } | Cmd::SetCapacity { title, .. } => {
            Some(format!("the change to {title}"))
        }
    }
}

pub fn failed(cmd: Cmd, why: Failure) -> Answer {
    match cmd {
        Cmd::Fetch(asked) => Answer::Fetched(asked.answer(Err(why))),
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
        Answer::Fetched(read) => read.apply(
            desk,
            |desk| &mut desk.fetch,
            ctx,
            "sessions",
            |desk, rows, requested| match requested {
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

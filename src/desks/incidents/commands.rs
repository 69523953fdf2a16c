//! The Incidents desk's commands: how each runs against the database and what its answer says.

use chrono::{DateTime, Utc};

use super::model::{Entry, IncidentsDesk, Kind};
use super::store;
use crate::db::Failure;
use crate::desks::Context;
use crate::desks::desk::{Env, Outcome, attempt};

#[derive(Debug, Clone, PartialEq)]
pub enum Cmd {
    Read {
        generation: u64,
        since: Option<DateTime<Utc>>,
        kind: Option<Kind>,
    },
    Note {
        text: String,
    },
}

#[derive(Debug)]
pub enum Answer {
    Read {
        generation: u64,
        result: Result<Vec<Entry>, Failure>,
    },
    Noted {
        result: Result<(), Failure>,
    },
}

pub async fn run(env: &Env, cmd: Cmd) -> Answer {
    match cmd {
        Cmd::Read {
            generation,
            since,
            kind,
        } => Answer::Read {
            generation,
            result: attempt(async {
                store::timeline(&*env.client().await?, env.event, since, kind).await
            })
            .await,
        },
        Cmd::Note { text } => Answer::Noted {
            result: attempt(async {
                store::add_note(&*env.client().await?, env.event, &text).await
            })
            .await,
        },
    }
}

pub fn change_in_words(cmd: &Cmd) -> Option<String> {
    match cmd {
        Cmd::Read { .. } => None,
        Cmd::Note { .. } => Some("the note".to_owned()),
    }
}

pub fn failed(cmd: Cmd, why: Failure) -> Answer {
    match cmd {
        Cmd::Read { generation, .. } => Answer::Read {
            generation,
            result: Err(why),
        },
        Cmd::Note { .. } => Answer::Noted { result: Err(why) },
    }
}

pub fn answered(desk: &mut IncidentsDesk, answer: Answer, ctx: &Context) -> Outcome<IncidentsDesk> {
    match answer {
        Answer::Read { generation, result } => {
            if generation != ctx.generation {
                return Outcome::nothing();
            }
            desk.in_flight = false;
            match result {
                Ok(rows) => {
                    desk.replace(rows);
                    Outcome::nothing()
                }
                Err(failure) => Outcome::unreadable("the timeline", &failure),
            }
        }
        Answer::Noted { result } => {
            desk.wanted = true;
            Outcome::done(result, || "the note is in the timeline".to_owned())
        }
    }
}

//! The Waitlist desk's commands: how each runs against the database and what its answer says.

use uuid::Uuid;

use super::model::{WaitRow, WaitlistDesk};
use super::store;
use crate::db::Failure;
use crate::desks::Context;
use crate::desks::desk::{Env, Outcome, RowsAsked, RowsRead, attempt};
use crate::desks::fit;
use crate::ui::Tone;

#[derive(Debug, Clone, PartialEq)]
pub enum Cmd {
    Fetch(RowsAsked),
    OfferNext {
        session: Option<Uuid>,
        queue: String,
        places: i32,
    },
    Extend {
        entry: Uuid,
        attendee: String,
        minutes: i32,
    },
    Cancel {
        entry: Uuid,
        attendee: String,
        reason: String,
    },
    Convert {
        entry: Uuid,
        attendee: String,
    },
}

#[derive(Debug)]
pub enum Answer {
    Fetched(RowsRead<WaitRow>),
    Offered {
        queue: String,
        asked: i32,
        result: Result<usize, Failure>,
    },
    /// An entry changed: "{verb} {attendee}".
    Entry {
        verb: &'static str,
        attendee: String,
        result: Result<(), Failure>,
    },
}

const EXTENDED: &str = "extended the offer to";
const CANCELLED: &str = "cancelled the waitlist entry of";
const CONVERTED: &str = "converted the offer of";

pub async fn run(env: &Env, cmd: Cmd) -> Answer {
    match cmd {
        Cmd::Fetch(asked) => {
            let result = attempt(async {
                store::entries(&*env.client().await?, env.event, asked.ids.as_deref()).await
            })
            .await;
            Answer::Fetched(asked.answer(result))
        }
        Cmd::OfferNext {
            session,
            queue,
            places,
        } => Answer::Offered {
            result: attempt(async {
                store::offer_next(&*env.client().await?, env.event, session, places).await
            })
            .await,
            queue,
            asked: places,
        },
        Cmd::Extend {
            entry,
            attendee,
            minutes,
        } => Answer::Entry {
            result: attempt(async { store::extend(&*env.client().await?, entry, minutes).await })
                .await,
            verb: EXTENDED,
            attendee,
        },
        Cmd::Cancel {
            entry,
            attendee,
            reason,
        } => Answer::Entry {
            result: attempt(async { store::cancel(&*env.client().await?, entry, &reason).await })
                .await,
            verb: CANCELLED,
            attendee,
        },
        Cmd::Convert { entry, attendee } => Answer::Entry {
            result: attempt(async { store::convert(&*env.client().await?, entry).await }).await,
            verb: CONVERTED,
            attendee,
        },
    }
}

pub fn change_in_words(cmd: &Cmd) -> Option<String> {
    match cmd {
        Cmd::Fetch(_) => None,
        Cmd::OfferNext { queue, .. } => Some(format!("the offer in {queue}")),
        Cmd::Extend { attendee, .. }
        | Cmd::Cancel { attendee, .. }
        | Cmd::Convert { attendee, .. } => Some(format!("the waitlist change for {attendee}")),
    }
}

pub fn failed(cmd: Cmd, why: Failure) -> Answer {
    let entry = |verb, attendee| Answer::Entry {
        verb,
        attendee,
        result: Err(why.clone()),
    };
    match cmd {
        Cmd::Fetch(asked) => Answer::Fetched(asked.answer(Err(why))),
        Cmd::OfferNext { queue, places, .. } => Answer::Offered {
            queue,
            asked: places,
            result: Err(why),
        },
        Cmd::Extend { attendee, .. } => entry(EXTENDED, attendee),
        Cmd::Cancel { attendee, .. } => entry(CANCELLED, attendee),
        Cmd::Convert { attendee, .. } => entry(CONVERTED, attendee),
    }
}

pub fn answered(desk: &mut WaitlistDesk, answer: Answer, ctx: &Context) -> Outcome<WaitlistDesk> {
    match answer {
        Answer::Fetched(read) => read.apply(
            desk,
            |desk| &mut desk.fetch,
            ctx,
            "the waitlists",
            |desk, rows, requested| match requested {
                None => desk.replace(rows),
                Some(ids) => desk.merge(&ids, rows),
            },
        ),
        Answer::Offered {
            queue,
            asked,
            result,
        } => match result {
            Ok(0) => Outcome::say(
                format!(
                    "nobody was offered a place in {}: no one is waiting, or no place is free",
                    fit(&queue, 30)
                ),
                Tone::Info,
            ),
            Ok(offered) => Outcome::say(
                format!("offered {offered} of {asked} places in {}", fit(&queue, 40)),
                Tone::Good,
            ),
            Err(failure) => Outcome::bad(failure.notice()),
        },
        Answer::Entry {
            verb,
            attendee,
            result,
        } => Outcome::done(result, || format!("{verb} {}", fit(&attendee, 40))),
    }
}

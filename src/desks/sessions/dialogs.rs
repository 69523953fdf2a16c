//! The Sessions desk's dialogs: what each asks, how its answer is checked, and what follows.

use super::commands::Cmd;
use super::forecast::Forecast;
use super::model::{Intent, SessionRow, SessionStatus, SessionsDesk, parse_capacity};
use crate::desks::desk::{Answer, Confirm, Focus, Outcome, PromptText};
use crate::desks::fit;
use crate::desks::{Context, TodaySession};
use crate::ui::Tone;

#[derive(Debug, Clone)]
pub enum Prompt {
    Capacity(SessionRow),
}

/// What the model's intent leads to: a confirmation, a prompt, another desk.
pub fn intent(intent: Intent, ctx: &Context) -> Outcome<SessionsDesk> {
    match intent {
        Intent::Nothing | Intent::NotMine => Outcome::nothing(),
        Intent::SetStatus { session, status } => {
            if session.status == status {
                return Outcome::say(
                    format!("{} is already {status}", fit(&session.title, 40)),
                    Tone::Info,
                );
            }
            let mut lines = vec![
                fit(&session.title, 56),
                format!(
                    "{}-{}  {}  now {}",
                    ctx.local(session.start, "%H:%M"),
                    ctx.local(session.end, "%H:%M"),
                    session.room.as_deref().unwrap_or("no room"),
                    session.status
                ),
            ];
            let danger = status == SessionStatus::Cancelled;
            if danger {
                lines.push(format!(
                    "{} registered and {} waiting will be affected.",
                    session.registered, session.waiting
                ));
            }
            Outcome::confirm(
                Confirm::new(
                    format!("Set session {status}"),
                    lines,
                    Cmd::SetStatus {
                        session: session.id,
                        title: session.title,
                        status,
                    },
                )
                .dangerous_if(danger),
            )
        }
        Intent::AskCapacity(session) => Outcome::prompt(Prompt::Capacity(session)),
        Intent::OpenWaitlist(session) => Outcome {
            focus: Some(Focus::SessionWaitlist {
                session: session.id,
                title: session.title,
            }),
            ..Outcome::nothing()
        },
        Intent::Notice(session) => Outcome {
            focus: Some(notice(&session, ctx)),
            ..Outcome::nothing()
        },
    }
}

/// The announcement a session filling up calls for, for the operator to finish (where the overflow
/// is) and send: its forecast in words when there is one.
fn notice(session: &SessionRow, ctx: &Context) -> Focus {
    let place = match &session.room {
        Some(room) => format!("{} in {room}", ctx.local(session.start, "%H:%M")),
        None => ctx.local(session.start, "%H:%M"),
    };
    let (title, state) = match session.forecast() {
        Forecast::Full => (format!("{} is full", session.title), "is full".to_owned()),
        Forecast::FullIn { minutes, .. } => (
            format!("{} is filling up", session.title),
            format!(
                "is expected to be full in about {} minutes",
                minutes.round().max(1.0)
            ),
        ),
        _ => (
            format!("About {}", session.title),
            "is filling up".to_owned(),
        ),
    };
    Focus::SessionNotice {
        title,
        // Each sentence on its own line: the form's lines are not wrapped on a narrow terminal.
        content: format!("{} ({place})\n{state}.\nOverflow room: ", session.title),
        session_label: TodaySession {
            id: session.id,
            title: session.title.clone(),
            start: session.start,
        }
        .label(ctx.offset),
    }
}

pub fn describe(prompt: &Prompt) -> PromptText {
    match prompt {
        Prompt::Capacity(session) => PromptText {
            title: "Change capacity".to_owned(),
            lines: vec![
                fit(&session.title, 56),
                format!(
                    "now {}; registered {}, in the room {}",
                    session.max.map_or("no limit".to_owned(), |m| m.to_string()),
                    session.registered,
                    session.present
                ),
            ],
            label: "New capacity: ",
            hint: "a whole number, or none for no limit".to_owned(),
        },
    }
}

pub fn answer(prompt: &Prompt, text: &str) -> Result<Answer<SessionsDesk>, String> {
    match prompt {
        Prompt::Capacity(session) => {
            let capacity = parse_capacity(text)?;
            if capacity == session.max {
                return Ok(Answer::Unchanged);
            }
            let show = |c: Option<i32>| c.map_or("no limit".to_owned(), |c| c.to_string());
            let mut lines = vec![
                fit(&session.title, 56),
                format!("capacity {} -> {}", show(session.max), show(capacity)),
                format!(
                    "registered {}, in the room {}",
                    session.registered, session.present
                ),
            ];
            if let Some(c) = capacity
                && c < session.registered.max(session.present)
            {
                lines.push("Below the people already in: the database will refuse it.".to_owned());
            }
            Ok(Answer::Confirm(Confirm::new(
                "Change capacity",
                lines,
                Cmd::SetCapacity {
                    session: session.id,
                    title: session.title.clone(),
                    capacity,
                },
            )))
        }
    }
}

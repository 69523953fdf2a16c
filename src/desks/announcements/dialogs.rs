//! The Announcements desk's dialogs: the compose form, the schedule and slug prompts, what each answer
//! leads to.

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;

use super::commands::Cmd;
use super::compose::{Compose, Field, FormKey, parse_when};
use super::model::{
    AnnouncementRow, AnnouncementsDesk, Audience, Intent, Priority, blast, methods_said,
};
use crate::desks::Context;
use crate::desks::desk::{Answer, Confirm, Dialog, Outcome, PromptText};
use crate::desks::fit;
use crate::ui::Tone;

#[derive(Debug, Clone)]
pub enum Prompt {
    ScheduleAt(AnnouncementRow),
    /// An urgent message to everyone: the event's slug typed is the confirmation.
    TypeSlug(AnnouncementRow, Option<DateTime<Utc>>),
}

/// What the model's intent leads to.
pub fn intent(intent: Intent, ctx: &Context) -> Outcome<AnnouncementsDesk> {
    match intent {
        Intent::Nothing | Intent::NotMine => Outcome::nothing(),
        Intent::Say(text) => Outcome::say(text, Tone::Info),
        Intent::Compose => Outcome::dialog(Dialog::Form(Box::default())),
        Intent::Edit(row) => Outcome::dialog(Dialog::Form(Box::new(Compose::edit(
            &row, ctx.today, ctx.offset,
        )))),
        Intent::SendNow(row) => {
            if row.blast() {
                return Outcome::prompt(Prompt::TypeSlug(row, None));
            }
            Outcome::confirm(
                Confirm::new(
                    "Send now",
                    vec![
                        fit(&row.title, 56),
                        format!(
                            "{} to {} ({} people) by {}",
                            row.priority,
                            row.audience.map_or("nobody chosen", Audience::as_str),
                            row.recipients,
                            methods_said(&row.methods)
                        ),
                    ],
                    Cmd::Send {
                        id: row.id,
                        title: row.title,
                    },
                )
                .dangerous_if(row.priority == Priority::Urgent),
            )
        }
        Intent::Schedule(row) => Outcome::prompt(Prompt::ScheduleAt(row)),
        Intent::Cancel(row) => Outcome::confirm(
            Confirm::new(
                "Cancel announcement",
                vec![
                    fit(&row.title, 56),
                    format!("now {}; a cancelled announcement is final", row.status),
                ],
                Cmd::Cancel {
                    id: row.id,
                    title: row.title,
                },
            )
            .dangerous(),
        ),
    }
}

pub fn describe(prompt: &Prompt, ctx: &Context) -> PromptText {
    match prompt {
        Prompt::ScheduleAt(row) => PromptText {
            title: "Schedule announcement".to_owned(),
            lines: vec![fit(&row.title, 56), format!("to {} people", row.recipients)],
            label: "Send at: ",
            hint: "HH:MM today or YYYY-MM-DD HH:MM, event-local".to_owned(),
        },
        Prompt::TypeSlug(row, at) => PromptText {
            title: "URGENT to everyone".to_owned(),
            lines: vec![
                fit(&row.title, 56),
                format!(
                    "goes {} to all {} people by {}",
                    at.map_or("now".to_owned(), |t| format!(
                        "at {}",
                        ctx.local(t, "%Y-%m-%d %H:%M")
                    )),
                    row.recipients,
                    methods_said(&row.methods)
                ),
                format!("Type the event's slug ({}) to send it.", ctx.slug),
            ],
            label: "Slug: ",
            hint: "anything else cancels nothing and sends nothing".to_owned(),
        },
    }
}

pub fn answer(
    prompt: &Prompt,
    text: &str,
    ctx: &Context,
) -> Result<Answer<AnnouncementsDesk>, String> {
    match prompt {
        Prompt::ScheduleAt(row) => {
            let at = parse_when(text, ctx.now, ctx.offset)?
                .ok_or_else(|| "say when: HH:MM today or YYYY-MM-DD HH:MM".to_owned())?;
            if row.blast() {
                // An urgent message to everyone: the slug, typed, is the confirmation.
                return Ok(Answer::Ask(Prompt::TypeSlug(row.clone(), Some(at))));
            }
            Ok(Answer::Confirm(Confirm::new(
                "Schedule announcement",
                vec![
                    fit(&row.title, 56),
                    format!(
                        "at {} to {} people by {}",
                        ctx.local(at, "%Y-%m-%d %H:%M"),
                        row.recipients,
                        methods_said(&row.methods)
                    ),
                ],
                Cmd::Schedule {
                    id: row.id,
                    title: row.title.clone(),
                    at,
                },
            )))
        }
        Prompt::TypeSlug(row, at) => {
            if text.trim() != ctx.slug {
                return Err(format!("that is not {}: type it exactly, or Esc", ctx.slug));
            }
            Ok(Answer::Run(match at {
                Some(at) => Cmd::Schedule {
                    id: row.id,
                    title: row.title.clone(),
                    at: *at,
                },
                None => Cmd::Send {
                    id: row.id,
                    title: row.title.clone(),
                },
            }))
        }
    }
}

/// A key in the compose form: the form that stays open, and what follows.
pub fn form_key(
    desk: &mut AnnouncementsDesk,
    mut form: Box<Compose>,
    key: KeyEvent,
    ctx: &Context,
) -> (Option<Box<Compose>>, Outcome<AnnouncementsDesk>) {
    let not_saved = || Outcome::say("not saved: see the fields marked <-", Tone::Bad);
    match form.key(key) {
        FormKey::Stay => (Some(form), Outcome::nothing()),
        FormKey::Close => (None, Outcome::say("closed: nothing saved", Tone::Info)),
        FormKey::Save => match form.check(ctx.today, ctx.now, ctx.offset) {
            None => (Some(form), not_saved()),
            Some((draft, Some(_)))
                if blast(
                    draft.priority,
                    Some(draft.audience),
                    draft.sessions.is_some(),
                ) =>
            {
                form.errors.push((
                    Field::Schedule,
                    "urgent to everyone: save a draft, then t asks for the slug".to_owned(),
                ));
                (Some(form), not_saved())
            }
            Some((draft, schedule)) => {
                let cmd = Cmd::Save {
                    id: form.editing,
                    draft,
                    schedule,
                };
                // Kept until the database answers: a refusal reopens it as it was.
                desk.saving = Some(form);
                (
                    None,
                    Outcome {
                        cmds: vec![cmd],
                        ..Outcome::say("saving...", Tone::Info)
                    },
                )
            }
        },
    }
}

/// Whether the form's focused field takes a paste, and whether on several lines.
pub fn takes_paste(form: &Compose) -> Option<bool> {
    match form.field() {
        Field::Content => Some(true),
        Field::Title | Field::Sessions | Field::Schedule => Some(false),
        _ => None,
    }
}

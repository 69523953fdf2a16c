//! The Waitlist desk's dialogs: what each asks, how its answer is checked, and what follows.

use super::commands::Cmd;
use super::model::{Intent, Queue, WaitRow, WaitlistDesk, parse_count};
use crate::desks::Context;
use crate::desks::desk::{Answer, Confirm, Outcome, PromptText, required_reason};
use crate::desks::fit;
use crate::ui::Tone;

#[derive(Debug, Clone)]
pub enum Prompt {
    ReleasePlaces(Queue),
    ExtendMinutes(WaitRow),
    CancelReason(WaitRow),
}

/// What the model's intent leads to.
pub fn intent(intent: Intent) -> Outcome<WaitlistDesk> {
    match intent {
        Intent::Nothing | Intent::NotMine => Outcome::nothing(),
        Intent::Say(text) => Outcome::say(text, Tone::Info),
        Intent::OfferNext(offer) => {
            let who = match offer.position {
                Some(n) => format!("{} (#{n} in line)", fit(&offer.attendee, 30)),
                None => fit(&offer.attendee, 30),
            };
            Outcome::confirm(Confirm::new(
                "Offer next",
                vec![
                    format!("Offer a place in {} to {who}?", fit(&offer.queue.name, 40)),
                    format!(
                        "{} waiting. Freed places are offered on their own; this needs a free place not yet offered.",
                        offer.waiting
                    ),
                ],
                Cmd::OfferNext {
                    session: offer.queue.session,
                    queue: offer.queue.name,
                    places: 1,
                },
            ))
        }
        Intent::Release(queue) => Outcome::prompt(Prompt::ReleasePlaces(queue)),
        Intent::Extend(entry) => Outcome::prompt(Prompt::ExtendMinutes(entry)),
        Intent::Cancel(entry) => Outcome::prompt(Prompt::CancelReason(entry)),
        Intent::Convert(entry) => Outcome::confirm(Confirm::new(
            "Convert offer",
            vec![
                format!(
                    "{} took the place in {}?",
                    fit(&entry.attendee, 30),
                    fit(entry.queue(), 30)
                ),
                "They are registered and leave the queue.".to_owned(),
            ],
            Cmd::Convert {
                entry: entry.id,
                attendee: entry.attendee,
            },
        )),
    }
}

pub fn describe(prompt: &Prompt, ctx: &Context) -> PromptText {
    match prompt {
        Prompt::ReleasePlaces(queue) => PromptText {
            title: "Release places".to_owned(),
            lines: vec![format!(
                "Offer places to the next people in {}",
                fit(&queue.name, 40)
            )],
            label: "Places: ",
            hint: "1 to 500; empty for 1".to_owned(),
        },
        Prompt::ExtendMinutes(entry) => PromptText {
            title: "Extend offer".to_owned(),
            lines: vec![format!(
                "{} in {}, expires {}",
                fit(&entry.attendee, 30),
                fit(entry.queue(), 24),
                entry
                    .expires_at
                    .map(|t| ctx.local(t, "%H:%M:%S"))
                    .unwrap_or_default()
            )],
            label: "Extend by minutes: ",
            hint: "1 to 1440; empty for 15".to_owned(),
        },
        Prompt::CancelReason(entry) => PromptText {
            title: "Cancel waitlist entry".to_owned(),
            lines: vec![format!(
                "{}, position {} in {}",
                fit(&entry.attendee, 30),
                entry.position.map_or("-".to_owned(), |p| p.to_string()),
                fit(entry.queue(), 24)
            )],
            label: "Reason: ",
            hint: "required: it is kept with the entry".to_owned(),
        },
    }
}

pub fn answer(prompt: &Prompt, text: &str) -> Result<Answer<WaitlistDesk>, String> {
    match prompt {
        Prompt::ReleasePlaces(queue) => {
            let places = parse_count(text, 1, "places")?;
            Ok(Answer::Confirm(Confirm::new(
                "Release places",
                vec![format!(
                    "Offer {places} place{} to the next in {}?",
                    if places == 1 { "" } else { "s" },
                    fit(&queue.name, 40)
                )],
                Cmd::OfferNext {
                    session: queue.session,
                    queue: queue.name.clone(),
                    places,
                },
            )))
        }
        Prompt::ExtendMinutes(entry) => {
            let minutes = parse_count(text, 15, "minutes")?;
            Ok(Answer::Confirm(Confirm::new(
                "Extend offer",
                vec![format!(
                    "Give {} {minutes} more minute{}?",
                    fit(&entry.attendee, 30),
                    if minutes == 1 { "" } else { "s" }
                )],
                Cmd::Extend {
                    entry: entry.id,
                    attendee: entry.attendee.clone(),
                    minutes,
                },
            )))
        }
        Prompt::CancelReason(entry) => {
            let reason = required_reason(text, "cancelling an entry needs a reason")?;
            Ok(Answer::Confirm(
                Confirm::new(
                    "Cancel waitlist entry",
                    vec![
                        format!(
                            "Take {} off the {} queue?",
                            fit(&entry.attendee, 30),
                            fit(entry.queue(), 24)
                        ),
                        format!("reason: {}", fit(reason, 50)),
                    ],
                    Cmd::Cancel {
                        entry: entry.id,
                        attendee: entry.attendee.clone(),
                        reason: reason.to_owned(),
                    },
                )
                .dangerous(),
            ))
        }
    }
}

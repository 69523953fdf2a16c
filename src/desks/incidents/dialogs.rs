//! The Incidents desk's dialogs: the note it asks for, and what follows.

use super::commands::Cmd;
use super::model::{IncidentsDesk, Intent};
use crate::desks::desk::{Answer, Outcome, PromptText, required_reason};

#[derive(Debug, Clone)]
pub enum Prompt {
    Note,
}

pub fn intent(intent: Intent) -> Outcome<IncidentsDesk> {
    match intent {
        Intent::Nothing | Intent::NotMine => Outcome::nothing(),
        Intent::Note => Outcome::prompt(Prompt::Note),
    }
}

pub fn describe(prompt: &Prompt) -> PromptText {
    match prompt {
        Prompt::Note => PromptText {
            title: "Incident note".to_owned(),
            lines: vec![
                "What happened, what was done: it goes into the event's timeline in your name,"
                    .to_owned(),
                "and into the audit trail. A note cannot be changed afterwards.".to_owned(),
            ],
            label: "Note: ",
            hint: "Enter writes it".to_owned(),
        },
    }
}

/// Enter writes the note (the prompt was the question; how long it may be is the database's rule).
pub fn answer(prompt: &Prompt, text: &str) -> Result<Answer<IncidentsDesk>, String> {
    match prompt {
        Prompt::Note => Ok(Answer::Run(Cmd::Note {
            text: required_reason(text, "type what happened, or Esc")?.to_owned(),
        })),
    }
}

//! The Incidents desk's keys: its actions and what each key is bound to (lookup, footer and help come
//! from this one table).

use crossterm::event::{KeyCode, KeyModifiers};

use crate::desks::desk::Binding;

crate::desk_actions!(NextKind, NextSpan, Note);

const NONE: KeyModifiers = KeyModifiers::NONE;

pub const BINDINGS: &[Binding<Action>] = &[
    Binding {
        keys: &[(KeyCode::Char('k'), NONE)],
        label: "k",
        help: "one kind at a time (alerts, doors, exits, sessions, messages, money, people, outages, notes), then all but exits",
        hint: Some("kind"),
        action: Action::NextKind,
        needs: None,
    },
    Binding {
        keys: &[(KeyCode::Char('t'), NONE)],
        label: "t",
        help: "how far back: the last hour, today, the whole event",
        hint: Some("time"),
        action: Action::NextSpan,
        needs: None,
    },
    Binding {
        keys: &[(KeyCode::Char('n'), NONE)],
        label: "n",
        help: "write an incident note into the timeline, in your name (audited)",
        hint: Some("note"),
        action: Action::Note,
        needs: None,
    },
    Binding {
        keys: &[(KeyCode::Char('/'), NONE)],
        label: "/",
        help: "filter the rows shown by who or what",
        hint: Some("filter"),
        action: Action::Filter,
        needs: None,
    },
];

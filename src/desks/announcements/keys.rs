//! The Announcements desk's keys: its actions and what each key is bound to (lookup, footer and help come from
//! this one table).

use crossterm::event::{KeyCode, KeyModifiers};

use crate::desks::Permission;
use crate::desks::desk::Binding;

crate::desk_actions!(
    NewAnnouncement,
    EditAnnouncement,
    SendNow,
    Schedule,
    CancelAnnouncement
);

const NONE: KeyModifiers = KeyModifiers::NONE;

pub const BINDINGS: &[Binding<Action>] = &[
    Binding {
        keys: &[(KeyCode::Char('n'), NONE)],
        label: "n",
        help: "write a new announcement",
        hint: Some("new"),
        action: Action::NewAnnouncement,
        needs: Some(Permission::SendAnnouncements),
    },
    Binding {
        keys: &[(KeyCode::Char('e'), NONE)],
        label: "e",
        help: "edit the selected draft",
        hint: Some("edit"),
        action: Action::EditAnnouncement,
        needs: Some(Permission::SendAnnouncements),
    },
    Binding {
        keys: &[(KeyCode::Char('s'), NONE)],
        label: "s",
        help: "send the selected announcement now (urgent to all: type the event's slug)",
        hint: Some("send now"),
        action: Action::SendNow,
        needs: Some(Permission::SendAnnouncements),
    },
    Binding {
        keys: &[(KeyCode::Char('t'), NONE)],
        label: "t",
        help: "schedule the selected announcement (event-local time)",
        hint: Some("schedule"),
        action: Action::Schedule,
        needs: Some(Permission::SendAnnouncements),
    },
    Binding {
        keys: &[(KeyCode::Char('x'), NONE)],
        label: "x",
        help: "cancel the selected announcement",
        hint: Some("cancel"),
        action: Action::CancelAnnouncement,
        needs: Some(Permission::SendAnnouncements),
    },
    Binding {
        keys: &[(KeyCode::Char('/'), NONE)],
        label: "/",
        help: "filter by title, status or priority",
        hint: None,
        action: Action::Filter,
        needs: None,
    },
];

//! The Sessions desk's keys: its actions and what each key is bound to (lookup, footer and help come from
//! this one table).

use crossterm::event::{KeyCode, KeyModifiers};

use crate::desks::Permission;
use crate::desks::desk::Binding;

crate::desk_actions!(
    SetLive,
    SetCompleted,
    SetCancelled,
    Capacity,
    OpenWaitlist,
    Notice
);

const NONE: KeyModifiers = KeyModifiers::NONE;

pub const BINDINGS: &[Binding<Action>] = &[
    Binding {
        keys: &[(KeyCode::Char('l'), NONE)],
        label: "l",
        help: "set the selected session live",
        hint: Some("live"),
        action: Action::SetLive,
        needs: Some(Permission::ManageSessions),
    },
    Binding {
        keys: &[(KeyCode::Char('d'), NONE)],
        label: "d",
        help: "mark the selected session completed (done)",
        hint: Some("done"),
        action: Action::SetCompleted,
        needs: Some(Permission::ManageSessions),
    },
    Binding {
        keys: &[(KeyCode::Char('x'), NONE)],
        label: "x",
        help: "cancel the selected session",
        hint: Some("cancel"),
        action: Action::SetCancelled,
        needs: Some(Permission::ManageSessions),
    },
    Binding {
        keys: &[(KeyCode::Char('c'), NONE)],
        label: "c",
        help: "change the selected session's capacity",
        hint: Some("capacity"),
        action: Action::Capacity,
        needs: Some(Permission::ManageSessions),
    },
    Binding {
        keys: &[(KeyCode::Char('w'), NONE)],
        label: "w",
        help: "open the selected session's waitlist",
        hint: Some("waitlist"),
        action: Action::OpenWaitlist,
        needs: None,
    },
    Binding {
        keys: &[(KeyCode::Char('n'), NONE)],
        label: "n",
        help: "write an announcement to the selected session's attendees (it is filling up: point them to an overflow room)",
        hint: None,
        action: Action::Notice,
        needs: Some(Permission::SendAnnouncements),
    },
    Binding {
        keys: &[(KeyCode::Char('/'), NONE)],
        label: "/",
        help: "filter sessions by title, room or type",
        hint: Some("filter"),
        action: Action::Filter,
        needs: None,
    },
];

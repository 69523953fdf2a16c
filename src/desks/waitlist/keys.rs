//! The Waitlist desk's keys: its actions and what each key is bound to (lookup, footer and help come from
//! this one table).

use crossterm::event::{KeyCode, KeyModifiers};

use crate::desks::Permission;
use crate::desks::desk::Binding;

crate::desk_actions!(
    OfferNext,
    Release,
    Extend,
    ConvertOffer,
    CancelEntry,
    CycleView
);

const NONE: KeyModifiers = KeyModifiers::NONE;

pub const BINDINGS: &[Binding<Action>] = &[
    Binding {
        keys: &[(KeyCode::Char('o'), NONE)],
        label: "o",
        help: "offer the next place in the selected queue",
        hint: Some("offer next"),
        action: Action::OfferNext,
        needs: Some(Permission::ManageAttendees),
    },
    Binding {
        keys: &[(KeyCode::Char('n'), NONE)],
        label: "n",
        help: "release a number of places in the selected queue",
        hint: Some("release N"),
        action: Action::Release,
        needs: Some(Permission::ManageAttendees),
    },
    Binding {
        keys: &[(KeyCode::Char('e'), NONE)],
        label: "e",
        help: "extend the selected offer",
        hint: Some("extend"),
        action: Action::Extend,
        needs: Some(Permission::ManageAttendees),
    },
    Binding {
        keys: &[(KeyCode::Char('c'), NONE)],
        label: "c",
        help: "convert the selected offer by hand (they took the place)",
        hint: Some("convert"),
        action: Action::ConvertOffer,
        needs: Some(Permission::ManageAttendees),
    },
    Binding {
        keys: &[(KeyCode::Char('x'), NONE)],
        label: "x",
        help: "cancel the selected entry (with a reason)",
        hint: Some("cancel"),
        action: Action::CancelEntry,
        needs: Some(Permission::ManageAttendees),
    },
    Binding {
        keys: &[(KeyCode::Char('f'), NONE)],
        label: "f",
        help: "also show entries that ended in the last hour",
        hint: Some("history"),
        action: Action::CycleView,
        needs: None,
    },
    Binding {
        keys: &[(KeyCode::Char('/'), NONE)],
        label: "/",
        help: "filter by attendee or queue",
        hint: None,
        action: Action::Filter,
        needs: None,
    },
];

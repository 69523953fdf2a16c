//! The Check-ins desk's keys: its actions and what each key is bound to (lookup, footer and help come from
//! this one table).

use crossterm::event::{KeyCode, KeyModifiers};

use crate::desks::Permission;
use crate::desks::desk::Binding;

crate::desk_actions!(ScanMode, CheckIn, CheckOut, CycleView, Acknowledge);

const NONE: KeyModifiers = KeyModifiers::NONE;

pub const BINDINGS: &[Binding<Action>] = &[
    Binding {
        keys: &[(KeyCode::Char('s'), NONE), (KeyCode::Enter, NONE)],
        label: "s",
        help: "scan mode (also Enter): every code typed or scanned, then Enter, checks in at once; Esc leaves",
        hint: Some("scan"),
        action: Action::ScanMode,
        needs: Some(Permission::CheckIn),
    },
    Binding {
        keys: &[(KeyCode::Char('/'), NONE)],
        label: "/",
        help: "search attendees by name, email or ticket code",
        hint: Some("search"),
        action: Action::Filter,
        needs: None,
    },
    Binding {
        keys: &[(KeyCode::Char('i'), NONE)],
        label: "i",
        help: "check in the selected attendee (from a search)",
        hint: Some("check in"),
        action: Action::CheckIn,
        needs: Some(Permission::CheckIn),
    },
    Binding {
        keys: &[(KeyCode::Char('o'), NONE)],
        label: "o",
        help: "check out the selected attendee (from a search)",
        hint: Some("check out"),
        action: Action::CheckOut,
        needs: Some(Permission::CheckIn),
    },
    Binding {
        keys: &[(KeyCode::Char('f'), NONE)],
        label: "f",
        help: "every gate (entries, rate, last entry, refusals, alerts) instead of the feed; f again for the feed",
        hint: Some("gates"),
        action: Action::CycleView,
        needs: None,
    },
    Binding {
        keys: &[(KeyCode::Char('a'), NONE)],
        label: "a",
        help: "acknowledge the oldest gate alert nobody has acknowledged (a gate gone silent, a jump in refusals)",
        hint: None,
        action: Action::Acknowledge,
        needs: Some(Permission::CheckIn),
    },
];

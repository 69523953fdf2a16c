//! The Expenses desk's keys: its actions and what each key is bound to (lookup, footer and help come from
//! this one table).

use crossterm::event::{KeyCode, KeyModifiers};

use crate::desks::Permission;
use crate::desks::desk::Binding;

crate::desk_actions!(Approve, Reject, MarkPaid, Mark, ApproveMarked, CycleView);

const NONE: KeyModifiers = KeyModifiers::NONE;
const SHIFT: KeyModifiers = KeyModifiers::SHIFT;

pub const BINDINGS: &[Binding<Action>] = &[
    Binding {
        keys: &[(KeyCode::Char('a'), NONE)],
        label: "a",
        help: "approve the selected expense (never your own: four eyes)",
        hint: Some("approve"),
        action: Action::Approve,
        needs: Some(Permission::ApproveExpenses),
    },
    Binding {
        keys: &[(KeyCode::Char('r'), NONE)],
        label: "r",
        help: "reject the selected expense (a reason is required)",
        hint: Some("reject"),
        action: Action::Reject,
        needs: Some(Permission::ApproveExpenses),
    },
    Binding {
        keys: &[(KeyCode::Char('p'), NONE)],
        label: "p",
        help: "mark the selected approved expense paid (payment date)",
        hint: Some("paid"),
        action: Action::MarkPaid,
        needs: Some(Permission::ApproveExpenses),
    },
    Binding {
        keys: &[(KeyCode::Char(' '), NONE)],
        label: "Space",
        help: "mark or unmark the selected pending expense and move down",
        hint: Some("mark"),
        action: Action::Mark,
        needs: Some(Permission::ApproveExpenses),
    },
    Binding {
        keys: &[(KeyCode::Char('A'), SHIFT), (KeyCode::Char('A'), NONE)],
        label: "A",
        help: "approve every marked expense, each on its own",
        hint: Some("approve marked"),
        action: Action::ApproveMarked,
        needs: Some(Permission::ApproveExpenses),
    },
    Binding {
        keys: &[(KeyCode::Char('f'), NONE)],
        label: "f",
        help: "show pending / approved to pay / all",
        hint: Some("view"),
        action: Action::CycleView,
        needs: None,
    },
    Binding {
        keys: &[(KeyCode::Char('/'), NONE)],
        label: "/",
        help: "filter by name, vendor, submitter or category",
        hint: None,
        action: Action::Filter,
        needs: None,
    },
];

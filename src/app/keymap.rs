//! Every key the console answers to, in one table: key handling looks actions up here, and the footer
//! hints and the `?` help are built from it, so they cannot disagree.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::desks::{DeskId, Permission};

pub use crate::desks::Action;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Global,
    Desk(DeskId),
}

#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub scope: Scope,
    pub keys: &'static [(KeyCode, KeyModifiers)],
    /// How the key is written in hints and help.
    pub label: &'static str,
    pub help: &'static str,
    /// The footer hint's word (None: only in the help).
    pub hint: Option<&'static str>,
    pub action: Action,
    /// The permission the action needs; without it the hint is hidden and the key says why.
    pub needs: Option<Permission>,
}

const NONE: KeyModifiers = KeyModifiers::NONE;
const SHIFT: KeyModifiers = KeyModifiers::SHIFT;
const CTRL: KeyModifiers = KeyModifiers::CONTROL;

const fn global(
    keys: &'static [(KeyCode, KeyModifiers)],
    label: &'static str,
    help: &'static str,
    hint: Option<&'static str>,
    action: Action,
) -> Binding {
    Binding {
        scope: Scope::Global,
        keys,
        label,
        help,
        hint,
        action,
        needs: None,
    }
}

const fn desk(
    desk: DeskId,
    keys: &'static [(KeyCode, KeyModifiers)],
    label: &'static str,
    help: &'static str,
    hint: Option<&'static str>,
    action: Action,
    needs: Option<Permission>,
) -> Binding {
    Binding {
        scope: Scope::Desk(desk),
        keys,
        label,
        help,
        hint,
        action,
        needs,
    }
}

pub const BINDINGS: &[Binding] = &[
    desk(
        DeskId::Checkins,
        &[(KeyCode::Char('s'), NONE), (KeyCode::Enter, NONE)],
        "s",
        "scan mode (also Enter): every code typed or scanned, then Enter, checks in at once; Esc leaves",
        Some("scan"),
        Action::ScanMode,
        Some(Permission::CheckIn),
    ),
    desk(
        DeskId::Checkins,
        &[(KeyCode::Char('/'), NONE)],
        "/",
        "search attendees by name, email or ticket code",
        Some("search"),
        Action::Filter,
        None,
    ),
    desk(
        DeskId::Checkins,
        &[(KeyCode::Char('i'), NONE)],
        "i",
        "check in the selected attendee (from a search)",
        Some("check in"),
        Action::CheckIn,
        Some(Permission::CheckIn),
    ),
    desk(
        DeskId::Checkins,
        &[(KeyCode::Char('o'), NONE)],
        "o",
        "check out the selected attendee (from a search)",
        Some("check out"),
        Action::CheckOut,
        Some(Permission::CheckIn),
    ),
    desk(
        DeskId::Checkins,
        &[(KeyCode::Char('f'), NONE)],
        "f",
        "every gate (entries, rate over 5 minutes, share) instead of the feed; f again for the feed",
        Some("gates"),
        Action::CycleView,
        None,
    ),
    desk(
        DeskId::Sessions,
        &[(KeyCode::Char('l'), NONE)],
        "l",
        "set the selected session live",
        Some("live"),
        Action::SetLive,
        Some(Permission::ManageSessions),
    ),
    desk(
        DeskId::Sessions,
        &[(KeyCode::Char('d'), NONE)],
        "d",
        "mark the selected session completed (done)",
        Some("done"),
        Action::SetCompleted,
        Some(Permission::ManageSessions),
    ),
    desk(
        DeskId::Sessions,
        &[(KeyCode::Char('x'), NONE)],
        "x",
        "cancel the selected session",
        Some("cancel"),
        Action::SetCancelled,
        Some(Permission::ManageSessions),
    ),
    desk(
        DeskId::Sessions,
        &[(KeyCode::Char('c'), NONE)],
        "c",
        "change the selected session's capacity",
        Some("capacity"),
        Action::Capacity,
        Some(Permission::ManageSessions),
    ),
    desk(
        DeskId::Sessions,
        &[(KeyCode::Char('w'), NONE)],
        "w",
        "open the selected session's waitlist",
        Some("waitlist"),
        Action::OpenWaitlist,
        None,
    ),
    desk(
        DeskId::Sessions,
        &[(KeyCode::Char('/'), NONE)],
        "/",
        "filter sessions by title, room or type",
        Some("filter"),
        Action::Filter,
        None,
    ),
    desk(
        DeskId::Expenses,
        &[(KeyCode::Char('a'), NONE)],
        "a",
        "approve the selected expense (never your own: four eyes)",
        Some("approve"),
        Action::Approve,
        Some(Permission::ApproveExpenses),
    ),
    desk(
        DeskId::Expenses,
        &[(KeyCode::Char('r'), NONE)],
        "r",
        "reject the selected expense (a reason is required)",
        Some("reject"),
        Action::Reject,
        Some(Permission::ApproveExpenses),
    ),
    desk(
        DeskId::Expenses,
        &[(KeyCode::Char('p'), NONE)],
        "p",
        "mark the selected approved expense paid (payment date)",
        Some("paid"),
        Action::MarkPaid,
        Some(Permission::ApproveExpenses),
    ),
    desk(
        DeskId::Expenses,
        &[(KeyCode::Char(' '), NONE)],
        "Space",
        "mark or unmark the selected pending expense and move down",
        Some("mark"),
        Action::Mark,
        Some(Permission::ApproveExpenses),
    ),
    desk(
        DeskId::Expenses,
        &[(KeyCode::Char('A'), SHIFT), (KeyCode::Char('A'), NONE)],
        "A",
        "approve every marked expense, each on its own",
        Some("approve marked"),
        Action::ApproveMarked,
        Some(Permission::ApproveExpenses),
    ),
    desk(
        DeskId::Expenses,
        &[(KeyCode::Char('f'), NONE)],
        "f",
        "show pending / approved to pay / all",
        Some("view"),
        Action::CycleView,
        None,
    ),
    desk(
        DeskId::Expenses,
        &[(KeyCode::Char('/'), NONE)],
        "/",
        "filter by name, vendor, submitter or category",
        None,
        Action::Filter,
        None,
    ),
    desk(
        DeskId::Waitlist,
        &[(KeyCode::Char('o'), NONE)],
        "o",
        "offer the next place in the selected queue",
        Some("offer next"),
        Action::OfferNext,
        Some(Permission::ManageAttendees),
    ),
    desk(
        DeskId::Waitlist,
        &[(KeyCode::Char('n'), NONE)],
        "n",
        "release a number of places in the selected queue",
        Some("release N"),
        Action::Release,
        Some(Permission::ManageAttendees),
    ),
    desk(
        DeskId::Waitlist,
        &[(KeyCode::Char('e'), NONE)],
        "e",
        "extend the selected offer",
        Some("extend"),
        Action::Extend,
        Some(Permission::ManageAttendees),
    ),
    desk(
        DeskId::Waitlist,
        &[(KeyCode::Char('c'), NONE)],
        "c",
        "convert the selected offer by hand (they took the place)",
        Some("convert"),
        Action::ConvertOffer,
        Some(Permission::ManageAttendees),
    ),
    desk(
        DeskId::Waitlist,
        &[(KeyCode::Char('x'), NONE)],
        "x",
        "cancel the selected entry (with a reason)",
        Some("cancel"),
        Action::CancelEntry,
        Some(Permission::ManageAttendees),
    ),
    desk(
        DeskId::Waitlist,
        &[(KeyCode::Char('f'), NONE)],
        "f",
        "also show entries that ended in the last hour",
        Some("history"),
        Action::CycleView,
        None,
    ),
    desk(
        DeskId::Waitlist,
        &[(KeyCode::Char('/'), NONE)],
        "/",
        "filter by attendee or queue",
        None,
        Action::Filter,
        None,
    ),
    desk(
        DeskId::Announcements,
        &[(KeyCode::Char('n'), NONE)],
        "n",
        "write a new announcement",
        Some("new"),
        Action::NewAnnouncement,
        Some(Permission::SendAnnouncements),
    ),
    desk(
        DeskId::Announcements,
        &[(KeyCode::Char('e'), NONE)],
        "e",
        "edit the selected draft",
        Some("edit"),
        Action::EditAnnouncement,
        Some(Permission::SendAnnouncements),
    ),
    desk(
        DeskId::Announcements,
        &[(KeyCode::Char('s'), NONE)],
        "s",
        "send the selected announcement now (urgent to all: type the event's slug)",
        Some("send now"),
        Action::SendNow,
        Some(Permission::SendAnnouncements),
    ),
    desk(
        DeskId::Announcements,
        &[(KeyCode::Char('t'), NONE)],
        "t",
        "schedule the selected announcement (event-local time)",
        Some("schedule"),
        Action::Schedule,
        Some(Permission::SendAnnouncements),
    ),
    desk(
        DeskId::Announcements,
        &[(KeyCode::Char('x'), NONE)],
        "x",
        "cancel the selected announcement",
        Some("cancel"),
        Action::CancelAnnouncement,
        Some(Permission::SendAnnouncements),
    ),
    desk(
        DeskId::Announcements,
        &[(KeyCode::Char('/'), NONE)],
        "/",
        "filter by title, status or priority",
        None,
        Action::Filter,
        None,
    ),
    global(
        &[(KeyCode::Up, NONE), (KeyCode::Char('k'), NONE)],
        "Up/k",
        "move up",
        None,
        Action::Up,
    ),
    global(
        &[(KeyCode::Down, NONE), (KeyCode::Char('j'), NONE)],
        "Down/j",
        "move down",
        None,
        Action::Down,
    ),
    global(
        &[(KeyCode::PageUp, NONE)],
        "PgUp",
        "page up",
        None,
        Action::PageUp,
    ),
    global(
        &[(KeyCode::PageDown, NONE)],
        "PgDn",
        "page down",
        None,
        Action::PageDown,
    ),
    global(
        &[(KeyCode::Home, NONE), (KeyCode::Char('g'), NONE)],
        "Home/g",
        "first row",
        None,
        Action::Top,
    ),
    global(
        &[
            (KeyCode::End, NONE),
            (KeyCode::Char('G'), SHIFT),
            (KeyCode::Char('G'), NONE),
        ],
        "End/G",
        "last row",
        None,
        Action::Bottom,
    ),
    global(
        &[(KeyCode::Char('1'), NONE)],
        "1",
        "Check-ins desk",
        None,
        Action::Desk(DeskId::Checkins),
    ),
    global(
        &[(KeyCode::Char('2'), NONE)],
        "2",
        "Sessions desk",
        None,
        Action::Desk(DeskId::Sessions),
    ),
    global(
        &[(KeyCode::Char('3'), NONE)],
        "3",
        "Waitlist desk",
        None,
        Action::Desk(DeskId::Waitlist),
    ),
    global(
        &[(KeyCode::Char('4'), NONE)],
        "4",
        "Announcements desk",
        None,
        Action::Desk(DeskId::Announcements),
    ),
    global(
        &[(KeyCode::Char('5'), NONE)],
        "5",
        "Expenses desk",
        None,
        Action::Desk(DeskId::Expenses),
    ),
    global(
        &[(KeyCode::Tab, NONE)],
        "Tab",
        "next desk",
        None,
        Action::NextDesk,
    ),
    global(
        &[(KeyCode::BackTab, SHIFT), (KeyCode::BackTab, NONE)],
        "S-Tab",
        "previous desk",
        None,
        Action::PrevDesk,
    ),
    global(
        &[(KeyCode::Esc, NONE)],
        "Esc",
        "close what is open",
        None,
        Action::Back,
    ),
    global(
        &[(KeyCode::Char('?'), NONE), (KeyCode::Char('?'), SHIFT)],
        "?",
        "this help",
        Some("help"),
        Action::Help,
    ),
    global(
        &[(KeyCode::Char('q'), NONE), (KeyCode::Char('c'), CTRL)],
        "q",
        "quit (also Ctrl-C)",
        Some("quit"),
        Action::Quit,
    ),
];

/// The binding for `key` on `desk`: the desk's own first, then the global ones.
pub fn lookup(desk_id: DeskId, key: &KeyEvent) -> Option<&'static Binding> {
    let matches = |b: &&Binding| {
        b.keys
            .iter()
            .any(|(code, mods)| *code == key.code && *mods == key.modifiers)
    };
    BINDINGS
        .iter()
        .filter(|b| b.scope == Scope::Desk(desk_id))
        .find(matches)
        .or_else(|| {
            BINDINGS
                .iter()
                .filter(|b| b.scope == Scope::Global)
                .find(matches)
        })
}

/// The bindings shown for a desk: its own, then the global ones.
pub fn for_desk(desk_id: DeskId) -> impl Iterator<Item = &'static Binding> {
    BINDINGS
        .iter()
        .filter(move |b| b.scope == Scope::Desk(desk_id))
        .chain(BINDINGS.iter().filter(|b| b.scope == Scope::Global))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_two_bindings_in_one_scope_share_a_key() {
        for (i, a) in BINDINGS.iter().enumerate() {
            for b in &BINDINGS[i + 1..] {
                if a.scope != b.scope {
                    continue;
                }
                for key in a.keys {
                    assert!(
                        !b.keys.contains(key),
                        "{:?} is bound to both {:?} and {:?}",
                        key,
                        a.action,
                        b.action
                    );
                }
            }
        }
    }

    #[test]
    fn a_desk_key_wins_over_a_global_one() {
        let c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::NONE);
        assert_eq!(
            lookup(DeskId::Sessions, &c).map(|b| b.action),
            Some(Action::Capacity)
        );
        assert_eq!(lookup(DeskId::Checkins, &c).map(|b| b.action), None);
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(
            lookup(DeskId::Sessions, &ctrl_c).map(|b| b.action),
            Some(Action::Quit)
        );
    }
}

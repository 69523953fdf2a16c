//! The desks: one folder each, with its state and pure update (model.rs), its screen (view.rs) and the
//! SQL it runs (store.rs).

pub mod announcements;
pub mod checkins;
pub mod expenses;
pub mod list;
pub mod sessions;
pub mod waitlist;

pub use crate::ui::text::{clean, clean_opt, fit, fit_column};

use chrono::{DateTime, FixedOffset, Utc};

/// The five desks, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeskId {
    Checkins,
    Sessions,
    Waitlist,
    Announcements,
    Expenses,
}

impl DeskId {
    pub const ALL: [DeskId; 5] = [
        DeskId::Checkins,
        DeskId::Sessions,
        DeskId::Waitlist,
        DeskId::Announcements,
        DeskId::Expenses,
    ];

    pub fn title(self) -> &'static str {
        match self {
            DeskId::Checkins => "Check-ins",
            DeskId::Sessions => "Sessions",
            DeskId::Waitlist => "Waitlist",
            DeskId::Announcements => "Announcements",
            DeskId::Expenses => "Expenses",
        }
    }

    /// The digit that opens the desk.
    pub fn number(self) -> u8 {
        match self {
            DeskId::Checkins => 1,
            DeskId::Sessions => 2,
            DeskId::Waitlist => 3,
            DeskId::Announcements => 4,
            DeskId::Expenses => 5,
        }
    }
}

/// What an operator may do at the event (from their team permissions; an administrator may do all).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Permissions {
    /// An active team member (or an administrator): reads every desk but Expenses.
    pub member: bool,
    pub check_in: bool,
    pub manage_sessions: bool,
    pub manage_attendees: bool,
    pub send_announcements: bool,
    pub submit_expenses: bool,
    pub approve_expenses: bool,
}

impl Permissions {
    pub fn all() -> Permissions {
        Permissions {
            member: true,
            check_in: true,
            manage_sessions: true,
            manage_attendees: true,
            send_announcements: true,
            submit_expenses: true,
            approve_expenses: true,
        }
    }

    pub fn has(&self, permission: Permission) -> bool {
        match permission {
            Permission::CheckIn => self.check_in,
            Permission::ManageSessions => self.manage_sessions,
            Permission::ManageAttendees => self.manage_attendees,
            Permission::SendAnnouncements => self.send_announcements,
            Permission::SubmitExpenses => self.submit_expenses,
            Permission::ApproveExpenses => self.approve_expenses,
        }
    }

    /// Whether the desk is shown at all: a desk whose rows the operator cannot read is hidden.
    pub fn sees(&self, desk: DeskId) -> bool {
        match desk {
            DeskId::Expenses => self.submit_expenses || self.approve_expenses,
            _ => self.member,
        }
    }
}

/// A permission an action needs; its name is the one in docs/security.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    CheckIn,
    ManageSessions,
    ManageAttendees,
    SendAnnouncements,
    SubmitExpenses,
    ApproveExpenses,
}

impl Permission {
    pub fn words(self) -> &'static str {
        match self {
            Permission::CheckIn => "check in attendees",
            Permission::ManageSessions => "manage sessions",
            Permission::ManageAttendees => "manage attendees",
            Permission::SendAnnouncements => "send announcements",
            Permission::SubmitExpenses => "submit expenses",
            Permission::ApproveExpenses => "approve expenses",
        }
    }
}

/// Formats a moment in the event's time zone.
pub fn local(at: DateTime<Utc>, offset: FixedOffset, format: &str) -> String {
    at.with_timezone(&offset).format(format).to_string()
}

/// What a desk's view may know beyond its own desk: the time, the event's clock, who is looking and
/// what they may do. The console's state stays the app's.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub now: DateTime<Utc>,
    pub offset: FixedOffset,
    pub permissions: &'a Permissions,
    /// The operator's profile (None for an administrator without one).
    pub profile: Option<uuid::Uuid>,
}

impl Context<'_> {
    pub fn local(&self, at: DateTime<Utc>, format: &str) -> String {
        local(at, self.offset, format)
    }
}

/// What a key asks for, on any desk; the key table (app::keymap) binds keys to these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    Help,
    Desk(DeskId),
    NextDesk,
    PrevDesk,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// `/`: the desk's filter (on Check-ins, the attendee search).
    Filter,
    Back,
    ScanMode,
    CheckIn,
    CheckOut,
    SetLive,
    SetCompleted,
    SetCancelled,
    Capacity,
    OpenWaitlist,
    CycleView,
    Mark,
    Approve,
    ApproveMarked,
    Reject,
    MarkPaid,
    OfferNext,
    Release,
    Extend,
    CancelEntry,
    ConvertOffer,
    NewAnnouncement,
    EditAnnouncement,
    SendNow,
    Schedule,
    CancelAnnouncement,
}

/// PostgreSQL text cannot hold NUL (U+0000): text that does is refused here, before the database, in
/// one sentence naming what it was (`what`) and that nothing happened (`outcome`), rather than as the
/// server's encoding error.
pub fn storable(text: &str, what: &str, outcome: &str) -> anyhow::Result<()> {
    if text.contains('\0') {
        anyhow::bail!("{what} holds a NUL character, which the database cannot store: {outcome}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_is_refused_before_the_database() {
        assert!(storable("Zoë \u{1b}[2J", "the title", "nothing was saved").is_ok());
        let refused = storable("A\0B", "the code", "nothing was checked in").expect_err("NUL");
        assert_eq!(
            refused.to_string(),
            "the code holds a NUL character, which the database cannot store: nothing was checked in"
        );
    }

    #[test]
    fn fit_cuts_with_a_marker() {
        assert_eq!(fit("abcdef", 4), "abc~");
        assert_eq!(fit("abc", 4), "abc");
    }
}

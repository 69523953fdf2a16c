//! The desks: one folder each, implementing `desk::Desk`: its state and pure update (model.rs), its keys
//! (keys.rs), its dialogs (dialogs.rs), its commands and their answers (commands.rs), its screen
//! (view.rs) and its SQL (store.rs). `registry` is the one place that names them all.

pub mod announcements;
pub mod checkins;
pub mod desk;
pub mod expenses;
pub mod list;
pub mod registry;
pub mod sessions;
pub mod waitlist;
pub mod words;

pub use registry::DeskId;

pub use crate::ui::text::{clean, clean_opt, fit, fit_column};

use chrono::{DateTime, FixedOffset, Utc};

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

/// What a desk may know beyond its own state: the time, the event's clock, the event, who is looking and
/// what they may do, the load generation, today's sessions. The console's state stays the app's.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub now: DateTime<Utc>,
    pub offset: FixedOffset,
    pub permissions: &'a Permissions,
    /// The operator's profile (None for an administrator without one).
    pub profile: Option<uuid::Uuid>,
    /// The operator's team role, or "administrator".
    pub role: &'a str,
    pub event: uuid::Uuid,
    pub slug: &'a str,
    /// Bumped by every full resync: an answer to a fetch asked in another generation is dropped.
    pub generation: u64,
    /// Today's sessions (the sessions desk's rows; empty in the sessions desk's own context).
    pub today: &'a [sessions::model::SessionRow],
}

impl<'a> Context<'a> {
    pub fn with_today<'b>(&self, today: &'b [sessions::model::SessionRow]) -> Context<'b>
    where
        'a: 'b,
    {
        Context { today, ..*self }
    }

    /// "your role (R) does not include P": a key the role lacks.
    pub fn refusal(&self, permission: Permission) -> String {
        format!(
            "your role ({}) does not include {}",
            self.role,
            permission.words()
        )
    }

    pub fn local(&self, at: DateTime<Utc>, format: &str) -> String {
        local(at, self.offset, format)
    }
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

//! The desks: one folder each, implementing `desk::Desk`: its state and pure update (model.rs), its keys
//! (keys.rs), its dialogs (dialogs.rs), its commands and their answers (commands.rs), its screen
//! (view.rs) and its SQL (store.rs). `registry` is the one place that names them all.

pub mod announcements;
pub mod checkins;
pub mod desk;
pub mod expenses;
pub mod incidents;
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
    /// The permissions granted, one bit each, in `Permission::ALL`'s order.
    granted: u32,
}

impl Permissions {
    pub fn all() -> Permissions {
        Permissions::member_with(Permission::ALL)
    }

    /// An active member granted `permissions`.
    pub fn member_with(permissions: &[Permission]) -> Permissions {
        Permissions {
            member: true,
            granted: permissions.iter().fold(0, |bits, p| bits | p.bit()),
        }
    }

    /// A member's permissions as the database names them (`has_event_permission`); a name this
    /// console has no action for grants nothing here.
    pub fn member_granted(names: &[String]) -> Permissions {
        let granted: Vec<Permission> = Permission::ALL
            .iter()
            .copied()
            .filter(|p| names.iter().any(|n| n == p.sql_name()))
            .collect();
        Permissions::member_with(&granted)
    }

    pub fn has(&self, permission: Permission) -> bool {
        self.granted & permission.bit() != 0
    }
}

/// A permission an action needs; its name is the one in docs/security.md. Adding one here is all the
/// console needs to ask for it (the app asks the database for every one in `ALL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// The event's own settings and its audit trail (the Incidents desk).
    ManageEvent,
    CheckIn,
    ManageSessions,
    ManageAttendees,
    SendAnnouncements,
    SubmitExpenses,
    ApproveExpenses,
}

impl Permission {
    pub const ALL: &'static [Permission] = &[
        Permission::ManageEvent,
        Permission::CheckIn,
        Permission::ManageSessions,
        Permission::ManageAttendees,
        Permission::SendAnnouncements,
        Permission::SubmitExpenses,
        Permission::ApproveExpenses,
    ];

    pub fn words(self) -> &'static str {
        match self {
            Permission::ManageEvent => "manage the event",
            Permission::CheckIn => "check in attendees",
            Permission::ManageSessions => "manage sessions",
            Permission::ManageAttendees => "manage attendees",
            Permission::SendAnnouncements => "send announcements",
            Permission::SubmitExpenses => "submit expenses",
            Permission::ApproveExpenses => "approve expenses",
        }
    }

    /// The permission's name in event_teams.permissions and has_event_permission().
    pub fn sql_name(self) -> &'static str {
        match self {
            Permission::ManageEvent => "manage_event",
            Permission::CheckIn => "check_in_attendees",
            Permission::ManageSessions => "manage_sessions",
            Permission::ManageAttendees => "manage_attendees",
            Permission::SendAnnouncements => "send_announcements",
            Permission::SubmitExpenses => "submit_expenses",
            Permission::ApproveExpenses => "approve_expenses",
        }
    }

    fn bit(self) -> u32 {
        1 << Permission::ALL
            .iter()
            .position(|p| *p == self)
            .unwrap_or(31)
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
    /// Today's sessions as the Sessions desk publishes them (empty in its own context).
    pub today: &'a [TodaySession],
}

/// One of today's sessions as the other desks may know it: what the Sessions desk publishes of its rows
/// (the Announcements form names target sessions by start time and title), so no desk reads another's
/// rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TodaySession {
    pub id: uuid::Uuid,
    pub title: String,
    pub start: DateTime<Utc>,
}

impl TodaySession {
    /// How the Announcements form names it: its event-local start time and title, which tells apart a
    /// workshop run twice in a day ("14:15 Workshop: Zero-Downtime Deploys").
    pub fn label(&self, offset: FixedOffset) -> String {
        format!("{} {}", local(self.start, offset, "%H:%M"), self.title)
    }
}

impl<'a> Context<'a> {
    pub fn with_today<'b>(&self, today: &'b [TodaySession]) -> Context<'b>
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

    #[test]
    fn permissions_are_read_by_the_databases_names_and_each_is_its_own() {
        let names =
            ["check_in_attendees", "send_announcements", "view_analytics"].map(String::from);
        let p = Permissions::member_granted(&names);
        assert!(p.member);
        let granted: Vec<Permission> = Permission::ALL
            .iter()
            .copied()
            .filter(|x| p.has(*x))
            .collect();
        assert_eq!(
            granted,
            [Permission::CheckIn, Permission::SendAnnouncements],
            "a name with no action here grants nothing"
        );
        assert!(Permission::ALL.iter().all(|x| Permissions::all().has(*x)));
        assert!(
            Permission::ALL
                .iter()
                .all(|x| !Permissions::default().has(*x))
        );
        for x in Permission::ALL {
            let only = Permissions::member_with(&[*x]);
            assert_eq!(Permission::ALL.iter().filter(|y| only.has(**y)).count(), 1);
        }
    }
}

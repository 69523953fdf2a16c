//! The desks: one folder each, with its state and pure update (model.rs), its screen (view.rs) and the
//! SQL it runs (store.rs).

pub mod announcements;
pub mod checkins;
pub mod expenses;
pub mod list;
pub mod sessions;
pub mod waitlist;

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

/// Cuts `text` to `width` characters, marking the cut with a '~' (ASCII-safe).
pub fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    let mut out: String = text.chars().take(width - 1).collect();
    out.push('~');
    out
}

/// The values of one column, each cut to `width` and still told apart: a value whose end-cut would read
/// the same as a different value's ("Workshop L" for both Lab A and Lab B) keeps its end instead, after a
/// `~` ("Work~Lab A"), ending on whole words where they fit.
pub fn fit_column(values: &[String], width: usize) -> Vec<String> {
    let cut: Vec<String> = values.iter().map(|v| fit(v, width)).collect();
    values
        .iter()
        .zip(&cut)
        .map(|(value, short)| {
            let ambiguous = values
                .iter()
                .zip(&cut)
                .any(|(other, other_short)| other_short == short && other != value);
            if ambiguous {
                fit_keeping_end(value, width)
            } else {
                short.clone()
            }
        })
        .collect()
}

/// `text` in `width` characters: its start, `~`, and as much of its end as leaves the start a third.
fn fit_keeping_end(text: &str, width: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= width || width < 5 {
        return fit(text, width);
    }
    let most = width - 1 - (width / 3).max(3);
    // The longest run of whole words at the end that fits, else the last characters.
    let tail_len = (1..chars.len())
        .filter(|&i| chars[i - 1] == ' ' && chars.len() - i <= most)
        .map(|i| chars.len() - i)
        .max()
        .unwrap_or(most);
    let head: String = chars[..width - 1 - tail_len].iter().collect();
    let tail: String = chars[chars.len() - tail_len..].iter().collect();
    format!("{}~{tail}", head.trim_end())
}

/// Text from the database made safe to draw: control characters (an escape sequence in a scanned
/// code could otherwise drive the operator's terminal) are shown in caret notation, `^[`.
pub fn clean(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        match c {
            '\u{0}'..='\u{1f}' => {
                out.push('^');
                out.push(char::from(b'@' + c as u8));
            }
            '\u{7f}' => out.push_str("^?"),
            c if c.is_control() => out.push('?'),
            c => out.push(c),
        }
    }
    out
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

/// `clean` for an optional column.
pub fn clean_opt(text: Option<String>) -> Option<String> {
    text.map(|t| clean(&t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_cut_keeps_values_apart() {
        let values: Vec<String> = [
            "Workshop Lab A",
            "Workshop Lab B",
            "Main Hall",
            "Data Privacy by Design (panel)",
            "Data Privacy by Design (deep dive)",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            fit_column(&values[..3], 10),
            vec!["Work~Lab A", "Work~Lab B", "Main Hall"]
        );
        let titles = fit_column(&values[3..], 18);
        assert_eq!(titles, vec!["Data Priva~(panel)", "Data P~(deep dive)"]);
        assert!(titles.iter().all(|t| t.chars().count() <= 18));
        // Only the ambiguous ones change; one alone is cut at its end as before.
        assert_eq!(fit_column(&values[..1], 10), vec!["Workshop ~"]);
    }

    #[test]
    fn control_characters_are_shown_not_sent() {
        assert_eq!(clean("ABC-123"), "ABC-123");
        assert_eq!(clean("\u{1b}[2J"), "^[[2J");
        assert_eq!(clean("a\tb\r\n"), "a^Ib^M^J");
        assert_eq!(clean("\u{7f}\u{9b}x"), "^??x");
        assert_eq!(clean("Zoë"), "Zoë");
    }

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

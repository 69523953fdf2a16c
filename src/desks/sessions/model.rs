//! The Sessions desk's state and its pure update.

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;
use uuid::Uuid;

use super::forecast::{self, Forecast};
use super::keys::Action;
use crate::desks::TodaySession;
use crate::desks::desk::RowFetch;
use crate::desks::list::{self, ListNav};

crate::column_words! {
    /// Where a session is in its day: scheduled, then live, then completed, or cancelled.
    pub enum SessionStatus for sessions.status {
        Scheduled = "scheduled",
        Live = "live",
        Completed = "completed",
        Cancelled = "cancelled",
    }
}

impl SessionStatus {
    /// Completed or cancelled: nothing more happens in it.
    pub fn over(self) -> bool {
        matches!(self, SessionStatus::Completed | SessionStatus::Cancelled)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SessionRow {
    pub id: Uuid,
    pub title: String,
    pub room: Option<String>,
    pub session_type: Option<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub registered: i32,
    pub max: Option<i32>,
    pub present: i32,
    pub status: SessionStatus,
    /// People waiting for or offered a seat.
    pub waiting: i64,
    /// Registrations and entries at its door over the last `forecast::WINDOW_MINUTES`.
    pub registrations_recent: i64,
    pub entries_recent: i64,
}

impl SessionRow {
    /// When it fills, from its recent arrivals (see `forecast`). A session over or cancelled has none.
    pub fn forecast(&self) -> Forecast {
        if self.status.over() {
            return Forecast::None;
        }
        forecast::session(
            i64::from(self.registered),
            i64::from(self.present),
            self.max.map(i64::from),
            self.registrations_recent,
            self.entries_recent,
        )
    }

    /// How full the session is: the larger of registrations and people in the room, against capacity
    /// (either reaching it is what refuses the next person). None when it has no capacity.
    pub fn fill(&self) -> Option<f64> {
        let max = self.max?;
        let used = self.registered.max(self.present);
        if max == 0 {
            return Some(1.0);
        }
        Some(f64::from(used) / f64::from(max))
    }

    /// 0: on now, 1: next, 2: over (ended, completed or cancelled).
    fn rank(&self, now: DateTime<Utc>) -> u8 {
        match self.status {
            status if status.over() => 2,
            SessionStatus::Live => 0,
            _ if self.end <= now => 2,
            _ if self.start <= now => 0,
            _ => 1,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct SessionsDesk {
    /// Now and next first (sorted by `arrange`).
    pub rows: Vec<SessionRow>,
    /// What the other desks may know of them (`Context::today`), made again with every change.
    pub today: Vec<TodaySession>,
    pub nav: ListNav,
    pub loaded: bool,
    /// Rows heard changed, to read again.
    pub fetch: RowFetch,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    Nothing,
    NotMine,
    SetStatus {
        session: SessionRow,
        status: SessionStatus,
    },
    AskCapacity(SessionRow),
    OpenWaitlist(SessionRow),
    /// An announcement to its attendees, begun in the Announcements form.
    Notice(SessionRow),
}

impl SessionsDesk {
    pub fn typing(&self) -> bool {
        self.nav.filtering
    }

    pub fn replace(&mut self, rows: Vec<SessionRow>, now: DateTime<Utc>) {
        let keep = self.selected_row().map(|r| r.id);
        self.rows = rows;
        self.loaded = true;
        self.arrange(now, keep);
    }

    /// Replaces the requested sessions with what the database returned (a deleted one leaves).
    pub fn merge(&mut self, requested: &[Uuid], changed: Vec<SessionRow>, now: DateTime<Utc>) {
        let keep = self.selected_row().map(|r| r.id);
        list::merge_by_id(&mut self.rows, requested, changed, |r| r.id);
        self.arrange(now, keep);
    }

    /// Re-sorts (the clock moves sessions from next to now to over) keeping the selection on its row.
    pub fn arrange(&mut self, now: DateTime<Utc>, keep: Option<Uuid>) {
        self.rows
            .sort_by_key(|r| (r.rank(now), r.start, r.title.clone()));
        self.today = self
            .rows
            .iter()
            .map(|r| TodaySession {
                id: r.id,
                title: r.title.clone(),
                start: r.start,
            })
            .collect();
        let shown: Vec<Uuid> = self.visible().iter().map(|r| r.id).collect();
        self.nav.follow(keep, &shown);
    }

    /// The rows the filter lets through (title, room or type, case-insensitive).
    pub fn visible(&self) -> Vec<&SessionRow> {
        let needle = self.nav.needle();
        self.rows
            .iter()
            .filter(|r| {
                needle.is_empty()
                    || r.title.to_lowercase().contains(&needle)
                    || r.room
                        .as_deref()
                        .unwrap_or("")
                        .to_lowercase()
                        .contains(&needle)
                    || r.session_type.as_deref().unwrap_or("").contains(&needle)
            })
            .collect()
    }

    pub fn selected_row(&self) -> Option<&SessionRow> {
        self.visible().get(self.nav.selected).copied()
    }

    /// A key while the filter box has the keyboard.
    pub fn type_key(&mut self, key: KeyEvent) -> Intent {
        self.nav.type_key(key);
        Intent::Nothing
    }

    /// An action from the keymap.
    pub fn act(&mut self, action: Action) -> Intent {
        let len = self.visible().len();
        if self.nav.navigate(action.nav(), len) {
            return Intent::Nothing;
        }
        match action {
            Action::SetLive
            | Action::SetCompleted
            | Action::SetCancelled
            | Action::Capacity
            | Action::OpenWaitlist
            | Action::Notice => {
                let Some(row) = self.selected_row().cloned() else {
                    return Intent::Nothing;
                };
                match action {
                    Action::SetLive => Intent::SetStatus {
                        session: row,
                        status: SessionStatus::Live,
                    },
                    Action::SetCompleted => Intent::SetStatus {
                        session: row,
                        status: SessionStatus::Completed,
                    },
                    Action::SetCancelled => Intent::SetStatus {
                        session: row,
                        status: SessionStatus::Cancelled,
                    },
                    Action::Capacity => Intent::AskCapacity(row),
                    Action::Notice => Intent::Notice(row),
                    _ => Intent::OpenWaitlist(row),
                }
            }
            _ => Intent::NotMine,
        }
    }
}

/// Reads a capacity typed by the operator: a whole number, or "none" / empty for no limit. The error is
/// the sentence shown under the box. Which numbers are allowed is the database's rule (`capacity_range`),
/// said in its refusal.
pub fn parse_capacity(text: &str) -> Result<Option<i32>, String> {
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let digits: String = text.chars().filter(|c| *c != ',' && *c != '_').collect();
    match digits.parse::<i64>() {
        Ok(n) => i32::try_from(n)
            .map(Some)
            .map_err(|_| format!("{n} is too large a number for a capacity")),
        Err(_) => Err(format!(
            "{:?} is not a whole number (type a number, or none for no limit)",
            crate::desks::fit(text, 20)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};
    use crossterm::event::{KeyCode, KeyModifiers};

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, h, m, 0)
            .single()
            .expect("valid")
    }

    fn session(n: u128, title: &str, start: DateTime<Utc>, status: SessionStatus) -> SessionRow {
        SessionRow {
            id: Uuid::from_u128(n),
            title: title.into(),
            room: Some("Hall A".into()),
            session_type: Some("talk".into()),
            start,
            end: start + Duration::minutes(60),
            registered: 10,
            max: Some(100),
            present: 5,
            status,
            waiting: 0,
            registrations_recent: 0,
            entries_recent: 0,
        }
    }

    #[test]
    fn every_status_reads_back_from_its_word() {
        assert_eq!(
            crate::desks::words::round_trip::<SessionStatus>(),
            ["scheduled", "live", "completed", "cancelled"]
        );
    }

    #[test]
    fn now_comes_first_then_next_then_what_is_over() {
        let mut desk = SessionsDesk::default();
        desk.replace(
            vec![
                session(1, "Early", at(8, 0), SessionStatus::Completed),
                session(2, "Later", at(14, 0), SessionStatus::Scheduled),
                session(3, "Now", at(9, 30), SessionStatus::Live),
                session(4, "Soon", at(11, 0), SessionStatus::Scheduled),
            ],
            at(10, 0),
        );
        let titles: Vec<&str> = desk.rows.iter().map(|r| r.title.as_str()).collect();
        assert_eq!(titles, ["Now", "Soon", "Later", "Early"]);
    }

    #[test]
    fn the_selection_follows_its_row_when_rows_move() {
        let mut desk = SessionsDesk::default();
        desk.replace(
            vec![
                session(1, "A", at(9, 0), SessionStatus::Live),
                session(2, "B", at(11, 0), SessionStatus::Scheduled),
            ],
            at(10, 0),
        );
        desk.act(Action::Down);
        assert_eq!(desk.selected_row().map(|r| r.title.as_str()), Some("B"));
        desk.merge(
            &[Uuid::from_u128(1)],
            vec![session(1, "A", at(9, 0), SessionStatus::Completed)],
            at(10, 0),
        );
        assert_eq!(desk.selected_row().map(|r| r.title.as_str()), Some("B"));
    }

    #[test]
    fn actions_name_the_selected_session() {
        let mut desk = SessionsDesk::default();
        desk.replace(
            vec![session(1, "A", at(9, 0), SessionStatus::Scheduled)],
            at(8, 0),
        );
        let intent = desk.act(Action::SetLive);
        assert!(matches!(
            intent,
            Intent::SetStatus {
                status: SessionStatus::Live,
                ..
            }
        ));
        let intent = desk.act(Action::Capacity);
        assert!(matches!(intent, Intent::AskCapacity(_)));
    }

    #[test]
    fn the_filter_narrows_by_title_or_room() {
        let mut desk = SessionsDesk::default();
        let mut other = session(2, "Rust in production", at(11, 0), SessionStatus::Scheduled);
        other.room = Some("Room 4".into());
        desk.replace(
            vec![session(1, "Keynote", at(9, 0), SessionStatus::Live), other],
            at(10, 0),
        );
        desk.act(Action::Filter);
        for c in "room 4".chars() {
            desk.type_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
        assert_eq!(desk.visible().len(), 1);
        assert_eq!(
            desk.selected_row().map(|r| r.title.as_str()),
            Some("Rust in production")
        );
    }

    #[test]
    fn capacities_are_whole_numbers_in_range() {
        assert_eq!(parse_capacity("120"), Ok(Some(120)));
        assert_eq!(parse_capacity("1,000"), Ok(Some(1000)));
        assert_eq!(parse_capacity(" none "), Ok(None));
        // The database says which numbers it takes; the box only reads one.
        assert_eq!(parse_capacity("-1"), Ok(Some(-1)));
        assert_eq!(parse_capacity("1000001"), Ok(Some(1_000_001)));
        assert!(parse_capacity("99999999999").is_err());
        assert!(parse_capacity("12.5").is_err());
        assert!(parse_capacity("'; DROP TABLE sessions; --").is_err());
    }

    #[test]
    fn fill_is_the_fuller_of_seats_and_room() {
        let mut s = session(1, "A", at(9, 0), SessionStatus::Live);
        s.registered = 90;
        s.present = 40;
        assert_eq!(s.fill(), Some(0.9));
        s.max = None;
        assert_eq!(s.fill(), None);
    }
}

//! The Check-ins desk's state and its pure update.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use crossterm::event::{Event, KeyCode, KeyEvent};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;
use uuid::Uuid;

use super::gates::{GateAlert, GateWatch};
use super::keys::Action;
use super::store::FEED_LIMIT;
use crate::desks::fit;

#[derive(Debug, Clone, PartialEq)]
pub struct CheckinRow {
    pub id: Uuid,
    pub attendee_id: Uuid,
    pub name: String,
    pub ticket_type: Option<String>,
    pub gate: Option<String>,
    pub method: Option<String>,
    /// The session's title for a session-door entry; None at the event's gates.
    pub session: Option<String>,
    pub at: DateTime<Utc>,
    pub out_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub gate: Option<String>,
    pub reason_code: Refusal,
    pub reason: String,
    pub code: String,
    /// For a duplicate: where and when the attendee was first let in.
    pub first_gate: Option<String>,
    pub first_at: Option<DateTime<Utc>>,
    pub name: Option<String>,
}

/// One realtime batch as the flusher made it for every console (V11): its rows and the totals after it.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchView {
    pub event: Uuid,
    pub batch: i64,
    pub summary: Summary,
    pub checkins: Vec<CheckinRow>,
    pub problems: Vec<Problem>,
    pub sessions: Vec<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateStat {
    pub gate: String,
    pub total: i64,
    pub last_5_min: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Registered (not cancelled) attendees.
    pub expected: i64,
    /// Attendees let in at the event's gates at least once.
    pub checked_in: i64,
    pub present: i64,
    pub gates: Vec<GateStat>,
    /// Oldest first: index 59 is the current minute.
    pub arrivals_per_minute: Vec<u64>,
    pub problems_15_min: i64,
    pub as_of: DateTime<Utc>,
    /// The newest realtime batch these totals include (None: not known, as on a server before V11).
    pub batch: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScanOutcome {
    pub code: String,
    pub accepted: bool,
    pub reason_code: Option<String>,
    pub message: Option<String>,
    pub name: Option<String>,
    pub ticket_type: Option<String>,
    pub at: Option<DateTime<Utc>>,
}

crate::column_words! {
    /// Why a scan was refused.
    pub enum Refusal for refused_scans.reason_code {
        UnknownCode = "unknown_code",
        AlreadyCheckedIn = "already_checked_in",
        TicketVoid = "ticket_void",
        TicketRefunded = "ticket_refunded",
        WrongEvent = "wrong_event",
        AttendeeCancelled = "attendee_cancelled",
        SessionFull = "session_full",
        SessionNotOpen = "session_not_open",
        NotRegistered = "not_registered",
        InvalidCode = "invalid_code",
    }
}

impl Refusal {
    /// The Problems list's word for it (12 columns at most).
    pub fn label(self) -> &'static str {
        match self {
            Refusal::AlreadyCheckedIn => "duplicate",
            Refusal::UnknownCode => "unknown code",
            Refusal::TicketVoid => "void ticket",
            Refusal::TicketRefunded => "refunded",
            Refusal::WrongEvent => "wrong event",
            Refusal::AttendeeCancelled => "cancelled",
            Refusal::SessionFull => "session full",
            Refusal::SessionNotOpen => "not open",
            Refusal::NotRegistered => "not regist.",
            Refusal::InvalidCode => "invalid code",
        }
    }
}

crate::column_words! {
    /// Whether an attendee is coming: registered, on the event's waiting list, or cancelled.
    pub enum AttendeeStatus for attendees.status {
        Registered = "registered",
        Waitlisted = "waitlisted",
        Cancelled = "cancelled",
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AttendeeHit {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub status: AttendeeStatus,
    pub tickets: String,
    pub inside: bool,
}

/// The attendee search opened with `/`.
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub input: Input,
    /// Typing into the box (else moving through the results).
    pub editing: bool,
    pub hits: Vec<AttendeeHit>,
    pub selected: usize,
    /// The request whose answer is wanted; older answers are dropped.
    pub seq: u64,
    pub searching: bool,
    pub searched: Option<String>,
    /// More attendees matched than are shown (`SEARCH_SHOWN`): the operator narrows the search.
    pub more: bool,
    /// The text changed while a search was out: look again when its answer comes.
    pub again: bool,
    /// Enter came before the answer: go to the results (or say nobody matches) when it comes.
    pub entered: bool,
}

impl Search {
    /// Results follow the typing: a search for the text as it is now, or, while one is out, another
    /// when it answers (at most one out at a time). Under two characters there is nothing to show.
    fn look_up_as_typed(&mut self) -> Intent {
        let query = self.input.value().trim().to_owned();
        if query.chars().count() < 2 {
            self.hits.clear();
            self.searched = None;
            self.more = false;
            self.selected = 0;
            return Intent::Nothing;
        }
        if query.chars().count() > 200 {
            return Intent::Say("a search is at most 200 characters".to_owned());
        }
        if self.searching {
            self.again = true;
            return Intent::Nothing;
        }
        self.seq += 1;
        self.searching = true;
        self.searched = Some(query.clone());
        Intent::Search {
            seq: self.seq,
            query,
        }
    }
}

/// Attendees a search shows at most; the store asks for one more, to know whether there are more.
pub const SEARCH_SHOWN: usize = 50;

/// Scans kept in the scan box's history.
pub const SCAN_HISTORY: usize = 6;

#[derive(Debug, Clone, Default)]
pub struct ScanBox {
    pub input: Input,
    /// Scan mode: every Enter checks the typed code in; stays on until Esc.
    pub on: bool,
    pub history: VecDeque<ScanOutcome>,
    pub in_flight: usize,
}

#[derive(Debug, Clone, Default)]
pub struct CheckinsDesk {
    pub summary: Option<Summary>,
    /// Newest first, at most FEED_LIMIT.
    pub feed: Vec<CheckinRow>,
    /// Newest first, at most FEED_LIMIT.
    pub problems: Vec<Problem>,
    pub scan: ScanBox,
    /// Every gate instead of the feed (`f`).
    pub show_gates: bool,
    /// Gate watch: the gates' numbers and open alerts.
    pub gates: GateWatch,
    pub search: Option<Search>,
    /// What the hints heard call for, and the fetch out.
    pub fetch: super::feed::Feed,
}

/// What a key on this desk asks the console to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    Nothing,
    /// The key was not this desk's: let the console handle it.
    NotMine,
    Scan(String),
    Search {
        seq: u64,
        query: String,
    },
    CheckIn(AttendeeHit),
    CheckOut(AttendeeHit),
    /// The oldest gate alert nobody has acknowledged.
    Acknowledge(GateAlert),
    Say(String),
}

impl CheckinsDesk {
    /// Whether a text box has the keyboard (the console's single-key shortcuts are off).
    pub fn typing(&self) -> bool {
        self.scan.on || self.search.as_ref().is_some_and(|s| s.editing)
    }

    pub fn replace(&mut self, summary: Summary, feed: Vec<CheckinRow>, problems: Vec<Problem>) {
        self.summary = Some(summary);
        self.feed = feed;
        self.problems = problems;
    }

    /// Merges changed entries into the feed: by id (a check-out replaces its entry), newest first.
    pub fn merge_checkins(&mut self, changed: Vec<CheckinRow>) {
        for row in changed {
            match self.feed.iter_mut().find(|r| r.id == row.id) {
                Some(existing) => *existing = row,
                None => self.feed.push(row),
            }
        }
        self.feed
            .sort_by(|a, b| b.at.cmp(&a.at).then(b.id.cmp(&a.id)));
        self.feed.truncate(FEED_LIMIT as usize);
    }

    pub fn merge_problems(&mut self, changed: Vec<Problem>) {
        for row in changed {
            if !self.problems.iter().any(|p| p.id == row.id) {
                self.problems.push(row);
            }
        }
        self.problems
            .sort_by(|a, b| b.at.cmp(&a.at).then(b.id.cmp(&a.id)));
        // The newest of each kind, as the store reads them: duplicates cannot push the rest out.
        let (mut duplicates, mut others) = (0, 0);
        self.problems.retain(|p| {
            let kept = if p.reason_code == Refusal::AlreadyCheckedIn {
                &mut duplicates
            } else {
                &mut others
            };
            *kept += 1;
            *kept <= FEED_LIMIT
        });
    }

    /// The problems kept, newest first, one row per ticket code and reason with how many times it was
    /// refused: a stuck scanner repeating one code is one row, not a screenful.
    pub fn problem_groups(&self) -> Vec<(&Problem, usize)> {
        let mut groups: Vec<(&Problem, usize)> = Vec::new();
        let mut index: std::collections::HashMap<(Refusal, &str), usize> =
            std::collections::HashMap::new();
        for p in &self.problems {
            match index.get(&(p.reason_code, p.code.as_str())) {
                Some(&i) => groups[i].1 += 1,
                None => {
                    index.insert((p.reason_code, p.code.as_str()), groups.len());
                    groups.push((p, 1));
                }
            }
        }
        groups
    }

    pub fn scanned(&mut self, outcome: ScanOutcome) {
        self.scan.in_flight = self.scan.in_flight.saturating_sub(1);
        self.scan.history.push_front(outcome);
        self.scan.history.truncate(SCAN_HISTORY);
    }

    /// A search's answer; another search when the text changed meanwhile.
    pub fn searched(&mut self, seq: u64, hits: Vec<AttendeeHit>) -> Intent {
        let Some(search) = self.search.as_mut().filter(|s| s.seq == seq) else {
            return Intent::Nothing;
        };
        search.searching = false;
        search.more = hits.len() > SEARCH_SHOWN;
        search.hits = hits;
        search.hits.truncate(SEARCH_SHOWN);
        search.selected = 0;
        let now = search.input.value().trim().to_owned();
        if std::mem::take(&mut search.again) && search.searched.as_deref() != Some(now.as_str()) {
            return search.look_up_as_typed();
        }
        if std::mem::take(&mut search.entered) {
            return self.enter();
        }
        Intent::Nothing
    }

    /// Enter in the search box: to the results; with nothing found, out of the box, saying so; with
    /// nothing typed, out of the box. Before the answer, when it comes.
    fn enter(&mut self) -> Intent {
        let Some(search) = self.search.as_mut() else {
            return Intent::Nothing;
        };
        let query = search.input.value().trim().to_owned();
        if query.is_empty() {
            self.search = None;
        } else if search.searching {
            search.entered = true;
        } else if !search.hits.is_empty() {
            search.editing = false;
        } else if query.chars().count() < 2 {
            return Intent::Say("type at least two characters to search".to_owned());
        } else if search.searched.as_deref() == Some(query.as_str()) {
            self.search = None;
            return Intent::Say(format!("nobody matches \"{}\"", fit(&query, 40)));
        } else {
            search.entered = true;
            return search.look_up_as_typed();
        }
        Intent::Nothing
    }

    /// After a check-in or check-out from the search, the attendee's "inside" changes.
    pub fn mark_inside(&mut self, attendee: Uuid, inside: bool) {
        if let Some(search) = self.search.as_mut() {
            for hit in search.hits.iter_mut().filter(|h| h.id == attendee) {
                hit.inside = inside;
            }
        }
    }

    /// A key while a text box has the keyboard (`typing()`).
    pub fn type_key(&mut self, key: KeyEvent) -> Intent {
        if self.scan.on {
            return self.scan_key(key);
        }
        let Some(search) = self.search.as_mut() else {
            return Intent::NotMine;
        };
        match key.code {
            KeyCode::Esc if search.hits.is_empty() => self.search = None,
            KeyCode::Esc | KeyCode::Down | KeyCode::Tab if !search.hits.is_empty() => {
                search.editing = false;
            }
            KeyCode::Enter => return self.enter(),
            _ => {
                let before = search.input.value().to_owned();
                search.input.handle_event(&Event::Key(key));
                if search.input.value() != before {
                    return search.look_up_as_typed();
                }
            }
        }
        Intent::Nothing
    }

    fn scan_key(&mut self, key: KeyEvent) -> Intent {
        match key.code {
            KeyCode::Esc => {
                self.scan.on = false;
                self.scan.input.reset();
                Intent::Nothing
            }
            KeyCode::Enter => {
                let code = self.scan.input.value_and_reset();
                if code.trim().is_empty() {
                    return Intent::Nothing;
                }
                self.scan.in_flight += 1;
                Intent::Scan(code)
            }
            _ => {
                // A scanner types fast; anything it sends that is not text is ignored.
                self.scan.input.handle_event(&Event::Key(key));
                Intent::Nothing
            }
        }
    }

    /// An action from the keymap, outside the text boxes.
    pub fn act(&mut self, action: Action) -> Intent {
        let selected = self
            .search
            .as_ref()
            .and_then(|s| s.hits.get(s.selected).cloned());
        match action {
            Action::ScanMode => {
                self.search = None;
                self.scan.on = true;
                Intent::Nothing
            }
            Action::Filter => {
                let search = self.search.get_or_insert_with(Search::default);
                search.editing = true;
                Intent::Nothing
            }
            Action::CycleView => {
                self.search = None;
                self.show_gates = !self.show_gates;
                Intent::Nothing
            }
            Action::Back if self.show_gates && self.search.is_none() => {
                self.show_gates = false;
                Intent::Nothing
            }
            Action::Back if self.search.is_some() => {
                self.search = None;
                Intent::Nothing
            }
            Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom => {
                if let Some(search) = self.search.as_mut() {
                    let last = search.hits.len().saturating_sub(1);
                    search.selected = match action {
                        Action::Up => search.selected.saturating_sub(1),
                        Action::Down => (search.selected + 1).min(last),
                        Action::PageUp => search.selected.saturating_sub(10),
                        Action::PageDown => (search.selected + 10).min(last),
                        Action::Top => 0,
                        _ => last,
                    };
                }
                Intent::Nothing
            }
            Action::CheckIn | Action::CheckOut => match selected {
                Some(hit) if action == Action::CheckIn => Intent::CheckIn(hit),
                Some(hit) => Intent::CheckOut(hit),
                None => Intent::Say("search for the attendee first: press /".to_owned()),
            },
            Action::Acknowledge => match self.gates.to_acknowledge() {
                Some(alert) => Intent::Acknowledge(alert.clone()),
                None if self.gates.alerts.is_empty() => {
                    Intent::Say("no gate alert is open".to_owned())
                }
                None => Intent::Say("every open gate alert is acknowledged already".to_owned()),
            },
            _ => Intent::NotMine,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use crossterm::event::KeyModifiers;

    #[test]
    fn every_attendee_status_reads_back_from_its_word() {
        assert_eq!(
            crate::desks::words::round_trip::<AttendeeStatus>(),
            ["registered", "waitlisted", "cancelled"]
        );
    }

    #[test]
    fn every_refusal_reads_back_from_its_word_and_fits_its_column() {
        let words = crate::desks::words::round_trip::<Refusal>();
        assert_eq!(words.len(), 10);
        for refusal in Refusal::ALL {
            assert!(refusal.label().chars().count() <= 12, "{refusal}");
        }
        // From a realtime batch's JSON, as from a row: an unknown word fails in the same sentence.
        let read: Refusal = serde_json::from_str("\"session_full\"").expect("a known word");
        assert_eq!(read, Refusal::SessionFull);
        let unknown = serde_json::from_str::<Refusal>("\"gremlins\"").expect_err("unknown");
        assert!(
            unknown
                .to_string()
                .contains("refused_scans.reason_code holds \"gremlins\""),
            "{unknown}"
        );
    }

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn row(n: u128, minute: u32) -> CheckinRow {
        CheckinRow {
            id: Uuid::from_u128(n),
            attendee_id: Uuid::from_u128(1000 + n),
            name: format!("Guest {n}"),
            ticket_type: Some("General".into()),
            gate: Some("North Gate".into()),
            method: Some("qr_code".into()),
            session: None,
            at: Utc
                .with_ymd_and_hms(2026, 11, 25, 9, minute, 0)
                .single()
                .expect("valid"),
            out_at: None,
        }
    }

    #[test]
    fn a_scanner_types_a_code_and_enter_checks_it_in() {
        let mut desk = CheckinsDesk::default();
        assert_eq!(desk.act(Action::ScanMode), Intent::Nothing);
        assert!(desk.typing());
        for c in "ABC-123".chars() {
            assert_eq!(desk.type_key(key(KeyCode::Char(c))), Intent::Nothing);
        }
        assert_eq!(
            desk.type_key(key(KeyCode::Enter)),
            Intent::Scan("ABC-123".into())
        );
        assert_eq!(
            desk.scan.input.value(),
            "",
            "the box is ready for the next code"
        );
        assert!(desk.scan.on, "scan mode stays on");
        assert_eq!(
            desk.type_key(key(KeyCode::Enter)),
            Intent::Nothing,
            "an empty Enter does nothing"
        );
        desk.type_key(key(KeyCode::Esc));
        assert!(!desk.typing());
    }

    #[test]
    fn q_inside_the_scan_box_is_part_of_the_code() {
        let mut desk = CheckinsDesk::default();
        desk.act(Action::ScanMode);
        desk.type_key(key(KeyCode::Char('q')));
        assert_eq!(desk.scan.input.value(), "q");
    }

    #[test]
    fn merging_replaces_by_id_and_keeps_newest_first() {
        let mut desk = CheckinsDesk::default();
        desk.merge_checkins(vec![row(1, 1), row(2, 2)]);
        let mut out = row(1, 1);
        out.out_at = Some(out.at);
        desk.merge_checkins(vec![row(3, 3), out.clone()]);
        let ids: Vec<u128> = desk.feed.iter().map(|r| r.id.as_u128()).collect();
        assert_eq!(ids, vec![3, 2, 1]);
        assert_eq!(desk.feed[2], out);
    }

    fn refusal(id: i64, second: u32, reason_code: Refusal, code: &str) -> Problem {
        Problem {
            id,
            at: Utc
                .with_ymd_and_hms(2026, 11, 25, 9, 0, 0)
                .single()
                .expect("valid")
                + chrono::TimeDelta::seconds(i64::from(second)),
            gate: Some("North Gate".into()),
            reason_code,
            reason: "refused".into(),
            code: code.into(),
            first_gate: None,
            first_at: None,
            name: None,
        }
    }

    #[test]
    fn a_stuck_scanner_cannot_push_a_void_ticket_out_of_view() {
        let mut desk = CheckinsDesk::default();
        desk.merge_problems(vec![
            refusal(1, 0, Refusal::TicketVoid, "VOID-1"),
            refusal(2, 1, Refusal::TicketRefunded, "REF-1"),
        ]);
        // Later, one code repeated far past the list's length.
        desk.merge_problems(
            (0..(FEED_LIMIT + 100))
                .map(|i| refusal(10 + i, 10 + i as u32, Refusal::AlreadyCheckedIn, "STUCK"))
                .collect(),
        );
        let groups: Vec<(String, usize)> = desk
            .problem_groups()
            .into_iter()
            .map(|(p, n)| (p.code.clone(), n))
            .collect();
        assert_eq!(
            groups,
            vec![
                ("STUCK".to_owned(), FEED_LIMIT as usize),
                ("REF-1".to_owned(), 1),
                ("VOID-1".to_owned(), 1)
            ]
        );
        // Merging a row again (a snapshot after a batch) counts it once.
        desk.merge_problems(vec![refusal(1, 0, Refusal::TicketVoid, "VOID-1")]);
        assert_eq!(desk.problem_groups().len(), 3);
        assert_eq!(desk.problems.len(), FEED_LIMIT as usize + 2);
    }

    #[test]
    fn the_feed_never_grows_past_its_limit() {
        let mut desk = CheckinsDesk::default();
        desk.merge_checkins(
            (0..(FEED_LIMIT as u128 + 50))
                .map(|n| row(n, (n % 60) as u32))
                .collect(),
        );
        assert_eq!(desk.feed.len(), FEED_LIMIT as usize);
    }

    fn hit(n: u128, name: &str) -> AttendeeHit {
        AttendeeHit {
            id: Uuid::from_u128(n),
            name: name.into(),
            email: format!("{n}@example.org"),
            status: AttendeeStatus::Registered,
            tickets: String::new(),
            inside: false,
        }
    }

    #[test]
    fn a_search_follows_the_typing_one_at_a_time_and_drops_stale_answers() {
        let mut desk = CheckinsDesk::default();
        desk.act(Action::Filter);
        assert_eq!(desk.type_key(key(KeyCode::Char('a'))), Intent::Nothing);
        assert!(matches!(desk.type_key(key(KeyCode::Enter)), Intent::Say(_)));
        let Intent::Search { seq, query } = desk.type_key(key(KeyCode::Char('d'))) else {
            panic!("two characters search as they are typed");
        };
        assert_eq!(query, "ad");
        // Typed while that search is out: one more search when it answers, not one per key.
        assert_eq!(desk.type_key(key(KeyCode::Char('a'))), Intent::Nothing);
        assert_eq!(desk.searched(seq + 1, vec![]), Intent::Nothing);
        assert!(desk.search.as_ref().is_some_and(|s| s.searching));
        let Intent::Search { seq, query } = desk.searched(seq, vec![hit(7, "Adam Smith")]) else {
            panic!("the text changed meanwhile");
        };
        assert_eq!(query, "ada");
        assert_eq!(
            desk.searched(seq, vec![hit(8, "Ada Lovelace")]),
            Intent::Nothing
        );
        assert!(desk.typing(), "results come while typing goes on");
        desk.type_key(key(KeyCode::Enter));
        assert!(!desk.typing(), "Enter goes to the results");
        assert_eq!(
            desk.act(Action::CheckIn),
            Intent::CheckIn(hit(8, "Ada Lovelace"))
        );
        desk.act(Action::Back);
        assert!(desk.search.is_none());
    }

    #[test]
    fn enter_leaves_the_box_when_nothing_matched_or_nothing_was_typed() {
        let mut desk = CheckinsDesk::default();
        desk.act(Action::Filter);
        desk.type_key(key(KeyCode::Char('z')));
        let Intent::Search { seq, .. } = desk.type_key(key(KeyCode::Char('z'))) else {
            panic!("a search");
        };
        desk.searched(seq, vec![]);
        assert!(
            matches!(desk.type_key(key(KeyCode::Enter)), Intent::Say(s) if s == "nobody matches \"zz\"")
        );
        assert!(desk.search.is_none());
        desk.act(Action::Filter);
        desk.type_key(key(KeyCode::Enter));
        assert!(desk.search.is_none(), "an empty box closes");
    }

    #[test]
    fn enter_before_the_answer_takes_effect_when_it_comes() {
        let mut desk = CheckinsDesk::default();
        desk.act(Action::Filter);
        desk.type_key(key(KeyCode::Char('a')));
        let Intent::Search { seq, .. } = desk.type_key(key(KeyCode::Char('d'))) else {
            panic!("a search");
        };
        assert_eq!(desk.type_key(key(KeyCode::Enter)), Intent::Nothing);
        assert!(desk.typing(), "still in the box until the answer");
        desk.searched(seq, vec![hit(8, "Ada Lovelace")]);
        assert!(!desk.typing(), "the answer goes straight to the results");
    }

    #[test]
    fn a_search_that_matches_more_than_it_shows_says_so() {
        let mut desk = CheckinsDesk::default();
        desk.act(Action::Filter);
        desk.type_key(key(KeyCode::Char('a')));
        let Intent::Search { seq, .. } = desk.type_key(key(KeyCode::Char('d'))) else {
            panic!("expected a search");
        };
        let hits = (0..=SEARCH_SHOWN as u128)
            .map(|n| hit(n, &format!("Ada {n}")))
            .collect();
        desk.searched(seq, hits);
        let search = desk.search.as_ref().expect("the search");
        assert_eq!(search.hits.len(), SEARCH_SHOWN);
        assert!(search.more);
    }

    #[test]
    fn check_in_without_a_search_says_how() {
        let mut desk = CheckinsDesk::default();
        assert!(matches!(desk.act(Action::CheckIn), Intent::Say(_)));
    }
}

//! The Incidents desk's state and its pure update: the event's timeline as the database reads it, the
//! kind and the time span it is filtered to, and the selection.

use chrono::{DateTime, Duration, FixedOffset, Utc};
use crossterm::event::KeyEvent;

use super::keys::Action;
use crate::desks::list::ListNav;

/// The timeline is read again at most this often, however many changes are heard.
pub const READ_AT_MOST_EVERY: Duration = Duration::seconds(2);
/// ...and this often while the desk is in front (check-ins by hand come with the doors' batches, which
/// it does not hear one by one).
pub const READ_SHOWN_EVERY: Duration = Duration::seconds(5);

/// What a timeline row is about: the words `incident_timeline()` uses, in the order `k` steps through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Alerts,
    Doors,
    Exits,
    Sessions,
    Messages,
    Money,
    People,
    Outages,
    Notes,
}

impl Kind {
    pub const ALL: &'static [Kind] = &[
        Kind::Alerts,
        Kind::Doors,
        Kind::Exits,
        Kind::Sessions,
        Kind::Messages,
        Kind::Money,
        Kind::People,
        Kind::Outages,
        Kind::Notes,
    ];

    /// The database's word for it.
    pub fn word(self) -> &'static str {
        match self {
            Kind::Alerts => "alerts",
            Kind::Doors => "doors",
            Kind::Exits => "exits",
            Kind::Sessions => "sessions",
            Kind::Messages => "messages",
            Kind::Money => "money",
            Kind::People => "people",
            Kind::Outages => "outages",
            Kind::Notes => "notes",
        }
    }

    pub fn read(word: &str) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|k| k.word() == word)
    }

    /// The kinds shown when none is chosen: all but check-outs, which at a venue that scans people
    /// out are as many as the entries and would bury the rest.
    pub fn unchosen() -> impl Iterator<Item = Kind> {
        Kind::ALL.iter().copied().filter(|k| *k != Kind::Exits)
    }
}

/// How far back the timeline goes (`t` steps through them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Span {
    #[default]
    LastHour,
    Today,
    Everything,
}

impl Span {
    pub fn words(self) -> &'static str {
        match self {
            Span::LastHour => "the last hour",
            Span::Today => "today",
            Span::Everything => "the whole event",
        }
    }

    fn next(self) -> Span {
        match self {
            Span::LastHour => Span::Today,
            Span::Today => Span::Everything,
            Span::Everything => Span::LastHour,
        }
    }

    /// Where the span starts, for a timeline read at `now` at an event `offset` from UTC.
    pub fn since(self, now: DateTime<Utc>, offset: FixedOffset) -> Option<DateTime<Utc>> {
        match self {
            Span::LastHour => Some(now - Duration::hours(1)),
            Span::Today => now
                .with_timezone(&offset)
                .date_naive()
                .and_hms_opt(0, 0, 0)
                .and_then(|midnight| midnight.and_local_timezone(offset).single())
                .map(|t| t.with_timezone(&Utc)),
            Span::Everything => None,
        }
    }
}

/// One row of the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub at: DateTime<Utc>,
    pub kind: Kind,
    pub who: String,
    pub what: String,
}

#[derive(Debug, Clone, Default)]
pub struct IncidentsDesk {
    /// Newest first, as read.
    pub rows: Vec<Entry>,
    /// One kind only (None: every kind but exits, `Kind::unchosen`).
    pub kind: Option<Kind>,
    pub span: Span,
    pub nav: ListNav,
    pub loaded: bool,
    /// A read is called for; one is out; when the last was asked.
    pub wanted: bool,
    pub in_flight: bool,
    pub read_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    Nothing,
    NotMine,
    /// Ask for a note's text.
    Note,
}

impl IncidentsDesk {
    pub fn typing(&self) -> bool {
        self.nav.filtering
    }

    pub fn replace(&mut self, rows: Vec<Entry>) {
        self.rows = rows;
        self.loaded = true;
        let shown = self.visible().len();
        if self.nav.selected >= shown {
            self.nav.selected = shown.saturating_sub(1);
        }
    }

    /// The rows of the chosen kind that the `/` filter lets through (who or what, case-insensitive).
    /// The kind is applied here too, so that rows read for the previous kind never stand under the new
    /// one's title while its own are being read.
    pub fn visible(&self) -> Vec<&Entry> {
        let needle = self.nav.needle();
        self.rows
            .iter()
            .filter(|r| match self.kind {
                Some(kind) => r.kind == kind,
                None => Kind::unchosen().any(|k| k == r.kind),
            })
            .filter(|r| {
                needle.is_empty()
                    || r.what.to_lowercase().contains(&needle)
                    || r.who.to_lowercase().contains(&needle)
            })
            .collect()
    }

    pub fn selected_row(&self) -> Option<&Entry> {
        self.visible().get(self.nav.selected).copied()
    }

    /// Whether to read now: called for, none out, and not read within `READ_AT_MOST_EVERY` (a change
    /// of filter reads at once). Marks it out.
    pub fn take_read(&mut self, now: DateTime<Utc>) -> bool {
        let spaced = self
            .read_at
            .is_none_or(|at| now - at >= READ_AT_MOST_EVERY || !self.loaded);
        if !self.wanted || self.in_flight || !spaced {
            return false;
        }
        self.wanted = false;
        self.in_flight = true;
        self.read_at = Some(now);
        true
    }

    /// Each second: the timeline is due again every few seconds while it is in front.
    pub fn tick_at(&mut self, now: DateTime<Utc>, shown: bool) {
        if shown && self.read_at.is_none_or(|at| now - at >= READ_SHOWN_EVERY) {
            self.wanted = true;
        }
    }

    pub fn type_key(&mut self, key: KeyEvent) -> Intent {
        if !self.nav.filtering {
            return Intent::NotMine;
        }
        self.nav.type_key(key);
        Intent::Nothing
    }

    pub fn act(&mut self, action: Action) -> Intent {
        let len = self.visible().len();
        if self.nav.navigate(action.nav(), len) {
            return Intent::Nothing;
        }
        match action {
            Action::NextKind => {
                self.kind = match self.kind {
                    None => Kind::ALL.first().copied(),
                    Some(k) => Kind::ALL
                        .iter()
                        .position(|x| *x == k)
                        .and_then(|i| Kind::ALL.get(i + 1).copied()),
                };
                self.refilter();
                Intent::Nothing
            }
            Action::NextSpan => {
                self.span = self.span.next();
                self.refilter();
                Intent::Nothing
            }
            Action::Note => Intent::Note,
            _ => Intent::NotMine,
        }
    }

    /// Another kind or span: read at once, from the top.
    fn refilter(&mut self) {
        self.wanted = true;
        self.read_at = None;
        self.nav.selected = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, h, m, 0)
            .single()
            .expect("a time")
    }

    #[test]
    fn every_kind_reads_back_from_its_word() {
        for kind in Kind::ALL {
            assert_eq!(Kind::read(kind.word()), Some(*kind));
        }
        assert_eq!(Kind::read("gremlins"), None);
        assert!(
            Kind::unchosen().all(|k| k != Kind::Exits),
            "check-outs only when asked for"
        );
        assert_eq!(Kind::unchosen().count(), Kind::ALL.len() - 1);
    }

    #[test]
    fn k_steps_through_every_kind_then_all_and_t_through_the_spans() {
        let mut desk = IncidentsDesk::default();
        let mut seen = Vec::new();
        for _ in 0..=Kind::ALL.len() {
            desk.act(Action::NextKind);
            seen.push(desk.kind);
            assert!(desk.wanted, "another kind is read at once");
            assert!(desk.take_read(at(9, 0)));
            desk.in_flight = false;
        }
        assert_eq!(seen.last(), Some(&None), "after the last kind, every kind");
        assert_eq!(seen.len(), Kind::ALL.len() + 1);
        for span in [Span::Today, Span::Everything, Span::LastHour] {
            desk.act(Action::NextSpan);
            assert_eq!(desk.span, span);
        }
    }

    #[test]
    fn another_kind_shows_only_its_rows_before_they_are_read_again() {
        let entry = |kind, what: &str| Entry {
            at: at(9, 0),
            kind,
            who: "Olga Organizer".to_owned(),
            what: what.to_owned(),
        };
        let mut desk = IncidentsDesk::default();
        desk.replace(vec![
            entry(Kind::Notes, "note: side door alarm tested"),
            entry(Kind::Doors, "Alan Turing checked in by hand at Help desk"),
            entry(Kind::Exits, "Alan Turing checked out"),
        ]);
        let whats = |desk: &IncidentsDesk| -> Vec<String> {
            desk.visible().iter().map(|r| r.what.clone()).collect()
        };
        assert_eq!(
            whats(&desk),
            [
                "note: side door alarm tested",
                "Alan Turing checked in by hand at Help desk"
            ],
            "every kind but exits"
        );
        desk.act(Action::NextKind);
        assert_eq!(desk.kind, Some(Kind::Alerts));
        assert!(whats(&desk).is_empty(), "the doors' rows under alerts");
        desk.act(Action::NextKind);
        assert_eq!(
            whats(&desk),
            ["Alan Turing checked in by hand at Help desk"]
        );
    }

    #[test]
    fn the_spans_start_where_they_say_in_the_events_time() {
        let toronto = FixedOffset::west_opt(5 * 3600).expect("an offset");
        // 02:30 UTC is 21:30 the day before in Toronto: "today" began at 05:00 UTC the day before.
        let now = Utc
            .with_ymd_and_hms(2026, 12, 7, 2, 30, 0)
            .single()
            .expect("a time");
        assert_eq!(
            Span::LastHour.since(now, toronto),
            Some(now - Duration::hours(1))
        );
        assert_eq!(
            Span::Today.since(now, toronto),
            Utc.with_ymd_and_hms(2026, 12, 6, 5, 0, 0).single()
        );
        assert_eq!(Span::Everything.since(now, toronto), None);
    }

    #[test]
    fn changes_heard_are_read_at_most_every_two_seconds_and_every_five_in_front() {
        let mut desk = IncidentsDesk {
            loaded: true,
            read_at: Some(at(9, 0)),
            ..IncidentsDesk::default()
        };
        desk.wanted = true;
        assert!(!desk.take_read(at(9, 0)), "just read");
        assert!(desk.take_read(at(9, 0) + Duration::seconds(2)));
        desk.in_flight = false;
        desk.tick_at(at(9, 0) + Duration::seconds(4), true);
        assert!(!desk.wanted, "not due in front yet");
        desk.tick_at(at(9, 0) + Duration::seconds(7), false);
        assert!(!desk.wanted, "not in front: only what is heard");
        desk.tick_at(at(9, 0) + Duration::seconds(7), true);
        assert!(desk.wanted);
    }
}

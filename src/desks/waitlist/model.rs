//! The Waitlist desk's state and its pure update.

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;
use uuid::Uuid;

use super::keys::Action;
use crate::desks::desk::RowFetch;
use crate::desks::list::{self, ListNav};

crate::column_words! {
    /// Where a waiting-list entry is: waiting, then offered a place, then converted (took it), expired
    /// or cancelled.
    pub enum WaitStatus for event_waitlists.status {
        Waiting = "waiting",
        Offered = "offered",
        Converted = "converted",
        Expired = "expired",
        Cancelled = "cancelled",
    }
}

impl WaitStatus {
    /// Still in its queue: waiting, or offered a place.
    pub fn active(self) -> bool {
        matches!(self, WaitStatus::Waiting | WaitStatus::Offered)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct WaitRow {
    pub id: Uuid,
    /// None: the event's own queue.
    pub session_id: Option<Uuid>,
    pub session: Option<String>,
    pub session_start: Option<DateTime<Utc>>,
    pub position: Option<i32>,
    pub attendee: String,
    pub reason: Option<String>,
    pub status: WaitStatus,
    pub offered_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub notified_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl WaitRow {
    pub fn queue(&self) -> &str {
        self.session.as_deref().unwrap_or("Event")
    }

    pub fn active(&self) -> bool {
        self.status.active()
    }
}

/// Offers this close to expiring are counted on the Waitlist's tab and in its header: one number.
pub const EXPIRING_WITHIN_MINUTES: i64 = 10;
/// A queue: the event's (None) or a session's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queue {
    pub session: Option<Uuid>,
    pub name: String,
}

/// Who the next offer in a queue would go to, as the desk shows the queue now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub queue: Queue,
    pub attendee: String,
    pub position: Option<i32>,
    /// Waiting in the queue, the first one included.
    pub waiting: usize,
}

#[derive(Debug, Clone, Default)]
pub struct WaitlistDesk {
    pub rows: Vec<WaitRow>,
    pub nav: ListNav,
    /// Also the entries that ended in the last hour.
    pub history: bool,
    /// Only this session's queue (opened from the Sessions desk).
    pub only_session: Option<(Uuid, String)>,
    pub loaded: bool,
    /// Rows heard changed, to read again.
    pub fetch: RowFetch,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    Nothing,
    NotMine,
    OfferNext(Offer),
    Release(Queue),
    Extend(WaitRow),
    Cancel(WaitRow),
    Convert(WaitRow),
    Say(String),
}

impl WaitlistDesk {
    pub fn typing(&self) -> bool {
        self.nav.filtering
    }

    pub fn replace(&mut self, rows: Vec<WaitRow>) {
        let keep = self.selected_row().map(|r| r.id);
        self.rows = rows;
        self.loaded = true;
        self.arrange(keep);
    }

    pub fn merge(&mut self, requested: &[Uuid], changed: Vec<WaitRow>) {
        let keep = self.selected_row().map(|r| r.id);
        list::merge_by_id(&mut self.rows, requested, changed, |r| r.id);
        self.arrange(keep);
    }

    fn arrange(&mut self, keep: Option<Uuid>) {
        // The event's queue first, then sessions by start; in a queue, by position, ended last.
        self.rows.sort_by(|a, b| {
            (
                a.session_id.is_some(),
                a.session_start,
                a.queue(),
                !a.active(),
                a.position,
                a.updated_at,
            )
                .cmp(&(
                    b.session_id.is_some(),
                    b.session_start,
                    b.queue(),
                    !b.active(),
                    b.position,
                    b.updated_at,
                ))
        });
        let shown: Vec<Uuid> = self.visible().iter().map(|r| r.id).collect();
        self.nav.follow(keep, &shown);
    }

    pub fn visible(&self) -> Vec<&WaitRow> {
        let needle = self.nav.needle();
        self.rows
            .iter()
            .filter(|r| self.history || r.active())
            .filter(|r| {
                self.only_session
                    .as_ref()
                    .is_none_or(|(id, _)| r.session_id == Some(*id))
            })
            .filter(|r| {
                needle.is_empty()
                    || r.attendee.to_lowercase().contains(&needle)
                    || r.queue().to_lowercase().contains(&needle)
            })
            .collect()
    }

    pub fn selected_row(&self) -> Option<&WaitRow> {
        self.visible().get(self.nav.selected).copied()
    }

    /// Whether a countdown is on screen (the clock must tick every second).
    pub fn counting_down(&self) -> bool {
        self.visible()
            .iter()
            .any(|r| r.status == WaitStatus::Offered)
    }

    /// Offers expiring within `minutes` of `now` (expired ones not yet rolled on included).
    pub fn expiring_within(&self, now: DateTime<Utc>, minutes: i64) -> usize {
        self.rows
            .iter()
            .filter(|r| r.status == WaitStatus::Offered)
            .filter(|r| {
                r.expires_at
                    .is_some_and(|e| e - now <= chrono::Duration::minutes(minutes))
            })
            .count()
    }

    /// The entries waiting in `queue`, first in line first.
    fn waiting_in(&self, queue: &Queue) -> Vec<&WaitRow> {
        let mut waiting: Vec<&WaitRow> = self
            .rows
            .iter()
            .filter(|r| r.session_id == queue.session && r.status == WaitStatus::Waiting)
            .collect();
        waiting.sort_by_key(|r| (r.position.is_none(), r.position, r.created_at));
        waiting
    }

    fn selected_queue(&self) -> Option<Queue> {
        if let Some(row) = self.selected_row() {
            return Some(Queue {
                session: row.session_id,
                name: row.queue().to_owned(),
            });
        }
        self.only_session.as_ref().map(|(id, name)| Queue {
            session: Some(*id),
            name: name.clone(),
        })
    }

    pub fn type_key(&mut self, key: KeyEvent) -> Intent {
        self.nav.type_key(key);
        Intent::Nothing
    }

    pub fn act(&mut self, action: Action) -> Intent {
        let len = self.visible().len();
        if self.nav.navigate(action.nav(), len) {
            return Intent::Nothing;
        }
        let selected = self.selected_row().cloned();
        match action {
            Action::CycleView => {
                self.history = !self.history;
                self.nav.selected = 0;
            }
            Action::Back if self.only_session.is_some() => {
                self.only_session = None;
                self.nav.selected = 0;
            }
            Action::OfferNext | Action::Release => {
                let Some(queue) = self.selected_queue() else {
                    return Intent::Say("no queue here: select an entry first".to_owned());
                };
                if action == Action::Release {
                    return Intent::Release(queue);
                }
                let waiting = self.waiting_in(&queue);
                return match waiting.first() {
                    Some(first) => Intent::OfferNext(Offer {
                        attendee: first.attendee.clone(),
                        position: first.position,
                        waiting: waiting.len(),
                        queue,
                    }),
                    None => Intent::Say(format!("nobody is waiting in {}", queue.name)),
                };
            }
            Action::Extend | Action::ConvertOffer => match selected {
                Some(row) if row.status == WaitStatus::Offered => {
                    return if action == Action::Extend {
                        Intent::Extend(row)
                    } else {
                        Intent::Convert(row)
                    };
                }
                Some(row) => {
                    return Intent::Say(format!("this entry is {}, not offered", row.status));
                }
                None => {}
            },
            Action::CancelEntry => match selected {
                Some(row) if row.active() => return Intent::Cancel(row),
                Some(row) => return Intent::Say(format!("this entry is already {}", row.status)),
                None => {}
            },
            _ => return Intent::NotMine,
        }
        Intent::Nothing
    }
}

/// A whole number typed by the operator (places, minutes); empty means `default`. Which numbers are
/// allowed is the database's rule (`places_range`, `extension_range`), said in its refusal.
pub fn parse_count(text: &str, default: i32, what: &str) -> Result<i32, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(default);
    }
    match text.parse::<i64>() {
        Ok(n) => i32::try_from(n).map_err(|_| format!("{n} is too large a number of {what}")),
        Err(_) => Err(format!(
            "{:?} is not a whole number",
            crate::desks::fit(text, 20)
        )),
    }
}

/// "4:07" until expiry, "expired" after.
pub fn countdown(expires_at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let left = (expires_at - now).num_seconds();
    if left <= 0 {
        return "expired".to_owned();
    }
    if left >= 3600 {
        format!("{}h{:02}m", left / 3600, (left % 3600) / 60)
    } else {
        format!("{}:{:02}", left / 60, left % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 15, 0, 0)
            .single()
            .expect("valid")
    }

    fn entry(n: u128, session: Option<u128>, position: i32, status: WaitStatus) -> WaitRow {
        WaitRow {
            id: Uuid::from_u128(n),
            session_id: session.map(Uuid::from_u128),
            session: session.map(|s| format!("Session {s}")),
            session_start: session.map(|s| now() + Duration::minutes(s as i64)),
            position: Some(position),
            attendee: format!("Guest {n}"),
            reason: Some("session_full".into()),
            status,
            offered_at: (status == WaitStatus::Offered).then(now),
            expires_at: (status == WaitStatus::Offered).then(|| now() + Duration::minutes(5)),
            notified_at: None,
            created_at: now(),
            updated_at: now(),
        }
    }

    #[test]
    fn every_status_reads_back_from_its_word() {
        assert_eq!(
            crate::desks::words::round_trip::<WaitStatus>(),
            ["waiting", "offered", "converted", "expired", "cancelled"]
        );
    }

    #[test]
    fn queues_are_ordered_event_first_then_sessions_then_position() {
        let mut desk = WaitlistDesk::default();
        desk.replace(vec![
            entry(1, Some(20), 2, WaitStatus::Waiting),
            entry(2, Some(10), 1, WaitStatus::Offered),
            entry(3, None, 1, WaitStatus::Waiting),
            entry(4, Some(20), 1, WaitStatus::Waiting),
            entry(5, Some(20), 3, WaitStatus::Expired),
        ]);
        let ids: Vec<u128> = desk.visible().iter().map(|r| r.id.as_u128()).collect();
        assert_eq!(ids, vec![3, 2, 4, 1], "ended entries only with history");
        desk.act(Action::CycleView);
        assert_eq!(desk.visible().len(), 5);
    }

    #[test]
    fn a_session_filter_limits_the_queue_and_esc_clears_it() {
        let mut desk = WaitlistDesk::default();
        desk.replace(vec![
            entry(1, Some(20), 1, WaitStatus::Waiting),
            entry(2, None, 1, WaitStatus::Waiting),
        ]);
        desk.only_session = Some((Uuid::from_u128(20), "Session 20".into()));
        assert_eq!(desk.visible().len(), 1);
        assert!(
            matches!(desk.act(Action::OfferNext), Intent::OfferNext(o) if o.queue.session == Some(Uuid::from_u128(20)))
        );
        desk.act(Action::Back);
        assert_eq!(desk.visible().len(), 2);
    }

    #[test]
    fn offer_next_names_who_is_first_in_line_or_says_nobody_waits() {
        let mut desk = WaitlistDesk::default();
        desk.replace(vec![
            entry(1, Some(20), 2, WaitStatus::Waiting),
            entry(2, Some(20), 1, WaitStatus::Offered),
            entry(3, Some(20), 3, WaitStatus::Waiting),
            entry(4, None, 1, WaitStatus::Waiting),
        ]);
        desk.only_session = Some((Uuid::from_u128(20), "Session 20".into()));
        let Intent::OfferNext(offer) = desk.act(Action::OfferNext) else {
            panic!("an offer")
        };
        assert_eq!(offer.queue.session, Some(Uuid::from_u128(20)));
        assert_eq!(offer.position, Some(2), "the first still waiting");
        assert_eq!(
            offer.attendee,
            entry(1, Some(20), 2, WaitStatus::Waiting).attendee
        );
        assert_eq!(offer.waiting, 2);

        desk.replace(vec![entry(2, Some(20), 1, WaitStatus::Offered)]);
        assert!(
            matches!(desk.act(Action::OfferNext), Intent::Say(s) if s.contains("nobody is waiting")),
        );
    }

    #[test]
    fn only_offers_can_be_extended_or_converted() {
        let mut desk = WaitlistDesk::default();
        desk.replace(vec![entry(1, None, 1, WaitStatus::Waiting)]);
        assert!(matches!(desk.act(Action::Extend), Intent::Say(_)));
        assert!(matches!(desk.act(Action::ConvertOffer), Intent::Say(_)));
        assert!(matches!(desk.act(Action::CancelEntry), Intent::Cancel(_)));
    }

    #[test]
    fn countdowns_and_counts() {
        assert_eq!(countdown(now() + Duration::seconds(247), now()), "4:07");
        assert_eq!(countdown(now() - Duration::seconds(1), now()), "expired");
        assert_eq!(countdown(now() + Duration::minutes(125), now()), "2h05m");
        assert_eq!(parse_count("", 1, "places"), Ok(1));
        assert_eq!(parse_count("12", 1, "places"), Ok(12));
        // The database says which numbers it takes; the box only reads one.
        assert_eq!(parse_count("0", 1, "places"), Ok(0));
        assert!(parse_count("99999999999", 1, "places").is_err());
        assert!(parse_count("two", 1, "places").is_err());
        assert!(parse_count("-4294967295", 1, "places").is_err());
    }
}

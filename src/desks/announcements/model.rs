//! The Announcements desk's state and its pure update.

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;
use uuid::Uuid;

use super::keys::Action;
use crate::desks::desk::RowFetch;
use crate::desks::list::{self, ListNav};

crate::column_words! {
    /// Where an announcement is: a draft, scheduled, then sent, or cancelled. Sent and cancelled are
    /// final.
    pub enum AnnouncementStatus for event_announcements.status {
        Draft = "draft",
        Scheduled = "scheduled",
        Sent = "sent",
        Cancelled = "cancelled",
    }
}

impl AnnouncementStatus {
    /// Not yet sent or cancelled: it may still be sent, scheduled or cancelled.
    pub fn open(self) -> bool {
        matches!(
            self,
            AnnouncementStatus::Draft | AnnouncementStatus::Scheduled
        )
    }
}

crate::column_words! {
    /// How loud an announcement is, in the order the compose form offers them.
    pub enum Priority for event_announcements.priority {
        Low = "low",
        Normal = "normal",
        High = "high",
        Urgent = "urgent",
    }
}

crate::column_words! {
    /// Who an announcement is for, in the order the compose form offers them.
    pub enum Audience for event_announcements.target_audience {
        All = "all",
        Attendees = "attendees",
        Speakers = "speakers",
        Sponsors = "sponsors",
        Organizers = "organizers",
    }
}

crate::column_words! {
    /// A way an announcement reaches people, in the order the compose form offers them (keys 1 to 4).
    pub enum DeliveryMethod for event_announcements.delivery_method {
        Email = "email",
        Push = "push",
        InApp = "in_app",
        Sms = "sms",
    }
}

/// "push, in_app", or "no method chosen".
pub fn methods_said(methods: &[DeliveryMethod]) -> String {
    if methods.is_empty() {
        return "no method chosen".to_owned();
    }
    methods
        .iter()
        .map(|m| m.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// An urgent message to every attendee (audience all or attendees, none chosen counting as all, and no
/// session narrowing it): sending it needs the event's slug typed.
pub fn blast(priority: Priority, audience: Option<Audience>, narrowed: bool) -> bool {
    priority == Priority::Urgent
        && matches!(
            audience.unwrap_or(Audience::All),
            Audience::All | Audience::Attendees
        )
        && !narrowed
}

#[derive(Debug, Clone, PartialEq)]
pub struct AnnouncementRow {
    pub id: Uuid,
    pub title: String,
    pub content: String,
    pub priority: Priority,
    pub audience: Option<Audience>,
    pub target_sessions: Vec<Uuid>,
    pub methods: Vec<DeliveryMethod>,
    pub scheduled_for: Option<DateTime<Utc>>,
    pub sent_at: Option<DateTime<Utc>>,
    pub status: AnnouncementStatus,
    pub author: Option<String>,
    pub created_at: DateTime<Utc>,
    /// People it reaches: those it was queued for once sent, else announcement_reach() now.
    pub recipients: i64,
    pub session_titles: Vec<String>,
}

impl AnnouncementRow {
    /// The moment shown: when it went out, or when it is due.
    pub fn when(&self) -> Option<DateTime<Utc>> {
        self.sent_at.or(self.scheduled_for)
    }

    fn group(&self) -> u8 {
        match self.status {
            AnnouncementStatus::Draft => 0,
            AnnouncementStatus::Scheduled => 1,
            AnnouncementStatus::Sent => 2,
            AnnouncementStatus::Cancelled => 3,
        }
    }

    /// An urgent message to every attendee: sending it needs the event's slug typed (`blast`).
    pub fn blast(&self) -> bool {
        blast(
            self.priority,
            self.audience,
            !self.target_sessions.is_empty(),
        )
    }
}

#[derive(Debug, Clone, Default)]
pub struct AnnouncementsDesk {
    /// Draft, scheduled (soonest first), sent (newest first), cancelled.
    pub rows: Vec<AnnouncementRow>,
    pub nav: ListNav,
    pub loaded: bool,
    /// Rows heard changed, to read again.
    pub fetch: RowFetch,
    /// The compose form being saved, reopened as it was if the database refuses it.
    pub saving: Option<Box<super::compose::Compose>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    Nothing,
    NotMine,
    Compose,
    Edit(AnnouncementRow),
    SendNow(AnnouncementRow),
    Schedule(AnnouncementRow),
    Cancel(AnnouncementRow),
    Say(String),
}

impl AnnouncementsDesk {
    pub fn typing(&self) -> bool {
        self.nav.filtering
    }

    pub fn replace(&mut self, rows: Vec<AnnouncementRow>) {
        let keep = self.selected_row().map(|r| r.id);
        self.rows = rows;
        self.loaded = true;
        self.arrange(keep);
    }

    pub fn merge(&mut self, requested: &[Uuid], changed: Vec<AnnouncementRow>) {
        let was = self.selected_row().map(|r| (r.id, r.group()));
        list::merge_by_id(&mut self.rows, requested, changed, |r| r.id);
        // A message that moved to another group (a draft sent or cancelled) is not followed down the
        // list: the selection stays where it was, on the next draft, and the drafts stay in view.
        let keep = was
            .filter(|(id, group)| self.rows.iter().any(|r| r.id == *id && r.group() == *group))
            .map(|(id, _)| id);
        self.arrange(keep);
    }

    fn arrange(&mut self, keep: Option<Uuid>) {
        self.rows.sort_by(|a, b| {
            a.group().cmp(&b.group()).then_with(|| match a.group() {
                1 => a.scheduled_for.cmp(&b.scheduled_for),
                2 => b.sent_at.cmp(&a.sent_at),
                _ => b.created_at.cmp(&a.created_at),
            })
        });
        let shown: Vec<Uuid> = self.visible().iter().map(|r| r.id).collect();
        self.nav.follow(keep, &shown);
    }

    pub fn visible(&self) -> Vec<&AnnouncementRow> {
        let needle = self.nav.needle();
        self.rows
            .iter()
            .filter(|r| {
                needle.is_empty()
                    || r.title.to_lowercase().contains(&needle)
                    || r.status.as_str().contains(&needle)
                    || r.priority.as_str().contains(&needle)
            })
            .collect()
    }

    pub fn selected_row(&self) -> Option<&AnnouncementRow> {
        self.visible().get(self.nav.selected).copied()
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
            Action::NewAnnouncement => return Intent::Compose,
            Action::EditAnnouncement => match selected {
                Some(row) if row.status == AnnouncementStatus::Draft => return Intent::Edit(row),
                Some(row) => {
                    return Intent::Say(format!(
                        "only a draft can be edited; this one is {}",
                        row.status
                    ));
                }
                None => {}
            },
            Action::SendNow | Action::Schedule | Action::CancelAnnouncement => match selected {
                Some(row) if row.status.open() => {
                    return match action {
                        Action::SendNow => Intent::SendNow(row),
                        Action::Schedule => Intent::Schedule(row),
                        _ => Intent::Cancel(row),
                    };
                }
                Some(row) => {
                    return Intent::Say(format!(
                        "this announcement was {} and is final",
                        row.status
                    ));
                }
                None => {}
            },
            _ => return Intent::NotMine,
        }
        Intent::Nothing
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

    fn row(n: u128, status: AnnouncementStatus, minutes: i64) -> AnnouncementRow {
        AnnouncementRow {
            id: Uuid::from_u128(n),
            title: format!("A{n}"),
            content: "text".into(),
            priority: Priority::Normal,
            audience: Some(Audience::All),
            target_sessions: vec![],
            methods: vec![DeliveryMethod::Push],
            scheduled_for: (status == AnnouncementStatus::Scheduled)
                .then(|| now() + Duration::minutes(minutes)),
            sent_at: (status == AnnouncementStatus::Sent)
                .then(|| now() + Duration::minutes(minutes)),
            status,
            author: None,
            created_at: now() + Duration::minutes(minutes),
            recipients: 10,
            session_titles: vec![],
        }
    }

    #[test]
    fn every_status_reads_back_from_its_word() {
        assert_eq!(
            crate::desks::words::round_trip::<AnnouncementStatus>(),
            ["draft", "scheduled", "sent", "cancelled"]
        );
    }

    #[test]
    fn every_priority_reads_back_from_its_word() {
        assert_eq!(
            crate::desks::words::round_trip::<Priority>(),
            ["low", "normal", "high", "urgent"]
        );
    }

    #[test]
    fn every_audience_reads_back_from_its_word() {
        assert_eq!(
            crate::desks::words::round_trip::<Audience>(),
            ["all", "attendees", "speakers", "sponsors", "organizers"]
        );
    }

    #[test]
    fn every_delivery_method_reads_back_from_its_word_and_is_said_in_order() {
        assert_eq!(
            crate::desks::words::round_trip::<DeliveryMethod>(),
            ["email", "push", "in_app", "sms"]
        );
        assert_eq!(methods_said(&[]), "no method chosen");
        assert_eq!(
            methods_said(&[DeliveryMethod::Push, DeliveryMethod::InApp]),
            "push, in_app"
        );
    }

    #[test]
    fn a_sent_draft_is_not_followed_into_the_sent_list() {
        let mut desk = AnnouncementsDesk::default();
        desk.replace(vec![
            row(1, AnnouncementStatus::Draft, 0),
            row(2, AnnouncementStatus::Draft, -1),
            row(3, AnnouncementStatus::Sent, -30),
        ]);
        assert_eq!(desk.selected_row().map(|r| r.id.as_u128()), Some(1));
        let mut sent = row(1, AnnouncementStatus::Sent, -30);
        sent.sent_at = Some(now());
        desk.merge(&[Uuid::from_u128(1)], vec![sent]);
        assert_eq!(
            desk.selected_row().map(|r| r.id.as_u128()),
            Some(2),
            "the next draft, still at the top"
        );
        // A change that keeps its group (an edit) is followed.
        desk.act(Action::Down);
        let selected = desk.selected_row().map(|r| r.id);
        let edited = desk.selected_row().cloned().expect("a row");
        desk.merge(&[edited.id], vec![edited]);
        assert_eq!(desk.selected_row().map(|r| r.id), selected);
    }

    #[test]
    fn grouped_draft_scheduled_sent_cancelled() {
        let mut desk = AnnouncementsDesk::default();
        desk.replace(vec![
            row(1, AnnouncementStatus::Sent, -30),
            row(2, AnnouncementStatus::Scheduled, 60),
            row(3, AnnouncementStatus::Cancelled, 0),
            row(4, AnnouncementStatus::Sent, -5),
            row(5, AnnouncementStatus::Scheduled, 10),
            row(6, AnnouncementStatus::Draft, 0),
        ]);
        let ids: Vec<u128> = desk.rows.iter().map(|r| r.id.as_u128()).collect();
        assert_eq!(ids, vec![6, 5, 2, 4, 1, 3]);
    }

    #[test]
    fn sent_and_cancelled_are_final() {
        let mut desk = AnnouncementsDesk::default();
        desk.replace(vec![row(1, AnnouncementStatus::Sent, 0)]);
        assert!(matches!(desk.act(Action::SendNow), Intent::Say(s) if s.contains("final")));
        assert!(matches!(desk.act(Action::EditAnnouncement), Intent::Say(_)));
        assert_eq!(desk.act(Action::NewAnnouncement), Intent::Compose);
    }

    #[test]
    fn an_urgent_message_to_everyone_is_a_blast() {
        let mut r = row(1, AnnouncementStatus::Draft, 0);
        assert!(!r.blast());
        r.priority = Priority::Urgent;
        assert!(r.blast());
        r.audience = Some(Audience::Attendees);
        assert!(r.blast());
        r.target_sessions = vec![Uuid::from_u128(9)];
        assert!(!r.blast(), "a session's room is not everyone");
        r.target_sessions.clear();
        r.audience = Some(Audience::Speakers);
        assert!(!r.blast());
    }
}

//! Messages into the console's update, and the effects it asks for.

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;
use uuid::Uuid;

use crate::db::listen::{ListenerEvent, XidRange};
use crate::desks::Permissions;
use crate::desks::announcements::compose::Draft;
use crate::desks::announcements::model::AnnouncementRow;
use crate::desks::checkins::model::{
    AttendeeHit, BatchView, CheckinRow, Problem, ScanOutcome, Summary,
};
use crate::desks::expenses::model::ExpenseRow;
use crate::desks::sessions::model::SessionRow;
use crate::desks::waitlist::model::WaitRow;

/// Why an effect did not do what was asked: a rule's refusal or a failure, in one sentence.
pub use crate::db::Failure;

#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    /// A barcode scanner's burst (app::scanner): a code to check in, whatever is on screen.
    ScannerInput(String),
    /// A bracketed paste: text for the text box that has the keyboard, never keys for the desk.
    Paste(String),
    Resize,
    Tick(DateTime<Utc>),
    Listener(ListenerEvent),
    /// A batch pushed whole on the event's feed channel (V11), read by the listener's forwarder.
    Pushed(Box<BatchView>),
    Snapshot {
        generation: u64,
        result: Result<Box<Snapshot>, Failure>,
    },
    CheckinChanges {
        generation: u64,
        result: Result<Box<CheckinChanges>, Failure>,
    },
    Sessions {
        generation: u64,
        requested: Option<Vec<Uuid>>,
        result: Result<Vec<SessionRow>, Failure>,
    },
    Expenses {
        generation: u64,
        requested: Option<Vec<Uuid>>,
        result: Result<Vec<ExpenseRow>, Failure>,
    },
    Waitlist {
        generation: u64,
        requested: Option<Vec<Uuid>>,
        result: Result<Vec<WaitRow>, Failure>,
    },
    Announcements {
        generation: u64,
        requested: Option<Vec<Uuid>>,
        result: Result<Vec<AnnouncementRow>, Failure>,
    },
    Permissions(Result<(String, Permissions), Failure>),
    Scanned {
        code: String,
        result: Result<ScanOutcome, Failure>,
    },
    SearchDone {
        seq: u64,
        result: Result<Vec<AttendeeHit>, Failure>,
    },
    /// A data-changing action finished: the footer says so, or says why not.
    Done {
        done: Done,
        result: Result<(), Failure>,
    },
    /// A change the database has not answered within the limit for one query: it may still be applied
    /// (a frozen or overloaded server answers late), so its real answer is awaited and follows.
    StillWaiting {
        what: String,
    },
    /// SIGTERM, SIGHUP, Ctrl-C from outside.
    Quit,
}

/// What a finished action was, for its footer line and follow-up.
#[derive(Debug, Clone, PartialEq)]
pub enum Done {
    CheckedIn {
        attendee: Uuid,
        outcome_name: String,
    },
    CheckedOut {
        attendee: Uuid,
        name: String,
    },
    SessionStatus {
        title: String,
        status: String,
    },
    SessionCapacity {
        title: String,
        capacity: Option<i32>,
    },
    Expense {
        verb: &'static str,
        name: String,
    },
    /// Approvals of marked expenses, each on its own: how many went through, and why the rest did not.
    ApprovedMany {
        approved: usize,
        failed: Vec<(String, Failure)>,
    },
    Offered {
        queue: String,
        asked: i32,
        offered: usize,
    },
    Entry {
        verb: &'static str,
        attendee: String,
    },
    /// `id`: the row to read again at once, so the operator's own change shows without waiting for
    /// its hint.
    Announcement {
        verb: &'static str,
        title: String,
        id: Option<Uuid>,
    },
    /// The compose form's save (a refusal reopens the form).
    AnnouncementSaved {
        verb: &'static str,
        title: String,
        id: Option<Uuid>,
    },
}

/// Everything the desks show, read after LISTEN so no change is missed.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub summary: Summary,
    pub feed: Vec<CheckinRow>,
    pub problems: Vec<Problem>,
    pub sessions: Vec<SessionRow>,
    pub expenses: Vec<ExpenseRow>,
    pub waitlist: Vec<WaitRow>,
    pub announcements: Vec<AnnouncementRow>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CheckinChanges {
    /// Read when asked for (at most once a second).
    pub summary: Option<Summary>,
    /// How long the totals took to read, which spaces out the next read.
    pub summary_took: Option<std::time::Duration>,
    pub checkins: Vec<CheckinRow>,
    pub problems: Vec<Problem>,
    /// Sessions whose presence moved with these entries.
    pub sessions_touched: Vec<Uuid>,
}

/// Effects: run on tokio tasks through the pool; each answers with one Msg.
#[derive(Debug, Clone, PartialEq)]
pub enum Cmd {
    Snapshot {
        generation: u64,
        /// Whether the operator may read expenses (their permissions can change mid-shift).
        expenses: bool,
    },
    CheckinChanges {
        generation: u64,
        checkins: Option<XidRange>,
        problems: Option<XidRange>,
        /// The flusher's views of these batches cover the ranges (empty: read the ranges); the totals
        /// come with them.
        batches: Vec<i64>,
        /// Also read the totals.
        summary: bool,
    },
    Sessions {
        generation: u64,
        /// None: all of today's.
        ids: Option<Vec<Uuid>>,
    },
    Expenses {
        generation: u64,
        ids: Option<Vec<Uuid>>,
    },
    Waitlist {
        generation: u64,
        ids: Option<Vec<Uuid>>,
    },
    Announcements {
        generation: u64,
        ids: Option<Vec<Uuid>>,
    },
    Permissions,
    Scan {
        code: String,
    },
    Search {
        seq: u64,
        query: String,
    },
    CheckIn {
        attendee: Uuid,
        name: String,
    },
    CheckOut {
        attendee: Uuid,
        name: String,
    },
    SetSessionStatus {
        session: Uuid,
        title: String,
        status: String,
    },
    SetSessionCapacity {
        session: Uuid,
        title: String,
        capacity: Option<i32>,
    },
    ApproveExpense {
        expense: Uuid,
        name: String,
    },
    ApproveExpenses {
        expenses: Vec<(Uuid, String)>,
    },
    RejectExpense {
        expense: Uuid,
        name: String,
        reason: String,
    },
    MarkExpensePaid {
        expense: Uuid,
        name: String,
        /// None: the event's today, as the database reckons it.
        date: Option<chrono::NaiveDate>,
    },
    OfferNext {
        session: Option<Uuid>,
        queue: String,
        places: i32,
    },
    ExtendOffer {
        entry: Uuid,
        attendee: String,
        minutes: i32,
    },
    CancelEntry {
        entry: Uuid,
        attendee: String,
        reason: String,
    },
    ConvertOffer {
        entry: Uuid,
        attendee: String,
    },
    SaveAnnouncement {
        id: Option<Uuid>,
        draft: Draft,
        schedule: Option<chrono::DateTime<chrono::Utc>>,
    },
    SendAnnouncement {
        id: Uuid,
        title: String,
    },
    ScheduleAnnouncement {
        id: Uuid,
        title: String,
        at: chrono::DateTime<chrono::Utc>,
    },
    CancelAnnouncement {
        id: Uuid,
        title: String,
    },
}

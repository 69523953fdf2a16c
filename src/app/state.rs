//! The console's state and its pure update: `update(&mut State, Msg) -> Vec<Cmd>` never awaits.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, FixedOffset, Utc};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;
use uuid::Uuid;

use super::keymap::{self, Action};
use super::msg::{CheckinChanges, Cmd, Done, Msg};
use crate::db::listen::{Health, Hint, ListenerEvent, XidRange};
use crate::desks::announcements::compose::{Compose, Field, FormKey};
use crate::desks::announcements::model::{
    AnnouncementRow, AnnouncementsDesk, Intent as AnnouncementIntent,
};
use crate::desks::checkins::model::{
    BatchView, CheckinsDesk, Intent as CheckinIntent, ScanOutcome, Summary,
};
use crate::desks::expenses::model::{
    ExpenseRow, ExpensesDesk, Intent as ExpenseIntent, money, parse_payment_date,
};
use crate::desks::sessions::model::{
    Intent as SessionIntent, SessionRow, SessionsDesk, parse_capacity,
};
use crate::desks::waitlist::model::{
    Intent as WaitlistIntent, Queue, WaitRow, WaitlistDesk, parse_count,
};
use crate::desks::{DeskId, Permission, Permissions, clean, fit, local};

/// A reading of the check-in totals that cannot be timed counts as this slow.
const SUMMARY_UNTIMED: Duration = Duration::seconds(1);
/// Batches read by number in one call at most; more waiting (a console that fell behind) are read by
/// their ranges.
const BATCHES_BY_NUMBER: usize = 64;
/// Pushed batches remembered until their hints come (right after them, in the same delivery).
const PUSHED_KEPT: usize = 256;

/// Check-ins not announced for this long make the numbers stale (the flusher says so every second).
pub const STALE_AFTER: Duration = Duration::seconds(5);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventInfo {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub time_zone: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    pub name: String,
    /// Their team role at the event, or "administrator".
    pub role: String,
    /// Their profile (None for an administrator without one): their own expenses are not theirs to approve.
    pub profile: Option<Uuid>,
}

/// How far the screen can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Listening, the first snapshot not yet read.
    Connecting,
    Live,
    /// The listening connection broke; numbers are as of `since`.
    Reconnecting {
        since: DateTime<Utc>,
    },
    /// Connected, but changes have not been announced since `since` (no worker flushing, or a long
    /// transaction holding the horizon back).
    Stale {
        since: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Info,
    Good,
    Bad,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub tone: Tone,
}

#[derive(Debug, Clone)]
pub struct Confirm {
    pub title: String,
    pub lines: Vec<String>,
    pub cmd: Cmd,
    /// Cancel is focused until the operator moves to Confirm.
    pub yes_focused: bool,
    pub danger: bool,
}

/// What a prompt asks for; Enter validates it in place, then asks for confirmation.
#[derive(Debug, Clone)]
pub enum PromptKind {
    Capacity(SessionRow),
    RejectReason(ExpenseRow),
    PaymentDate(ExpenseRow),
    ReleasePlaces(Queue),
    ScheduleAt(AnnouncementRow),
    /// An urgent message to everyone: the event's slug typed is the confirmation.
    TypeSlug(AnnouncementRow, Option<DateTime<Utc>>),
    ExtendMinutes(WaitRow),
    CancelReason(WaitRow),
}

#[derive(Debug, Clone)]
pub struct Prompt {
    pub kind: PromptKind,
    pub input: Input,
    pub error: Option<String>,
}

impl Confirm {
    /// A change to confirm: Cancel focused.
    fn new(title: impl Into<String>, lines: Vec<String>, cmd: Cmd) -> Confirm {
        Confirm {
            title: title.into(),
            lines,
            cmd,
            yes_focused: false,
            danger: false,
        }
    }

    /// Drawn as a warning (cancelling, rejecting, urgent).
    fn dangerous(self) -> Confirm {
        self.dangerous_if(true)
    }

    fn dangerous_if(mut self, danger: bool) -> Confirm {
        self.danger = danger;
        self
    }
}

impl Prompt {
    fn new(kind: PromptKind) -> Prompt {
        Prompt {
            kind,
            input: Input::default(),
            error: None,
        }
    }

    /// The dialog's title, context lines, field label and the hint under the field.
    pub fn describe(&self, state: &State) -> (String, Vec<String>, &'static str, String) {
        match &self.kind {
            PromptKind::Capacity(session) => (
                "Change capacity".to_owned(),
                vec![
                    fit(&session.title, 56),
                    format!(
                        "now {}; registered {}, in the room {}",
                        session.max.map_or("no limit".to_owned(), |m| m.to_string()),
                        session.registered,
                        session.present
                    ),
                ],
                "New capacity: ",
                "a whole number, or none for no limit".to_owned(),
            ),
            PromptKind::RejectReason(expense) => (
                "Reject expense".to_owned(),
                expense_lines(expense),
                "Reason: ",
                "required: the submitter sees it".to_owned(),
            ),
            PromptKind::ScheduleAt(row) => (
                "Schedule announcement".to_owned(),
                vec![fit(&row.title, 56), format!("to {} people", row.recipients)],
                "Send at: ",
                "HH:MM today or YYYY-MM-DD HH:MM, event-local".to_owned(),
            ),
            PromptKind::TypeSlug(row, at) => (
                "URGENT to everyone".to_owned(),
                vec![
                    fit(&row.title, 56),
                    format!(
                        "goes {} to all {} people by {}",
                        at.map_or("now".to_owned(), |t| format!(
                            "at {}",
                            state.local(t, "%Y-%m-%d %H:%M")
                        )),
                        row.recipients,
                        row.methods.join(", ")
                    ),
                    format!("Type the event's slug ({}) to send it.", state.event.slug),
                ],
                "Slug: ",
                "anything else cancels nothing and sends nothing".to_owned(),
            ),
            PromptKind::ReleasePlaces(queue) => (
                "Release places".to_owned(),
                vec![format!(
                    "Offer places to the next people in {}",
                    fit(&queue.name, 40)
                )],
                "Places: ",
                "1 to 500; empty for 1".to_owned(),
            ),
            PromptKind::ExtendMinutes(entry) => (
                "Extend offer".to_owned(),
                vec![format!(
                    "{} in {}, expires {}",
                    fit(&entry.attendee, 30),
                    fit(entry.queue(), 24),
                    entry
                        .expires_at
                        .map(|t| state.local(t, "%H:%M:%S"))
                        .unwrap_or_default()
                )],
                "Extend by minutes: ",
                "1 to 1440; empty for 15".to_owned(),
            ),
            PromptKind::CancelReason(entry) => (
                "Cancel waitlist entry".to_owned(),
                vec![format!(
                    "{}, position {} in {}",
                    fit(&entry.attendee, 30),
                    entry.position.map_or("-".to_owned(), |p| p.to_string()),
                    fit(entry.queue(), 24)
                )],
                "Reason: ",
                "required: it is kept with the entry".to_owned(),
            ),
            PromptKind::PaymentDate(expense) => (
                "Mark paid".to_owned(),
                expense_lines(expense),
                "Paid on: ",
                format!(
                    "YYYY-MM-DD; empty for today ({})",
                    state.local(state.now, "%Y-%m-%d")
                ),
            ),
        }
    }
}

fn expense_lines(expense: &ExpenseRow) -> Vec<String> {
    vec![
        fit(&expense.name, 56),
        format!(
            "{} {}  {}  by {}",
            money(expense.amount),
            expense.currency,
            fit(expense.vendor.as_deref().unwrap_or("no vendor"), 24),
            fit(&expense.submitter, 24)
        ),
    ]
}

#[derive(Debug, Clone)]
pub enum Overlay {
    Help,
    Confirm(Box<Confirm>),
    Prompt(Box<Prompt>),
    Compose(Box<Compose>),
}

/// Hints heard since the last fetch, coalesced: one fetch per desk per frame.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pending {
    pub checkins: Option<XidRange>,
    pub problems: Option<XidRange>,
    /// The batches those ranges are, by number, while every hint named one.
    pub batches: BTreeSet<i64>,
    /// A range came without a batch number (a flusher before V11): the ranges are read.
    pub unbatched: bool,
    /// Batches already shown as pushed on the feed channel (their hints ask for nothing), the newest.
    pub pushed: BTreeSet<i64>,
    /// Totals only (attendees or tickets changed).
    pub summary: bool,
    pub sessions: BTreeSet<Uuid>,
    pub all_sessions: bool,
    pub expenses: BTreeSet<Uuid>,
    pub all_expenses: bool,
    pub waitlist: BTreeSet<Uuid>,
    pub all_waitlist: bool,
    pub announcements: BTreeSet<Uuid>,
    pub all_announcements: bool,
    pub permissions: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InFlight {
    pub snapshot: bool,
    pub checkins: bool,
    pub sessions: bool,
    pub expenses: bool,
    pub waitlist: bool,
    pub announcements: bool,
}

#[derive(Debug, Clone)]
pub struct State {
    pub now: DateTime<Utc>,
    pub offset: FixedOffset,
    pub event: EventInfo,
    pub operator: Operator,
    pub permissions: Permissions,
    pub desk: DeskId,
    pub link: Link,
    /// No worker has run lately: this console announces check-ins itself, and says what else waits.
    pub worker_missing: bool,
    /// Since when the oldest transaction holding check-ins back (open for more than two seconds) runs.
    pub held_back_since: Option<DateTime<Utc>>,
    /// Bumped by every full resync; answers to older requests are dropped.
    pub generation: u64,
    /// When the screen was last known to equal the database.
    pub fresh_at: Option<DateTime<Utc>>,
    pub checkins: CheckinsDesk,
    pub sessions: SessionsDesk,
    pub expenses: ExpensesDesk,
    pub waitlist: WaitlistDesk,
    pub announcements: AnnouncementsDesk,
    pub overlay: Option<Overlay>,
    pub notice: Option<Notice>,
    pub pending: Pending,
    pub in_flight: InFlight,
    /// When the check-in totals were last asked for, and how long they took to read.
    pub summary_at: Option<DateTime<Utc>>,
    pub summary_took: Duration,
    /// The compose form being saved, reopened if the database refuses it.
    pub saving: Option<Box<Compose>>,
    /// The listener is connected and LISTENing.
    pub listening: bool,
    /// A failed snapshot is retried on the next tick.
    pub resync_due: bool,
    pub quit: bool,
    /// Ring the terminal bell with the next frame (a refusal).
    pub bell: bool,
    /// Something visible changed since the last frame.
    pub dirty: bool,
}

impl State {
    pub fn new(
        event: EventInfo,
        operator: Operator,
        permissions: Permissions,
        offset: FixedOffset,
        now: DateTime<Utc>,
    ) -> State {
        let desk = DeskId::ALL
            .into_iter()
            .find(|d| permissions.sees(*d))
            .unwrap_or(DeskId::Checkins);
        State {
            now,
            offset,
            event,
            operator,
            permissions,
            desk,
            link: Link::Connecting,
            worker_missing: false,
            held_back_since: None,
            generation: 0,
            fresh_at: None,
            checkins: CheckinsDesk::default(),
            sessions: SessionsDesk::default(),
            expenses: ExpensesDesk::default(),
            waitlist: WaitlistDesk::default(),
            announcements: AnnouncementsDesk::default(),
            overlay: None,
            notice: None,
            pending: Pending::default(),
            in_flight: InFlight::default(),
            resync_due: false,
            listening: false,
            saving: None,
            summary_at: None,
            summary_took: Duration::zero(),
            quit: false,
            bell: false,
            dirty: true,
        }
    }

    /// Whether a text box has the keyboard (single-key shortcuts are off, the scanner types freely).
    pub fn typing(&self) -> bool {
        match self.desk {
            DeskId::Checkins => self.checkins.typing(),
            DeskId::Sessions => self.sessions.typing(),
            DeskId::Expenses => self.expenses.typing(),
            DeskId::Waitlist => self.waitlist.typing(),
            DeskId::Announcements => self.announcements.typing(),
        }
    }

    fn say(&mut self, text: impl Into<String>, tone: Tone) {
        self.notice = Some(Notice {
            text: text.into(),
            tone,
        });
    }

    fn refuse(&mut self, permission: Permission) {
        let role = self.operator.role.clone();
        self.say(
            format!("your role ({role}) does not include {}", permission.words()),
            Tone::Bad,
        );
    }

    pub fn local(&self, at: DateTime<Utc>, format: &str) -> String {
        local(at, self.offset, format)
    }

    /// What the desks' views may know beyond their own desk.
    pub fn view_context(&self) -> crate::desks::Context<'_> {
        crate::desks::Context {
            now: self.now,
            offset: self.offset,
            permissions: &self.permissions,
            profile: self.operator.profile,
        }
    }
}

/// The pure update. Returns the effects to run.
pub fn update(state: &mut State, msg: Msg) -> Vec<Cmd> {
    let mut cmds = Vec::new();
    match msg {
        Msg::Key(key) => {
            state.dirty = true;
            key_pressed(state, key, &mut cmds);
        }
        Msg::Paste(text) => {
            state.dirty = true;
            pasted(state, &text, &mut cmds);
        }
        Msg::Resize => state.dirty = true,
        Msg::Tick(now) => tick(state, now, &mut cmds),
        Msg::Listener(event) => listener(state, event, &mut cmds),
        Msg::Pushed(view) => pushed(state, *view),
        Msg::Snapshot { generation, result } => {
            if generation != state.generation {
                return cmds;
            }
            state.in_flight.snapshot = false;
            state.dirty = true;
            match result {
                Ok(snapshot) => {
                    let snapshot = *snapshot;
                    state
                        .checkins
                        .replace(snapshot.summary, snapshot.feed, snapshot.problems);
                    state.sessions.replace(snapshot.sessions, state.now);
                    state.expenses.replace(snapshot.expenses);
                    state.waitlist.replace(snapshot.waitlist);
                    state.announcements.replace(snapshot.announcements);
                    state.fresh_at = Some(state.now);
                    if matches!(state.link, Link::Connecting | Link::Reconnecting { .. }) {
                        state.link = Link::Live;
                    }
                }
                Err(failure) => {
                    state.resync_due = true;
                    state.say(format!("cannot load the desks: {failure}"), Tone::Bad);
                }
            }
        }
        Msg::CheckinChanges { generation, result } => {
            if generation != state.generation {
                return cmds;
            }
            state.in_flight.checkins = false;
            state.dirty = true;
            match result {
                Ok(changes) => apply_checkin_changes(state, *changes),
                Err(failure) => {
                    state.resync_due = true;
                    state.say(format!("cannot read check-ins: {failure}"), Tone::Bad);
                }
            }
        }
        Msg::Sessions {
            generation,
            requested,
            result,
        } => rows_answer(
            state,
            generation,
            |f| &mut f.sessions,
            "sessions",
            result,
            |state, rows| match &requested {
                None => state.sessions.replace(rows, state.now),
                Some(ids) => state.sessions.merge(ids, rows, state.now),
            },
        ),
        Msg::Expenses {
            generation,
            requested,
            result,
        } => rows_answer(
            state,
            generation,
            |f| &mut f.expenses,
            "expenses",
            result,
            |state, rows| match &requested {
                None => state.expenses.replace(rows),
                Some(ids) => state.expenses.merge(ids, rows),
            },
        ),
        Msg::Waitlist {
            generation,
            requested,
            result,
        } => rows_answer(
            state,
            generation,
            |f| &mut f.waitlist,
            "the waitlists",
            result,
            |state, rows| match &requested {
                None => state.waitlist.replace(rows),
                Some(ids) => state.waitlist.merge(ids, rows),
            },
        ),
        Msg::Announcements {
            generation,
            requested,
            result,
        } => rows_answer(
            state,
            generation,
            |f| &mut f.announcements,
            "announcements",
            result,
            |state, rows| match &requested {
                None => state.announcements.replace(rows),
                Some(ids) => state.announcements.merge(ids, rows),
            },
        ),
        Msg::Permissions(result) => {
            state.dirty = true;
            match result {
                Ok((role, permissions)) => {
                    if permissions != state.permissions {
                        state.say(
                            format!("your permissions at this event changed (role: {role})"),
                            Tone::Info,
                        );
                    }
                    if permissions.sees(DeskId::Expenses)
                        != state.permissions.sees(DeskId::Expenses)
                    {
                        // Expenses came into view (or left it): load them (or drop them).
                        state.resync_due = true;
                    }
                    state.operator.role = role;
                    state.permissions = permissions;
                    if !state.permissions.sees(state.desk) {
                        state.desk = DeskId::Checkins;
                    }
                }
                Err(failure) => state.say(
                    format!("cannot read your permissions: {failure}"),
                    Tone::Bad,
                ),
            }
        }
        Msg::ScannerInput(code) => {
            state.dirty = true;
            if state.permissions.check_in {
                state.checkins.scan.in_flight += 1;
                cmds.push(Cmd::Scan { code });
            } else {
                let role = state.operator.role.clone();
                state.say(
                    format!(
                        "a scan ({}) arrived, but your role ({role}) cannot check people in: nothing was recorded",
                        fit(&clean(&code), 24)
                    ),
                    Tone::Bad,
                );
                state.bell = true;
            }
        }
        Msg::StillWaiting { what } => {
            state.dirty = true;
            state.say(
                format!(
                    "NO ANSWER YET for {what}: it may still go through, so do not repeat it; \
                     its result shows here when the database answers"
                ),
                Tone::Bad,
            );
        }
        Msg::Scanned { code, result } => {
            state.dirty = true;
            let outcome = match result {
                Ok(outcome) => outcome,
                // A refusal raised as an error (a permission) is REFUSED; no answer at all is FAILED.
                Err(failure) => ScanOutcome {
                    code: clean(&code),
                    accepted: false,
                    reason_code: failure.rule().map(str::to_owned),
                    message: Some(failure.sentence().to_owned()),
                    name: None,
                    ticket_type: None,
                    at: None,
                },
            };
            if outcome.accepted {
                let name = outcome.name.clone().unwrap_or_default();
                let ticket = outcome.ticket_type.clone().unwrap_or_default();
                state.say(format!("ACCEPTED {name} ({ticket})"), Tone::Good);
            } else {
                let why = outcome
                    .message
                    .clone()
                    .unwrap_or_else(|| "refused".to_owned());
                let verdict = if outcome.reason_code.is_some() {
                    "REFUSED"
                } else {
                    "FAILED"
                };
                state.say(
                    format!("{verdict} {}: {why}", fit(&clean(&code), 24)),
                    Tone::Bad,
                );
                state.bell = true;
            }
            state.checkins.scanned(outcome);
        }
        Msg::SearchDone { seq, result } => {
            state.dirty = true;
            match result {
                // "Nobody matches" is said in the search box itself, so no sentence outlives it.
                Ok(hits) => {
                    let next = state.checkins.searched(seq, hits);
                    checkin_intent(state, next, &mut cmds);
                }
                Err(failure) => {
                    let next = state.checkins.searched(seq, Vec::new());
                    state.say(failure.notice(), Tone::Bad);
                    checkin_intent(state, next, &mut cmds);
                }
            }
        }
        Msg::Done { done, result } => {
            state.dirty = true;
            match result {
                Ok(()) => {
                    let text = match &done {
                        Done::CheckedIn {
                            attendee,
                            outcome_name,
                        } => {
                            state.checkins.mark_inside(*attendee, true);
                            format!("checked in {outcome_name}")
                        }
                        Done::CheckedOut { attendee, name } => {
                            state.checkins.mark_inside(*attendee, false);
                            format!("checked out {name}")
                        }
                        Done::SessionStatus { title, status } => {
                            format!("{} is now {status}", fit(title, 40))
                        }
                        Done::Expense { verb, name } => format!("{verb} {}", fit(name, 50)),
                        Done::ApprovedMany { approved, failed } => {
                            let mut text = format!("approved {approved}");
                            if !failed.is_empty() {
                                let reasons: Vec<String> = failed
                                    .iter()
                                    .map(|(name, why)| format!("{}: {why}", fit(name, 24)))
                                    .collect();
                                text.push_str(&format!(
                                    "; {} not approved: {}",
                                    failed.len(),
                                    reasons.join("; ")
                                ));
                            }
                            if !failed.is_empty() {
                                state.say(text, Tone::Bad);
                                state.bell = true;
                                return cmds;
                            }
                            text
                        }
                        Done::Offered {
                            queue,
                            asked,
                            offered,
                        } => {
                            if *offered == 0 {
                                state.say(
                                    format!("nobody was offered a place in {}: no one is waiting, or no place is free", fit(queue, 30)),
                                    Tone::Info,
                                );
                                return cmds;
                            }
                            format!("offered {offered} of {asked} places in {}", fit(queue, 40))
                        }
                        Done::Announcement { verb, title, id }
                        | Done::AnnouncementSaved { verb, title, id } => {
                            // Read the row now: the operator's own change shows at once.
                            if let Some(id) = id {
                                state.pending.announcements.insert(*id);
                            }
                            format!("{verb}: {}", fit(title, 50))
                        }
                        Done::Entry { verb, attendee } => format!("{verb} {}", fit(attendee, 40)),
                        Done::SessionCapacity { title, capacity } => format!(
                            "{} now holds {}",
                            fit(title, 40),
                            capacity.map_or("any number".to_owned(), |c| c.to_string())
                        ),
                    };
                    state.say(text, Tone::Good);
                }
                Err(failure) => {
                    if matches!(done, Done::AnnouncementSaved { .. })
                        && let Some(form) = state.saving.take()
                        && state.overlay.is_none()
                    {
                        state.overlay = Some(Overlay::Compose(form));
                    }
                    state.say(failure.notice(), Tone::Bad);
                    state.bell = true;
                }
            }
            if matches!(done, Done::AnnouncementSaved { .. }) {
                state.saving = None;
            }
        }
        Msg::Quit => state.quit = true,
    }
    cmds
}

/// What a desk keyed by id must fetch: nothing (None), everything (Some(None)) or these rows.
fn take_pending(ids: &mut BTreeSet<Uuid>, all: &mut bool) -> Option<Option<Vec<Uuid>>> {
    if !*all && ids.is_empty() {
        return None;
    }
    let wanted = (!*all).then(|| ids.iter().copied().collect());
    *all = false;
    ids.clear();
    Some(wanted)
}

/// A list desk's rows: dropped when asked for before a resync, applied by `apply`, or a failure that
/// says so and resyncs on the next tick.
fn rows_answer<T>(
    state: &mut State,
    generation: u64,
    in_flight: fn(&mut InFlight) -> &mut bool,
    what: &str,
    result: Result<Vec<T>, super::msg::Failure>,
    apply: impl FnOnce(&mut State, Vec<T>),
) {
    if generation != state.generation {
        return;
    }
    *in_flight(&mut state.in_flight) = false;
    state.dirty = true;
    match result {
        Ok(rows) => apply(state, rows),
        Err(failure) => {
            state.resync_due = true;
            state.say(format!("cannot read {what}: {failure}"), Tone::Bad);
        }
    }
}

fn apply_checkin_changes(state: &mut State, changes: CheckinChanges) {
    if let Some(summary) = changes.summary
        && !older_than_shown(&summary, state.checkins.summary.as_ref())
    {
        state.checkins.summary = Some(summary);
    }
    if let Some(took) = changes.summary_took {
        state.summary_took = Duration::from_std(took).unwrap_or(SUMMARY_UNTIMED);
    }
    state.checkins.merge_checkins(changes.checkins);
    state.checkins.merge_problems(changes.problems);
    state.pending.sessions.extend(changes.sessions_touched);
}

/// A batch pushed whole on the feed channel: shown at once, and its hint then asks for nothing. Taken
/// only when nothing older is still to come (a snapshot or a fetch out, hints waiting): merged before
/// them, an entry could go back to an older state. Otherwise it is dropped and its hint fetches it.
fn pushed(state: &mut State, view: BatchView) {
    let in_order = state.link == Link::Live
        && !state.in_flight.snapshot
        && !state.in_flight.checkins
        && state.pending.checkins.is_none()
        && state.pending.problems.is_none();
    if view.event != state.event.id || !in_order {
        return;
    }
    let p = &mut state.pending;
    p.pushed.insert(view.batch);
    while p.pushed.len() > PUSHED_KEPT {
        p.pushed.pop_first();
    }
    state.dirty = true;
    apply_checkin_changes(
        state,
        CheckinChanges {
            summary: Some(view.summary),
            summary_took: None,
            checkins: view.checkins,
            problems: view.problems,
            sessions_touched: view.sessions,
        },
    );
}

/// Totals from an older batch than those on screen (a batch's view read after a fresher direct read)
/// would move the numbers back: they are dropped.
fn older_than_shown(summary: &Summary, shown: Option<&Summary>) -> bool {
    match (summary.batch, shown.and_then(|s| s.batch)) {
        (Some(new), Some(old)) => new < old,
        _ => false,
    }
}

/// The fetches the hints heard since the last frame call for: one per desk, none while one is out.
pub fn fetches(state: &mut State) -> Vec<Cmd> {
    let mut cmds = Vec::new();
    if state.in_flight.snapshot
        || matches!(state.link, Link::Connecting | Link::Reconnecting { .. })
    {
        return cmds;
    }
    let generation = state.generation;
    let p = &mut state.pending;
    // The totals are kept by the flusher (V9): a few index reads, so they come with every batch. Still
    // never more than a quarter of the time, should a server be slow to answer.
    let spacing = state.summary_took * 4;
    let by_number = !p.unbatched && !p.batches.is_empty() && p.batches.len() <= BATCHES_BY_NUMBER;
    let summary_due =
        by_number || (p.summary && state.summary_at.is_none_or(|at| state.now - at >= spacing));
    if !state.in_flight.checkins && (p.checkins.is_some() || p.problems.is_some() || summary_due) {
        let batches = std::mem::take(&mut p.batches);
        p.unbatched = false;
        cmds.push(Cmd::CheckinChanges {
            generation,
            checkins: p.checkins.take(),
            problems: p.problems.take(),
            batches: if by_number {
                batches.into_iter().collect()
            } else {
                Vec::new()
            },
            summary: summary_due,
        });
        if summary_due {
            p.summary = false;
            state.summary_at = Some(state.now);
        }
        state.in_flight.checkins = true;
    }
    if !state.in_flight.sessions
        && let Some(ids) = take_pending(&mut p.sessions, &mut p.all_sessions)
    {
        cmds.push(Cmd::Sessions { generation, ids });
        state.in_flight.sessions = true;
    }
    if !state.in_flight.expenses
        && let Some(ids) = take_pending(&mut p.expenses, &mut p.all_expenses)
    {
        cmds.push(Cmd::Expenses { generation, ids });
        state.in_flight.expenses = true;
    }
    if !state.in_flight.waitlist
        && let Some(ids) = take_pending(&mut p.waitlist, &mut p.all_waitlist)
    {
        cmds.push(Cmd::Waitlist { generation, ids });
        state.in_flight.waitlist = true;
    }
    if !state.in_flight.announcements
        && let Some(ids) = take_pending(&mut p.announcements, &mut p.all_announcements)
    {
        cmds.push(Cmd::Announcements { generation, ids });
        state.in_flight.announcements = true;
    }
    if p.permissions {
        p.permissions = false;
        cmds.push(Cmd::Permissions);
    }
    cmds
}

fn resync(state: &mut State, cmds: &mut Vec<Cmd>) {
    state.generation += 1;
    state.pending = Pending::default();
    state.in_flight = InFlight {
        snapshot: true,
        ..InFlight::default()
    };
    state.resync_due = false;
    cmds.push(Cmd::Snapshot {
        generation: state.generation,
        expenses: state.permissions.sees(DeskId::Expenses),
    });
}

fn tick(state: &mut State, now: DateTime<Utc>, cmds: &mut Vec<Cmd>) {
    let minute_changed = now.timestamp().div_euclid(60) != state.now.timestamp().div_euclid(60);
    let day_changed = state.local(now, "%F") != state.local(state.now, "%F");
    state.now = now;
    if minute_changed {
        // The clock shows minutes; sessions move from next to now to over; the numbers over a time
        // window (rates, the last hour, problems in 15 minutes, offers about to expire) age.
        state.dirty = true;
        let keep = state.sessions.selected_row().map(|r| r.id);
        state.sessions.arrange(now, keep);
        state.pending.summary = true;
    }
    if day_changed {
        // Past midnight at the event: today's sessions are another list.
        state.pending.all_sessions = true;
    }
    if state.desk == DeskId::Waitlist && state.waitlist.counting_down() && state.overlay.is_none() {
        // An offer's countdown is on screen.
        state.dirty = true;
    }
    // A failed load is retried once the listener is in place (LISTEN before snapshot).
    if state.resync_due && !state.in_flight.snapshot && state.listening {
        resync(state, cmds);
    }
}

fn listener(state: &mut State, event: ListenerEvent, cmds: &mut Vec<Cmd>) {
    match event {
        ListenerEvent::Connected => {
            state.dirty = true;
            state.listening = true;
            // LISTEN is in place: a snapshot read now misses nothing.
            resync(state, cmds);
        }
        ListenerEvent::Lost { reason } => {
            tracing::warn!(%reason, "realtime link lost");
            state.listening = false;
            // Whatever is still on its way was asked for on a link that is gone: drop it, so a
            // late snapshot cannot turn the header LIVE with nobody listening.
            state.generation += 1;
            state.in_flight = InFlight::default();
            if !matches!(state.link, Link::Reconnecting { .. }) {
                let since = state.fresh_at.unwrap_or(state.now);
                state.link = Link::Reconnecting { since };
                state.dirty = true;
            }
        }
        ListenerEvent::Hint(hint) => route(state, &hint),
        // The app's forwarder reads these into Msg::Pushed; a raw one is not expected here.
        ListenerEvent::Pushed(_) => {}
        ListenerEvent::Health(health) => healthy(state, health),
    }
}

const NO_WORKER: &str =
    "No worker: offers do not expire, scheduled announcements wait (eventos worker)";

fn healthy(state: &mut State, health: Health) {
    if let Some(offset) = FixedOffset::east_opt(health.utc_offset_secs)
        && offset != state.offset
    {
        state.offset = offset;
        state.dirty = true;
    }
    let before = state.link;
    let lagging = health
        .flushed_at
        .filter(|at| health.server_now - *at > STALE_AFTER);
    state.link = match (state.link, lagging) {
        (Link::Live, Some(since)) => Link::Stale { since },
        (Link::Stale { .. }, None) => Link::Live,
        (link, _) => link,
    };
    if state.link == Link::Live {
        state.fresh_at = Some(state.now);
    }
    if state.link != before {
        state.dirty = true;
    }
    let missing = health.worker_missing();
    if missing != state.worker_missing {
        state.worker_missing = missing;
        state.dirty = true;
        if missing {
            state.notice = Some(Notice {
                // One line at 80 columns; the header already says NO WORKER, and this console
                // announces check-ins itself meanwhile.
                text: NO_WORKER.to_owned(),
                tone: Tone::Bad,
            });
        } else if state.notice.as_ref().is_some_and(|n| n.text == NO_WORKER) {
            // A worker came (or came back): the warning goes with the cause.
            state.notice = None;
        }
    }
    let held_back_since = health.late_since.filter(|_| health.late_writers > 0);
    if held_back_since != state.held_back_since {
        state.held_back_since = held_back_since;
        state.dirty = true;
    }
}

/// Files a hint under the desk that must fetch for it.
pub fn route(state: &mut State, hint: &Hint) {
    let ours = match hint.table.as_str() {
        "events" => hint.id == Some(state.event.id),
        _ => hint.event_id == Some(state.event.id),
    };
    if !ours {
        return;
    }
    let p = &mut state.pending;
    match hint.table.as_str() {
        "event_checkins" | "refused_scans" => {
            if hint.batch.is_some_and(|b| p.pushed.contains(&b)) {
                // Already shown, pushed on the feed channel just before this hint.
                return;
            }
            if let Some(range) = hint.xid_range() {
                let pending = if hint.table == "event_checkins" {
                    &mut p.checkins
                } else {
                    &mut p.problems
                };
                *pending = Some(match pending.take() {
                    Some(r) => r.merge(range),
                    None => range,
                });
                match hint.batch {
                    Some(batch) => {
                        p.batches.insert(batch);
                    }
                    None => p.unbatched = true,
                }
            }
            p.summary = true;
        }
        "sessions" => match hint.id {
            Some(id) => {
                p.sessions.insert(id);
            }
            None => p.all_sessions = true,
        },
        "attendees" | "tickets" => p.summary = true,
        "event_waitlists" => {
            match hint.id {
                Some(id) => {
                    p.waitlist.insert(id);
                }
                None => p.all_waitlist = true,
            }
            // Waiting counts live on the sessions rows' line.
            p.all_sessions = true;
        }
        "event_expenses" => match hint.id {
            Some(id) => {
                p.expenses.insert(id);
            }
            None => p.all_expenses = true,
        },
        "event_announcements" => match hint.id {
            Some(id) => {
                p.announcements.insert(id);
            }
            None => p.all_announcements = true,
        },
        // Recipient counts follow who is registered and present.
        "session_registrations" => p.all_announcements = true,
        "event_teams" => p.permissions = true,
        _ => {}
    }
}

/// The longest paste a text box takes (the longest field, an announcement's content, holds 5,000).
const PASTE_MAX: usize = 5_000;

/// What a text box refuses to hold: control characters (an escape sequence among them could drive a
/// terminal wherever the text is shown later, and PostgreSQL cannot store NUL). Line breaks are the
/// multi-line content's own business.
fn refused_char(c: char) -> bool {
    c.is_control()
}

/// A control character typed: one sentence, nothing changes.
fn refuse_control(state: &mut State, c: char) {
    state.say(
        format!(
            "control characters cannot be typed (U+{:04X} was refused): nothing changed",
            u32::from(c)
        ),
        Tone::Bad,
    );
}

/// A bracketed paste: the text goes into the text box that has the keyboard, as text (never as the
/// desk's keys: a pasted "x y" must not cancel a session), or is refused whole with one sentence.
fn pasted(state: &mut State, text: &str, cmds: &mut Vec<Cmd>) {
    // A copied code or line often ends in a line break; it is not part of the text.
    let text = text.trim_end_matches(['\r', '\n']);
    let multi_line =
        matches!(&state.overlay, Some(Overlay::Compose(form)) if form.field() == Field::Content);
    let text = if multi_line {
        text.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        text.to_owned()
    };
    let accepts = match &state.overlay {
        Some(Overlay::Prompt(_)) => true,
        Some(Overlay::Compose(form)) => matches!(
            form.field(),
            Field::Title | Field::Content | Field::Sessions | Field::Schedule
        ),
        Some(Overlay::Help | Overlay::Confirm(_)) => false,
        None => state.typing(),
    };
    if !accepts {
        state.say(
            "a paste goes into a text box (s scans, / searches or filters): nothing was typed",
            Tone::Info,
        );
        return;
    }
    let length = text.chars().count();
    if length > PASTE_MAX {
        state.say(
            format!("a paste of {length} characters is too long (at most {PASTE_MAX}): nothing was typed"),
            Tone::Bad,
        );
        return;
    }
    if let Some(c) = text
        .chars()
        .find(|c| refused_char(*c) && !(multi_line && *c == '\n'))
    {
        state.say(
            format!(
                "the paste holds a control character (U+{:04X}, perhaps an escape sequence): nothing was typed",
                u32::from(c)
            ),
            Tone::Bad,
        );
        return;
    }
    for c in text.chars() {
        let code = if c == '\n' {
            KeyCode::Enter
        } else {
            KeyCode::Char(c)
        };
        typed(state, KeyEvent::new(code, KeyModifiers::NONE), cmds);
    }
}

fn key_pressed(state: &mut State, key: KeyEvent, cmds: &mut Vec<Cmd>) {
    if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
        state.quit = true;
        return;
    }
    if let KeyCode::Char(c) = key.code
        && refused_char(c)
    {
        refuse_control(state, c);
        return;
    }
    typed(state, key, cmds);
}

/// A key that may be text: into the open dialog or text box, else the desk's keys.
fn typed(state: &mut State, key: KeyEvent, cmds: &mut Vec<Cmd>) {
    if let Some(overlay) = state.overlay.take() {
        state.overlay = overlay_key(state, overlay, key, cmds);
        return;
    }
    if state.typing() {
        match state.desk {
            DeskId::Checkins => {
                let intent = state.checkins.type_key(key);
                checkin_intent(state, intent, cmds);
            }
            DeskId::Sessions => {
                let intent = state.sessions.type_key(key);
                session_intent(state, intent);
            }
            DeskId::Expenses => {
                let intent = state.expenses.type_key(key);
                expense_intent(state, intent);
            }
            DeskId::Waitlist => {
                let intent = state.waitlist.type_key(key);
                waitlist_intent(state, intent);
            }
            DeskId::Announcements => {
                let intent = state.announcements.type_key(key);
                announcement_intent(state, intent);
            }
        }
        return;
    }
    let Some(binding) = keymap::lookup(state.desk, &key) else {
        if let KeyCode::Char(c) = key.code {
            state.say(
                format!(
                    "{c} does nothing on the {} desk; ? shows its keys",
                    state.desk.title()
                ),
                Tone::Info,
            );
        }
        return;
    };
    if let Some(permission) = binding.needs
        && !state.permissions.has(permission)
    {
        state.refuse(permission);
        return;
    }
    state.notice = None;
    match binding.action {
        Action::Quit => state.quit = true,
        Action::Help => state.overlay = Some(Overlay::Help),
        Action::Desk(desk) => open_desk(state, desk),
        Action::NextDesk | Action::PrevDesk => {
            let visible: Vec<DeskId> = DeskId::ALL
                .into_iter()
                .filter(|d| state.permissions.sees(*d))
                .collect();
            let at = visible.iter().position(|d| *d == state.desk).unwrap_or(0);
            let next = if binding.action == Action::NextDesk {
                (at + 1) % visible.len().max(1)
            } else {
                (at + visible.len().max(1) - 1) % visible.len().max(1)
            };
            if let Some(desk) = visible.get(next) {
                state.desk = *desk;
            }
        }
        action => match state.desk {
            DeskId::Checkins => {
                let intent = state.checkins.act(action);
                checkin_intent(state, intent, cmds);
            }
            DeskId::Sessions => {
                let intent = state.sessions.act(action);
                session_intent(state, intent);
            }
            DeskId::Expenses => {
                let me = state.operator.profile;
                let intent = state.expenses.act(action, me);
                expense_intent(state, intent);
            }
            DeskId::Waitlist => {
                let intent = state.waitlist.act(action);
                waitlist_intent(state, intent);
            }
            DeskId::Announcements => {
                let intent = state.announcements.act(action);
                announcement_intent(state, intent);
            }
        },
    }
}

fn open_desk(state: &mut State, desk: DeskId) {
    if state.permissions.sees(desk) {
        state.desk = desk;
    } else {
        let role = state.operator.role.clone();
        state.say(
            format!("your role ({role}) cannot see the {} desk", desk.title()),
            Tone::Bad,
        );
    }
}

fn checkin_intent(state: &mut State, intent: CheckinIntent, cmds: &mut Vec<Cmd>) {
    match intent {
        CheckinIntent::Nothing | CheckinIntent::NotMine => {}
        CheckinIntent::Say(text) => state.say(text, Tone::Info),
        CheckinIntent::Scan(code) => {
            if state.permissions.check_in {
                cmds.push(Cmd::Scan { code });
            } else {
                state.checkins.scan.in_flight = state.checkins.scan.in_flight.saturating_sub(1);
                state.refuse(Permission::CheckIn);
            }
        }
        CheckinIntent::Search { seq, query } => cmds.push(Cmd::Search { seq, query }),
        CheckinIntent::CheckIn(hit) => {
            let mut lines = vec![
                format!("Check in {}?", fit(&hit.name, 40)),
                format!(
                    "{}  tickets: {}",
                    fit(&hit.email, 30),
                    fit(&hit.tickets, 30)
                ),
            ];
            if hit.inside {
                lines.push("The database says they are inside already.".to_owned());
            }
            state.overlay = Some(Overlay::Confirm(Box::new(Confirm::new(
                "Manual check-in",
                lines,
                Cmd::CheckIn {
                    attendee: hit.id,
                    name: hit.name,
                },
            ))));
        }
        CheckinIntent::CheckOut(hit) => {
            state.overlay = Some(Overlay::Confirm(Box::new(Confirm::new(
                "Check out",
                vec![
                    format!("Check {} out of the event?", fit(&hit.name, 40)),
                    "They leave the Present count; a later scan lets them in again.".to_owned(),
                ],
                Cmd::CheckOut {
                    attendee: hit.id,
                    name: hit.name,
                },
            ))));
        }
    }
}

fn session_intent(state: &mut State, intent: SessionIntent) {
    match intent {
        SessionIntent::Nothing | SessionIntent::NotMine => {}
        SessionIntent::SetStatus { session, status } => {
            if session.status == status {
                state.say(
                    format!("{} is already {status}", fit(&session.title, 40)),
                    Tone::Info,
                );
                return;
            }
            let mut lines = vec![
                format!("{}", fit(&session.title, 56)),
                format!(
                    "{}-{}  {}  now {}",
                    state.local(session.start, "%H:%M"),
                    state.local(session.end, "%H:%M"),
                    session.room.as_deref().unwrap_or("no room"),
                    session.status
                ),
            ];
            let danger = status == "cancelled";
            if danger {
                lines.push(format!(
                    "{} registered and {} waiting will be affected.",
                    session.registered, session.waiting
                ));
            }
            state.overlay = Some(Overlay::Confirm(Box::new(
                Confirm::new(
                    format!("Set session {status}"),
                    lines,
                    Cmd::SetSessionStatus {
                        session: session.id,
                        title: session.title,
                        status: status.to_owned(),
                    },
                )
                .dangerous_if(danger),
            )));
        }
        SessionIntent::AskCapacity(session) => {
            state.overlay = Some(Overlay::Prompt(Box::new(Prompt::new(
                PromptKind::Capacity(session),
            ))));
        }
        SessionIntent::OpenWaitlist(session) => {
            state.waitlist.only_session = Some((session.id, session.title));
            state.waitlist.nav.selected = 0;
            open_desk(state, DeskId::Waitlist);
        }
    }
}

fn expense_intent(state: &mut State, intent: ExpenseIntent) {
    match intent {
        ExpenseIntent::Nothing | ExpenseIntent::NotMine => {}
        ExpenseIntent::Say(text) => state.say(text, Tone::Info),
        ExpenseIntent::Approve(expense) => {
            let mut lines = expense_lines(&expense);
            lines.insert(0, "Approve this expense?".to_owned());
            state.overlay = Some(Overlay::Confirm(Box::new(Confirm::new(
                "Approve expense",
                lines,
                Cmd::ApproveExpense {
                    expense: expense.id,
                    name: expense.name,
                },
            ))));
        }
        ExpenseIntent::ApproveMany(expenses) => {
            let mut totals: std::collections::BTreeMap<String, rust_decimal::Decimal> =
                std::collections::BTreeMap::new();
            for e in &expenses {
                *totals.entry(e.currency.clone()).or_default() += e.amount;
            }
            let sum: Vec<String> = totals
                .iter()
                .map(|(currency, amount)| format!("{} {currency}", money(*amount)))
                .collect();
            let mine = expenses
                .iter()
                .filter(|e| {
                    state.operator.profile.is_some() && e.created_by == state.operator.profile
                })
                .count();
            let mut lines = vec![
                format!("Approve {} marked expenses?", expenses.len()),
                format!("Total {}", sum.join(" + ")),
                "Each is approved on its own; any refusal is listed after.".to_owned(),
            ];
            if mine > 0 {
                lines.push(format!(
                    "{mine} of them are yours: those will be refused (four eyes)."
                ));
            }
            state.overlay = Some(Overlay::Confirm(Box::new(Confirm::new(
                "Approve marked",
                lines,
                Cmd::ApproveExpenses {
                    expenses: expenses.into_iter().map(|e| (e.id, e.name)).collect(),
                },
            ))));
        }
        ExpenseIntent::Reject(expense) => {
            state.overlay = Some(Overlay::Prompt(Box::new(Prompt::new(
                PromptKind::RejectReason(expense),
            ))));
        }
        ExpenseIntent::MarkPaid(expense) => {
            state.overlay = Some(Overlay::Prompt(Box::new(Prompt::new(
                PromptKind::PaymentDate(expense),
            ))));
        }
    }
}

fn announcement_intent(state: &mut State, intent: AnnouncementIntent) {
    match intent {
        AnnouncementIntent::Nothing | AnnouncementIntent::NotMine => {}
        AnnouncementIntent::Say(text) => state.say(text, Tone::Info),
        AnnouncementIntent::Compose => {
            state.overlay = Some(Overlay::Compose(Box::default()));
        }
        AnnouncementIntent::Edit(row) => {
            state.overlay = Some(Overlay::Compose(Box::new(Compose::edit(
                &row,
                &state.sessions.rows,
                state.offset,
            ))));
        }
        AnnouncementIntent::SendNow(row) => {
            if row.blast() {
                state.overlay = Some(Overlay::Prompt(Box::new(Prompt::new(
                    PromptKind::TypeSlug(row, None),
                ))));
                return;
            }
            state.overlay = Some(Overlay::Confirm(Box::new(
                Confirm::new(
                    "Send now",
                    vec![
                        fit(&row.title, 56),
                        format!(
                            "{} to {} ({} people) by {}",
                            row.priority,
                            row.audience.as_deref().unwrap_or("nobody chosen"),
                            row.recipients,
                            if row.methods.is_empty() {
                                "no method chosen".to_owned()
                            } else {
                                row.methods.join(", ")
                            }
                        ),
                    ],
                    Cmd::SendAnnouncement {
                        id: row.id,
                        title: row.title,
                    },
                )
                .dangerous_if(row.priority == "urgent"),
            )));
        }
        AnnouncementIntent::Schedule(row) => {
            state.overlay = Some(Overlay::Prompt(Box::new(Prompt::new(
                PromptKind::ScheduleAt(row),
            ))));
        }
        AnnouncementIntent::Cancel(row) => {
            state.overlay = Some(Overlay::Confirm(Box::new(
                Confirm::new(
                    "Cancel announcement",
                    vec![
                        fit(&row.title, 56),
                        format!("now {}; a cancelled announcement is final", row.status),
                    ],
                    Cmd::CancelAnnouncement {
                        id: row.id,
                        title: row.title,
                    },
                )
                .dangerous(),
            )));
        }
    }
}

fn waitlist_intent(state: &mut State, intent: WaitlistIntent) {
    let prompt = |kind| Some(Overlay::Prompt(Box::new(Prompt::new(kind))));
    match intent {
        WaitlistIntent::Nothing | WaitlistIntent::NotMine => {}
        WaitlistIntent::Say(text) => state.say(text, Tone::Info),
        WaitlistIntent::OfferNext(offer) => {
            let who = match offer.position {
                Some(n) => format!("{} (#{n} in line)", fit(&offer.attendee, 30)),
                None => fit(&offer.attendee, 30),
            };
            state.overlay = Some(Overlay::Confirm(Box::new(Confirm::new(
                "Offer next",
                vec![
                    format!("Offer a place in {} to {who}?", fit(&offer.queue.name, 40)),
                    format!(
                        "{} waiting. Freed places are offered on their own; this needs a free place not yet offered.",
                        offer.waiting
                    ),
                ],
                Cmd::OfferNext {
                    session: offer.queue.session,
                    queue: offer.queue.name,
                    places: 1,
                },
            ))));
        }
        WaitlistIntent::Release(queue) => state.overlay = prompt(PromptKind::ReleasePlaces(queue)),
        WaitlistIntent::Extend(entry) => state.overlay = prompt(PromptKind::ExtendMinutes(entry)),
        WaitlistIntent::Cancel(entry) => state.overlay = prompt(PromptKind::CancelReason(entry)),
        WaitlistIntent::Convert(entry) => {
            state.overlay = Some(Overlay::Confirm(Box::new(Confirm::new(
                "Convert offer",
                vec![
                    format!(
                        "{} took the place in {}?",
                        fit(&entry.attendee, 30),
                        fit(entry.queue(), 30)
                    ),
                    "They are registered and leave the queue.".to_owned(),
                ],
                Cmd::ConvertOffer {
                    entry: entry.id,
                    attendee: entry.attendee,
                },
            ))));
        }
    }
}

/// A reason typed into a prompt: something, and at most 500 characters.
fn required_reason<'a>(text: &'a str, missing: &str) -> Result<&'a str, String> {
    let reason = text.trim();
    if reason.is_empty() {
        return Err(missing.to_owned());
    }
    if reason.chars().count() > 500 {
        return Err("a reason is at most 500 characters".to_owned());
    }
    Ok(reason)
}

/// What a prompt's answer leads to.
enum Answer {
    /// It is how things are already.
    Unchanged,
    Confirm(Confirm),
    /// Another question first (scheduling an urgent message to everyone asks for the slug).
    Ask(Box<Prompt>),
    /// The answer was the confirmation (the slug typed).
    Run(Cmd),
}

/// Validates a prompt's answer: what it leads to, or the sentence to show under the field.
fn prompt_answer(state: &State, prompt: &Prompt) -> Result<Answer, String> {
    let text = prompt.input.value();
    match &prompt.kind {
        PromptKind::Capacity(session) => {
            let capacity = parse_capacity(text)?;
            if capacity == session.max {
                return Ok(Answer::Unchanged);
            }
            let show = |c: Option<i32>| c.map_or("no limit".to_owned(), |c| c.to_string());
            let mut lines = vec![
                fit(&session.title, 56),
                format!("capacity {} -> {}", show(session.max), show(capacity)),
                format!(
                    "registered {}, in the room {}",
                    session.registered, session.present
                ),
            ];
            if let Some(c) = capacity
                && c < session.registered.max(session.present)
            {
                lines.push("Below the people already in: the database will refuse it.".to_owned());
            }
            Ok(Answer::Confirm(Confirm::new(
                "Change capacity",
                lines,
                Cmd::SetSessionCapacity {
                    session: session.id,
                    title: session.title.clone(),
                    capacity,
                },
            )))
        }
        PromptKind::RejectReason(expense) => {
            let reason = required_reason(text, "a rejection needs a reason")?;
            let mut lines = expense_lines(expense);
            lines.push(format!("reason: {}", fit(reason, 50)));
            Ok(Answer::Confirm(
                Confirm::new(
                    "Reject expense",
                    lines,
                    Cmd::RejectExpense {
                        expense: expense.id,
                        name: expense.name.clone(),
                        reason: reason.to_owned(),
                    },
                )
                .dangerous(),
            ))
        }
        PromptKind::ScheduleAt(row) => {
            let at =
                crate::desks::announcements::compose::parse_when(text, state.now, state.offset)?
                    .ok_or_else(|| "say when: HH:MM today or YYYY-MM-DD HH:MM".to_owned())?;
            if row.blast() {
                // An urgent message to everyone: the slug, typed, is the confirmation.
                return Ok(Answer::Ask(Box::new(Prompt::new(PromptKind::TypeSlug(
                    row.clone(),
                    Some(at),
                )))));
            }
            Ok(Answer::Confirm(Confirm::new(
                "Schedule announcement",
                vec![
                    fit(&row.title, 56),
                    format!(
                        "at {} to {} people by {}",
                        state.local(at, "%Y-%m-%d %H:%M"),
                        row.recipients,
                        row.methods.join(", ")
                    ),
                ],
                Cmd::ScheduleAnnouncement {
                    id: row.id,
                    title: row.title.clone(),
                    at,
                },
            )))
        }
        PromptKind::TypeSlug(row, at) => {
            if text.trim() != state.event.slug {
                return Err(format!(
                    "that is not {}: type it exactly, or Esc",
                    state.event.slug
                ));
            }
            let cmd = match at {
                Some(at) => Cmd::ScheduleAnnouncement {
                    id: row.id,
                    title: row.title.clone(),
                    at: *at,
                },
                None => Cmd::SendAnnouncement {
                    id: row.id,
                    title: row.title.clone(),
                },
            };
            Ok(Answer::Run(cmd))
        }
        PromptKind::ReleasePlaces(queue) => {
            let places = parse_count(text, 1, 1..=500, "places")?;
            Ok(Answer::Confirm(Confirm::new(
                "Release places",
                vec![format!(
                    "Offer {places} place{} to the next in {}?",
                    if places == 1 { "" } else { "s" },
                    fit(&queue.name, 40)
                )],
                Cmd::OfferNext {
                    session: queue.session,
                    queue: queue.name.clone(),
                    places,
                },
            )))
        }
        PromptKind::ExtendMinutes(entry) => {
            let minutes = parse_count(text, 15, 1..=1440, "minutes")?;
            Ok(Answer::Confirm(Confirm::new(
                "Extend offer",
                vec![format!(
                    "Give {} {minutes} more minute{}?",
                    fit(&entry.attendee, 30),
                    if minutes == 1 { "" } else { "s" }
                )],
                Cmd::ExtendOffer {
                    entry: entry.id,
                    attendee: entry.attendee.clone(),
                    minutes,
                },
            )))
        }
        PromptKind::CancelReason(entry) => {
            let reason = required_reason(text, "cancelling an entry needs a reason")?;
            Ok(Answer::Confirm(
                Confirm::new(
                    "Cancel waitlist entry",
                    vec![
                        format!(
                            "Take {} off the {} queue?",
                            fit(&entry.attendee, 30),
                            fit(entry.queue(), 24)
                        ),
                        format!("reason: {}", fit(reason, 50)),
                    ],
                    Cmd::CancelEntry {
                        entry: entry.id,
                        attendee: entry.attendee.clone(),
                        reason: reason.to_owned(),
                    },
                )
                .dangerous(),
            ))
        }
        PromptKind::PaymentDate(expense) => {
            let date = parse_payment_date(text)?;
            let mut lines = expense_lines(expense);
            lines.push(match date {
                Some(date) => format!("paid on {date}"),
                None => "paid today (the event's date)".to_owned(),
            });
            Ok(Answer::Confirm(Confirm::new(
                "Mark paid",
                lines,
                Cmd::MarkExpensePaid {
                    expense: expense.id,
                    name: expense.name.clone(),
                    date,
                },
            )))
        }
    }
}

/// A key while a dialog is open. Returns the overlay that stays open (None: closed).
fn overlay_key(
    state: &mut State,
    overlay: Overlay,
    key: KeyEvent,
    cmds: &mut Vec<Cmd>,
) -> Option<Overlay> {
    match overlay {
        Overlay::Help => match key.code {
            KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q') | KeyCode::Enter => None,
            _ => Some(Overlay::Help),
        },
        Overlay::Confirm(mut confirm) => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') => {
                state.say("working...", Tone::Info);
                cmds.push(confirm.cmd);
                None
            }
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => {
                state.say("cancelled: nothing changed", Tone::Info);
                None
            }
            KeyCode::Enter if confirm.yes_focused => {
                state.say("working...", Tone::Info);
                cmds.push(confirm.cmd);
                None
            }
            KeyCode::Enter => {
                state.say("cancelled: nothing changed", Tone::Info);
                None
            }
            KeyCode::Left
            | KeyCode::Right
            | KeyCode::Tab
            | KeyCode::BackTab
            | KeyCode::Char('h')
            | KeyCode::Char('l') => {
                confirm.yes_focused = !confirm.yes_focused;
                Some(Overlay::Confirm(confirm))
            }
            _ => Some(Overlay::Confirm(confirm)),
        },
        Overlay::Compose(mut form) => match form.key(key) {
            FormKey::Stay => Some(Overlay::Compose(form)),
            FormKey::Close => {
                state.say("closed: nothing saved", Tone::Info);
                None
            }
            FormKey::Save => {
                let today = &state.sessions.rows;
                match form.check(today, state.now, state.offset) {
                    None => {
                        state.say("not saved: see the fields marked <-", Tone::Bad);
                        Some(Overlay::Compose(form))
                    }
                    Some((draft, Some(_)))
                        if draft.priority == "urgent"
                            && matches!(draft.audience.as_str(), "all" | "attendees")
                            && draft.sessions.is_none() =>
                    {
                        form.errors.push((
                            Field::Schedule,
                            "urgent to everyone: save a draft, then t asks for the slug".to_owned(),
                        ));
                        state.say("not saved: see the fields marked <-", Tone::Bad);
                        Some(Overlay::Compose(form))
                    }
                    Some((draft, schedule)) => {
                        state.say("saving...", Tone::Info);
                        cmds.push(Cmd::SaveAnnouncement {
                            id: form.editing,
                            draft,
                            schedule,
                        });
                        // Kept until the database answers: a refusal reopens it as it was.
                        state.saving = Some(form);
                        None
                    }
                }
            }
        },
        Overlay::Prompt(mut prompt) => match key.code {
            KeyCode::Esc => {
                state.say("cancelled: nothing changed", Tone::Info);
                None
            }
            KeyCode::Enter => match prompt_answer(state, &prompt) {
                Err(error) => {
                    prompt.error = Some(error);
                    Some(Overlay::Prompt(prompt))
                }
                Ok(Answer::Unchanged) => {
                    state.say("that is how it is already: nothing changed", Tone::Info);
                    None
                }
                Ok(Answer::Confirm(confirm)) => Some(Overlay::Confirm(Box::new(confirm))),
                Ok(Answer::Ask(next)) => Some(Overlay::Prompt(next)),
                Ok(Answer::Run(cmd)) => {
                    state.say("working...", Tone::Info);
                    cmds.push(cmd);
                    None
                }
            },
            _ => {
                prompt.input.handle_event(&Event::Key(key));
                prompt.error = None;
                Some(Overlay::Prompt(prompt))
            }
        },
    }
}

/// The tab bar's counts, from what the desks show (so a tab and its desk never disagree): refused scans
/// in the last 15 minutes (the totals' figure), offers expiring within 10 minutes, expenses waiting for
/// a decision.
pub fn badge(state: &State, desk: DeskId) -> Option<i64> {
    let count = match desk {
        DeskId::Checkins => state
            .checkins
            .summary
            .as_ref()
            .map_or(0, |s| s.problems_15_min),
        DeskId::Waitlist => state.waitlist.expiring_within(
            state.now,
            crate::desks::waitlist::model::EXPIRING_WITHIN_MINUTES,
        ) as i64,
        DeskId::Expenses => state.expenses.pending() as i64,
        _ => 0,
    };
    Some(count).filter(|n| *n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::msg::Snapshot;

    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 15, 0, 0)
            .single()
            .expect("valid")
    }

    fn state(permissions: Permissions) -> State {
        State::new(
            EventInfo {
                id: Uuid::from_u128(1),
                slug: "conf".into(),
                name: "Conf".into(),
                time_zone: "UTC".into(),
            },
            Operator {
                name: "Vic Volunteer".into(),
                role: "volunteer".into(),
                profile: None,
            },
            permissions,
            FixedOffset::east_opt(0).expect("offset"),
            now(),
        )
    }

    fn volunteer() -> Permissions {
        Permissions {
            member: true,
            check_in: true,
            ..Permissions::default()
        }
    }

    fn key(code: KeyCode) -> Msg {
        Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    fn summary() -> Summary {
        Summary {
            expected: 10,
            checked_in: 2,
            present: 1,
            gates: vec![],
            arrivals_per_minute: vec![0; 60],
            problems_15_min: 0,
            as_of: now(),
            batch: None,
        }
    }

    fn session_row() -> SessionRow {
        SessionRow {
            id: Uuid::from_u128(9),
            title: "Keynote".into(),
            room: Some("Hall A".into()),
            session_type: Some("keynote".into()),
            start: now(),
            end: now() + Duration::minutes(60),
            registered: 10,
            max: Some(100),
            present: 3,
            status: "scheduled".into(),
            waiting: 0,
        }
    }

    /// Connected, snapshot loaded: LIVE.
    fn live(permissions: Permissions) -> State {
        let mut s = state(permissions);
        let cmds = update(&mut s, Msg::Listener(ListenerEvent::Connected));
        assert_eq!(
            cmds,
            vec![Cmd::Snapshot {
                generation: 1,
                expenses: permissions.sees(DeskId::Expenses)
            }]
        );
        update(
            &mut s,
            Msg::Snapshot {
                generation: 1,
                result: Ok(Box::new(Snapshot {
                    summary: summary(),
                    feed: vec![],
                    problems: vec![],
                    sessions: vec![session_row()],
                    expenses: vec![],
                    waitlist: vec![],
                    announcements: vec![],
                })),
            },
        );
        assert_eq!(s.link, Link::Live);
        s
    }

    fn batch(table: &str, from: u64, to: u64) -> Msg {
        Msg::Listener(ListenerEvent::Hint(Hint {
            table: table.into(),
            op: "BATCH".into(),
            id: None,
            event_id: Some(Uuid::from_u128(1)),
            count: Some(1),
            from_xid: Some(from.to_string()),
            to_xid: Some(to.to_string()),
            late: vec![],
            batch: None,
        }))
    }

    /// A hint from a flusher that made the batch's view (V11).
    fn numbered(table: &str, from: u64, to: u64, number: i64) -> Msg {
        let Msg::Listener(ListenerEvent::Hint(mut hint)) = batch(table, from, to) else {
            unreachable!("batch() makes a hint")
        };
        hint.batch = Some(number);
        Msg::Listener(ListenerEvent::Hint(hint))
    }

    #[test]
    fn a_key_the_role_lacks_says_why_and_changes_nothing() {
        let mut s = live(volunteer());
        update(&mut s, key(KeyCode::Char('2')));
        assert_eq!(s.desk, DeskId::Sessions);
        let cmds = update(&mut s, key(KeyCode::Char('x')));
        assert!(cmds.is_empty());
        assert!(s.overlay.is_none());
        let notice = s.notice.clone().expect("a reason");
        assert_eq!(notice.tone, Tone::Bad);
        assert_eq!(
            notice.text,
            "your role (volunteer) does not include manage sessions"
        );
    }

    #[test]
    fn a_desk_the_role_cannot_see_is_hidden_and_refused() {
        let mut s = live(volunteer());
        update(&mut s, key(KeyCode::Char('5')));
        assert_eq!(s.desk, DeskId::Checkins);
        assert!(
            s.notice
                .as_ref()
                .is_some_and(|n| n.text.contains("cannot see the Expenses desk"))
        );
        // Tab cycles through the visible desks only.
        for _ in 0..4 {
            update(&mut s, key(KeyCode::Tab));
            assert_ne!(s.desk, DeskId::Expenses);
        }
    }

    #[test]
    fn a_change_is_confirmed_with_cancel_focused() {
        let mut s = live(Permissions::all());
        update(&mut s, key(KeyCode::Char('2')));
        let cmds = update(&mut s, key(KeyCode::Char('l')));
        assert!(cmds.is_empty(), "nothing runs before confirmation");
        assert!(matches!(&s.overlay, Some(Overlay::Confirm(c)) if !c.yes_focused));
        // Enter on the focused Cancel cancels.
        assert!(update(&mut s, key(KeyCode::Enter)).is_empty());
        assert!(s.overlay.is_none());
        update(&mut s, key(KeyCode::Char('l')));
        assert!(update(&mut s, key(KeyCode::Esc)).is_empty());
        update(&mut s, key(KeyCode::Char('l')));
        assert!(update(&mut s, key(KeyCode::Char('n'))).is_empty());
        update(&mut s, key(KeyCode::Char('l')));
        let cmds = update(&mut s, key(KeyCode::Char('y')));
        assert_eq!(
            cmds,
            vec![Cmd::SetSessionStatus {
                session: Uuid::from_u128(9),
                title: "Keynote".into(),
                status: "live".into(),
            }]
        );
    }

    #[test]
    fn a_bad_capacity_is_explained_in_place() {
        let mut s = live(Permissions::all());
        update(&mut s, key(KeyCode::Char('2')));
        update(&mut s, key(KeyCode::Char('c')));
        for c in "lots".chars() {
            update(&mut s, key(KeyCode::Char(c)));
        }
        assert!(update(&mut s, key(KeyCode::Enter)).is_empty());
        let Some(Overlay::Prompt(prompt)) = &s.overlay else {
            panic!("the prompt stays open");
        };
        assert!(
            prompt
                .error
                .as_deref()
                .is_some_and(|e| e.contains("not a whole number"))
        );
    }

    #[test]
    fn a_saved_announcement_is_read_at_once_without_waiting_for_its_hint() {
        let mut s = live(Permissions::all());
        let id = Uuid::from_u128(42);
        update(
            &mut s,
            Msg::Done {
                done: Done::AnnouncementSaved {
                    verb: "saved the draft",
                    title: "Doors open".into(),
                    id: Some(id),
                },
                result: Ok(()),
            },
        );
        assert_eq!(
            fetches(&mut s),
            vec![Cmd::Announcements {
                generation: 1,
                ids: Some(vec![id]),
            }]
        );
    }

    #[test]
    fn hints_coalesce_into_one_fetch_per_desk_per_frame() {
        let mut s = live(Permissions::all());
        update(&mut s, batch("event_checkins", 100, 110));
        update(&mut s, batch("event_checkins", 110, 130));
        update(&mut s, batch("refused_scans", 105, 130));
        let cmds = fetches(&mut s);
        assert_eq!(
            cmds,
            vec![Cmd::CheckinChanges {
                generation: 1,
                checkins: Some(XidRange {
                    from: 100,
                    to: 130,
                    late: vec![]
                }),
                problems: Some(XidRange {
                    from: 105,
                    to: 130,
                    late: vec![]
                }),
                batches: vec![],
                summary: true,
            }]
        );
        // While that fetch is out, more hints wait; nothing else is sent.
        update(&mut s, batch("event_checkins", 130, 140));
        assert!(fetches(&mut s).is_empty());
        // When it is back, the next rows come at once, and the totals with them (they cost a few index
        // reads since the flusher keeps them).
        update(
            &mut s,
            Msg::CheckinChanges {
                generation: 1,
                result: Err("gone".into()),
            },
        );
        s.resync_due = false;
        assert_eq!(
            fetches(&mut s),
            vec![Cmd::CheckinChanges {
                generation: 1,
                checkins: Some(XidRange {
                    from: 130,
                    to: 140,
                    late: vec![]
                }),
                problems: None,
                batches: vec![],
                summary: true,
            }]
        );
    }

    #[test]
    fn slow_totals_are_read_less_often() {
        let mut s = live(Permissions::all());
        update(&mut s, batch("event_checkins", 1, 2));
        assert!(matches!(
            fetches(&mut s).as_slice(),
            [Cmd::CheckinChanges { summary: true, .. }]
        ));
        update(
            &mut s,
            Msg::CheckinChanges {
                generation: 1,
                result: Ok(Box::new(crate::app::msg::CheckinChanges {
                    summary: Some(summary()),
                    summary_took: Some(std::time::Duration::from_millis(700)),
                    checkins: vec![],
                    problems: vec![],
                    sessions_touched: vec![],
                })),
            },
        );
        update(&mut s, batch("event_checkins", 2, 3));
        for (after, due) in [(1, false), (2, false), (3, true)] {
            update(&mut s, Msg::Tick(now() + Duration::seconds(after)));
            let cmds = fetches(&mut s);
            let asked = cmds
                .iter()
                .any(|c| matches!(c, Cmd::CheckinChanges { summary: true, .. }));
            assert_eq!(asked, due, "after {after} s: {cmds:?}");
            if !cmds.is_empty() {
                update(
                    &mut s,
                    Msg::CheckinChanges {
                        generation: 1,
                        result: Ok(Box::new(crate::app::msg::CheckinChanges {
                            summary: None,
                            summary_took: None,
                            checkins: vec![],
                            problems: vec![],
                            sessions_touched: vec![],
                        })),
                    },
                );
            }
        }
    }

    #[test]
    fn numbered_batches_are_read_by_number_with_their_totals() {
        let mut s = live(Permissions::all());
        update(&mut s, numbered("event_checkins", 100, 110, 7));
        update(&mut s, numbered("refused_scans", 100, 110, 7));
        update(&mut s, numbered("event_checkins", 110, 120, 8));
        let cmds = fetches(&mut s);
        assert!(
            matches!(cmds.as_slice(), [Cmd::CheckinChanges { batches, summary: true, checkins: Some(_), problems: Some(_), .. }] if batches == &vec![7, 8]),
            "{cmds:?}"
        );
        // Totals that took long to read space out direct reads, never the views' own totals.
        s.summary_took = Duration::seconds(5);
        update(
            &mut s,
            Msg::CheckinChanges {
                generation: 1,
                result: Err("gone".into()),
            },
        );
        s.resync_due = false;
        update(&mut s, numbered("event_checkins", 120, 130, 9));
        let cmds = fetches(&mut s);
        assert!(
            matches!(cmds.as_slice(), [Cmd::CheckinChanges { batches, summary: true, .. }] if batches == &vec![9]),
            "{cmds:?}"
        );
    }

    #[test]
    fn a_batch_without_a_number_makes_the_console_read_the_ranges() {
        let mut s = live(Permissions::all());
        update(&mut s, numbered("event_checkins", 100, 110, 7));
        update(&mut s, batch("event_checkins", 110, 120));
        let cmds = fetches(&mut s);
        assert!(
            matches!(cmds.as_slice(), [Cmd::CheckinChanges { batches, checkins: Some(r), .. }] if batches.is_empty() && r.from == 100 && r.to == 120),
            "{cmds:?}"
        );
    }

    fn pushed_view(number: i64, checked_in: i64) -> Msg {
        Msg::Pushed(Box::new(BatchView {
            event: Uuid::from_u128(1),
            batch: number,
            summary: Summary {
                batch: Some(number),
                checked_in,
                ..summary()
            },
            checkins: vec![],
            problems: vec![],
            sessions: vec![],
        }))
    }

    #[test]
    fn a_pushed_batch_is_shown_and_its_hints_ask_for_nothing() {
        let mut s = live(Permissions::all());
        update(&mut s, pushed_view(7, 70));
        assert_eq!(s.checkins.summary.as_ref().map(|x| x.checked_in), Some(70));
        update(&mut s, numbered("event_checkins", 100, 110, 7));
        update(&mut s, numbered("refused_scans", 100, 110, 7));
        assert!(fetches(&mut s).is_empty());
        // Another event's batch is not ours.
        let Msg::Pushed(mut other) = pushed_view(8, 5) else {
            unreachable!()
        };
        other.event = Uuid::from_u128(2);
        update(&mut s, Msg::Pushed(other));
        assert_eq!(s.checkins.summary.as_ref().map(|x| x.checked_in), Some(70));
    }

    #[test]
    fn a_batch_pushed_while_older_ones_are_still_coming_is_fetched_in_its_turn() {
        let mut s = live(Permissions::all());
        update(&mut s, numbered("event_checkins", 100, 110, 7));
        let cmds = fetches(&mut s);
        assert_eq!(cmds.len(), 1, "{cmds:?}");
        // Batch 8 arrives while 7 is being read: shown now, it could be overwritten by 7's older rows.
        update(&mut s, pushed_view(8, 80));
        update(&mut s, numbered("event_checkins", 110, 120, 8));
        assert!(
            s.checkins
                .summary
                .as_ref()
                .is_none_or(|x| x.checked_in != 80)
        );
        update(
            &mut s,
            Msg::CheckinChanges {
                generation: 1,
                result: Ok(Box::new(crate::app::msg::CheckinChanges {
                    summary: Some(Summary {
                        batch: Some(7),
                        checked_in: 70,
                        ..summary()
                    }),
                    summary_took: None,
                    checkins: vec![],
                    problems: vec![],
                    sessions_touched: vec![],
                })),
            },
        );
        let cmds = fetches(&mut s);
        assert!(
            matches!(cmds.as_slice(), [Cmd::CheckinChanges { batches, .. }] if batches == &vec![8]),
            "{cmds:?}"
        );
    }

    #[test]
    fn older_totals_never_replace_newer_ones() {
        let mut s = live(Permissions::all());
        let at = |batch: Option<i64>, checked_in: i64| Summary {
            batch,
            checked_in,
            ..summary()
        };
        let answer = |summary: Summary| Msg::CheckinChanges {
            generation: 1,
            result: Ok(Box::new(crate::app::msg::CheckinChanges {
                summary: Some(summary),
                summary_took: None,
                checkins: vec![],
                problems: vec![],
                sessions_touched: vec![],
            })),
        };
        for (summary, shown) in [
            (at(Some(9), 90), 90),
            // A view of an earlier batch, read after fresher totals: dropped.
            (at(Some(8), 80), 90),
            (at(Some(9), 91), 91),
            (at(Some(10), 100), 100),
            // Totals that do not say their batch (a server before V11) are taken.
            (at(None, 95), 95),
        ] {
            s.in_flight.checkins = true;
            update(&mut s, answer(summary));
            assert_eq!(
                s.checkins.summary.as_ref().map(|x| x.checked_in),
                Some(shown)
            );
        }
    }

    #[test]
    fn another_events_hints_are_ignored() {
        let mut s = live(Permissions::all());
        let mut hint = Hint {
            table: "sessions".into(),
            op: "UPDATE".into(),
            id: Some(Uuid::from_u128(9)),
            event_id: Some(Uuid::from_u128(2)),
            count: None,
            from_xid: None,
            to_xid: None,
            late: vec![],
            batch: None,
        };
        update(&mut s, Msg::Listener(ListenerEvent::Hint(hint.clone())));
        assert!(fetches(&mut s).is_empty());
        hint.event_id = Some(Uuid::from_u128(1));
        update(&mut s, Msg::Listener(ListenerEvent::Hint(hint)));
        assert_eq!(
            fetches(&mut s),
            vec![Cmd::Sessions {
                generation: 1,
                ids: Some(vec![Uuid::from_u128(9)])
            }]
        );
    }

    #[test]
    fn a_lost_link_is_never_labelled_live_and_a_reconnect_resyncs() {
        let mut s = live(Permissions::all());
        update(
            &mut s,
            Msg::Listener(ListenerEvent::Lost {
                reason: "gone".into(),
            }),
        );
        assert!(matches!(s.link, Link::Reconnecting { .. }));
        update(&mut s, batch("event_checkins", 1, 2));
        assert!(
            fetches(&mut s).is_empty(),
            "no partial fetches while reconnecting"
        );
        let cmds = update(&mut s, Msg::Listener(ListenerEvent::Connected));
        assert!(
            matches!(cmds.as_slice(), [Cmd::Snapshot { generation: 3, .. }]),
            "{cmds:?}"
        );
        assert!(
            matches!(s.link, Link::Reconnecting { .. }),
            "still not live before the resync"
        );
        // An answer from before the reconnect is dropped.
        update(
            &mut s,
            Msg::CheckinChanges {
                generation: 1,
                result: Err("late".into()),
            },
        );
        assert!(s.notice.is_none());
    }

    #[test]
    fn a_failed_resync_is_retried_and_a_late_snapshot_cannot_claim_live() {
        let mut s = live(Permissions::all());
        let lost = || {
            Msg::Listener(ListenerEvent::Lost {
                reason: "gone".into(),
            })
        };
        // A snapshot asked for just before the link broke arrives after: dropped, still RECONNECTING.
        update(&mut s, Msg::Listener(ListenerEvent::Connected));
        let asked = s.generation;
        update(&mut s, lost());
        update(
            &mut s,
            Msg::Snapshot {
                generation: asked,
                result: Err("late".into()),
            },
        );
        assert!(matches!(s.link, Link::Reconnecting { .. }));
        // Back, but the resync fails: the next tick tries again rather than waiting forever.
        let cmds = update(&mut s, Msg::Listener(ListenerEvent::Connected));
        let Some(Cmd::Snapshot { generation, .. }) = cmds.first().cloned() else {
            panic!("expected a snapshot: {cmds:?}");
        };
        update(
            &mut s,
            Msg::Snapshot {
                generation,
                result: Err("too many clients".into()),
            },
        );
        let cmds = update(&mut s, Msg::Tick(now() + Duration::seconds(1)));
        assert!(
            matches!(cmds.as_slice(), [Cmd::Snapshot { .. }]),
            "retried: {cmds:?}"
        );
        // While the link is down, no retry hammers the server.
        update(&mut s, lost());
        s.resync_due = true;
        assert!(update(&mut s, Msg::Tick(now() + Duration::seconds(2))).is_empty());
    }

    #[test]
    fn unannounced_check_ins_make_the_numbers_stale() {
        let mut s = live(Permissions::all());
        let flushed = now() - Duration::seconds(30);
        update(
            &mut s,
            Msg::Listener(ListenerEvent::Health(Health {
                utc_offset_secs: 3600,
                flushed_at: Some(flushed),
                server_now: now(),
                worker_seen_at: Some(now()),
                late_writers: 0,
                late_since: None,
            })),
        );
        assert_eq!(s.link, Link::Stale { since: flushed });
        assert_eq!(s.offset, FixedOffset::east_opt(3600).expect("offset"));
        update(
            &mut s,
            Msg::Listener(ListenerEvent::Health(Health {
                utc_offset_secs: 3600,
                flushed_at: Some(now()),
                server_now: now(),
                worker_seen_at: Some(now()),
                late_writers: 0,
                late_since: None,
            })),
        );
        assert_eq!(s.link, Link::Live);
    }

    #[test]
    fn the_no_worker_warning_goes_when_a_worker_comes() {
        let mut s = live(Permissions::all());
        let health = |worker_seen_at| {
            Msg::Listener(ListenerEvent::Health(Health {
                utc_offset_secs: 3600,
                flushed_at: Some(now()),
                server_now: now(),
                worker_seen_at,
                late_writers: 0,
                late_since: None,
            }))
        };
        update(&mut s, health(None));
        assert!(s.worker_missing);
        assert_eq!(s.notice.as_ref().map(|n| n.text.as_str()), Some(NO_WORKER));
        update(&mut s, health(Some(now())));
        assert!(!s.worker_missing);
        assert_eq!(s.notice, None);
    }

    #[test]
    fn a_refused_scan_rings_the_bell_and_says_why() {
        let mut s = live(volunteer());
        update(&mut s, key(KeyCode::Char('s')));
        for c in "NOPE".chars() {
            update(&mut s, key(KeyCode::Char(c)));
        }
        let cmds = update(&mut s, key(KeyCode::Enter));
        assert_eq!(
            cmds,
            vec![Cmd::Scan {
                code: "NOPE".into()
            }]
        );
        update(
            &mut s,
            Msg::Scanned {
                code: "NOPE".into(),
                result: Ok(ScanOutcome {
                    code: "NOPE".into(),
                    accepted: false,
                    reason_code: Some("unknown_code".into()),
                    message: Some("unknown ticket code".into()),
                    name: None,
                    ticket_type: None,
                    at: None,
                }),
            },
        );
        assert!(s.bell);
        assert_eq!(
            s.notice.as_ref().map(|n| n.text.as_str()),
            Some("REFUSED NOPE: unknown ticket code")
        );
        // q while scanning is part of a code, not quit.
        update(&mut s, key(KeyCode::Char('q')));
        assert!(!s.quit);
        update(
            &mut s,
            Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
        );
        assert!(s.quit, "Ctrl-C quits from anywhere");
    }
}

//! The console's state and its pure update: `update(&mut State, Msg) -> Vec<Cmd>` never awaits. The
//! app owns the frame around the desks (the link, the notice line, the dialogs); what a key, a hint or
//! an answer means for a desk is the desk's (`desks::desk::Desk`), reached through `desks::registry`.

use chrono::{DateTime, Duration, FixedOffset, Utc};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;
use uuid::Uuid;

use super::keymap::{self, Global};
use super::msg::{Cmd, Msg};
use crate::db::listen::{Health, Hint, ListenerEvent};
use crate::desks::desk::{Confirm, Tick};
use crate::desks::registry::{
    self, AnyAnswerTo, AnyCmd, AnyDialog, AnyForm, AnyOutcome, AnyPrompt, Desks, Press,
};
use crate::desks::{Context, DeskId, Permission, Permissions, local};
pub use crate::ui::Tone;

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub tone: Tone,
}

/// A one-field dialog of a desk: the desk says what it asks and checks the answer; Enter validates it in
/// place, then asks for confirmation.
#[derive(Debug, Clone)]
pub struct Prompt {
    pub kind: AnyPrompt,
    pub input: Input,
    pub error: Option<String>,
}

impl Prompt {
    fn new(kind: AnyPrompt) -> Prompt {
        Prompt {
            kind,
            input: Input::default(),
            error: None,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Overlay {
    Help,
    Confirm(Box<Confirm<AnyCmd>>),
    Prompt(Box<Prompt>),
    /// A form of a desk's own (the announcement compose form).
    Form(AnyForm),
}

impl Overlay {
    fn of(dialog: AnyDialog) -> Overlay {
        match dialog {
            AnyDialog::Confirm(confirm) => Overlay::Confirm(Box::new(confirm)),
            AnyDialog::Prompt(kind) => Overlay::Prompt(Box::new(Prompt::new(kind))),
            AnyDialog::Form(form) => Overlay::Form(form),
        }
    }
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
    pub desks: Desks,
    pub overlay: Option<Overlay>,
    pub notice: Option<Notice>,
    /// A snapshot is out.
    pub loading: bool,
    /// The operator's team changed: their permissions are read again.
    pub permissions_due: bool,
    /// The listener is connected and LISTENing.
    pub listening: bool,
    /// A failed load is retried on the next tick.
    pub resync_due: bool,
    /// Since when, and why, this console has been without the database: reported to the event's
    /// incident timeline once it is back.
    pub outage: Option<(DateTime<Utc>, String)>,
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
            .iter()
            .copied()
            .find(|d| registry::visible(*d, &permissions))
            .unwrap_or(DeskId::ALL[0]);
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
            desks: Desks::default(),
            overlay: None,
            notice: None,
            loading: false,
            permissions_due: false,
            resync_due: false,
            outage: None,
            listening: false,
            quit: false,
            bell: false,
            dirty: true,
        }
    }

    /// Whether a text box has the keyboard (single-key shortcuts are off, the scanner types freely).
    pub fn typing(&self) -> bool {
        self.desks.typing(self.desk)
    }

    pub fn sees(&self, desk: DeskId) -> bool {
        registry::visible(desk, &self.permissions)
    }

    fn say(&mut self, text: impl Into<String>, tone: Tone) {
        self.notice = Some(Notice {
            text: text.into(),
            tone,
        });
    }

    fn refuse(&mut self, permission: Permission) {
        let text = self.context().refusal(permission);
        self.say(text, Tone::Bad);
    }

    pub fn local(&self, at: DateTime<Utc>, format: &str) -> String {
        local(at, self.offset, format)
    }

    /// What the desks may know beyond their own state.
    pub fn context(&self) -> Context<'_> {
        Context {
            now: self.now,
            offset: self.offset,
            permissions: &self.permissions,
            profile: self.operator.profile,
            role: &self.operator.role,
            event: self.event.id,
            slug: &self.event.slug,
            generation: self.generation,
            today: &[],
        }
    }
}

/// Runs `f` on the desks with the context the rest of the state gives them.
fn with_desks<R>(state: &mut State, f: impl FnOnce(&mut Desks, &Context) -> R) -> R {
    let State {
        now,
        offset,
        event,
        operator,
        permissions,
        generation,
        desks,
        ..
    } = state;
    let ctx = Context {
        now: *now,
        offset: *offset,
        permissions,
        profile: operator.profile,
        role: &operator.role,
        event: event.id,
        slug: &event.slug,
        generation: *generation,
        today: &[],
    };
    f(desks, &ctx)
}

/// What a desk asked for: its sentence, bell, commands, dialog (unless one is open), a resync, hints
/// for the other desks, another desk to show.
fn apply(state: &mut State, outcome: AnyOutcome, cmds: &mut Vec<Cmd>) {
    let AnyOutcome {
        say,
        bell,
        cmds: desk_cmds,
        dialog,
        resync,
        hints,
        focus,
    } = outcome;
    if let Some((text, tone)) = say {
        state.say(text, tone);
    }
    state.bell |= bell;
    cmds.extend(desk_cmds.into_iter().map(Cmd::Desk));
    state.resync_due |= resync;
    for hint in &hints {
        route(state, hint);
    }
    if let Some(dialog) = dialog
        && state.overlay.is_none()
    {
        state.overlay = Some(Overlay::of(dialog));
    }
    if let Some(focus) = focus
        && let Some((desk, then)) = state.desks.focus(&focus, &state.permissions)
    {
        open_desk(state, desk);
        apply(state, then, cmds);
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
        Msg::Pushed(view) => {
            // Nothing older may still come from outside the desk: no snapshot out, the link live.
            let in_order = state.link == Link::Live && !state.loading;
            let outcome = with_desks(state, |d, ctx| d.pushed(*view, in_order, ctx));
            state.dirty = true;
            apply(state, outcome, &mut cmds);
        }
        Msg::Snapshot { generation, result } => {
            if generation != state.generation {
                return cmds;
            }
            state.loading = false;
            state.dirty = true;
            match result {
                Ok(loaded) => {
                    with_desks(state, |d, ctx| d.loaded(*loaded, ctx));
                    state.fresh_at = Some(state.now);
                    if matches!(state.link, Link::Connecting | Link::Reconnecting { .. }) {
                        state.link = Link::Live;
                    }
                    if let Some((since, reason)) = state.outage.take() {
                        let lost_for = (state.now - since).num_milliseconds().max(0);
                        cmds.push(Cmd::ReportOutage {
                            lost_for_seconds: lost_for as f64 / 1000.0,
                            reason,
                        });
                    }
                }
                Err(failure) => {
                    state.resync_due = true;
                    state.say(format!("cannot load the desks: {failure}"), Tone::Bad);
                }
            }
        }
        Msg::Desk(answer) => {
            state.dirty = true;
            let outcome = with_desks(state, |d, ctx| d.answered(answer, ctx));
            apply(state, outcome, &mut cmds);
        }
        Msg::Permissions(result) => {
            state.dirty = true;
            match result {
                Ok((role, permissions)) => permitted(state, role, permissions),
                Err(failure) => state.say(
                    format!("cannot read your permissions: {failure}"),
                    Tone::Bad,
                ),
            }
        }
        Msg::ScannerInput(code) => {
            state.dirty = true;
            let outcome = with_desks(state, |d, ctx| d.scanned(code, ctx));
            apply(state, outcome, &mut cmds);
        }
        Msg::OutageReported(result) => {
            if let Err(failure) = result {
                state.dirty = true;
                state.say(
                    format!(
                        "this console's time without the database is not in the incident log: {failure}"
                    ),
                    Tone::Bad,
                );
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
        Msg::Quit => state.quit = true,
    }
    cmds
}

/// The operator's permissions read again: a desk that came into view (or left it) is loaded (or
/// dropped) by a resync.
fn permitted(state: &mut State, role: String, permissions: Permissions) {
    if permissions != state.permissions {
        state.say(
            format!("your permissions at this event changed (role: {role})"),
            Tone::Info,
        );
    }
    let seen = |p: &Permissions| -> Vec<bool> {
        DeskId::ALL
            .iter()
            .map(|d| registry::visible(*d, p))
            .collect()
    };
    if seen(&permissions) != seen(&state.permissions) {
        state.resync_due = true;
    }
    state.operator.role = role;
    state.permissions = permissions;
    if !state.sees(state.desk) {
        state.desk = DeskId::ALL[0];
    }
}

/// The fetches the hints heard since the last frame call for: one per desk, none while one is out.
pub fn fetches(state: &mut State) -> Vec<Cmd> {
    let mut cmds = Vec::new();
    if state.loading || matches!(state.link, Link::Connecting | Link::Reconnecting { .. }) {
        return cmds;
    }
    cmds.extend(
        with_desks(state, |d, ctx| d.fetch(ctx))
            .into_iter()
            .map(Cmd::Desk),
    );
    if state.permissions_due {
        state.permissions_due = false;
        cmds.push(Cmd::Permissions);
    }
    cmds
}

fn resync(state: &mut State, cmds: &mut Vec<Cmd>) {
    state.generation += 1;
    state.desks.forget();
    state.permissions_due = false;
    state.loading = true;
    state.resync_due = false;
    cmds.push(Cmd::Snapshot {
        generation: state.generation,
        permissions: state.permissions,
    });
}

fn tick(state: &mut State, now: DateTime<Utc>, cmds: &mut Vec<Cmd>) {
    let minute = now.timestamp().div_euclid(60) != state.now.timestamp().div_euclid(60);
    let day = state.local(now, "%F") != state.local(state.now, "%F");
    state.now = now;
    if minute {
        // The clock shows minutes.
        state.dirty = true;
    }
    let (front, dialog) = (state.desk, state.overlay.is_some());
    let redraw = state.desks.tick(|desk| Tick {
        now,
        minute,
        day,
        shown: desk == front && !dialog,
    });
    state.dirty |= redraw;
    // A failed load is retried once the listener is in place (LISTEN before snapshot).
    if state.resync_due && !state.loading && state.listening {
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
            state.loading = false;
            state.desks.forget();
            if !matches!(state.link, Link::Reconnecting { .. }) {
                let since = state.fresh_at.unwrap_or(state.now);
                state.link = Link::Reconnecting { since };
                state.dirty = true;
            }
            // The first loss is the outage's start and cause; a failed reconnect is the same outage.
            if let Link::Reconnecting { since } = state.link {
                state.outage.get_or_insert((since, reason));
            }
        }
        ListenerEvent::Hint(hint) => route(state, &hint),
        // The app's forwarder reads these into Msg::Pushed; a raw one is not expected here.
        ListenerEvent::Pushed(_) => {}
        ListenerEvent::Health(health) => healthy(state, health),
    }
}

const NO_WORKER: &str = "No worker: ";

/// The warning while no worker runs: what stops at the desks this operator sees (each desk says).
fn no_worker(permissions: &Permissions) -> String {
    let stopped: Vec<&str> = DeskId::ALL
        .iter()
        .filter(|d| registry::visible(**d, permissions))
        .filter_map(|d| d.without_worker())
        .collect();
    if stopped.is_empty() {
        format!("{NO_WORKER}start one (eventos worker)")
    } else {
        format!("{NO_WORKER}{} (eventos worker)", stopped.join(", "))
    }
}

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
            // One line at 80 columns; the header already says NO WORKER, and this console announces
            // check-ins itself meanwhile.
            state.say(no_worker(&state.permissions), Tone::Bad);
        } else if state
            .notice
            .as_ref()
            .is_some_and(|n| n.text.starts_with(NO_WORKER))
        {
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

/// A change heard on the server: this event's goes to every desk (each files what it must fetch); a
/// change to the operator's team reads their permissions again.
pub fn route(state: &mut State, hint: &Hint) {
    let ours = match hint.table.as_str() {
        "events" => hint.id == Some(state.event.id),
        _ => hint.event_id == Some(state.event.id),
    };
    if !ours {
        return;
    }
    if hint.table == "event_teams" {
        state.permissions_due = true;
    }
    state.desks.hear(hint);
}

/// The longest paste a text box takes: longer than anything a field is for (how long each may be is the
/// database's rule, said when it refuses), short enough that a file pasted by mistake is not typed.
const PASTE_MAX: usize = 20_000;

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
    let takes = match &state.overlay {
        Some(Overlay::Prompt(_)) => Some(false),
        Some(Overlay::Form(form)) => Desks::form_takes_paste(form),
        Some(Overlay::Help | Overlay::Confirm(_)) => None,
        None => state.typing().then_some(false),
    };
    let Some(multi_line) = takes else {
        // The desk in front says which key opens its box (the app knows no desk's keys).
        let sentence = match state.desks.keys(state.desk).iter().find(|k| k.filters) {
            Some(k) => format!(
                "a paste needs a text box: press {} first; nothing was typed",
                k.label
            ),
            None => "a paste needs a text box; nothing was typed".to_owned(),
        };
        state.say(sentence, Tone::Info);
        return;
    };
    let text = if multi_line {
        text.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        text.to_owned()
    };
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

/// A key that may be text: into the open dialog or text box, else the desk's keys, else the global ones.
fn typed(state: &mut State, key: KeyEvent, cmds: &mut Vec<Cmd>) {
    if let Some(overlay) = state.overlay.take() {
        state.overlay = overlay_key(state, overlay, key, cmds);
        return;
    }
    let front = state.desk;
    if state.typing() {
        let outcome = with_desks(state, |d, ctx| d.type_key(front, key, ctx));
        apply(state, outcome, cmds);
        return;
    }
    match with_desks(state, |d, ctx| d.press(front, &key, ctx)) {
        Press::Done(outcome) => {
            state.notice = None;
            apply(state, *outcome, cmds);
            return;
        }
        Press::Refused(permission) => {
            state.refuse(permission);
            return;
        }
        Press::Unbound => {}
    }
    let numbered = keymap::desk_number(&key).and_then(|n| DeskId::ALL.get(n.wrapping_sub(1)));
    let binding =
        keymap::lookup(&key).filter(|b| b.action != Global::DeskByNumber || numbered.is_some());
    let Some(binding) = binding else {
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
    state.notice = None;
    match binding.action {
        Global::Quit => state.quit = true,
        Global::Help => state.overlay = Some(Overlay::Help),
        Global::DeskByNumber => {
            if let Some(desk) = numbered {
                open_desk(state, *desk);
            }
        }
        Global::NextDesk | Global::PrevDesk => {
            let visible: Vec<DeskId> = DeskId::ALL
                .iter()
                .copied()
                .filter(|d| state.sees(*d))
                .collect();
            let count = visible.len().max(1);
            let at = visible.iter().position(|d| *d == state.desk).unwrap_or(0);
            let next = if binding.action == Global::NextDesk {
                (at + 1) % count
            } else {
                (at + count - 1) % count
            };
            if let Some(desk) = visible.get(next) {
                state.desk = *desk;
            }
        }
        Global::Nav(nav) => {
            let outcome = with_desks(state, |d, ctx| d.nav(front, nav, ctx));
            apply(state, outcome, cmds);
        }
    }
}

fn open_desk(state: &mut State, desk: DeskId) {
    if state.sees(desk) {
        state.desk = desk;
    } else {
        let role = state.operator.role.clone();
        state.say(
            format!("your role ({role}) cannot see the {} desk", desk.title()),
            Tone::Bad,
        );
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
                cmds.push(Cmd::Desk(confirm.cmd));
                None
            }
            KeyCode::Enter if confirm.yes_focused => {
                state.say("working...", Tone::Info);
                cmds.push(Cmd::Desk(confirm.cmd));
                None
            }
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc | KeyCode::Enter => {
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
        Overlay::Form(form) => {
            let (form, outcome) = with_desks(state, |d, ctx| d.form_key(form, key, ctx));
            apply(state, outcome, cmds);
            form.map(Overlay::Form)
        }
        Overlay::Prompt(mut prompt) => match key.code {
            KeyCode::Esc => {
                state.say("cancelled: nothing changed", Tone::Info);
                None
            }
            KeyCode::Enter => {
                let text = prompt.input.value().to_owned();
                let answer = with_desks(state, |d, ctx| d.answer(&prompt.kind, &text, ctx));
                match answer {
                    Err(error) => {
                        prompt.error = Some(error);
                        Some(Overlay::Prompt(prompt))
                    }
                    Ok(AnyAnswerTo::Unchanged) => {
                        state.say("that is how it is already: nothing changed", Tone::Info);
                        None
                    }
                    Ok(AnyAnswerTo::Confirm(confirm)) => Some(Overlay::Confirm(Box::new(confirm))),
                    Ok(AnyAnswerTo::Ask(next)) => {
                        Some(Overlay::Prompt(Box::new(Prompt::new(next))))
                    }
                    Ok(AnyAnswerTo::Run(cmd)) => {
                        state.say("working...", Tone::Info);
                        cmds.push(Cmd::Desk(cmd));
                        None
                    }
                }
            }
            _ => {
                prompt.input.handle_event(&Event::Key(key));
                prompt.error = None;
                Some(Overlay::Prompt(prompt))
            }
        },
    }
}

/// The tab bar's count for a desk, from the rows the desk shows (so a tab and its desk never disagree).
pub fn badge(state: &State, desk: DeskId) -> Option<i64> {
    state.desks.badge(desk, &state.context())
}

/// What a desk's prompt asks, as its dialog shows it (for the frame).
pub fn describe(state: &State, prompt: &Prompt) -> Option<crate::desks::desk::PromptText> {
    state.desks.describe(&prompt.kind, &state.context())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::listen::XidRange;
    use crate::desks::announcements::commands::{
        Answer as AnnouncementAnswer, Cmd as AnnouncementCmd,
    };
    use crate::desks::checkins;
    use crate::desks::checkins::commands::{
        Answer as CheckinAnswer, CheckinChanges, Cmd as CheckinCmd,
    };
    use crate::desks::checkins::model::{BatchView, ScanOutcome, Summary};
    use crate::desks::desk::RowsAsked;
    use crate::desks::registry::{AnyAnswer, Loaded};
    use crate::desks::sessions::commands::Cmd as SessionCmd;
    use crate::desks::sessions::model::{SessionRow, SessionStatus};

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
        Permissions::member_with(&[Permission::CheckIn])
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
            status: SessionStatus::Scheduled,
            waiting: 0,
            registrations_recent: 0,
            entries_recent: 0,
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
                permissions
            }]
        );
        update(
            &mut s,
            Msg::Snapshot {
                generation: 1,
                result: Ok(Box::new(Loaded {
                    checkins: checkins::Loaded(Some(checkins::Snapshot {
                        summary: summary(),
                        feed: vec![],
                        problems: vec![],
                        gates: vec![],
                        alerts: vec![],
                    })),
                    sessions: vec![session_row()],
                    ..Loaded::default()
                })),
            },
        );
        assert_eq!(s.link, Link::Live);
        // What desks read of their own once loaded (not from hints) goes out now, so that each test
        // sees only what its hints call for.
        let _ = fetches(&mut s);
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
            vec![Cmd::Desk(AnyCmd::Sessions(SessionCmd::SetStatus {
                session: Uuid::from_u128(9),
                title: "Keynote".into(),
                status: SessionStatus::Live,
            }))]
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
            Msg::Desk(AnyAnswer::Announcements(AnnouncementAnswer::Saved {
                verb: "saved the draft",
                title: "Doors open".into(),
                id: Some(id),
                result: Ok(()),
            })),
        );
        assert_eq!(
            fetches(&mut s),
            vec![Cmd::Desk(AnyCmd::Announcements(AnnouncementCmd::Fetch(
                RowsAsked {
                    generation: 1,
                    ids: Some(vec![id]),
                }
            )))]
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
            vec![Cmd::Desk(AnyCmd::Checkins(CheckinCmd::Changes {
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
            }))]
        );
        // While that fetch is out, more hints wait; nothing else is sent.
        update(&mut s, batch("event_checkins", 130, 140));
        assert!(fetches(&mut s).is_empty());
        // When it is back, the next rows come at once, and the totals with them (they cost a few index
        // reads since the flusher keeps them).
        update(
            &mut s,
            Msg::Desk(AnyAnswer::Checkins(CheckinAnswer::Changes {
                generation: 1,
                result: Err("gone".into()),
            })),
        );
        s.resync_due = false;
        assert_eq!(
            fetches(&mut s),
            vec![Cmd::Desk(AnyCmd::Checkins(CheckinCmd::Changes {
                generation: 1,
                checkins: Some(XidRange {
                    from: 130,
                    to: 140,
                    late: vec![]
                }),
                problems: None,
                batches: vec![],
                summary: true,
            }))]
        );
    }

    #[test]
    fn slow_totals_are_read_less_often() {
        let mut s = live(Permissions::all());
        update(&mut s, batch("event_checkins", 1, 2));
        assert!(matches!(
            fetches(&mut s).as_slice(),
            [Cmd::Desk(AnyCmd::Checkins(CheckinCmd::Changes {
                summary: true,
                ..
            }))]
        ));
        update(
            &mut s,
            Msg::Desk(AnyAnswer::Checkins(CheckinAnswer::Changes {
                generation: 1,
                result: Ok(Box::new(CheckinChanges {
                    summary: Some(summary()),
                    summary_took: Some(std::time::Duration::from_millis(700)),
                    checkins: vec![],
                    problems: vec![],
                    sessions_touched: vec![],
                })),
            })),
        );
        update(&mut s, batch("event_checkins", 2, 3));
        for (after, due) in [(1, false), (2, false), (3, true)] {
            update(&mut s, Msg::Tick(now() + Duration::seconds(after)));
            let cmds = fetches(&mut s);
            let asked = cmds.iter().any(|c| {
                matches!(
                    c,
                    Cmd::Desk(AnyCmd::Checkins(CheckinCmd::Changes { summary: true, .. }))
                )
            });
            assert_eq!(asked, due, "after {after} s: {cmds:?}");
            if !cmds.is_empty() {
                update(
                    &mut s,
                    Msg::Desk(AnyAnswer::Checkins(CheckinAnswer::Changes {
                        generation: 1,
                        result: Ok(Box::new(CheckinChanges {
                            summary: None,
                            summary_took: None,
                            checkins: vec![],
                            problems: vec![],
                            sessions_touched: vec![],
                        })),
                    })),
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
            matches!(cmds.as_slice(), [Cmd::Desk(AnyCmd::Checkins(CheckinCmd::Changes { batches, summary: true, checkins: Some(_), problems: Some(_), .. }))] if batches == &vec![7, 8]),
            "{cmds:?}"
        );
        // Totals that took long to read space out direct reads, never the views' own totals.
        s.desks.checkins.fetch.summary_took = Duration::seconds(5);
        update(
            &mut s,
            Msg::Desk(AnyAnswer::Checkins(CheckinAnswer::Changes {
                generation: 1,
                result: Err("gone".into()),
            })),
        );
        s.resync_due = false;
        update(&mut s, numbered("event_checkins", 120, 130, 9));
        let cmds = fetches(&mut s);
        assert!(
            matches!(cmds.as_slice(), [Cmd::Desk(AnyCmd::Checkins(CheckinCmd::Changes { batches, summary: true, .. }))] if batches == &vec![9]),
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
            matches!(cmds.as_slice(), [Cmd::Desk(AnyCmd::Checkins(CheckinCmd::Changes { batches, checkins: Some(r), .. }))] if batches.is_empty() && r.from == 100 && r.to == 120),
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
        assert_eq!(
            s.desks.checkins.summary.as_ref().map(|x| x.checked_in),
            Some(70)
        );
        update(&mut s, numbered("event_checkins", 100, 110, 7));
        update(&mut s, numbered("refused_scans", 100, 110, 7));
        assert!(fetches(&mut s).is_empty());
        // Another event's batch is not ours.
        let Msg::Pushed(mut other) = pushed_view(8, 5) else {
            unreachable!()
        };
        other.event = Uuid::from_u128(2);
        update(&mut s, Msg::Pushed(other));
        assert_eq!(
            s.desks.checkins.summary.as_ref().map(|x| x.checked_in),
            Some(70)
        );
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
            s.desks
                .checkins
                .summary
                .as_ref()
                .is_none_or(|x| x.checked_in != 80)
        );
        update(
            &mut s,
            Msg::Desk(AnyAnswer::Checkins(CheckinAnswer::Changes {
                generation: 1,
                result: Ok(Box::new(CheckinChanges {
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
            })),
        );
        let cmds = fetches(&mut s);
        assert!(
            matches!(cmds.as_slice(), [Cmd::Desk(AnyCmd::Checkins(CheckinCmd::Changes { batches, .. }))] if batches == &vec![8]),
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
        let answer = |summary: Summary| {
            Msg::Desk(AnyAnswer::Checkins(CheckinAnswer::Changes {
                generation: 1,
                result: Ok(Box::new(CheckinChanges {
                    summary: Some(summary),
                    summary_took: None,
                    checkins: vec![],
                    problems: vec![],
                    sessions_touched: vec![],
                })),
            }))
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
            s.desks.checkins.fetch.in_flight = true;
            update(&mut s, answer(summary));
            assert_eq!(
                s.desks.checkins.summary.as_ref().map(|x| x.checked_in),
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
            vec![Cmd::Desk(AnyCmd::Sessions(SessionCmd::Fetch(RowsAsked {
                generation: 1,
                ids: Some(vec![Uuid::from_u128(9)]),
            })))]
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
            Msg::Desk(AnyAnswer::Checkins(CheckinAnswer::Changes {
                generation: 1,
                result: Err("late".into()),
            })),
        );
        assert!(s.notice.is_none());
        // Back and loaded: LIVE, and how long it was without the database goes to the incident log,
        // once, from the last moment the screen was known to be true.
        s.now += Duration::seconds(40);
        let cmds = update(
            &mut s,
            Msg::Snapshot {
                generation: 3,
                result: Ok(Box::default()),
            },
        );
        assert_eq!(s.link, Link::Live);
        assert!(
            cmds.contains(&Cmd::ReportOutage {
                lost_for_seconds: 40.0,
                reason: "gone".into()
            }),
            "{cmds:?}"
        );
        update(&mut s, Msg::Listener(ListenerEvent::Connected));
        let cmds = update(
            &mut s,
            Msg::Snapshot {
                generation: 4,
                result: Ok(Box::default()),
            },
        );
        assert!(
            !cmds.iter().any(|c| matches!(c, Cmd::ReportOutage { .. })),
            "reported once: {cmds:?}"
        );
        // A report the database could not take is said, not lost silently.
        update(&mut s, Msg::OutageReported(Err("refused".into())));
        assert!(
            s.notice
                .as_ref()
                .is_some_and(|n| n.text.contains("not in the incident log")),
            "{:?}",
            s.notice
        );
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
        assert_eq!(
            s.notice.as_ref().map(|n| n.text.as_str()),
            Some("No worker: offers do not expire, scheduled announcements wait (eventos worker)"),
            "each desk says what stops there"
        );
        update(&mut s, health(Some(now())));
        assert!(!s.worker_missing);
        assert_eq!(s.notice, None);
    }

    #[test]
    fn the_no_worker_warning_names_only_what_the_operator_sees() {
        assert_eq!(
            no_worker(&Permissions::default()),
            "No worker: start one (eventos worker)"
        );
    }

    #[test]
    fn a_paste_with_no_text_box_open_names_the_desks_own_key_and_types_nothing() {
        let mut s = live(volunteer());
        let cmds = update(&mut s, Msg::Paste("x y".into()));
        assert!(cmds.is_empty());
        assert_eq!(
            s.notice.as_ref().map(|n| n.text.as_str()),
            Some("a paste needs a text box: press / first; nothing was typed")
        );
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
            vec![Cmd::Desk(AnyCmd::Checkins(CheckinCmd::Scan {
                code: "NOPE".into()
            }))]
        );
        update(
            &mut s,
            Msg::Desk(AnyAnswer::Checkins(CheckinAnswer::Scanned {
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
            })),
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

//! What one desk is, all of it in its own folder: its keys and what they do, its dialogs, its commands
//! and how they run against the database, what it hears of realtime, what it fetches, its badge and its
//! view. `app` routes messages to desks through `desks::registry` and runs their commands generically;
//! the update stays pure (a desk returns an `Outcome`: commands as data, never an await).

use std::fmt::Debug;
use std::future::Future;

use anyhow::Result;
use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use deadpool_postgres::{ClientWrapper, Pool};
use ratatui::Frame;
use ratatui::layout::Rect;
use uuid::Uuid;

use super::{Context, Permission, Permissions};
use crate::db::Failure;
use crate::db::listen::Hint;
use crate::ui::{Theme, Tone};

/// Movement and the two keys every list shares. The global keys (arrows, PgUp, Home, Esc) send these to
/// the desk in front, as its own action (`From<Nav>`); `/` is bound by each desk, with its own help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// `/`: the desk's filter or search.
    Filter,
    /// Esc: close what is open.
    Back,
}

/// A desk's actions: the shared `Nav` ones under their own names, then its own. Generates the enum,
/// `From<Nav>` and `nav()`.
#[macro_export]
macro_rules! desk_actions {
    ($(#[$meta:meta])* $($own:ident),* $(,)?) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Action {
            Up,
            Down,
            PageUp,
            PageDown,
            Top,
            Bottom,
            Filter,
            Back,
            $($own,)*
        }

        impl From<$crate::desks::desk::Nav> for Action {
            fn from(nav: $crate::desks::desk::Nav) -> Action {
                use $crate::desks::desk::Nav;
                match nav {
                    Nav::Up => Action::Up,
                    Nav::Down => Action::Down,
                    Nav::PageUp => Action::PageUp,
                    Nav::PageDown => Action::PageDown,
                    Nav::Top => Action::Top,
                    Nav::Bottom => Action::Bottom,
                    Nav::Filter => Action::Filter,
                    Nav::Back => Action::Back,
                }
            }
        }

        impl Action {
            /// The shared movement this action is, if it is one.
            pub fn nav(self) -> Option<$crate::desks::desk::Nav> {
                use $crate::desks::desk::Nav;
                Some(match self {
                    Action::Up => Nav::Up,
                    Action::Down => Nav::Down,
                    Action::PageUp => Nav::PageUp,
                    Action::PageDown => Nav::PageDown,
                    Action::Top => Nav::Top,
                    Action::Bottom => Nav::Bottom,
                    Action::Filter => Nav::Filter,
                    Action::Back => Nav::Back,
                    #[allow(unreachable_patterns)]
                    _ => return None,
                })
            }
        }
    };
}

/// One key binding: the key table drives lookup, the footer's hints and the `?` help, so they cannot
/// disagree.
#[derive(Debug, Clone, Copy)]
pub struct Binding<A: 'static> {
    pub keys: &'static [(KeyCode, KeyModifiers)],
    /// How the key is written in hints and help.
    pub label: &'static str,
    pub help: &'static str,
    /// The footer hint's word (None: only in the help).
    pub hint: Option<&'static str>,
    pub action: A,
    /// The permission the action needs; without it the hint is hidden and the key says why.
    pub needs: Option<Permission>,
}

impl<A> Binding<A> {
    pub fn matches(&self, key: &KeyEvent) -> bool {
        self.keys
            .iter()
            .any(|(code, mods)| *code == key.code && *mods == key.modifiers)
    }
}

/// A binding without its action: what the footer and the help show.
#[derive(Debug, Clone, Copy)]
pub struct KeyInfo {
    pub keys: &'static [(KeyCode, KeyModifiers)],
    pub label: &'static str,
    pub help: &'static str,
    pub hint: Option<&'static str>,
    pub needs: Option<Permission>,
    /// The desk offers it in what it shows now (an approved-to-pay list offers no approve key).
    pub offered: bool,
    /// It opens the desk's search or filter box (every desk has one).
    pub filters: bool,
}

impl<A> Binding<A> {
    pub fn info(&self, offered: bool) -> KeyInfo {
        KeyInfo {
            keys: self.keys,
            label: self.label,
            help: self.help,
            hint: self.hint,
            needs: self.needs,
            offered,
            filters: false,
        }
    }
}

/// A change to confirm; Cancel is focused until the operator moves to Confirm.
#[derive(Debug, Clone, PartialEq)]
pub struct Confirm<C> {
    pub title: String,
    pub lines: Vec<String>,
    pub cmd: C,
    pub yes_focused: bool,
    /// Drawn as a warning (cancelling, rejecting, urgent).
    pub danger: bool,
}

impl<C> Confirm<C> {
    pub fn new(title: impl Into<String>, lines: Vec<String>, cmd: C) -> Confirm<C> {
        Confirm {
            title: title.into(),
            lines,
            cmd,
            yes_focused: false,
            danger: false,
        }
    }

    pub fn dangerous(self) -> Confirm<C> {
        self.dangerous_if(true)
    }

    pub fn dangerous_if(mut self, danger: bool) -> Confirm<C> {
        self.danger = danger;
        self
    }

    pub fn map<D>(self, f: impl FnOnce(C) -> D) -> Confirm<D> {
        Confirm {
            title: self.title,
            lines: self.lines,
            cmd: f(self.cmd),
            yes_focused: self.yes_focused,
            danger: self.danger,
        }
    }
}

/// What a one-field prompt shows: its title, context lines, the field's label and the hint under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptText {
    pub title: String,
    pub lines: Vec<String>,
    pub label: &'static str,
    pub hint: String,
}

/// A dialog a desk opens.
#[derive(Debug, Clone)]
pub enum Dialog<D: Desk> {
    Confirm(Confirm<D::Cmd>),
    /// One field; Enter validates it in place (`Desk::answer`).
    Prompt(D::Prompt),
    /// A form of the desk's own (`Desk::form_key`).
    Form(Box<D::Form>),
}

/// What a prompt's answer leads to.
#[derive(Debug)]
pub enum Answer<D: Desk> {
    /// It is how things are already.
    Unchanged,
    Confirm(Confirm<D::Cmd>),
    /// Another question first.
    Ask(D::Prompt),
    /// The answer was the confirmation (a slug typed).
    Run(D::Cmd),
}

/// Another desk to show, and what to show there (the first desk that takes it is opened).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Focus {
    /// One session's waiting lists.
    SessionWaitlist { session: Uuid, title: String },
    /// A new announcement about one of today's sessions, written for the operator to finish: its
    /// title and text, and the session as the form names it ("HH:MM title").
    SessionNotice {
        title: String,
        content: String,
        session_label: String,
    },
}

/// What a desk's update asks of the console: a sentence, a bell, commands, a dialog, a resync, hints
/// for the other desks, another desk to show.
#[derive(Debug)]
pub struct Outcome<D: Desk> {
    pub say: Option<(String, Tone)>,
    pub bell: bool,
    pub cmds: Vec<D::Cmd>,
    pub dialog: Option<Dialog<D>>,
    /// A fetch failed: read every desk again on the next tick.
    pub resync: bool,
    /// Changes the desk learnt of that other desks may show (sessions whose presence moved).
    pub hints: Vec<Hint>,
    pub focus: Option<Focus>,
}

impl<D: Desk> Default for Outcome<D> {
    fn default() -> Self {
        Outcome {
            say: None,
            bell: false,
            cmds: Vec::new(),
            dialog: None,
            resync: false,
            hints: Vec::new(),
            focus: None,
        }
    }
}

impl<D: Desk> Outcome<D> {
    pub fn nothing() -> Self {
        Self::default()
    }

    pub fn say(text: impl Into<String>, tone: Tone) -> Self {
        Outcome {
            say: Some((text.into(), tone)),
            ..Self::default()
        }
    }

    /// A refusal or failure: said, with the bell.
    pub fn bad(text: impl Into<String>) -> Self {
        Outcome {
            say: Some((text.into(), Tone::Bad)),
            bell: true,
            ..Self::default()
        }
    }

    pub fn run(cmd: D::Cmd) -> Self {
        Outcome {
            cmds: vec![cmd],
            ..Self::default()
        }
    }

    pub fn confirm(confirm: Confirm<D::Cmd>) -> Self {
        Self::dialog(Dialog::Confirm(confirm))
    }

    pub fn prompt(prompt: D::Prompt) -> Self {
        Self::dialog(Dialog::Prompt(prompt))
    }

    pub fn dialog(dialog: Dialog<D>) -> Self {
        Outcome {
            dialog: Some(dialog),
            ..Self::default()
        }
    }

    /// A change's answer: its sentence, or the refusal's or failure's, with the bell.
    pub fn done(result: Result<(), Failure>, text: impl FnOnce() -> String) -> Self {
        match result {
            Ok(()) => Self::say(text(), Tone::Good),
            Err(failure) => Self::bad(failure.notice()),
        }
    }

    /// A fetch that failed: said, and everything is read again.
    pub fn unreadable(what: &str, failure: &Failure) -> Self {
        Outcome {
            say: Some((format!("cannot read {what}: {failure}"), Tone::Bad)),
            resync: true,
            ..Self::default()
        }
    }
}

/// Where commands run: the desks' pool, the door's own, the event and the gate this console's scans
/// come from.
pub struct Env {
    pub pool: Pool,
    /// Scans, check-ins and check-outs only, so that the door never waits behind a desk's read.
    pub doors: Pool,
    pub event: Uuid,
    pub gate: String,
}

impl Env {
    pub async fn client(&self) -> Result<deadpool_postgres::Object> {
        crate::db::pooled(&self.pool).await
    }

    /// A connection for the door's writes.
    pub async fn door_client(&self) -> Result<deadpool_postgres::Object> {
        crate::db::pooled(&self.doors).await
    }
}

/// A database call's result, its error typed (and logged) as a `Failure`.
pub async fn attempt<T>(work: impl Future<Output = Result<T>>) -> Result<T, Failure> {
    work.await.map_err(|e| Failure::logged(&e))
}

/// The clock moved: what changed, and whether the desk is on screen.
#[derive(Debug, Clone, Copy)]
pub struct Tick {
    pub now: DateTime<Utc>,
    pub minute: bool,
    /// The event's date changed (past midnight where it is).
    pub day: bool,
    /// The desk is in front, with no dialog over it.
    pub shown: bool,
}

/// A desk has no prompt or form of this kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Never {}

/// The form methods of a desk with no forms (`type Form = Never`), inside its `impl Desk`.
#[macro_export]
macro_rules! no_forms {
    () => {
        fn form_key(
            &mut self,
            form: Box<$crate::desks::desk::Never>,
            _key: crossterm::event::KeyEvent,
            _ctx: &$crate::desks::Context,
        ) -> (
            Option<Box<$crate::desks::desk::Never>>,
            $crate::desks::desk::Outcome<Self>,
        ) {
            match *form {}
        }

        fn form_takes_paste(form: &$crate::desks::desk::Never) -> Option<bool> {
            match *form {}
        }

        fn render_form(
            form: &$crate::desks::desk::Never,
            _frame: &mut ratatui::Frame,
            _area: ratatui::layout::Rect,
            _theme: &$crate::ui::Theme,
        ) {
            match *form {}
        }
    };
}

/// A desk's command methods, handed to its `commands` module (`run`, `change_in_words`, `failed`,
/// `answered`), inside its `impl Desk`.
#[macro_export]
macro_rules! commands_in {
    ($module:ident) => {
        async fn run(env: &$crate::desks::desk::Env, cmd: Self::Cmd) -> Self::Answer {
            $module::run(env, cmd).await
        }

        fn change_in_words(cmd: &Self::Cmd) -> Option<String> {
            $module::change_in_words(cmd)
        }

        fn failed(cmd: Self::Cmd, why: $crate::db::Failure) -> Self::Answer {
            $module::failed(cmd, why)
        }

        fn answered(
            &mut self,
            answer: Self::Answer,
            ctx: &$crate::desks::Context,
        ) -> $crate::desks::desk::Outcome<Self> {
            $module::answered(self, answer, ctx)
        }
    };
}

/// One desk. Implemented in the desk's own folder; `desks::registry` names them all.
pub trait Desk: Default + Debug + Clone + Sized + 'static {
    type Action: Copy + Eq + Debug + From<Nav> + 'static;
    /// Its commands: fetches and changes.
    type Cmd: Debug + Clone + PartialEq + Send + 'static;
    /// What a command answers.
    type Answer: Debug + Send + 'static;
    /// Its one-field prompts.
    type Prompt: Debug + Clone;
    /// Its forms (`Never` for none).
    type Form: Debug + Clone;
    /// Its part of the snapshot every desk reads together.
    type Loaded: Debug + Clone + PartialEq + Default + Send + 'static;

    const TITLE: &'static str;
    /// The tab's title when the terminal is narrow.
    const SHORT_TITLE: &'static str = Self::TITLE;
    const BINDINGS: &'static [Binding<Self::Action>];
    /// What stops at this desk while no worker runs, in a few words for the console's warning ("offers
    /// do not expire"), if anything.
    const WITHOUT_WORKER: Option<&'static str> = None;

    /// Whether the desk is shown at all: a desk whose rows the operator cannot read is hidden.
    fn shown_to(permissions: &Permissions) -> bool {
        permissions.member
    }

    // Keys.

    /// A text box of the desk has the keyboard (single-key shortcuts are off).
    fn typing(&self) -> bool;
    /// A key while `typing()`.
    fn type_key(&mut self, key: KeyEvent, ctx: &Context) -> Outcome<Self>;
    fn act(&mut self, action: Self::Action, ctx: &Context) -> Outcome<Self>;
    /// Whether the action applies to what the desk shows now (its hint is hidden otherwise).
    fn offers(&self, _action: Self::Action) -> bool {
        true
    }
    /// The footer while a mode of the desk's own is on (scan mode), instead of its keys.
    fn footer(&self) -> Option<Vec<(&'static str, &'static str)>> {
        None
    }
    /// Another desk asked to show something here: what follows if taken (a dialog to open), None if not
    /// this desk's.
    fn focus(&mut self, _focus: &Focus) -> Option<Outcome<Self>> {
        None
    }

    // Dialogs.

    fn describe(prompt: &Self::Prompt, ctx: &Context) -> PromptText;
    /// The prompt's answer, or the sentence to show under its field.
    fn answer(prompt: &Self::Prompt, text: &str, ctx: &Context) -> Result<Answer<Self>, String>;
    /// A key in one of its forms: the form that stays open (None: closed) and what follows.
    fn form_key(
        &mut self,
        form: Box<Self::Form>,
        key: KeyEvent,
        ctx: &Context,
    ) -> (Option<Box<Self::Form>>, Outcome<Self>);
    /// Whether the form's focused field takes a paste: None, Some(false) one line, Some(true) lines.
    fn form_takes_paste(form: &Self::Form) -> Option<bool>;
    fn render_form(form: &Self::Form, frame: &mut Frame, area: Rect, theme: &Theme);

    // Loading and realtime.

    /// A change heard on the server (already known to be this event's).
    fn hear(&mut self, hint: &Hint);
    /// What the hints heard call for: one fetch at a time.
    fn fetch(&mut self, ctx: &Context) -> Option<Self::Cmd>;
    /// A resync or a lost link: nothing pending or in flight any more.
    fn forget(&mut self);
    /// Its part of the snapshot, inside the snapshot's transaction.
    fn load(env: &Env, db: &ClientWrapper) -> impl Future<Output = Result<Self::Loaded>> + Send;
    fn loaded(&mut self, loaded: Self::Loaded, ctx: &Context);
    /// The clock moved; true if the screen must be drawn again.
    fn tick(&mut self, _tick: Tick) -> bool {
        false
    }

    // Commands.

    fn run(env: &Env, cmd: Self::Cmd) -> impl Future<Output = Self::Answer> + Send;
    /// What the command changes, in words for "NO ANSWER YET for ...", or None for a read.
    fn change_in_words(cmd: &Self::Cmd) -> Option<String>;
    /// The answer when the command could not run at all.
    fn failed(cmd: Self::Cmd, why: Failure) -> Self::Answer;
    fn answered(&mut self, answer: Self::Answer, ctx: &Context) -> Outcome<Self>;

    // Drawing.

    /// The tab's count, from the rows the desk shows.
    fn badge(&self, _ctx: &Context) -> Option<i64> {
        None
    }
    fn render(&self, frame: &mut Frame, area: Rect, ctx: &Context, theme: &Theme);
}

/// A fetch of rows by id that every list desk shares: the ids heard (or all), one fetch out at a time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowFetch {
    pub ids: std::collections::BTreeSet<Uuid>,
    pub all: bool,
    pub in_flight: bool,
}

impl RowFetch {
    /// A hint for one row (Some) or the whole table (None).
    pub fn hear(&mut self, id: Option<Uuid>) {
        match id {
            Some(id) => {
                self.ids.insert(id);
            }
            None => self.all = true,
        }
    }

    /// The read the hints heard call for, if none is out: every row (ids None) or these.
    pub fn next(&mut self, ctx: &Context) -> Option<RowsAsked> {
        if self.in_flight || (!self.all && self.ids.is_empty()) {
            return None;
        }
        let ids = (!self.all).then(|| self.ids.iter().copied().collect());
        self.all = false;
        self.ids.clear();
        self.in_flight = true;
        Some(RowsAsked {
            generation: ctx.generation,
            ids,
        })
    }

    /// An answer came for the fetch asked in `generation`: false if it is stale (dropped).
    pub fn answered(&mut self, generation: u64, ctx: &Context) -> bool {
        if generation != ctx.generation {
            return false;
        }
        self.in_flight = false;
        true
    }

    pub fn forget(&mut self) {
        *self = RowFetch::default();
    }
}

/// A list desk's read of its rows: all of them (ids None) or these, asked in `generation`.
#[derive(Debug, Clone, PartialEq)]
pub struct RowsAsked {
    pub generation: u64,
    pub ids: Option<Vec<Uuid>>,
}

impl RowsAsked {
    /// The answer, carrying what was asked.
    pub fn answer<T>(self, result: Result<Vec<T>, Failure>) -> RowsRead<T> {
        RowsRead {
            generation: self.generation,
            requested: self.ids,
            result,
        }
    }
}

/// What a list desk's read of its rows found.
#[derive(Debug)]
pub struct RowsRead<T> {
    pub generation: u64,
    /// None: every row was read.
    pub requested: Option<Vec<Uuid>>,
    pub result: Result<Vec<T>, Failure>,
}

impl<T> RowsRead<T> {
    /// Dropped if asked for before a resync; else the rows go to `apply` (with the ids asked for, None
    /// for all), or a failure says so and every desk is read again.
    pub fn apply<D: Desk>(
        self,
        desk: &mut D,
        fetch: fn(&mut D) -> &mut RowFetch,
        ctx: &Context,
        what: &str,
        apply: impl FnOnce(&mut D, Vec<T>, Option<Vec<Uuid>>),
    ) -> Outcome<D> {
        if !fetch(desk).answered(self.generation, ctx) {
            return Outcome::nothing();
        }
        match self.result {
            Ok(rows) => {
                apply(desk, rows, self.requested);
                Outcome::nothing()
            }
            Err(failure) => Outcome::unreadable(what, &failure),
        }
    }
}

/// A reason typed into a prompt: something (how long it may be is the database's rule, said in its
/// refusal).
pub fn required_reason<'a>(text: &'a str, missing: &str) -> Result<&'a str, String> {
    let reason = text.trim();
    if reason.is_empty() {
        return Err(missing.to_owned());
    }
    Ok(reason)
}

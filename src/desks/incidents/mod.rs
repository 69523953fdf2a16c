//! Incidents desk: the event's timeline of what a control room must reconstruct afterwards (gate alerts
//! and their acknowledgements, refusal spikes, check-ins by hand and check-outs, capacity and session
//! changes, announcements sent, expenses decided, periods without the database, incident notes), read
//! from the audit trail and the database's own records, filtered by kind and time, live, with notes.

pub mod commands;
pub mod dialogs;
pub mod keys;
pub mod model;
pub mod store;
pub mod view;

use crossterm::event::KeyEvent;
use deadpool_postgres::ClientWrapper;
use ratatui::Frame;
use ratatui::layout::Rect;

pub use model::IncidentsDesk;

use super::desk::{Answer, Binding, Desk, Env, Never, Outcome, PromptText, Tick};
use super::{Context, Permission, Permissions};
use crate::db::listen::Hint;
use crate::ui::Theme;

/// The changes the timeline is made of (check-ins by hand come with the doors' batches instead, read
/// every few seconds while the desk is in front).
const HEARD: &[&str] = &[
    "gate_alerts",
    "incident_notes",
    "connection_outages",
    "sessions",
    "event_announcements",
    "event_expenses",
    "event_waitlists",
    "event_teams",
    "tickets",
];

impl Desk for IncidentsDesk {
    type Action = keys::Action;
    type Cmd = commands::Cmd;
    type Answer = commands::Answer;
    type Prompt = dialogs::Prompt;
    type Form = Never;
    type Loaded = ();

    const TITLE: &'static str = "Incidents";
    const SHORT_TITLE: &'static str = "Log";
    const BINDINGS: &'static [Binding<keys::Action>] = keys::BINDINGS;

    /// The timeline is the event's audit trail: for those who may read it.
    fn shown_to(permissions: &Permissions) -> bool {
        permissions.has(Permission::ManageEvent)
    }

    fn typing(&self) -> bool {
        IncidentsDesk::typing(self)
    }

    fn type_key(&mut self, key: KeyEvent, _ctx: &Context) -> Outcome<Self> {
        dialogs::intent(IncidentsDesk::type_key(self, key))
    }

    fn act(&mut self, action: keys::Action, _ctx: &Context) -> Outcome<Self> {
        dialogs::intent(IncidentsDesk::act(self, action))
    }

    fn describe(prompt: &dialogs::Prompt, _ctx: &Context) -> PromptText {
        dialogs::describe(prompt)
    }

    fn answer(
        prompt: &dialogs::Prompt,
        text: &str,
        _ctx: &Context,
    ) -> Result<Answer<Self>, String> {
        dialogs::answer(prompt, text)
    }

    crate::no_forms!();

    fn hear(&mut self, hint: &Hint) {
        if HEARD.contains(&hint.table.as_str()) {
            self.wanted = true;
        }
    }

    fn fetch(&mut self, ctx: &Context) -> Option<commands::Cmd> {
        self.take_read(ctx.now).then(|| commands::Cmd::Read {
            generation: ctx.generation,
            since: self.span.since(ctx.now, ctx.offset),
            kind: self.kind,
        })
    }

    fn forget(&mut self) {
        self.in_flight = false;
        self.wanted = true;
    }

    /// Not in the snapshot: the timeline is read once the desk is loaded, with its own filters.
    async fn load(_env: &Env, _db: &ClientWrapper) -> anyhow::Result<()> {
        Ok(())
    }

    fn loaded(&mut self, _loaded: (), _ctx: &Context) {
        self.wanted = true;
    }

    fn tick(&mut self, tick: Tick) -> bool {
        self.tick_at(tick.now, tick.shown);
        false
    }

    crate::commands_in!(commands);

    fn render(&self, frame: &mut Frame, area: Rect, ctx: &Context, theme: &Theme) {
        view::render(frame, area, self, ctx, theme);
    }
}

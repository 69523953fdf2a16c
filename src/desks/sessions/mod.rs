//! Sessions desk: today's sessions, now and next first, with capacity, presence and status.

pub mod commands;
pub mod dialogs;
pub mod forecast;
pub mod keys;
pub mod model;
pub mod store;
pub mod view;

use crossterm::event::KeyEvent;
use deadpool_postgres::ClientWrapper;
use ratatui::Frame;
use ratatui::layout::Rect;

pub use model::SessionsDesk;

use super::Context;
use super::desk::{Answer, Binding, Desk, Env, Never, Outcome, PromptText, Tick};
use crate::db::listen::Hint;
use crate::ui::Theme;

impl Desk for SessionsDesk {
    type Action = keys::Action;
    type Cmd = commands::Cmd;
    type Answer = commands::Answer;
    type Prompt = dialogs::Prompt;
    type Form = Never;
    type Loaded = Vec<model::SessionRow>;

    const TITLE: &'static str = "Sessions";
    const BINDINGS: &'static [Binding<keys::Action>] = keys::BINDINGS;

    fn typing(&self) -> bool {
        SessionsDesk::typing(self)
    }

    fn type_key(&mut self, key: KeyEvent, ctx: &Context) -> Outcome<Self> {
        let intent = SessionsDesk::type_key(self, key);
        dialogs::intent(intent, ctx)
    }

    fn act(&mut self, action: keys::Action, ctx: &Context) -> Outcome<Self> {
        let intent = SessionsDesk::act(self, action);
        dialogs::intent(intent, ctx)
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
        match hint.table.as_str() {
            "sessions" => self.fetch.hear(hint.id),
            // Waiting counts live on the sessions' rows.
            "event_waitlists" => self.fetch.hear(None),
            _ => {}
        }
    }

    fn fetch(&mut self, ctx: &Context) -> Option<commands::Cmd> {
        self.fetch.next(ctx).map(commands::Cmd::Fetch)
    }

    fn forget(&mut self) {
        self.fetch.forget();
    }

    async fn load(env: &Env, db: &ClientWrapper) -> anyhow::Result<Vec<model::SessionRow>> {
        store::sessions(db, env.event, None).await
    }

    fn loaded(&mut self, rows: Vec<model::SessionRow>, ctx: &Context) {
        self.replace(rows, ctx.now);
    }

    fn tick(&mut self, tick: Tick) -> bool {
        if tick.day {
            // Past midnight at the event: today's sessions are another list.
            self.fetch.hear(None);
        }
        if tick.minute {
            // Sessions move from next to now to over.
            let keep = self.selected_row().map(|r| r.id);
            self.arrange(tick.now, keep);
            // Their recent arrivals (the forecasts' rates) age with the clock.
            self.fetch.hear(None);
        }
        tick.minute
    }

    crate::commands_in!(commands);

    fn render(&self, frame: &mut Frame, area: Rect, ctx: &Context, theme: &Theme) {
        view::render(frame, area, self, ctx, theme);
    }
}

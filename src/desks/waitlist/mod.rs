//! Waitlist desk: the queues per event and per session, offers counting down, by hand when needed.

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

pub use model::WaitlistDesk;

use super::Context;
use super::desk::{Answer, Binding, Desk, Env, Focus, Never, Outcome, PromptText, Tick};
use crate::db::listen::Hint;
use crate::ui::Theme;

impl Desk for WaitlistDesk {
    type Action = keys::Action;
    type Cmd = commands::Cmd;
    type Answer = commands::Answer;
    type Prompt = dialogs::Prompt;
    type Form = Never;
    type Loaded = Vec<model::WaitRow>;

    const TITLE: &'static str = "Waitlist";
    const WITHOUT_WORKER: Option<&'static str> = Some("offers do not expire");
    const BINDINGS: &'static [Binding<keys::Action>] = keys::BINDINGS;

    fn typing(&self) -> bool {
        WaitlistDesk::typing(self)
    }

    fn type_key(&mut self, key: KeyEvent, _ctx: &Context) -> Outcome<Self> {
        dialogs::intent(WaitlistDesk::type_key(self, key))
    }

    fn act(&mut self, action: keys::Action, _ctx: &Context) -> Outcome<Self> {
        dialogs::intent(WaitlistDesk::act(self, action))
    }

    fn focus(&mut self, focus: &Focus) -> Option<Outcome<Self>> {
        match focus {
            Focus::SessionWaitlist { session, title } => {
                self.only_session = Some((*session, title.clone()));
                self.nav.selected = 0;
                Some(Outcome::nothing())
            }
            _ => None,
        }
    }

    fn describe(prompt: &dialogs::Prompt, ctx: &Context) -> PromptText {
        dialogs::describe(prompt, ctx)
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
        if hint.table == "event_waitlists" {
            self.fetch.hear(hint.id);
        }
    }

    fn fetch(&mut self, ctx: &Context) -> Option<commands::Cmd> {
        self.fetch.next(ctx).map(commands::Cmd::Fetch)
    }

    fn forget(&mut self) {
        self.fetch.forget();
    }

    async fn load(env: &Env, db: &ClientWrapper) -> anyhow::Result<Vec<model::WaitRow>> {
        store::entries(db, env.event, None).await
    }

    fn loaded(&mut self, rows: Vec<model::WaitRow>, _ctx: &Context) {
        self.replace(rows);
    }

    fn tick(&mut self, tick: Tick) -> bool {
        // An offer's countdown is on screen.
        tick.shown && self.counting_down()
    }

    crate::commands_in!(commands);

    /// Offers expiring within `EXPIRING_WITHIN_MINUTES`: the number the desk's header shows.
    fn badge(&self, ctx: &Context) -> Option<i64> {
        let n = self.expiring_within(ctx.now, model::EXPIRING_WITHIN_MINUTES) as i64;
        (n > 0).then_some(n)
    }

    fn render(&self, frame: &mut Frame, area: Rect, ctx: &Context, theme: &Theme) {
        view::render(frame, area, self, ctx, theme);
    }
}

//! Expenses desk: the approval queue, oldest first, decided from the keyboard.

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

pub use model::ExpensesDesk;

use super::desk::{Answer, Binding, Desk, Env, Never, Outcome, PromptText};
use super::{Context, Permissions};
use crate::db::listen::Hint;
use crate::ui::Theme;

impl Desk for ExpensesDesk {
    type Action = keys::Action;
    type Cmd = commands::Cmd;
    type Answer = commands::Answer;
    type Prompt = dialogs::Prompt;
    type Form = Never;
    type Loaded = Vec<model::ExpenseRow>;

    const TITLE: &'static str = "Expenses";
    const BINDINGS: &'static [Binding<keys::Action>] = keys::BINDINGS;

    /// Only those who submit or approve expenses read them.
    fn shown_to(permissions: &Permissions) -> bool {
        permissions.has(crate::desks::Permission::SubmitExpenses)
            || permissions.has(crate::desks::Permission::ApproveExpenses)
    }

    fn typing(&self) -> bool {
        ExpensesDesk::typing(self)
    }

    fn type_key(&mut self, key: KeyEvent, ctx: &Context) -> Outcome<Self> {
        dialogs::intent(ExpensesDesk::type_key(self, key), ctx)
    }

    fn act(&mut self, action: keys::Action, ctx: &Context) -> Outcome<Self> {
        let intent = ExpensesDesk::act(self, action, ctx.profile);
        dialogs::intent(intent, ctx)
    }

    fn offers(&self, action: keys::Action) -> bool {
        self.view.offers(action)
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
        if hint.table == "event_expenses" {
            self.fetch.hear(hint.id);
        }
    }

    fn fetch(&mut self, ctx: &Context) -> Option<commands::Cmd> {
        self.fetch.next(ctx).map(commands::Cmd::Fetch)
    }

    fn forget(&mut self) {
        self.fetch.forget();
    }

    async fn load(env: &Env, db: &ClientWrapper) -> anyhow::Result<Vec<model::ExpenseRow>> {
        store::expenses(db, env.event, None).await
    }

    fn loaded(&mut self, rows: Vec<model::ExpenseRow>, _ctx: &Context) {
        self.replace(rows);
    }

    crate::commands_in!(commands);

    /// Expenses waiting for a decision: the number the desk's header shows.
    fn badge(&self, _ctx: &Context) -> Option<i64> {
        let n = self.pending() as i64;
        (n > 0).then_some(n)
    }

    fn render(&self, frame: &mut Frame, area: Rect, ctx: &Context, theme: &Theme) {
        view::render(frame, area, self, ctx, theme);
    }
}

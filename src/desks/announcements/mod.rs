//! Announcements desk: the queue by status, a compose and edit form, send now, schedule, cancel.

pub mod commands;
pub mod compose;
pub mod dialogs;
pub mod keys;
pub mod model;
pub mod store;
pub mod view;

use crossterm::event::KeyEvent;
use deadpool_postgres::ClientWrapper;
use ratatui::Frame;
use ratatui::layout::Rect;

pub use model::AnnouncementsDesk;

use super::Context;
use super::desk::{Answer, Binding, Desk, Dialog, Env, Focus, Outcome, PromptText};
use crate::db::listen::Hint;
use crate::ui::Theme;

impl Desk for AnnouncementsDesk {
    type Action = keys::Action;
    type Cmd = commands::Cmd;
    type Answer = commands::Answer;
    type Prompt = dialogs::Prompt;
    type Form = compose::Compose;
    type Loaded = Vec<model::AnnouncementRow>;

    const TITLE: &'static str = "Announcements";
    const SHORT_TITLE: &'static str = "Announce";
    const WITHOUT_WORKER: Option<&'static str> = Some("scheduled announcements wait");
    const BINDINGS: &'static [Binding<keys::Action>] = keys::BINDINGS;

    fn typing(&self) -> bool {
        AnnouncementsDesk::typing(self)
    }

    fn type_key(&mut self, key: KeyEvent, ctx: &Context) -> Outcome<Self> {
        dialogs::intent(AnnouncementsDesk::type_key(self, key), ctx)
    }

    fn act(&mut self, action: keys::Action, ctx: &Context) -> Outcome<Self> {
        dialogs::intent(AnnouncementsDesk::act(self, action), ctx)
    }

    /// Another desk's notice about a session: the compose form, filled in for the operator to finish.
    fn focus(&mut self, focus: &Focus) -> Option<Outcome<Self>> {
        match focus {
            Focus::SessionNotice {
                title,
                content,
                session_label,
            } => Some(Outcome::dialog(Dialog::Form(Box::new(
                compose::Compose::notice(title, content, session_label),
            )))),
            _ => None,
        }
    }

    fn describe(prompt: &dialogs::Prompt, ctx: &Context) -> PromptText {
        dialogs::describe(prompt, ctx)
    }

    fn answer(prompt: &dialogs::Prompt, text: &str, ctx: &Context) -> Result<Answer<Self>, String> {
        dialogs::answer(prompt, text, ctx)
    }

    fn form_key(
        &mut self,
        form: Box<compose::Compose>,
        key: KeyEvent,
        ctx: &Context,
    ) -> (Option<Box<compose::Compose>>, Outcome<Self>) {
        dialogs::form_key(self, form, key, ctx)
    }

    fn form_takes_paste(form: &compose::Compose) -> Option<bool> {
        dialogs::takes_paste(form)
    }

    fn render_form(form: &compose::Compose, frame: &mut Frame, area: Rect, theme: &Theme) {
        view::render_compose(frame, area, form, theme);
    }

    fn hear(&mut self, hint: &Hint) {
        match hint.table.as_str() {
            "event_announcements" => self.fetch.hear(hint.id),
            // Recipient counts follow who is registered and present.
            "session_registrations" => self.fetch.hear(None),
            _ => {}
        }
    }

    fn fetch(&mut self, ctx: &Context) -> Option<commands::Cmd> {
        self.fetch.next(ctx).map(commands::Cmd::Fetch)
    }

    fn forget(&mut self) {
        self.fetch.forget();
    }

    async fn load(env: &Env, db: &ClientWrapper) -> anyhow::Result<Vec<model::AnnouncementRow>> {
        store::announcements(db, env.event, None).await
    }

    fn loaded(&mut self, rows: Vec<model::AnnouncementRow>, _ctx: &Context) {
        self.replace(rows);
    }

    crate::commands_in!(commands);

    fn render(&self, frame: &mut Frame, area: Rect, ctx: &Context, theme: &Theme) {
        view::render(frame, area, self, ctx, theme);
    }
}

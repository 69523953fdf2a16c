//! Check-ins desk: totals, gates, arrivals, the live feed, the problems feed, the scan box and search.

pub mod commands;
pub mod dialogs;
pub mod feed;
pub mod gates;
pub mod gates_view;
pub mod keys;
pub mod model;
pub mod store;
pub mod view;

use crossterm::event::KeyEvent;
use deadpool_postgres::ClientWrapper;
use ratatui::Frame;
use ratatui::layout::Rect;

pub use model::CheckinsDesk;

use super::Context;
use super::desk::{Answer, Binding, Desk, Env, Never, Outcome, PromptText, Tick};
use crate::db::listen::Hint;
use crate::ui::Theme;

/// The desk's part of the snapshot: the totals, the feed, the problems and the gates with their alerts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Loaded(pub Option<Snapshot>);

#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub summary: model::Summary,
    pub feed: Vec<model::CheckinRow>,
    pub problems: Vec<model::Problem>,
    pub gates: Vec<gates::GateRow>,
    pub alerts: Vec<gates::GateAlert>,
}

impl CheckinsDesk {
    /// A barcode scanner's burst: a code to check in, whatever is on screen.
    pub fn scanner_input(&mut self, code: String, ctx: &Context) -> Outcome<Self> {
        dialogs::scanner_input(self, code, ctx)
    }

    /// A batch pushed whole on the event's feed channel (see `feed::pushed`).
    pub fn pushed(
        &mut self,
        view: model::BatchView,
        in_order: bool,
        ctx: &Context,
    ) -> Outcome<Self> {
        feed::pushed(self, view, in_order, ctx)
    }
}

impl Desk for CheckinsDesk {
    type Action = keys::Action;
    type Cmd = commands::Cmd;
    type Answer = commands::Answer;
    type Prompt = Never;
    type Form = Never;
    type Loaded = Loaded;

    const TITLE: &'static str = "Check-ins";
    const BINDINGS: &'static [Binding<keys::Action>] = keys::BINDINGS;

    fn typing(&self) -> bool {
        CheckinsDesk::typing(self)
    }

    fn type_key(&mut self, key: KeyEvent, ctx: &Context) -> Outcome<Self> {
        let intent = CheckinsDesk::type_key(self, key);
        dialogs::intent(self, intent, ctx)
    }

    fn act(&mut self, action: keys::Action, ctx: &Context) -> Outcome<Self> {
        let intent = CheckinsDesk::act(self, action);
        dialogs::intent(self, intent, ctx)
    }

    fn footer(&self) -> Option<Vec<(&'static str, &'static str)>> {
        self.scan.on.then(|| {
            vec![
                ("type/scan + Enter", "check in"),
                ("Esc", "leave scan mode"),
                ("Ctrl-C", "quit"),
            ]
        })
    }

    fn describe(prompt: &Never, _ctx: &Context) -> PromptText {
        match *prompt {}
    }

    fn answer(prompt: &Never, _text: &str, _ctx: &Context) -> Result<Answer<Self>, String> {
        match *prompt {}
    }

    crate::no_forms!();

    fn hear(&mut self, hint: &Hint) {
        self.fetch.hear(hint);
        self.gates.hear(hint);
    }

    fn fetch(&mut self, ctx: &Context) -> Option<commands::Cmd> {
        self.fetch.fetch(ctx).or_else(|| {
            self.gates
                .take_read(ctx.now)
                .then_some(commands::Cmd::Gates {
                    generation: ctx.generation,
                })
        })
    }

    fn forget(&mut self) {
        self.fetch.forget();
        self.gates.forget();
    }

    async fn load(env: &Env, db: &ClientWrapper) -> anyhow::Result<Loaded> {
        let (gates, alerts) = store::gates(db, env.event).await?;
        Ok(Loaded(Some(Snapshot {
            summary: store::summary(db, env.event).await?,
            feed: store::checkins(db, env.event, None).await?,
            problems: store::problems(db, env.event, None).await?,
            gates,
            alerts,
        })))
    }

    fn loaded(&mut self, loaded: Loaded, ctx: &Context) {
        if let Some(snapshot) = loaded.0 {
            self.replace(snapshot.summary, snapshot.feed, snapshot.problems);
            self.gates.read(snapshot.gates, snapshot.alerts);
            self.gates.wanted = false;
            self.gates.read_at = Some(ctx.now);
        }
    }

    fn tick(&mut self, tick: Tick) -> bool {
        if tick.minute {
            // The numbers over a time window (rates, the last hour, problems in 15 minutes) age.
            self.fetch.summary = true;
        }
        self.gates.tick(tick.now, tick.shown);
        false
    }

    crate::commands_in!(commands);

    /// Refused scans in the last 15 minutes (the totals' figure).
    fn badge(&self, _ctx: &Context) -> Option<i64> {
        self.summary
            .as_ref()
            .map(|s| s.problems_15_min)
            .filter(|n| *n > 0)
    }

    fn render(&self, frame: &mut Frame, area: Rect, ctx: &Context, theme: &Theme) {
        view::render(frame, area, self, ctx, theme);
    }
}

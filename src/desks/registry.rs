//! The one place that names every desk. Adding a desk is its folder, its module in the `use` list, a
//! line in `registry!` below (everything listing the desks is generated from it) and an arm in
//! `with_desk!` (the compiler asks for it: the match on `DeskId` is exhaustive). Everything
//! else reaches desks through the functions here, which hand each call to the desk's `Desk` impl.

use anyhow::Result;
use crossterm::event::KeyEvent;
use deadpool_postgres::ClientWrapper;
use ratatui::Frame;
use ratatui::layout::Rect;

use super::desk::{
    Answer, Confirm, Desk, Dialog, Env, Focus, KeyInfo, Nav, Outcome, PromptText, Tick,
};
use super::{Context, Permission, Permissions};
use super::{announcements, checkins, expenses, incidents, sessions, waitlist};
use crate::db::Failure;
use crate::db::listen::Hint;
use crate::ui::{Theme, Tone};

/// Generates, from the list of desks in tab order: `DeskId`, the `Any*` enums that carry one desk's
/// commands, answers, prompts and forms through the app, the `Desks` that hold them all, the snapshot's
/// `Loaded`, and each desk's `Registered` impl.
macro_rules! registry {
    ($($id:ident => $module:ident::$desk:ident),* $(,)?) => {
        /// The desks, in tab order.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum DeskId {
            $($id),*
        }

        impl DeskId {
            pub const ALL: &'static [DeskId] = &[$(DeskId::$id),*];

            pub fn title(self) -> &'static str {
                match self {
                    $(DeskId::$id => <$module::$desk as Desk>::TITLE),*
                }
            }

            /// The tab's title when the terminal is narrow.
            pub fn short_title(self) -> &'static str {
                match self {
                    $(DeskId::$id => <$module::$desk as Desk>::SHORT_TITLE),*
                }
            }

            /// What stops at the desk while no worker runs, if anything.
            pub fn without_worker(self) -> Option<&'static str> {
                match self {
                    $(DeskId::$id => <$module::$desk as Desk>::WITHOUT_WORKER),*
                }
            }

            /// The digit that opens the desk (its place in the tabs, from 1).
            pub fn number(self) -> usize {
                DeskId::ALL.iter().position(|d| *d == self).map_or(0, |i| i + 1)
            }
        }

        #[derive(Debug, Clone, PartialEq)]
        pub enum AnyCmd {
            $($id(<$module::$desk as Desk>::Cmd)),*
        }

        #[derive(Debug)]
        pub enum AnyAnswer {
            $($id(<$module::$desk as Desk>::Answer)),*
        }

        #[derive(Debug, Clone)]
        pub enum AnyPrompt {
            $($id(<$module::$desk as Desk>::Prompt)),*
        }

        #[derive(Debug, Clone)]
        pub enum AnyForm {
            $($id(Box<<$module::$desk as Desk>::Form>)),*
        }

        /// Every desk's state.
        #[derive(Debug, Clone, Default)]
        pub struct Desks {
            $(pub $module: $module::$desk),*
        }

        /// Every desk's part of one snapshot, read in one transaction.
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct Loaded {
            $(pub $module: <$module::$desk as Desk>::Loaded),*
        }

        impl AnyCmd {
            pub fn desk(&self) -> DeskId {
                match self {
                    $(AnyCmd::$id(_) => DeskId::$id),*
                }
            }
        }

        impl AnyAnswer {
            pub fn desk(&self) -> DeskId {
                match self {
                    $(AnyAnswer::$id(_) => DeskId::$id),*
                }
            }
        }

        impl AnyPrompt {
            pub fn desk(&self) -> DeskId {
                match self {
                    $(AnyPrompt::$id(_) => DeskId::$id),*
                }
            }
        }

        impl AnyForm {
            pub fn desk(&self) -> DeskId {
                match self {
                    $(AnyForm::$id(_) => DeskId::$id),*
                }
            }
        }

        $(
            impl Registered for $module::$desk {
                const ID: DeskId = DeskId::$id;
                fn cmd(cmd: Self::Cmd) -> AnyCmd {
                    AnyCmd::$id(cmd)
                }
                fn own_cmd(cmd: AnyCmd) -> Option<Self::Cmd> {
                    #[allow(unreachable_patterns)]
                    match cmd {
                        AnyCmd::$id(cmd) => Some(cmd),
                        _ => None,
                    }
                }
                fn own_answer(answer: AnyAnswer) -> Option<Self::Answer> {
                    #[allow(unreachable_patterns)]
                    match answer {
                        AnyAnswer::$id(answer) => Some(answer),
                        _ => None,
                    }
                }
                fn prompt(prompt: Self::Prompt) -> AnyPrompt {
                    AnyPrompt::$id(prompt)
                }
                fn own_prompt(prompt: &AnyPrompt) -> Option<&Self::Prompt> {
                    #[allow(unreachable_patterns)]
                    match prompt {
                        AnyPrompt::$id(prompt) => Some(prompt),
                        _ => None,
                    }
                }
                fn form(form: Box<Self::Form>) -> AnyForm {
                    AnyForm::$id(form)
                }
                fn own_form(form: AnyForm) -> Option<Box<Self::Form>> {
                    #[allow(unreachable_patterns)]
                    match form {
                        AnyForm::$id(form) => Some(form),
                        _ => None,
                    }
                }
                fn own_form_ref(form: &AnyForm) -> Option<&Self::Form> {
                    #[allow(unreachable_patterns)]
                    match form {
                        AnyForm::$id(form) => Some(form),
                        _ => None,
                    }
                }
            }
        )*

        impl Desks {
            pub fn typing(&self, id: DeskId) -> bool {
                match id {
                    $(DeskId::$id => Desk::typing(&self.$module)),*
                }
            }

            /// The desk's keys, each saying whether the desk offers it in what it shows now.
            pub fn keys(&self, id: DeskId) -> Vec<KeyInfo> {
                match id {
                    $(DeskId::$id => keys(&self.$module)),*
                }
            }

            /// The footer while a mode of the desk's own is on.
            pub fn footer(&self, id: DeskId) -> Option<Vec<(&'static str, &'static str)>> {
                match id {
                    $(DeskId::$id => Desk::footer(&self.$module)),*
                }
            }

            /// Offers `focus` to every desk the operator sees, in tab order: the desk that takes it, and
            /// what follows there.
            pub fn focus(
                &mut self,
                focus: &Focus,
                permissions: &Permissions,
            ) -> Option<(DeskId, AnyOutcome)> {
                $(
                    if visible(DeskId::$id, permissions)
                        && let Some(outcome) = Desk::focus(&mut self.$module, focus)
                    {
                        return Some((DeskId::$id, AnyOutcome::of(outcome)));
                    }
                )*
                None
            }

            /// Whether the form's focused field takes a paste: None, Some(false) one line, Some(true)
            /// lines.
            pub fn form_takes_paste(form: &AnyForm) -> Option<bool> {
                match form {
                    $(AnyForm::$id(form) => <$module::$desk as Desk>::form_takes_paste(form)),*
                }
            }

            pub fn render_form(form: &AnyForm, frame: &mut Frame, area: Rect, theme: &Theme) {
                match form {
                    $(AnyForm::$id(form) => {
                        <$module::$desk as Desk>::render_form(form, frame, area, theme)
                    })*
                }
            }

            /// A change heard on the server, already known to be this event's: every desk hears it.
            pub fn hear(&mut self, hint: &Hint) {
                $(Desk::hear(&mut self.$module, hint);)*
            }

            /// A resync or a lost link: nothing pending or in flight on any desk.
            pub fn forget(&mut self) {
                $(Desk::forget(&mut self.$module);)*
            }

            pub fn loaded(&mut self, loaded: Loaded, ctx: &Context) {
                $(Desk::loaded(&mut self.$module, loaded.$module, ctx);)*
            }

            /// The clock moved; true if the screen must be drawn again.
            pub fn tick(&mut self, tick: impl Fn(DeskId) -> Tick) -> bool {
                let mut redraw = false;
                $(redraw |= Desk::tick(&mut self.$module, tick(DeskId::$id));)*
                redraw
            }
        }

        /// Whether the desk is shown to an operator with these permissions.
        pub fn visible(id: DeskId, permissions: &Permissions) -> bool {
            match id {
                $(DeskId::$id => <$module::$desk as Desk>::shown_to(permissions)),*
            }
        }

        /// Runs a desk's command (on a tokio task, through the pool).
        pub async fn run(env: &Env, cmd: AnyCmd) -> AnyAnswer {
            match cmd {
                $(AnyCmd::$id(cmd) => AnyAnswer::$id(<$module::$desk as Desk>::run(env, cmd).await)),*
            }
        }

        /// What the command changes, in words, or None for a read.
        pub fn change_in_words(cmd: &AnyCmd) -> Option<String> {
            match cmd {
                $(AnyCmd::$id(cmd) => <$module::$desk as Desk>::change_in_words(cmd)),*
            }
        }

        /// The answer to a command that could not run at all.
        pub fn failed(cmd: AnyCmd, why: Failure) -> AnyAnswer {
            match cmd {
                $(AnyCmd::$id(cmd) => AnyAnswer::$id(<$module::$desk as Desk>::failed(cmd, why))),*
            }
        }

        /// Every desk the operator may see, read inside the caller's transaction.
        pub async fn load(env: &Env, db: &ClientWrapper, permissions: &Permissions) -> Result<Loaded> {
            let mut loaded = Loaded::default();
            $(
                if <$module::$desk as Desk>::shown_to(permissions) {
                    loaded.$module = <$module::$desk as Desk>::load(env, db).await?;
                }
            )*
            Ok(loaded)
        }
    };
}

registry! {
    Checkins => checkins::CheckinsDesk,
    Sessions => sessions::SessionsDesk,
    Waitlist => waitlist::WaitlistDesk,
    Announcements => announcements::AnnouncementsDesk,
    Expenses => expenses::ExpensesDesk,
    Incidents => incidents::IncidentsDesk,
}

/// Runs `$body` with `$d` the desk `$id` names and `$ctx` its context. Every desk but the sessions desk
/// gets today's sessions in its context (the sessions desk has them).
macro_rules! with_desk {
    ($desks:expr, $id:expr, $ctx_in:expr, |$d:ident, $ctx:ident| $body:expr) => {{
        let Desks {
            checkins,
            sessions,
            waitlist,
            announcements,
            expenses,
            incidents,
        } = $desks;
        let base: &Context = $ctx_in;
        match $id {
            DeskId::Checkins => {
                let $ctx = base.with_today(&sessions.today);
                let $d = checkins;
                $body
            }
            DeskId::Sessions => {
                let $ctx = *base;
                let $d = sessions;
                $body
            }
            DeskId::Waitlist => {
                let $ctx = base.with_today(&sessions.today);
                let $d = waitlist;
                $body
            }
            DeskId::Announcements => {
                let $ctx = base.with_today(&sessions.today);
                let $d = announcements;
                $body
            }
            DeskId::Expenses => {
                let $ctx = base.with_today(&sessions.today);
                let $d = expenses;
                $body
            }
            DeskId::Incidents => {
                let $ctx = base.with_today(&sessions.today);
                let $d = incidents;
                $body
            }
        }
    }};
}

/// A desk as the registry knows it: how its own types go into the `Any*` enums and back.
pub trait Registered: Desk {
    const ID: DeskId;
    fn cmd(cmd: Self::Cmd) -> AnyCmd;
    fn own_cmd(cmd: AnyCmd) -> Option<Self::Cmd>;
    fn own_answer(answer: AnyAnswer) -> Option<Self::Answer>;
    fn prompt(prompt: Self::Prompt) -> AnyPrompt;
    fn own_prompt(prompt: &AnyPrompt) -> Option<&Self::Prompt>;
    fn form(form: Box<Self::Form>) -> AnyForm;
    fn own_form(form: AnyForm) -> Option<Box<Self::Form>>;
    fn own_form_ref(form: &AnyForm) -> Option<&Self::Form>;
}

/// A dialog any desk opened.
#[derive(Debug, Clone)]
pub enum AnyDialog {
    Confirm(Confirm<AnyCmd>),
    Prompt(AnyPrompt),
    Form(AnyForm),
}

/// A desk's `Outcome`, with its commands and dialog in the `Any*` enums.
#[derive(Debug, Default)]
pub struct AnyOutcome {
    pub say: Option<(String, Tone)>,
    pub bell: bool,
    pub cmds: Vec<AnyCmd>,
    pub dialog: Option<AnyDialog>,
    pub resync: bool,
    pub hints: Vec<Hint>,
    pub focus: Option<Focus>,
}

impl AnyOutcome {
    fn of<D: Registered>(outcome: Outcome<D>) -> AnyOutcome {
        AnyOutcome {
            say: outcome.say,
            bell: outcome.bell,
            cmds: outcome.cmds.into_iter().map(D::cmd).collect(),
            dialog: outcome.dialog.map(|dialog| dialog_of::<D>(dialog)),
            resync: outcome.resync,
            hints: outcome.hints,
            focus: outcome.focus,
        }
    }
}

fn dialog_of<D: Registered>(dialog: Dialog<D>) -> AnyDialog {
    match dialog {
        Dialog::Confirm(confirm) => AnyDialog::Confirm(confirm.map(D::cmd)),
        Dialog::Prompt(prompt) => AnyDialog::Prompt(D::prompt(prompt)),
        Dialog::Form(form) => AnyDialog::Form(D::form(form)),
    }
}

/// What a prompt's answer leads to, for any desk.
#[derive(Debug)]
pub enum AnyAnswerTo {
    Unchanged,
    Confirm(Confirm<AnyCmd>),
    Ask(AnyPrompt),
    Run(AnyCmd),
}

/// A key pressed outside a text box.
#[derive(Debug)]
pub enum Press {
    /// The desk binds it: its outcome.
    Done(Box<AnyOutcome>),
    /// The desk binds it to an action the operator's role lacks.
    Refused(Permission),
    /// Not one of the desk's keys.
    Unbound,
}

fn press<D: Registered>(desk: &mut D, key: &KeyEvent, ctx: &Context) -> Press {
    let Some(binding) = D::BINDINGS.iter().find(|b| b.matches(key)) else {
        return Press::Unbound;
    };
    if let Some(permission) = binding.needs
        && !ctx.permissions.has(permission)
    {
        return Press::Refused(permission);
    }
    Press::Done(Box::new(AnyOutcome::of(desk.act(binding.action, ctx))))
}

fn type_key<D: Registered>(desk: &mut D, key: KeyEvent, ctx: &Context) -> AnyOutcome {
    AnyOutcome::of(Desk::type_key(desk, key, ctx))
}

fn nav_key<D: Registered>(desk: &mut D, nav: Nav, ctx: &Context) -> AnyOutcome {
    AnyOutcome::of(desk.act(nav.into(), ctx))
}

fn keys<D: Registered>(desk: &D) -> Vec<KeyInfo> {
    let filter = D::Action::from(Nav::Filter);
    D::BINDINGS
        .iter()
        .map(|b| KeyInfo {
            filters: b.action == filter,
            ..b.info(desk.offers(b.action))
        })
        .collect()
}

fn answer<D: Registered>(
    prompt: &AnyPrompt,
    text: &str,
    ctx: &Context,
) -> Result<AnyAnswerTo, String> {
    let Some(prompt) = D::own_prompt(prompt) else {
        return Ok(AnyAnswerTo::Unchanged);
    };
    Ok(match D::answer(prompt, text, ctx)? {
        Answer::Unchanged => AnyAnswerTo::Unchanged,
        Answer::Confirm(confirm) => AnyAnswerTo::Confirm(confirm.map(D::cmd)),
        Answer::Ask(next) => AnyAnswerTo::Ask(D::prompt(next)),
        Answer::Run(cmd) => AnyAnswerTo::Run(D::cmd(cmd)),
    })
}

fn form_key<D: Registered>(
    desk: &mut D,
    form: AnyForm,
    key: KeyEvent,
    ctx: &Context,
) -> (Option<AnyForm>, AnyOutcome) {
    let Some(form) = D::own_form(form) else {
        return (None, AnyOutcome::default());
    };
    let (form, outcome) = desk.form_key(form, key, ctx);
    (form.map(D::form), AnyOutcome::of(outcome))
}

fn answered<D: Registered>(desk: &mut D, answer: AnyAnswer, ctx: &Context) -> AnyOutcome {
    match D::own_answer(answer) {
        Some(answer) => AnyOutcome::of(desk.answered(answer, ctx)),
        None => AnyOutcome::default(),
    }
}

impl Desks {
    /// A key while the desk's text box has the keyboard.
    pub fn type_key(&mut self, id: DeskId, key: KeyEvent, ctx: &Context) -> AnyOutcome {
        with_desk!(self, id, ctx, |d, ctx| type_key(d, key, &ctx))
    }

    /// A key on the desk: its binding's action, if it binds the key.
    pub fn press(&mut self, id: DeskId, key: &KeyEvent, ctx: &Context) -> Press {
        with_desk!(self, id, ctx, |d, ctx| press(d, key, &ctx))
    }

    /// A shared movement key, as the desk's own action.
    pub fn nav(&mut self, id: DeskId, nav: Nav, ctx: &Context) -> AnyOutcome {
        with_desk!(self, id, ctx, |d, ctx| nav_key(d, nav, &ctx))
    }

    pub fn describe(&self, prompt: &AnyPrompt, ctx: &Context) -> Option<PromptText> {
        with_desk!(self, prompt.desk(), ctx, |d, ctx| describe(d, prompt, &ctx))
    }

    /// Validates a prompt's answer: what it leads to, or the sentence to show under the field.
    pub fn answer(
        &self,
        prompt: &AnyPrompt,
        text: &str,
        ctx: &Context,
    ) -> Result<AnyAnswerTo, String> {
        with_desk!(self, prompt.desk(), ctx, |d, ctx| answer_with(
            d, prompt, text, &ctx
        ))
    }

    pub fn form_key(
        &mut self,
        form: AnyForm,
        key: KeyEvent,
        ctx: &Context,
    ) -> (Option<AnyForm>, AnyOutcome) {
        with_desk!(self, form.desk(), ctx, |d, ctx| form_key(
            d, form, key, &ctx
        ))
    }

    /// The fetches the hints heard call for: one per desk at a time, for the desks the operator sees.
    pub fn fetch(&mut self, ctx: &Context) -> Vec<AnyCmd> {
        let mut cmds = Vec::new();
        for id in DeskId::ALL {
            if !visible(*id, ctx.permissions) {
                continue;
            }
            let cmd = with_desk!(self, *id, ctx, |d, ctx| fetch(d, &ctx));
            cmds.extend(cmd);
        }
        cmds
    }

    /// A command's answer, to the desk that asked.
    pub fn answered(&mut self, answer: AnyAnswer, ctx: &Context) -> AnyOutcome {
        with_desk!(self, answer.desk(), ctx, |d, ctx| answered(d, answer, &ctx))
    }

    pub fn badge(&self, id: DeskId, ctx: &Context) -> Option<i64> {
        with_desk!(self, id, ctx, |d, ctx| Desk::badge(d, &ctx))
    }

    pub fn render(&self, id: DeskId, frame: &mut Frame, area: Rect, ctx: &Context, theme: &Theme) {
        with_desk!(self, id, ctx, |d, ctx| Desk::render(
            d, frame, area, &ctx, theme
        ))
    }

    /// A barcode scanner's burst: a code to check in, whatever is on screen.
    pub fn scanned(&mut self, code: String, ctx: &Context) -> AnyOutcome {
        AnyOutcome::of(self.checkins.scanner_input(code, ctx))
    }

    /// A batch of check-ins pushed whole on the event's feed channel; `in_order`: nothing older is
    /// still to come from outside the desk (no snapshot out, the link live).
    pub fn pushed(&mut self, view: PushedBatch, in_order: bool, ctx: &Context) -> AnyOutcome {
        AnyOutcome::of(self.checkins.pushed(view, in_order, ctx))
    }
}

fn fetch<D: Registered>(desk: &mut D, ctx: &Context) -> Option<AnyCmd> {
    desk.fetch(ctx).map(D::cmd)
}

fn describe<D: Registered>(_desk: &D, prompt: &AnyPrompt, ctx: &Context) -> Option<PromptText> {
    D::own_prompt(prompt).map(|p| D::describe(p, ctx))
}

fn answer_with<D: Registered>(
    _desk: &D,
    prompt: &AnyPrompt,
    text: &str,
    ctx: &Context,
) -> Result<AnyAnswerTo, String> {
    answer::<D>(prompt, text, ctx)
}

/// A batch of check-ins pushed whole on this console's feed channel (the Check-ins desk's).
pub type PushedBatch = checkins::model::BatchView;

/// Puts batches pushed in parts on this console's feed channel together (off the loop that draws):
/// `take` reads one notification and gives the batch it completes.
pub type PushedParts = checkins::store::PushedParts;

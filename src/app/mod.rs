//! The console: one task owns the terminal and the state (docs/architecture.md, "The loop").
//! Messages come from the keyboard, the listener, effects and a 1 Hz clock; `state::update` is pure;
//! effects run on tokio tasks; after draining what is queued, one frame is drawn if anything changed,
//! at most about 80 a second, inside synchronized output.

pub mod effects;
pub mod frame;
pub mod keymap;
pub mod msg;
pub mod scanner;
pub mod state;
pub mod terminal;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::{FixedOffset, Offset, Utc};
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures_util::StreamExt;
use tokio::sync::mpsc;
use uuid::Uuid;

use self::effects::Effects;
use self::msg::Msg;
use self::state::{EventInfo, Operator, State};
use crate::config::Settings;
use crate::db::listen::ListenerEvent;
use crate::desks::registry;
use crate::ui::Theme;

/// At most one frame per this long (about 80 a second): a change waits at most this for its frame
/// (12 ms, not 16: a busy door's batches land every few ms, and the wait for the next frame slot was
/// most of the time from commit to screen).
/// Nothing is drawn when nothing changed, so an idle console still writes nothing.
const FRAME: Duration = Duration::from_millis(12);

/// Where frames go: the operator's terminal, or (for `eventos bench`) a test backend that reads them.
pub trait Screen {
    fn show(&mut self, state: &State, theme: &Theme) -> Result<()>;
    fn bell(&mut self);
}

impl Screen for terminal::TerminalGuard {
    fn show(&mut self, state: &State, theme: &Theme) -> Result<()> {
        self.draw(|frame| crate::app::frame::render(frame, state, theme))
            .map(|_| ())
    }

    fn bell(&mut self) {
        terminal::TerminalGuard::bell(self);
    }
}

/// What besides the database feeds the loop: the keyboard and signals (a terminal), or only a stop.
enum Inputs {
    Terminal,
    Headless(std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>),
}

#[derive(Debug, Clone, Default)]
pub struct ConsoleOptions {
    pub event: Option<String>,
    pub gate: Option<String>,
}

/// The event chosen, with the operator's standing there.
struct Start {
    event: EventInfo,
    offset: FixedOffset,
    operator: Operator,
    permissions: crate::desks::Permissions,
}

/// Runs the console until the operator quits (or a signal ends it).
pub async fn run(settings: &Settings, options: ConsoleOptions) -> Result<()> {
    let pool = crate::db::pool(&settings.database)?;
    let db = crate::db::connect(&settings.database).await?;
    crate::db::migrate::require_current(&db).await?;
    let slug = options.event.clone().or(settings.console.event.clone());
    let mut guard: Option<terminal::TerminalGuard> = None;
    let slug = match slug {
        Some(slug) => slug,
        None => {
            let live = live_events(&db).await?;
            match live.len() {
                0 => bail!(
                    "no event you can see is live today; name one with --event SLUG (eventos operator list shows yours)"
                ),
                1 => live[0].0.clone(),
                _ => {
                    let mut g = terminal::TerminalGuard::enter()?;
                    let picked = pick_event(&mut g, &live).await?;
                    guard = Some(g);
                    match picked {
                        Some(slug) => slug,
                        None => return Ok(()),
                    }
                }
            }
        }
    };
    let start = start(&db, &slug).await?;
    drop(db);
    let gate = options
        .gate
        .clone()
        .or(settings.console.gate.clone())
        .unwrap_or_else(|| "Control room".to_owned());
    let gate: String = gate.trim().chars().take(100).collect();
    let mut guard = match guard {
        Some(g) => g,
        None => terminal::TerminalGuard::enter()?,
    };
    tracing::info!(event = %start.event.slug, "console started");
    let result = begin(&mut guard, start, pool, gate, settings, Inputs::Terminal).await;
    drop(guard);
    result
}

/// The loop for the chosen event: its effects (the pool, the gate its scans are recorded at) and its
/// first state.
async fn begin(
    screen: &mut impl Screen,
    start: Start,
    pool: deadpool_postgres::Pool,
    gate: String,
    settings: &Settings,
    inputs: Inputs,
) -> Result<()> {
    let effects = Arc::new(Effects {
        env: crate::desks::desk::Env {
            pool,
            doors: crate::db::door_pool(&settings.database)?,
            event: start.event.id,
            gate,
        },
    });
    let time_zone = start.event.time_zone.clone();
    let state = State::new(
        start.event,
        start.operator,
        start.permissions,
        start.offset,
        Utc::now(),
    );
    run_loop(screen, state, effects, settings, &time_zone, inputs).await
}

/// The console's own loop, listener, effects and all, drawing into `screen` with no keyboard, until
/// `stop` completes: what `eventos bench` measures commit to screen through.
pub async fn run_headless(
    settings: &Settings,
    slug: &str,
    screen: &mut impl Screen,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let pool = crate::db::pool(&settings.database)?;
    let db = crate::db::connect(&settings.database).await?;
    let start = start(&db, slug).await?;
    drop(db);
    let inputs = Inputs::Headless(Box::pin(stop));
    begin(screen, start, pool, "Bench".to_owned(), settings, inputs).await
}

async fn run_loop(
    guard: &mut impl Screen,
    mut state: State,
    effects: Arc<Effects>,
    settings: &Settings,
    time_zone: &str,
    inputs: Inputs,
) -> Result<()> {
    let theme = Theme::from_env();
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();

    // The listener: its own connection, its events forwarded as messages.
    let (listen_tx, mut listen_rx) = mpsc::unbounded_channel();
    let listener = tokio::spawn(crate::db::listen::run(
        settings.database.clone(),
        time_zone.to_owned(),
        state.event.id,
        listen_tx,
    ));
    let forward = {
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut parts = registry::PushedParts::default();
            while let Some(event) = listen_rx.recv().await {
                let msg = match event {
                    // Read here, off the loop that draws.
                    ListenerEvent::Pushed(payload) => match parts.take(&payload) {
                        Ok(Some(view)) => Msg::Pushed(Box::new(view)),
                        Ok(None) => continue,
                        Err(e) => {
                            tracing::warn!(error = format!("{e:#}"), "unreadable pushed batch");
                            continue;
                        }
                    },
                    other => Msg::Listener(other),
                };
                if tx.send(msg).is_err() {
                    break;
                }
            }
        })
    };
    let (stop, terminal) = match inputs {
        Inputs::Terminal => (None, true),
        Inputs::Headless(stop) => (Some(stop), false),
    };
    let keyboard = {
        let tx = tx.clone();
        tokio::spawn(async move {
            if !terminal {
                return;
            }
            scanner::forward(EventStream::new(), &tx, std::time::Instant::now).await;
            let _ = tx.send(Msg::Quit);
        })
    };
    let clock = {
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                if tx.send(Msg::Tick(Utc::now())).is_err() {
                    return;
                }
            }
        })
    };
    let signals = {
        let tx = tx.clone();
        tokio::spawn(async move {
            match stop {
                Some(stop) => stop.await,
                None => quit_signal().await,
            }
            let _ = tx.send(Msg::Quit);
        })
    };

    let mut last_frame = tokio::time::Instant::now() - FRAME;
    let outcome: Result<()> = loop {
        if state.dirty {
            let due = last_frame + FRAME;
            if tokio::time::Instant::now() >= due {
                if state.bell {
                    state.bell = false;
                    guard.bell();
                }
                if let Err(e) = guard.show(&state, &theme) {
                    break Err(e);
                }
                state.dirty = false;
                last_frame = tokio::time::Instant::now();
            } else {
                // Wait for the frame slot, or a message, whichever comes first.
                tokio::select! {
                    _ = tokio::time::sleep_until(due) => continue,
                    msg = rx.recv() => match msg {
                        Some(msg) => handle(&mut state, msg, &effects, &tx),
                        None => break Ok(()),
                    },
                }
            }
        } else {
            match rx.recv().await {
                Some(msg) => handle(&mut state, msg, &effects, &tx),
                None => break Ok(()),
            }
        }
        // Drain whatever else is queued before drawing once.
        while let Ok(msg) = rx.try_recv() {
            handle(&mut state, msg, &effects, &tx);
            if state.quit {
                break;
            }
        }
        if state.quit {
            break Ok(());
        }
        for cmd in state::fetches(&mut state) {
            effects.spawn(cmd, tx.clone());
        }
    };
    for task in [listener, forward, keyboard, clock, signals] {
        task.abort();
    }
    tracing::info!("console stopped");
    outcome
}

fn handle(state: &mut State, msg: Msg, effects: &Arc<Effects>, tx: &mpsc::UnboundedSender<Msg>) {
    for cmd in state::update(state, msg) {
        effects.spawn(cmd, tx.clone());
    }
}

/// SIGTERM, SIGHUP (the SSH session dropped) or SIGINT from outside.
async fn quit_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut hup), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
            signal(SignalKind::interrupt()),
        ) else {
            std::future::pending::<()>().await;
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = hup.recv() => {}
            _ = int.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Events live today (in their own time zone) that the operator can see: (slug, name).
async fn live_events(db: &tokio_postgres::Client) -> Result<Vec<(String, String)>> {
    let rows = db
        .query(
            "SELECT slug, name FROM events
              WHERE deleted_at IS NULL AND status NOT IN ('cancelled', 'archived')
                AND (starts_at AT TIME ZONE time_zone)::date <= (now() AT TIME ZONE time_zone)::date
                AND (ends_at AT TIME ZONE time_zone)::date >= (now() AT TIME ZONE time_zone)::date
              ORDER BY starts_at, slug",
            &[],
        )
        .await
        .context("cannot list today's events")?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

async fn start(db: &tokio_postgres::Client, slug: &str) -> Result<Start> {
    let row = db
        .query_opt(
            "SELECT id, slug, name, time_zone,
                    extract(epoch FROM (now() AT TIME ZONE time_zone) - (now() AT TIME ZONE 'UTC'))::integer,
                    CASE WHEN acting_profile_id() IS NULL THEN session_user::text
                         ELSE profile_name(acting_profile_id()) END,
                    acting_profile_id()
               FROM events WHERE slug = $1 AND deleted_at IS NULL",
            &[&slug],
        )
        .await
        .context("cannot read the event")?;
    let Some(row) = row else {
        bail!("no event {slug:?} that you can see (eventos operator list shows your events)");
    };
    let id: Uuid = row.get(0);
    let (role, permissions) = effects::permissions(db, id).await?;
    if !permissions.member {
        bail!(
            "you are not on the team of {slug}; an organizer can add you with eventos operator add"
        );
    }
    let offset = FixedOffset::east_opt(row.get(4)).unwrap_or(Utc.fix());
    Ok(Start {
        event: EventInfo {
            id,
            slug: row.get(1),
            name: crate::desks::clean(row.get(2)),
            time_zone: row.get(3),
        },
        offset,
        operator: Operator {
            name: crate::desks::clean(row.get(5)),
            role,
            profile: row.get(6),
        },
        permissions,
    })
}

/// Several events are live today: the operator picks one. None: they quit.
async fn pick_event(
    guard: &mut terminal::TerminalGuard,
    events: &[(String, String)],
) -> Result<Option<String>> {
    use crossterm::event::KeyCode;
    use ratatui::widgets::{List, ListItem, ListState, Paragraph};
    let mut selected = 0usize;
    let mut input = EventStream::new();
    loop {
        guard.draw(|frame| {
            let area = frame.area();
            let [title, list] = ratatui::layout::Layout::vertical([
                ratatui::layout::Constraint::Length(2),
                ratatui::layout::Constraint::Min(1),
            ])
            .areas(area);
            frame.render_widget(
                Paragraph::new(
                    " Several events are live today. Up/Down to choose, Enter to open, q to quit.",
                ),
                title,
            );
            let items: Vec<ListItem> = events
                .iter()
                .map(|(slug, name)| ListItem::new(format!(" {name}  ({slug})")))
                .collect();
            let mut list_state = ListState::default().with_selected(Some(selected));
            frame.render_stateful_widget(
                List::new(items).highlight_style(ratatui::style::Style::new().reversed()),
                list,
                &mut list_state,
            );
        })?;
        let Some(event) = input.next().await else {
            return Ok(None);
        };
        if let Ok(Event::Key(key)) = event
            && key.kind == KeyEventKind::Press
        {
            match key.code {
                KeyCode::Up | KeyCode::Char('k') => selected = selected.saturating_sub(1),
                KeyCode::Down | KeyCode::Char('j') => {
                    selected = (selected + 1).min(events.len() - 1)
                }
                KeyCode::Enter => return Ok(Some(events[selected].0.clone())),
                KeyCode::Char('q') | KeyCode::Esc => return Ok(None),
                KeyCode::Char('c')
                    if key
                        .modifiers
                        .contains(crossterm::event::KeyModifiers::CONTROL) =>
                {
                    return Ok(None);
                }
                _ => {}
            }
        }
    }
}

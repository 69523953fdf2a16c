//! Commit to hint, commit to screen.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio_postgres::Client;
use uuid::Uuid;

use crate::config::{DatabaseSettings, Settings};
use crate::db;

use super::SLUG;
use super::ingest::{current_xid, free_attendees, undo_since};
use crate::demo::seed;

pub(super) struct Latency {
    pub scans: usize,
    /// Named by a hint that arrived before the scanner reported its commit.
    pub early: usize,
    /// Sorted.
    pub samples: Vec<Duration>,
}

/// Paced scans at `rate` a second for `run`; each scan's commit instant against the arrival of the hint
/// that names its transaction.
pub(super) async fn commit_to_hint(
    admin: &Client,
    settings: &DatabaseSettings,
    gate: &DatabaseSettings,
    event: Uuid,
    rate: u32,
    run: Duration,
) -> Result<Latency> {
    let people = Arc::new(free_attendees(admin, event).await?);
    let since = current_xid(admin).await?;
    let (listen, mut hints) = db::connect_listening(settings).await?;
    listen
        .batch_execute(&format!("LISTEN {}", db::listen::CHANNEL))
        .await
        .context("cannot listen")?;
    let (committed_tx, mut committed) = tokio::sync::mpsc::unbounded_channel::<(u64, Instant)>();
    let codes: Arc<Vec<String>> = Arc::new(people.iter().map(|(_, code)| code.clone()).collect());
    let tasks = paced_scanners(gate, event, rate, run, codes, move |_, xid, at| {
        let _ = committed_tx.send((xid, at));
    })
    .await?;

    let mut waiting: std::collections::HashMap<u64, Instant> = std::collections::HashMap::new();
    // A hint can arrive before its scanner has reported the commit (they are different tasks): the last
    // second's hints are kept, and a commit they already name counts as hinted early, without a sample.
    let mut heard: Vec<(db::listen::XidRange, Instant)> = Vec::new();
    let mut early = 0usize;
    let mut samples = Vec::new();
    let mut scans = 0usize;
    let mut scanners_done = false;
    let deadline_after_scans = Duration::from_secs(3);
    let mut quiet_since: Option<Instant> = None;
    loop {
        tokio::select! {
            c = committed.recv(), if !scanners_done => match c {
                Some((xid, at)) => {
                    scans += 1;
                    if heard.iter().any(|(r, _)| (xid >= r.from && xid < r.to) || r.late.contains(&xid)) {
                        early += 1;
                    } else {
                        waiting.insert(xid, at);
                    }
                }
                None => {
                    scanners_done = true;
                    quiet_since = Some(Instant::now());
                }
            },
            n = hints.recv() => {
                let Some(n) = n else { bail!("the listening connection closed") };
                let arrived = Instant::now();
                let Some(hint) = db::listen::Hint::parse(n.payload()) else { continue };
                if hint.table != "event_checkins" {
                    continue;
                }
                let Some(range) = hint.xid_range() else { continue };
                waiting.retain(|xid, at| {
                    let named = (*xid >= range.from && *xid < range.to) || range.late.contains(xid);
                    if named {
                        samples.push(arrived.saturating_duration_since(*at));
                    }
                    !named
                });
                heard.push((range, arrived));
                // Only the last second's hints can still be waited for.
                heard.retain(|(_, at)| arrived.saturating_duration_since(*at) < Duration::from_secs(1));
            }
            _ = tokio::time::sleep(Duration::from_millis(50)), if scanners_done => {}
        }
        if scanners_done
            && (waiting.is_empty()
                || quiet_since.is_some_and(|q| q.elapsed() > deadline_after_scans))
        {
            break;
        }
    }
    for task in tasks {
        task.await
            .context("a scanner failed")?
            .context("a scan failed")?;
    }
    samples.sort();
    undo_since(admin, event, &since).await?;
    Ok(Latency {
        scans,
        early,
        samples,
    })
}

/// Eight scanners on connections of their own, paced together to `rate` scans a second for `run`, each
/// taking the next of `codes`; `admitted(index, transaction, when)` hears every accepted scan as soon as
/// its statement (and so its commit) returns. Each task answers how many it admitted.
pub(super) async fn paced_scanners(
    gate: &DatabaseSettings,
    event: Uuid,
    rate: u32,
    run: Duration,
    codes: Arc<Vec<String>>,
    admitted: impl Fn(usize, u64, Instant) + Send + Sync + 'static,
) -> Result<Vec<tokio::task::JoinHandle<Result<usize, tokio_postgres::Error>>>> {
    let scanners = 8usize;
    let next = Arc::new(AtomicUsize::new(0));
    let every = Duration::from_secs_f64(scanners as f64 / f64::from(rate.max(1)));
    let admitted = Arc::new(admitted);
    let mut tasks = Vec::new();
    for scanner in 0..scanners {
        let client = db::connect(gate).await?;
        let (codes, next, admitted) = (codes.clone(), next.clone(), admitted.clone());
        tasks.push(tokio::spawn(async move {
            let statement = client
                .prepare(
                    "SELECT r.accepted, pg_current_xact_id()::text FROM check_in_by_code($1, $2, $3) r",
                )
                .await?;
            let gate = format!("Bench gate {scanner}");
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let started = Instant::now();
            let mut scans = 0usize;
            while started.elapsed() < run {
                tick.tick().await;
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(code) = codes.get(i) else {
                    break;
                };
                let row = client.query_one(&statement, &[&event, code, &gate]).await?;
                let at = Instant::now();
                let xid: String = row.get(1);
                if row.get::<_, bool>(0)
                    && let Ok(xid) = xid.parse::<u64>()
                {
                    scans += 1;
                    admitted(i, xid, at);
                }
            }
            Ok(scans)
        }));
    }
    Ok(tasks)
}

/// A screen that reads every frame for the attendees awaited (tokens "Q000123") and notes when each
/// first shows.
pub(super) struct MeasuringScreen {
    terminal: ratatui::Terminal<ratatui::backend::TestBackend>,
    seen: Arc<std::sync::Mutex<Seen>>,
}

#[derive(Default)]
pub(super) struct Seen {
    live: bool,
    /// The header of the last frame, to say why it is not live.
    header: String,
    /// Committed, not yet drawn: token -> commit instant.
    awaited: std::collections::HashMap<String, Instant>,
    /// Drawn before its scanner reported the commit.
    drawn: std::collections::HashMap<String, Instant>,
    /// By token number: sampled already, so a row still on screen in later frames is not noted again
    /// (a set of every token drawn would grow with the run and be counted as the console's memory).
    sampled: Vec<bool>,
    samples: Vec<Duration>,
    /// The totals line of the last frame ("Checked in 1,234 / 5,000 ...").
    totals: String,
}

/// "Q000123" -> 123.
fn token_number(token: &str) -> Option<usize> {
    token.get(1..)?.parse().ok()
}

impl Seen {
    fn was_sampled(&self, token: &str) -> bool {
        token_number(token).is_some_and(|n| self.sampled.get(n).copied().unwrap_or(false))
    }

    fn sample(&mut self, token: &str, took: Duration) {
        self.samples.push(took);
        if let Some(n) = token_number(token) {
            if self.sampled.len() <= n {
                self.sampled.resize(n + 1, false);
            }
            self.sampled[n] = true;
        }
    }

    /// `token` is on screen at `now`: a sample if its commit was reported, else noted for when it is.
    fn saw(&mut self, token: &str, now: Instant) {
        if self.was_sampled(token) {
            return;
        }
        match self.awaited.remove(token) {
            Some(at) => self.sample(token, now.saturating_duration_since(at)),
            None => {
                self.drawn.entry(token.to_owned()).or_insert(now);
            }
        }
    }

    /// `token`'s commit was reported at `at`: a sample if it was drawn already (as good as at once),
    /// else awaited.
    fn committed(&mut self, token: &str, at: Instant) {
        match self.drawn.remove(token) {
            Some(_) => self.sample(token, Duration::ZERO),
            None => {
                self.awaited.insert(token.to_owned(), at);
            }
        }
    }
}

impl crate::app::Screen for MeasuringScreen {
    fn show(&mut self, state: &crate::app::state::State, theme: &crate::ui::Theme) -> Result<()> {
        self.terminal
            .draw(|frame| crate::app::frame::render(frame, state, theme))
            .context("cannot draw into the test backend")?;
        let now = Instant::now();
        let buffer = self.terminal.backend().buffer();
        let area = buffer.area;
        let mut seen = self
            .seen
            .lock()
            .map_err(|_| anyhow::anyhow!("the measuring screen's lock was poisoned"))?;
        for y in area.top()..area.bottom() {
            let line: String = (area.left()..area.right())
                .map(|x| buffer[(x, y)].symbol())
                .collect();
            if y == area.top() {
                seen.live = line.contains("LIVE");
                seen.header = line.trim().to_owned();
            }
            if line.trim_start().starts_with("Checked in ") {
                seen.totals = line.trim().to_owned();
            }
            for (i, _) in line.match_indices('Q') {
                let token = line.get(i..i + 7).unwrap_or("");
                if token.len() == 7 && token[1..].bytes().all(|b| b.is_ascii_digit()) {
                    seen.saw(token, now);
                }
            }
        }
        Ok(())
    }

    fn bell(&mut self) {}
}

/// What watches the doors in a latency run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Watcher {
    /// The console's own loop, headless.
    Console,
    /// The baseline: a screen that reads the newest check-ins once a second.
    PollingEverySecond,
}

/// Paced scans of uniquely named attendees at `rate` a second, watched by `watcher`.
pub(super) async fn commit_to_screen(
    admin: &Client,
    all: &Settings,
    gate: &DatabaseSettings,
    event: Uuid,
    rate: u32,
    run: Duration,
    watcher: Watcher,
) -> Result<Latency> {
    let people = free_attendees(admin, event).await?;
    let since = current_xid(admin).await?;
    let tokens = name_for_the_screen(admin, &people).await?;
    let seen = Arc::new(std::sync::Mutex::new(Seen::default()));
    let (stop_console, console) = start_watching(all, event, watcher, seen.clone()).await?;

    let codes: Arc<Vec<String>> = Arc::new(tokens.iter().map(|(_, code)| code.clone()).collect());
    let tasks = {
        let seen = seen.clone();
        paced_scanners(gate, event, rate, run, codes, move |i, _, at| {
            let Some((token, _)) = tokens.get(i) else {
                return;
            };
            if let Ok(mut seen) = seen.lock() {
                seen.committed(token, at);
            }
        })
        .await?
    };
    let scans = scanned(tasks).await?;
    let settle = Instant::now();
    while settle.elapsed() < Duration::from_secs(3)
        && !seen.lock().map(|s| s.awaited.is_empty()).unwrap_or(true)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop_console.send(());
    console
        .await
        .context("the headless console failed")?
        .context("the headless console stopped")?;
    let mut samples = seen
        .lock()
        .map(|s| s.samples.clone())
        .map_err(|_| anyhow::anyhow!("the measuring screen's lock was poisoned"))?;
    samples.sort();
    undo_since(admin, event, &since).await?;
    Ok(Latency {
        scans,
        early: 0,
        samples,
    })
}

/// Names that cannot be mistaken on screen, Q000001 Bench, Q000002 Bench, ..., for `people` in order:
/// (token, ticket code) each.
async fn name_for_the_screen(
    admin: &Client,
    people: &[(Uuid, String)],
) -> Result<Arc<Vec<(String, String)>>> {
    let ids: Vec<Uuid> = people.iter().map(|(id, _)| *id).collect();
    admin
        .execute(
            "UPDATE attendees a SET first_name = 'Q' || lpad(n.k::text, 6, '0'), last_name = 'Bench'
               FROM unnest($1::uuid[]) WITH ORDINALITY AS n(id, k) WHERE a.id = n.id",
            &[&ids],
        )
        .await
        .context("cannot name the attendees")?;
    Ok(Arc::new(
        people
            .iter()
            .enumerate()
            .map(|(k, (_, code))| (format!("Q{:06}", k + 1), code.clone()))
            .collect(),
    ))
}

type Watching = tokio::task::JoinHandle<Result<()>>;

/// `watcher` started as the event's organizer and seen LIVE; the sender stops it.
async fn start_watching(
    all: &Settings,
    event: Uuid,
    watcher: Watcher,
    seen: Arc<std::sync::Mutex<Seen>>,
) -> Result<(tokio::sync::oneshot::Sender<()>, Watching)> {
    let (stop_console, console_stopped) = tokio::sync::oneshot::channel::<()>();
    let mut console_settings = all.clone();
    console_settings
        .database
        .pg
        .user(seed::operator_login(SLUG, "organizer"));
    let console = if watcher == Watcher::PollingEverySecond {
        let seen = seen.clone();
        let organizer = console_settings.database.clone();
        tokio::spawn(
            async move { poll_every_second(&organizer, event, seen, console_stopped).await },
        )
    } else {
        let seen = seen.clone();
        tokio::spawn(async move {
            let backend = ratatui::backend::TestBackend::new(120, 250);
            let terminal =
                ratatui::Terminal::new(backend).context("cannot make the test backend")?;
            let mut screen = MeasuringScreen { terminal, seen };
            crate::app::run_headless(&console_settings, SLUG, &mut screen, async move {
                let _ = console_stopped.await;
            })
            .await
        })
    };
    let ready = Instant::now();
    while !seen.lock().map(|s| s.live).unwrap_or(false) {
        if console.is_finished() {
            console
                .await
                .context("the headless console failed")?
                .context("the headless console stopped before it was live")?;
            bail!("the headless console stopped before it was live");
        }
        if ready.elapsed() > Duration::from_secs(30) {
            let header = seen.lock().map(|s| s.header.clone()).unwrap_or_default();
            bail!("the headless console did not come up LIVE within 30 s (its header: {header:?})");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok((stop_console, console))
}

/// The soak's figures for one window of time.
pub(super) struct SoakWindow {
    /// Since the scans began.
    pub at: Duration,
    pub scans: usize,
    /// Sorted.
    pub samples: Vec<Duration>,
    /// Committed more than 5 s before the window's end and still not drawn (a burst larger than the
    /// feed's 200 rows can push a row out before a frame shows it; the totals still count it).
    pub overdue: usize,
    /// This process's resident memory at the window's end, in kB (None off Linux).
    pub rss_kb: Option<u64>,
}

/// The gates at `rate` a second for `total`, one console watching throughout; each `window`, the
/// commit-to-screen samples of that window and the process's memory.
pub(super) async fn soak(
    admin: &Client,
    all: &Settings,
    gate: &DatabaseSettings,
    event: Uuid,
    rate: u32,
    total: Duration,
    window: Duration,
) -> Result<Soaked> {
    let people = free_attendees(admin, event).await?;
    let since = current_xid(admin).await?;
    let tokens = name_for_the_screen(admin, &people).await?;
    let seen = Arc::new(std::sync::Mutex::new(Seen::default()));
    let (stop_console, console) =
        start_watching(all, event, Watcher::Console, seen.clone()).await?;
    let admitted = Arc::new(AtomicUsize::new(0));
    let codes: Arc<Vec<String>> = Arc::new(tokens.iter().map(|(_, code)| code.clone()).collect());
    let tasks = {
        let (seen, admitted) = (seen.clone(), admitted.clone());
        paced_scanners(gate, event, rate, total, codes, move |i, _, at| {
            admitted.fetch_add(1, Ordering::Relaxed);
            let Some((token, _)) = tokens.get(i) else {
                return;
            };
            if let Ok(mut seen) = seen.lock() {
                seen.committed(token, at);
            }
        })
        .await?
    };
    let started = Instant::now();
    let mut windows = Vec::new();
    let mut counted = 0usize;
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + window, window);
    loop {
        tick.tick().await;
        let done = tasks.iter().all(|t| t.is_finished());
        let (mut samples, overdue) = seen
            .lock()
            .map(|mut s| {
                let overdue = s
                    .awaited
                    .values()
                    .filter(|at| at.elapsed() > Duration::from_secs(5))
                    .count();
                (std::mem::take(&mut s.samples), overdue)
            })
            .map_err(|_| anyhow::anyhow!("the measuring screen's lock was poisoned"))?;
        samples.sort();
        let now = admitted.load(Ordering::Relaxed);
        windows.push(SoakWindow {
            at: started.elapsed(),
            scans: now - counted,
            samples,
            overdue,
            rss_kb: super::console::memory().ok().map(|m| m.rss_kb),
        });
        counted = now;
        if done {
            break;
        }
    }
    scanned(tasks).await?;
    // Nothing lost: once the doors are quiet, the console's totals equal a recount.
    let recount: i64 = admin
        .query_one(
            "SELECT count(DISTINCT attendee_id) FROM event_checkins
              WHERE event_id = $1 AND session_id IS NULL",
            &[&event],
        )
        .await
        .context("cannot recount the check-ins")?
        .get(0);
    let expected = format!(
        "Checked in {} ",
        crate::desks::checkins::view::thousands(recount)
    );
    let settle = Instant::now();
    let shown = loop {
        let shown = seen.lock().map(|s| s.totals.clone()).unwrap_or_default();
        if shown.starts_with(&expected) || settle.elapsed() > Duration::from_secs(10) {
            break shown;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let _ = stop_console.send(());
    console
        .await
        .context("the headless console failed")?
        .context("the headless console stopped")?;
    undo_since(admin, event, &since).await?;
    Ok(Soaked {
        windows,
        totals_equal: shown.starts_with(&expected),
        shown,
        recount,
    })
}

/// The soak's rows, and whether the console ended equal to the database.
pub(super) struct Soaked {
    pub windows: Vec<SoakWindow>,
    pub totals_equal: bool,
    /// The console's totals line at the end.
    pub shown: String,
    pub recount: i64,
}

/// The baseline a console is measured against: once a second, the names checked in since the last look.
async fn poll_every_second(
    organizer: &DatabaseSettings,
    event: Uuid,
    seen: Arc<std::sync::Mutex<Seen>>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) -> Result<()> {
    let client = db::connect(organizer).await?;
    let statement = client
        .prepare(
            "SELECT a.first_name, now() FROM event_checkins c JOIN attendees a ON a.id = c.attendee_id
              WHERE c.event_id = $1 AND c.check_in_time >= $2 AND c.session_id IS NULL",
        )
        .await
        .context("cannot prepare the polling read")?;
    let mut since = chrono::Utc::now() - chrono::Duration::seconds(5);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = &mut stop => return Ok(()),
            _ = tick.tick() => {}
        }
        let rows = client
            .query(&statement, &[&event, &since])
            .await
            .context("the polling read failed")?;
        let now = Instant::now();
        let mut seen = seen
            .lock()
            .map_err(|_| anyhow::anyhow!("the polling screen's lock was poisoned"))?;
        seen.live = true;
        for row in &rows {
            let name: String = row.get(0);
            if name.len() == 7 && name.starts_with('Q') {
                seen.saw(&name, now);
            }
        }
        // Entries commit a little after their check-in time is taken: look a second back.
        if let Some(row) = rows.first() {
            since = row.get::<_, chrono::DateTime<chrono::Utc>>(1) - chrono::Duration::seconds(1);
        }
    }
}

/// How many the paced scanners admitted in all, once they are done.
pub(super) async fn scanned(
    tasks: Vec<tokio::task::JoinHandle<Result<usize, tokio_postgres::Error>>>,
) -> Result<usize> {
    let mut scans = 0;
    for task in tasks {
        scans += task
            .await
            .context("a scanner failed")?
            .context("a scan failed")?;
    }
    Ok(scans)
}

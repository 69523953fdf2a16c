//! The console's own costs: the bytes it writes to a terminal, its memory while check-ins stream past,
//! and what many consoles cost the server.

use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, Utc};
use ratatui::backend::{CrosstermBackend, TestBackend};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use tokio_postgres::Client;
use uuid::Uuid;

use super::SLUG;
use super::ingest::{current_xid, free_attendees, undo_since};
use super::latency::{paced_scanners, scanned};
use crate::app::Screen;
use crate::app::state::{Link, State};
use crate::app::terminal::draw_frame;
use crate::config::{DatabaseSettings, Settings};
use crate::demo::seed;
use crate::ui::Theme;

/// How long a headless console may take to read its first snapshot.
const LIVE_WITHIN: Duration = Duration::from_secs(30);
/// After LIVE, the start-up's stragglers (badges, the first health report) are let through first.
const SETTLE: Duration = Duration::from_secs(3);
/// Scans before a measured run of many consoles, so their pools are at the size the doors need.
const WARM_UP: Duration = Duration::from_secs(3);
/// Rows per administrator transaction while streaming check-ins.
const BATCH: usize = 2_000;

/// What a console's screen saw, shared with the bench.
#[derive(Default)]
struct Watch {
    bytes: Arc<AtomicU64>,
    frames: AtomicU64,
    /// The whole LIVE screen painted from nothing (as after a resize), drawn once aside.
    full_paint: AtomicU64,
    live: AtomicBool,
    /// What the last frame showed.
    shown: Mutex<Option<Shown>>,
}

/// Enough of a frame to know whether it shows the newest entry, and to say what it showed instead.
#[derive(Debug, Clone, Copy)]
#[allow(
    dead_code,
    reason = "link and worker_missing are read through Debug, in the failure message"
)]
struct Shown {
    link: Link,
    worker_missing: bool,
    /// The feed's top entry.
    newest: Option<(Uuid, DateTime<Utc>)>,
}

#[derive(Clone, Copy)]
struct Reading {
    at: Instant,
    bytes: u64,
    frames: u64,
}

impl Watch {
    fn read(&self) -> Reading {
        Reading {
            at: Instant::now(),
            bytes: self.bytes.load(Ordering::Relaxed),
            frames: self.frames.load(Ordering::Relaxed),
        }
    }

    fn live(&self) -> bool {
        self.live.load(Ordering::Relaxed)
    }

    fn shown(&self) -> Result<Option<Shown>> {
        Ok(*self
            .shown
            .lock()
            .map_err(|_| anyhow!("a console's watch lock was poisoned"))?)
    }

    /// After a frame: LIVE is what the header says when the link is `Live` (whatever it adds after).
    fn framed(&self, state: &State, drawn: bool) -> Result<()> {
        if drawn {
            self.frames.fetch_add(1, Ordering::Relaxed);
        }
        self.live
            .store(matches!(state.link, Link::Live), Ordering::Relaxed);
        *self
            .shown
            .lock()
            .map_err(|_| anyhow!("a console's watch lock was poisoned"))? = Some(Shown {
            link: state.link,
            worker_missing: state.worker_missing,
            newest: state
                .desks
                .checkins
                .feed
                .first()
                .map(|row| (row.id, row.at)),
        });
        Ok(())
    }
}

/// A terminal that counts what it is sent instead of showing it.
struct Counter(Arc<AtomicU64>);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.fetch_add(buf.len() as u64, Ordering::Relaxed);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The operator's terminal as `TerminalGuard` drives it (crossterm, synchronized output, the bell), 80x24,
/// into a counter.
struct CountingScreen {
    terminal: Terminal<CrosstermBackend<Counter>>,
    shown: Option<Buffer>,
    watch: Arc<Watch>,
}

impl CountingScreen {
    fn new(watch: Arc<Watch>) -> Result<CountingScreen> {
        let terminal = counting_terminal(watch.bytes.clone())?;
        Ok(CountingScreen {
            terminal,
            shown: None,
            watch,
        })
    }
}

/// 80x24, in a fixed viewport: the terminal never asks a real one for its size.
fn counting_terminal(bytes: Arc<AtomicU64>) -> Result<Terminal<CrosstermBackend<Counter>>> {
    Terminal::with_options(
        CrosstermBackend::new(Counter(bytes)),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, 80, 24)),
        },
    )
    .context("cannot make the counting terminal")
}

impl Screen for CountingScreen {
    fn show(&mut self, state: &State, theme: &Theme) -> Result<()> {
        // As TerminalGuard::draw, so the bytes are the ones a terminal gets.
        let drawn = draw_frame(&mut self.terminal, &mut self.shown, |frame| {
            crate::app::frame::render(frame, state, theme)
        })?;
        if !self.watch.live() && matches!(state.link, Link::Live) {
            // The first LIVE screen once more on a terminal of its own: what a full repaint costs.
            let painted = Arc::new(AtomicU64::new(0));
            draw_frame(
                &mut counting_terminal(painted.clone())?,
                &mut None,
                |frame| crate::app::frame::render(frame, state, theme),
            )?;
            self.watch
                .full_paint
                .store(painted.load(Ordering::Relaxed), Ordering::Relaxed);
        }
        self.watch.framed(state, drawn)
    }

    fn bell(&mut self) {
        // A bell is bytes on the wire too; one that cannot be counted is not worth stopping for.
        let backend = self.terminal.backend_mut();
        let _ = backend.write_all(b"\x07");
        let _ = backend.flush();
    }
}

/// A cheap screen for many consoles at once: a small test backend.
struct TestScreen {
    terminal: Terminal<TestBackend>,
    watch: Arc<Watch>,
}

impl Screen for TestScreen {
    fn show(&mut self, state: &State, theme: &Theme) -> Result<()> {
        self.terminal
            .draw(|frame| crate::app::frame::render(frame, state, theme))
            .context("cannot draw into the test backend")?;
        self.watch.framed(state, true)
    }

    fn bell(&mut self) {}
}

/// A console running headless on a task of its own; dropping it stops it too (its stop fires).
struct Console {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<()>>,
    watch: Arc<Watch>,
}

impl Console {
    /// The real loop, as the event's organizer, into `screen`.
    fn start(
        all: &Settings,
        mut screen: impl Screen + Send + 'static,
        watch: Arc<Watch>,
    ) -> Console {
        let mut settings = all.clone();
        settings
            .database
            .pg
            .user(seed::operator_login(SLUG, "organizer"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            crate::app::run_headless(&settings, SLUG, &mut screen, async move {
                let _ = stopped.await;
            })
            .await
        });
        Console { stop, task, watch }
    }

    async fn finish(self) -> Result<()> {
        let _ = self.stop.send(());
        self.task
            .await
            .context("a headless console failed")?
            .context("a headless console stopped")
    }
}

/// Stops every console, answering the first failure.
async fn finish_all(consoles: Vec<Console>) -> Result<()> {
    let mut outcome = Ok(());
    for console in consoles {
        let finished = console.finish().await;
        if outcome.is_ok() {
            outcome = finished;
        }
    }
    outcome
}

/// Until every console's header says LIVE; a console that stops first says why.
async fn wait_live(consoles: &[Console], within: Duration) -> Result<()> {
    let started = Instant::now();
    while !consoles.iter().all(|c| c.watch.live()) {
        for console in consoles.iter() {
            // Its own error comes from `finish`.
            if console.task.is_finished() {
                bail!("a headless console stopped before it was LIVE");
            }
        }
        if started.elapsed() > within {
            let live = consoles.iter().filter(|c| c.watch.live()).count();
            bail!(
                "only {live} of {} headless consoles came up LIVE within {} s",
                consoles.len(),
                within.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// Bytes the console writes to an 80x24 terminal: per frame and per second while 100 scans a second
/// arrive, and per idle second (nothing happening). Through the real loop into a crossterm backend
/// that counts bytes instead of writing them.
pub(super) async fn bytes_on_the_wire(
    admin: &Client,
    all: &Settings,
    gate: &DatabaseSettings,
    event: Uuid,
    run: Duration,
) -> Result<String> {
    const RATE: u32 = 100;
    let since = current_xid(admin).await?;
    let watch = Arc::new(Watch::default());
    let console = Console::start(all, CountingScreen::new(watch.clone())?, watch.clone());
    let measured = async {
        let started = watch.read();
        wait_live(std::slice::from_ref(&console), LIVE_WITHIN).await?;
        let live = watch.read();
        tokio::time::sleep(SETTLE).await;

        // Idle first: after scans, the last batches and their totals would still be arriving.
        let minute = || Utc::now().timestamp().div_euclid(60);
        let idle_from = (watch.read(), minute());
        tokio::time::sleep(run).await;
        let idle_to = (watch.read(), minute());

        let people = free_attendees(admin, event).await?;
        if people.is_empty() {
            bail!("nobody is left outside to scan");
        }
        let codes: Arc<Vec<String>> = Arc::new(people.into_iter().map(|(_, code)| code).collect());
        let busy_from = watch.read();
        let tasks = paced_scanners(gate, event, RATE, run, codes, |_, _, _| {}).await?;
        let scans = scanned(tasks).await?;
        let busy_to = watch.read();
        Ok((started, live, idle_from, idle_to, scans, busy_from, busy_to))
    }
    .await;
    let stopped = console.finish().await;
    undo_since(admin, event, &since).await?;
    // A console that failed says why; what the bench saw of it follows from that.
    stopped?;
    let (started, live, (idle_from, minute_from), (idle_to, minute_to), scans, busy_from, busy_to) =
        measured?;

    let row = |while_: &str, from: Reading, to: Reading, per_second: bool| {
        let secs = to.at.saturating_duration_since(from.at).as_secs_f64();
        let bytes = to.bytes - from.bytes;
        let frames = to.frames - from.frames;
        format!(
            "| {while_} | {secs:.1} s | {frames} | {} | {} | {} |\n",
            size(bytes as f64),
            if frames == 0 {
                "-".to_owned()
            } else {
                size(bytes as f64 / frames as f64)
            },
            if per_second {
                size(bytes as f64 / secs.max(0.001))
            } else {
                "-".to_owned()
            }
        )
    };
    let full_paint = watch.full_paint.load(Ordering::Relaxed);
    let busy_secs = busy_to
        .at
        .saturating_duration_since(busy_from.at)
        .as_secs_f64();
    let turns = minute_to - minute_from;
    let idle_frames = idle_to.frames - idle_from.frames;
    let mut out = String::new();
    out.push_str("### Bytes on the wire\n\n");
    out.push_str(
        "The console's own loop as the event's organizer, drawing through crossterm (synchronized output, as on a terminal) into an 80x24 terminal that counts the bytes instead of showing them.\n\n",
    );
    out.push_str("| while | for | frames | bytes | per frame | per second |\n|---|---:|---:|---:|---:|---:|\n");
    out.push_str(&row("start-up, until LIVE", started, live, false));
    out.push_str(&row(
        &format!(
            "{RATE} scans/s asked ({} admitted, {:.0}/s)",
            scans,
            scans as f64 / busy_secs.max(0.001)
        ),
        busy_from,
        busy_to,
        true,
    ));
    out.push_str(&row(
        &format!("idle, from {} s after LIVE", SETTLE.as_secs()),
        idle_from,
        idle_to,
        true,
    ));
    out.push_str(&format!(
        "\nThe whole LIVE screen painted from nothing (as after a resize) is {}. The header's clock shows minutes: {} in the idle window, which drew {idle_frames} frame{}.\n\n",
        size(full_paint as f64),
        match turns {
            0 => "no minute turned".to_owned(),
            1 => "one minute turned".to_owned(),
            n => format!("{n} minutes turned"),
        },
        if idle_frames == 1 { "" } else { "s" }
    ));
    Ok(out)
}

/// The console's resident memory (this process's VmRSS/VmHWM from /proc/self/status, before the console starts
/// and after) while `count` check-ins stream past it: `count` walk-ins are registered first (no ticket),
/// then each enters once, by bare inserts of the administrator in batches of BATCH rows a transaction;
/// the console must have seen the last batch (its feed shows the newest) before RSS is read. Walk-ins
/// rather than re-entries: checking a million people out again is an audited UPDATE a row, which made
/// this phase take 27 minutes of the bench's 37 on 2026-12-07 while measuring nothing about the console.
pub(super) async fn memory_after_streaming(
    admin: &Client,
    all: &Settings,
    event: Uuid,
    count: u64,
) -> Result<String> {
    let heading = "### Console memory\n\n";
    let registering = Instant::now();
    let walk_ins = i64::try_from(count).context("too many check-ins to stream")?;
    // Each with a ticket (the check-in rules admit no one without); their ids are read here, before
    // the first reading, so the process holds them throughout.
    admin
        .execute(
            "INSERT INTO attendees (event_id, first_name, last_name, email)
             SELECT $1, 'Walk-in', n::text, 'walk-in-' || n || '@bench.invalid'
               FROM generate_series(1, $2::bigint) AS n",
            &[&event, &walk_ins],
        )
        .await
        .context("cannot register the walk-ins")?;
    let people: Vec<Uuid> = admin
        .query(
            "INSERT INTO tickets (event_id, attendee_id, ticket_type_id, code)
             SELECT $1, a.id,
                    (SELECT id FROM ticket_types WHERE event_id = $1 ORDER BY price, name LIMIT 1),
                    'WALK-IN-' || a.last_name
               FROM attendees a
              WHERE a.event_id = $1 AND a.first_name = 'Walk-in'
             RETURNING attendee_id",
            &[&event],
        )
        .await
        .context("cannot give the walk-ins their tickets")?
        .iter()
        .map(|row| row.get(0))
        .collect();
    admin
        .batch_execute("ANALYZE attendees, tickets")
        .await
        .context("cannot analyze the walk-ins")?;
    let registered = registering.elapsed();
    let before = match memory() {
        Ok(m) => m,
        Err(e) => return Ok(format!("{heading}-: {e:#}.\n\n")),
    };
    let since = current_xid(admin).await?;
    let watch = Arc::new(Watch::default());
    let console = Console::start(all, CountingScreen::new(watch.clone())?, watch.clone());
    let measured = async {
        wait_live(std::slice::from_ref(&console), LIVE_WITHIN).await?;
        tokio::time::sleep(SETTLE).await;
        let live = memory()?;
        // Each row its own time (the administrator may give one, not in the future): the feed's newest
        // is then one row, not any of a batch's 2,000 that share the transaction's now().
        let insert = admin
            .prepare(
                "INSERT INTO event_checkins (event_id, attendee_id, gate, check_in_method, check_in_time)
                 SELECT $1, n.id, 'Bench gate ' || (n.k % 8), 'qr_code', clock_timestamp()
                   FROM unnest($2::uuid[]) WITH ORDINALITY AS n(id, k)",
            )
            .await
            .context("cannot prepare the streaming insert")?;
        let started = Instant::now();
        let mut written = 0u64;
        for batch in people.chunks(BATCH) {
            written += admin
                .execute(&insert, &[&event, &batch])
                .await
                .context("cannot stream a batch of check-ins")?;
        }
        let streamed = started.elapsed();
        let newest: Uuid = admin
            .query_one(
                "SELECT id FROM event_checkins WHERE event_id = $1
                  ORDER BY check_in_time DESC, id DESC LIMIT 1",
                &[&event],
            )
            .await
            .context("cannot read the newest entry")?
            .get(0);
        let caught_up = loop {
            let shown = watch.shown()?;
            if shown.and_then(|s| s.newest).map(|(id, _)| id) == Some(newest) {
                break started.elapsed().saturating_sub(streamed);
            }
            if started.elapsed().saturating_sub(streamed) > Duration::from_secs(60) {
                bail!(
                    "the console's feed did not show the newest entry ({newest}) within 60 s of the last batch; its last frame: {shown:?}"
                );
            }
            if console.task.is_finished() {
                bail!("the headless console stopped while check-ins streamed");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        let after = memory()?;
        Ok((live, after, written, streamed, caught_up))
    }
    .await;
    let stopped = console.finish().await;
    undo_since(admin, event, &since).await?;
    // The walk-ins go too (their tickets with them): the many consoles after this see the event as it was.
    admin
        .execute("DELETE FROM attendees WHERE id = ANY ($1)", &[&people])
        .await
        .context("cannot remove the walk-ins")?;
    stopped?;
    let (live, after, written, streamed, caught_up) = measured?;

    let mut out = String::from(heading);
    out.push_str(&format!(
        "This process's VmRSS and VmHWM (peak) from /proc/self/status while the console (the real loop, as the organizer, 80x24) watches the administrator write {} check-ins in transactions of {} rows in {:.1} s: {} walk-ins registered beforehand (in {:.1} s), each entering once; read once the console's feed shows the newest entry ({:.0} ms after the last batch). The process also holds the bench's worker and administrator connection and the walk-ins' ids.\n\n",
        thousands(written),
        thousands(BATCH as u64),
        streamed.as_secs_f64(),
        thousands(people.len() as u64),
        registered.as_secs_f64(),
        caught_up.as_secs_f64() * 1000.0
    ));
    out.push_str("| when | VmRSS | VmHWM |\n|---|---:|---:|\n");
    for (when, m) in [
        ("before the console started".to_owned(), before),
        (format!("console LIVE (+{} s)", SETTLE.as_secs()), live),
        ("after streaming".to_owned(), after),
    ] {
        out.push_str(&format!(
            "| {when} | {} | {} |\n",
            mib(m.rss_kb),
            mib(m.hwm_kb)
        ));
    }
    out.push_str(&format!(
        "\nFrom LIVE to after streaming: {:+.1} MiB resident.\n\n",
        (after.rss_kb as f64 - live.rss_kb as f64) / 1024.0
    ));
    Ok(out)
}

/// Twenty consoles on the event while 8 gates scan at `rate` a second: the CPU time their server
/// backends used (from /proc/<pid>/stat utime+stime of each backend whose usename is the organizer's
/// login, read via pg_stat_activity, before and after), as a share of one core; "-" with the reason
/// when /proc of the server is not readable (a remote server).
pub(super) async fn many_consoles(
    admin: &Client,
    all: &Settings,
    gate: &DatabaseSettings,
    event: Uuid,
    consoles: usize,
    rate: u32,
    run: Duration,
) -> Result<String> {
    let login = seed::operator_login(SLUG, "organizer");
    let since = current_xid(admin).await?;
    let mut running = Vec::with_capacity(consoles);
    for _ in 0..consoles {
        let watch = Arc::new(Watch::default());
        let terminal =
            Terminal::new(TestBackend::new(80, 24)).context("cannot make a test backend")?;
        let screen = TestScreen {
            terminal,
            watch: watch.clone(),
        };
        running.push(Console::start(all, screen, watch));
    }
    let measured = async {
        // The consoles start together and share this process's two runtime threads with each other.
        wait_live(&running, LIVE_WITHIN * 2).await?;
        tokio::time::sleep(SETTLE).await;
        let people = free_attendees(admin, event).await?;
        if people.is_empty() {
            bail!("nobody is left outside to scan");
        }
        let mut codes: Vec<String> = people.into_iter().map(|(_, code)| code).collect();
        // Doors already busy before the measured run: each console's pool has opened what it needs
        // (a new backend's start-up would count whole).
        let warm_codes = codes.split_off(codes.len() / 2);
        let warm = paced_scanners(
            gate,
            event,
            rate,
            WARM_UP,
            Arc::new(warm_codes),
            |_, _, _| {},
        )
        .await?;
        scanned(warm).await?;
        let codes = Arc::new(codes);
        let frames = |running: &[Console]| -> u64 {
            running
                .iter()
                .map(|c| c.watch.frames.load(Ordering::Relaxed))
                .sum()
        };
        let cpu_before = backend_cpu(admin, &login).await?;
        let frames_before = frames(&running);
        let started = Instant::now();
        let tasks = paced_scanners(gate, event, rate, run, codes, |_, _, _| {}).await?;
        let scans = scanned(tasks).await?;
        let elapsed = started.elapsed();
        let cpu_after = backend_cpu(admin, &login).await?;
        let drawn = frames(&running) - frames_before;
        Ok((cpu_before, cpu_after, scans, elapsed, drawn))
    }
    .await;
    let stopped = finish_all(running).await;
    undo_since(admin, event, &since).await?;
    stopped?;
    let (cpu_before, cpu_after, scans, elapsed, drawn) = measured?;

    let secs = elapsed.as_secs_f64().max(0.001);
    let mut out = String::from("### Many consoles\n\n");
    out.push_str(&format!(
        "{consoles} consoles (the real loop headless, as the organizer, each into an 80x24 test backend, all in this process) on the event while 8 gates scan at {rate}/s for {} s, after {} s of the same: the CPU time of the consoles' server backends (utime+stime from /proc/<pid>/stat of each backend of the organizer's login in pg_stat_activity, before and after; a backend that started meanwhile counts whole), as a share of one core.\n\n",
        run.as_secs(),
        WARM_UP.as_secs()
    ));
    out.push_str("| consoles | backends (before, after) | scans/s asked | achieved | backend CPU | share of one core | per console | of which listening |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    let achieved = scans as f64 / secs;
    match (cpu_before, cpu_after) {
        (Ok(before), Ok(after)) => {
            let tick = clock_ticks_per_second();
            let used = |listening: bool| -> f64 {
                let ticks: u64 = after
                    .iter()
                    .filter(|(_, b)| b.listening == listening)
                    .map(|(pid, b)| {
                        b.ticks
                            .saturating_sub(before.get(pid).map_or(0, |was| was.ticks))
                    })
                    .sum();
                ticks as f64 / tick as f64
            };
            let (listening, reading) = (used(true), used(false));
            let cpu = listening + reading;
            out.push_str(&format!(
                "| {consoles} | {}, {} | {rate} | {achieved:.0} | {cpu:.2} s | {:.1}% | {:.2}% | {:.1}% |\n",
                before.len(),
                after.len(),
                100.0 * cpu / secs,
                100.0 * cpu / secs / consoles.max(1) as f64,
                100.0 * listening / secs
            ));
        }
        (Err(reason), _) | (_, Err(reason)) => {
            out.push_str(&format!(
                "| {consoles} | - | {rate} | {achieved:.0} | - | - ({reason}) | - | - |\n"
            ));
        }
    }
    out.push_str(&format!(
        "\nMeanwhile each console drew {:.0} frames ({:.1} a second).\n\n",
        drawn as f64 / consoles.max(1) as f64,
        drawn as f64 / consoles.max(1) as f64 / secs
    ));
    Ok(out)
}

/// CPU ticks used so far by each server backend of `login` in this database; Err with the reason when
/// the server's processes cannot be read here.
/// One server backend's CPU so far, and whether it is a console's listening connection.
struct BackendCpu {
    ticks: u64,
    listening: bool,
}

async fn backend_cpu(
    admin: &Client,
    login: &str,
) -> Result<std::result::Result<HashMap<i32, BackendCpu>, String>> {
    let rows = admin
        .query(
            "SELECT pid, application_name = $2 FROM pg_stat_activity
              WHERE usename = $1 AND datname = current_database()",
            &[&login, &crate::db::listen::APPLICATION_NAME],
        )
        .await
        .context("cannot list the consoles' backends")?;
    let mut cpu = HashMap::new();
    for row in rows {
        let pid: i32 = row.get(0);
        match process_ticks(pid, "postgres") {
            Ok(ticks) => {
                cpu.insert(
                    pid,
                    BackendCpu {
                        ticks,
                        listening: row.get(1),
                    },
                );
            }
            Err(reason) => return Ok(Err(reason)),
        }
    }
    Ok(Ok(cpu))
}

/// utime+stime of a local process, checked to be the program `comm` (a server's backend: not some other
/// process with the number a remote server's backend happens to have).
pub(super) fn process_ticks(pid: i32, comm_wanted: &str) -> std::result::Result<u64, String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|e| format!("the server's /proc is not readable here: /proc/{pid}/stat: {e}"))?;
    // The command name is in parentheses and may hold spaces: fields are counted after the last ')'.
    let (head, rest) = stat
        .rsplit_once(')')
        .ok_or_else(|| format!("/proc/{pid}/stat has no command name"))?;
    let comm = head.split_once('(').map_or("", |(_, c)| c);
    if comm != comm_wanted {
        return Err(format!(
            "process {pid} here is {comm:?}, not {comm_wanted:?} (a remote server)"
        ));
    }
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of stat(5); `rest` starts at field 3.
    let field = |i: usize| -> std::result::Result<u64, String> {
        fields
            .get(i)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| format!("/proc/{pid}/stat is not as expected"))
    };
    Ok(field(11)? + field(12)?)
}

/// USER_HZ, the unit of /proc's CPU times: 100 on Linux unless getconf says otherwise.
pub(super) fn clock_ticks_per_second() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .filter(|&hz| hz > 0)
        .unwrap_or(100)
}

#[derive(Clone, Copy)]
pub(super) struct Memory {
    pub rss_kb: u64,
    hwm_kb: u64,
}

pub(super) fn memory() -> Result<Memory> {
    let status = std::fs::read_to_string("/proc/self/status")
        .context("cannot read /proc/self/status (not Linux?)")?;
    let field = |name: &str| -> Result<u64> {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .with_context(|| format!("/proc/self/status has no {name}"))
    };
    Ok(Memory {
        rss_kb: field("VmRSS:")?,
        hwm_kb: field("VmHWM:")?,
    })
}

pub(super) fn mib(kb: u64) -> String {
    format!("{:.1} MiB", kb as f64 / 1024.0)
}

fn size(bytes: f64) -> String {
    if bytes < 10_000.0 {
        format!("{bytes:.0} B")
    } else {
        format!("{:.1} kB", bytes / 1000.0)
    }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db;
    use crate::demo::seed::{OPERATORS, SeedOptions};

    const SCRATCH: &str = "eventos_console_try";

    #[test]
    fn numbers_read_as_written() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(2_000), "2,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(size(812.0), "812 B");
        assert_eq!(size(12_345.0), "12.3 kB");
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn this_process_has_a_resident_size() {
        let m = memory().expect("/proc/self/status");
        assert!(m.rss_kb > 0 && m.hwm_kb >= m.rss_kb);
    }

    /// Needs PostgreSQL at 127.0.0.1:5432 with trust for postgres; a couple of minutes.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs a local PostgreSQL superuser; run with --ignored --nocapture"]
    async fn the_console_figures_come_out() -> Result<()> {
        let server = Settings::load(None, Some("postgres://postgres@127.0.0.1:5432/postgres"))?;
        let admin = db::connect(&server.database).await?;
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {SCRATCH} WITH (FORCE)"))
            .await?;
        admin
            .batch_execute(&format!("CREATE DATABASE {SCRATCH}"))
            .await?;
        let outcome = try_all().await;
        let _ = admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {SCRATCH} WITH (FORCE)"))
            .await;
        for (kind, _, _) in OPERATORS {
            let _ = admin
                .batch_execute(&format!(
                    "DROP ROLE IF EXISTS {}",
                    seed::operator_login(SLUG, kind)
                ))
                .await;
        }
        println!("{}", outcome?);
        Ok(())
    }

    async fn try_all() -> Result<String> {
        let all = Settings::load(
            None,
            Some(&format!("postgres://postgres@127.0.0.1:5432/{SCRATCH}")),
        )?;
        let mut admin = db::connect(&all.database).await?;
        db::migrate::apply(&mut admin).await?;
        let seeded = seed::seed(
            &mut admin,
            &SeedOptions {
                slug: SLUG.to_owned(),
                attendees: 20_000,
                ..SeedOptions::default()
            },
        )
        .await?;
        admin.batch_execute("ANALYZE").await?;
        let event = seeded.event_id;
        let mut gate = all.database.clone();
        gate.pg.user(seed::operator_login(SLUG, "volunteer"));
        let (stop, worker) = super::super::start_worker(&all.database);
        let run = Duration::from_secs(5);
        let result = async {
            let mut out = String::new();
            out.push_str(&bytes_on_the_wire(&admin, &all, &gate, event, run).await?);
            out.push_str(&memory_after_streaming(&admin, &all, event, 50_000).await?);
            out.push_str(&many_consoles(&admin, &all, &gate, event, 20, 100, run).await?);
            Ok::<_, anyhow::Error>(out)
        }
        .await;
        let _ = stop.send(());
        let _ = worker.await;
        result
    }
}

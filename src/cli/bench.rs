//! `eventos bench`: the realtime and gate figures, measured against a real PostgreSQL in a scratch
//! database it makes (and drops) on the server named by the settings: ingest through the SQL API
//! against the bare INSERT at the same concurrency, what the worker's flushing costs the gates, and the
//! time from a check-in's commit to its hint on a listening connection, at several rates and while a
//! transaction is held open elsewhere. Prints a Markdown report; `--write FILE` also puts it in FILE
//! between its markers. Needs an administrator login on a server that lets the seed's operator logins
//! in (trust or peer, as on a venue server or the demo's own cluster).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio_postgres::Client;
use uuid::Uuid;

use crate::config::{DatabaseSettings, Settings};
use crate::db;
use crate::demo::seed::{self, OPERATORS, SeedOptions};
use crate::worker::{self, WorkerConfig};

const SLUG: &str = "bench";
const BEGIN: &str = "<!-- eventos bench: begin -->";
const END: &str = "<!-- eventos bench: end -->";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Shorter runs and a smaller event (a few minutes in all).
    #[arg(long)]
    quick: bool,
    /// Also write the report into FILE (BENCHMARKS.md), replacing what is between its markers.
    #[arg(long, value_name = "FILE")]
    write: Option<PathBuf>,
}

/// How big and how long.
struct Plan {
    attendees: i32,
    run: Duration,
    rates: Vec<u32>,
}

pub async fn run(settings: &Settings, args: Args) -> Result<ExitCode> {
    let plan = if args.quick {
        Plan {
            attendees: 50_000,
            run: Duration::from_secs(5),
            rates: vec![100, 1000],
        }
    } else {
        Plan {
            attendees: 200_000,
            run: Duration::from_secs(10),
            rates: vec![100, 1000, 5000],
        }
    };
    let admin = db::connect(&settings.database).await?;
    let name = format!("eventos_bench_{}", std::process::id());
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .context("cannot create the scratch database (the bench needs an administrator login)")?;
    let mut scratch = settings.database.clone();
    scratch.pg.dbname(&name);
    let mut scratch_settings = settings.clone();
    scratch_settings.database = scratch.clone();
    let outcome = measure(&scratch_settings, &plan).await;
    // The scratch database and the seed's logins go, whatever happened.
    let _ = admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await;
    for (kind, _, _) in OPERATORS {
        let _ = admin
            .batch_execute(&format!(
                "DROP ROLE IF EXISTS {}",
                seed::operator_login(SLUG, kind)
            ))
            .await;
    }
    let report = outcome?;
    println!("{report}");
    if let Some(path) = args.write {
        write_report(&path, &report)?;
        println!("written into {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

async fn measure(all: &Settings, plan: &Plan) -> Result<String> {
    let settings = &all.database;
    let mut admin = db::connect(settings).await?;
    db::migrate::apply(&mut admin).await?;
    let started = Instant::now();
    let seeded = seed::seed(
        &mut admin,
        &SeedOptions {
            slug: SLUG.to_owned(),
            attendees: plan.attendees,
            ..SeedOptions::default()
        },
    )
    .await?;
    admin
        .batch_execute("ANALYZE")
        .await
        .context("cannot analyze the seeded event")?;
    let event = seeded.event_id;
    let mut gate = settings.clone();
    gate.pg.user(seed::operator_login(SLUG, "volunteer"));
    let mut out = String::new();
    out.push_str(&format!(
        "Measured by `eventos bench{}` on {} ({} cores): a scratch database seeded with {} attendees in {:.1} s.\n\n",
        if plan.run < Duration::from_secs(10) { " --quick" } else { "" },
        chrono::Utc::now().format("%Y-%m-%d"),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        seeded.attendees,
        started.elapsed().as_secs_f64()
    ));

    // Ingest.
    out.push_str("### Gate ingest\n\n");
    out.push_str(&format!(
        "Each run {} s; the ceiling is the bare INSERT of the same row as the administrator at the same concurrency.\n\n",
        plan.run.as_secs()
    ));
    out.push_str("| scanners | bare INSERT | check_in_by_code (a volunteer) | share of the ceiling |\n|---:|---:|---:|---:|\n");
    for scanners in [1usize, 8, 32] {
        let bare = ingest(&admin, settings, event, scanners, plan.run, Way::Bare).await?;
        let api = ingest(&admin, &gate, event, scanners, plan.run, Way::Api).await?;
        out.push_str(&format!(
            "| {scanners} | {bare:.0} /s | {api:.0} /s | {:.0}% |\n",
            100.0 * api / bare.max(1.0)
        ));
    }

    // What flushing costs the gates.
    let alone = ingest(&admin, &gate, event, 8, plan.run, Way::Api).await?;
    let with_worker = {
        let (stop, worker) = start_worker(settings);
        let rate = ingest(&admin, &gate, event, 8, plan.run, Way::Api).await;
        let _ = stop.send(());
        let _ = worker.await;
        rate?
    };
    out.push_str(&format!(
        "\nWith the worker flushing beside 8 scanners: {with_worker:.0} /s against {alone:.0} /s without ({:+.1}%).\n\n",
        100.0 * (with_worker - alone) / alone.max(1.0)
    ));

    // Commit to hint.
    out.push_str("### Commit to hint\n\n");
    out.push_str("From a scan's commit (its statement returning) to the batch hint that names its transaction, on a listening connection, with the worker looking every 10 ms (5 ms after a look that found something); 8 scanners paced to the rate.\n\n");
    out.push_str(
        "| scans/s | while | scans | hinted (early) | p50 | p99 | max |\n|---:|---|---:|---:|---:|---:|---:|\n",
    );
    let (stop, worker) = start_worker(settings);
    let mut latencies = Vec::new();
    for &rate in &plan.rates {
        latencies.push((
            rate,
            "nothing else",
            commit_to_hint(&admin, settings, &gate, event, rate, plan.run).await,
        ));
    }
    // A transaction held open in another database (another application on the same server).
    let elsewhere = db::connect(&{
        let mut other = settings.clone();
        other.pg.dbname("postgres");
        other
    })
    .await?;
    elsewhere
        .batch_execute("BEGIN; SELECT pg_current_xact_id()")
        .await
        .context("cannot open the long transaction")?;
    latencies.push((
        1000,
        "a transaction open in another database",
        commit_to_hint(&admin, settings, &gate, event, 1000, plan.run).await,
    ));
    let _ = elsewhere.batch_execute("ROLLBACK").await;
    let mut screens = Vec::new();
    for &rate in &plan.rates {
        screens.push((
            rate,
            commit_to_screen(&admin, all, &gate, event, rate, plan.run).await,
        ));
    }
    let _ = stop.send(());
    let _ = worker.await;
    for (rate, while_, result) in latencies {
        let l = result?;
        out.push_str(&format!(
            "| {rate} | {while_} | {} | {} ({}) | {} | {} | {} |\n",
            l.scans,
            l.samples.len() + l.early,
            l.early,
            ms(percentile(&l.samples, 0.50)),
            ms(percentile(&l.samples, 0.99)),
            ms(l.samples.last().copied())
        ));
    }
    out.push_str("\n### Commit to screen\n\n");
    out.push_str("The console's own loop (listener, update, fetches, render) as the event's organizer, drawing into a 120x250 test backend; from a scan's commit to the first frame that shows the attendee.\n\n");
    out.push_str(
        "| scans/s | scans | on screen | p50 | p99 | max |\n|---:|---:|---:|---:|---:|---:|\n",
    );
    for (rate, result) in screens {
        let l = result?;
        out.push_str(&format!(
            "| {rate} | {} | {} | {} | {} | {} |\n",
            l.scans,
            l.samples.len(),
            ms(percentile(&l.samples, 0.50)),
            ms(percentile(&l.samples, 0.99)),
            ms(l.samples.last().copied())
        ));
    }
    Ok(out)
}

fn ms(d: Option<Duration>) -> String {
    d.map_or("-".to_owned(), |d| {
        format!("{:.1} ms", d.as_secs_f64() * 1000.0)
    })
}

/// From sorted samples.
fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied()
}

fn start_worker(
    settings: &DatabaseSettings,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<worker::WorkerTotals>>,
) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let settings = settings.clone();
    let task = tokio::spawn(async move {
        worker::run(&settings, &WorkerConfig::default(), async move {
            let _ = stopped.await;
        })
        .await
    });
    (stop, task)
}

#[derive(Clone, Copy)]
enum Way {
    /// The row itself, as the administrator.
    Bare,
    /// check_in_by_code, as an operator.
    Api,
}

/// Attendees with a valid ticket and no open entry at the doors: (attendee, code).
async fn free_attendees(admin: &Client, event: Uuid) -> Result<Vec<(Uuid, String)>> {
    let rows = admin
        .query(
            "SELECT a.id, t.code FROM attendees a JOIN tickets t ON t.attendee_id = a.id AND t.status = 'valid'
              WHERE a.event_id = $1 AND a.status = 'registered' AND a.deleted_at IS NULL
                AND NOT EXISTS (SELECT 1 FROM event_checkins c
                                 WHERE c.attendee_id = a.id AND c.session_id IS NULL AND c.is_present)
              ORDER BY t.code",
            &[&event],
        )
        .await
        .context("cannot list the attendees still outside")?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// The entries a run made go again, so the next run finds the same people outside.
async fn undo_since(admin: &Client, event: Uuid, since: &str) -> Result<()> {
    admin
        .execute(
            "DELETE FROM event_checkins WHERE event_id = $1 AND created_xid >= $2::text::xid8",
            &[&event, &since],
        )
        .await
        .context("cannot remove the run's entries")?;
    admin
        .execute(
            "DELETE FROM refused_scans WHERE event_id = $1 AND created_xid >= $2::text::xid8",
            &[&event, &since],
        )
        .await
        .context("cannot remove the run's refusals")?;
    Ok(())
}

async fn current_xid(admin: &Client) -> Result<String> {
    Ok(admin
        .query_one("SELECT pg_current_xact_id()::text", &[])
        .await
        .context("cannot read the transaction counter")?
        .get(0))
}

/// Scans per second over `run` (or until everyone outside is in) from `scanners` connections.
async fn ingest(
    admin: &Client,
    settings: &DatabaseSettings,
    event: Uuid,
    scanners: usize,
    run: Duration,
    way: Way,
) -> Result<f64> {
    let people = Arc::new(free_attendees(admin, event).await?);
    if people.is_empty() {
        bail!("nobody is left outside to scan");
    }
    let since = current_xid(admin).await?;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for scanner in 0..scanners {
        let client = db::connect(settings).await?;
        let (people, next) = (people.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let gate = format!("Bench gate {}", scanner % 8);
            let sql = match way {
                Way::Bare => {
                    "INSERT INTO event_checkins (event_id, attendee_id, gate, check_in_method)
                     VALUES ($1, $2::text::uuid, $3, 'qr_code')"
                }
                Way::Api => "SELECT accepted FROM check_in_by_code($1, $2, $3)",
            };
            let statement = client.prepare(sql).await?;
            let mut done = 0u64;
            while started.elapsed() < run {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((attendee, code)) = people.get(i) else {
                    break;
                };
                let key = match way {
                    Way::Bare => attendee.to_string(),
                    Way::Api => code.clone(),
                };
                client.execute(&statement, &[&event, &key, &gate]).await?;
                done += 1;
            }
            Ok::<u64, tokio_postgres::Error>(done)
        }));
    }
    let mut scans = 0;
    for task in tasks {
        scans += task
            .await
            .context("a scanner failed")?
            .context("a scan failed")?;
    }
    let rate = scans as f64 / started.elapsed().as_secs_f64();
    undo_since(admin, event, &since).await?;
    Ok(rate)
}

struct Latency {
    scans: usize,
    /// Named by a hint that arrived before the scanner reported its commit.
    early: usize,
    /// Sorted.
    samples: Vec<Duration>,
}

/// Paced scans at `rate` a second for `run`; each scan's commit instant against the arrival of the hint
/// that names its transaction.
async fn commit_to_hint(
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

/// Puts `report` between the markers in `path` (appending them when absent).
fn write_report(path: &std::path::Path, report: &str) -> Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let section = format!("{BEGIN}\n{report}{END}");
    let updated = match (text.find(BEGIN), text.find(END)) {
        (Some(b), Some(e)) if e > b => {
            format!("{}{section}{}", &text[..b], &text[e + END.len()..])
        }
        _ => format!("{}\n\n## eventos bench\n\n{section}\n", text.trim_end()),
    };
    std::fs::write(path, updated).with_context(|| format!("cannot write {}", path.display()))
}

/// Eight scanners on connections of their own, paced together to `rate` scans a second for `run`, each
/// taking the next of `codes`; `admitted(index, transaction, when)` hears every accepted scan as soon as
/// its statement (and so its commit) returns. Each task answers how many it admitted.
async fn paced_scanners(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_the_sorted_samples() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&samples, 0.5), Some(Duration::from_millis(51)));
        assert_eq!(percentile(&samples, 0.99), Some(Duration::from_millis(99)));
        assert_eq!(percentile(&[], 0.5), None);
    }

    #[test]
    fn the_report_replaces_only_what_is_between_the_markers() {
        let dir = std::env::temp_dir().join(format!("eventos-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch");
        let path = dir.join("BENCHMARKS.md");
        std::fs::write(&path, "# Benchmarks\n\nkept\n").expect("write");
        write_report(&path, "first\n").expect("appended");
        write_report(&path, "second\n").expect("replaced");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.starts_with("# Benchmarks\n\nkept\n"), "{text}");
        assert!(text.contains(&format!("{BEGIN}\nsecond\n{END}")), "{text}");
        assert!(!text.contains("first"), "{text}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// A screen that reads every frame for the attendees awaited (tokens "Q000123") and notes when each
/// first shows.
struct MeasuringScreen {
    terminal: ratatui::Terminal<ratatui::backend::TestBackend>,
    seen: Arc<std::sync::Mutex<Seen>>,
}

#[derive(Default)]
struct Seen {
    live: bool,
    /// The header of the last frame, to say why it is not live.
    header: String,
    /// Committed, not yet drawn: token -> commit instant.
    awaited: std::collections::HashMap<String, Instant>,
    /// Drawn before its scanner reported the commit.
    drawn: std::collections::HashMap<String, Instant>,
    samples: Vec<Duration>,
}

impl crate::app::Screen for MeasuringScreen {
    fn show(&mut self, state: &crate::app::state::State, theme: &crate::ui::Theme) -> Result<()> {
        self.terminal
            .draw(|frame| crate::ui::render(frame, state, theme))
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
            for (i, _) in line.match_indices('Q') {
                let token = line.get(i..i + 7).unwrap_or("");
                if token.len() == 7 && token[1..].bytes().all(|b| b.is_ascii_digit()) {
                    match seen.awaited.remove(token) {
                        Some(at) => seen.samples.push(now.saturating_duration_since(at)),
                        None => {
                            seen.drawn.entry(token.to_owned()).or_insert(now);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn bell(&mut self) {}
}

/// Paced scans of uniquely named attendees at `rate` a second, watched by a console running headless.
async fn commit_to_screen(
    admin: &Client,
    all: &Settings,
    gate: &DatabaseSettings,
    event: Uuid,
    rate: u32,
    run: Duration,
) -> Result<Latency> {
    let people = free_attendees(admin, event).await?;
    let since = current_xid(admin).await?;
    // Names that cannot be mistaken: Q000001 Bench, Q000002 Bench, ...
    let ids: Vec<Uuid> = people.iter().map(|(id, _)| *id).collect();
    admin
        .execute(
            "UPDATE attendees a SET first_name = 'Q' || lpad(n.k::text, 6, '0'), last_name = 'Bench'
               FROM unnest($1::uuid[]) WITH ORDINALITY AS n(id, k) WHERE a.id = n.id",
            &[&ids],
        )
        .await
        .context("cannot name the attendees")?;
    let tokens: Arc<Vec<(String, String)>> = Arc::new(
        people
            .iter()
            .enumerate()
            .map(|(k, (_, code))| (format!("Q{:06}", k + 1), code.clone()))
            .collect(),
    );

    let seen = Arc::new(std::sync::Mutex::new(Seen::default()));
    let (stop_console, console_stopped) = tokio::sync::oneshot::channel::<()>();
    let mut console_settings = all.clone();
    console_settings
        .database
        .pg
        .user(seed::operator_login(SLUG, "organizer"));
    let console = {
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
        if ready.elapsed() > Duration::from_secs(30) {
            let header = seen.lock().map(|s| s.header.clone()).unwrap_or_default();
            bail!("the headless console did not come up LIVE within 30 s (its header: {header:?})");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let codes: Arc<Vec<String>> = Arc::new(tokens.iter().map(|(_, code)| code.clone()).collect());
    let tasks = {
        let seen = seen.clone();
        paced_scanners(gate, event, rate, run, codes, move |i, _, at| {
            let Some((token, _)) = tokens.get(i) else {
                return;
            };
            if let Ok(mut seen) = seen.lock() {
                match seen.drawn.remove(token) {
                    // Drawn before this scanner got the reply: as good as at once.
                    Some(_) => seen.samples.push(Duration::ZERO),
                    None => {
                        seen.awaited.insert(token.clone(), at);
                    }
                }
            }
        })
        .await?
    };
    let mut scans = 0;
    for task in tasks {
        scans += task
            .await
            .context("a scanner failed")?
            .context("a scan failed")?;
    }
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

//! `eventos bench`: the realtime and gate figures, measured against a real PostgreSQL in a scratch
//! database it makes (and drops) on the server named by the settings: ingest through the SQL API
//! against the bare INSERT at the same concurrency, what the worker's flushing costs the gates, and the
//! time from a check-in's commit to its hint on a listening connection, at several rates and while a
//! transaction is held open elsewhere. Prints a Markdown report; `--write FILE` also puts it in FILE
//! between its markers. Needs an administrator login on a server that lets the seed's operator logins
//! in (trust or peer, as on a venue server or the demo's own cluster).

//!
//! One module per kind of figure: `ingest` (gates, the worker's cost), `latency` (commit to hint, to
//! screen, and a polling console as the baseline), `reads` (the desks' reads at several sizes, with their
//! plans), `console` (bytes on the wire, memory, many consoles).

mod console;
mod ingest;
mod latency;
mod reads;

use latency::{Watcher, commit_to_hint, commit_to_screen};

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tokio_postgres::Client;
use uuid::Uuid;

use crate::config::{DatabaseSettings, Settings};
use crate::db;
use crate::demo::seed::{self, OPERATORS, SeedOptions};
#[cfg(test)]
use crate::worker::{self, WorkerConfig};

const SLUG: &str = "bench";
const BEGIN: &str = "<!-- eventos bench: begin -->";
const END: &str = "<!-- eventos bench: end -->";
const SOAK_BEGIN: &str = "<!-- eventos bench --soak: begin -->";
const SOAK_END: &str = "<!-- eventos bench --soak: end -->";
/// The soak's gates, all together.
const SOAK_RATE: u32 = 200;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Shorter runs and a smaller event (a few minutes in all).
    #[arg(long)]
    quick: bool,
    /// Also write the report into FILE (BENCHMARKS.md), replacing what is between its markers.
    #[arg(long, value_name = "FILE")]
    write: Option<PathBuf>,
    /// Where the desks' query plans go, one folder per size.
    #[arg(long, value_name = "DIR", default_value = "target/bench-plans")]
    plans: PathBuf,
    /// Only these sections (comma-separated), to look at one figure again; not with --write.
    #[arg(long, value_enum, value_delimiter = ',', conflicts_with = "write")]
    only: Vec<Section>,
    /// Instead of the sections: the soak, gates at 200 scans a second for MINUTES with one console
    /// watching, its latency and memory each minute (--write puts it in its own part of FILE).
    #[arg(long, value_name = "MINUTES", conflicts_with_all = ["only", "quick"])]
    soak: Option<u32>,
}

/// The report's sections, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Section {
    /// Gate ingest and what the worker costs the gates.
    Ingest,
    /// Commit to hint and commit to screen.
    Latency,
    /// Bytes on the wire per frame and per idle second.
    Wire,
    /// The console's memory after a million streamed check-ins.
    Memory,
    /// Twenty consoles' server CPU.
    Consoles,
    /// The desks' reads at several sizes, with their plans.
    Reads,
}

/// How big and how long.
struct Plan {
    attendees: i32,
    run: Duration,
    rates: Vec<u32>,
    /// Pairs of runs for the API's share of the bare INSERT and for the worker's cost.
    pairs: usize,
    /// The events the desks' reads are measured on, by attendees.
    read_sizes: Vec<i32>,
    plans: PathBuf,
    /// Check-ins streamed past a console before its memory is read.
    streamed: u64,
    /// Empty: all.
    only: Vec<Section>,
}

impl Plan {
    fn runs(&self, section: Section) -> bool {
        self.only.is_empty() || self.only.contains(&section)
    }
}

pub async fn run(settings: &Settings, args: Args) -> Result<ExitCode> {
    let plan = if args.quick {
        Plan {
            attendees: 200_000,
            run: Duration::from_secs(5),
            rates: vec![100, 1000],
            pairs: 1,
            read_sizes: vec![10_000, 100_000],
            streamed: 100_000,
            plans: args.plans.clone(),
            only: args.only.clone(),
        }
    } else {
        Plan {
            attendees: 400_000,
            run: Duration::from_secs(10),
            rates: vec![100, 1000, 5000],
            pairs: 4,
            read_sizes: vec![10_000, 100_000, 1_000_000],
            streamed: 1_000_000,
            plans: args.plans.clone(),
            only: args.only.clone(),
        }
    };
    let soak = args
        .soak
        .map(|minutes| Duration::from_secs(u64::from(minutes.max(1)) * 60));
    let plan = match soak {
        // Enough people outside for every scan, each scanned once: the seed's history has about 55%
        // of them inside already.
        Some(total) => Plan {
            attendees: ((f64::from(SOAK_RATE) * total.as_secs_f64() * 1.05 / 0.4) as i32)
                .max(10_000),
            only: Vec::new(),
            read_sizes: Vec::new(),
            ..plan
        },
        None => plan,
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
    let outcome = match soak {
        Some(total) => soak_report(&scratch_settings, &plan, total).await,
        None => measure(&scratch_settings, &plan).await,
    };
    // The scratch database and the seed's logins go, whatever happened.
    let _ = admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await;
    let slugs =
        std::iter::once(SLUG.to_owned()).chain(plan.read_sizes.iter().map(|&n| reads::slug(n)));
    for slug in slugs {
        for (kind, _, _) in OPERATORS {
            let _ = admin
                .batch_execute(&format!(
                    "DROP ROLE IF EXISTS {}",
                    seed::operator_login(&slug, kind)
                ))
                .await;
        }
    }
    let report = outcome?;
    println!("{report}");
    if let Some(path) = args.write {
        let (begin, end) = if soak.is_some() {
            (SOAK_BEGIN, SOAK_END)
        } else {
            (BEGIN, END)
        };
        write_report(&path, &report, begin, end)?;
        println!("written into {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// The scratch database migrated and seeded with the plan's event, analyzed (autovacuum may be off);
/// an administrator's connection, the seed's report and the gates' login settings.
async fn seeded_event(
    settings: &DatabaseSettings,
    plan: &Plan,
) -> Result<(Client, seed::SeedReport, DatabaseSettings)> {
    let mut admin = db::connect(settings).await?;
    db::migrate::apply(&mut admin).await?;
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
    let mut gate = settings.clone();
    gate.pg.user(seed::operator_login(SLUG, "volunteer"));
    Ok((admin, seeded, gate))
}

async fn measure(all: &Settings, plan: &Plan) -> Result<String> {
    let settings = &all.database;
    let started = Instant::now();
    let (mut admin, seeded, gate) = seeded_event(settings, plan).await?;
    let event = seeded.event_id;
    let mut out = String::new();
    out.push_str(&format!(
        "Measured by `eventos bench{}` on {} ({} cores): a scratch database seeded with {} attendees in {:.1} s.\n\n",
        if plan.run < Duration::from_secs(10) { " --quick" } else { "" },
        chrono::Utc::now().format("%Y-%m-%d"),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        seeded.attendees,
        started.elapsed().as_secs_f64()
    ));

    if plan.runs(Section::Ingest) {
        out.push_str(
            &ingest::ingest_section(&admin, settings, &gate, event, plan.run, plan.pairs).await?,
        );
    }

    // Latency, with the worker in a process of its own as on a venue server.
    let with_worker = [
        Section::Latency,
        Section::Wire,
        Section::Memory,
        Section::Consoles,
    ];
    if with_worker.iter().any(|&s| plan.runs(s)) {
        let worker = ingest::WorkerProcess::start(settings)?;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let consoles = async {
            let mut out = String::new();
            if plan.runs(Section::Latency) {
                out.push_str(&latency_sections(&admin, all, &gate, event, plan).await?);
            }
            if plan.runs(Section::Wire) {
                out.push_str(
                    &console::bytes_on_the_wire(&admin, all, &gate, event, plan.run).await?,
                );
            }
            // Before the many consoles: the process keeps what they allocate.
            if plan.runs(Section::Memory) {
                out.push_str(
                    &console::memory_after_streaming(&admin, all, event, plan.streamed).await?,
                );
            }
            if plan.runs(Section::Consoles) {
                out.push_str(
                    &console::many_consoles(&admin, all, &gate, event, 20, 100, plan.run).await?,
                );
            }
            Ok::<_, anyhow::Error>(out)
        }
        .await;
        worker.stop().await;
        out.push_str(&consoles?);
    }

    if plan.runs(Section::Reads) {
        out.push_str(
            &reads::desk_reads(&mut admin, all, &plan.read_sizes, 5, Some(&plan.plans)).await?,
        );
    }
    Ok(out)
}

/// The soak: seeded, the worker running as on a venue server, then `latency::soak`, as a table a row a
/// minute and a line saying how the first and last minutes compare.
async fn soak_report(all: &Settings, plan: &Plan, total: Duration) -> Result<String> {
    let settings = &all.database;
    let (admin, seeded, gate) = seeded_event(settings, plan).await?;
    let worker = ingest::WorkerProcess::start(settings)?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let outside = ingest::free_attendees(&admin, seeded.event_id).await?.len();
    let needed = (f64::from(SOAK_RATE) * total.as_secs_f64()) as usize;
    if outside < needed {
        anyhow::bail!(
            "the seeded event has {outside} people outside, fewer than the soak's {needed} scans"
        );
    }
    let windows = latency::soak(
        &admin,
        all,
        &gate,
        seeded.event_id,
        SOAK_RATE,
        total,
        Duration::from_secs(60),
    )
    .await;
    worker.stop().await;
    let soaked = windows?;
    let windows = &soaked.windows;
    let mut out = format!(
        "### Soak\n\nMeasured by `eventos bench --soak {}` on {} ({} cores): {} attendees; 8 scanners paced to {SOAK_RATE} scans a second for {} minutes, the worker in a process of its own, one console (its own loop, drawing into a 120x250 test backend) watching throughout. Each row is one minute: the scans admitted, commit to screen for those drawn in it, the ones committed more than 5 s earlier and still not drawn, and the resident memory of the bench process (the console, the scanners' 8 connections and their bookkeeping).\n\n| minute | scans | p50 | p99 | max | not drawn after 5 s | RSS |\n|---:|---:|---:|---:|---:|---:|---:|\n",
        total.as_secs() / 60,
        chrono::Utc::now().format("%Y-%m-%d"),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        seeded.attendees,
        total.as_secs() / 60,
    );
    for w in windows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            (w.at.as_secs() + 30) / 60,
            w.scans,
            ms(percentile(&w.samples, 0.50)),
            ms(percentile(&w.samples, 0.99)),
            ms(w.samples.last().copied()),
            w.overdue,
            w.rss_kb.map_or("-".to_owned(), console::mib),
        ));
    }
    // Flat means the last full minute is no worse than the first by more than noise: say the numbers.
    let full: Vec<&latency::SoakWindow> = windows
        .iter()
        .filter(|w| w.scans as f64 >= f64::from(SOAK_RATE) * 50.0)
        .collect();
    if let (Some(first), Some(last)) = (full.first(), full.last()) {
        out.push_str(&format!(
            "\nFirst full minute against the last: p50 {} then {}, p99 {} then {}, RSS {} then {}.\n",
            ms(percentile(&first.samples, 0.50)),
            ms(percentile(&last.samples, 0.50)),
            ms(percentile(&first.samples, 0.99)),
            ms(percentile(&last.samples, 0.99)),
            first.rss_kb.map_or("-".to_owned(), console::mib),
            last.rss_kb.map_or("-".to_owned(), console::mib),
        ));
    }
    out.push_str(&format!(
        "\nAt the end the console's totals {} a recount of the rows: the console showed \"{}\", the recount {} checked in.\n",
        if soaked.totals_equal { "equal" } else { "do NOT equal" },
        soaked.shown,
        soaked.recount
    ));
    out.push('\n');
    Ok(out)
}

/// What else the server is doing during a latency run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Elsewhere {
    Nothing,
    /// A transaction (with a transaction id) held open in another database on the same server.
    OpenInAnotherDatabase,
    /// The same in this database, touching none of the event's tables.
    OpenInThisDatabase,
}

impl Elsewhere {
    fn describe(self) -> &'static str {
        match self {
            Elsewhere::Nothing => "nothing else",
            Elsewhere::OpenInAnotherDatabase => "a transaction open in another database",
            Elsewhere::OpenInThisDatabase => "a transaction open in this database",
        }
    }

    /// The connection holding the transaction open, if any; it rolls back when dropped.
    async fn open(self, settings: &DatabaseSettings) -> Result<Option<tokio_postgres::Client>> {
        let mut at = settings.clone();
        match self {
            Elsewhere::Nothing => return Ok(None),
            Elsewhere::OpenInAnotherDatabase => {
                at.pg.dbname("postgres");
            }
            Elsewhere::OpenInThisDatabase => {}
        }
        let client = db::connect(&at).await?;
        client
            .batch_execute("BEGIN; SELECT pg_current_xact_id()")
            .await
            .context("cannot open the long transaction")?;
        Ok(Some(client))
    }
}

/// Commit to hint and commit to screen, at each rate and at 1,000 a second beside a transaction held
/// open elsewhere; the console against a screen that polls once a second.
async fn latency_sections(
    admin: &Client,
    all: &Settings,
    gate: &DatabaseSettings,
    event: Uuid,
    plan: &Plan,
) -> Result<String> {
    let settings = &all.database;
    let mut runs: Vec<(u32, Elsewhere)> = plan
        .rates
        .iter()
        .map(|&r| (r, Elsewhere::Nothing))
        .collect();
    runs.push((1000, Elsewhere::OpenInAnotherDatabase));
    runs.push((1000, Elsewhere::OpenInThisDatabase));

    let mut out = String::from("### Commit to hint\n\n");
    out.push_str("From a scan's commit (its statement returning) to the batch hint that names its transaction, on a listening connection, with the worker (a process of its own) looking every 10 ms, and after a look that found something again after twice that flush's own time (at least 5 ms, at most 40 ms); 8 scanners paced to the rate. A transaction held open is `BEGIN; SELECT pg_current_xact_id()` on another connection for the whole run.\n\n");
    out.push_str(
        "| scans/s | while | scans | hinted (early) | p50 | p99 | max |\n|---:|---|---:|---:|---:|---:|---:|\n",
    );
    for &(rate, elsewhere) in &runs {
        let holder = elsewhere.open(settings).await?;
        let l = commit_to_hint(admin, settings, gate, event, rate, plan.run).await?;
        drop(holder);
        out.push_str(&format!(
            "| {rate} | {} | {} | {} ({}) | {} | {} | {} |\n",
            elsewhere.describe(),
            l.scans,
            l.samples.len() + l.early,
            l.early,
            ms(percentile(&l.samples, 0.50)),
            ms(percentile(&l.samples, 0.99)),
            ms(l.samples.last().copied())
        ));
    }

    out.push_str("\n### Commit to screen\n\n");
    out.push_str("The console's own loop (listener, update, fetches, render) as the event's organizer, drawing into a 120x250 test backend; from a scan's commit to the first frame that shows the attendee. The baseline is a screen that reads the check-ins of the last second once a second, as a polling console would.\n\n");
    out.push_str(
        "| scans/s | watched by | while | scans | on screen | p50 | p99 | max |\n|---:|---|---|---:|---:|---:|---:|---:|\n",
    );
    runs.push((1000, Elsewhere::Nothing));
    let last = runs.len() - 1;
    for (i, &(rate, elsewhere)) in runs.iter().enumerate() {
        let watcher = if i == last {
            Watcher::PollingEverySecond
        } else {
            Watcher::Console
        };
        let holder = elsewhere.open(settings).await?;
        let l = commit_to_screen(admin, all, gate, event, rate, plan.run, watcher).await?;
        drop(holder);
        out.push_str(&format!(
            "| {rate} | {} | {} | {} | {} | {} | {} | {} |\n",
            match watcher {
                Watcher::Console => "the console",
                Watcher::PollingEverySecond => "polling once a second",
            },
            elsewhere.describe(),
            l.scans,
            l.samples.len(),
            ms(percentile(&l.samples, 0.50)),
            ms(percentile(&l.samples, 0.99)),
            ms(l.samples.last().copied())
        ));
    }
    out.push('\n');
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

/// A worker inside this process, for the modules' own tries (in a test, this program is the test).
#[cfg(test)]
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

/// Puts `report` between the markers in `path` (appending them when absent).
fn write_report(path: &std::path::Path, report: &str, begin: &str, end: &str) -> Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let section = format!("{begin}\n{report}{end}");
    let updated = match (text.find(begin), text.find(end)) {
        (Some(b), Some(e)) if e > b => {
            format!("{}{section}{}", &text[..b], &text[e + end.len()..])
        }
        _ => format!("{}\n\n## eventos bench\n\n{section}\n", text.trim_end()),
    };
    std::fs::write(path, updated).with_context(|| format!("cannot write {}", path.display()))
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
        write_report(&path, "first\n", BEGIN, END).expect("appended");
        write_report(&path, "second\n", BEGIN, END).expect("replaced");
        write_report(&path, "soaked\n", SOAK_BEGIN, SOAK_END).expect("a part of its own");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.starts_with("# Benchmarks\n\nkept\n"), "{text}");
        assert!(text.contains(&format!("{BEGIN}\nsecond\n{END}")), "{text}");
        assert!(!text.contains("first"), "{text}");
        assert!(
            text.contains(&format!("{SOAK_BEGIN}\nsoaked\n{SOAK_END}")),
            "{text}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

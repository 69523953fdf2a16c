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

mod ingest;
mod latency;

use ingest::{Way, ingest};
use latency::{commit_to_hint, commit_to_screen};

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

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

//! `eventos worker`: the rules' background loop, alone, until Ctrl-C or SIGTERM.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;

use crate::config::{Settings, describe_target};
use crate::worker::{self, WorkerConfig};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Milliseconds between looks for ended check-in transactions to announce (realtime_flush; a look
    /// that finds nothing reads two index entries and writes nothing).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    flush_ms: u64,
    /// Milliseconds between offer-expiry and announcement-dispatch sweeps.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(10..=600_000))]
    sweep_ms: u64,
}

pub async fn run(settings: &Settings, args: Args) -> Result<ExitCode> {
    let config = WorkerConfig {
        flush_every: Duration::from_millis(args.flush_ms),
        sweep_every: Duration::from_millis(args.sweep_ms),
        ..WorkerConfig::default()
    };
    // Fail fast, in one sentence, if the database is not there or not migrated.
    let client = crate::db::connect(&settings.database).await?;
    super::migrate::require_current(&client).await?;
    drop(client);
    println!(
        "worker running against {} (Ctrl-C or SIGTERM stops it)",
        describe_target(&settings.database.pg)
    );
    let totals = worker::run(&settings.database, &config, worker::shutdown_signal()).await?;
    println!(
        "worker stopped: {} realtime hints, {} offers expired, {} announcements sent, {} reconnects",
        totals.hints, totals.offers_expired, totals.announcements_sent, totals.reconnects
    );
    Ok(ExitCode::SUCCESS)
}

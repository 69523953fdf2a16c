//! `eventos simulate`: gate scanners and floor traffic against an event, printing rates as it goes.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;

use crate::config::Settings;
use crate::demo::simulate::{self, Counters, RateProfile, SimulateOptions};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The event's slug.
    #[arg(long, default_value = "northwind-summit")]
    event: String,
    /// Concurrent gate scanners, each on its own connection.
    #[arg(long, default_value_t = 4)]
    gates: usize,
    /// Peak gate scans a second, all gates together (check-outs included): with --profile burst the
    /// doors-open rush starts at this rate and settles at a tenth of it; steady keeps it throughout.
    #[arg(long, default_value_t = 20.0)]
    rate: f64,
    /// steady, or burst (doors open: a rush that brings in three quarters of those expected, then
    /// late arrivals, people coming back and a few percent of problems for as long as it runs).
    #[arg(long, default_value = "steady", value_parser = ["steady", "burst"])]
    profile: String,
    /// Seconds to run (default: until Ctrl-C).
    #[arg(long)]
    duration: Option<u64>,
    /// Log the gates in as this PostgreSQL role (an operator with check-in permission).
    #[arg(long)]
    gate_login: Option<String>,
    /// Log the floor (room hosts and doors, slot reminders, cancellations, expenses) in as this role.
    #[arg(long)]
    floor_login: Option<String>,
    /// Seed the gates' plans: the same seed and event give the same scans (default: a random one).
    #[arg(long)]
    seed: Option<u64>,
}

pub async fn run(settings: &Settings, args: Args) -> Result<ExitCode> {
    let options = SimulateOptions {
        slug: args.event,
        gates: args.gates,
        rate: args.rate,
        profile: if args.profile == "burst" {
            RateProfile::Burst
        } else {
            RateProfile::Steady
        },
        duration: args.duration.map(Duration::from_secs),
        gate_login: args.gate_login,
        floor_login: args.floor_login,
        seed: args.seed,
        stall: None,
    };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        crate::worker::shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    let counters = Arc::new(Counters::default());
    simulate::run(&settings.database, &options, counters, stop_rx, |line| {
        println!("{line}")
    })
    .await?;
    Ok(ExitCode::SUCCESS)
}

//! The command line: one file per subcommand.

mod audit;
mod bench;
mod console;
mod demo;
mod doctor;
mod migrate;
mod operator;
mod seed;
mod simulate;
mod worker;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::config::Settings;

pub use migrate::require_current;

#[derive(Debug, Parser)]
#[command(
    name = "eventos",
    version,
    about = "EventOS Control Room: the event-day operations console",
    propagate_version = true
)]
pub struct Cli {
    /// PostgreSQL connection URL or libpq key=value string; overrides DATABASE_URL and the config file.
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,

    /// Configuration file (default: ./config/eventos.toml, then ~/.config/eventos/eventos.toml).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Without a subcommand: the console.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The control-room console (also what `eventos` alone runs).
    Console(console::Args),
    /// A live event in one command: a private PostgreSQL, seeded, with the worker and the gate simulator.
    Demo(demo::Args),
    /// Apply pending schema migrations (a second run changes nothing).
    Migrate(migrate::Args),
    /// Check the server, the schema, realtime notifications and what the connected role may do.
    Doctor(doctor::Args),
    /// Run the background loop: offer expiry and next offers, announcement dispatch, realtime batches.
    Worker(worker::Args),
    /// Manage operators: PostgreSQL login roles mapped to profiles and event teams.
    Operator(operator::Args),
    /// Check the audit trail's hash chain.
    Audit(audit::Args),
    /// Create a realistic, deterministic conference whose live day is today.
    Seed(seed::Args),
    /// Drive an event: concurrent gate scanners with real faults, and the floor around them.
    Simulate(simulate::Args),
    /// Measure gate ingest and realtime latency in a scratch database (not a test: figures, not verdicts).
    Bench(bench::Args),
}

pub async fn run(cli: Cli) -> Result<ExitCode> {
    let settings = Settings::load(cli.config.as_deref(), cli.database_url.as_deref())?;
    if let Err(reason) = crate::logging::init(&settings.log_file, &settings.log_level) {
        // Only the console needs the terminal to itself; a plain command can say so.
        eprintln!("eventos: logging is off: {reason}");
    }
    tracing::info!(command = ?cli.command, "starting");
    match cli
        .command
        .unwrap_or(Command::Console(console::Args::default()))
    {
        Command::Console(args) => console::run(&settings, args).await,
        Command::Demo(args) => demo::run(&settings, args).await,
        Command::Migrate(args) => migrate::run(&settings, args).await,
        Command::Doctor(args) => doctor::run(&settings, args).await,
        Command::Worker(args) => worker::run(&settings, args).await,
        Command::Operator(args) => operator::run(&settings, args).await,
        Command::Audit(args) => audit::run(&settings, args).await,
        Command::Seed(args) => seed::run(&settings, args).await,
        Command::Simulate(args) => simulate::run(&settings, args).await,
        Command::Bench(args) => bench::run(&settings, args).await,
    }
}

pub use crate::db::sentence;

//! `eventos console` (and `eventos` alone): the control-room console.

use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;

use crate::app::{self, ConsoleOptions};
use crate::config::Settings;

#[derive(Debug, Default, Parser)]
pub struct Args {
    /// The event to open (its slug); default: [console] event in the config, else the event live today.
    #[arg(long, value_name = "SLUG")]
    pub event: Option<String>,
    /// The name this console's scans are recorded under (default: [console] gate, else "Control room").
    #[arg(long, value_name = "NAME")]
    pub gate: Option<String>,
}

pub async fn run(settings: &Settings, args: Args) -> Result<ExitCode> {
    app::run(
        settings,
        ConsoleOptions {
            event: args.event,
            gate: args.gate,
        },
    )
    .await?;
    Ok(ExitCode::SUCCESS)
}

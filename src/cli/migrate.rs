//! `eventos migrate`: apply pending migrations, or report the schema's state.

use std::process::ExitCode;

use anyhow::Result;

use crate::config::Settings;
use crate::db::{self, migrate::SchemaState};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only report what is applied and what is pending; change nothing. Exits 1 unless current.
    #[arg(long)]
    status: bool,
}

pub async fn run(settings: &Settings, args: Args) -> Result<ExitCode> {
    let mut client = db::connect(&settings.database).await?;
    let latest = db::migrate::known().last().map_or(0, |m| m.version);
    if args.status {
        let state = db::migrate::state(&client).await?;
        println!("{}", describe_state(&state, latest));
        return Ok(match state {
            SchemaState::Current { .. } => ExitCode::SUCCESS,
            _ => ExitCode::FAILURE,
        });
    }
    let outcome = db::migrate::apply(&mut client).await?;
    if outcome.applied.is_empty() {
        println!("nothing to apply: the schema is current at V{latest}");
    } else {
        println!(
            "applied {} migration{}: {}; the schema is now at V{latest}",
            outcome.applied.len(),
            if outcome.applied.len() == 1 { "" } else { "s" },
            outcome.applied.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub use crate::db::migrate::{describe_state, require_current};

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

pub fn describe_state(state: &SchemaState, latest: i32) -> String {
    match state {
        SchemaState::Empty => {
            "no EventOS schema in this database yet: run `eventos migrate`".to_owned()
        }
        SchemaState::Current { version } => format!("the schema is current at V{version}"),
        SchemaState::Behind { version, pending } => format!(
            "the schema is at {}, {pending} migration{} pending (this build goes to V{latest}): run `eventos migrate`",
            version.map_or("nothing".to_owned(), |v| format!("V{v}")),
            if *pending == 1 { "" } else { "s" }
        ),
        SchemaState::Edited { version, name } => format!(
            "migration V{version}__{name} in this database differs from this build's file: applied \
             migrations are append-only, so restore the file and put the change in a new migration"
        ),
        SchemaState::Ahead { version, name } => format!(
            "this database has migration V{version}__{name}, newer than this build of eventos (V{latest}): upgrade eventos"
        ),
    }
}

/// Fails in one sentence unless the database is migrated to exactly this build's schema.
pub async fn require_current(client: &tokio_postgres::Client) -> Result<()> {
    let state = crate::db::migrate::state(client).await?;
    if !matches!(state, SchemaState::Current { .. }) {
        let latest = crate::db::migrate::known().last().map_or(0, |m| m.version);
        anyhow::bail!("{}", describe_state(&state, latest));
    }
    Ok(())
}

//! `eventos audit verify`: recomputes the audit log's hash chain here, not trusting the database's own
//! functions, and names the first entry whose content or link was changed.

use std::process::ExitCode;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::db;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Check the hash chain from the first entry to the last.
    Verify,
}

pub async fn run(settings: &Settings, args: Args) -> Result<ExitCode> {
    match args.command {
        Command::Verify => verify(settings).await,
    }
}

async fn verify(settings: &Settings) -> Result<ExitCode> {
    let client = db::connect(&settings.database).await?;
    let rows = client
        .query(
            "SELECT a.id, public.audit_payload(a), a.prev_hash, a.hash FROM public.audit_log a ORDER BY a.id",
            &[],
        )
        .await
        .context("cannot read the audit log")?;
    let mut previous: Vec<u8> = Vec::new();
    let mut previous_id: Option<i64> = None;
    for row in &rows {
        let id: i64 = row.get(0);
        let payload: String = row.get(1);
        let prev_hash: Vec<u8> = row.get(2);
        let hash: Vec<u8> = row.get(3);
        let mut hasher = Sha256::new();
        hasher.update(&previous);
        hasher.update(payload.as_bytes());
        let expected = hasher.finalize().to_vec();
        if prev_hash != previous || hash != expected {
            let link = previous_id.map_or("the start of the chain".to_owned(), |p| {
                format!("entry {p}")
            });
            anyhow::bail!(
                "the audit trail is broken at audit entry {id}: its content or its link to {link} was changed \
                 after it was written"
            );
        }
        previous = hash;
        previous_id = Some(id);
    }
    let last = previous
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    if rows.is_empty() {
        println!("the audit trail is empty");
    } else {
        println!(
            "the audit trail is intact: {} entries, the last (entry {}) hashes to {last}…",
            rows.len(),
            previous_id.unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}

//! `eventos audit verify`: recomputes the audit log's hash chain here, not trusting the database's own
//! functions, and names the first entry whose content or link was changed. Cutting entries off the end
//! leaves a valid chain, so `--checkpoint PATH` keeps the last verified entry in a file outside the
//! database and checks that the trail still holds it, unchanged, before recording the new last entry.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
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
    Verify(VerifyArgs),
}

#[derive(Debug, clap::Args)]
struct VerifyArgs {
    /// A checkpoint file kept off the database server: the trail must still hold the entry it
    /// recorded, unchanged; then the last entry is recorded in it (the first run creates it).
    #[arg(long, value_name = "PATH")]
    checkpoint: Option<PathBuf>,

    /// Check against the checkpoint but leave the file as it is.
    #[arg(long, requires = "checkpoint")]
    no_update: bool,
}

pub async fn run(settings: &Settings, args: Args) -> Result<ExitCode> {
    match args.command {
        Command::Verify(args) => verify(settings, args).await,
    }
}

/// One entry of a chain that verified: its id and its hash.
struct Link {
    id: i64,
    hash: Vec<u8>,
}

async fn verify(settings: &Settings, args: VerifyArgs) -> Result<ExitCode> {
    let Some(path) = args.checkpoint else {
        let client = db::connect(&settings.database).await?;
        let chain = read_chain(&client).await?;
        print_intact(&chain);
        return Ok(ExitCode::SUCCESS);
    };
    // The file is read before connecting, so a bad one is refused before anything else happens.
    let previous = read_checkpoint(&path)?;
    if previous.is_none() && args.no_update {
        anyhow::bail!(
            "there is no checkpoint file {} to check against, and --no-update does not create one",
            path.display()
        );
    }
    let client = db::connect(&settings.database).await?;
    let database = database_name(&client).await?;
    if let Some(checkpoint) = &previous
        && checkpoint.database != database
    {
        anyhow::bail!(
            "the checkpoint file {} is a checkpoint of another database ({}), not of {database}: refusing to check against it",
            path.display(),
            checkpoint.database
        );
    }
    let chain = read_chain(&client).await?;
    if let Some(checkpoint) = &previous {
        check_against(&chain, checkpoint)?;
    }
    print_intact(&chain);
    if let Some(checkpoint) = &previous {
        println!(
            "checked against the checkpoint of {}: entry {} unchanged, {} entries up to it",
            when(checkpoint),
            checkpoint.entry,
            checkpoint.entries
        );
    }
    if args.no_update {
        println!(
            "left the checkpoint in {} as it was (--no-update)",
            path.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let Some(last) = chain.last() else {
        println!(
            "no checkpoint written to {}: the trail has no entry to record yet",
            path.display()
        );
        return Ok(ExitCode::SUCCESS);
    };
    let checkpoint = Checkpoint {
        format: FORMAT,
        database,
        entry: last.id,
        entries: chain.len() as u64,
        hash: hex(&last.hash),
        recorded_at: Utc::now().trunc_subsecs(0),
    };
    write_checkpoint(&path, &checkpoint)?;
    println!(
        "recorded {} checkpoint in {}: entry {}, {} entries, hash {}…",
        if previous.is_some() {
            "a new"
        } else {
            "the first"
        },
        path.display(),
        checkpoint.entry,
        checkpoint.entries,
        short(&last.hash)
    );
    Ok(ExitCode::SUCCESS)
}

fn print_intact(chain: &[Link]) {
    match chain.last() {
        None => println!("the audit trail is empty"),
        Some(last) => println!(
            "the audit trail is intact: {} entries, the last (entry {}) hashes to {}…",
            chain.len(),
            last.id,
            short(&last.hash)
        ),
    }
}

async fn database_name(client: &tokio_postgres::Client) -> Result<String> {
    let row = client
        .query_one("SELECT current_database()::text", &[])
        .await
        .context("cannot read the connected database's name")?;
    row.try_get(0)
        .context("cannot read the connected database's name")
}

/// Recomputes every entry's hash from its payload and the hash before it; the first mismatch is an error
/// naming that entry.
async fn read_chain(client: &tokio_postgres::Client) -> Result<Vec<Link>> {
    let rows = client
        .query(
            "SELECT a.id, public.audit_payload(a), a.prev_hash, a.hash FROM public.audit_log a ORDER BY a.id",
            &[],
        )
        .await
        .context("cannot read the audit log")?;
    let mut chain: Vec<Link> = Vec::with_capacity(rows.len());
    for row in &rows {
        let (id, payload, prev_hash, hash): (i64, String, Vec<u8>, Vec<u8>) = (|| {
            Ok::<_, tokio_postgres::Error>((
                row.try_get(0)?,
                row.try_get(1)?,
                row.try_get(2)?,
                row.try_get(3)?,
            ))
        })()
        .context("cannot read the audit log")?;
        let previous = chain.last().map_or(&[][..], |l| &l.hash[..]);
        let mut hasher = Sha256::new();
        hasher.update(previous);
        hasher.update(payload.as_bytes());
        let expected = hasher.finalize().to_vec();
        if prev_hash != previous || hash != expected {
            let link = chain
                .last()
                .map_or("the start of the chain".to_owned(), |p| {
                    format!("entry {}", p.id)
                });
            anyhow::bail!(
                "the audit trail is broken at audit entry {id}: its content or its link to {link} was changed \
                 after it was written"
            );
        }
        chain.push(Link { id, hash });
    }
    Ok(chain)
}

/// The layout of the checkpoint file; a file of another format is refused rather than guessed at.
const FORMAT: u32 = 1;

/// What a checkpoint file holds: the last entry a verification found intact, and enough to tell later
/// that the trail still holds it as it was.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Checkpoint {
    format: u32,
    /// The database it came from: another database's trail would fail for the wrong reason.
    database: String,
    /// The last entry's id.
    entry: i64,
    /// How many entries there were up to and including it (ids have gaps, so not the id).
    entries: u64,
    /// Its hash in hex, which covers the whole chain up to it.
    hash: String,
    recorded_at: DateTime<Utc>,
}

const HEADER: &str = "# eventos audit verify --checkpoint: the last audit entry found intact. Keep this file off the\n\
                      # database server: whoever can cut the trail there must not be able to rewrite this too.\n";

fn when(checkpoint: &Checkpoint) -> String {
    checkpoint
        .recorded_at
        .format("%Y-%m-%d %H:%M UTC")
        .to_string()
}

/// The checkpoint at `path`, or None when there is no file yet.
fn read_checkpoint(path: &Path) -> Result<Option<Checkpoint>> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => {
            return Err(err)
                .with_context(|| format!("cannot read the checkpoint file {}", path.display()));
        }
    };
    parse_checkpoint(&bytes).map(Some).with_context(|| {
        format!(
            "the checkpoint file {} is not a valid audit checkpoint and was left as it is",
            path.display()
        )
    })
}

fn parse_checkpoint(bytes: &[u8]) -> Result<Checkpoint> {
    let text = std::str::from_utf8(bytes).context("it is not UTF-8 text")?;
    let checkpoint: Checkpoint = toml::from_str(text).map_err(|err| {
        // toml's own message spans several lines with a source excerpt; keep the sentence.
        let message = err.message().trim().to_owned();
        match err.span() {
            Some(span) => {
                let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                anyhow::anyhow!("line {line}: {message}")
            }
            None => anyhow::anyhow!("{message}"),
        }
    })?;
    if checkpoint.format != FORMAT {
        anyhow::bail!(
            "it is in format {}, and this eventos reads format {FORMAT}",
            checkpoint.format
        );
    }
    if checkpoint.database.is_empty() {
        anyhow::bail!("it names no database");
    }
    if checkpoint.entry < 1 || checkpoint.entries < 1 {
        anyhow::bail!("its entry and entries must be at least 1");
    }
    if checkpoint.hash.len() != 64 || unhex(&checkpoint.hash).is_none() {
        anyhow::bail!("its hash is not 64 hexadecimal digits");
    }
    Ok(checkpoint)
}

/// Fails unless `chain` still holds the checkpointed entry with the same hash and the same number of
/// entries up to it.
fn check_against(chain: &[Link], checkpoint: &Checkpoint) -> Result<()> {
    let when = when(checkpoint);
    let entry = checkpoint.entry;
    let Ok(index) = chain.binary_search_by_key(&entry, |l| l.id) else {
        match chain.last() {
            None => anyhow::bail!(
                "the audit trail is empty but the checkpoint recorded on {when} holds entry {entry}: \
                 entries were removed from its end"
            ),
            Some(last) if last.id < entry => anyhow::bail!(
                "the audit trail ends at entry {} but the checkpoint recorded on {when} holds entry {entry}: \
                 entries were removed from its end",
                last.id
            ),
            Some(last) => anyhow::bail!(
                "the audit trail goes on to entry {} but no longer holds entry {entry}, which the checkpoint \
                 recorded on {when} holds: entries were removed and the trail written on or rewritten after them",
                last.id
            ),
        }
    };
    let found = &chain[index].hash;
    // Parsing checked the digits, so this compares bytes (a checkpoint in upper case is the same hash).
    if unhex(&checkpoint.hash).as_deref() != Some(&found[..]) {
        anyhow::bail!(
            "audit entry {entry} hashes to {}… but the checkpoint recorded on {when} holds {}…: the trail was \
             rewritten or entries were removed before it",
            short(found),
            checkpoint.hash.get(..16).unwrap_or(&checkpoint.hash)
        );
    }
    let entries = index as u64 + 1;
    if entries != checkpoint.entries {
        anyhow::bail!(
            "the audit trail holds {entries} entries up to entry {entry} but the checkpoint recorded on {when} \
             counted {}: the trail was rewritten or entries were removed before it",
            checkpoint.entries
        );
    }
    Ok(())
}

/// Writes the checkpoint so that a crash leaves either the old file or the new one, never half of one:
/// a private temporary file in the same directory, flushed, then renamed over `path`.
fn write_checkpoint(path: &Path, checkpoint: &Checkpoint) -> Result<()> {
    let context = || format!("cannot write the checkpoint file {}", path.display());
    let body = toml::to_string(checkpoint).with_context(context)?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let Some(name) = path.file_name() else {
        anyhow::bail!("{}: it does not name a file", context());
    };
    let nanos = Utc::now().timestamp_subsec_nanos();
    let temp = dir.join(format!(
        ".{}.{}-{nanos}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let written = (|| -> std::io::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temp)?;
        file.write_all(HEADER.as_bytes())?;
        file.write_all(body.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temp, path)?;
        // The rename itself is only durable once the directory is.
        #[cfg(unix)]
        std::fs::File::open(dir)?.sync_all()?;
        Ok(())
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written.with_context(context)
}

/// The first 8 bytes of a hash in hex, enough to tell hashes apart by eye.
fn short(hash: &[u8]) -> String {
    hex(&hash[..hash.len().min(8)])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    // from_str_radix alone would take "+f" as a digit pair.
    if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

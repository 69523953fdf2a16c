//! Schema migrations: the versioned SQL files in migrations/, embedded in the binary and applied by
//! refinery, each in its own transaction, checksummed so an edited applied file is refused.

use anyhow::{Context, Result};
use refinery::error::Kind;
use tokio_postgres::Client;

refinery::embed_migrations!("migrations");

/// Serializes concurrent `eventos migrate` runs on one database.
const MIGRATION_LOCK_KEY: i64 = 0x0065_7665_6e74_6f73; // "eventos"

/// One migration known to this build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownMigration {
    pub version: i32,
    pub name: String,
    pub checksum: u64,
}

/// Every migration embedded in this build, in version order.
pub fn known() -> Vec<KnownMigration> {
    let mut list: Vec<KnownMigration> = migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| KnownMigration {
            version: m.version(),
            name: m.name().to_owned(),
            checksum: m.checksum(),
        })
        .collect();
    list.sort_by_key(|m| m.version);
    list
}

/// What a database holds compared with this build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaState {
    /// No migration history table: not an EventOS database yet.
    Empty,
    /// Every known migration applied with matching checksums.
    Current { version: i32 },
    /// Some known migrations not applied yet.
    Behind {
        version: Option<i32>,
        pending: usize,
    },
    /// An applied migration differs from this build's file of the same version.
    Edited { version: i32, name: String },
    /// The database has a migration this build does not know (a newer eventos migrated it).
    Ahead { version: i32, name: String },
}

/// The outcome of `apply`: which migrations ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub applied: Vec<String>,
    pub version: Option<i32>,
}

/// Applies every pending migration. A second run applies nothing. Concurrent runs wait for each other.
pub async fn apply(client: &mut Client) -> Result<Applied> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK_KEY])
        .await
        .context("cannot take the migration lock")?;
    let result = migrations::runner()
        .set_abort_divergent(true)
        .set_abort_missing(true)
        .run_async(client)
        .await;
    let unlock = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK_KEY])
        .await;
    let report = result.map_err(describe_refinery_error)?;
    unlock.context("cannot release the migration lock")?;
    let applied = report
        .applied_migrations()
        .iter()
        .map(|m| format!("V{}__{}", m.version(), m.name()))
        .collect();
    let version = state(client).await.ok().and_then(|s| match s {
        SchemaState::Current { version } => Some(version),
        _ => None,
    });
    Ok(Applied { applied, version })
}

/// Applies the migrations up to `version` and no further: for tests of what a later migration does to
/// data written under an earlier schema.
pub async fn apply_up_to(client: &mut Client, version: i32) -> Result<()> {
    migrations::runner()
        .set_abort_divergent(true)
        .set_target(refinery::Target::Version(version))
        .run_async(client)
        .await
        .map_err(describe_refinery_error)?;
    Ok(())
}

fn describe_refinery_error(error: refinery::Error) -> anyhow::Error {
    match error.kind() {
        Kind::DivergentVersion(applied, local) => anyhow::anyhow!(
            "migration V{}__{} was changed after it was applied to this database (its checksum \
             differs from the file V{}__{}); applied migrations are append-only: restore the file \
             and put the change in a new migration",
            applied.version(),
            applied.name(),
            local.version(),
            local.name()
        ),
        Kind::MissingVersion(applied) => anyhow::anyhow!(
            "this database has migration V{}__{} which this build of eventos does not know; \
             it was migrated by a newer eventos, so upgrade eventos instead",
            applied.version(),
            applied.name()
        ),
        Kind::Connection(message, source) => {
            anyhow::anyhow!(
                "a migration failed: {message}: {}",
                error_sentence(source.as_ref())
            )
        }
        other => anyhow::anyhow!("migrations could not run: {other}"),
    }
}

/// The database's message for a failed statement, without tokio-postgres's "db error:" prefix.
fn error_sentence(error: &(dyn std::error::Error + 'static)) -> String {
    if let Some(pg) = error.downcast_ref::<tokio_postgres::Error>()
        && let Some(db) = pg.as_db_error()
    {
        return db.message().to_owned();
    }
    error.to_string()
}

/// Compares the database's migration history with this build.
pub async fn state(client: &Client) -> Result<SchemaState> {
    let exists: bool = client
        .query_one(
            "SELECT to_regclass('public.refinery_schema_history') IS NOT NULL",
            &[],
        )
        .await
        .context("cannot read the migration history")?
        .get(0);
    if !exists {
        return Ok(SchemaState::Empty);
    }
    let rows = client
        .query(
            "SELECT version, name, checksum FROM refinery_schema_history ORDER BY version",
            &[],
        )
        .await
        .context("cannot read the migration history")?;
    let known = known();
    let mut latest = None;
    for row in &rows {
        let version: i32 = row.get(0);
        let name: String = row.get(1);
        let checksum: String = row.get(2);
        match known.iter().find(|m| m.version == version) {
            None => return Ok(SchemaState::Ahead { version, name }),
            Some(m) if m.checksum.to_string() != checksum || m.name != name => {
                return Ok(SchemaState::Edited { version, name });
            }
            Some(_) => latest = Some(version),
        }
    }
    let pending = known.len() - rows.len();
    Ok(match (pending, latest) {
        (0, Some(version)) => SchemaState::Current { version },
        (0, None) => SchemaState::Empty,
        (pending, version) => SchemaState::Behind { version, pending },
    })
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
    let state = state(client).await?;
    if !matches!(state, SchemaState::Current { .. }) {
        let latest = known().last().map_or(0, |m| m.version);
        anyhow::bail!("{}", describe_state(&state, latest));
    }
    Ok(())
}

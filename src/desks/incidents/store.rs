//! The Incidents desk's SQL: the timeline (`incident_timeline()`, V17) and notes.

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use tokio_postgres::Client;
use uuid::Uuid;

use super::model::{Entry, Kind};
use crate::desks::{clean, storable};

/// The event's timeline since `since` (None: all of it), of one kind or those shown unchosen, newest
/// first.
pub async fn timeline(
    client: &Client,
    event: Uuid,
    since: Option<DateTime<Utc>>,
    kind: Option<Kind>,
) -> Result<Vec<Entry>> {
    let kinds: Vec<&str> = match kind {
        Some(k) => vec![k.word()],
        None => Kind::unchosen().map(Kind::word).collect(),
    };
    let rows = client
        .query(
            "SELECT at, kind, who, what
               FROM incident_timeline($1, coalesce($2, '-infinity'::timestamptz), $3)",
            &[&event, &since, &kinds],
        )
        .await
        .context("cannot read the timeline")?;
    rows.iter()
        .map(|r| {
            let word: String = r.get(1);
            Ok(Entry {
                at: r.get(0),
                kind: Kind::read(&word).with_context(|| {
                    format!(
                        "the timeline holds a kind this console does not know ({:?})",
                        crate::desks::fit(&word, 20)
                    )
                })?,
                who: clean(r.get(2)),
                what: clean(r.get(3)),
            })
        })
        .collect::<Result<_>>()
        .context("cannot read the timeline")
}

/// An incident note, written through the SQL API (attributed and audited there).
pub async fn add_note(client: &Client, event: Uuid, note: &str) -> Result<()> {
    storable(note, "the note", "nothing was written")?;
    client
        .query_one("SELECT id FROM add_incident_note($1, $2)", &[&event, &note])
        .await
        .context("cannot write the note")?;
    Ok(())
}

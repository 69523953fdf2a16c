//! The Waitlist desk's SQL: the queues, and the waitlist functions of the SQL API.

use anyhow::{Context, Result};
use tokio_postgres::Client;
use uuid::Uuid;

use super::model::{WaitRow, WaitStatus};
use crate::desks::words::ColumnWords;
use crate::desks::{clean, clean_opt, storable};

/// Active entries (waiting or offered) and those that ended in the last hour, or only `ids`.
pub async fn entries(client: &Client, event: Uuid, ids: Option<&[Uuid]>) -> Result<Vec<WaitRow>> {
    let rows = client
        .query(
            "SELECT w.id, w.session_id, s.title, s.start_time, w.waitlist_position,
                    btrim(a.first_name || ' ' || a.last_name), w.waitlist_reason, w.status::text,
                    w.offered_at, w.expires_at, w.notification_sent_at, w.created_at, w.updated_at
               FROM event_waitlists w
               JOIN attendees a ON a.id = w.attendee_id
               LEFT JOIN sessions s ON s.id = w.session_id
              WHERE w.event_id = $1
                AND CASE WHEN $2::uuid[] IS NULL
                         THEN w.status IN ('waiting', 'offered') OR w.updated_at > now() - interval '1 hour'
                         ELSE w.id = ANY ($2::uuid[]) END",
            &[&event, &ids],
        )
        .await
        .context("cannot read the waitlists")?;
    rows.iter()
        .map(|r| {
            Ok(WaitRow {
                id: r.get(0),
                session_id: r.get(1),
                session: clean_opt(r.get(2)),
                session_start: r.get(3),
                position: r.get(4),
                attendee: clean(r.get(5)),
                reason: r.get(6),
                status: WaitStatus::get(r, 7)?,
                offered_at: r.get(8),
                expires_at: r.get(9),
                notified_at: r.get(10),
                created_at: r.get(11),
                updated_at: r.get(12),
            })
        })
        .collect::<Result<_>>()
        .context("cannot read the waitlists")
}

/// Offers `places` to the next people in a queue; returns how many were offered.
pub async fn offer_next(
    client: &Client,
    event: Uuid,
    session: Option<Uuid>,
    places: i32,
) -> Result<usize> {
    let rows = client
        .query(
            "SELECT id FROM offer_next($1, $2, $3)",
            &[&event, &session, &places],
        )
        .await
        .context("cannot offer places")?;
    Ok(rows.len())
}

pub async fn extend(client: &Client, entry: Uuid, minutes: i32) -> Result<()> {
    client
        .query_one(
            "SELECT id FROM extend_offer($1, make_interval(mins => $2))",
            &[&entry, &minutes],
        )
        .await
        .context("cannot extend the offer")?;
    Ok(())
}

pub async fn cancel(client: &Client, entry: Uuid, reason: &str) -> Result<()> {
    storable(reason, "the reason", "the entry was not cancelled")?;
    client
        .query_one(
            "SELECT id FROM cancel_waitlist_entry($1, $2)",
            &[&entry, &reason],
        )
        .await
        .context("cannot cancel the entry")?;
    Ok(())
}

pub async fn convert(client: &Client, entry: Uuid) -> Result<()> {
    client
        .query_one("SELECT id FROM accept_offer($1)", &[&entry])
        .await
        .context("cannot convert the offer")?;
    Ok(())
}

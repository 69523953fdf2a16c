//! Gate ingest: scans a second through the API against the bare INSERT, and what the worker costs.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio_postgres::Client;
use uuid::Uuid;

use crate::config::DatabaseSettings;
use crate::db;

#[derive(Clone, Copy)]
pub(super) enum Way {
    /// The row itself, as the administrator.
    Bare,
    /// check_in_by_code, as an operator.
    Api,
}

/// Attendees with a valid ticket and no open entry at the doors: (attendee, code).
pub(super) async fn free_attendees(admin: &Client, event: Uuid) -> Result<Vec<(Uuid, String)>> {
    let rows = admin
        .query(
            "SELECT a.id, t.code FROM attendees a JOIN tickets t ON t.attendee_id = a.id AND t.status = 'valid'
              WHERE a.event_id = $1 AND a.status = 'registered' AND a.deleted_at IS NULL
                AND NOT EXISTS (SELECT 1 FROM event_checkins c
                                 WHERE c.attendee_id = a.id AND c.session_id IS NULL AND c.is_present)
              ORDER BY t.code",
            &[&event],
        )
        .await
        .context("cannot list the attendees still outside")?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// The entries a run made go again, so the next run finds the same people outside.
pub(super) async fn undo_since(admin: &Client, event: Uuid, since: &str) -> Result<()> {
    admin
        .execute(
            "DELETE FROM event_checkins WHERE event_id = $1 AND created_xid >= $2::text::xid8",
            &[&event, &since],
        )
        .await
        .context("cannot remove the run's entries")?;
    admin
        .execute(
            "DELETE FROM refused_scans WHERE event_id = $1 AND created_xid >= $2::text::xid8",
            &[&event, &since],
        )
        .await
        .context("cannot remove the run's refusals")?;
    Ok(())
}

pub(super) async fn current_xid(admin: &Client) -> Result<String> {
    Ok(admin
        .query_one("SELECT pg_current_xact_id()::text", &[])
        .await
        .context("cannot read the transaction counter")?
        .get(0))
}

/// Scans per second over `run` (or until everyone outside is in) from `scanners` connections.
pub(super) async fn ingest(
    admin: &Client,
    settings: &DatabaseSettings,
    event: Uuid,
    scanners: usize,
    run: Duration,
    way: Way,
) -> Result<f64> {
    let people = Arc::new(free_attendees(admin, event).await?);
    if people.is_empty() {
        bail!("nobody is left outside to scan");
    }
    let since = current_xid(admin).await?;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for scanner in 0..scanners {
        let client = db::connect(settings).await?;
        let (people, next) = (people.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let gate = format!("Bench gate {}", scanner % 8);
            let sql = match way {
                Way::Bare => {
                    "INSERT INTO event_checkins (event_id, attendee_id, gate, check_in_method)
                     VALUES ($1, $2::text::uuid, $3, 'qr_code')"
                }
                Way::Api => "SELECT accepted FROM check_in_by_code($1, $2, $3)",
            };
            let statement = client.prepare(sql).await?;
            let mut done = 0u64;
            while started.elapsed() < run {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((attendee, code)) = people.get(i) else {
                    break;
                };
                let key = match way {
                    Way::Bare => attendee.to_string(),
                    Way::Api => code.clone(),
                };
                client.execute(&statement, &[&event, &key, &gate]).await?;
                done += 1;
            }
            Ok::<u64, tokio_postgres::Error>(done)
        }));
    }
    let mut scans = 0;
    for task in tasks {
        scans += task
            .await
            .context("a scanner failed")?
            .context("a scan failed")?;
    }
    let rate = scans as f64 / started.elapsed().as_secs_f64();
    undo_since(admin, event, &since).await?;
    Ok(rate)
}

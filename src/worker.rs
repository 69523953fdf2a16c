//! The background loop behind the event-day rules: announces check-in batches (realtime_flush), expires
//! waitlist offers (which offers the next in line), dispatches due announcements, keeps analytics
//! partitions ahead and refreshes the roll-ups. Several workers may run at once: each step is safe to
//! run concurrently in the database (SKIP LOCKED, advisory locks). `eventos worker` runs it alone; the
//! console and the demo run the same loop in-process.

use std::future::Future;
use std::time::Duration;

use anyhow::Result;
use tokio::time::{Instant, MissedTickBehavior, interval};
use tokio_postgres::Client;
use tracing::{info, warn};

use crate::config::DatabaseSettings;
use crate::db;

/// How often each step runs.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// realtime_flush(): how soon a check-in reaches the consoles (a look that finds nothing is cheap).
    pub flush_every: Duration,
    /// The next look after one that announced something: while the doors are busy, sooner, but never
    /// before twice the last flush's own time has passed (see `busy_delay`).
    pub flush_busy: Duration,
    /// expire_offers() and dispatch_due_announcements().
    pub sweep_every: Duration,
    /// ensure_analytics_partitions().
    pub partitions_every: Duration,
    /// refresh_rollups().
    pub rollups_every: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            flush_every: Duration::from_millis(10),
            flush_busy: Duration::from_millis(5),
            sweep_every: Duration::from_secs(1),
            partitions_every: Duration::from_secs(3600),
            rollups_every: Duration::from_secs(300),
        }
    }
}

/// What a worker has done so far.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WorkerTotals {
    pub hints: i64,
    pub offers_expired: i64,
    pub announcements_sent: i64,
    pub reconnects: u32,
}

/// Runs until `shutdown` completes. Connection failures are retried with jittered backoff from
/// 100 ms to 5 s; only a failure to start at all is returned.
pub async fn run(
    settings: &DatabaseSettings,
    config: &WorkerConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<WorkerTotals> {
    let mut totals = WorkerTotals::default();
    let mut client = Some(db::connect(settings).await?);
    info!("worker started");
    tokio::pin!(shutdown);
    let mut flush_at = Instant::now();
    let mut sweep = interval(config.sweep_every);
    let mut partitions = interval(config.partitions_every);
    let mut rollups = interval(config.rollups_every);
    for timer in [&mut sweep, &mut partitions, &mut rollups] {
        timer.set_missed_tick_behavior(MissedTickBehavior::Delay);
    }
    let mut backoff = Duration::from_millis(100);
    let mut retry_at: Option<Instant> = None;
    loop {
        let step = tokio::select! {
            biased;
            () = &mut shutdown => break,
            () = tokio::time::sleep_until(flush_at) => Step::Flush,
            _ = sweep.tick() => Step::Sweep,
            _ = partitions.tick() => Step::Partitions,
            _ = rollups.tick() => Step::Rollups,
        };
        if let Step::Flush = step {
            // Set before anything can skip the look (no connection yet): never a busy loop.
            flush_at = Instant::now() + config.flush_every;
        }
        if client.is_none() {
            if retry_at.is_some_and(|at| Instant::now() < at) {
                continue;
            }
            match db::connect(settings).await {
                Ok(fresh) => {
                    info!("worker reconnected");
                    totals.reconnects += 1;
                    backoff = Duration::from_millis(100);
                    client = Some(fresh);
                }
                Err(error) => {
                    warn!(error = format!("{error:#}"), "worker cannot reconnect yet");
                    retry_at = Some(Instant::now() + jittered(backoff));
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    continue;
                }
            }
        }
        let Some(conn) = client.as_ref() else {
            continue;
        };
        let hints_before = totals.hints;
        let started = Instant::now();
        let outcome = step.run(conn, &mut totals).await;
        if matches!(step, Step::Flush) && totals.hints > hints_before {
            flush_at = Instant::now() + busy_delay(config, started.elapsed());
        }
        if let Err(error) = outcome {
            if conn.is_closed() {
                warn!(%error, "worker lost its connection");
                client = None;
                retry_at = Some(Instant::now() + jittered(backoff));
            } else {
                warn!(%error, step = ?step, "worker step failed");
            }
        }
    }
    info!(?totals, "worker stopped");
    Ok(totals)
}

/// The wait after a flush that announced something and took `took`. The flusher runs on the same
/// server as the gates: when flushes get slower (bigger batches, a busier server) it looks less often,
/// so that it keeps to about a third of its time and the gates keep theirs; batches grow instead.
/// Never longer than four idle looks, so a busy door still reaches the screen within tens of ms.
fn busy_delay(config: &WorkerConfig, took: Duration) -> Duration {
    (took * 2).clamp(config.flush_busy, config.flush_every * 4)
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Flush,
    Sweep,
    Partitions,
    Rollups,
}

impl Step {
    async fn run(
        self,
        client: &Client,
        totals: &mut WorkerTotals,
    ) -> Result<(), tokio_postgres::Error> {
        match self {
            Step::Flush => {
                let sent: i32 = client
                    .query_one("SELECT realtime_flush()", &[])
                    .await?
                    .get(0);
                totals.hints += i64::from(sent);
            }
            Step::Sweep => {
                // Consoles take over flushing when this stops (and say what else a missing worker means).
                client.execute("SELECT worker_heartbeat()", &[]).await?;
                // The consoles' batch views and feed channels of the last minute (V11).
                client.execute("SELECT realtime_prune()", &[]).await?;
                let expired: i32 = client
                    .query_one("SELECT expire_offers()", &[])
                    .await?
                    .get(0);
                let sent: i32 = client
                    .query_one("SELECT dispatch_due_announcements(100)", &[])
                    .await?
                    .get(0);
                // Gate watch: every live event's gates judged once, for every console.
                let alerts: i32 = client
                    .query_one("SELECT gate_watch_sweep()", &[])
                    .await?
                    .get(0);
                if alerts > 0 {
                    info!(alerts, "gate alerts raised");
                }
                if expired > 0 || sent > 0 {
                    info!(expired, sent, "offers expired, announcements sent");
                }
                totals.offers_expired += i64::from(expired);
                totals.announcements_sent += i64::from(sent);
            }
            Step::Partitions => {
                client
                    .query_one(
                        "SELECT ensure_analytics_partitions(date_trunc('month', now())::date, 3)",
                        &[],
                    )
                    .await?;
            }
            Step::Rollups => {
                client.query_one("SELECT refresh_rollups()", &[]).await?;
            }
        }
        Ok(())
    }
}

/// Between half and all of `base`, so many workers restarting at once do not retry in step.
fn jittered(base: Duration) -> Duration {
    let noise = (uuid::Uuid::new_v4().as_u128() % 1000) as u32;
    base / 2 + base / 2 * noise / 1000
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {},
                    _ = term.recv() => {},
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slower_flush_waits_longer_within_bounds() {
        let config = WorkerConfig::default();
        let ms = Duration::from_millis;
        assert_eq!(busy_delay(&config, Duration::from_micros(200)), ms(5));
        assert_eq!(busy_delay(&config, ms(1)), ms(5));
        assert_eq!(busy_delay(&config, ms(4)), ms(8));
        assert_eq!(busy_delay(&config, ms(30)), ms(40));
    }
}

//! The dedicated LISTEN connection (not a pooled one: a pooled connection drops notifications and is
//! UNLISTENed on recycle). It reports its state and the hints it hears; a liveness check runs every
//! few seconds, and a lost connection is retried with jittered backoff (100 ms to 5 s).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::config::DatabaseSettings;
use crate::db::connect_listening;

pub const CHANNEL: &str = "eventos_changes";
/// The hint that an event's feed channels were dropped and consoles must register again (V11).
const FEED_TABLE: &str = "realtime_feed";
/// The listening connection's name on the server (pg_stat_activity).
pub const APPLICATION_NAME: &str = "eventos-console-listener";
const HEALTH_EVERY: Duration = Duration::from_secs(3);
const HEALTH_TIMEOUT: Duration = Duration::from_secs(3);
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// With no worker, the console announces check-ins itself this often (any number of consoles may: the
/// flush takes turns in the database).
const SELF_FLUSH_EVERY: Duration = Duration::from_millis(250);
/// A worker not heard from for this long is missing.
pub const WORKER_SILENT_AFTER: chrono::TimeDelta = chrono::TimeDelta::seconds(10);

/// One realtime hint (V3; batches are version 2 since V9): identifiers and counts only.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Hint {
    pub table: String,
    pub op: String,
    pub id: Option<Uuid>,
    pub event_id: Option<Uuid>,
    pub count: Option<i64>,
    pub from_xid: Option<String>,
    pub to_xid: Option<String>,
    /// Transactions that were still open at an earlier flush and have ended since.
    #[serde(default)]
    pub late: Vec<String>,
    /// The flush's view of this event's batch (V11): read by number instead of by range.
    #[serde(default)]
    pub batch: Option<i64>,
}

impl Hint {
    /// A change to one row of `table` at `event`, as a desk passes on what it learnt to the others.
    pub fn row(table: &str, event: Uuid, id: Uuid) -> Hint {
        Hint {
            table: table.to_owned(),
            op: "UPDATE".to_owned(),
            id: Some(id),
            event_id: Some(event),
            count: None,
            from_xid: None,
            to_xid: None,
            late: Vec::new(),
            batch: None,
        }
    }

    pub fn parse(payload: &str) -> Option<Hint> {
        serde_json::from_str(payload).ok()
    }

    /// The transactions a BATCH hint announces. An unreadable late id makes the whole hint unreadable
    /// rather than silently narrower.
    pub fn xid_range(&self) -> Option<XidRange> {
        let from = self.from_xid.as_deref()?.parse().ok()?;
        let to = self.to_xid.as_deref()?.parse().ok()?;
        let late = self
            .late
            .iter()
            .map(|x| x.parse().ok())
            .collect::<Option<Vec<u64>>>()?;
        Some(XidRange { from, to, late })
    }
}

/// Rows with `from <= change_xid < to`, or written by one of the `late` transactions. A transaction of
/// the range still open when it was announced comes again as late when it ends: the rows it finds are
/// merged by id, so seeing one twice changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct XidRange {
    pub from: u64,
    pub to: u64,
    pub late: Vec<u64>,
}

impl XidRange {
    pub fn merge(mut self, other: XidRange) -> XidRange {
        self.from = self.from.min(other.from);
        self.to = self.to.max(other.to);
        for x in other.late {
            if !self.late.contains(&x) {
                self.late.push(x);
            }
        }
        self
    }

    /// The late transactions as text, for a query (`$n::text[]::xid8[]`).
    pub fn late_text(&self) -> Vec<String> {
        self.late.iter().map(u64::to_string).collect()
    }
}

/// The server's answer to a liveness check.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Health {
    /// The event's current offset from UTC (the server knows the time-zone rules).
    pub utc_offset_secs: i32,
    /// When batched check-ins were last announced (None: nothing records it).
    pub flushed_at: Option<DateTime<Utc>>,
    pub server_now: DateTime<Utc>,
    /// When a worker last ran its sweep (None: never).
    pub worker_seen_at: Option<DateTime<Utc>>,
    /// Transactions open for more than two seconds that are writing check-ins, and since when.
    pub late_writers: i64,
    pub late_since: Option<DateTime<Utc>>,
}

impl Health {
    /// No worker has run its sweep lately: offers do not expire, scheduled announcements wait, and
    /// check-ins are announced only by consoles.
    pub fn worker_missing(&self) -> bool {
        self.worker_seen_at
            .is_none_or(|at| self.server_now - at > WORKER_SILENT_AFTER)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ListenerEvent {
    /// Listening; everything from here on is heard, so a snapshot taken now is complete.
    Connected,
    Lost {
        reason: String,
    },
    Hint(Hint),
    /// A batch pushed whole on the event's feed channel (V11), as its JSON.
    Pushed(String),
    Health(Health),
}

/// Runs until `events` is closed. `time_zone` is the event's IANA zone, for the health check; `event`
/// is the event whose feed channel it follows.
pub async fn run(
    settings: DatabaseSettings,
    time_zone: String,
    event: Uuid,
    events: mpsc::UnboundedSender<ListenerEvent>,
) {
    let mut backoff = BACKOFF_FIRST;
    let mut attempt: u64 = 0;
    // This console's feed channel, kept across connections so a new one drops the old registration.
    let mut feed = None;
    loop {
        attempt += 1;
        match listen_once(&settings, &time_zone, event, &mut feed, &events).await {
            Ok(()) => return, // the console is gone
            Err(Broken { connected, reason }) => {
                tracing::warn!(%reason, attempt, "listener lost");
                if connected {
                    // It had been working: start the backoff again from the shortest wait.
                    backoff = BACKOFF_FIRST;
                    attempt = 1;
                }
                if events.send(ListenerEvent::Lost { reason }).is_err() {
                    return;
                }
            }
        }
        tokio::time::sleep(jitter(backoff, attempt)).await;
        backoff = (backoff * 2).min(BACKOFF_MAX);
        if events.is_closed() {
            return;
        }
    }
}

/// Between half and all of `base`, so many consoles do not reconnect in step.
fn jitter(base: Duration, attempt: u64) -> Duration {
    let seed = attempt
        .wrapping_mul(6364136223846793005)
        .wrapping_add(u64::from(std::process::id()))
        .wrapping_add(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| u64::from(d.subsec_nanos()))
                .unwrap_or(0),
        );
    let fraction = 0.5 + (seed % 1000) as f64 / 2000.0;
    base.mul_f64(fraction)
}

/// Why a connection's life ended: whether it had got as far as listening, and what broke.
struct Broken {
    connected: bool,
    reason: String,
}

/// One connection's life. Ok(()) when the console has gone away.
async fn listen_once(
    settings: &DatabaseSettings,
    time_zone: &str,
    event: Uuid,
    feed: &mut Option<String>,
    events: &mpsc::UnboundedSender<ListenerEvent>,
) -> Result<(), Broken> {
    let before = |reason: String| Broken {
        connected: false,
        reason,
    };
    let after = |reason: String| Broken {
        connected: true,
        reason,
    };
    let mut settings = settings.clone();
    settings.pg.application_name(APPLICATION_NAME);
    let (client, mut notifications) = connect_listening(&settings)
        .await
        .map_err(|e| before(crate::db::sentence(&e)))?;
    answered(client.batch_execute(&format!("LISTEN {CHANNEL}")), "LISTEN")
        .await
        .map_err(before)?
        .map_err(|e| before(format!("cannot listen: {e}")))?;
    answered(register_feed(&client, event, feed), "the feed registration")
        .await
        .map_err(after)?;
    if events.send(ListenerEvent::Connected).is_err() {
        return Ok(());
    }
    let health_sql = answered(
        client.prepare(
            "SELECT extract(epoch FROM (now() AT TIME ZONE $1) - (now() AT TIME ZONE 'UTC'))::integer,
                    realtime_flushed_at(), now(), worker_seen_at(), late.transactions, late.oldest_since
               FROM realtime_late_writers() AS late",
        ),
        "the liveness check's preparation",
    )
    .await
    .map_err(after)?
    .map_err(|e| after(format!("cannot prepare the liveness check: {e}")))?;
    let mut ticker = tokio::time::interval(HEALTH_EVERY);
    let mut self_flush = tokio::time::interval(SELF_FLUSH_EVERY);
    self_flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut worker_missing = false;
    loop {
        tokio::select! {
            notification = notifications.recv() => match notification {
                Some(n) if n.channel() == CHANNEL => {
                    let Some(hint) = Hint::parse(n.payload()) else {
                        tracing::warn!(payload = n.payload(), "unreadable hint");
                        continue;
                    };
                    if hint.table == FEED_TABLE {
                        // The team changed: every console registers again (someone who left gets none).
                        if hint.event_id == Some(event) {
                            answered(register_feed(&client, event, feed), "the feed registration").await.map_err(after)?;
                        }
                        continue;
                    }
                    if hint.table == "event_teams" && hint.event_id == Some(event) && feed.is_none() {
                        // Perhaps this operator has just joined the team.
                        answered(register_feed(&client, event, feed), "the feed registration").await.map_err(after)?;
                    }
                    if events.send(ListenerEvent::Hint(hint)).is_err() {
                        return Ok(());
                    }
                }
                Some(n) => {
                    if feed.as_deref() == Some(n.channel())
                        && events.send(ListenerEvent::Pushed(n.payload().to_owned())).is_err()
                    {
                        return Ok(());
                    }
                }
                None => return Err(after("the listening connection closed".to_owned())),
            },
            _ = ticker.tick() => {
                let check = tokio::time::timeout(HEALTH_TIMEOUT, client.query_one(&health_sql, &[&time_zone])).await;
                let row = match check {
                    Ok(Ok(row)) => row,
                    Ok(Err(e)) => return Err(after(format!("liveness check failed: {e}"))),
                    Err(_) => {
                        return Err(after("the server did not answer the liveness check".to_owned()));
                    }
                };
                let health = Health {
                    utc_offset_secs: row.get(0),
                    flushed_at: row.get(1),
                    server_now: row.get(2),
                    worker_seen_at: row.get(3),
                    late_writers: row.get(4),
                    late_since: row.get(5),
                };
                if health.worker_missing() != worker_missing {
                    worker_missing = health.worker_missing();
                    tracing::warn!(worker_missing, "the worker's heartbeat changed");
                }
                if events.send(ListenerEvent::Health(health)).is_err() {
                    return Ok(());
                }
                answered(keep_feed(&client, event, feed), "the feed's keep-alive").await.map_err(after)?;
            }
            _ = self_flush.tick(), if worker_missing => {
                // Its NOTIFY comes back on this connection like anyone's.
                let flushed = tokio::time::timeout(HEALTH_TIMEOUT, client.query_one("SELECT realtime_flush_for_console()", &[])).await;
                match flushed {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => tracing::warn!(error = %e, "announcing check-ins in the worker's place failed"),
                    Err(_) => return Err(after("the server did not answer a flush".to_owned())),
                }
            }
            _ = events.closed() => return Ok(()),
        }
    }
}

/// A step on the listening connection, within the liveness limit: a server that stops answering (frozen,
/// a cut link that keeps the socket open) is noticed here instead of being waited on forever.
async fn answered<T>(step: impl Future<Output = T>, what: &str) -> Result<T, String> {
    tokio::time::timeout(HEALTH_TIMEOUT, step)
        .await
        .map_err(|_| format!("the server did not answer {what}"))
}

/// Registers this console's own feed channel for the event (V11), dropping its earlier one, and listens
/// on it instead. Without one (an operator outside the team, a server before V11, a failed call) the
/// console reads each batch instead, so a failure here is logged, not fatal.
async fn register_feed(client: &tokio_postgres::Client, event: Uuid, feed: &mut Option<String>) {
    let previous = feed.take();
    let named = match client
        .query_one("SELECT realtime_feed_channel($1, $2)", &[&event, &previous])
        .await
    {
        Ok(row) => row.get::<_, Option<String>>(0),
        Err(e) => {
            tracing::info!(error = %e, "no feed channel; batches are read");
            None
        }
    };
    if let Some(old) = previous.filter(|n| is_feed_channel(n))
        && let Err(e) = client.batch_execute(&format!("UNLISTEN {old}")).await
    {
        tracing::warn!(error = %e, "cannot stop listening on the old feed channel");
    }
    // Only a name the server makes is quoted into a statement.
    if let Some(new) = named.filter(|n| is_feed_channel(n)) {
        match client.batch_execute(&format!("LISTEN {new}")).await {
            Ok(()) => *feed = Some(new),
            Err(e) => tracing::warn!(error = %e, "cannot listen on the feed channel"),
        }
    }
}

/// Tells the server this console's feed channel is still heard; registers again if it was dropped (a
/// crash empties the registry).
async fn keep_feed(client: &tokio_postgres::Client, event: Uuid, feed: &mut Option<String>) {
    let Some(channel) = feed.as_deref() else {
        return;
    };
    match client
        .query_one("SELECT realtime_feed_seen($1)", &[&channel])
        .await
    {
        Ok(row) if row.get::<_, bool>(0) => {}
        Ok(_) => register_feed(client, event, feed).await,
        Err(e) => tracing::warn!(error = %e, "cannot keep the feed channel"),
    }
}

/// `eventos_feed_` and 32 lowercase hex digits, as realtime_feed_channel() makes them.
fn is_feed_channel(name: &str) -> bool {
    name.strip_prefix("eventos_feed_").is_some_and(|hex| {
        hex.len() == 32
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_hint_parses_with_its_range() {
        let hint = Hint::parse(r#"{"v":2,"table":"event_checkins","op":"BATCH","event_id":"6f1c1d1e-0000-4000-8000-000000000001","from_xid":"100","to_xid":"120","late":["97"],"count":3,"batch":7}"#)
            .expect("parses");
        assert_eq!(hint.table, "event_checkins");
        assert_eq!(hint.batch, Some(7));
        let range = |from, to, late: &[u64]| XidRange {
            from,
            to,
            late: late.to_vec(),
        };
        assert_eq!(hint.xid_range(), Some(range(100, 120, &[97])));
        assert_eq!(
            hint.xid_range().map(|r| r.merge(range(90, 110, &[97, 88]))),
            Some(range(90, 120, &[97, 88]))
        );
        let unreadable = Hint::parse(r#"{"v":2,"table":"event_checkins","op":"BATCH","from_xid":"1","to_xid":"2","late":["x"]}"#)
            .expect("parses");
        assert_eq!(unreadable.xid_range(), None);
    }

    #[test]
    fn only_a_name_the_server_makes_is_a_feed_channel() {
        assert!(is_feed_channel(
            "eventos_feed_0123456789abcdef0123456789abcdef"
        ));
        for not in [
            "eventos_feed_",
            "eventos_changes",
            "eventos_feed_0123456789ABCDEF0123456789abcdef",
            "eventos_feed_0123456789abcdef0123456789abcde; DROP TABLE x",
            "eventos_feed_0123456789abcdef0123456789abcdef0",
        ] {
            assert!(!is_feed_channel(not), "{not}");
        }
    }

    #[test]
    fn garbage_is_not_a_hint() {
        assert_eq!(Hint::parse("ping"), None);
        assert_eq!(Hint::parse("{}"), None);
    }

    #[test]
    fn jitter_stays_between_half_and_all() {
        for attempt in 0..200 {
            let d = jitter(Duration::from_millis(1000), attempt);
            assert!(d >= Duration::from_millis(500) && d <= Duration::from_millis(1000));
        }
    }
}

//! The check-in totals the flusher keeps (V9) equal a full recount, whatever runs at once: gates
//! scanning on their own connections (admissions, duplicates, unknown codes), check-outs, transactions
//! that roll back or stay open across flushes, and two flushers racing each other.

mod common;

use std::time::Duration;

use common::{TestDb, fixture};
use tokio_postgres::Client;
use uuid::Uuid;

const ATTENDEES: i64 = 120;
const GATES: usize = 6;

/// A small deterministic generator per gate, so a failure can be replayed.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

/// The totals as the flusher keeps them, and as counted from the rows now.
async fn kept_and_counted(admin: &Client, event: Uuid) -> (Vec<String>, Vec<String>) {
    let kept = admin
        .query(
            "SELECT 'event ' || entries || ' ' || checked_in || ' ' || present FROM checkin_totals WHERE event_id = $1
             UNION ALL
             SELECT * FROM (SELECT 'gate ' || gate || ' ' || entries FROM checkin_gate_totals
                             WHERE event_id = $1 AND entries > 0 ORDER BY gate) g
             UNION ALL
             SELECT * FROM (SELECT 'minute ' || minute || ' ' || gate || ' ' || entries FROM checkin_gate_minutes
                             WHERE event_id = $1 AND entries > 0 ORDER BY minute, gate) m
             UNION ALL
             SELECT * FROM (SELECT 'refusals ' || minute || ' ' || refusals FROM refusal_minutes
                             WHERE event_id = $1 AND refusals > 0 ORDER BY minute) r",
            &[&event],
        )
        .await
        .expect("kept totals");
    let counted = admin
        .query(
            "SELECT 'event ' || count(*) || ' ' || count(DISTINCT attendee_id) || ' ' || count(*) FILTER (WHERE is_present)
               FROM event_checkins WHERE event_id = $1 AND session_id IS NULL
             UNION ALL
             SELECT * FROM (SELECT 'gate ' || coalesce(gate, '(no gate)') || ' ' || count(*) FROM event_checkins
                             WHERE event_id = $1 AND session_id IS NULL
                             GROUP BY coalesce(gate, '(no gate)') ORDER BY coalesce(gate, '(no gate)')) g
             UNION ALL
             SELECT * FROM (SELECT 'minute ' || date_trunc('minute', check_in_time) || ' ' || coalesce(gate, '(no gate)')
                                   || ' ' || count(*)
                              FROM event_checkins WHERE event_id = $1 AND session_id IS NULL
                             GROUP BY date_trunc('minute', check_in_time), coalesce(gate, '(no gate)')
                             ORDER BY date_trunc('minute', check_in_time), coalesce(gate, '(no gate)')) m
             UNION ALL
             SELECT * FROM (SELECT 'refusals ' || date_trunc('minute', scanned_at) || ' ' || count(*) FROM refused_scans
                             WHERE event_id = $1 GROUP BY date_trunc('minute', scanned_at)
                             ORDER BY date_trunc('minute', scanned_at)) r",
            &[&event],
        )
        .await
        .expect("recount");
    (
        kept.iter().map(|r| r.get(0)).collect(),
        counted.iter().map(|r| r.get(0)).collect(),
    )
}

async fn flush_until_quiet(client: &Client) {
    for _ in 0..200 {
        client
            .query_one("SELECT realtime_flush()", &[])
            .await
            .expect("flush");
        let pending = common::unannounced(client).await;
        if pending == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("check-ins were still unannounced after 4 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_kept_totals_equal_a_recount_under_concurrent_scans_check_outs_and_rollbacks() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    admin
        .execute(
            "WITH a AS (INSERT INTO attendees (event_id, first_name, email)
                        SELECT $1, 'Guest ' || g, 'guest' || g || '@example.org' FROM generate_series(1, $2::bigint) g
                        RETURNING id, email)
             INSERT INTO tickets (event_id, attendee_id, ticket_type_id, code)
             SELECT $1, a.id, $3, 'RT-' || split_part(a.email, '@', 1) FROM a",
            &[&f.event, &ATTENDEES, &f.ticket_type],
        )
        .await
        .expect("guests with tickets");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));

    // Two flushers racing each other the whole time.
    let mut flushers = Vec::new();
    for _ in 0..2 {
        let client = db.client().await;
        let stop = stop.clone();
        flushers.push(tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                client
                    .query_one("SELECT realtime_flush()", &[])
                    .await
                    .expect("flush");
                tokio::time::sleep(Duration::from_millis(3)).await;
            }
        }));
    }

    let mut gates = Vec::new();
    for gate in 0..GATES {
        let operator = db
            .member(
                f.event,
                &format!("gate{gate}"),
                &format!("Gate {gate}"),
                "registration",
            )
            .await;
        let event = f.event;
        gates.push(tokio::spawn(async move {
            let client = operator.client;
            let mut draw = Lcg(gate as u64 + 1);
            let name = format!("Gate {gate}");
            for _ in 0..60 {
                let guest = draw.next(ATTENDEES as u64) + 1;
                let code = format!("RT-guest{guest}");
                match draw.next(10) {
                    // A scan: admitted, or refused as a duplicate.
                    0..=4 => {
                        client
                            .query_one(
                                "SELECT accepted FROM check_in_by_code($1, $2, $3)",
                                &[&event, &code, &name],
                            )
                            .await
                            .expect("scan");
                    }
                    // An unknown code.
                    5 => {
                        client
                            .query_one(
                                "SELECT accepted FROM check_in_by_code($1, 'NOPE-' || $2, $3)",
                                &[&event, &code, &name],
                            )
                            .await
                            .expect("scan");
                    }
                    // A check-out (refused when not checked in: that changes nothing).
                    6 => {
                        let _ = client
                            .query_opt(
                                "SELECT c.id FROM attendees a, check_out(a.id) c WHERE a.email = $1",
                                &[&format!("guest{guest}@example.org")],
                            )
                            .await;
                    }
                    // Work that rolls back: a scan and a check-out that never happened.
                    7 => {
                        client.batch_execute("BEGIN").await.expect("begin");
                        let _ = client
                            .query_one(
                                "SELECT accepted FROM check_in_by_code($1, $2, $3)",
                                &[&event, &code, &name],
                            )
                            .await;
                        let _ = client.batch_execute("ROLLBACK").await;
                    }
                    // A transaction held open across several flushes, then committed.
                    _ => {
                        client.batch_execute("BEGIN").await.expect("begin");
                        client
                            .query_one(
                                "SELECT accepted FROM check_in_by_code($1, $2, $3)",
                                &[&event, &code, &name],
                            )
                            .await
                            .expect("scan");
                        tokio::time::sleep(Duration::from_millis(draw.next(40) + 10)).await;
                        client.batch_execute("COMMIT").await.expect("commit");
                    }
                }
            }
        }));
    }
    for gate in gates {
        gate.await.expect("a gate");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for flusher in flushers {
        flusher.await.expect("a flusher");
    }
    flush_until_quiet(&admin).await;

    let (kept, counted) = kept_and_counted(&admin, f.event).await;
    assert_eq!(kept, counted, "kept totals differ from a recount");
    let entries: i64 = admin
        .query_one(
            "SELECT count(*) FROM event_checkins WHERE event_id = $1",
            &[&f.event],
        )
        .await
        .expect("entries")
        .get(0);
    assert!(entries > 50, "the run made only {entries} entries");
    let checkouts: i64 = admin
        .query_one(
            "SELECT count(*) FROM event_checkins WHERE event_id = $1 AND NOT is_present",
            &[&f.event],
        )
        .await
        .expect("check-outs")
        .get(0);
    assert!(checkouts > 5, "the run made only {checkouts} check-outs");

    // An administrator deletes rows: the next flush recounts the event.
    admin
        .execute(
            "DELETE FROM event_checkins WHERE id = (SELECT id FROM event_checkins WHERE event_id = $1 LIMIT 1)",
            &[&f.event],
        )
        .await
        .expect("delete");
    flush_until_quiet(&admin).await;
    admin
        .query_one("SELECT realtime_flush()", &[])
        .await
        .expect("flush");
    let (kept, counted) = kept_and_counted(&admin, f.event).await;
    assert_eq!(kept, counted, "after a delete");
}

/// Registered attendees as kept, and as counted now.
async fn registered(admin: &Client, event: Uuid) -> (i64, i64) {
    let row = admin
        .query_one(
            "SELECT (SELECT registered FROM attendee_totals WHERE event_id = $1),
                    (SELECT count(*) FROM attendees WHERE event_id = $1 AND status = 'registered' AND deleted_at IS NULL)",
            &[&event],
        )
        .await
        .expect("counts");
    (row.get(0), row.get(1))
}

#[tokio::test]
async fn registered_attendees_are_counted_as_they_change() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let (kept, counted) = registered(&admin, f.event).await;
    assert_eq!(kept, counted);
    admin
        .batch_execute(&format!(
            "INSERT INTO attendees (event_id, first_name, email)
             SELECT '{}', 'X' || g, 'x' || g || '@example.org' FROM generate_series(1, 30) g;
             UPDATE attendees SET status = 'cancelled', cancelled_at = now() WHERE email LIKE 'x1%@example.org';
             UPDATE attendees SET deleted_at = now() WHERE email = 'x2@example.org';
             DELETE FROM attendees WHERE email = 'x3@example.org';",
            f.event
        ))
        .await
        .expect("changes");
    let (kept, counted) = registered(&admin, f.event).await;
    assert_eq!(kept, counted);
}

/// Admits `n` new ticket holders at the event's doors, as the administrator.
async fn admit_new(admin: &Client, f: &common::Fixture, n: i64, tag: &str) {
    admin
        .execute(
            "WITH a AS (INSERT INTO attendees (event_id, first_name, email)
                        SELECT $1, $3 || g, $3 || g || '@example.org' FROM generate_series(1, $2::bigint) g
                        RETURNING id, email)
             INSERT INTO tickets (event_id, attendee_id, ticket_type_id, code)
             SELECT $1, a.id, $4, 'T-' || split_part(a.email, '@', 1) FROM a",
            &[&f.event, &n, &tag, &f.ticket_type],
        )
        .await
        .expect("tickets");
    admin
        .execute(
            "INSERT INTO event_checkins (event_id, attendee_id, ticket_id, check_in_method, gate)
             SELECT $1, t.attendee_id, t.id, 'qr_code', 'North Gate' FROM tickets t
              WHERE t.event_id = $1 AND t.code LIKE 'T-' || $2 || '%'",
            &[&f.event, &tag],
        )
        .await
        .expect("admissions");
}

/// A flush's work is its batch, not the table. The worker keeps its plans all day, made when the
/// doors opened on a nearly empty table; the totals' "first entry?" probe was planned then as a scan
/// of every earlier entry, on every flush, and cost the gates a third of their throughput by midday.
/// Counted in rows read (this transaction's table statistics), not in time.
#[tokio::test]
async fn a_flush_reads_its_batch_not_the_table_whatever_its_plans_were_made_on() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    // Doors open: a few flushes of a row or two, enough for the session to keep generic plans.
    for round in 0..8 {
        admit_new(&admin, &f, 1, &format!("early{round}-")).await;
        flush_until_quiet(&admin).await;
    }
    // Midday: thousands inside, all announced.
    admit_new(&admin, &f, 5_000, "midday-").await;
    flush_until_quiet(&admin).await;
    // As autovacuum would on a venue server: the planner knows the event has thousands of entries.
    admin
        .batch_execute("ANALYZE event_checkins, refused_scans")
        .await
        .expect("analyze");
    // A console of the team is watching, so the flush also makes the batch's view (its rows and totals).
    let door = db.member(f.event, "door", "Door Keeper", "volunteer").await;
    door.client
        .query_one("SELECT realtime_feed_channel($1)", &[&f.event])
        .await
        .expect("a feed channel");
    // The next batch of twenty.
    admit_new(&admin, &f, 20, "next-").await;
    // Inside one transaction, so that the backend's pending table statistics (which also hold earlier
    // transactions' reads until they are reported) move by this flush alone.
    let rows_read = "SELECT pg_stat_get_xact_tuples_returned('event_checkins'::regclass)
                          + pg_stat_get_xact_tuples_fetched('event_checkins'::regclass)";
    admin.batch_execute("BEGIN").await.expect("begin");
    let before: i64 = admin
        .query_one(rows_read, &[])
        .await
        .expect("rows read")
        .get(0);
    admin
        .query_one("SELECT realtime_flush()", &[])
        .await
        .expect("flush");
    let after: i64 = admin
        .query_one(rows_read, &[])
        .await
        .expect("rows read")
        .get(0);
    let read = after - before;
    admin.batch_execute("COMMIT").await.expect("commit");
    assert!(
        read < 1_000,
        "one flush of 20 check-ins read {read} rows of event_checkins (5,029 in the table)"
    );
    let views: i64 = admin
        .query_one(
            "SELECT count(*) FROM realtime_batch_views WHERE event_id = $1",
            &[&f.event],
        )
        .await
        .expect("views")
        .get(0);
    assert!(views > 0, "the watched event's batch had no view made");
    let (kept, counted) = kept_and_counted(&admin, f.event).await;
    assert_eq!(kept, counted);
}

/// A client that follows the seed's schema writes the place as `location` and no `gate`: the entry is
/// shown at that place (the feed's gate, the per-gate totals), and a gate fills the location too.
#[tokio::test]
async fn a_check_in_written_with_only_a_location_is_shown_at_that_place() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    common::check_in_with_only_a_location(&admin, &f, "East Door").await;
    let row = admin
        .query_one(
            "SELECT gate, location FROM event_checkins WHERE attendee_id = $1",
            &[&f.other_attendee],
        )
        .await
        .expect("the entry");
    let (gate, location): (Option<String>, Option<String>) = (row.get(0), row.get(1));
    assert_eq!(gate.as_deref(), Some("East Door"));
    assert_eq!(location.as_deref(), Some("East Door"));
    // The fixture's own entry names only its gate.
    let location: Option<String> = admin
        .query_one(
            "SELECT location FROM event_checkins WHERE id = $1",
            &[&f.checkin],
        )
        .await
        .expect("the fixture's entry")
        .get(0);
    assert_eq!(location.as_deref(), Some("North Gate"));
    flush_until_quiet(&admin).await;
    let gates = common::gate_totals(&admin, f.event).await;
    assert_eq!(gates, ["East Door 1", "North Gate 1"]);
    let (kept, counted) = kept_and_counted(&admin, f.event).await;
    assert_eq!(kept, counted);
}

//! The event-day rules on real PostgreSQL: through the SQL API, through raw SQL, and under real
//! concurrency (many connections at once). A refusal is SQLSTATE EV001 with the rule in CONSTRAINT.

mod common;

use std::sync::Arc;

use common::{Fixture, TestDb, fixture, sqlstate};
use tokio::sync::Barrier;
use tokio_postgres::Client;
use uuid::Uuid;

/// The rule that refused a statement, and its sentence.
fn refusal(error: &tokio_postgres::Error) -> (String, String) {
    let db = error
        .as_db_error()
        .unwrap_or_else(|| panic!("not a database error: {error}"));
    assert_eq!(db.code().code(), "EV001", "not a rule refusal: {db:?}");
    (
        db.constraint().unwrap_or("").to_owned(),
        db.message().to_owned(),
    )
}

/// Every row of every table but the scan log and the outbox, as text: "nothing changed" is equality.
async fn everything(client: &Client) -> String {
    let tables: Vec<String> = client
        .query(
            "SELECT c.relname::text FROM pg_class c
              WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
                AND c.relname NOT IN ('refused_scans', 'refinery_schema_history', 'realtime_watermarks')
              ORDER BY 1",
            &[],
        )
        .await
        .expect("tables")
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut out = String::new();
    for table in tables {
        let rows: String = client
            .query_one(
                &format!("SELECT coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '') FROM {table} t"),
                &[],
            )
            .await
            .expect("rows")
            .get(0);
        out.push_str(&format!("== {table}\n{rows}\n"));
    }
    out
}

async fn scan(client: &Client, event: Uuid, code: &str, gate: &str) -> (bool, String, String) {
    let row = client
        .query_one(
            "SELECT accepted, reason_code, message FROM check_in_by_code($1, $2, $3)",
            &[&event, &code, &gate],
        )
        .await
        .unwrap_or_else(|e| panic!("scan {code:?}: {e:?}"));
    (row.get(0), row.get(1), row.get(2))
}

async fn refused_scan_count(client: &Client, reason: &str) -> i64 {
    client
        .query_one(
            "SELECT count(*) FROM refused_scans WHERE reason_code = $1",
            &[&reason],
        )
        .await
        .expect("count")
        .get(0)
}

/// Attendees with valid tickets ("BULK-0001"...), returned as (attendee, code).
async fn attendees_with_tickets(client: &Client, f: &Fixture, n: i64) -> Vec<(Uuid, String)> {
    client
        .query(
            "WITH a AS (
               INSERT INTO attendees (event_id, first_name, last_name, email)
               SELECT $1, 'Guest', g::text, 'guest' || g || '@example.org' FROM generate_series(1, $3::int) g
               RETURNING id, last_name)
             INSERT INTO tickets (event_id, attendee_id, ticket_type_id, code)
             SELECT $1, a.id, $2, 'BULK-' || lpad(a.last_name, 4, '0') FROM a
             RETURNING attendee_id, code",
            &[&f.event, &f.ticket_type, &(n as i32)],
        )
        .await
        .expect("attendees")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

// ---- check-in ---------------------------------------------------------------------------------------

#[tokio::test]
async fn fifty_concurrent_scans_of_one_ticket_admit_exactly_one() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    admin
        .execute(
            "DELETE FROM event_checkins WHERE attendee_id = $1",
            &[&f.other_attendee],
        )
        .await
        .expect("clean");
    let barrier = Arc::new(Barrier::new(50));
    let mut gates = Vec::new();
    for i in 0..50 {
        let client = db.client().await;
        let barrier = barrier.clone();
        let event = f.event;
        gates.push(tokio::spawn(async move {
            barrier.wait().await;
            scan(&client, event, "FIX-0002", &format!("Gate {i}")).await
        }));
    }
    let mut accepted = 0;
    let mut duplicates = 0;
    for gate in gates {
        let (ok, reason, message) = gate.await.expect("join");
        if ok {
            accepted += 1;
        } else {
            assert_eq!(reason, "already_checked_in", "{message}");
            assert!(message.starts_with("already checked in at "), "{message}");
            assert!(
                message.contains(" at Gate "),
                "the first scan's gate: {message}"
            );
            duplicates += 1;
        }
    }
    assert_eq!((accepted, duplicates), (1, 49));
    assert_eq!(refused_scan_count(&admin, "already_checked_in").await, 49);
    let open: i64 = admin
        .query_one(
            "SELECT count(*) FROM event_checkins WHERE attendee_id = $1 AND is_present",
            &[&f.other_attendee],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(open, 1);
    let conflicts: i64 = admin
        .query_one(
            "SELECT count(DISTINCT conflicting_checkin_id) FROM refused_scans WHERE reason_code = 'already_checked_in'",
            &[],
        )
        .await
        .expect("conflicts")
        .get(0);
    assert_eq!(
        conflicts, 1,
        "every duplicate points at the one entry that stands"
    );
}

#[tokio::test]
async fn bad_scans_are_refused_logged_and_change_nothing_else() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    // Another event with a ticket of its own; a void ticket; a cancelled attendee with a valid ticket.
    admin
        .batch_execute(&format!(
            "INSERT INTO events (slug, name, starts_at, ends_at) VALUES ('other-conf', 'Other Conf', now(), now() + interval '1 day');
             INSERT INTO ticket_types (event_id, name) SELECT id, 'GA' FROM events WHERE slug = 'other-conf';
             INSERT INTO attendees (event_id, first_name, email) SELECT id, 'Otto', 'otto@example.org' FROM events WHERE slug = 'other-conf';
             INSERT INTO tickets (event_id, attendee_id, ticket_type_id, code)
               SELECT e.id, a.id, t.id, 'OTHER-0001' FROM events e JOIN attendees a ON a.event_id = e.id
                 JOIN ticket_types t ON t.event_id = e.id WHERE e.slug = 'other-conf';
             UPDATE tickets SET status = 'void' WHERE id = '{ticket}';
             UPDATE attendees SET status = 'cancelled', cancelled_at = now() WHERE id = '{other}';",
            ticket = f.ticket,
            other = f.other_attendee
        ))
        .await
        .expect("setup");
    let before = everything(&admin).await;
    let long = "X".repeat(10 * 1024);
    let cases: Vec<(String, &str)> = vec![
        ("NO-SUCH-CODE".into(), "unknown_code"),
        ("".into(), "invalid_code"),
        ("   ".into(), "invalid_code"),
        (long.clone(), "invalid_code"),
        ("ÜNICODE-✓-票".into(), "unknown_code"),
        ("BAD\u{1}CODE".into(), "invalid_code"),
        ("BAD\tCODE".into(), "invalid_code"),
        ("'; DROP TABLE tickets; --".into(), "invalid_code"),
        ("x'||pg_sleep(1)||'".into(), "unknown_code"),
        ("OTHER-0001".into(), "wrong_event"),
        ("FIX-0001".into(), "ticket_void"),
        ("FIX-0002".into(), "attendee_cancelled"),
    ];
    for (code, expected) in &cases {
        let (ok, reason, message) = scan(&admin, f.event, code, "North Gate").await;
        assert!(!ok, "{code:?} was accepted");
        assert_eq!(&reason, expected, "{code:?}: {message}");
        assert!(
            !message.is_empty() && !message.contains('\n'),
            "one sentence: {message:?}"
        );
    }
    assert_eq!(
        everything(&admin).await,
        before,
        "a refused scan changed something"
    );
    let logged: Vec<(String, i32, String)> = admin
        .query(
            "SELECT code, code_length, reason_code FROM refused_scans ORDER BY id",
            &[],
        )
        .await
        .expect("log")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(logged.len(), cases.len(), "every refused scan is logged");
    let (stored, length, _) = &logged[3];
    assert_eq!(
        (stored.len(), *length),
        (512, 10 * 1024),
        "a 10 KB scan is cut, its length kept"
    );
    assert_eq!(logged[4].0, "ÜNICODE-✓-票", "stored verbatim");
    assert_eq!(
        logged[7].0, "'; DROP TABLE tickets; --",
        "stored verbatim, never executed"
    );

    // A scanner configured for an event that does not exist is an error, not a log row.
    for code in ["FIX-0002", "NO-SUCH-CODE"] {
        let err = admin
            .query_one(
                "SELECT * FROM check_in_by_code($1, $2, 'North Gate')",
                &[&Uuid::new_v4(), &code],
            )
            .await
            .expect_err("unknown event");
        assert_eq!(refusal(&err).0, "unknown_event");
    }
}

#[tokio::test]
async fn check_out_closes_the_entry_and_a_new_scan_opens_another() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    admin
        .execute(
            "UPDATE event_checkins SET check_in_time = now() - interval '95 minutes' WHERE id = $1",
            &[&f.checkin],
        )
        .await
        .expect_err("back-dating is refused");
    let row = admin
        .query_one(
            "SELECT is_present, check_out_time IS NOT NULL, attendance_duration FROM check_out($1)",
            &[&f.attendee],
        )
        .await
        .expect("check out");
    let (present, out, minutes): (bool, bool, Option<i32>) = (row.get(0), row.get(1), row.get(2));
    assert_eq!((present, out, minutes), (false, true, Some(0)));
    let (key, _) = refusal(
        &admin
            .query_one("SELECT * FROM check_out($1)", &[&f.attendee])
            .await
            .expect_err("twice"),
    );
    assert_eq!(key, "not_checked_in");
    // Reopening a closed entry is refused; a new scan is a new entry.
    let (key, _) = refusal(
        &admin
            .execute(
                "UPDATE event_checkins SET is_present = true, check_out_time = NULL WHERE id = $1",
                &[&f.checkin],
            )
            .await
            .expect_err("reopen"),
    );
    assert_eq!(key, "checkout_final");
    admin
        .execute(
            "UPDATE tickets SET status = 'valid' WHERE id = $1",
            &[&f.ticket],
        )
        .await
        .expect("valid");
    let (ok, _, message) = scan(&admin, f.event, "FIX-0001", "East Gate").await;
    assert!(ok, "{message}");
}

#[tokio::test]
async fn raw_sql_cannot_break_the_check_in_rules() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    // A second open entry for the same person.
    let err = admin
        .execute(
            "INSERT INTO event_checkins (event_id, attendee_id, gate) VALUES ($1, $2, 'Side door')",
            &[&f.event, &f.attendee],
        )
        .await
        .expect_err("double entry");
    assert_eq!(sqlstate(&err), "23505");
    // A void ticket, an attendee of nobody's ticket, a cancelled attendee.
    admin
        .execute(
            "UPDATE tickets SET status = 'void' WHERE id = $1",
            &[&f.other_ticket],
        )
        .await
        .expect("void");
    let (key, _) = refusal(
        &admin
            .execute(
                "INSERT INTO event_checkins (event_id, attendee_id, ticket_id) VALUES ($1, $2, $3)",
                &[&f.event, &f.other_attendee, &f.other_ticket],
            )
            .await
            .expect_err("void ticket"),
    );
    assert_eq!(key, "ticket_void");
    let (key, _) = refusal(
        &admin
            .execute(
                "INSERT INTO event_checkins (event_id, attendee_id) VALUES ($1, $2)",
                &[&f.event, &f.other_attendee],
            )
            .await
            .expect_err("no valid ticket"),
    );
    assert_eq!(key, "no_valid_ticket");
}

// ---- sessions ---------------------------------------------------------------------------------------

#[tokio::test]
async fn two_hundred_registrations_race_for_a_hundred_seats() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let people = attendees_with_tickets(&admin, &f, 200).await;
    admin
        .execute(
            "DELETE FROM session_registrations WHERE session_id = $1",
            &[&f.session],
        )
        .await
        .expect("clean");
    admin
        .execute(
            "DELETE FROM event_waitlists WHERE session_id = $1",
            &[&f.session],
        )
        .await
        .expect("clean");
    admin
        .query_one("SELECT * FROM set_session_capacity($1, 100)", &[&f.session])
        .await
        .expect("capacity");
    // 40 connections, 5 attempts each, all released together.
    let barrier = Arc::new(Barrier::new(40));
    let mut workers = Vec::new();
    for chunk in people.chunks(5) {
        let client = db.client().await;
        let barrier = barrier.clone();
        let session = f.session;
        let chunk: Vec<Uuid> = chunk.iter().map(|(a, _)| *a).collect();
        workers.push(tokio::spawn(async move {
            barrier.wait().await;
            let mut won = 0;
            let mut full = 0;
            for attendee in chunk {
                match client
                    .query_one(
                        "SELECT id FROM register_session_seat($1, $2)",
                        &[&session, &attendee],
                    )
                    .await
                {
                    Ok(_) => won += 1,
                    Err(e) => {
                        let (key, message) = refusal(&e);
                        assert_eq!(key, "session_full", "{message}");
                        full += 1;
                    }
                }
            }
            (won, full)
        }));
    }
    let (mut won, mut full) = (0, 0);
    for w in workers {
        let (a, b) = w.await.expect("join");
        won += a;
        full += b;
    }
    assert_eq!((won, full), (100, 100));
    let row = admin
        .query_one(
            "SELECT current_registrations,
                    (SELECT count(*) FROM session_registrations WHERE session_id = $1 AND status = 'registered')
               FROM sessions WHERE id = $1",
            &[&f.session],
        )
        .await
        .expect("counts");
    let (counter, rows): (i32, i64) = (row.get(0), row.get(1));
    assert_eq!((counter, rows), (100, 100), "the counter is exact");
}

#[tokio::test]
async fn raw_sql_cannot_break_the_session_rules() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let (key, _) = refusal(
        &admin
            .execute(
                "UPDATE sessions SET current_registrations = 0 WHERE id = $1",
                &[&f.session],
            )
            .await
            .expect_err("counter"),
    );
    assert_eq!(key, "session_counters");
    let (key, message) = refusal(
        &admin
            .execute(
                "UPDATE sessions SET status = 'completed' WHERE id = $1",
                &[&f.session],
            )
            .await
            .expect_err("skip live"),
    );
    assert_eq!(key, "session_status", "{message}");
    admin
        .execute(
            "UPDATE sessions SET status = 'live' WHERE id = $1",
            &[&f.session],
        )
        .await
        .expect("live");
    admin
        .execute(
            "UPDATE sessions SET status = 'completed' WHERE id = $1",
            &[&f.session],
        )
        .await
        .expect("completed");
    let (key, _) = refusal(
        &admin
            .execute(
                "UPDATE sessions SET status = 'live' WHERE id = $1",
                &[&f.session],
            )
            .await
            .expect_err("back to live"),
    );
    assert_eq!(key, "session_status");
}

#[tokio::test]
async fn capacity_cannot_drop_below_registrations_or_presence() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let people = attendees_with_tickets(&admin, &f, 3).await;
    for (attendee, _) in &people {
        admin
            .query_one(
                "SELECT id FROM register_session_seat($1, $2)",
                &[&f.session, attendee],
            )
            .await
            .expect("register");
    }
    // 4 registered now (the fixture's attendee too).
    let (key, message) = refusal(
        &admin
            .query_one("SELECT * FROM set_session_capacity($1, 3)", &[&f.session])
            .await
            .expect_err("below"),
    );
    assert_eq!(key, "capacity_below_registrations", "{message}");
    assert!(message.contains("4 registered"), "{message}");
    admin
        .query_one("SELECT * FROM set_session_capacity($1, 4)", &[&f.session])
        .await
        .expect("exactly full is fine");
    let (key, _) = refusal(
        &admin
            .query_one(
                "SELECT * FROM register_session_seat($1, $2)",
                &[&f.session, &f.other_attendee],
            )
            .await
            .expect_err("full"),
    );
    assert_eq!(key, "session_full");
}

#[tokio::test]
async fn people_present_in_a_session_never_exceed_its_capacity() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let people = attendees_with_tickets(&admin, &f, 6).await;
    admin
        .query_one("SELECT * FROM set_session_capacity($1, 5)", &[&f.session])
        .await
        .expect("capacity 5");
    let barrier = Arc::new(Barrier::new(6));
    let mut doors = Vec::new();
    for (_, code) in people {
        let client = db.client().await;
        let barrier = barrier.clone();
        let (event, session) = (f.event, f.session);
        doors.push(tokio::spawn(async move {
            barrier.wait().await;
            let row = client
                .query_one(
                    "SELECT accepted, reason_code FROM check_in_by_code($1, $2, 'Room door', 'qr_code', $3)",
                    &[&event, &code, &session],
                )
                .await
                .expect("scan");
            (row.get::<_, bool>(0), row.get::<_, String>(1))
        }));
    }
    let mut admitted = 0;
    for door in doors {
        let (ok, reason) = door.await.expect("join");
        if ok {
            admitted += 1;
        } else {
            assert_eq!(reason, "session_full");
        }
    }
    assert_eq!(admitted, 5);
    let present: i32 = admin
        .query_one(
            "SELECT present_count FROM sessions WHERE id = $1",
            &[&f.session],
        )
        .await
        .expect("present")
        .get(0);
    assert_eq!(present, 5);
}

// ---- waitlist ---------------------------------------------------------------------------------------

/// A session with `seats` taken by new attendees and `waiting` more on its waitlist, in order.
async fn full_session_with_queue(
    admin: &Client,
    f: &Fixture,
    seats: usize,
    waiting: usize,
) -> (Vec<Uuid>, Vec<Uuid>) {
    let people = attendees_with_tickets(admin, f, (seats + waiting) as i64).await;
    admin
        .batch_execute(&format!(
            "DELETE FROM event_waitlists WHERE session_id = '{s}';
             DELETE FROM session_registrations WHERE session_id = '{s}';",
            s = f.session
        ))
        .await
        .expect("clean");
    admin
        .query_one(
            "SELECT * FROM set_session_capacity($1, $2)",
            &[&f.session, &(seats as i32)],
        )
        .await
        .expect("capacity");
    let mut seated = Vec::new();
    let mut queue = Vec::new();
    for (i, (attendee, _)) in people.iter().enumerate() {
        if i < seats {
            admin
                .query_one(
                    "SELECT id FROM register_session_seat($1, $2)",
                    &[&f.session, attendee],
                )
                .await
                .expect("seat");
            seated.push(*attendee);
        } else {
            let entry: Uuid = admin
                .query_one(
                    "SELECT id FROM join_waitlist($1, $2)",
                    &[attendee, &f.session],
                )
                .await
                .expect("join")
                .get(0);
            queue.push(entry);
        }
    }
    (seated, queue)
}

async fn queue_state(admin: &Client, session: Uuid) -> Vec<(Uuid, i32, String)> {
    admin
        .query(
            "SELECT id, waitlist_position, status FROM event_waitlists
              WHERE session_id = $1 AND status IN ('waiting', 'offered') ORDER BY waitlist_position",
            &[&session],
        )
        .await
        .expect("queue")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

#[tokio::test]
async fn a_freed_seat_offers_the_next_in_line_and_positions_stay_dense() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let (seated, queue) = full_session_with_queue(&admin, &f, 2, 4).await;
    let positions: Vec<i32> = queue_state(&admin, f.session)
        .await
        .iter()
        .map(|q| q.1)
        .collect();
    assert_eq!(positions, vec![1, 2, 3, 4]);

    admin
        .query_one(
            "SELECT * FROM cancel_session_seat($1, $2)",
            &[&f.session, &seated[0]],
        )
        .await
        .expect("cancel");
    let state = queue_state(&admin, f.session).await;
    assert_eq!(
        state[0],
        (queue[0], 1, "offered".to_owned()),
        "the first in line is offered"
    );
    assert_eq!(state[1].2, "waiting");
    let window_ok: bool = admin
        .query_one(
            "SELECT expires_at BETWEEN now() + interval '14 minutes' AND now() + interval '16 minutes'
               FROM event_waitlists WHERE id = $1",
            &[&queue[0]],
        )
        .await
        .expect("expiry")
        .get(0);
    assert!(
        window_ok,
        "the offer runs for the event's window (15 minutes by default)"
    );

    // The second in line leaves: the queue closes up.
    admin
        .query_one(
            "SELECT * FROM cancel_waitlist_entry($1, 'changed plans')",
            &[&queue[1]],
        )
        .await
        .expect("leave");
    let positions: Vec<i32> = queue_state(&admin, f.session)
        .await
        .iter()
        .map(|q| q.1)
        .collect();
    assert_eq!(positions, vec![1, 2, 3]);

    // Accepting takes the seat; the counter stays exact and the queue dense.
    admin
        .query_one("SELECT * FROM accept_offer($1)", &[&queue[0]])
        .await
        .expect("accept");
    let state = queue_state(&admin, f.session).await;
    assert_eq!(state.iter().map(|q| q.1).collect::<Vec<_>>(), vec![1, 2]);
    let regs: i32 = admin
        .query_one(
            "SELECT current_registrations FROM sessions WHERE id = $1",
            &[&f.session],
        )
        .await
        .expect("regs")
        .get(0);
    assert_eq!(regs, 2);

    // Raising capacity by two offers the next two.
    admin
        .query_one("SELECT * FROM set_session_capacity($1, 4)", &[&f.session])
        .await
        .expect("raise");
    let offered = queue_state(&admin, f.session)
        .await
        .iter()
        .filter(|q| q.2 == "offered")
        .count();
    assert_eq!(offered, 2);
}

#[tokio::test]
async fn an_expired_offer_cannot_convert_and_the_next_person_is_offered() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let (seated, queue) = full_session_with_queue(&admin, &f, 1, 2).await;
    admin
        .query_one(
            "SELECT * FROM cancel_session_seat($1, $2)",
            &[&f.session, &seated[0]],
        )
        .await
        .expect("free a seat");
    // Time passes: an administrator winds the offer's clock back (the rules never let it move back).
    admin
        .batch_execute(&format!(
            "SET session_replication_role = replica;
             UPDATE event_waitlists SET expires_at = now() - interval '1 minute' WHERE id = '{}';
             SET session_replication_role = origin;",
            queue[0]
        ))
        .await
        .expect("wind back");
    let before = everything(&admin).await;
    let (key, message) = refusal(
        &admin
            .query_one("SELECT * FROM accept_offer($1)", &[&queue[0]])
            .await
            .expect_err("expired"),
    );
    assert_eq!(key, "offer_expired", "{message}");
    assert_eq!(
        everything(&admin).await,
        before,
        "a refused conversion changed something"
    );
    let (key, _) = refusal(
        &admin
            .execute(
                "UPDATE event_waitlists SET status = 'converted' WHERE id = $1",
                &[&queue[0]],
            )
            .await
            .expect_err("raw conversion"),
    );
    assert_eq!(key, "offer_expired");

    let expired: i32 = admin
        .query_one("SELECT expire_offers()", &[])
        .await
        .expect("sweep")
        .get(0);
    assert_eq!(expired, 1);
    let state = queue_state(&admin, f.session).await;
    assert_eq!(
        state,
        vec![(queue[1], 1, "offered".to_owned())],
        "the next person is offered"
    );
}

#[tokio::test]
async fn outstanding_offers_never_exceed_free_places() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let (seated, queue) = full_session_with_queue(&admin, &f, 2, 3).await;
    let (key, _) = refusal(
        &admin
            .query(
                "SELECT * FROM offer_next($1, $2, 1)",
                &[&f.event, &f.session],
            )
            .await
            .expect_err("no room"),
    );
    assert_eq!(key, "no_free_place");
    let (key, _) = refusal(
        &admin
            .execute(
                "UPDATE event_waitlists SET status = 'offered' WHERE id = $1",
                &[&queue[2]],
            )
            .await
            .expect_err("raw offer"),
    );
    assert_eq!(key, "no_free_place");
    admin
        .query_one(
            "SELECT * FROM cancel_session_seat($1, $2)",
            &[&f.session, &seated[0]],
        )
        .await
        .expect("free one");
    // One place, one offer (made automatically); a direct registration cannot take the held place.
    let (key, message) = refusal(
        &admin
            .query_one(
                "SELECT * FROM register_session_seat($1, $2)",
                &[&f.session, &f.other_attendee],
            )
            .await
            .expect_err("held"),
    );
    assert_eq!(key, "session_full");
    assert!(message.contains("held for waitlist offers"), "{message}");
    let (key, _) = refusal(
        &admin
            .execute(
                "UPDATE event_waitlists SET waitlist_position = 9 WHERE id = $1",
                &[&queue[1]],
            )
            .await
            .expect_err("raw position"),
    );
    assert_eq!(key, "waitlist_position");
    let err = admin
        .query_one(
            "SELECT * FROM join_waitlist($1, $2)",
            &[&seated[1], &f.session],
        )
        .await
        .expect_err("already seated");
    assert_eq!(refusal(&err).0, "already_registered");
}

// ---- announcements ----------------------------------------------------------------------------------

#[tokio::test]
async fn twenty_dispatchers_send_each_announcement_once_and_the_outbox_is_exact() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    attendees_with_tickets(&admin, &f, 30).await;
    let mut ids = Vec::new();
    for i in 0..40 {
        let id: Uuid = admin
            .query_one(
                "SELECT id FROM create_announcement($1, $2, 'Doors open', 'normal', 'attendees', NULL, ARRAY['email', 'push'])",
                &[&f.event, &format!("Notice {i}")],
            )
            .await
            .expect("create")
            .get(0);
        admin
            .query_one("SELECT * FROM schedule_announcement($1, now())", &[&id])
            .await
            .expect("schedule");
        ids.push(id);
    }
    let barrier = Arc::new(Barrier::new(20));
    let mut dispatchers = Vec::new();
    for _ in 0..20 {
        let client = db.client().await;
        let barrier = barrier.clone();
        dispatchers.push(tokio::spawn(async move {
            barrier.wait().await;
            let mut sent = 0;
            for _ in 0..3 {
                sent += client
                    .query_one("SELECT dispatch_due_announcements(5)", &[])
                    .await
                    .expect("dispatch")
                    .get::<_, i32>(0);
            }
            sent
        }));
    }
    let mut sent = 0;
    for d in dispatchers {
        sent += d.await.expect("join");
    }
    sent += admin
        .query_one("SELECT dispatch_due_announcements(100)", &[])
        .await
        .expect("rest")
        .get::<_, i32>(0);
    assert_eq!(sent, 40, "each announcement sent exactly once");
    let row = admin
        .query_one(
            "SELECT count(*) FILTER (WHERE status = 'sent'), min(recipient_count), max(recipient_count)
               FROM event_announcements WHERE id = ANY ($1)",
            &[&ids],
        )
        .await
        .expect("states");
    let (sent_rows, min_r, max_r): (i64, Option<i32>, Option<i32>) =
        (row.get(0), row.get(1), row.get(2));
    // 32 attendees: the fixture's two and the thirty made here.
    assert_eq!((sent_rows, min_r, max_r), (40, Some(32), Some(32)));
    let row = admin
        .query_one(
            "SELECT count(*), count(DISTINCT (source_id, channel, recipient_id)) FROM outbox_messages WHERE kind = 'announcement'",
            &[],
        )
        .await
        .expect("outbox");
    let (rows, distinct): (i64, i64) = (row.get(0), row.get(1));
    assert_eq!(
        (rows, distinct),
        (40 * 32 * 2, 40 * 32 * 2),
        "one row per recipient and channel"
    );
}

#[tokio::test]
async fn announcement_rules_hold_for_raw_sql_and_the_api() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let a = f.announcement;
    let (key, _) = refusal(
        &admin
            .query_one(
                "SELECT * FROM schedule_announcement($1, now() - interval '2 hours')",
                &[&a],
            )
            .await
            .expect_err("past"),
    );
    assert_eq!(key, "schedule_in_past");
    let err = admin
        .execute(
            "UPDATE event_announcements SET status = 'scheduled' WHERE id = $1",
            &[&a],
        )
        .await
        .expect_err("no time");
    assert_eq!(sqlstate(&err), "23514", "scheduled needs scheduled_for");
    admin
        .query_one("SELECT * FROM send_announcement_now($1)", &[&a])
        .await
        .expect("send");
    let (key, message) = refusal(
        &admin
            .query_one("SELECT * FROM send_announcement_now($1)", &[&a])
            .await
            .expect_err("twice"),
    );
    assert_eq!(key, "announcement_final");
    assert!(message.starts_with("already sent at "), "{message}");
    for sql in [
        "UPDATE event_announcements SET sent_at = now() + interval '1 hour' WHERE id = $1",
        "UPDATE event_announcements SET status = 'cancelled' WHERE id = $1",
        "UPDATE event_announcements SET title = 'Edited after sending' WHERE id = $1",
    ] {
        let (key, _) = refusal(&admin.execute(sql, &[&a]).await.expect_err(sql));
        assert_eq!(key, "announcement_final", "{sql}");
    }
    let c = admin
        .query_one(
            "SELECT id FROM create_announcement($1, 'Lunch', 'Served at noon')",
            &[&f.event],
        )
        .await
        .expect("draft")
        .get::<_, Uuid>(0);
    admin
        .query_one("SELECT * FROM cancel_announcement($1)", &[&c])
        .await
        .expect("cancel");
    let (key, _) = refusal(
        &admin
            .query_one("SELECT * FROM send_announcement_now($1)", &[&c])
            .await
            .expect_err("cancelled"),
    );
    assert_eq!(key, "announcement_final");
}

// ---- expenses -------------------------------------------------------------------------------------

#[tokio::test]
async fn two_approvers_race_and_the_loser_is_told_who_won() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let submitter = db
        .member(f.event, "sam", "Sam Submitter", "coordinator")
        .await;
    let alice = db
        .member(f.event, "alice", "Alice Approver", "organizer")
        .await;
    let bob = db.member(f.event, "bob", "Bob Approver", "organizer").await;
    let expense: Uuid = submitter
        .client
        .query_one(
            "SELECT id FROM submit_expense($1, 'Stage lights', 1200.00, 'technology')",
            &[&f.event],
        )
        .await
        .expect("submit")
        .get(0);
    let created_by: Uuid = admin
        .query_one(
            "SELECT created_by FROM event_expenses WHERE id = $1",
            &[&expense],
        )
        .await
        .expect("row")
        .get(0);
    assert_eq!(
        created_by, submitter.profile,
        "the submitter is who is logged in"
    );

    // Alice holds the row; Bob's approval queues behind her and sees her decision.
    alice.client.batch_execute("BEGIN").await.expect("begin");
    alice
        .client
        .query_one("SELECT * FROM approve_expense($1)", &[&expense])
        .await
        .expect("alice approves");
    let bob_client = bob.client;
    let bob_try = tokio::spawn(async move {
        bob_client
            .query_one("SELECT * FROM approve_expense($1)", &[&expense])
            .await
            .map(|_| ())
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!bob_try.is_finished(), "Bob must wait for Alice's decision");
    alice.client.batch_execute("COMMIT").await.expect("commit");
    let err = bob_try.await.expect("join").expect_err("bob loses");
    let (key, message) = refusal(&err);
    assert_eq!(key, "expense_decided");
    assert!(
        message.starts_with("already approved by Alice Approver at "),
        "{message}"
    );

    let row = admin
        .query_one(
            "SELECT approved_by, approved_at IS NOT NULL FROM event_expenses WHERE id = $1",
            &[&expense],
        )
        .await
        .expect("row");
    assert_eq!(
        (row.get::<_, Uuid>(0), row.get::<_, bool>(1)),
        (alice.profile, true)
    );
}

#[tokio::test]
async fn four_eyes_and_the_expense_state_machine() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let sam = db
        .member(f.event, "sam", "Sam Submitter", "organizer")
        .await;
    let alice = db
        .member(f.event, "alice", "Alice Approver", "organizer")
        .await;
    let expense: Uuid = sam
        .client
        .query_one(
            "SELECT id FROM submit_expense($1, 'Catering', 450.00, 'catering', 'CAD', 'Good Food Co')",
            &[&f.event],
        )
        .await
        .expect("submit")
        .get(0);
    let before = everything(&admin).await;
    let own = sam
        .client
        .query_one("SELECT * FROM approve_expense($1)", &[&expense])
        .await
        .expect_err("own");
    let (key, message) = refusal(&own);
    assert_eq!(
        (key.as_str(), message.as_str()),
        (
            "four_eyes",
            "you submitted this expense: someone else must decide it"
        )
    );
    // The console reads it as the rule's refusal (the answer), not as a failure to ask (try again).
    let seen = eventos::db::Failure::of(&anyhow::Error::new(own).context("cannot approve"));
    assert_eq!(
        seen,
        eventos::db::Failure::Refused {
            rule: "four_eyes".into(),
            sentence: "you submitted this expense: someone else must decide it".into()
        }
    );
    let unreachable = tokio_postgres::connect(
        "host=127.0.0.1 port=1 user=nobody connect_timeout=2",
        tokio_postgres::NoTls,
    )
    .await
    .map(|_| ())
    .expect_err("nothing listens on port 1");
    let seen = eventos::db::Failure::of(&anyhow::Error::new(unreachable).context("cannot approve"));
    assert_eq!(seen.rule(), None, "{seen:?}");
    assert!(seen.notice().starts_with("FAILED"), "{seen:?}");
    // Raw SQL cannot do it either, nor name someone else as the approver.
    let (key, _) = refusal(
        &sam.client
            .execute(
                "UPDATE event_expenses SET status = 'approved', approved_by = $2, approved_at = now() WHERE id = $1",
                &[&expense, &alice.profile],
            )
            .await
            .expect_err("forged approver"),
    );
    assert_eq!(key, "four_eyes");
    let (key, _) = refusal(
        &alice
            .client
            .query_one("SELECT * FROM reject_expense($1, '   ')", &[&expense])
            .await
            .expect_err("no reason"),
    );
    assert_eq!(key, "rejection_reason");
    let (key, _) = refusal(
        &alice
            .client
            .query_one("SELECT * FROM mark_expense_paid($1)", &[&expense])
            .await
            .expect_err("not approved"),
    );
    assert_eq!(key, "expense_not_approved");
    let (key, _) = refusal(
        &alice
            .client
            .execute(
                "UPDATE event_expenses SET status = 'paid' WHERE id = $1",
                &[&expense],
            )
            .await
            .expect_err("pending to paid"),
    );
    assert_eq!(key, "expense_status");
    assert_eq!(
        everything(&admin).await,
        before,
        "refusals changed something"
    );

    // A client's approved_by is ignored: the approver is whoever is logged in.
    alice
        .client
        .execute(
            "UPDATE event_expenses SET status = 'approved', approved_by = $2 WHERE id = $1",
            &[&expense, &f.other_profile],
        )
        .await
        .expect("approve by raw SQL");
    let approver: Uuid = admin
        .query_one(
            "SELECT approved_by FROM event_expenses WHERE id = $1",
            &[&expense],
        )
        .await
        .expect("row")
        .get(0);
    assert_eq!(approver, alice.profile);
    let (key, _) = refusal(
        &alice
            .client
            .execute(
                "UPDATE event_expenses SET amount = 4500.00 WHERE id = $1",
                &[&expense],
            )
            .await
            .expect_err("inflate"),
    );
    assert_eq!(key, "expense_decided");
    let row = sam
        .client
        .query_one(
            "SELECT status, paid_by, payment_date IS NOT NULL FROM mark_expense_paid($1)",
            &[&expense],
        )
        .await
        .expect("paid");
    assert_eq!(
        (
            row.get::<_, String>(0),
            row.get::<_, Uuid>(1),
            row.get::<_, bool>(2)
        ),
        ("paid".to_owned(), sam.profile, true)
    );
    let (key, _) = refusal(
        &alice
            .client
            .execute(
                "UPDATE event_expenses SET status = 'approved' WHERE id = $1",
                &[&expense],
            )
            .await
            .expect_err("paid is final"),
    );
    assert_eq!(key, "expense_decided");
}

#[tokio::test]
async fn bad_expense_input_is_refused_in_one_sentence() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let sam = db
        .member(f.event, "sam", "Sam Submitter", "coordinator")
        .await;
    let before = everything(&admin).await;
    let cases: [(&str, rust_decimal::Decimal, &str, Option<&str>, &str); 7] = [
        (
            "Negative",
            rust_decimal::Decimal::new(-1250, 2),
            "catering",
            None,
            "expense_amount",
        ),
        (
            "Zero",
            rust_decimal::Decimal::ZERO,
            "catering",
            None,
            "expense_amount",
        ),
        (
            "Absurd",
            rust_decimal::Decimal::new(1_000_000_000_000, 2),
            "catering",
            None,
            "expense_amount",
        ),
        (
            "Fractions of a cent",
            rust_decimal::Decimal::new(12345, 3),
            "catering",
            None,
            "expense_amount",
        ),
        (
            "Bad currency",
            rust_decimal::Decimal::new(100, 0),
            "catering",
            Some("XYZ"),
            "expense_currency",
        ),
        (
            "Bad category",
            rust_decimal::Decimal::new(100, 0),
            "yachts",
            None,
            "expense_category",
        ),
        (
            "   ",
            rust_decimal::Decimal::new(100, 0),
            "catering",
            None,
            "expense_name",
        ),
    ];
    for (name, amount, category, currency, expected) in cases {
        let err = sam
            .client
            .query_one(
                "SELECT id FROM submit_expense($1, $2, $3, $4, $5)",
                &[&f.event, &name, &amount, &category, &currency],
            )
            .await
            .expect_err(name);
        let (key, message) = refusal(&err);
        assert_eq!(key, expected, "{name}: {message}");
        assert!(!message.contains('\n'), "{message}");
    }
    assert_eq!(everything(&admin).await, before);
    // Injection-shaped text is data.
    let id: Uuid = sam
        .client
        .query_one(
            "SELECT id FROM submit_expense($1, $2, 10, 'miscellaneous')",
            &[&f.event, &"Robert'); DROP TABLE event_expenses;--"],
        )
        .await
        .expect("stored")
        .get(0);
    let name: String = admin
        .query_one(
            "SELECT expense_name FROM event_expenses WHERE id = $1",
            &[&id],
        )
        .await
        .expect("row")
        .get(0);
    assert_eq!(name, "Robert'); DROP TABLE event_expenses;--");
}

#[tokio::test]
async fn set_role_does_not_change_who_is_acting() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let sam = db
        .member(f.event, "sam", "Sam Submitter", "organizer")
        .await;
    let alice = db
        .member(f.event, "alice", "Alice Approver", "organizer")
        .await;
    admin
        .batch_execute(&format!("GRANT {} TO {}", alice.role, sam.role))
        .await
        .expect("grant");
    let expense: Uuid = sam
        .client
        .query_one(
            "SELECT id FROM submit_expense($1, 'Badges', 80, 'miscellaneous')",
            &[&f.event],
        )
        .await
        .expect("submit")
        .get(0);
    // Sam becomes Alice's role and tries every knob a client has.
    sam.client
        .batch_execute(&format!(
            "SET ROLE {}; SELECT set_config('eventos.profile_id', '{}', false);",
            alice.role, alice.profile
        ))
        .await
        .expect("set role");
    let (key, _) = refusal(
        &sam.client
            .query_one("SELECT * FROM approve_expense($1)", &[&expense])
            .await
            .expect_err("still Sam"),
    );
    assert_eq!(key, "four_eyes");
}

#[tokio::test]
async fn an_operator_offers_the_next_place_and_a_volunteer_may_not() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let coordinator = db
        .member(f.event, "coord", "Cody Coordinator", "coordinator")
        .await;
    let volunteer = db
        .member(f.event, "vol", "Val Volunteer", "volunteer")
        .await;
    let refused = volunteer
        .client
        .query(
            "SELECT * FROM offer_next($1, $2, 1)",
            &[&f.event, &f.session],
        )
        .await
        .expect_err("a volunteer cannot offer");
    let (key, _) = refusal(&refused);
    assert_eq!(key, "permission_denied");
    let offered = coordinator
        .client
        .query(
            "SELECT id FROM offer_next($1, $2, 1)",
            &[&f.event, &f.session],
        )
        .await
        .expect("a coordinator offers");
    assert_eq!(offered.len(), 1);
    let status: String = admin
        .query_one(
            "SELECT status FROM event_waitlists WHERE id = $1",
            &[&f.waitlist],
        )
        .await
        .expect("entry")
        .get(0);
    assert_eq!(status, "offered");
}

#[tokio::test]
async fn only_a_draft_is_edited_and_only_by_someone_who_sends_announcements() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let marketing = db
        .member(f.event, "mkt", "Max Marketing", "marketing")
        .await;
    let volunteer = db
        .member(f.event, "vol", "Val Volunteer", "volunteer")
        .await;
    let edit = "SELECT id FROM update_announcement($1, $2, 'New text', 'high', 'attendees', NULL, ARRAY['push'])";
    let (key, _) = refusal(
        &volunteer
            .client
            .query_one(edit, &[&f.announcement, &"Edited"])
            .await
            .expect_err("a volunteer cannot edit"),
    );
    assert_eq!(key, "permission_denied");
    let (key, _) = refusal(
        &marketing
            .client
            .query_one(edit, &[&f.announcement, &"  "])
            .await
            .expect_err("a title is needed"),
    );
    assert_eq!(key, "announcement_title");
    marketing
        .client
        .query_one(edit, &[&f.announcement, &"Edited"])
        .await
        .expect("a draft is edited");
    let row = admin
        .query_one(
            "SELECT title, content, priority FROM event_announcements WHERE id = $1",
            &[&f.announcement],
        )
        .await
        .expect("row");
    assert_eq!(
        (
            row.get::<_, String>(0),
            row.get::<_, String>(1),
            row.get::<_, String>(2)
        ),
        (
            "Edited".to_owned(),
            "New text".to_owned(),
            "high".to_owned()
        )
    );
    admin
        .query_one(
            "SELECT id FROM send_announcement_now($1)",
            &[&f.announcement],
        )
        .await
        .expect("send");
    let (key, message) = refusal(
        &marketing
            .client
            .query_one(edit, &[&f.announcement, &"Too late"])
            .await
            .expect_err("sent is final"),
    );
    assert_eq!(key, "announcement_not_draft");
    assert_eq!(message, "only a draft can be edited; this one is sent");
}

/// The count the Announcements desk shows is the audience dispatch would queue: announcement_reach()
/// equals count(*) of announcement_recipients() for every audience, with and without sessions, as
/// people register, check in to a session, cancel and are deleted.
#[tokio::test]
async fn an_announcements_reach_is_its_recipients_counted() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    admin
        .batch_execute(&format!(
            "INSERT INTO attendees (event_id, first_name, email)
             SELECT '{event}', 'R' || g, 'r' || g || '@example.org' FROM generate_series(1, 12) g;
             INSERT INTO sponsors (event_id, company_name, sponsorship_tier, sponsorship_amount, status)
             VALUES ('{event}', 'Confirmed Co', 'silver', 1000, 'confirmed');
             INSERT INTO event_announcements (event_id, title, content, target_audience, target_sessions)
             SELECT '{event}', 'To ' || audience || CASE WHEN by_session THEN ' in the keynote' ELSE '' END, 'Hello',
                    audience, CASE WHEN by_session THEN ARRAY['{session}'::uuid] END
               FROM unnest(ARRAY['all', 'attendees', 'speakers', 'sponsors', 'organizers']) AS audience,
                    unnest(ARRAY[false, true]) AS by_session;",
            event = f.event,
            session = f.session
        ))
        .await
        .expect("audiences");
    let compare = "SELECT a.title, announcement_reach(a.id), (SELECT count(*) FROM announcement_recipients(a.id))
                     FROM event_announcements a WHERE a.event_id = $1 ORDER BY a.title";
    let changes = [
        "SELECT 1",
        "UPDATE attendees SET status = 'cancelled', cancelled_at = now() WHERE email = 'r1@example.org'",
        "UPDATE attendees SET deleted_at = now() WHERE email = 'r2@example.org'",
        "UPDATE session_registrations SET status = 'cancelled'",
        "UPDATE event_teams SET status = 'inactive'",
    ];
    for change in changes {
        admin.batch_execute(change).await.expect(change);
        let rows = admin
            .query(compare, &[&f.event])
            .await
            .expect("reach and recipients");
        assert_eq!(rows.len(), 11, "{change}");
        for row in rows {
            let (title, reach, counted): (String, Option<i64>, i64) =
                (row.get(0), row.get(1), row.get(2));
            assert_eq!(reach, Some(counted), "{title} after {change}");
        }
    }
}

/// Text longer than a rule allows is refused in the rule's own sentence, with its code, and nothing is
/// cut or written (V14; until then a reason was cut without a word, and an announcement's length was a
/// constraint's name). Text at the limit goes in whole.
#[tokio::test]
async fn text_too_long_is_refused_in_its_rules_sentence_and_nothing_is_cut() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let olga = db
        .member(f.event, "olga", "Olga Organizer", "organizer")
        .await;
    let before = everything(&admin).await;
    let long = |n: usize| "x".repeat(n);
    let refused = [
        (
            olga.client
                .query_one(
                    "SELECT id FROM create_announcement($1, $2, 'Hello')",
                    &[&f.event, &long(201)],
                )
                .await,
            "announcement_title",
        ),
        (
            olga.client
                .query_one(
                    "SELECT id FROM create_announcement($1, 'Hello', $2)",
                    &[&f.event, &long(10_001)],
                )
                .await,
            "announcement_content",
        ),
        (
            olga.client
                .query_one(
                    "SELECT id FROM update_announcement($1, 'Hello', $2, 'normal', 'all', NULL, ARRAY['in_app'])",
                    &[&f.announcement, &long(10_001)],
                )
                .await,
            "announcement_content",
        ),
        (
            olga.client
                .query_one(
                    "SELECT id FROM reject_expense($1, $2)",
                    &[&f.expense, &long(1001)],
                )
                .await,
            "rejection_reason",
        ),
        (
            olga.client
                .query_one(
                    "SELECT id FROM cancel_waitlist_entry($1, $2)",
                    &[&f.waitlist, &long(501)],
                )
                .await,
            "cancel_reason",
        ),
    ];
    for (result, rule) in refused {
        let error = result.expect_err(rule);
        let (code, sentence) = refusal(&error);
        assert_eq!(code, rule, "{sentence}");
        assert!(sentence.contains("at most"), "{sentence}");
    }
    assert_eq!(everything(&admin).await, before, "nothing was written");

    // At the limit, whole.
    let stored: (String, String) = {
        let row = olga
            .client
            .query_one(
                "SELECT title, content FROM create_announcement($1, $2, $3)",
                &[&f.event, &long(200), &long(10_000)],
            )
            .await
            .expect("at the limits");
        (row.get(0), row.get(1))
    };
    assert_eq!((stored.0.len(), stored.1.len()), (200, 10_000));
    let reason: String = olga
        .client
        .query_one(
            "SELECT rejection_reason FROM reject_expense($1, $2)",
            &[&f.expense, &long(1000)],
        )
        .await
        .expect("a reason at the limit")
        .get(0);
    assert_eq!(reason.len(), 1000);
    let reason: String = olga
        .client
        .query_one(
            "SELECT cancel_reason FROM cancel_waitlist_entry($1, $2)",
            &[&f.waitlist, &long(500)],
        )
        .await
        .expect("a reason at the limit")
        .get(0);
    assert_eq!(reason.len(), 500);
}

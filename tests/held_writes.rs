//! A write transaction held open anywhere on the server delays no other check-in ("Realtime at any
//! size", deliver 2): not one in another database, not one in this database on other tables, not one
//! that wrote an audited row (a manual check-in, a check-out, an expense decision) and not one that
//! chained its audit entries early and then sat. Meanwhile the doors go on: a scan, a manual scan, a
//! check-in at the desk, a check-out and a refused scan, each on a gate's connection of its own, each
//! answered within a few seconds and never seen waiting on a lock. The audit trail they write stays one
//! verifiable chain (`eventos audit verify`), with every audited act in it once.

mod common;

use std::time::{Duration, Instant};

use common::{Fixture, Operator, TestDb, fixture};
use tokio_postgres::Client;
use uuid::Uuid;

/// How long a check-in may take while a transaction is held open: generous, so that a slow machine
/// does not fail the test; a check-in held behind the open transaction never ends at all.
const LIMIT: Duration = Duration::from_secs(5);

/// An event with people at the doors: `present` are inside (scanned in, unaudited), `outside` are not.
struct Doors {
    db: TestDb,
    admin: Client,
    f: Fixture,
    /// A volunteer: the gates' login.
    gate: Operator,
    organizer: Operator,
    present: Vec<Uuid>,
    outside: Vec<(Uuid, String)>,
}

async fn doors() -> Doors {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let rows = admin
        .query(
            "WITH people AS (
               INSERT INTO attendees (event_id, first_name, last_name, email)
               SELECT $1, 'Guest', lpad(n::text, 3, '0'), 'guest' || n || '@example.org' FROM generate_series(1, 24) n
               RETURNING id, last_name)
             INSERT INTO tickets (event_id, attendee_id, ticket_type_id, code)
             SELECT $1, id, $2, 'HW-' || last_name FROM people
             RETURNING attendee_id, code",
            &[&f.event, &f.ticket_type],
        )
        .await
        .expect("people and their tickets");
    let mut people: Vec<(Uuid, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    people.sort_by(|a, b| a.1.cmp(&b.1));
    let outside = people.split_off(8);
    // The first eight came in through a gate (scans are not audited).
    for (attendee, code) in &people {
        admin
            .execute(
                "INSERT INTO event_checkins (event_id, attendee_id, ticket_id, gate, check_in_method)
                 SELECT event_id, attendee_id, id, 'North Gate', 'qr_code' FROM tickets WHERE code = $1",
                &[code],
            )
            .await
            .unwrap_or_else(|e| panic!("{attendee} in: {e}"));
    }
    admin
        .batch_execute("ANALYZE")
        .await
        .expect("statistics for what was loaded");
    let gate = db.member(f.event, "gate", "Gil Gate", "volunteer").await;
    let organizer = db
        .member(f.event, "org", "Olga Organizer", "organizer")
        .await;
    Doors {
        present: people.into_iter().map(|(a, _)| a).collect(),
        db,
        admin,
        f,
        gate,
        organizer,
        outside,
    }
}

/// What a gate's connection saw while its statement ran: each time it was found waiting on a lock, the
/// lock and who held it.
async fn lock_waits(observer: &Client, pid: i32) -> Option<String> {
    observer
        .query_opt(
            "SELECT a.wait_event_type || '/' || a.wait_event
                    || ' (its locks: ' || coalesce((SELECT string_agg(l.locktype
                                                     || coalesce(' on ' || l.relation::regclass::text, '')
                                                     || CASE WHEN l.granted THEN ' held' ELSE ' awaited' END, ', ')
                                              FROM pg_locks l
                                             WHERE l.pid = a.pid AND (NOT l.granted OR l.locktype = 'tuple')), '-')
                    || '; blocked by: ' || coalesce((SELECT string_agg(b.usename || ' running \"' || left(b.query, 120)
                                                                     || '\" in state ' || b.state, '; ')
                                                      FROM pg_stat_activity b
                                                     WHERE b.pid = ANY (pg_blocking_pids(a.pid))), '-') || ')'
               FROM pg_stat_activity a
              WHERE a.pid = $1 AND a.wait_event_type = 'Lock'",
            &[&pid],
        )
        .await
        .expect("pg_stat_activity")
        .map(|r| r.get(0))
}

/// Runs `sql` (one row, one text column) as `role` on a connection of its own, watched from
/// `observer` every 20 ms: its answer, or what held it (a lock it was seen waiting on, or the time
/// limit).
async fn at_the_door(
    db: &TestDb,
    role: &str,
    observer: &Client,
    sql: String,
) -> Result<String, String> {
    let client = db.connect_as(role).await;
    client
        .batch_execute(&format!(
            "SET statement_timeout = '{}ms'",
            LIMIT.as_millis()
        ))
        .await
        .expect("a time limit");
    let pid: i32 = client
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .expect("pid")
        .get(0);
    let started = Instant::now();
    let statement = sql.clone();
    let running = tokio::spawn(async move {
        client
            .query_one(&statement, &[])
            .await
            .map(|r| r.get::<_, String>(0))
            .map_err(|e| {
                e.as_db_error()
                    .map_or_else(|| e.to_string(), |d| d.message().to_owned())
            })
    });
    let mut seen = Vec::new();
    while !running.is_finished() && started.elapsed() < LIMIT + Duration::from_secs(2) {
        if let Some(wait) = lock_waits(observer, pid).await
            && !seen.contains(&wait)
        {
            seen.push(wait);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = started.elapsed();
    if !running.is_finished() {
        running.abort();
        return Err(format!(
            "no answer after {took:?}; seen waiting on {seen:?}"
        ));
    }
    let answer = running.await.expect("the statement's task");
    match (answer, seen.is_empty()) {
        (Ok(answer), true) => Ok(answer),
        (Ok(answer), false) => Err(format!(
            "answered \"{answer}\" after {took:?}, but waited on a lock first: {seen:?}"
        )),
        (Err(error), _) => Err(format!(
            "failed after {took:?} ({error}); seen waiting on {seen:?}"
        )),
    }
}

/// The other check-ins while something is held open: a scan, a manual scan, a check-in at the desk, a
/// check-out and a refused scan, each as a gate on a connection of its own. Returns one line per
/// check-in that was held up (empty when none was). People `outside[0..3]` come in, `present[0]` leaves.
async fn the_doors_go_on(d: &Doors) -> Vec<String> {
    let event = d.f.event;
    let (_, scanned_code) = &d.outside[0];
    let (_, typed_code) = &d.outside[1];
    let (desk, _) = &d.outside[2];
    let leaving = d.present[0];
    let checks: [(&str, String, &str); 5] = [
        (
            "a scan",
            format!(
                "SELECT accepted || ' ' || message FROM check_in_by_code('{event}', '{scanned_code}', 'North Gate')"
            ),
            "true",
        ),
        (
            "a manual scan (audited)",
            format!(
                "SELECT accepted || ' ' || message FROM check_in_by_code('{event}', '{typed_code}', 'Help desk', 'manual')"
            ),
            "true",
        ),
        (
            "a check-in at the desk (audited)",
            format!(
                "SELECT accepted || ' ' || message FROM check_in_attendee('{desk}', 'Help desk')"
            ),
            "true",
        ),
        (
            "a check-out (audited)",
            format!("SELECT 'out ' || (NOT is_present) FROM check_out('{leaving}')"),
            "out true",
        ),
        (
            "a refused scan",
            format!(
                "SELECT accepted || ' ' || reason_code FROM check_in_by_code('{event}', 'NO-SUCH-TICKET', 'South Gate')"
            ),
            "false unknown_code",
        ),
    ];
    let mut held = Vec::new();
    for (what, sql, expected) in checks {
        match at_the_door(&d.db, &d.gate.role, &d.admin, sql).await {
            Ok(answer) if answer.starts_with(expected) => {}
            Ok(answer) => held.push(format!("{what}: answered \"{answer}\"")),
            Err(why) => held.push(format!("{what}: {why}")),
        }
    }
    held
}

/// After the doors went on: a flush announces them with the holder still open, and the screen's
/// totals count them (the fixture's entry, the eight inside, three in, one out).
async fn assert_on_screen(d: &Doors) {
    d.admin
        .query_one("SELECT realtime_flush()", &[])
        .await
        .expect("flush");
    let present: i64 = d
        .admin
        .query_one("SELECT present FROM checkin_summary($1)", &[&d.f.event])
        .await
        .expect("summary")
        .get(0);
    assert_eq!(
        present,
        1 + 8 + 3 - 1,
        "the screen counts every committed check-in"
    );
}

/// Which attendees have audited check-in entries (manual check-ins and check-outs), as audit entries
/// say, in chain order.
async fn audited_check_ins(admin: &Client) -> Vec<(String, Uuid)> {
    admin
        .query(
            "SELECT action, (new_row ->> 'attendee_id')::uuid FROM audit_log
              WHERE table_name = 'event_checkins' ORDER BY id",
            &[],
        )
        .await
        .expect("audit entries")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

/// The audit trail is one unbroken chain, inside the database and as `eventos audit verify` recomputes
/// it outside.
async fn assert_chain_intact(d: &Doors) {
    let broken: Option<i64> = d
        .admin
        .query_one("SELECT audit_first_broken_link()", &[])
        .await
        .expect("audit check")
        .get(0);
    assert_eq!(broken, None, "the chain breaks");
    let output = common::eventos(&["audit", "verify", "--database-url", &d.db.url])
        .output()
        .expect("eventos audit verify");
    assert!(
        output.status.success(),
        "eventos audit verify: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Audit entries waiting for the chain's head.
async fn waiting(admin: &Client) -> i64 {
    admin
        .query_one("SELECT count(*) FROM audit_pending", &[])
        .await
        .expect("audit_pending")
        .get(0)
}

/// Runs `sql` on `holder` (a transaction that writes something and is left open), then sends the doors
/// through: none may be held up, and the screen counts them while `holder` is still open.
async fn while_held(d: &Doors, holder: &Client, what: &str, sql: &str) {
    holder
        .batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{what}, not committed: {e}"));
    let held = the_doors_go_on(d).await;
    assert!(
        held.is_empty(),
        "while {what} was held open, check-ins were held up:\n  {}",
        held.join("\n  ")
    );
    assert_on_screen(d).await;
}

#[tokio::test]
async fn a_superusers_manual_check_in_held_open_holds_no_other_check_in_back() {
    let d = doors().await;
    let holder = d.db.client().await;
    let (someone, code) = &d.outside[7];
    let entry = format!(
        "BEGIN;
         INSERT INTO event_checkins (event_id, attendee_id, ticket_id, gate, check_in_method)
         SELECT event_id, attendee_id, id, 'Side door', 'manual' FROM tickets WHERE code = '{code}'"
    );
    while_held(&d, &holder, "a superuser's manual check-in", &entry).await;
    holder.batch_execute("COMMIT").await.expect("commit");
    let audited = audited_check_ins(&d.admin).await;
    assert!(
        audited
            .iter()
            .any(|(action, who)| action == "event_checkins.manual_check_in" && who == someone),
        "the held entry is audited once it commits: {audited:?}"
    );
    assert_chain_intact(&d).await;
}

#[tokio::test]
async fn an_operators_manual_scan_held_open_holds_no_other_check_in_back() {
    let d = doors().await;
    let holder = d.db.connect_as(&d.organizer.role).await;
    let (_, code) = &d.outside[7];
    while_held(
        &d,
        &holder,
        "an operator's manual scan",
        &format!(
            "BEGIN; SELECT * FROM check_in_by_code('{}', '{code}', 'Side door', 'manual')",
            d.f.event
        ),
    )
    .await;
    holder.batch_execute("ROLLBACK").await.expect("rollback");
    assert_eq!(
        audited_check_ins(&d.admin).await.len(),
        3,
        "the doors' three audited acts, not the rolled-back one"
    );
    assert_chain_intact(&d).await;
}

#[tokio::test]
async fn an_expense_decision_held_open_holds_no_check_in_back() {
    let d = doors().await;
    let holder = d.db.connect_as(&d.organizer.role).await;
    while_held(
        &d,
        &holder,
        "an expense decision",
        &format!("BEGIN; SELECT * FROM approve_expense('{}')", d.f.expense),
    )
    .await;
    holder.batch_execute("COMMIT").await.expect("commit");
    assert_chain_intact(&d).await;
}

/// An audited write held open in another database of the same server.
#[tokio::test]
async fn an_audited_write_held_open_in_another_database_holds_no_check_in_back() {
    let d = doors().await;
    let elsewhere = TestDb::migrated().await;
    let other = elsewhere.client().await;
    let g = fixture(&other).await;
    let expense = format!(
        "BEGIN;
         INSERT INTO event_expenses (event_id, created_by, expense_name, expense_category, amount, currency)
         VALUES ('{}', '{}', 'Held', 'catering', 10, 'CAD')",
        g.event, g.profile
    );
    while_held(&d, &other, "an audited write in another database", &expense).await;
    other.batch_execute("ROLLBACK").await.expect("rollback");
}

/// The audit trail is chained when a transaction commits. `SET CONSTRAINTS ALL IMMEDIATE` (anyone may
/// run it) chains an operator's entries at once instead, so the operator then holds the chain's head
/// for as long as the transaction stays open. The doors still go on: their entries wait, committed, and
/// are chained once the head is free, in one unbroken chain.
#[tokio::test]
async fn an_operator_who_chains_early_and_sits_holds_no_check_in_back() {
    let d = doors().await;
    let holder = d.db.connect_as(&d.gate.role).await;
    let sitter = d.present[7];
    while_held(
        &d,
        &holder,
        "an early-chained check-out",
        &format!("BEGIN; SELECT * FROM check_out('{sitter}'); SET CONSTRAINTS ALL IMMEDIATE"),
    )
    .await;
    assert_eq!(
        waiting(&d.admin).await,
        3,
        "the doors' audited entries wait, committed, while the head is held"
    );
    holder.batch_execute("COMMIT").await.expect("commit");
    assert_eq!(waiting(&d.admin).await, 3, "nothing chained them yet");
    // The worker's sweep chains what waited.
    d.admin
        .query_one("SELECT worker_heartbeat()", &[])
        .await
        .expect("the worker's sweep");
    assert_eq!(waiting(&d.admin).await, 0, "the sweep chained them");
    let audited = audited_check_ins(&d.admin).await;
    let mut who: Vec<Uuid> = audited.iter().map(|(_, who)| *who).collect();
    who.sort();
    let mut expected = vec![sitter, d.present[0], d.outside[1].0, d.outside[2].0];
    expected.sort();
    assert_eq!(who, expected, "each audited act once: {audited:?}");
    assert_chain_intact(&d).await;
}

/// Many audited check-ins and check-outs committing at once still make one chain with every entry in
/// it once (each commit takes the head for its own commit only).
#[tokio::test]
async fn concurrent_audited_check_ins_make_one_unbroken_chain() {
    let d = doors().await;
    // Everyone outside comes in at the desk, everyone inside goes out, all at once.
    let acts = d
        .outside
        .iter()
        .map(|(attendee, _)| {
            (
                "SELECT accepted FROM check_in_attendee($1, 'Help desk')",
                *attendee,
            )
        })
        .chain(
            d.present
                .iter()
                .map(|attendee| ("SELECT NOT is_present FROM check_out($1)", *attendee)),
        );
    let mut tasks = Vec::new();
    for (sql, attendee) in acts {
        let client = d.db.connect_as(&d.gate.role).await;
        tasks.push(tokio::spawn(async move {
            client
                .query_one(sql, &[&attendee])
                .await
                .map(|r| r.get::<_, bool>(0))
        }));
    }
    for task in tasks {
        assert!(task.await.expect("task").expect("an audited act"));
    }
    // Entries that found the head busy past its patience wait for the next chaining: the worker's.
    d.admin
        .query_one("SELECT worker_heartbeat()", &[])
        .await
        .expect("the worker's sweep");
    assert_eq!(waiting(&d.admin).await, 0, "the sweep chained what waited");
    let audited = audited_check_ins(&d.admin).await;
    assert_eq!(
        audited.len(),
        d.outside.len() + d.present.len(),
        "every audited act once: {audited:?}"
    );
    assert_chain_intact(&d).await;
}

/// A transaction whose snapshot is older than its statements (REPEATABLE READ) does not take the head:
/// its entry waits, and the next audited commit chains it before its own.
#[tokio::test]
async fn an_entry_that_waited_is_chained_by_the_next_audited_commit_before_its_own() {
    let d = doors().await;
    let organizer = &d.organizer.client;
    organizer
        .batch_execute(&format!(
            "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT * FROM approve_expense('{}'); COMMIT",
            d.f.expense
        ))
        .await
        .expect("an approval in a repeatable read transaction");
    assert_eq!(waiting(&d.admin).await, 1, "the approval's entry waits");
    let leaving = d.present[0];
    d.gate
        .client
        .query_one("SELECT * FROM check_out($1)", &[&leaving])
        .await
        .expect("a check-out");
    assert_eq!(
        waiting(&d.admin).await,
        0,
        "the check-out's commit chained it"
    );
    let trail: Vec<(String, Option<Uuid>)> = d
        .admin
        .query(
            "SELECT action, actor_id FROM audit_log WHERE action IN ('event_expenses.approved', 'event_checkins.check_out')
              ORDER BY id",
            &[],
        )
        .await
        .expect("audit entries")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        trail,
        vec![
            (
                "event_expenses.approved".to_owned(),
                Some(d.organizer.profile)
            ),
            ("event_checkins.check_out".to_owned(), Some(d.gate.profile)),
        ],
        "the waiting entry first, each in its actor's name"
    );
    assert_chain_intact(&d).await;
}

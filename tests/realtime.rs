//! Realtime hints: the desks' tables NOTIFY with identifiers only; the check-in hot path does not
//! NOTIFY at all and is announced in batches by realtime_flush().

mod common;

use std::time::Duration;

use common::{TestDb, fixture};
use serde_json::Value;
use tokio_postgres::Notification;

async fn listener(db: &TestDb) -> (tokio_postgres::Client, eventos::db::Notifications) {
    let (client, notifications) = eventos::db::connect_listening(&db.settings())
        .await
        .expect("listener");
    client
        .batch_execute("LISTEN eventos_changes")
        .await
        .expect("listen");
    (client, notifications)
}

/// Flushes until every row written so far is announced. Transactions running elsewhere on the server
/// (other tests' databases) no longer hold anything back, so one flush normally does it.
async fn flush_everything(client: &tokio_postgres::Client) -> i32 {
    let mut sent = 0;
    for _ in 0..100 {
        sent += client
            .query_one("SELECT realtime_flush()", &[])
            .await
            .expect("flush")
            .get::<_, i32>(0);
        if common::unannounced(client).await == 0 {
            return sent;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("check-ins were still unannounced after 5 s");
}

/// Everything that arrives within `wait`, parsed.
async fn drain(notifications: &mut eventos::db::Notifications, wait: Duration) -> Vec<Value> {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    while let Ok(Some(n)) = tokio::time::timeout_at(deadline, notifications.recv()).await {
        out.push(parse(&n));
    }
    out
}

fn parse(n: &Notification) -> Value {
    assert_eq!(n.channel(), "eventos_changes");
    assert!(
        n.payload().len() < 400,
        "payload too large: {}",
        n.payload()
    );
    serde_json::from_str(n.payload()).expect("payload is JSON")
}

/// The keys a hint may carry: identifiers and counts, nothing personal.
fn assert_identifiers_only(hint: &Value) {
    let allowed = [
        "v", "table", "op", "id", "event_id", "count", "from_xid", "to_xid", "late",
    ];
    let object = hint.as_object().expect("object");
    for key in object.keys() {
        assert!(
            allowed.contains(&key.as_str()),
            "unexpected key {key} in {hint}"
        );
    }
    // Batches are version 2 (V9: late transactions); row and bulk hints version 1.
    let version = if object.get("op") == Some(&Value::from("BATCH")) {
        2
    } else {
        1
    };
    assert_eq!(object.get("v"), Some(&Value::from(version)), "{hint}");
}

#[tokio::test]
async fn a_desk_row_change_sends_one_hint_with_identifiers_only() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let f = fixture(&client).await;
    let (_listen, mut notifications) = listener(&db).await;

    client
        .execute(
            "UPDATE event_expenses SET vendor_name = 'Café Ada <ada@example.org>' WHERE id = $1",
            &[&f.expense],
        )
        .await
        .expect("update");
    let hints = drain(&mut notifications, Duration::from_millis(500)).await;
    assert_eq!(hints.len(), 1, "{hints:?}");
    let hint = &hints[0];
    assert_identifiers_only(hint);
    assert_eq!(hint["table"], "event_expenses");
    assert_eq!(hint["op"], "UPDATE");
    assert_eq!(hint["id"], f.expense.to_string());
    assert_eq!(hint["event_id"], f.event.to_string());
    assert!(
        !hint.to_string().contains("ada@"),
        "personal data in {hint}"
    );
}

#[tokio::test]
async fn a_large_statement_sends_one_bulk_hint_per_event() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let f = fixture(&client).await;
    let (_listen, mut notifications) = listener(&db).await;
    client
        .execute(
            "INSERT INTO attendees (event_id, first_name, email)
             SELECT $1, 'Guest ' || g, 'guest' || g || '@example.org' FROM generate_series(1, 500) g",
            &[&f.event],
        )
        .await
        .expect("bulk insert");
    let hints = drain(&mut notifications, Duration::from_millis(500)).await;
    assert_eq!(hints.len(), 1, "{hints:?}");
    assert_identifiers_only(&hints[0]);
    assert_eq!(hints[0]["table"], "attendees");
    assert_eq!(hints[0]["count"], 500);
    assert!(hints[0].get("id").is_none());
}

#[tokio::test]
async fn check_ins_do_not_notify_and_are_announced_once_in_a_batch() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let f = fixture(&client).await;
    // Start from a flushed state so only this test's writes are counted.
    flush_everything(&client).await;
    let (_listen, mut notifications) = listener(&db).await;

    client
        .execute(
            "UPDATE event_checkins SET is_present = false, check_out_time = now() WHERE id = $1",
            &[&f.checkin],
        )
        .await
        .expect("check out");
    client
        .execute(
            "INSERT INTO event_checkins (event_id, attendee_id, gate) VALUES ($1, $2, 'South Gate')",
            &[&f.event, &f.other_attendee],
        )
        .await
        .expect("check in");
    client
        .execute(
            "INSERT INTO refused_scans (event_id, code, code_length, gate, reason_code, reason)
             VALUES ($1, 'NOPE', 4, 'South Gate', 'unknown_code', 'unknown ticket code')",
            &[&f.event],
        )
        .await
        .expect("refused scan");
    let silent = drain(&mut notifications, Duration::from_millis(300)).await;
    assert!(silent.is_empty(), "the hot path notified: {silent:?}");

    let sent = flush_everything(&client).await;
    let hints = drain(&mut notifications, Duration::from_millis(500)).await;
    assert_eq!(hints.len() as i32, sent, "{hints:?}");
    let mut announced = std::collections::HashMap::new();
    for hint in &hints {
        assert_identifiers_only(hint);
        assert_eq!(hint["op"], "BATCH");
        assert_eq!(hint["event_id"], f.event.to_string());
        let table = hint["table"].as_str().expect("table").to_owned();
        // The range in the hint finds exactly the rows it counts.
        let from = hint["from_xid"].as_str().expect("from").to_owned();
        let to = hint["to_xid"].as_str().expect("to").to_owned();
        let late: Vec<String> = hint["late"]
            .as_array()
            .expect("late")
            .iter()
            .map(|x| x.as_str().expect("xid").to_owned())
            .collect();
        let rows: i64 = client
            .query_one(
                &format!(
                    "SELECT count(*) FROM {table}
                      WHERE event_id = $1
                        AND ((change_xid >= $2::text::xid8 AND change_xid < $3::text::xid8)
                             OR change_xid = ANY ($4::text[]::xid8[]))"
                ),
                &[&f.event, &from, &to, &late],
            )
            .await
            .expect("range")
            .get(0);
        assert_eq!(Some(rows), hint["count"].as_i64(), "{hint}");
        *announced.entry(table).or_insert(0) += rows;
    }
    assert_eq!(
        announced.get("event_checkins"),
        Some(&2),
        "the check-out and the check-in"
    );
    assert_eq!(announced.get("refused_scans"), Some(&1));

    let again: i32 = client
        .query_one("SELECT realtime_flush()", &[])
        .await
        .expect("flush")
        .get(0);
    assert_eq!(again, 0, "nothing is announced twice");
}

#[tokio::test]
async fn an_unfinished_transaction_holds_the_batch_back_until_it_ends() {
    let db = TestDb::migrated().await;
    let writer = db.client().await;
    let flusher = db.client().await;
    let f = fixture(&writer).await;
    flush_everything(&flusher).await;

    writer.batch_execute("BEGIN").await.expect("begin");
    writer
        .execute(
            "INSERT INTO event_checkins (event_id, attendee_id, gate) VALUES ($1, $2, 'East Gate')",
            &[&f.event, &f.other_attendee],
        )
        .await
        .expect("check in");
    let early: i32 = flusher
        .query_one("SELECT realtime_flush()", &[])
        .await
        .expect("flush")
        .get(0);
    assert_eq!(early, 0, "an uncommitted check-in was announced");
    writer.batch_execute("COMMIT").await.expect("commit");
    let later = flush_everything(&flusher).await;
    assert_eq!(later, 1, "the committed check-in was missed");
}

#[tokio::test]
async fn a_session_door_scan_does_not_notify_but_a_session_change_does() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let f = fixture(&client).await;
    client
        .execute(
            "UPDATE sessions SET status = 'live' WHERE id = $1",
            &[&f.session],
        )
        .await
        .expect("open the session");
    let (_listen, mut notifications) = listener(&db).await;

    client
        .execute(
            "INSERT INTO event_checkins (event_id, attendee_id, ticket_id, session_id, gate)
             VALUES ($1, $2, $3, $4, 'Hall A door')",
            &[&f.event, &f.attendee, &f.ticket, &f.session],
        )
        .await
        .expect("session check-in");
    let present: i32 = client
        .query_one(
            "SELECT present_count FROM sessions WHERE id = $1",
            &[&f.session],
        )
        .await
        .expect("presence")
        .get(0);
    assert_eq!(present, 1, "the counter moved");
    let silent = drain(&mut notifications, Duration::from_millis(300)).await;
    assert!(silent.is_empty(), "a session scan notified: {silent:?}");

    client
        .execute(
            "UPDATE sessions SET title = 'Opening keynote (moved)' WHERE id = $1",
            &[&f.session],
        )
        .await
        .expect("edit");
    let hints = drain(&mut notifications, Duration::from_millis(500)).await;
    assert_eq!(hints.len(), 1, "{hints:?}");
    assert_eq!(hints[0]["table"], "sessions");
    assert_eq!(hints[0]["id"], f.session.to_string());
}

/// A transaction that has taken a transaction id and stays open, on a connection of its own.
async fn open_transaction(client: &tokio_postgres::Client, sql: &str) {
    client
        .batch_execute(&format!("BEGIN; {sql}; SELECT pg_current_xact_id()"))
        .await
        .expect("an open transaction");
}

#[tokio::test]
async fn a_transaction_held_open_in_another_database_holds_no_check_in_back() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let f = fixture(&client).await;
    flush_everything(&client).await;
    let (_listen, mut notifications) = listener(&db).await;
    // Another application on the same server, mid-import.
    let elsewhere = common::server_client().await;
    open_transaction(&elsewhere, "CREATE TEMP TABLE import_in_progress (n int)").await;
    // And in this database, a long write to another table.
    let here = db.client().await;
    open_transaction(&here, "UPDATE sponsors SET company_name = company_name").await;

    client
        .execute(
            "INSERT INTO event_checkins (event_id, attendee_id, gate) VALUES ($1, $2, 'South Gate')",
            &[&f.event, &f.other_attendee],
        )
        .await
        .expect("check in");
    let sent: i32 = client
        .query_one("SELECT realtime_flush()", &[])
        .await
        .expect("flush")
        .get(0);
    assert_eq!(sent, 1, "one flush announces it, open transactions or not");
    let hints = drain(&mut notifications, Duration::from_millis(300)).await;
    assert_eq!(hints.len(), 1, "{hints:?}");
    assert_eq!(hints[0]["table"], "event_checkins");
    let present: i64 = client
        .query_one("SELECT present FROM checkin_summary($1)", &[&f.event])
        .await
        .expect("summary")
        .get(0);
    assert_eq!(
        present, 2,
        "the fixture's entry and the new one, counted at once"
    );
    elsewhere.batch_execute("ROLLBACK").await.expect("rollback");
    here.batch_execute("ROLLBACK").await.expect("rollback");
}

#[tokio::test]
async fn a_check_in_whose_transaction_stays_open_is_announced_once_when_it_commits() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let writer = db.client().await;
    let f = fixture(&client).await;
    flush_everything(&client).await;
    let (_listen, mut notifications) = listener(&db).await;

    open_transaction(&writer, "SELECT 1").await;
    writer
        .execute(
            "INSERT INTO event_checkins (event_id, attendee_id, gate) VALUES ($1, $2, 'East Gate')",
            &[&f.event, &f.other_attendee],
        )
        .await
        .expect("check in, not committed");
    // Meanwhile, other scans go through and are announced at once.
    client
        .execute(
            "INSERT INTO refused_scans (event_id, code, code_length, gate, reason_code, reason)
             VALUES ($1, 'NOPE', 4, 'South Gate', 'unknown_code', 'unknown ticket code')",
            &[&f.event],
        )
        .await
        .expect("refused scan");
    // A watermark with nothing new moves once a second (to say it is watched): then the open
    // transaction is remembered as pending rather than just left inside the range.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let first: i32 = client
        .query_one("SELECT realtime_flush()", &[])
        .await
        .expect("flush")
        .get(0);
    assert_eq!(first, 1, "the refused scan, not the open check-in");
    let late: i64 = client
        .query_one(
            "SELECT cardinality(pending)::bigint FROM realtime_watermarks WHERE stream = 'event_checkins'",
            &[],
        )
        .await
        .expect("pending")
        .get(0);
    assert!(late >= 1, "the open transaction is remembered");
    let before: i64 = client
        .query_one("SELECT present FROM checkin_summary($1)", &[&f.event])
        .await
        .expect("summary")
        .get(0);
    assert_eq!(before, 1, "only the fixture's entry so far");

    writer.batch_execute("COMMIT").await.expect("commit");
    let sent = flush_everything(&client).await;
    assert_eq!(sent, 1, "announced when it commits");
    let hints = drain(&mut notifications, Duration::from_millis(300)).await;
    let checkin_hints: Vec<&Value> = hints
        .iter()
        .filter(|h| h["table"] == "event_checkins")
        .collect();
    assert_eq!(checkin_hints.len(), 1, "{hints:?}");
    assert!(
        !checkin_hints[0]["late"]
            .as_array()
            .expect("late")
            .is_empty(),
        "it comes as late: {}",
        checkin_hints[0]
    );
    let after: i64 = client
        .query_one("SELECT present FROM checkin_summary($1)", &[&f.event])
        .await
        .expect("summary")
        .get(0);
    assert_eq!(after, 2, "counted once");
    let again: i32 = client
        .query_one("SELECT realtime_flush()", &[])
        .await
        .expect("flush")
        .get(0);
    assert_eq!(again, 0, "and never again");
}

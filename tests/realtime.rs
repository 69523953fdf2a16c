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

/// Flushes until every row written so far is announced. The horizon is the oldest transaction still
/// running anywhere on the server, so a test running beside this one can hold it back for a moment.
async fn flush_everything(client: &tokio_postgres::Client) -> i32 {
    let mut sent = 0;
    for _ in 0..100 {
        sent += client
            .query_one("SELECT realtime_flush()", &[])
            .await
            .expect("flush")
            .get::<_, i32>(0);
        let done: bool = client
            .query_one(
                "SELECT (SELECT min(flushed_below) FROM realtime_watermarks) >
                        greatest((SELECT max(change_xid) FROM event_checkins),
                                 (SELECT max(change_xid) FROM refused_scans), '0'::xid8)",
                &[],
            )
            .await
            .expect("watermark")
            .get(0);
        if done {
            return sent;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the realtime watermark did not catch up within 5 s");
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
        "v", "table", "op", "id", "event_id", "count", "from_xid", "to_xid",
    ];
    let object = hint.as_object().expect("object");
    for key in object.keys() {
        assert!(
            allowed.contains(&key.as_str()),
            "unexpected key {key} in {hint}"
        );
    }
    assert_eq!(object.get("v"), Some(&Value::from(1)));
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
        let rows: i64 = client
            .query_one(
                &format!(
                    "SELECT count(*) FROM {table}
                      WHERE event_id = $1 AND change_xid >= $2::text::xid8 AND change_xid < $3::text::xid8"
                ),
                &[&f.event, &from, &to],
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

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
        "v", "table", "op", "id", "event_id", "count", "from_xid", "to_xid", "late", "batch",
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

/// The flusher's view of a batch (V11) is what the console reads for the batch's range under its own
/// row security: the same entries (a check-out included), refused scans, sessions and totals. Anyone
/// outside the event's team gets no view and so reads under their own row security.
#[tokio::test]
async fn a_batch_view_is_what_the_console_reads_for_the_range() {
    use eventos::desks::checkins::store as checkins;

    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    admin
        .execute(
            "UPDATE sessions SET status = 'live' WHERE id = $1",
            &[&f.session],
        )
        .await
        .expect("open the session");
    flush_everything(&admin).await;
    let door = db.member(f.event, "door", "Door Keeper", "volunteer").await;
    let outsider = db.operator("outsider", "Not On The Team").await;
    let (_listen, mut notifications) = listener(&db).await;

    // With no console of the team watching, no view is made and the hint names none.
    door.client
        .query_one(
            "SELECT accepted FROM check_in_by_code($1, 'NOPE-000', 'East Gate')",
            &[&f.event],
        )
        .await
        .expect("scan");
    flush_everything(&admin).await;
    let unwatched = drain(&mut notifications, Duration::from_millis(300)).await;
    assert!(
        !unwatched.is_empty() && unwatched.iter().all(|h| h["batch"].is_null()),
        "{unwatched:?}"
    );
    let made: i64 = admin
        .query_one("SELECT count(*) FROM realtime_batch_views", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(made, 0, "views made with nobody watching");
    // A console of the team registers its feed channel, as every console does when it starts.
    feed_channel(&door.client, f.event)
        .await
        .expect("a member gets one");

    for code in ["FIX-0002", "NOPE-404", "FIX-0002"] {
        door.client
            .query_one(
                "SELECT accepted FROM check_in_by_code($1, $2, 'East Gate')",
                &[&f.event, &code],
            )
            .await
            .expect("scan");
    }
    door.client
        .query_one("SELECT id FROM check_out($1)", &[&f.attendee])
        .await
        .expect("check-out");
    admin
        .execute(
            "INSERT INTO event_checkins (event_id, attendee_id, ticket_id, session_id, gate)
             VALUES ($1, $2, $3, $4, 'Hall A door')",
            &[&f.event, &f.other_attendee, &f.other_ticket, &f.session],
        )
        .await
        .expect("session door");
    flush_everything(&admin).await;

    let mut numbers = std::collections::BTreeSet::new();
    let mut entries: Option<eventos::db::listen::XidRange> = None;
    let mut refusals: Option<eventos::db::listen::XidRange> = None;
    for hint in drain(&mut notifications, Duration::from_millis(500)).await {
        let hint: eventos::db::listen::Hint =
            serde_json::from_value(hint).expect("a hint the console reads");
        let (Some(range), Some(number)) = (hint.xid_range(), hint.batch) else {
            continue;
        };
        numbers.insert(number);
        let kept = if hint.table == "event_checkins" {
            &mut entries
        } else {
            &mut refusals
        };
        *kept = Some(match kept.take() {
            Some(r) => r.merge(range),
            None => range,
        });
    }
    let numbers: Vec<i64> = numbers.into_iter().collect();
    let (entries, refusals) = (
        entries.expect("the entries were announced"),
        refusals.expect("the refusals were announced"),
    );

    let pool = eventos::db::pool(&db.settings_as(&door.role)).expect("pool");
    let console = pool.get().await.expect("a pooled connection");
    let views = checkins::batch_views(&console, f.event, &numbers)
        .await
        .expect("views");
    assert_eq!(
        views.iter().map(|v| v.batch).collect::<Vec<_>>(),
        numbers,
        "a view for every batch announced"
    );

    let mut from_views = eventos::desks::checkins::model::CheckinsDesk::default();
    for view in &views {
        from_views.merge_checkins(view.checkins.clone());
        from_views.merge_problems(view.problems.clone());
    }
    let mut from_ranges = eventos::desks::checkins::model::CheckinsDesk::default();
    from_ranges.merge_checkins(
        checkins::checkins(&console, f.event, Some(&entries))
            .await
            .expect("range"),
    );
    from_ranges.merge_problems(
        checkins::problems(&console, f.event, Some(&refusals))
            .await
            .expect("range"),
    );
    assert_eq!(from_views.feed, from_ranges.feed);
    assert_eq!(from_views.problems, from_ranges.problems);
    assert_eq!(from_views.feed.len(), 3, "{:?}", from_views.feed);
    assert!(
        from_views
            .feed
            .iter()
            .any(|r| r.attendee_id == f.attendee && r.out_at.is_some()),
        "the check-out is in the view"
    );
    assert_eq!(from_views.problems.len(), 2, "{:?}", from_views.problems);

    let mut sessions: Vec<_> = views.iter().flat_map(|v| v.sessions.clone()).collect();
    sessions.sort();
    sessions.dedup();
    let mut touched = checkins::sessions_touched(&console, f.event, &entries)
        .await
        .expect("range");
    touched.sort();
    assert_eq!(sessions, touched);
    assert_eq!(sessions, vec![f.session]);

    let newest = views.last().expect("a view").summary.clone();
    let direct = checkins::summary(&console, f.event).await.expect("totals");
    assert_eq!(direct.batch, Some(newest.batch.expect("numbered")));
    let without_clock = |s: &eventos::desks::checkins::model::Summary| {
        (
            s.expected,
            s.checked_in,
            s.present,
            s.gates.clone(),
            s.arrivals_per_minute.clone(),
            s.problems_15_min,
        )
    };
    assert_eq!(without_clock(&newest), without_clock(&direct));

    let pool = eventos::db::pool(&db.settings_as(&outsider.role)).expect("pool");
    let outside = pool.get().await.expect("a pooled connection");
    assert!(
        checkins::batch_views(&outside, f.event, &numbers)
            .await
            .expect("an answer")
            .is_empty(),
        "no view for someone outside the team"
    );
}

/// The batch itself goes, whole, to a channel of each console of the event's team, a name no other
/// console is told: a console hears it and reads nothing, and a member who NOTIFYs can fool only their
/// own console. Someone outside the team gets no channel; a member removed from the team has theirs
/// dropped (consoles are told to register again), gets none again and hears nothing more. The public
/// channel still carries identifiers only.
#[tokio::test]
async fn a_batch_is_pushed_to_each_team_console_alone_and_a_leaver_hears_no_more() {
    use eventos::desks::checkins::store as checkins;

    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    flush_everything(&admin).await;
    let door = db.member(f.event, "door", "Door Keeper", "volunteer").await;
    let leaver = db.member(f.event, "leaver", "Soon Gone", "volunteer").await;
    let outsider = db.operator("outsider", "Not On The Team").await;
    let door_channel = feed_channel(&door.client, f.event)
        .await
        .expect("a member gets one");
    let channel = feed_channel(&leaver.client, f.event)
        .await
        .expect("a member gets one");
    assert!(
        channel.starts_with("eventos_feed_") && channel.len() == 45,
        "{channel}"
    );
    assert_ne!(channel, door_channel, "each console its own");
    assert_eq!(
        feed_channel(&outsider.client, f.event).await,
        None,
        "outsiders get none"
    );
    let registry = door
        .client
        .query_one("SELECT count(*) FROM realtime_feed_consoles", &[])
        .await;
    assert!(
        registry.is_err(),
        "an operator can list the consoles' channels: {registry:?}"
    );

    let (leaver_listen, mut leaver_heard) =
        eventos::db::connect_listening(&db.settings_as(&leaver.role))
            .await
            .expect("listener");
    leaver_listen
        .batch_execute(&format!(
            "LISTEN {channel}; LISTEN {door_channel}; LISTEN eventos_changes"
        ))
        .await
        .expect("listen");

    door.client
        .query_one(
            "SELECT accepted FROM check_in_by_code($1, 'FIX-0002', 'East Gate')",
            &[&f.event],
        )
        .await
        .expect("scan");
    flush_everything(&admin).await;
    let heard = drain_raw(&mut leaver_heard, Duration::from_millis(500)).await;
    let on = |name: &str| -> Vec<String> {
        heard
            .iter()
            .filter(|(c, _)| c == name)
            .map(|(_, p)| p.clone())
            .collect()
    };
    let pushed = on(&channel);
    assert_eq!(pushed.len(), 1, "{heard:?}");
    assert_eq!(on(&door_channel), pushed, "each registered console gets it");
    let view = checkins::PushedParts::default()
        .take(&pushed[0])
        .expect("a pushed batch reads")
        .expect("one part is the whole batch");
    assert_eq!(view.event, f.event);
    assert_eq!(view.checkins.len(), 1);
    assert_eq!(view.checkins[0].attendee_id, f.other_attendee);
    assert_eq!(view.checkins[0].name, "Alan Turing");
    // The same batch, by number, is the same view; the public hint names it and says nothing more.
    let pool = eventos::db::pool(&db.settings_as(&door.role)).expect("pool");
    let console = pool.get().await.expect("a pooled connection");
    let read = checkins::batch_views(&console, f.event, &[view.batch])
        .await
        .expect("views");
    assert_eq!(read, vec![view.clone()]);
    let public = on("eventos_changes");
    let hint: Value = serde_json::from_str(&public[0]).expect("json");
    assert_identifiers_only(&hint);
    assert_eq!(hint["batch"], view.batch);
    let first_public = heard.iter().position(|(c, _)| c == "eventos_changes");
    let last_pushed = heard.iter().rposition(|(c, _)| c != "eventos_changes");
    assert!(
        last_pushed < first_public,
        "the rows come before the hint: {heard:?}"
    );

    // The leaver goes: the team's channels are dropped, and consoles hear that they must register again.
    admin
        .execute(
            "UPDATE event_teams SET status = 'inactive' WHERE event_id = $1
                AND member_id = (SELECT id FROM profiles WHERE login_role = $2)",
            &[&f.event, &leaver.role],
        )
        .await
        .expect("the leaver leaves");
    let told = drain_raw(&mut leaver_heard, Duration::from_millis(500)).await;
    let rotate: Vec<Value> = told
        .iter()
        .filter(|(c, _)| c == "eventos_changes")
        .map(|(_, p)| serde_json::from_str(p).expect("json"))
        .filter(|h: &Value| h["table"] == "realtime_feed")
        .collect();
    assert_eq!(rotate.len(), 1, "{told:?}");
    assert_eq!(rotate[0]["op"], "ROTATE");
    assert_eq!(rotate[0]["event_id"], f.event.to_string());
    assert_identifiers_only(&rotate[0]);
    let still: bool = leaver
        .client
        .query_one("SELECT realtime_feed_seen($1)", &[&channel])
        .await
        .expect("asked")
        .get(0);
    assert!(!still, "the leaver's channel is gone");
    assert_eq!(feed_channel(&leaver.client, f.event).await, None);
    let again = feed_channel(&door.client, f.event)
        .await
        .expect("a member registers again");

    door.client
        .query_one(
            "SELECT accepted FROM check_in_by_code($1, 'NOPE-1', 'East Gate')",
            &[&f.event],
        )
        .await
        .expect("scan");
    flush_everything(&admin).await;
    let after = drain_raw(&mut leaver_heard, Duration::from_millis(500)).await;
    assert!(
        after.iter().all(|(c, _)| c == "eventos_changes"),
        "the old channels still hear batches: {after:?}"
    );
    assert!(!after.is_empty(), "the public hints still come: {after:?}");
    assert_ne!(again, door_channel);
}

/// A batch larger than one notification (V13) goes in parts, each under PostgreSQL's 8,000 bytes, one
/// after another before the hint; put together they are the batch as read by number. Refused scans
/// travel with the entries.
#[tokio::test]
async fn a_large_batch_is_pushed_in_parts_that_make_the_view_read_by_number() {
    use eventos::desks::checkins::store as checkins;

    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    flush_everything(&admin).await;
    let door = db.member(f.event, "door", "Door Keeper", "volunteer").await;
    let channel = feed_channel(&door.client, f.event)
        .await
        .expect("a member gets one");
    let (listen, mut heard) = eventos::db::connect_listening(&db.settings_as(&door.role))
        .await
        .expect("listener");
    listen
        .batch_execute(&format!("LISTEN {channel}; LISTEN eventos_changes"))
        .await
        .expect("listen");

    // 120 people through the doors and 30 refused scans, in one transaction: one batch.
    admin
        .batch_execute(&format!(
            "BEGIN;
             WITH a AS (INSERT INTO attendees (event_id, first_name, last_name, email)
                        SELECT '{event}', 'Guest', 'Number ' || g, 'bulk' || g || '@example.org'
                          FROM generate_series(1, 120) g RETURNING id, email),
                  t AS (INSERT INTO tickets (event_id, attendee_id, ticket_type_id, code)
                        SELECT '{event}', a.id, '{ticket_type}', 'BULK-' || split_part(a.email, '@', 1) FROM a
                        RETURNING id, attendee_id)
             INSERT INTO event_checkins (event_id, attendee_id, ticket_id, gate, check_in_method)
             SELECT '{event}', t.attendee_id, t.id, 'North Gate', 'qr_code' FROM t;
             INSERT INTO refused_scans (event_id, gate, code, code_length, reason_code, reason)
             SELECT '{event}', 'East Gate', 'NOPE-' || g, length('NOPE-' || g), 'unknown_code',
                    'unknown ticket code'
               FROM generate_series(1, 30) g;
             COMMIT;",
            event = f.event,
            ticket_type = f.ticket_type,
        ))
        .await
        .expect("a bulk of entries");
    flush_everything(&admin).await;
    let notifications = drain_raw(&mut heard, Duration::from_millis(500)).await;
    let parts: Vec<&String> = notifications
        .iter()
        .filter(|(c, _)| *c == channel)
        .map(|(_, p)| p)
        .collect();
    assert!(parts.len() >= 3, "{} parts", parts.len());
    assert!(
        parts.iter().all(|p| p.len() < 8000),
        "a part over a notification's limit"
    );
    let first_hint = notifications
        .iter()
        .position(|(c, p)| {
            c == "eventos_changes"
                && serde_json::from_str::<Value>(p).is_ok_and(|h| h["batch"].is_number())
        })
        .expect("the batch's hint");
    let last_part = notifications
        .iter()
        .rposition(|(c, _)| *c == channel)
        .expect("a part");
    assert!(last_part < first_hint, "every part comes before the hint");

    let mut assembler = checkins::PushedParts::default();
    let mut whole = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        if let Some(view) = assembler.take(part).expect("a part reads") {
            whole.push((i, view));
        }
    }
    assert_eq!(whole.len(), 1, "one batch, whole at its last part");
    let (at, view) = whole.pop().expect("the batch");
    assert_eq!(at, parts.len() - 1);
    assert_eq!(view.checkins.len(), 120);
    assert_eq!(view.problems.len(), 30);
    let pool = eventos::db::pool(&db.settings_as(&door.role)).expect("pool");
    let console = pool.get().await.expect("a pooled connection");
    let read = checkins::batch_views(&console, f.event, &[view.batch])
        .await
        .expect("views");
    assert_eq!(read, vec![view]);
}

async fn feed_channel(client: &tokio_postgres::Client, event: uuid::Uuid) -> Option<String> {
    client
        .query_one("SELECT realtime_feed_channel($1)", &[&event])
        .await
        .expect("asked")
        .get(0)
}

/// Everything that arrives within `wait`, as (channel, payload).
async fn drain_raw(
    notifications: &mut eventos::db::Notifications,
    wait: Duration,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    while let Ok(Some(n)) = tokio::time::timeout_at(deadline, notifications.recv()).await {
        out.push((n.channel().to_owned(), n.payload().to_owned()));
    }
    out
}

//! Gate watch on real PostgreSQL (V15): a gate that was scanning and goes silent while the others go on
//! raises one alert, which clears when it scans again; a jump in a gate's refusals raises one, which
//! clears when the share falls; a lull at every gate raises nothing; an operator acknowledges an alert
//! once, audited; thresholds are the event's own; with no worker, a console's flush sweeps; and what
//! the flusher keeps per gate equals a recount.

mod common;

use std::time::Duration;

use common::{
    Fixture, TestDb, fixture, gate_entries as entries, gate_one_goes_quiet, no_entries, spread,
};
use tokio_postgres::Client;
use uuid::Uuid;

/// The rule that refused a statement.
fn refusal(error: &tokio_postgres::Error) -> String {
    let db = error
        .as_db_error()
        .unwrap_or_else(|| panic!("not a database error: {error}"));
    assert_eq!(db.code().code(), "EV001", "not a rule refusal: {db:?}");
    db.constraint().unwrap_or("").to_owned()
}

async fn flush_everything(client: &Client) {
    for _ in 0..100 {
        client
            .query_one("SELECT realtime_flush()", &[])
            .await
            .expect("flush");
        if common::unannounced(client).await == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("check-ins were still unannounced after 5 s");
}

async fn sweep(client: &Client) -> i32 {
    client
        .query_one("SELECT gate_watch_sweep()", &[])
        .await
        .expect("sweep")
        .get(0)
}

/// `n` refused scans at `gate` now.
async fn refused(admin: &Client, f: &Fixture, gate: &str, n: i64) {
    admin
        .execute(
            "INSERT INTO refused_scans (event_id, gate, code, code_length, reason_code, reason)
             SELECT $1, $2, 'BAD-' || k, length('BAD-' || k), 'unknown_code', 'unknown ticket code'
               FROM generate_series(1, $3::bigint) k",
            &[&f.event, &gate, &n],
        )
        .await
        .expect("refused scans");
}

/// (gate, kind, open, acknowledged) of every alert of the event, oldest first.
async fn alerts(client: &Client, event: Uuid) -> Vec<(String, String, bool, bool)> {
    client
        .query(
            "SELECT gate, kind, cleared_at IS NULL, acknowledged_at IS NOT NULL FROM gate_alerts
              WHERE event_id = $1 ORDER BY raised_at, gate",
            &[&event],
        )
        .await
        .expect("alerts")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect()
}

#[tokio::test]
async fn a_gate_that_stops_while_others_scan_raises_one_alert_until_it_scans_again() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let door = db.member(f.event, "door", "Dora Door", "volunteer").await;
    let outsider = db.operator("outsider", "Otto Outside").await;
    gate_one_goes_quiet(&admin, &f).await;
    flush_everything(&admin).await;

    assert_eq!(sweep(&admin).await, 1, "one alert raised");
    assert_eq!(sweep(&admin).await, 0, "and not again");
    assert_eq!(
        alerts(&door.client, f.event).await,
        vec![("Gate 1".into(), "silent".into(), true, false)],
        "the team sees it"
    );
    assert!(
        alerts(&outsider.client, f.event).await.is_empty(),
        "outsiders see nothing"
    );
    let detail: String = door
        .client
        .query_one(
            "SELECT detail FROM gate_alerts WHERE event_id = $1",
            &[&f.event],
        )
        .await
        .expect("detail")
        .get(0);
    assert!(
        detail.starts_with("Gate 1 has let nobody in since ")
            && detail
                .contains("(30 in the 10 minutes before; the other gates 6 in the last 3 minutes)"),
        "{detail}"
    );

    // The desk's reading of the gates: kept rows, the thresholds with them.
    let rows = door
        .client
        .query(
            "SELECT gate, entries, last_at < now() - interval '3 minutes', window_entries, window_minutes,
                    silent_minutes
               FROM gate_watch($1)",
            &[&f.event],
        )
        .await
        .expect("gate watch");
    let read: Vec<(String, i64, bool, i64, i32, i32)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
        .collect();
    assert_eq!(read[0].0, "Gate 1");
    assert_eq!(
        (read[0].1, read[0].2, read[0].4, read[0].5),
        (30, true, 5, 3)
    );
    assert_eq!(
        (read[1].0.as_str(), read[1].1, read[1].2, read[1].3),
        ("Gate 2", 6, false, 6)
    );
    assert!(
        outsider
            .client
            .query("SELECT * FROM gate_watch($1)", &[&f.event])
            .await
            .expect("asked")
            .is_empty()
    );

    // The gate scans again: the alert clears.
    let accepted: bool = door
        .client
        .query_one(
            "SELECT accepted FROM check_in_by_code($1, 'FIX-0002', 'Gate 1')",
            &[&f.event],
        )
        .await
        .expect("scan")
        .get(0);
    assert!(accepted);
    flush_everything(&admin).await;
    sweep(&admin).await;
    assert_eq!(
        alerts(&admin, f.event).await,
        vec![("Gate 1".into(), "silent".into(), false, false)]
    );
}

#[tokio::test]
async fn a_lull_at_every_gate_raises_nothing() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    no_entries(&admin, &f).await;
    entries(&admin, &f, "Gate 1", &spread(14.0, 4.0, 30)).await;
    entries(&admin, &f, "Gate 2", &spread(14.0, 4.5, 30)).await;
    flush_everything(&admin).await;
    assert_eq!(sweep(&admin).await, 0);
    // A gate that was never busy is no alert either, however quiet.
    entries(&admin, &f, "Side Door", &[12.0, 9.0]).await;
    entries(&admin, &f, "East Gate", &spread(1.0, 0.1, 5)).await;
    flush_everything(&admin).await;
    sweep(&admin).await;
    let raised: Vec<String> = alerts(&admin, f.event)
        .await
        .into_iter()
        .map(|(gate, ..)| gate)
        .collect();
    assert_eq!(raised, ["Gate 1", "Gate 2"], "busy gates only");
}

#[tokio::test]
async fn a_jump_in_a_gates_refusals_raises_one_alert_until_the_share_falls() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    entries(&admin, &f, "West Gate", &spread(3.0, 0.1, 10)).await;
    refused(&admin, &f, "West Gate", 6).await;
    // Few scans and a high share at another gate: too little to judge.
    entries(&admin, &f, "East Gate", &[1.0, 0.5]).await;
    refused(&admin, &f, "East Gate", 3).await;
    flush_everything(&admin).await;
    assert_eq!(sweep(&admin).await, 1);
    assert_eq!(
        alerts(&admin, f.event).await,
        vec![("West Gate".into(), "refusals".into(), true, false)]
    );
    let detail: String = admin
        .query_one("SELECT detail FROM gate_alerts", &[])
        .await
        .expect("detail")
        .get(0);
    assert_eq!(
        detail,
        "West Gate refused 6 of its last 16 scans (38%) in 5 minutes"
    );
    let share: Option<i32> = admin
        .query_one(
            "SELECT refusal_percent FROM gate_watch($1) WHERE gate = 'West Gate'",
            &[&f.event],
        )
        .await
        .expect("share")
        .get(0);
    assert_eq!(share, Some(38), "the desk shows the sweep's own share");

    // Still above half the threshold (12.5%): it stays. Below it: it clears.
    entries(&admin, &f, "West Gate", &spread(0.9, 0.1, 20)).await;
    flush_everything(&admin).await;
    sweep(&admin).await;
    assert!(
        alerts(&admin, f.event).await[0].2,
        "6 of 36 (17%) keeps it open"
    );
    entries(&admin, &f, "West Gate", &spread(0.9, 0.1, 20)).await;
    flush_everything(&admin).await;
    sweep(&admin).await;
    assert!(
        !alerts(&admin, f.event).await[0].2,
        "6 of 56 (11%) clears it"
    );
}

#[tokio::test]
async fn an_alert_is_acknowledged_once_by_the_doors_team_and_audited() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let door = db.member(f.event, "door", "Dora Door", "volunteer").await;
    let marketing = db.member(f.event, "mark", "Mark Eting", "marketing").await;
    let outsider = db.operator("outsider", "Otto Outside").await;
    gate_one_goes_quiet(&admin, &f).await;
    flush_everything(&admin).await;
    sweep(&admin).await;
    let alert: Uuid = admin
        .query_one("SELECT id FROM gate_alerts", &[])
        .await
        .expect("the alert")
        .get(0);

    let err = outsider
        .client
        .query_one("SELECT id FROM acknowledge_gate_alert($1)", &[&alert])
        .await
        .expect_err("an outsider");
    assert_eq!(refusal(&err), "unknown_alert");
    let err = marketing
        .client
        .query_one("SELECT id FROM acknowledge_gate_alert($1)", &[&alert])
        .await
        .expect_err("no door permission");
    assert_eq!(refusal(&err), "permission_denied");
    let err = door
        .client
        .execute("UPDATE gate_alerts SET acknowledged_at = now()", &[])
        .await
        .expect_err("no raw writes");
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE)
    );

    door.client
        .query_one("SELECT id FROM acknowledge_gate_alert($1)", &[&alert])
        .await
        .expect("acknowledged");
    let err = door
        .client
        .query_one("SELECT id FROM acknowledge_gate_alert($1)", &[&alert])
        .await
        .expect_err("twice");
    assert_eq!(refusal(&err), "alert_acknowledged");
    assert!(
        err.as_db_error()
            .map(|e| e
                .message()
                .starts_with("already acknowledged by Dora Door at "))
            .unwrap_or(false),
        "{err:?}"
    );
    let audited: Vec<(String, String)> = admin
        .query(
            "SELECT action, actor_role FROM audit_log WHERE table_name = 'gate_alerts' AND row_id = $1",
            &[&alert],
        )
        .await
        .expect("audit")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        audited,
        vec![("gate_alerts.acknowledged".to_owned(), door.role.clone())]
    );
    let broken: Option<i64> = admin
        .query_one("SELECT audit_first_broken_link()", &[])
        .await
        .expect("verify")
        .get(0);
    assert_eq!(broken, None, "the chain holds");
}

#[tokio::test]
async fn thresholds_are_the_events_own_and_only_an_organizer_sets_them() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let organizer = db
        .member(f.event, "olga", "Olga Organizer", "organizer")
        .await;
    let door = db.member(f.event, "door", "Dora Door", "volunteer").await;
    let err = door
        .client
        .query_one("SELECT * FROM set_gate_watch($1, 10)", &[&f.event])
        .await
        .expect_err("a volunteer");
    assert_eq!(refusal(&err), "permission_denied");
    let err = organizer
        .client
        .query_one("SELECT * FROM set_gate_watch($1, 0)", &[&f.event])
        .await
        .expect_err("out of range");
    assert_eq!(refusal(&err), "gate_watch_range");
    // Silent after 5 minutes instead of 3: Gate 1, quiet for 4, is no alert.
    organizer
        .client
        .query_one("SELECT * FROM set_gate_watch($1, 5)", &[&f.event])
        .await
        .expect("set");
    gate_one_goes_quiet(&admin, &f).await;
    flush_everything(&admin).await;
    assert_eq!(sweep(&admin).await, 0);
    organizer
        .client
        .query_one("SELECT * FROM set_gate_watch($1, 3)", &[&f.event])
        .await
        .expect("set back");
    assert_eq!(sweep(&admin).await, 1);
    // A new event has the defaults.
    let other: Uuid = admin
        .query_one(
            "INSERT INTO events (slug, name, starts_at, ends_at)
             VALUES ('other', 'Other', now(), now() + interval '1 day') RETURNING id",
            &[],
        )
        .await
        .expect("a new event")
        .get(0);
    let silent: i32 = admin
        .query_one(
            "SELECT (extract(epoch FROM silent_after) / 60)::int FROM gate_watch_settings WHERE event_id = $1",
            &[&other],
        )
        .await
        .expect("a new event's settings")
        .get(0);
    assert_eq!(silent, 3);
}

#[tokio::test]
async fn with_no_worker_a_consoles_flush_sweeps_the_gates() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let door = db.member(f.event, "door", "Dora Door", "volunteer").await;
    gate_one_goes_quiet(&admin, &f).await;
    admin
        .execute("DELETE FROM worker_heartbeat", &[])
        .await
        .expect("no worker");
    for _ in 0..20 {
        door.client
            .query_one("SELECT realtime_flush_for_console()", &[])
            .await
            .expect("a console's flush");
        if common::unannounced(&admin).await == 0 {
            break;
        }
    }
    door.client
        .query_one("SELECT realtime_flush_for_console()", &[])
        .await
        .expect("a console's flush");
    assert_eq!(
        alerts(&door.client, f.event).await,
        vec![("Gate 1".into(), "silent".into(), true, false)]
    );
}

#[tokio::test]
async fn what_the_flusher_keeps_per_gate_equals_a_recount() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    entries(&admin, &f, "North Gate", &spread(20.0, 1.0, 25)).await;
    refused(&admin, &f, "North Gate", 4).await;
    refused(&admin, &f, "South Gate", 3).await;
    flush_everything(&admin).await;
    let kept = |sql: &'static str| {
        let admin = &admin;
        async move {
            admin
                .query(sql, &[&f.event])
                .await
                .expect("kept")
                .iter()
                .map(|r| r.get::<_, String>(0))
                .collect::<Vec<_>>()
        }
    };
    let last =
        "SELECT gate || ' ' || last_at FROM checkin_gate_totals WHERE event_id = $1 ORDER BY gate";
    let minutes = "SELECT gate || ' ' || minute || ' ' || refusals FROM refusal_gate_minutes
                    WHERE event_id = $1 ORDER BY gate, minute";
    let (kept_last, kept_minutes) = (kept(last).await, kept(minutes).await);
    let recounted_last: Vec<String> = admin
        .query(
            "SELECT gate || ' ' || max(check_in_time) FROM event_checkins
              WHERE event_id = $1 AND session_id IS NULL GROUP BY gate ORDER BY gate",
            &[&f.event],
        )
        .await
        .expect("recount")
        .iter()
        .map(|r| r.get(0))
        .collect();
    let recounted_minutes: Vec<String> = admin
        .query(
            "SELECT gate || ' ' || date_trunc('minute', scanned_at) || ' ' || count(*) FROM refused_scans
              WHERE event_id = $1 GROUP BY gate, date_trunc('minute', scanned_at) ORDER BY 1",
            &[&f.event],
        )
        .await
        .expect("recount")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(kept_last, recounted_last);
    assert_eq!(kept_minutes, recounted_minutes);
    // A deleted entry has the event recounted by the next flush: the same again.
    admin
        .execute(
            "DELETE FROM event_checkins WHERE id = (SELECT id FROM event_checkins WHERE event_id = $1
               ORDER BY check_in_time DESC LIMIT 1)",
            &[&f.event],
        )
        .await
        .expect("delete");
    flush_everything(&admin).await;
    admin
        .query_one("SELECT realtime_flush()", &[])
        .await
        .expect("the recount");
    let recounted_last: Vec<String> = admin
        .query(
            "SELECT gate || ' ' || max(check_in_time) FROM event_checkins
              WHERE event_id = $1 AND session_id IS NULL GROUP BY gate ORDER BY gate",
            &[&f.event],
        )
        .await
        .expect("recount")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(kept(last).await, recounted_last);
    assert_eq!(kept(minutes).await, recounted_minutes);
}

//! The incident timeline on real PostgreSQL (V17): every kind of fact is read from where it is kept
//! (the audit trail, the gate alerts, the outages, the notes) and filtered by kind and time; only those
//! who may read the audit trail read it; notes are attributed, audited and never rewritten; outages are
//! held to what a reporter can honestly claim.

mod common;

use common::{TestDb, fixture, gate_one_goes_quiet};
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

/// (kind, who, what) of the timeline, newest first.
async fn timeline(
    client: &Client,
    event: Uuid,
    kinds: Option<&[&str]>,
) -> Vec<(String, String, String)> {
    let kinds: Option<Vec<&str>> = kinds.map(<[&str]>::to_vec);
    client
        .query(
            "SELECT kind, who, what FROM incident_timeline($1, '-infinity', $2)",
            &[&event, &kinds],
        )
        .await
        .expect("the timeline")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

/// Waits until every audited write has been chained (an entry may wait for the chain's head).
async fn chained(admin: &Client) {
    admin
        .query_one("SELECT worker_heartbeat()", &[])
        .await
        .expect("a heartbeat chains what waits");
}

#[tokio::test]
async fn every_kind_is_read_from_where_it_is_kept_newest_first_and_filtered() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let olga = db
        .member(f.event, "olga", "Olga Organizer", "organizer")
        .await;
    // doors: a check-in by hand; exits: a check-out
    olga.client
        .query_one(
            "SELECT * FROM check_in_attendee($1, 'Help desk')",
            &[&f.other_attendee],
        )
        .await
        .expect("a check-in by hand");
    olga.client
        .query_one("SELECT * FROM check_out($1)", &[&f.attendee])
        .await
        .expect("a check-out");
    // sessions: a capacity change
    olga.client
        .query_one(
            "SELECT id FROM set_session_capacity($1, 250)",
            &[&f.session],
        )
        .await
        .expect("capacity");
    // messages: an announcement sent
    olga.client
        .query_one(
            "SELECT id FROM send_announcement_now($1)",
            &[&f.announcement],
        )
        .await
        .expect("sent");
    // money: an expense approved (submitted by Ada, approved by Olga)
    olga.client
        .query_one("SELECT id FROM approve_expense($1)", &[&f.expense])
        .await
        .expect("approved");
    // alerts: a gate gone silent, acknowledged
    gate_one_goes_quiet(&admin, &f).await;
    for _ in 0..50 {
        admin
            .query_one("SELECT realtime_flush()", &[])
            .await
            .expect("flush");
        if common::unannounced(&admin).await == 0 {
            break;
        }
    }
    admin
        .query_one("SELECT gate_watch_sweep()", &[])
        .await
        .expect("sweep");
    olga.client
        .query_one(
            "SELECT id FROM acknowledge_gate_alert((SELECT id FROM gate_alerts LIMIT 1))",
            &[],
        )
        .await
        .expect("acknowledged");
    // outages: a console's, and the worker's gap
    olga.client
        .query_one(
            "SELECT id FROM report_console_outage($1, interval '40 seconds', 'the link dropped')",
            &[&f.event],
        )
        .await
        .expect("a console's outage");
    admin
        .batch_execute(
            "INSERT INTO worker_heartbeat (only_row, seen_at) VALUES (true, now() - interval '90 seconds')
             ON CONFLICT (only_row) DO UPDATE SET seen_at = EXCLUDED.seen_at",
        )
        .await
        .expect("a worker last seen 90 s ago");
    chained(&admin).await;
    // notes
    olga.client
        .query_one(
            "SELECT id FROM add_incident_note($1, '  Gate 1 scanner replaced at 10:40.  ')",
            &[&f.event],
        )
        .await
        .expect("a note");
    chained(&admin).await;

    let all = timeline(&olga.client, f.event, None).await;
    let has = |kind: &str, who: &str, what: &str| {
        all.iter()
            .any(|(k, w, t)| k == kind && w == who && t.contains(what))
    };
    assert!(
        has(
            "doors",
            "Olga Organizer",
            "Alan Turing checked in by hand at Help desk"
        ),
        "{all:#?}"
    );
    assert!(
        has(
            "exits",
            "Olga Organizer",
            "Ada Lovelace checked out (entered "
        ),
        "{all:#?}"
    );
    assert!(has("sessions", "Olga Organizer", "capacity"), "{all:#?}");
    assert!(has("sessions", "Olga Organizer", "-> 250"), "{all:#?}");
    assert!(has("messages", "Olga Organizer", "sent to"), "{all:#?}");
    assert!(has("money", "Olga Organizer", "approved"), "{all:#?}");
    assert!(
        has("alerts", "gate watch", "Gate 1 has let nobody in since"),
        "{all:#?}"
    );
    assert!(
        has(
            "alerts",
            "Olga Organizer",
            "acknowledged the silent alert at Gate 1"
        ),
        "{all:#?}"
    );
    assert!(
        has(
            "outages",
            "Olga Organizer",
            "a console without the database from"
        ),
        "{all:#?}"
    );
    assert!(
        has("outages", "Olga Organizer", ": the link dropped"),
        "{all:#?}"
    );
    assert!(
        all.iter().any(
            |(k, _, t)| k == "outages" && t.starts_with("the worker without the database from")
        ),
        "{all:#?}"
    );
    assert!(
        has(
            "notes",
            "Olga Organizer",
            "note: Gate 1 scanner replaced at 10:40."
        ),
        "{all:#?}"
    );

    // Newest first.
    let times: Vec<chrono::DateTime<chrono::Utc>> = olga
        .client
        .query("SELECT at FROM incident_timeline($1)", &[&f.event])
        .await
        .expect("times")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    // One kind, and a span that starts now: only that kind; nothing.
    let money = timeline(&olga.client, f.event, Some(&["money"])).await;
    assert!(
        !money.is_empty() && money.iter().all(|(k, ..)| k == "money"),
        "{money:?}"
    );
    let doors_and_notes = timeline(&olga.client, f.event, Some(&["doors", "notes"])).await;
    assert!(
        doors_and_notes
            .iter()
            .all(|(k, ..)| k == "doors" || k == "notes")
    );
    let later: i64 = olga
        .client
        .query_one(
            "SELECT count(*) FROM incident_timeline($1, now() + interval '1 minute')",
            &[&f.event],
        )
        .await
        .expect("nothing later")
        .get(0);
    assert_eq!(later, 0);
    // The kinds are the console's words.
    for (kind, ..) in &all {
        assert!(
            eventos::desks::incidents::model::Kind::read(kind).is_some(),
            "{kind} is not a kind the console knows"
        );
    }
}

#[tokio::test]
async fn only_those_who_may_read_the_audit_trail_read_the_timeline() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let olga = db
        .member(f.event, "olga", "Olga Organizer", "organizer")
        .await;
    let door = db.member(f.event, "door", "Dora Door", "volunteer").await;
    let outsider = db.operator("outsider", "Otto Outside").await;
    olga.client
        .query_one(
            "SELECT id FROM add_incident_note($1, 'A note')",
            &[&f.event],
        )
        .await
        .expect("a note");
    chained(&admin).await;
    assert!(!timeline(&olga.client, f.event, None).await.is_empty());
    assert!(
        !timeline(&admin, f.event, None).await.is_empty(),
        "administrators too"
    );
    assert!(
        timeline(&door.client, f.event, None).await.is_empty(),
        "not a volunteer"
    );
    assert!(
        timeline(&outsider.client, f.event, None).await.is_empty(),
        "nor an outsider"
    );
    // The tables behind it are the owner's.
    for table in ["incident_notes", "connection_outages"] {
        let rows = door
            .client
            .query(&format!("SELECT * FROM {table}"), &[])
            .await;
        assert!(rows.is_err(), "{table} is readable: {rows:?}");
    }
}

#[tokio::test]
async fn a_note_is_attributed_audited_held_to_its_rule_and_never_rewritten() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let door = db.member(f.event, "door", "Dora Door", "volunteer").await;
    let outsider = db.operator("outsider", "Otto Outside").await;
    for (note, rule) in [
        ("   ", "incident_note"),
        (&"x".repeat(501)[..], "incident_note"),
    ] {
        let err = door
            .client
            .query_one(
                "SELECT id FROM add_incident_note($1, $2)",
                &[&f.event, &note],
            )
            .await
            .expect_err("refused");
        assert_eq!(refusal(&err), rule);
    }
    let err = outsider
        .client
        .query_one("SELECT id FROM add_incident_note($1, 'hello')", &[&f.event])
        .await
        .expect_err("an outsider");
    assert_eq!(refusal(&err), "unknown_event");
    let note: Uuid = door
        .client
        .query_one(
            "SELECT id FROM add_incident_note($1, $2)",
            &[&f.event, &"y".repeat(500)],
        )
        .await
        .expect("at the limit")
        .get(0);
    chained(&admin).await;
    let (author, login): (String, String) = {
        let r = admin
            .query_one(
                "SELECT profile_name(author_id), login FROM incident_notes WHERE id = $1",
                &[&note],
            )
            .await
            .expect("the note");
        (r.get(0), r.get(1))
    };
    assert_eq!(
        (author.as_str(), login.as_str()),
        ("Dora Door", door.role.as_str())
    );
    let audited: i64 = admin
        .query_one(
            "SELECT count(*) FROM audit_log WHERE table_name = 'incident_notes' AND row_id = $1
                AND action = 'incident_notes.written' AND actor_role = $2",
            &[&note, &door.role],
        )
        .await
        .expect("audit")
        .get(0);
    assert_eq!(audited, 1);
    let err = admin
        .execute("UPDATE incident_notes SET note = 'rewritten'", &[])
        .await
        .expect_err("never rewritten");
    assert_eq!(refusal(&err), "audit_append_only");
}

#[tokio::test]
async fn an_outage_is_held_to_a_day_and_timed_by_the_servers_clock() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let door = db.member(f.event, "door", "Dora Door", "volunteer").await;
    for lost in ["interval '-1 minute'", "interval '2 days'", "NULL"] {
        let err = door
            .client
            .query_one(
                &format!("SELECT id FROM report_console_outage($1, {lost})"),
                &[&f.event],
            )
            .await
            .expect_err(lost);
        assert_eq!(refusal(&err), "outage_time", "{lost}");
    }
    // The reason is the link's error, written by no one: kept to its first 300 characters.
    let kept: i32 = door
        .client
        .query_one(
            "SELECT length(reason) FROM report_console_outage($1, interval '1 minute', $2)",
            &[&f.event, &"z".repeat(301)],
        )
        .await
        .expect("a long reason")
        .get(0);
    assert_eq!(kept, 300);
    // Many reports: the clock read twice would make some a few microseconds longer than reported.
    let back_is_the_servers: bool = door
        .client
        .query_one(
            "SELECT bool_and(o.back_at - o.lost_at = interval '5 seconds' AND o.back_at <= clock_timestamp())
               FROM generate_series(1, 200), LATERAL report_console_outage($1, interval '5 seconds') o",
            &[&f.event],
        )
        .await
        .expect("an outage")
        .get(0);
    assert!(back_is_the_servers);
    // A heartbeat within 10 s of the last records no gap.
    admin
        .query_one("SELECT worker_heartbeat()", &[])
        .await
        .expect("a beat");
    admin
        .query_one("SELECT worker_heartbeat()", &[])
        .await
        .expect("another");
    let gaps: i64 = admin
        .query_one(
            "SELECT count(*) FROM connection_outages WHERE who = 'worker'",
            &[],
        )
        .await
        .expect("gaps")
        .get(0);
    assert_eq!(gaps, 0);
}

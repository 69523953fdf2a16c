//! Security, each operator a separate login role over a real connection: per-event permissions through
//! Row Level Security, identity that no client setting changes, an append-only hash-chained audit log.

mod common;

use common::{Fixture, TestDb, fixture, sqlstate};
use tokio_postgres::Client;
use uuid::Uuid;

fn refusal_code(error: &tokio_postgres::Error) -> String {
    error
        .as_db_error()
        .map(|db| {
            if db.code().code() == "EV001" {
                db.constraint().unwrap_or("").to_owned()
            } else {
                db.code().code().to_owned()
            }
        })
        .unwrap_or_else(|| format!("not a database error: {error}"))
}

async fn count(client: &Client, sql: &str) -> i64 {
    client
        .query_one(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e:?}"))
        .get(0)
}

/// A second event with a team member of its own, an expense and an attendee.
async fn other_event(admin: &Client) -> Uuid {
    admin
        .query_one(
            "WITH e AS (INSERT INTO events (slug, name, starts_at, ends_at) VALUES ('event-b', 'Event B', now(), now() + interval '1 day') RETURNING id),
                  x AS (INSERT INTO event_expenses (event_id, expense_name, amount, expense_category)
                        SELECT id, 'B catering', 100, 'catering' FROM e),
                  a AS (INSERT INTO attendees (event_id, first_name, email) SELECT id, 'Bea', 'bea@example.org' FROM e)
             SELECT id FROM e",
            &[],
        )
        .await
        .expect("event B")
        .get(0)
}

#[tokio::test]
async fn a_volunteer_reads_no_expenses_and_cannot_approve_one() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let volunteer = db
        .member(f.event, "val", "Val Volunteer", "volunteer")
        .await;
    assert_eq!(
        count(&volunteer.client, "SELECT count(*) FROM event_expenses").await,
        0
    );
    let err = volunteer
        .client
        .query_one("SELECT * FROM approve_expense($1)", &[&f.expense])
        .await
        .expect_err("approve");
    assert_eq!(
        refusal_code(&err),
        "unknown_expense",
        "the expense is invisible to them"
    );
    let err = volunteer
        .client
        .execute("UPDATE event_expenses SET status = 'approved'", &[])
        .await;
    assert_eq!(err.expect("a no-op"), 0, "RLS leaves no row to update");
    let err = volunteer
        .client
        .execute("DELETE FROM event_expenses", &[])
        .await
        .expect_err("delete");
    assert_eq!(sqlstate(&err), "42501", "no DELETE privilege");
    // But they scan people in.
    let accepted: bool = volunteer
        .client
        .query_one(
            "SELECT accepted FROM check_in_by_code($1, 'FIX-0002', 'Gate 2')",
            &[&f.event],
        )
        .await
        .expect("scan")
        .get(0);
    assert!(accepted);
    let status: String = admin
        .query_one(
            "SELECT status FROM event_expenses WHERE id = $1",
            &[&f.expense],
        )
        .await
        .expect("row")
        .get(0);
    assert_eq!(status, "pending");
}

#[tokio::test]
async fn a_coordinator_sees_expenses_but_approving_needs_the_permission() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let coordinator = db
        .member(f.event, "cora", "Cora Coordinator", "coordinator")
        .await;
    assert_eq!(
        count(&coordinator.client, "SELECT count(*) FROM event_expenses").await,
        1
    );
    let err = coordinator
        .client
        .query_one("SELECT * FROM approve_expense($1)", &[&f.expense])
        .await
        .expect_err("approve");
    assert_eq!(refusal_code(&err), "permission_denied");
    assert!(
        err.as_db_error()
            .map(|d| d.message().to_owned())
            .unwrap_or_default()
            == "your role at this event does not include approve expenses"
    );
}

#[tokio::test]
async fn registration_checks_in_but_cannot_send_announcements() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let desk = db
        .member(f.event, "reg", "Rita Registration", "registration")
        .await;
    let row = desk
        .client
        .query_one(
            "SELECT accepted, message FROM check_in_by_code($1, 'FIX-0002', 'Desk 1')",
            &[&f.event],
        )
        .await
        .expect("scan");
    assert!(row.get::<_, bool>(0), "{}", row.get::<_, String>(1));
    let manual = desk
        .client
        .query_one(
            "SELECT accepted FROM check_in_attendee($1, 'Desk 1')",
            &[&f.attendee],
        )
        .await
        .expect("manual");
    assert!(
        !manual.get::<_, bool>(0),
        "already in: refused, not an error"
    );
    for sql in [
        "SELECT * FROM send_announcement_now($1)",
        "SELECT * FROM cancel_announcement($1)",
        "SELECT * FROM schedule_announcement($1, now() + interval '1 hour')",
    ] {
        let err = desk
            .client
            .query_one(sql, &[&f.announcement])
            .await
            .expect_err(sql);
        assert_eq!(refusal_code(&err), "permission_denied", "{sql}");
    }
    let err = desk
        .client
        .query_one(
            "SELECT * FROM create_announcement($1, 'Hi', 'There')",
            &[&f.event],
        )
        .await
        .expect_err("create");
    assert_eq!(refusal_code(&err), "permission_denied");
    let raw = desk
        .client
        .execute("UPDATE event_announcements SET status = 'cancelled'", &[])
        .await
        .expect("RLS: no row");
    assert_eq!(raw, 0);
}

#[tokio::test]
async fn a_member_of_one_event_sees_nothing_of_another() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let b = other_event(&admin).await;
    let organizer = db
        .member(f.event, "olga", "Olga Organizer", "organizer")
        .await;
    let c = &organizer.client;
    for table in [
        "events",
        "attendees",
        "event_expenses",
        "event_teams",
        "tickets",
        "sessions",
        "event_checkins",
        "orders",
        "event_announcements",
        "event_waitlists",
        "audit_log",
    ] {
        let leaked = count(
            c,
            &format!(
                "SELECT count(*) FROM {table} WHERE {} = '{b}'",
                if table == "events" { "id" } else { "event_id" }
            ),
        )
        .await;
        assert_eq!(leaked, 0, "{table} shows event B's rows");
    }
    assert!(
        count(c, "SELECT count(*) FROM attendees").await >= 2,
        "their own event is visible"
    );
    let err = c
        .query_one(
            "SELECT * FROM submit_expense($1, 'Sneaky', 10, 'catering')",
            &[&b],
        )
        .await
        .expect_err("other event");
    assert_eq!(refusal_code(&err), "permission_denied");
    let err = c
        .query_one(
            "SELECT * FROM check_in_by_code($1, 'FIX-0002', 'Gate')",
            &[&b],
        )
        .await
        .expect_err("other event");
    assert_eq!(refusal_code(&err), "permission_denied");
    let err = c
        .execute(
            "INSERT INTO event_expenses (event_id, expense_name, amount, expense_category) VALUES ($1, 'x', 1, 'catering')",
            &[&b],
        )
        .await
        .expect_err("raw insert");
    assert_eq!(
        sqlstate(&err),
        "42501",
        "row-level security refuses the row"
    );
}

#[tokio::test]
async fn a_profile_with_no_team_sees_nothing() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let _f = fixture(&admin).await;
    let loner = db.operator("lee", "Lee Loner").await;
    for table in [
        "events",
        "attendees",
        "tickets",
        "orders",
        "sessions",
        "speakers",
        "sponsors",
        "event_feedback",
        "networking_connections",
        "event_checkins",
        "refused_scans",
        "event_materials",
        "event_announcements",
        "event_analytics",
        "event_waitlists",
        "event_expenses",
        "event_teams",
        "session_registrations",
        "outbox_messages",
        "audit_log",
        "ticket_types",
    ] {
        assert_eq!(
            count(&loner.client, &format!("SELECT count(*) FROM {table}")).await,
            0,
            "{table}"
        );
    }
    // Only their own profile.
    assert_eq!(
        count(&loner.client, "SELECT count(*) FROM profiles").await,
        1
    );
    for table in [
        "realtime_watermarks",
        "rollup_refreshes",
        "analytics_hourly",
        "feedback_summary",
    ] {
        let err = loner
            .client
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await
            .expect_err(table);
        assert_eq!(sqlstate(&err), "42501", "{table}");
    }
}

#[tokio::test]
async fn no_operator_can_change_or_remove_the_audit_trail() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let organizer = db
        .member(f.event, "olga", "Olga Organizer", "organizer")
        .await;
    let sam = db
        .member(f.event, "sam", "Sam Submitter", "coordinator")
        .await;
    let expense: Uuid = sam
        .client
        .query_one(
            "SELECT id FROM submit_expense($1, 'Radios', 300, 'technology')",
            &[&f.event],
        )
        .await
        .expect("submit")
        .get(0);
    organizer
        .client
        .query_one("SELECT * FROM approve_expense($1)", &[&expense])
        .await
        .expect("approve");
    let rows = organizer
        .client
        .query(
            "SELECT action, actor_id, actor_role FROM audit_log WHERE row_id = $1 ORDER BY id",
            &[&expense],
        )
        .await
        .expect("audit visible to the organizer");
    let trail: Vec<(String, Option<Uuid>, String)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        trail,
        vec![
            (
                "event_expenses.pending".to_owned(),
                Some(sam.profile),
                sam.role.clone()
            ),
            (
                "event_expenses.approved".to_owned(),
                Some(organizer.profile),
                organizer.role.clone()
            ),
        ]
    );
    for sql in [
        "UPDATE audit_log SET action = 'nothing happened'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "INSERT INTO audit_log (actor_role, table_name, action, prev_hash, hash) VALUES ('x', 'x', 'x', '\\x', '\\x01')",
    ] {
        let err = organizer.client.execute(sql, &[]).await.expect_err(sql);
        assert_eq!(sqlstate(&err), "42501", "{sql}");
    }
    // Not even the schema's owner, short of switching triggers off.
    let err = admin
        .execute("DELETE FROM audit_log", &[])
        .await
        .expect_err("owner delete");
    assert_eq!(refusal_code(&err), "audit_append_only");
    let broken: Option<i64> = admin
        .query_one("SELECT audit_first_broken_link()", &[])
        .await
        .expect("verify")
        .get(0);
    assert_eq!(broken, None);
}

#[tokio::test]
async fn a_tampered_audit_row_breaks_the_chain_where_it_was_changed() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let sam = db
        .member(f.event, "sam", "Sam Submitter", "coordinator")
        .await;
    for i in 0..3 {
        sam.client
            .query_one(
                "SELECT id FROM submit_expense($1, $2, 10, 'miscellaneous')",
                &[&f.event, &format!("Item {i}")],
            )
            .await
            .expect("submit");
    }
    let ids: Vec<i64> = admin
        .query("SELECT id FROM audit_log ORDER BY id", &[])
        .await
        .expect("ids")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(ids.len() >= 3);
    let victim = ids[ids.len() - 2];
    admin
        .batch_execute(&format!(
            "SET session_replication_role = replica;
             UPDATE audit_log SET new_row = jsonb_set(new_row, '{{amount}}', '9999') WHERE id = {victim};
             SET session_replication_role = origin;"
        ))
        .await
        .expect("tamper as a superuser with triggers off");
    let broken: Option<i64> = admin
        .query_one("SELECT audit_first_broken_link()", &[])
        .await
        .expect("verify")
        .get(0);
    assert_eq!(broken, Some(victim));
    let output = common::eventos(&["audit", "verify", "--database-url", &db.url])
        .output()
        .expect("eventos audit verify");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("audit entry {victim}")),
        "{stderr}"
    );
}

#[tokio::test]
async fn identity_survives_set_role_set_config_and_reset() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let volunteer = db
        .member(f.event, "val", "Val Volunteer", "volunteer")
        .await;
    let organizer = db
        .member(f.event, "olga", "Olga Organizer", "organizer")
        .await;
    let c = &volunteer.client;
    let err = c
        .batch_execute(&format!("SET ROLE {}", organizer.role))
        .await
        .expect_err("not a member of that role");
    assert_eq!(sqlstate(&err), "42501");
    let err = c
        .batch_execute("SET SESSION AUTHORIZATION postgres")
        .await
        .expect_err("not a superuser");
    assert_eq!(sqlstate(&err), "42501");
    c.batch_execute(&format!(
        "SELECT set_config('eventos.profile_id', '{}', false); SET application_name = '{}'",
        organizer.profile, organizer.role
    ))
    .await
    .expect("harmless settings");
    let me: Uuid = c
        .query_one("SELECT acting_profile_id()", &[])
        .await
        .expect("me")
        .get(0);
    assert_eq!(me, volunteer.profile);
    assert_eq!(count(c, "SELECT count(*) FROM event_expenses").await, 0);
}

#[tokio::test]
async fn injection_strings_are_stored_verbatim_in_every_text_field() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f: Fixture = fixture(&admin).await;
    let organizer = db
        .member(f.event, "olga", "Olga Organizer", "organizer")
        .await;
    let c = &organizer.client;
    let nasty = [
        "'; DROP TABLE event_expenses; --",
        "\" OR 1=1 --",
        "$$; SELECT pg_sleep(5); $$",
        "Robert'); DELETE FROM audit_log;--",
        "%s %n %x {0} ${HOME}",
        "<script>alert(1)</script>",
    ];
    for text in nasty {
        let expense: Uuid = c
            .query_one(
                "SELECT id FROM submit_expense($1, $2, 1, 'miscellaneous', NULL, $2, $2, $2, $2, $2)",
                &[&f.event, &text],
            )
            .await
            .expect("expense")
            .get(0);
        let row = admin
            .query_one(
                "SELECT expense_name, vendor_name, description, invoice_number, receipt_url, invoice_url
                   FROM event_expenses WHERE id = $1",
                &[&expense],
            )
            .await
            .expect("read back");
        for i in 0..6 {
            assert_eq!(row.get::<_, String>(i), text);
        }
        let announcement: Uuid = c
            .query_one(
                "SELECT id FROM create_announcement($1, $2, $2)",
                &[&f.event, &text],
            )
            .await
            .expect("announcement")
            .get(0);
        let (title, content): (String, String) = {
            let r = admin
                .query_one(
                    "SELECT title, content FROM event_announcements WHERE id = $1",
                    &[&announcement],
                )
                .await
                .expect("read back");
            (r.get(0), r.get(1))
        };
        assert_eq!((title.as_str(), content.as_str()), (text, text));
        let reason: String = c
            .query_one(
                "SELECT cancel_reason FROM cancel_waitlist_entry($1, $2)",
                &[&f.waitlist, &text],
            )
            .await
            .map(|r| r.get(0))
            .unwrap_or_else(|_| text.to_owned()); // only the first cancel can succeed
        assert_eq!(reason, text);
        let gate: Option<String> = c
            .query_one(
                "SELECT accepted FROM check_in_by_code($1, 'FIX-0001', $2)",
                &[&f.event, &text],
            )
            .await
            .map(|_| None)
            .expect("scan");
        assert!(gate.is_none());
    }
    let gates: i64 = admin
        .query_one(
            "SELECT count(*) FROM refused_scans WHERE gate = ANY ($1)",
            &[&nasty.to_vec()],
        )
        .await
        .expect("gates")
        .get(0);
    assert_eq!(gates, nasty.len() as i64, "every gate name stored as typed");
    assert_eq!(
        count(&admin, "SELECT count(*) FROM event_expenses").await,
        1 + nasty.len() as i64
    );
}

#[tokio::test]
async fn operator_add_is_idempotent_and_the_new_login_works() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let _f = fixture(&admin).await;
    let login = format!("{}_vic", db.name);
    let add = || {
        common::eventos(&[
            "operator",
            "add",
            "--database-url",
            &db.url,
            "--event",
            "fixture-conf",
            "--email",
            "vic@example.org",
            "--name",
            "Vic Volunteer",
            "--role",
            "volunteer",
            "--login",
            &login,
        ])
        .output()
        .expect("operator add")
    };
    let first = add();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let second = add();
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    db.adopt_role(&login);
    assert_eq!(
        count(
            &admin,
            &format!("SELECT count(*) FROM profiles WHERE login_role = '{login}'")
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &admin,
            "SELECT count(*) FROM event_teams WHERE role = 'volunteer'"
        )
        .await,
        1
    );

    let vic = db.connect_as(&login).await;
    assert_eq!(count(&vic, "SELECT count(*) FROM event_expenses").await, 0);
    assert!(count(&vic, "SELECT count(*) FROM attendees").await >= 2);
    let doctor = common::eventos(&[
        "doctor",
        "--database-url",
        &db.url.replacen("postgres@", &format!("{login}@"), 1),
    ])
    .output()
    .expect("doctor as vic");
    let stdout = String::from_utf8_lossy(&doctor.stdout);
    assert!(
        stdout.contains("Vic Volunteer: volunteer at fixture-conf"),
        "{stdout}"
    );

    let list = common::eventos(&[
        "operator",
        "list",
        "--database-url",
        &db.url,
        "--event",
        "fixture-conf",
    ])
    .output()
    .expect("list");
    assert!(String::from_utf8_lossy(&list.stdout).contains(&login));
    let remove = common::eventos(&[
        "operator",
        "remove",
        "--database-url",
        &db.url,
        "--event",
        "fixture-conf",
        "--login",
        &login,
    ])
    .output()
    .expect("remove");
    assert!(
        remove.status.success(),
        "{}",
        String::from_utf8_lossy(&remove.stderr)
    );
    assert_eq!(
        count(&vic, "SELECT count(*) FROM attendees").await,
        0,
        "removed: sees nothing"
    );

    let bad = common::eventos(&[
        "operator",
        "add",
        "--database-url",
        &db.url,
        "--event",
        "no-such-event",
        "--email",
        "x@example.org",
        "--name",
        "X",
        "--role",
        "volunteer",
    ])
    .output()
    .expect("bad add");
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("no event has the slug \"no-such-event\"")
    );
    let bad = common::eventos(&[
        "operator",
        "add",
        "--database-url",
        &db.url,
        "--event",
        "fixture-conf",
        "--email",
        "x@example.org",
        "--name",
        "X",
        "--role",
        "overlord",
    ])
    .output()
    .expect("bad role");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("role must be one of"));
}

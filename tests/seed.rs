//! `eventos seed`: the counts asked for, every state the desks show, every rule intact, and the same
//! seed giving the same event.

mod common;

use common::{TestDb, eventos, rule_violations};
use eventos::demo::seed::{SeedOptions, operator_login, seed};

fn slug_for(db: &TestDb) -> String {
    db.name.replace('_', "-")
}

#[tokio::test]
async fn the_default_seed_is_a_live_conference_with_every_state() {
    let db = TestDb::migrated().await;
    let slug = slug_for(&db);
    db.adopt_seed_operators(&slug);
    let output = eventos(&["seed", "--database-url", &db.url, "--slug", &slug])
        .output()
        .expect("eventos seed");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("5000 attendees"), "{stdout}");
    assert!(
        stdout.contains(&operator_login(&slug, "volunteer")),
        "{stdout}"
    );

    let admin = db.client().await;
    let event: uuid::Uuid = admin
        .query_one("SELECT id FROM events WHERE slug = $1", &[&slug])
        .await
        .expect("event")
        .get(0);
    let count = |sql: &'static str| {
        let admin = &admin;
        async move {
            admin
                .query_one(sql, &[&event])
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e:?}"))
                .get::<_, i64>(0)
        }
    };
    assert_eq!(
        count("SELECT count(*) FROM attendees WHERE event_id = $1").await,
        5000
    );
    assert_eq!(
        count("SELECT count(*) FROM tickets WHERE event_id = $1").await,
        5000
    );
    assert_eq!(
        count("SELECT count(DISTINCT status) FROM tickets WHERE event_id = $1").await,
        3,
        "valid, void, refunded"
    );
    assert_eq!(
        count(
            "SELECT count(*) FROM tickets t JOIN ticket_types tt ON tt.id = t.ticket_type_id
                WHERE t.event_id = $1 AND t.price_paid <> tt.price"
        )
        .await,
        0,
        "every ticket paid its type's price"
    );
    assert_eq!(
        count("SELECT count(DISTINCT ticket_type_id) FROM tickets WHERE event_id = $1").await,
        4,
        "VIP, general, day pass, student"
    );
    assert_eq!(count("SELECT count(*) FROM venues v JOIN events e ON v.parent_id = e.venue_id WHERE e.id = $1").await, 8);
    let sessions = count("SELECT count(*) FROM sessions WHERE event_id = $1").await;
    assert!((110..=130).contains(&sessions), "{sessions} sessions");
    assert_eq!(
        count("SELECT count(DISTINCT session_type) FROM sessions WHERE event_id = $1").await,
        5
    );
    assert_eq!(
        count("SELECT count(DISTINCT status) FROM sessions WHERE event_id = $1").await,
        4
    );
    assert_eq!(
        count("SELECT count(DISTINCT sponsorship_tier) FROM sponsors WHERE event_id = $1").await,
        5
    );
    assert_eq!(
        count("SELECT count(DISTINCT role) FROM event_teams WHERE event_id = $1").await,
        7,
        "every team role"
    );
    assert_eq!(
        count("SELECT count(DISTINCT expense_category) FROM event_expenses WHERE event_id = $1")
            .await,
        7
    );
    assert_eq!(
        count("SELECT count(DISTINCT status) FROM event_expenses WHERE event_id = $1").await,
        4
    );
    assert_eq!(
        count("SELECT count(DISTINCT status) FROM event_announcements WHERE event_id = $1").await,
        4
    );
    assert!(
        count("SELECT count(*) FROM event_waitlists WHERE event_id = $1 AND status = 'offered'")
            .await
            > 0
    );
    assert!(count("SELECT count(*) FROM event_checkins WHERE event_id = $1 AND check_in_time > now() - interval '1 hour'").await > 0);
    assert!(count("SELECT count(*) FROM event_feedback WHERE event_id = $1").await > 0);
    assert!(count("SELECT count(*) FROM networking_connections WHERE event_id = $1").await > 0);
    assert!(count("SELECT count(*) FROM event_materials WHERE event_id = $1").await > 0);
    assert!(count("SELECT count(*) FROM event_analytics WHERE event_id = $1").await > 0);
    assert!(count("SELECT count(*) FROM refused_scans WHERE event_id = $1").await > 0);
    let today: bool = admin
        .query_one(
            "SELECT starts_at < now() AND ends_at > now() FROM events WHERE id = $1",
            &[&event],
        )
        .await
        .expect("window")
        .get(0);
    assert!(today, "today is the live day");
    assert_eq!(rule_violations(&admin, event).await, Vec::<String>::new());

    // The volunteer's login works and sees the event, and no expenses.
    let volunteer = db.connect_as(&operator_login(&slug, "volunteer")).await;
    let (attendees, expenses): (i64, i64) = {
        let row = volunteer
            .query_one(
                "SELECT (SELECT count(*) FROM attendees), (SELECT count(*) FROM event_expenses)",
                &[],
            )
            .await
            .expect("as volunteer");
        (row.get(0), row.get(1))
    };
    assert_eq!((attendees, expenses), (5000, 0));

    let again = eventos(&["seed", "--database-url", &db.url, "--slug", &slug])
        .output()
        .expect("again");
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}

#[tokio::test]
async fn the_same_seed_gives_the_same_event() {
    let mut fingerprints = Vec::new();
    for _ in 0..2 {
        let db = TestDb::migrated().await;
        let slug = "same-seed".to_owned();
        db.adopt_seed_operators(&slug);
        let mut client = db.client().await;
        seed(
            &mut client,
            &SeedOptions {
                slug: slug.clone(),
                attendees: 300,
                seed: 7,
            },
        )
        .await
        .expect("seed");
        let fingerprint: String = client
            .query_one(
                "SELECT md5(string_agg(a.first_name || a.last_name || a.email || t.code || t.status, ',' ORDER BY t.code))
                   || (SELECT md5(string_agg(title || duration_minutes || status, ',' ORDER BY start_time, title)) FROM sessions)
                   || (SELECT count(*) FROM event_checkins)::text
                   || (SELECT count(*) FROM event_waitlists)::text
                   FROM attendees a JOIN tickets t ON t.attendee_id = a.id",
                &[],
            )
            .await
            .expect("fingerprint")
            .get(0);
        fingerprints.push(fingerprint);
        // The roles are the server's: drop them before the second run creates them again.
        drop(client);
        drop(db);
    }
    assert_eq!(fingerprints[0], fingerprints[1]);
}

#[tokio::test]
async fn bad_seed_options_are_one_sentence() {
    let db = TestDb::migrated().await;
    for (args, expected) in [
        (
            vec!["--attendees", "3"],
            "--attendees must be between 10 and 5,000,000",
        ),
        (vec!["--slug", "Not A Slug"], "--slug must be"),
    ] {
        let mut all = vec!["seed", "--database-url", &db.url];
        all.extend(args);
        let output = eventos(&all).output().expect("seed");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1));
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
    }
}

#[tokio::test]
async fn two_events_seed_side_by_side_in_one_database() {
    // Order numbers, payment references and ticket codes are unique across the whole database.
    let db = TestDb::migrated().await;
    let mut client = db.client().await;
    for slug in ["side-a", "side-b"] {
        db.adopt_seed_operators(slug);
        seed(
            &mut client,
            &SeedOptions {
                slug: slug.to_owned(),
                attendees: 50,
                seed: 42,
            },
        )
        .await
        .unwrap_or_else(|e| panic!("seeding {slug}: {e:#}"));
    }
    let events: i64 = client
        .query_one("SELECT count(DISTINCT event_id) FROM tickets", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(events, 2);
}

//! `eventos migrate`: applies to an empty database, a second run changes nothing, concurrent runs are
//! safe, and an edited applied migration is refused with a clear sentence.

mod common;

use common::{TestDb, eventos};
use eventos::db::migrate::{self, SchemaState};
use tokio_postgres::Client;

/// Everything a migration could change, as one comparable text.
async fn catalog_fingerprint(client: &Client) -> String {
    client
        .query_one(
            "SELECT concat_ws(' | ',
               (SELECT string_agg(relname || ':' || relkind::text, ',' ORDER BY relname) FROM pg_class
                 WHERE relnamespace = 'public'::regnamespace),
               (SELECT string_agg(p.oid::regprocedure::text || md5(p.prosrc), ',' ORDER BY 1) FROM pg_proc p
                 WHERE p.pronamespace = 'public'::regnamespace),
               (SELECT string_agg(tgname, ',' ORDER BY tgname) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
                 WHERE c.relnamespace = 'public'::regnamespace),
               (SELECT string_agg(conname || pg_get_constraintdef(oid), ',' ORDER BY conname) FROM pg_constraint
                 WHERE connamespace = 'public'::regnamespace),
               (SELECT string_agg(version || name || checksum, ',' ORDER BY version) FROM refinery_schema_history))",
            &[],
        )
        .await
        .expect("fingerprint")
        .get(0)
}

#[tokio::test]
async fn migrations_apply_to_an_empty_database_and_a_rerun_changes_nothing() {
    let db = TestDb::empty().await;
    let mut client = db.client().await;
    assert_eq!(
        migrate::state(&client).await.expect("state"),
        SchemaState::Empty
    );

    let first = migrate::apply(&mut client).await.expect("first run");
    let known = migrate::known();
    assert_eq!(first.applied.len(), known.len());
    let latest = known.last().expect("migrations").version;
    assert_eq!(
        migrate::state(&client).await.expect("state"),
        SchemaState::Current { version: latest }
    );
    let before = catalog_fingerprint(&client).await;

    let second = migrate::apply(&mut client).await.expect("second run");
    assert!(
        second.applied.is_empty(),
        "a rerun applied {:?}",
        second.applied
    );
    assert_eq!(catalog_fingerprint(&client).await, before);
}

#[tokio::test]
async fn the_binary_migrates_and_a_second_run_says_nothing_to_apply() {
    let db = TestDb::empty().await;
    let run = || {
        eventos(&["migrate", "--database-url", &db.url])
            .output()
            .expect("run eventos")
    };
    let first = run();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(String::from_utf8_lossy(&first.stdout).starts_with("applied "));
    let second = run();
    assert!(second.status.success());
    assert!(
        String::from_utf8_lossy(&second.stdout).starts_with("nothing to apply"),
        "{}",
        String::from_utf8_lossy(&second.stdout)
    );
}

#[tokio::test]
async fn concurrent_runs_apply_each_migration_once() {
    let db = TestDb::empty().await;
    let mut runs = Vec::new();
    for _ in 0..4 {
        let url = db.url.clone();
        runs.push(tokio::spawn(async move {
            let (mut client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .expect("connect");
            tokio::spawn(connection);
            migrate::apply(&mut client).await.map(|a| a.applied.len())
        }));
    }
    let mut total = 0;
    for run in runs {
        total += run.await.expect("join").expect("a concurrent run failed");
    }
    assert_eq!(
        total,
        migrate::known().len(),
        "each migration applied exactly once"
    );
}

#[tokio::test]
async fn an_edited_applied_migration_is_refused_with_a_clear_sentence() {
    let db = TestDb::migrated().await;
    let mut client = db.client().await;
    // What an edited file looks like from the database's side: a different checksum for V2.
    client
        .execute(
            "UPDATE refinery_schema_history SET checksum = '12345' WHERE version = 2",
            &[],
        )
        .await
        .expect("tamper");
    let before = catalog_fingerprint(&client).await;
    let err = migrate::apply(&mut client)
        .await
        .expect_err("edited migration");
    let message = format!("{err:#}");
    assert!(
        message.starts_with("migration V2__event_day_tables was changed after it was applied"),
        "{message}"
    );
    assert!(message.contains("append-only"), "{message}");
    assert_eq!(
        catalog_fingerprint(&client).await,
        before,
        "a refused run changed the schema"
    );
    assert!(matches!(
        migrate::state(&client).await.expect("state"),
        SchemaState::Edited { version: 2, .. }
    ));

    let output = eventos(&["migrate", "--database-url", &db.url])
        .output()
        .expect("run eventos");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "one sentence, got: {stderr}");
    assert!(
        stderr.contains("was changed after it was applied"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_database_migrated_by_a_newer_build_is_named_as_such() {
    let db = TestDb::migrated().await;
    let mut client = db.client().await;
    client
        .execute(
            "INSERT INTO refinery_schema_history (version, name, applied_on, checksum)
             VALUES (9999, 'from_the_future', '2030-01-01T00:00:00Z', '1')",
            &[],
        )
        .await
        .expect("insert");
    let err = migrate::apply(&mut client)
        .await
        .expect_err("newer database");
    assert!(format!("{err:#}").contains("upgrade eventos"), "{err:#}");
}

/// V10 gives entries written under V9 with only a location (the seed's column) their gate, and moves
/// them in the per-gate totals from "(no gate)" to that place.
#[tokio::test]
async fn entries_written_with_only_a_location_get_their_gate_from_v10() {
    let db = TestDb::empty().await;
    let mut admin = db.client().await;
    eventos::db::migrate::apply_up_to(&mut admin, 9)
        .await
        .expect("migrated up to V9");
    let f = common::fixture(&admin).await;
    common::check_in_with_only_a_location(&admin, &f, "East Door").await;
    admin
        .query_one("SELECT realtime_flush()", &[])
        .await
        .expect("flush");
    let before = common::gate_totals(&admin, f.event).await;
    assert_eq!(before, ["(no gate) 1", "North Gate 1"]);
    eventos::db::migrate::apply(&mut admin)
        .await
        .expect("migrated to the end");
    let gate: Option<String> = admin
        .query_one(
            "SELECT gate FROM event_checkins WHERE attendee_id = $1",
            &[&f.other_attendee],
        )
        .await
        .expect("the entry")
        .get(0);
    assert_eq!(gate.as_deref(), Some("East Door"));
    let after = common::gate_totals(&admin, f.event).await;
    assert_eq!(after, ["East Door 1", "North Gate 1"]);
}

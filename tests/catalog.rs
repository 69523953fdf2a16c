//! Rules that hold across the whole catalog: indexes behind foreign keys, pinned search paths,
//! updated_at triggers, the partial indexes the desks read.

mod common;

use common::TestDb;

#[tokio::test]
async fn every_foreign_key_column_has_an_index_that_leads_with_it() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let rows = client
        .query(
            "SELECT c.conrelid::regclass::text, a.attname
               FROM pg_constraint c
               JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
              WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
                AND c.conparentid = 0
                AND NOT EXISTS (
                      SELECT 1 FROM pg_index i
                       WHERE i.indrelid = c.conrelid AND i.indkey[0] = c.conkey[1])
              ORDER BY 1, 2",
            &[],
        )
        .await
        .expect("catalog query");
    let missing: Vec<String> = rows
        .iter()
        .map(|r| format!("{}.{}", r.get::<_, String>(0), r.get::<_, String>(1)))
        .collect();
    assert!(
        missing.is_empty(),
        "foreign keys without an index: {missing:?}"
    );
}

#[tokio::test]
async fn every_function_pins_its_search_path() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let rows = client
        .query(
            "SELECT p.oid::regprocedure::text
               FROM pg_proc p
              WHERE p.pronamespace = 'public'::regnamespace
                AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) AS c WHERE c LIKE 'search_path=%')
              ORDER BY 1",
            &[],
        )
        .await
        .expect("catalog query");
    let unpinned: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert!(
        unpinned.is_empty(),
        "functions without a fixed search_path: {unpinned:?}"
    );
}

#[tokio::test]
async fn every_table_with_updated_at_has_the_trigger() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let rows = client
        .query(
            "SELECT c.relname
               FROM pg_class c
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'updated_at'
              WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
                AND NOT c.relispartition
                AND NOT EXISTS (
                      SELECT 1 FROM pg_trigger t
                       WHERE t.tgrelid = c.oid AND t.tgfoid = 'public.set_updated_at()'::regprocedure)
              ORDER BY 1",
            &[],
        )
        .await
        .expect("catalog query");
    let missing: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert!(
        missing.is_empty(),
        "tables whose updated_at nobody keeps: {missing:?}"
    );
}

#[tokio::test]
async fn the_desk_queues_have_partial_indexes() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    for (index, predicate_part) in [
        ("event_expenses_pending_idx", "'pending'"),
        ("event_waitlists_open_queue_idx", "'waiting'"),
        ("event_waitlists_offer_expiry_idx", "'offered'"),
        ("event_announcements_due_idx", "'scheduled'"),
        ("event_checkins_present_at_event_key", "is_present"),
        ("event_checkins_present_in_session_key", "is_present"),
    ] {
        let predicate: Option<String> = client
            .query_one(
                "SELECT pg_get_expr(i.indpred, i.indrelid) FROM pg_index i
                  WHERE i.indexrelid = to_regclass('public.' || $1)",
                &[&index],
            )
            .await
            .unwrap_or_else(|e| panic!("{index} is missing: {e}"))
            .get(0);
        let predicate = predicate.unwrap_or_else(|| panic!("{index} is not partial"));
        assert!(predicate.contains(predicate_part), "{index}: {predicate}");
    }
}

#[tokio::test]
async fn money_is_numeric_and_time_is_timestamptz() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let rows = client
        .query(
            "SELECT c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
               FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
              WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'm')
                AND a.attnum > 0 AND NOT a.attisdropped
                AND (a.atttypid IN ('float4'::regtype, 'float8'::regtype, 'money'::regtype,
                                    'timestamp'::regtype, 'timetz'::regtype))",
            &[],
        )
        .await
        .expect("catalog query");
    let bad: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert!(
        bad.is_empty(),
        "floating-point money or zone-less time: {bad:?}"
    );
}

#[tokio::test]
async fn every_table_has_row_level_security_enabled_and_forced() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let rows = client
        .query(
            "SELECT relname::text FROM pg_class
              WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p')
                AND NOT (relrowsecurity AND relforcerowsecurity)
              ORDER BY 1",
            &[],
        )
        .await
        .expect("catalog query");
    let open: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert!(
        open.is_empty(),
        "tables without forced row level security: {open:?}"
    );
}

#[tokio::test]
async fn security_definer_functions_are_few_and_pinned() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    // Every definer function runs with a fixed search_path (checked for all functions above) and none is
    // callable by PUBLIC unless it is a read-only helper or a trigger.
    let rows = client
        .query(
            "SELECT p.oid::regprocedure::text FROM pg_proc p
              WHERE p.pronamespace = 'public'::regnamespace AND p.prosecdef
                AND p.prorettype <> 'trigger'::regtype AND p.provolatile = 'v'
                AND has_function_privilege('public', p.oid, 'EXECUTE')
              ORDER BY 1",
            &[],
        )
        .await
        .expect("catalog query");
    let open: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert!(
        open.is_empty(),
        "volatile definer functions anyone may call: {open:?}"
    );
}

#[tokio::test]
async fn definer_functions_search_pg_temp_last() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let rows = client
        .query(
            "SELECT p.oid::regprocedure::text FROM pg_proc p
              WHERE p.pronamespace = 'public'::regnamespace AND p.prosecdef
                AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) AS c
                                 WHERE c LIKE 'search_path=%' AND c LIKE '%pg_temp')",
            &[],
        )
        .await
        .expect("catalog");
    let exposed: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert!(
        exposed.is_empty(),
        "definer functions that would search a caller's temp tables first: {exposed:?}"
    );
}

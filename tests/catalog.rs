//! Rules that hold across the whole catalog: indexes behind foreign keys, pinned search paths,
//! updated_at triggers, the partial indexes the desks read, and the privileges that keep the rules'
//! machinery out of callers' hands (docs/security.md, "Threat model").

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

/// Every function of the schema: whether it runs with its owner's rights, and who besides the owner may
/// execute it. A new function, a new grant or a function that starts running as its owner changes this
/// list, on purpose and in review.
const FUNCTIONS: &[&str] = &[
    // The SQL API: definer, operators.
    "accept_offer(uuid) | definer | eventos_operator",
    "approve_expense(uuid) | definer | eventos_operator",
    "cancel_announcement(uuid) | definer | eventos_operator",
    "cancel_session_seat(uuid,uuid) | definer | eventos_operator",
    "cancel_waitlist_entry(uuid,text) | definer | eventos_operator",
    "check_in_attendee(uuid,text,uuid) | definer | eventos_operator",
    "check_in_by_code(uuid,text,text,text,uuid) | definer | eventos_operator",
    "check_out(uuid,uuid) | definer | eventos_operator",
    "create_announcement(uuid,text,text,text,text,uuid[],text[]) | definer | eventos_operator",
    "extend_offer(uuid,interval) | definer | eventos_operator",
    "join_waitlist(uuid,uuid,boolean) | definer | eventos_operator",
    "mark_expense_paid(uuid,date) | definer | eventos_operator",
    "offer_next(uuid,uuid,integer) | definer | eventos_operator",
    "register_session_seat(uuid,uuid) | definer | eventos_operator",
    "reject_expense(uuid,text) | definer | eventos_operator",
    "schedule_announcement(uuid,timestamp with time zone) | definer | eventos_operator",
    "send_announcement_now(uuid) | definer | eventos_operator",
    "set_session_capacity(uuid,integer) | definer | eventos_operator",
    "set_session_status(uuid,text) | definer | eventos_operator",
    "submit_expense(uuid,text,numeric,text,text,text,text,text,text,text) | definer | eventos_operator",
    "update_announcement(uuid,text,text,text,text,uuid[],text[]) | definer | eventos_operator",
    // Reading and identity.
    "acting_profile_id() | definer | eventos_operator,eventos_worker",
    "announcement_reach(uuid) | definer | eventos_operator",
    "announcement_recipients(uuid) | invoker | eventos_operator",
    "event_analytics_hourly(uuid) | definer | eventos_operator",
    "event_feedback_summary(uuid) | definer | eventos_operator",
    "has_event_permission(uuid,text) | invoker | eventos_operator,eventos_worker",
    "is_administrator() | definer | eventos_operator,eventos_worker",
    "is_currency_code(text) | invoker | eventos_operator",
    "is_iana_time_zone(text) | invoker | eventos_operator",
    "member_event_ids(text) | definer | eventos_operator,eventos_worker",
    "profile_name(uuid) | invoker | eventos_operator",
    "realtime_flushed_at() | definer | eventos_operator,eventos_worker",
    "checkin_summary(uuid) | definer | eventos_operator",
    "realtime_batch_views(uuid,bigint[]) | definer | eventos_operator",
    "gate_watch(uuid) | definer | eventos_operator",
    "incident_timeline(uuid,timestamp with time zone,text[]) | definer | eventos_operator",
    "add_incident_note(uuid,text) | definer | eventos_operator",
    "report_console_outage(uuid,interval,text) | definer | eventos_operator",
    "acknowledge_gate_alert(uuid) | definer | eventos_operator",
    "set_gate_watch(uuid,integer,numeric,numeric,integer,integer) | definer | eventos_operator",
    "realtime_feed_channel(uuid,text) | definer | eventos_operator",
    "realtime_feed_seen(text) | definer | eventos_operator",
    "realtime_late_writers() | definer | eventos_operator",
    "worker_seen_at() | definer | eventos_operator,eventos_worker",
    // The worker's steps.
    "dispatch_due_announcements(integer) | definer | eventos_worker",
    "ensure_analytics_partitions(date,integer) | definer | eventos_worker",
    "expire_offers() | definer | eventos_worker",
    "realtime_flush() | definer | eventos_worker",
    "realtime_prune() | definer | eventos_worker",
    "gate_watch_sweep() | definer | eventos_worker",
    // Consoles announce check-ins themselves when no worker runs (only then, and only in a statement
    // of its own: the flush holds every event's watermarks until its transaction ends).
    "realtime_flush_for_console() | definer | eventos_operator",
    "worker_heartbeat() | definer | eventos_worker",
    "refresh_rollups() | definer | eventos_worker",
    // Trigger functions: nobody may attach them anywhere.
    "announcement_target_sessions_check() | definer | -",
    "attendee_totals_count() | definer | -",
    "checkin_totals_mark_dirty() | definer | -",
    "gate_watch_settings_made() | definer | -",
    "realtime_feed_rotate() | definer | -",
    "attendee_cancelled() | definer | -",
    "audit_log_append_only() | invoker | -",
    "audit_transition() | definer | -",
    "capacity_freed() | definer | -",
    "event_announcements_guard() | definer | -",
    "event_announcements_sent() | definer | -",
    "event_checkins_guard() | definer | -",
    "event_checkins_presence() | definer | -",
    "event_expenses_guard() | definer | -",
    "event_teams_defaults() | definer | -",
    "event_waitlists_after() | definer | -",
    "event_waitlists_guard() | definer | -",
    "realtime_notify_statement() | invoker | -",
    "refused_scans_guard() | invoker | -",
    "rules_only() | invoker | -",
    "same_event_references() | invoker | -",
    "session_registrations_count() | definer | -",
    "session_registrations_guard() | definer | -",
    "sessions_guard() | definer | -",
    "set_change_xid() | invoker | -",
    "set_updated_at() | invoker | -",
    // Internal: the owner's code calls them.
    "announcement_write_outbox(uuid) | invoker | -",
    "checkin_summary_of(uuid) | invoker | -",
    "checkin_totals_recount(uuid) | invoker | -",
    "realtime_announce(text,uuid,xid8,xid8,xid8[],bigint,bigint) | invoker | -",
    "realtime_announced(xid8,xid8,xid8[]) | invoker | -",
    "realtime_push(uuid[],bigint[]) | invoker | -",
    "realtime_make_views(uuid[],bigint[],uuid[],xid8,xid8,xid8[],xid8,xid8,xid8[]) | invoker | -",
    "attendee_name(jsonb) | invoker | -",
    "profile_name_or_null(uuid) | invoker | -",
    "audit_append(text,uuid,uuid,text,jsonb,jsonb) | definer | -",
    "audit_chain(audit_pending) | invoker | -",
    "audit_first_broken_link() | invoker | -",
    "audit_payload(audit_log) | invoker | -",
    "checkin_admit(uuid,uuid,uuid,text,text,text) | invoker | -",
    "checkin_admit_ticket(uuid,uuid,checkin_ticket,text,text,text) | invoker | -",
    "checkin_refusal(uuid,uuid,text,text,text,text,text,uuid,uuid,uuid) | invoker | -",
    "default_permissions(text) | invoker | -",
    "event_local_time(uuid,timestamp with time zone) | invoker | -",
    "event_visible(uuid,text) | invoker | -",
    "expense_lock_pending(uuid,text) | invoker | -",
    "realtime_attach(regclass,text) | invoker | -",
    "refuse(text,text) | invoker | -",
    "require_event(uuid,text,text) | invoker | -",
    "require_permission(uuid,text[]) | invoker | -",
    "security_owner_policy(regclass) | invoker | -",
    "security_protect(regclass,text,text,text) | invoker | -",
    "waitlist_fill(uuid,uuid,integer) | invoker | -",
    "waitlist_lock_entry(uuid) | invoker | -",
    "waitlist_lock_queue(uuid,uuid,boolean) | invoker | -",
    "waitlist_offers_outstanding(uuid,uuid) | invoker | -",
    "waitlist_renumber(uuid,uuid) | invoker | -",
];

#[tokio::test]
async fn the_definer_functions_and_who_may_execute_each_are_exactly_these() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let rows = client
        .query(
            "SELECT p.oid::regprocedure::text || ' | '
                    || CASE WHEN p.prosecdef THEN 'definer' ELSE 'invoker' END || ' | '
                    || coalesce((SELECT string_agg(DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                                                                 ELSE pg_get_userbyid(a.grantee)::text END, ',')
                                   FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                                  WHERE a.privilege_type = 'EXECUTE' AND a.grantee <> p.proowner), '-')
               FROM pg_proc p
              WHERE p.pronamespace = 'public'::regnamespace",
            &[],
        )
        .await
        .expect("catalog query");
    let mut actual: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    actual.sort();
    let mut expected: Vec<String> = FUNCTIONS.iter().map(|s| (*s).to_owned()).collect();
    expected.sort();
    let unexpected: Vec<&String> = actual.iter().filter(|f| !expected.contains(f)).collect();
    let missing: Vec<&String> = expected.iter().filter(|f| !actual.contains(f)).collect();
    assert!(
        unexpected.is_empty() && missing.is_empty(),
        "functions not as listed:\n  in the database: {unexpected:#?}\n  listed: {missing:#?}"
    );
}

#[tokio::test]
async fn no_function_of_ours_is_executable_by_public_and_nobody_else_creates_in_public() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let open: Vec<String> = client
        .query(
            "SELECT p.oid::regprocedure::text FROM pg_proc p
              WHERE p.pronamespace = 'public'::regnamespace AND has_function_privilege('public', p.oid, 'EXECUTE')
              ORDER BY 1",
            &[],
        )
        .await
        .expect("catalog query")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(open.is_empty(), "functions PUBLIC may execute: {open:?}");
    // Functions created later by the migrating role start closed too.
    let defaults: bool = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_default_acl d
                             WHERE d.defaclrole = (SELECT relowner FROM pg_class WHERE oid = 'public.events'::regclass)
                               AND d.defaclobjtype = 'f' AND d.defaclnamespace = 0
                               AND NOT EXISTS (SELECT 1 FROM aclexplode(d.defaclacl) a WHERE a.grantee = 0))",
            &[],
        )
        .await
        .expect("default privileges")
        .get(0);
    assert!(defaults, "new functions would be executable by PUBLIC");
    let creates: Vec<String> = client
        .query(
            "SELECT r.rolname::text FROM pg_roles r
              WHERE r.rolname IN ('eventos_operator', 'eventos_worker')
                AND has_schema_privilege(r.oid, 'public', 'CREATE')
             UNION ALL
             SELECT 'PUBLIC' FROM aclexplode((SELECT nspacl FROM pg_namespace WHERE nspname = 'public')) a
              WHERE a.grantee = 0 AND a.privilege_type = 'CREATE'",
            &[],
        )
        .await
        .expect("schema privileges")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(
        creates.is_empty(),
        "may create objects in public: {creates:?}"
    );
    let large_objects: bool = client
        .query_one(
            "SELECT has_function_privilege('eventos_operator', 'pg_catalog.lo_create(oid)', 'EXECUTE')",
            &[],
        )
        .await
        .expect("lo_create")
        .get(0);
    assert!(!large_objects, "operators may create large objects");
}

#[tokio::test]
async fn every_function_searches_pg_temp_last() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let rows = client
        .query(
            "SELECT p.oid::regprocedure::text FROM pg_proc p
              WHERE p.pronamespace = 'public'::regnamespace
                AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) AS c
                                 WHERE c LIKE 'search_path=%' AND c LIKE '%, pg_temp')
              ORDER BY 1",
            &[],
        )
        .await
        .expect("catalog");
    let exposed: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert!(
        exposed.is_empty(),
        "functions that would search a caller's temporary tables first: {exposed:?}"
    );
}

#[tokio::test]
async fn every_definer_trigger_function_refuses_a_relation_that_is_not_its_own() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let functions: Vec<String> = client
        .query(
            "SELECT p.proname::text FROM pg_proc p
              WHERE p.pronamespace = 'public'::regnamespace AND p.prosecdef
                AND p.prorettype = 'trigger'::regtype
              ORDER BY 1",
            &[],
        )
        .await
        .expect("catalog")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(functions.len() >= 15, "{functions:?}");
    // As the owner (the only one who may attach them): a temporary table with the columns they read.
    client
        .batch_execute(
            "CREATE TEMP TABLE bait (id uuid, event_id uuid, session_id uuid, attendee_id uuid, status text,
                                     is_present boolean DEFAULT true, max_attendees int)",
        )
        .await
        .expect("bait");
    let mut unchecked = Vec::new();
    for function in &functions {
        for timing in ["BEFORE", "AFTER"] {
            client
                .batch_execute(&format!(
                    "CREATE TRIGGER bait {timing} INSERT ON bait FOR EACH ROW EXECUTE FUNCTION public.{function}('status')"
                ))
                .await
                .expect("the owner may attach it");
            let fired = client
                .batch_execute(&format!(
                    "INSERT INTO bait (id, event_id, status) VALUES ('{}', '{}', 'registered')",
                    uuid::Uuid::new_v4(),
                    uuid::Uuid::new_v4()
                ))
                .await;
            let refused_for_its_relation = fired
                .as_ref()
                .err()
                .and_then(|e| e.as_db_error())
                .is_some_and(|d| {
                    d.code().code() == "EV001" && d.constraint() == Some("trigger_relation")
                });
            if !refused_for_its_relation {
                unchecked.push(format!("{function} ({timing}): {fired:?}"));
            }
            client
                .batch_execute("DROP TRIGGER bait ON bait")
                .await
                .expect("drop");
        }
    }
    assert!(
        unchecked.is_empty(),
        "definer trigger functions that ran for a table not their own: {unchecked:#?}"
    );
}

//! The SQL as it is in effect after every migration, one snapshot per kind: each function's whole
//! definition with who may call it, each trigger, each row-security policy, each view. A migration
//! shows its real diff here (`cargo insta review`), whatever earlier file first wrote the object, so a
//! reviewer never has to replay V5, V6 and V7 in their head to know what `check_in_by_code` does now.
//!
//! The administrator who ran the migrations is named "owner", so the snapshots do not depend on who that
//! was. Partitions are left out: their names carry dates (event_analytics_2026_12) and their triggers are
//! clones of the parent's, which is in the snapshot.

mod common;

use common::TestDb;

async fn lines(client: &tokio_postgres::Client, sql: &str) -> String {
    let rows = client.query(sql, &[]).await.expect("catalog query");
    rows.iter()
        .map(|r| r.get::<_, String>(0))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn the_effective_sql_is_what_the_snapshots_say() {
    let db = TestDb::migrated().await;
    let client = db.client().await;

    let functions = lines(
        &client,
        "SELECT format(E'-- %s\\n-- execute: %s\\n%s', p.oid::regprocedure,
                      coalesce((SELECT string_agg(DISTINCT
                                         CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                                              WHEN a.grantee = p.proowner THEN 'owner'
                                              ELSE a.grantee::regrole::text END,
                                         ', ')
                                  FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                                 WHERE a.privilege_type = 'EXECUTE'), 'nobody'),
                      pg_get_functiondef(p.oid))
           FROM pg_proc p
          WHERE p.pronamespace = 'public'::regnamespace
            AND p.prokind IN ('f', 'p')
            AND NOT EXISTS (SELECT FROM pg_depend d
                             WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
          ORDER BY p.oid::regprocedure::text",
    )
    .await;
    insta::assert_snapshot!("functions", functions);

    let triggers = lines(
        &client,
        "SELECT pg_get_triggerdef(t.oid) || CASE t.tgenabled WHEN 'D' THEN '  -- disabled' ELSE '' END
           FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
          WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal
            AND t.tgparentid = 0 AND NOT c.relispartition
          ORDER BY c.relname, t.tgname",
    )
    .await;
    insta::assert_snapshot!("triggers", triggers);

    let policies = lines(
        &client,
        "SELECT format(E'%s.%s (%s, %s, to %s)\\n  using: %s\\n  check: %s', p.tablename, p.policyname,
                      p.permissive, p.cmd,
                      array_to_string(array(SELECT CASE WHEN r = pg_get_userbyid(c.relowner) THEN 'owner'
                                                        ELSE r::text END
                                              FROM unnest(p.roles) r), ', '),
                      coalesce(p.qual, '-'), coalesce(p.with_check, '-'))
           FROM pg_policies p JOIN pg_class c ON c.relname = p.tablename
                              AND c.relnamespace = 'public'::regnamespace
          WHERE p.schemaname = 'public' AND NOT c.relispartition
          ORDER BY p.tablename, p.policyname",
    )
    .await;
    insta::assert_snapshot!("policies", policies);

    let views = lines(
        &client,
        "SELECT format(E'-- %s %s\\n%s', CASE c.relkind WHEN 'm' THEN 'materialized view' ELSE 'view' END,
                      c.relname, pg_get_viewdef(c.oid, true))
           FROM pg_class c
          WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('v', 'm')
          ORDER BY c.relname",
    )
    .await;
    insta::assert_snapshot!("views", views);
}

//! The attack suite: what a person with a login on the server tries in order to talk the database out of
//! its own rules. Each attacker is a real login role on a real connection: a login that is no operator,
//! an operator with no team, a volunteer, registration, a coordinator, finance (a coordinator who may
//! approve expenses), marketing, the event's organizer and another event's organizer. Every attack is
//! refused and leaves every table as it was (compared row by row before and after), or, where the rule is
//! "the database ignores what the caller arranged", has no effect on what is stored.
//!
//! docs/security.md ("Threat model") names the classes these attacks stand for.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{Fixture, Operator, TestDb, fixture, sqlstate};
use tokio_postgres::Client;
use uuid::Uuid;

/// Everyone who attacks event A (the fixture's event), and event B next door.
struct World {
    /// Held for its Drop: the database and the attackers' roles go when the world does.
    _db: TestDb,
    admin: Client,
    a: Fixture,
    b: Uuid,
    b_attendee: Uuid,
    /// A login that is not an operator at all.
    nobody: Client,
    /// An operator on no team.
    stranger: Operator,
    volunteer: Operator,
    registration: Operator,
    coordinator: Operator,
    finance: Operator,
    marketing: Operator,
    organizer: Operator,
    b_organizer: Operator,
}

async fn world() -> World {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let a = fixture(&admin).await;
    let b_row = admin
        .query_one(
            "WITH e AS (INSERT INTO events (slug, name, starts_at, ends_at)
                        VALUES ('event-b', 'Event B', now(), now() + interval '1 day') RETURNING id),
                  at AS (INSERT INTO attendees (event_id, first_name, email)
                         SELECT id, 'Bea', 'bea@example.org' FROM e RETURNING id),
                  tt AS (INSERT INTO ticket_types (event_id, name) SELECT id, 'General' FROM e)
             SELECT e.id, at.id FROM e, at",
            &[],
        )
        .await
        .expect("event B");
    let (b, b_attendee) = (b_row.get(0), b_row.get(1));
    let nobody_role = format!("{}_nobody", db.name);
    admin
        .batch_execute(&format!("CREATE ROLE {nobody_role} LOGIN"))
        .await
        .expect("a plain login");
    db.adopt_role(&nobody_role);
    let nobody = db.connect_as(&nobody_role).await;
    let stranger = db.operator("stranger", "Sam Stranger").await;
    let volunteer = db
        .member(a.event, "vol", "Val Volunteer", "volunteer")
        .await;
    let registration = db
        .member(a.event, "reg", "Rita Registration", "registration")
        .await;
    let coordinator = db
        .member(a.event, "cora", "Cora Coordinator", "coordinator")
        .await;
    let finance = db.operator("fin", "Finn Finance").await;
    admin
        .execute(
            "INSERT INTO event_teams (event_id, member_id, role, permissions)
             VALUES ($1, $2, 'coordinator', ARRAY['submit_expenses', 'approve_expenses'])",
            &[&a.event, &finance.profile],
        )
        .await
        .expect("finance on the team");
    let marketing = db
        .member(a.event, "mark", "Mia Marketing", "marketing")
        .await;
    let organizer = db
        .member(a.event, "org", "Olga Organizer", "organizer")
        .await;
    let b_organizer = db.member(b, "borg", "Bob B-Organizer", "organizer").await;
    World {
        _db: db,
        admin,
        a,
        b,
        b_attendee,
        nobody,
        stranger,
        volunteer,
        registration,
        coordinator,
        finance,
        marketing,
        organizer,
        b_organizer,
    }
}

/// Every table's rows, as a count and a digest (the administrator is a superuser: no row security).
async fn fingerprint(admin: &Client) -> BTreeMap<String, String> {
    let tables = admin
        .query(
            "SELECT c.oid::regclass::text FROM pg_class c
              WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
                AND NOT c.relispartition
              ORDER BY 1",
            &[],
        )
        .await
        .expect("tables");
    let mut digests = BTreeMap::new();
    for row in tables {
        let table: String = row.get(0);
        let digest: String = admin
            .query_one(
                &format!(
                    "SELECT count(*)::text || ' ' || coalesce(md5(string_agg(md5(x::text), ',' ORDER BY md5(x::text))), '')
                       FROM {table} x"
                ),
                &[],
            )
            .await
            .unwrap_or_else(|e| panic!("digest of {table}: {e}"))
            .get(0);
        digests.insert(table, digest);
    }
    digests
}

fn assert_unchanged(
    attack: &str,
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) {
    let changed: Vec<&String> = before
        .iter()
        .filter(|(table, digest)| after.get(*table) != Some(*digest))
        .map(|(table, _)| table)
        .collect();
    assert!(
        changed.is_empty(),
        "{attack}: these tables changed: {changed:?}"
    );
}

/// The rule code of a refusal (EV001), or the SQLSTATE of any other error.
fn refusal(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) if db.code().code() == "EV001" => db.constraint().unwrap_or("").to_owned(),
        Some(db) => db.code().code().to_owned(),
        None => format!("not a database error: {error}"),
    }
}

fn message(error: &tokio_postgres::Error) -> String {
    error
        .as_db_error()
        .map_or_else(|| error.to_string(), |db| db.message().to_owned())
}

/// Runs `sql` from a trigger on the caller's own temporary table, so that it executes at trigger depth
/// 2 inside the caller's own statement: the signal the rules once took for "written by the rules
/// themselves".
async fn at_depth_two(client: &Client, sql: &str) -> Result<(), tokio_postgres::Error> {
    client
        .batch_execute(&format!(
            "CREATE TEMP TABLE IF NOT EXISTS depth_two (n int);
             CREATE OR REPLACE FUNCTION pg_temp.depth_two() RETURNS trigger LANGUAGE plpgsql
               AS $attack$ BEGIN {sql}; RETURN NULL; END $attack$;
             DROP TRIGGER IF EXISTS depth_two ON depth_two;
             CREATE TRIGGER depth_two AFTER INSERT ON depth_two
               FOR EACH ROW EXECUTE FUNCTION pg_temp.depth_two();"
        ))
        .await
        .expect("anyone may put a trigger of their own on a temporary table of their own");
    client
        .batch_execute("INSERT INTO depth_two VALUES (1)")
        .await
}

// --- Owner-rights trigger functions ----------------------------------------------------------------

#[tokio::test]
async fn no_login_can_attach_an_owner_rights_trigger_function_to_a_table_of_its_own() {
    let w = world().await;
    let functions: Vec<String> = w
        .admin
        .query(
            "SELECT p.proname::text FROM pg_proc p
              WHERE p.pronamespace = 'public'::regnamespace AND p.prorettype = 'trigger'::regtype
              ORDER BY 1",
            &[],
        )
        .await
        .expect("trigger functions")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(functions.len() > 10, "{functions:?}");
    let mut attachable = Vec::new();
    for attacker in [&w.nobody, &w.volunteer.client, &w.organizer.client] {
        attacker
            .batch_execute("CREATE TEMP TABLE IF NOT EXISTS bait (id uuid, event_id uuid)")
            .await
            .expect("a temporary table");
        for function in &functions {
            let attached = attacker
                .batch_execute(&format!(
                    "CREATE TRIGGER bait_{function} AFTER INSERT ON bait
                       FOR EACH ROW EXECUTE FUNCTION public.{function}()"
                ))
                .await;
            match attached {
                Ok(()) => attachable.push(function.clone()),
                Err(e) => assert_eq!(sqlstate(&e), "42501", "{function}: {e}"),
            }
        }
    }
    assert!(
        attachable.is_empty(),
        "trigger functions a caller could attach to a table of their own: {attachable:?}"
    );
}

#[tokio::test]
async fn a_login_with_no_team_cannot_forge_an_audit_entry() {
    let w = world().await;
    let before = fingerprint(&w.admin).await;
    let attack = w
        .nobody
        .batch_execute(&format!(
            "CREATE TEMP TABLE event_expenses (id uuid, event_id uuid, status text);
             CREATE TRIGGER forge AFTER INSERT ON event_expenses
               FOR EACH ROW EXECUTE FUNCTION public.audit_transition('status');
             INSERT INTO event_expenses VALUES ('{}', '{}', 'approved');",
            w.a.expense, w.a.event
        ))
        .await;
    assert!(attack.is_err(), "a forged audit entry was written");
    assert_unchanged("forged audit entry", &before, &fingerprint(&w.admin).await);
}

#[tokio::test]
async fn a_login_with_no_team_cannot_queue_another_events_draft_to_its_recipients() {
    let w = world().await;
    let before = fingerprint(&w.admin).await;
    let attack = w
        .nobody
        .batch_execute(&format!(
            "CREATE TEMP TABLE bait (id uuid);
             CREATE TRIGGER send AFTER INSERT ON bait
               FOR EACH ROW EXECUTE FUNCTION public.event_announcements_sent();
             INSERT INTO bait VALUES ('{}');",
            w.a.announcement
        ))
        .await;
    let err = attack.expect_err("a draft's outbox was written");
    assert_eq!(sqlstate(&err), "42501", "{err}");
    assert_unchanged("outbox of a draft", &before, &fingerprint(&w.admin).await);
}

#[tokio::test]
async fn another_events_organizer_cannot_make_a_waitlist_offer_in_event_a() {
    let w = world().await;
    let before = fingerprint(&w.admin).await;
    let attack = w
        .b_organizer
        .client
        .batch_execute(&format!(
            "CREATE TEMP TABLE sessions (id uuid, event_id uuid);
             CREATE TRIGGER free AFTER INSERT ON sessions
               FOR EACH ROW EXECUTE FUNCTION public.capacity_freed();
             INSERT INTO sessions VALUES ('{}', '{}');",
            w.a.session, w.a.event
        ))
        .await;
    assert!(attack.is_err(), "an offer was made in another event");
    assert_unchanged(
        "waitlist offer in another event",
        &before,
        &fingerprint(&w.admin).await,
    );
}

#[tokio::test]
async fn another_events_organizer_cannot_read_event_a_ticket_ids_through_the_check_in_guard() {
    let w = world().await;
    let attach = w
        .b_organizer
        .client
        .batch_execute(
            "CREATE TEMP TABLE event_checkins (
               id uuid, event_id uuid, attendee_id uuid, session_id uuid, ticket_id uuid,
               check_in_time timestamptz DEFAULT now(), check_out_time timestamptz, is_present boolean DEFAULT true,
               attendance_duration int, checked_in_by uuid, checked_out_by uuid, gate text, location text,
               check_in_method text, change_xid xid8);
             CREATE TRIGGER peek BEFORE INSERT ON event_checkins
               FOR EACH ROW EXECUTE FUNCTION public.event_checkins_guard();",
        )
        .await;
    if let Err(e) = attach {
        assert_eq!(sqlstate(&e), "42501", "{e}");
        return;
    }
    let leaked = w
        .b_organizer
        .client
        .query_one(
            "INSERT INTO pg_temp.event_checkins (event_id, attendee_id) VALUES ($1, $2) RETURNING ticket_id",
            &[&w.a.event, &w.a.other_attendee],
        )
        .await
        .map(|r| r.get::<_, Option<Uuid>>(0));
    panic!("the check-in guard ran for a table of the caller's: {leaked:?}");
}

// --- Trigger depth ---------------------------------------------------------------------------------

#[tokio::test]
async fn an_organizer_cannot_approve_and_pay_their_own_expense_from_a_nested_trigger() {
    let w = world().await;
    let own: Uuid = w
        .organizer
        .client
        .query_one(
            "SELECT id FROM submit_expense($1, 'Taxi', 80, 'travel')",
            &[&w.a.event],
        )
        .await
        .expect("submit")
        .get(0);
    let before = fingerprint(&w.admin).await;
    let attack = at_depth_two(
        &w.organizer.client,
        &format!(
            "UPDATE public.event_expenses SET created_by = NULL WHERE id = '{own}';
             UPDATE public.event_expenses SET status = 'approved' WHERE id = '{own}';
             UPDATE public.event_expenses SET status = 'paid' WHERE id = '{own}'"
        ),
    )
    .await;
    let err = attack.expect_err("four eyes were bypassed");
    assert_eq!(refusal(&err), "expense_immutable", "{err:?}");
    assert_unchanged(
        "own expense approved",
        &before,
        &fingerprint(&w.admin).await,
    );
}

#[tokio::test]
async fn finance_cannot_rewrite_who_approved_an_expense_from_a_nested_trigger() {
    let w = world().await;
    w.organizer
        .client
        .query_one("SELECT * FROM approve_expense($1)", &[&w.a.expense])
        .await
        .expect("the organizer approves Ada's expense");
    let before = fingerprint(&w.admin).await;
    let attack = at_depth_two(
        &w.finance.client,
        &format!(
            "UPDATE public.event_expenses SET approved_by = '{}', approved_at = now() - interval '3 days'
              WHERE id = '{}'",
            w.finance.profile, w.a.expense
        ),
    )
    .await;
    let err = attack.expect_err("the decision was rewritten");
    assert_eq!(refusal(&err), "expense_decision_fields", "{err:?}");
    assert_unchanged("decision rewritten", &before, &fingerprint(&w.admin).await);
}

#[tokio::test]
async fn marketing_cannot_rewrite_a_sent_announcement_from_a_nested_trigger() {
    let w = world().await;
    w.marketing
        .client
        .query_one(
            "SELECT * FROM send_announcement_now($1)",
            &[&w.a.announcement],
        )
        .await
        .expect("sent");
    let before = fingerprint(&w.admin).await;
    let attack = at_depth_two(
        &w.marketing.client,
        &format!(
            "UPDATE public.event_announcements SET title = 'Doors close early', content = 'Go home'
              WHERE id = '{}'",
            w.a.announcement
        ),
    )
    .await;
    let err = attack.expect_err("a sent announcement was rewritten");
    assert_eq!(refusal(&err), "announcement_final", "{err:?}");
    assert_unchanged(
        "sent announcement rewritten",
        &before,
        &fingerprint(&w.admin).await,
    );
}

#[tokio::test]
async fn a_coordinator_cannot_reset_a_sessions_counters_to_overfill_it() {
    let w = world().await;
    w.coordinator
        .client
        .query_one(
            "SELECT * FROM set_session_capacity($1, 40)",
            &[&w.a.session],
        )
        .await
        .expect("capacity 40");
    let before = fingerprint(&w.admin).await;
    let attack = at_depth_two(
        &w.coordinator.client,
        &format!(
            "UPDATE public.sessions SET current_registrations = 0, present_count = 0 WHERE id = '{}'",
            w.a.session
        ),
    )
    .await;
    let err = attack.expect_err("the counters were reset");
    assert_eq!(refusal(&err), "session_counters", "{err:?}");
    assert_unchanged("counters reset", &before, &fingerprint(&w.admin).await);
}

#[tokio::test]
async fn registration_cannot_move_someone_to_the_front_of_a_waitlist() {
    let w = world().await;
    let carl: Uuid = w
        .admin
        .query_one(
            "INSERT INTO attendees (event_id, first_name, email) VALUES ($1, 'Carl', 'carl@example.org') RETURNING id",
            &[&w.a.event],
        )
        .await
        .expect("Carl")
        .get(0);
    w.admin
        .execute(
            "INSERT INTO tickets (event_id, attendee_id, ticket_type_id, code) VALUES ($1, $2, $3, 'FIX-0003')",
            &[&w.a.event, &carl, &w.a.ticket_type],
        )
        .await
        .expect("Carl's ticket");
    let entry: Uuid = w
        .registration
        .client
        .query_one(
            "SELECT id FROM join_waitlist($1, $2)",
            &[&carl, &w.a.session],
        )
        .await
        .expect("Carl joins")
        .get(0);
    let before = fingerprint(&w.admin).await;
    let attack = at_depth_two(
        &w.registration.client,
        &format!(
            "UPDATE public.event_waitlists SET waitlist_position = 3 WHERE id = '{}';
             UPDATE public.event_waitlists SET waitlist_position = 1 WHERE id = '{entry}'",
            w.a.waitlist
        ),
    )
    .await;
    let err = attack.expect_err("Carl jumped the queue");
    assert_eq!(refusal(&err), "waitlist_position", "{err:?}");
    assert_unchanged("queue jumped", &before, &fingerprint(&w.admin).await);
}

#[tokio::test]
async fn a_volunteer_cannot_check_someone_out_in_another_operators_name() {
    let w = world().await;
    let before = fingerprint(&w.admin).await;
    let attack = at_depth_two(
        &w.volunteer.client,
        &format!(
            "UPDATE public.event_checkins SET is_present = false, checked_out_by = '{}' WHERE id = '{}'",
            w.registration.profile, w.a.checkin
        ),
    )
    .await;
    let err = attack.expect_err("the check-out was signed with another name");
    assert_eq!(refusal(&err), "actor_is_the_login", "{err:?}");
    assert_unchanged(
        "check-out in another name",
        &before,
        &fingerprint(&w.admin).await,
    );
}

#[tokio::test]
async fn an_operator_with_no_team_cannot_lock_another_events_queue() {
    let w = world().await;
    // Called directly it was refused; from a trigger of the caller's own, the check was skipped and
    // the session row stayed locked until the caller's transaction ended (registrations blocked).
    let attack = at_depth_two(
        &w.stranger.client,
        &format!(
            "PERFORM * FROM public.waitlist_lock_queue('{}', '{}')",
            w.a.event, w.a.session
        ),
    )
    .await;
    let err = attack.expect_err("another event's queue was locked");
    assert_eq!(sqlstate(&err), "42501", "{err:?}");
}

#[tokio::test]
async fn registration_cannot_give_a_seat_held_for_someone_elses_offer() {
    let w = world().await;
    // One seat left, held for Alan's offer.
    w.coordinator
        .client
        .query_one("SELECT * FROM set_session_capacity($1, 2)", &[&w.a.session])
        .await
        .expect("capacity 2");
    let offered: Uuid = w
        .registration
        .client
        .query_one(
            "SELECT id FROM offer_next($1, $2)",
            &[&w.a.event, &w.a.session],
        )
        .await
        .expect("Alan is offered the last seat")
        .get(0);
    let carl: Uuid = w
        .admin
        .query_one(
            "INSERT INTO attendees (event_id, first_name, email) VALUES ($1, 'Carl', 'carl@example.org') RETURNING id",
            &[&w.a.event],
        )
        .await
        .expect("Carl")
        .get(0);
    let before = fingerprint(&w.admin).await;
    // Naming Alan's offer on Carl's seat once skipped the places held for offers.
    let attack = w
        .registration
        .client
        .execute(
            "INSERT INTO session_registrations (event_id, session_id, attendee_id, waitlist_id) VALUES ($1, $2, $3, $4)",
            &[&w.a.event, &w.a.session, &carl, &offered],
        )
        .await;
    let err = attack.expect_err("Carl took the seat held for Alan");
    assert_eq!(refusal(&err), "not_offered", "{err:?}");
    assert_unchanged("held seat taken", &before, &fingerprint(&w.admin).await);
}

// --- pg_temp ----------------------------------------------------------------------------------------

#[tokio::test]
async fn a_temporary_table_cannot_stand_in_for_the_attendees_when_an_announcement_is_sent() {
    let w = world().await;
    let id: Uuid = w
        .marketing
        .client
        .query_one(
            "SELECT id FROM create_announcement($1, 'Lunch', 'Lunch is served', 'normal', 'attendees', NULL, ARRAY['email'])",
            &[&w.a.event],
        )
        .await
        .expect("draft")
        .get(0);
    // A temporary `attendees` that names event B's attendee as one of event A's.
    w.marketing
        .client
        .execute(
            "CREATE TEMP TABLE attendees AS
               SELECT $1::uuid AS id, $2::uuid AS event_id, 'registered'::text AS status,
                      NULL::timestamptz AS deleted_at",
            &[&w.b_attendee, &w.a.event],
        )
        .await
        .expect("a temporary table of one's own");
    w.marketing
        .client
        .query_one("SELECT * FROM send_announcement_now($1)", &[&id])
        .await
        .expect("sent");
    let strangers: i64 = w
        .admin
        .query_one(
            "SELECT count(*) FROM outbox_messages o
              WHERE o.source_id = $1
                AND NOT EXISTS (SELECT 1 FROM attendees a WHERE a.id = o.recipient_id AND a.event_id = $2)",
            &[&id, &w.a.event],
        )
        .await
        .expect("outbox")
        .get(0);
    assert_eq!(
        strangers, 0,
        "the outbox addressed people who are not event A's attendees"
    );
}

// --- Raw writes -------------------------------------------------------------------------------------

#[tokio::test]
async fn a_volunteer_cannot_back_date_a_check_in_by_writing_the_row() {
    let w = world().await;
    let before = fingerprint(&w.admin).await;
    let attack = w
        .volunteer
        .client
        .execute(
            "INSERT INTO event_checkins (event_id, attendee_id, check_in_method, gate, check_in_time)
             VALUES ($1, $2, 'qr_code', 'North Gate', now() - interval '10 years')",
            &[&w.a.event, &w.a.other_attendee],
        )
        .await;
    let err = attack.expect_err("a check-in ten years old was recorded");
    assert_eq!(refusal(&err), "checkin_time", "{err:?}");
    assert_unchanged("back-dated check-in", &before, &fingerprint(&w.admin).await);
}

#[tokio::test]
async fn a_volunteer_cannot_log_a_refused_scan_in_another_operators_name() {
    let w = world().await;
    let before = fingerprint(&w.admin).await;
    let attack = w
        .volunteer
        .client
        .execute(
            "INSERT INTO refused_scans (event_id, code, code_length, gate, method, reason_code, reason, scanned_by)
             VALUES ($1, 'XYZ', 3, 'North Gate', 'qr_code', 'unknown_code', 'unknown ticket code', $2)",
            &[&w.a.event, &w.registration.profile],
        )
        .await;
    let err = attack.expect_err("a scan was logged in another name");
    assert_eq!(refusal(&err), "actor_is_the_login", "{err:?}");
    assert_unchanged(
        "scan in another name",
        &before,
        &fingerprint(&w.admin).await,
    );
}

// --- Answers about other events ---------------------------------------------------------------------

#[tokio::test]
async fn helpers_do_not_answer_about_other_events() {
    let w = world().await;
    // A login that is no operator calls none of the schema's functions.
    for call in [
        format!("SELECT public.profile_name('{}')", w.a.profile),
        format!("SELECT public.event_local_time('{}', now())", w.a.event),
        format!(
            "SELECT public.waitlist_offers_outstanding('{}', '{}')",
            w.a.event, w.a.session
        ),
        format!(
            "SELECT public.announcement_recipients('{}')",
            w.a.announcement
        ),
    ] {
        let err = w
            .nobody
            .query_one(&call, &[])
            .await
            .expect_err(&format!("{call} answered a login that is no operator"));
        assert_eq!(sqlstate(&err), "42501", "{call}: {err}");
    }
    // Another event's organizer learns no name from event A.
    let name: String = w
        .b_organizer
        .client
        .query_one("SELECT profile_name($1)", &[&w.organizer.profile])
        .await
        .expect("profile_name is for the desks")
        .get(0);
    assert_eq!(name, "someone", "a name from another event's team");
}

#[tokio::test]
async fn a_refusal_reads_the_same_for_another_events_id_as_for_an_id_that_does_not_exist() {
    let w = world().await;
    let before = fingerprint(&w.admin).await;
    let missing = Uuid::new_v4();
    let attacker = &w.b_organizer.client;
    let mut differing = Vec::new();
    for (what, sql, theirs) in [
        (
            "check-in with event A's ticket",
            "INSERT INTO event_checkins (event_id, attendee_id, ticket_id, check_in_method) VALUES ($1, $2, $3, 'manual')",
            w.a.other_ticket,
        ),
        (
            "check-in into event A's session",
            "INSERT INTO event_checkins (event_id, attendee_id, session_id, check_in_method) VALUES ($1, $2, $3, 'manual')",
            w.a.session,
        ),
        (
            "material on event A's session",
            "INSERT INTO event_materials (event_id, session_id, title, material_type)
             SELECT $1, $3, 'Slides', 'presentation' WHERE $2::uuid IS NOT NULL",
            w.a.session,
        ),
        (
            "networking with event A's attendee",
            "INSERT INTO networking_connections (event_id, requester_id, target_id, connection_type)
             VALUES ($1, $2, $3, 'business')",
            w.a.attendee,
        ),
        (
            "ticket for event A's attendee",
            "INSERT INTO tickets (event_id, attendee_id, ticket_type_id, code)
             SELECT $1, $3, tt.id, 'B-' || $2::text FROM ticket_types tt WHERE tt.event_id = $1",
            w.a.attendee,
        ),
        (
            "feedback on event A's session",
            "INSERT INTO event_feedback (event_id, attendee_id, session_id, overall_rating) VALUES ($1, $2, $3, 1)",
            w.a.session,
        ),
        (
            "refused scan naming event A's ticket",
            "INSERT INTO refused_scans (event_id, attendee_id, ticket_id, code, code_length, reason_code, reason)
             VALUES ($1, $2, $3, 'X', 1, 'unknown_code', 'unknown')",
            w.a.other_ticket,
        ),
    ] {
        let ours = attacker
            .execute(sql, &[&w.b, &w.b_attendee, &theirs])
            .await;
        let none = attacker
            .execute(sql, &[&w.b, &w.b_attendee, &missing])
            .await;
        let (ours, none) = match (ours, none) {
            (Err(o), Err(n)) => (message(&o), message(&n)),
            (o, n) => {
                differing.push(format!("{what}: {o:?} / {n:?}"));
                continue;
            }
        };
        if ours != none {
            differing.push(format!("{what}: \"{ours}\" / \"{none}\""));
        }
    }
    assert!(
        differing.is_empty(),
        "answers that tell another event's ids from missing ones: {differing:#?}"
    );
    assert_unchanged(
        "cross-event references",
        &before,
        &fingerprint(&w.admin).await,
    );
}

// --- Settings, clocks, locks and the server's own functions ----------------------------------------

#[tokio::test]
async fn an_operator_cannot_create_large_objects() {
    let w = world().await;
    for call in ["SELECT lo_create(0)", "SELECT lo_from_bytea(0, 'x')"] {
        let err = w
            .volunteer
            .client
            .query_one(call, &[])
            .await
            .expect_err(&format!("{call}: a large object was created"));
        assert_eq!(sqlstate(&err), "42501", "{call}: {err}");
    }
    let objects: i64 = w
        .admin
        .query_one("SELECT count(*) FROM pg_largeobject_metadata", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(objects, 0);
}

#[tokio::test]
async fn an_announcement_cannot_be_scheduled_for_infinity() {
    let w = world().await;
    let before = fingerprint(&w.admin).await;
    for at in ["infinity", "2200-01-01 00:00+00"] {
        let err = w
            .marketing
            .client
            .query_one(
                &format!("SELECT * FROM schedule_announcement($1, '{at}')"),
                &[&w.a.announcement],
            )
            .await
            .expect_err(&format!("scheduled for {at}"));
        assert_eq!(refusal(&err), "schedule_time", "{at}: {err:?}");
    }
    assert_unchanged(
        "scheduled for infinity",
        &before,
        &fingerprint(&w.admin).await,
    );
}

#[tokio::test]
async fn a_session_time_zone_does_not_move_the_payment_date_into_the_future() {
    let w = world().await;
    w.organizer
        .client
        .query_one("SELECT * FROM approve_expense($1)", &[&w.a.expense])
        .await
        .expect("approved");
    // The event moves to Pago Pago (UTC-11), 25 hours behind Kiritimati (UTC+14): whatever the hour,
    // Kiritimati's today has not come at the event yet. (In Toronto it has, five hours of every day.)
    w.admin
        .execute(
            "UPDATE events SET time_zone = 'Pacific/Pago_Pago' WHERE id = $1",
            &[&w.a.event],
        )
        .await
        .expect("the event moves west");
    let before = fingerprint(&w.admin).await;
    // The caller's session says it is already tomorrow there.
    w.finance
        .client
        .batch_execute("SET TimeZone = 'Pacific/Kiritimati'")
        .await
        .expect("any session may set its time zone");
    let err = w
        .finance
        .client
        .query_one(
            "SELECT * FROM mark_expense_paid($1, (now() AT TIME ZONE 'Pacific/Kiritimati')::date)",
            &[&w.a.expense],
        )
        .await
        .expect_err("paid on a date that has not come in the event's time zone");
    assert_eq!(refusal(&err), "payment_date", "{err:?}");
    assert_unchanged("future payment date", &before, &fingerprint(&w.admin).await);
}

#[tokio::test]
async fn an_old_transaction_cannot_accept_an_offer_after_it_expired() {
    let w = world().await;
    let offered: Uuid = w
        .registration
        .client
        .query_one(
            "SELECT id FROM offer_next($1, $2)",
            &[&w.a.event, &w.a.session],
        )
        .await
        .expect("Alan is offered the place")
        .get(0);
    assert_eq!(offered, w.a.waitlist);
    w.admin
        .execute(
            "UPDATE event_waitlists SET expires_at = clock_timestamp() + interval '2 seconds' WHERE id = $1",
            &[&offered],
        )
        .await
        .expect("the offer runs out in two seconds");
    let before = fingerprint(&w.admin).await;
    // now() is the start of the transaction: begun before the deadline, it stays before it.
    w.registration
        .client
        .batch_execute("BEGIN; SELECT now()")
        .await
        .expect("begin");
    tokio::time::sleep(Duration::from_millis(3000)).await;
    let accepted = w
        .registration
        .client
        .query_one("SELECT * FROM accept_offer($1)", &[&offered])
        .await;
    let _ = w.registration.client.batch_execute("ROLLBACK").await;
    let err = accepted.expect_err("an expired offer was accepted");
    assert_eq!(refusal(&err), "offer_expired", "{err:?}");
    assert_unchanged("expired offer", &before, &fingerprint(&w.admin).await);
}

#[tokio::test]
async fn holding_an_advisory_lock_does_not_stop_the_audit_trail() {
    let w = world().await;
    // Advisory locks have no privileges: any login can take any key and hold it.
    w.nobody
        .batch_execute(
            "BEGIN; SELECT pg_advisory_xact_lock(hashtext('eventos.audit_log'));
             SELECT pg_advisory_xact_lock(hashtext('eventos.audit'))",
        )
        .await
        .expect("locks anyone may take");
    w.organizer
        .client
        .batch_execute("SET statement_timeout = '3s'")
        .await
        .expect("timeout");
    let approved = w
        .organizer
        .client
        .query_one("SELECT status FROM approve_expense($1)", &[&w.a.expense])
        .await;
    let _ = w.nobody.batch_execute("ROLLBACK").await;
    let status: String = approved
        .expect("approving waited on a stranger's lock")
        .get(0);
    assert_eq!(status, "approved");
}

#[tokio::test]
async fn an_operator_holding_a_flush_open_does_not_stall_the_realtime_feed() {
    let w = world().await;
    // A worker is alive.
    w.admin
        .query_one("SELECT worker_heartbeat()", &[])
        .await
        .expect("heartbeat");
    w.volunteer
        .client
        .execute(
            "INSERT INTO refused_scans (event_id, code, code_length, gate, reason_code, reason)
             VALUES ($1, 'NOPE', 4, 'North Gate', 'unknown_code', 'unknown ticket code')",
            &[&w.a.event],
        )
        .await
        .expect("something to announce");
    // The flush a console may call, inside a transaction the operator keeps open.
    w.volunteer
        .client
        .batch_execute("BEGIN; SELECT realtime_flush_for_console()")
        .await
        .expect("callable by operators");
    let err = w
        .volunteer
        .client
        .query_one("SELECT realtime_flush()", &[])
        .await
        .expect_err("the worker's flush is the worker's");
    assert_eq!(sqlstate(&err), "42501", "{err}");
    let _ = w.volunteer.client.batch_execute("ROLLBACK").await;
    w.volunteer
        .client
        .batch_execute("BEGIN; SELECT realtime_flush_for_console()")
        .await
        .expect("callable by operators");
    // The worker still announces: nothing is held.
    let sent: i32 = w
        .admin
        .query_one("SELECT realtime_flush()", &[])
        .await
        .expect("the worker's flush")
        .get(0);
    assert!(sent >= 1, "nothing was announced");
    let announced: bool = w
        .admin
        .query_one(
            "SELECT bool_and(realtime_announced(r.created_xid, w.flushed_below, w.pending))
               FROM refused_scans r, realtime_watermarks w WHERE w.stream = 'refused_scans'",
            &[],
        )
        .await
        .expect("watermark")
        .get(0);
    assert!(
        announced,
        "the refused scan was held back by an operator's open transaction"
    );
    let _ = w.volunteer.client.batch_execute("ROLLBACK").await;
}

async fn permissions(client: &Client, event: Uuid) -> String {
    client
        .query_one(
            "SELECT array_to_string(ARRAY(SELECT p FROM unnest(ARRAY['check_in_attendees', 'manage_attendees',
               'manage_sessions', 'send_announcements', 'submit_expenses', 'approve_expenses', 'manage_event']) p
               WHERE has_event_permission($1, p)), ',')",
            &[&event],
        )
        .await
        .expect("permissions")
        .get(0)
}

#[tokio::test]
async fn the_attackers_are_who_they_say() {
    // The suite's own premise: each attacker holds exactly the permissions named above.
    let w = world().await;
    assert_eq!(permissions(&w.stranger.client, w.a.event).await, "");
    assert_eq!(
        permissions(&w.volunteer.client, w.a.event).await,
        "check_in_attendees"
    );
    assert_eq!(
        permissions(&w.finance.client, w.a.event).await,
        "submit_expenses,approve_expenses"
    );
    assert_eq!(
        permissions(&w.marketing.client, w.a.event).await,
        "send_announcements,submit_expenses"
    );
    assert_eq!(permissions(&w.b_organizer.client, w.a.event).await, "");
    assert!(
        permissions(&w.b_organizer.client, w.b)
            .await
            .contains("manage_event")
    );
}

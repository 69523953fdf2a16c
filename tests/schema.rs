//! The schema against the seed document: every seed column with its type and default, every seed CHECK
//! and UNIQUE refusing a bad row, ON DELETE behaving as the seed says, and catalog-wide rules.

mod common;

use common::{TestDb, fixture, sqlstate};
use tokio_postgres::Client;

/// (table, column, type as format_type prints it, default as pg_get_expr prints it), transcribed from
/// the seed document's CREATE TABLE statements.
const SEED_COLUMNS: &[(&str, &str, &str, Option<&str>)] = &[
    ("speakers", "id", "uuid", Some("gen_random_uuid()")),
    ("speakers", "event_id", "uuid", None),
    ("speakers", "profile_id", "uuid", None),
    ("speakers", "bio", "text", None),
    ("speakers", "expertise_areas", "text[]", None),
    ("speakers", "social_links", "jsonb", None),
    ("speakers", "headshot_url", "text", None),
    ("speakers", "presentation_title", "text", None),
    ("speakers", "presentation_description", "text", None),
    ("speakers", "presentation_duration", "integer", None),
    ("speakers", "presentation_slides_url", "text", None),
    ("speakers", "status", "text", Some("'pending'::text")),
    ("speakers", "speaker_fee", "numeric(10,2)", None),
    ("speakers", "travel_arrangements", "text", None),
    (
        "speakers",
        "created_at",
        "timestamp with time zone",
        Some("now()"),
    ),
    (
        "speakers",
        "updated_at",
        "timestamp with time zone",
        Some("now()"),
    ),
    ("sessions", "id", "uuid", Some("gen_random_uuid()")),
    ("sessions", "event_id", "uuid", None),
    ("sessions", "speaker_id", "uuid", None),
    ("sessions", "venue_id", "uuid", None),
    ("sessions", "title", "text", None),
    ("sessions", "description", "text", None),
    ("sessions", "session_type", "text", None),
    ("sessions", "difficulty_level", "text", None),
    ("sessions", "start_time", "timestamp with time zone", None),
    ("sessions", "end_time", "timestamp with time zone", None),
    ("sessions", "duration_minutes", "integer", None),
    ("sessions", "max_attendees", "integer", None),
    ("sessions", "current_registrations", "integer", Some("0")),
    (
        "sessions",
        "registration_required",
        "boolean",
        Some("false"),
    ),
    (
        "sessions",
        "registration_deadline",
        "timestamp with time zone",
        None,
    ),
    ("sessions", "materials_urls", "text[]", None),
    ("sessions", "recording_url", "text", None),
    ("sessions", "chat_enabled", "boolean", Some("true")),
    ("sessions", "status", "text", Some("'scheduled'::text")),
    (
        "sessions",
        "created_at",
        "timestamp with time zone",
        Some("now()"),
    ),
    (
        "sessions",
        "updated_at",
        "timestamp with time zone",
        Some("now()"),
    ),
    ("sponsors", "id", "uuid", Some("gen_random_uuid()")),
    ("sponsors", "event_id", "uuid", None),
    ("sponsors", "company_name", "text", None),
    ("sponsors", "contact_name", "text", None),
    ("sponsors", "contact_email", "text", None),
    ("sponsors", "contact_phone", "text", None),
    ("sponsors", "sponsorship_tier", "text", None),
    ("sponsors", "sponsorship_amount", "numeric(10,2)", None),
    ("sponsors", "benefits_included", "text[]", None),
    ("sponsors", "logo_url", "text", None),
    ("sponsors", "website_url", "text", None),
    ("sponsors", "marketing_materials", "jsonb", None),
    ("sponsors", "social_media_links", "jsonb", None),
    ("sponsors", "status", "text", Some("'pending'::text")),
    (
        "sponsors",
        "created_at",
        "timestamp with time zone",
        Some("now()"),
    ),
    (
        "sponsors",
        "updated_at",
        "timestamp with time zone",
        Some("now()"),
    ),
    ("event_feedback", "id", "uuid", Some("gen_random_uuid()")),
    ("event_feedback", "event_id", "uuid", None),
    ("event_feedback", "attendee_id", "uuid", None),
    ("event_feedback", "session_id", "uuid", None),
    ("event_feedback", "overall_rating", "integer", None),
    ("event_feedback", "content_rating", "integer", None),
    ("event_feedback", "speaker_rating", "integer", None),
    ("event_feedback", "venue_rating", "integer", None),
    ("event_feedback", "organization_rating", "integer", None),
    ("event_feedback", "comments", "text", None),
    ("event_feedback", "suggestions", "text", None),
    ("event_feedback", "best_aspects", "text", None),
    ("event_feedback", "improvement_areas", "text", None),
    ("event_feedback", "is_anonymous", "boolean", Some("false")),
    (
        "event_feedback",
        "created_at",
        "timestamp with time zone",
        Some("now()"),
    ),
    (
        "event_feedback",
        "updated_at",
        "timestamp with time zone",
        Some("now()"),
    ),
    (
        "networking_connections",
        "id",
        "uuid",
        Some("gen_random_uuid()"),
    ),
    ("networking_connections", "event_id", "uuid", None),
    ("networking_connections", "requester_id", "uuid", None),
    ("networking_connections", "target_id", "uuid", None),
    ("networking_connections", "connection_type", "text", None),
    (
        "networking_connections",
        "status",
        "text",
        Some("'pending'::text"),
    ),
    ("networking_connections", "message", "text", None),
    (
        "networking_connections",
        "meeting_requested",
        "boolean",
        Some("false"),
    ),
    (
        "networking_connections",
        "meeting_scheduled",
        "timestamp with time zone",
        None,
    ),
    ("networking_connections", "meeting_location", "text", None),
    (
        "networking_connections",
        "created_at",
        "timestamp with time zone",
        Some("now()"),
    ),
    (
        "networking_connections",
        "updated_at",
        "timestamp with time zone",
        Some("now()"),
    ),
    ("event_checkins", "id", "uuid", Some("gen_random_uuid()")),
    ("event_checkins", "event_id", "uuid", None),
    ("event_checkins", "attendee_id", "uuid", None),
    ("event_checkins", "session_id", "uuid", None),
    (
        "event_checkins",
        "check_in_time",
        "timestamp with time zone",
        Some("now()"),
    ),
    (
        "event_checkins",
        "check_out_time",
        "timestamp with time zone",
        None,
    ),
    ("event_checkins", "location", "text", None),
    ("event_checkins", "qr_code_scanned", "text", None),
    ("event_checkins", "check_in_method", "text", None),
    ("event_checkins", "attendance_duration", "integer", None),
    ("event_checkins", "is_present", "boolean", Some("true")),
    (
        "event_checkins",
        "created_at",
        "timestamp with time zone",
        Some("now()"),
    ),
    ("event_materials", "id", "uuid", Some("gen_random_uuid()")),
    ("event_materials", "event_id", "uuid", None),
    ("event_materials", "session_id", "uuid", None),
    ("event_materials", "uploaded_by", "uuid", None),
    ("event_materials", "title", "text", None),
    ("event_materials", "description", "text", None),
    ("event_materials", "material_type", "text", None),
    ("event_materials", "file_url", "text", None),
    ("event_materials", "file_size", "bigint", None),
    ("event_materials", "file_format", "text", None),
    ("event_materials", "download_count", "integer", Some("0")),
    (
        "event_materials",
        "access_level",
        "text",
        Some("'public'::text"),
    ),
    (
        "event_materials",
        "requires_download",
        "boolean",
        Some("true"),
    ),
    ("event_materials", "tags", "text[]", None),
    ("event_materials", "language", "text", Some("'en'::text")),
    (
        "event_materials",
        "created_at",
        "timestamp with time zone",
        Some("now()"),
    ),
    (
        "event_materials",
        "updated_at",
        "timestamp with time zone",
        Some("now()"),
    ),
    (
        "event_announcements",
        "id",
        "uuid",
        Some("gen_random_uuid()"),
    ),
    ("event_announcements", "event_id", "uuid", None),
    ("event_announcements", "author_id", "uuid", None),
    ("event_announcements", "title", "text", None),
    ("event_announcements", "content", "text", None),
    (
        "event_announcements",
        "priority",
        "text",
        Some("'normal'::text"),
    ),
    ("event_announcements", "target_audience", "text", None),
    ("event_announcements", "target_sessions", "uuid[]", None),
    ("event_announcements", "delivery_method", "text[]", None),
    (
        "event_announcements",
        "scheduled_for",
        "timestamp with time zone",
        None,
    ),
    (
        "event_announcements",
        "sent_at",
        "timestamp with time zone",
        None,
    ),
    (
        "event_announcements",
        "status",
        "text",
        Some("'draft'::text"),
    ),
    (
        "event_announcements",
        "created_at",
        "timestamp with time zone",
        Some("now()"),
    ),
    (
        "event_announcements",
        "updated_at",
        "timestamp with time zone",
        Some("now()"),
    ),
    ("event_analytics", "id", "uuid", Some("gen_random_uuid()")),
    ("event_analytics", "event_id", "uuid", None),
    ("event_analytics", "session_id", "uuid", None),
    ("event_analytics", "metric_name", "text", None),
    ("event_analytics", "metric_value", "numeric(15,4)", None),
    ("event_analytics", "metric_unit", "text", None),
    (
        "event_analytics",
        "measurement_time",
        "timestamp with time zone",
        Some("now()"),
    ),
    ("event_analytics", "data_source", "text", None),
    ("event_analytics", "dimension_1", "text", None),
    ("event_analytics", "dimension_2", "text", None),
    ("event_analytics", "dimension_3", "text", None),
    ("event_analytics", "raw_data", "jsonb", None),
    (
        "event_analytics",
        "created_at",
        "timestamp with time zone",
        Some("now()"),
    ),
    ("event_waitlists", "id", "uuid", Some("gen_random_uuid()")),
    ("event_waitlists", "event_id", "uuid", None),
    ("event_waitlists", "attendee_id", "uuid", None),
    ("event_waitlists", "waitlist_position", "integer", None),
    ("event_waitlists", "waitlist_reason", "text", None),
    (
        "event_waitlists",
        "notify_on_availability",
        "boolean",
        Some("true"),
    ),
    (
        "event_waitlists",
        "notification_sent_at",
        "timestamp with time zone",
        None,
    ),
    ("event_waitlists", "status", "text", Some("'waiting'::text")),
    (
        "event_waitlists",
        "expires_at",
        "timestamp with time zone",
        None,
    ),
    (
        "event_waitlists",
        "created_at",
        "timestamp with time zone",
        Some("now()"),
    ),
    (
        "event_waitlists",
        "updated_at",
        "timestamp with time zone",
        Some("now()"),
    ),
    ("event_expenses", "id", "uuid", Some("gen_random_uuid()")),
    ("event_expenses", "event_id", "uuid", None),
    ("event_expenses", "created_by", "uuid", None),
    ("event_expenses", "expense_name", "text", None),
    ("event_expenses", "expense_category", "text", None),
    ("event_expenses", "description", "text", None),
    ("event_expenses", "amount", "numeric(10,2)", None),
    ("event_expenses", "currency", "text", Some("'CAD'::text")),
    ("event_expenses", "vendor_name", "text", None),
    ("event_expenses", "invoice_number", "text", None),
    ("event_expenses", "status", "text", Some("'pending'::text")),
    ("event_expenses", "approved_by", "uuid", None),
    (
        "event_expenses",
        "approved_at",
        "timestamp with time zone",
        None,
    ),
    ("event_expenses", "payment_date", "date", None),
    ("event_expenses", "receipt_url", "text", None),
    ("event_expenses", "invoice_url", "text", None),
    (
        "event_expenses",
        "created_at",
        "timestamp with time zone",
        Some("now()"),
    ),
    (
        "event_expenses",
        "updated_at",
        "timestamp with time zone",
        Some("now()"),
    ),
    ("event_teams", "id", "uuid", Some("gen_random_uuid()")),
    ("event_teams", "event_id", "uuid", None),
    ("event_teams", "member_id", "uuid", None),
    ("event_teams", "role", "text", None),
    ("event_teams", "permissions", "text[]", None),
    ("event_teams", "assigned_by", "uuid", None),
    (
        "event_teams",
        "assigned_at",
        "timestamp with time zone",
        Some("now()"),
    ),
    ("event_teams", "status", "text", Some("'active'::text")),
    (
        "event_teams",
        "created_at",
        "timestamp with time zone",
        Some("now()"),
    ),
    (
        "event_teams",
        "updated_at",
        "timestamp with time zone",
        Some("now()"),
    ),
];

#[tokio::test]
async fn every_seed_column_exists_with_the_seed_type_and_default() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let mut problems = Vec::new();
    for (table, column, seed_type, seed_default) in SEED_COLUMNS {
        let row = client
            .query_opt(
                "SELECT format_type(a.atttypid, a.atttypmod), pg_get_expr(d.adbin, d.adrelid), a.attgenerated::text
                   FROM pg_attribute a
                   LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                  WHERE a.attrelid = to_regclass('public.' || $1) AND a.attname = $2 AND NOT a.attisdropped",
                &[table, column],
            )
            .await
            .expect("catalog query");
        let Some(row) = row else {
            problems.push(format!("{table}.{column} is missing"));
            continue;
        };
        let actual_type: String = row.get(0);
        let actual_default: Option<String> = row.get(1);
        let generated: String = row.get(2);
        if actual_type != *seed_type {
            problems.push(format!(
                "{table}.{column} is {actual_type}, the seed says {seed_type}"
            ));
        }
        if generated.is_empty() && actual_default.as_deref() != *seed_default {
            problems.push(format!(
                "{table}.{column} defaults to {actual_default:?}, the seed says {seed_default:?}"
            ));
        }
    }
    // duration_minutes is generated, as the seed asks.
    let generated: String = client
        .query_one(
            "SELECT attgenerated::text FROM pg_attribute
              WHERE attrelid = 'public.sessions'::regclass AND attname = 'duration_minutes'",
            &[],
        )
        .await
        .expect("generated column")
        .get(0);
    if generated != "s" {
        problems.push("sessions.duration_minutes is not a stored generated column".to_owned());
    }
    assert!(
        problems.is_empty(),
        "schema departs from the seed:\n{}",
        problems.join("\n")
    );
}

#[tokio::test]
async fn generated_duration_counts_minutes() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let f = fixture(&client).await;
    let minutes: i32 = client
        .query_one(
            "SELECT duration_minutes FROM sessions WHERE id = $1",
            &[&f.session],
        )
        .await
        .expect("duration")
        .get(0);
    assert_eq!(minutes, 90);
}

/// (table, column, a value the seed's CHECK refuses, the column's type for the cast).
const BAD_VALUES: &[(&str, &str, &str, &str)] = &[
    ("speakers", "status", "'approved'", "text"),
    ("sessions", "session_type", "'lecture'", "text"),
    ("sessions", "difficulty_level", "'expert'", "text"),
    ("sessions", "status", "'postponed'", "text"),
    ("sponsors", "sponsorship_tier", "'diamond'", "text"),
    ("sponsors", "status", "'maybe'", "text"),
    ("event_feedback", "overall_rating", "0", "integer"),
    ("event_feedback", "overall_rating", "6", "integer"),
    ("event_feedback", "content_rating", "0", "integer"),
    ("event_feedback", "content_rating", "6", "integer"),
    ("event_feedback", "speaker_rating", "-1", "integer"),
    ("event_feedback", "speaker_rating", "6", "integer"),
    ("event_feedback", "venue_rating", "0", "integer"),
    ("event_feedback", "venue_rating", "10", "integer"),
    ("event_feedback", "organization_rating", "0", "integer"),
    ("event_feedback", "organization_rating", "6", "integer"),
    (
        "networking_connections",
        "connection_type",
        "'romance'",
        "text",
    ),
    ("networking_connections", "status", "'ghosted'", "text"),
    ("event_checkins", "check_in_method", "'telepathy'", "text"),
    ("event_materials", "material_type", "'hologram'", "text"),
    ("event_materials", "access_level", "'everyone'", "text"),
    ("event_announcements", "priority", "'critical'", "text"),
    ("event_announcements", "target_audience", "'press'", "text"),
    (
        "event_announcements",
        "delivery_method",
        "ARRAY['email', 'fax']",
        "text[]",
    ),
    ("event_announcements", "status", "'queued'", "text"),
    ("event_waitlists", "status", "'pending'", "text"),
    ("event_expenses", "expense_category", "'yachts'", "text"),
    ("event_expenses", "status", "'maybe'", "text"),
    ("event_teams", "role", "'overlord'", "text"),
    (
        "event_teams",
        "permissions",
        "ARRAY['manage_event', 'drop_database']",
        "text[]",
    ),
    ("event_teams", "status", "'suspended'", "text"),
    // Departures that tighten the seed (docs/schema.md).
    ("event_expenses", "amount", "0", "numeric"),
    ("event_expenses", "amount", "-12.50", "numeric"),
    ("event_expenses", "currency", "'XYZ'", "text"),
    ("event_expenses", "currency", "'cad'", "text"),
    ("event_waitlists", "waitlist_reason", "'bored'", "text"),
    ("event_waitlists", "waitlist_position", "0", "integer"),
    ("sessions", "max_attendees", "-1", "integer"),
    (
        "sessions",
        "end_time",
        "now() - interval '1 day'",
        "timestamptz",
    ),
    ("events", "time_zone", "'Mars/Olympus_Mons'", "text"),
    ("events", "time_zone", "'Europe/Atlantis'", "text"),
    ("events", "time_zone", "'UTC+5'", "text"),
    ("events", "currency", "'EURO'", "text"),
    ("events", "slug", "'Not A Slug'", "text"),
    ("tickets", "status", "'lost'", "text"),
    ("tickets", "code", "'has space'", "text"),
    ("attendees", "status", "'maybe'", "text"),
    ("orders", "total_amount", "1", "numeric"),
];

/// The id of the fixture row in `table`.
fn fixture_id(f: &common::Fixture, table: &str) -> uuid::Uuid {
    match table {
        "speakers" => f.speaker,
        "sessions" => f.session,
        "sponsors" => f.sponsor,
        "event_feedback" => f.feedback,
        "networking_connections" => f.connection,
        "event_checkins" => f.checkin,
        "event_materials" => f.material,
        "event_announcements" => f.announcement,
        "event_waitlists" => f.waitlist,
        "event_expenses" => f.expense,
        "event_teams" => f.team,
        "events" => f.event,
        "tickets" => f.ticket,
        "attendees" => f.attendee,
        "orders" => f.order,
        other => panic!("no fixture row for {other}"),
    }
}

#[tokio::test]
async fn every_check_refuses_a_bad_value_and_changes_nothing() {
    let db = TestDb::migrated().await;
    let mut client = db.client().await;
    let f = fixture(&client).await;
    // The event-day triggers refuse most of these first, with their own reasons (tests/rules.rs);
    // replica mode switches triggers off, so each CHECK is seen doing its own work.
    client
        .batch_execute("SET session_replication_role = replica")
        .await
        .expect("replica mode");
    let mut problems = Vec::new();
    for (table, column, bad, cast) in BAD_VALUES {
        let id = fixture_id(&f, table);
        let before = row_text(&client, table, id).await;
        let tx = client.transaction().await.expect("transaction");
        let sql = format!("UPDATE {table} SET {column} = ({bad})::{cast} WHERE id = $1");
        match tx.execute(sql.as_str(), &[&id]).await {
            Ok(n) => problems.push(format!("{table}.{column} accepted {bad} ({n} row)")),
            Err(e) if sqlstate(&e) == "23514" => {}
            Err(e) => problems.push(format!(
                "{table}.{column} = {bad} failed with {e:?}, not a CHECK"
            )),
        }
        drop(tx);
        let after = row_text(&client, table, id).await;
        if before != after {
            problems.push(format!(
                "{table} row changed after a refused update of {column}"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

async fn row_text(client: &Client, table: &str, id: uuid::Uuid) -> String {
    client
        .query_one(
            &format!("SELECT t::text FROM {table} t WHERE id = $1"),
            &[&id],
        )
        .await
        .expect("row")
        .get(0)
}

#[tokio::test]
async fn seed_unique_constraints_refuse_duplicates() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let f = fixture(&client).await;
    let dup_connection = client
        .execute(
            "INSERT INTO networking_connections (event_id, requester_id, target_id) VALUES ($1, $2, $3)",
            &[&f.event, &f.attendee, &f.other_attendee],
        )
        .await
        .expect_err("a second identical connection");
    assert_eq!(sqlstate(&dup_connection), "23505");
    let dup_member = client
        .execute(
            "INSERT INTO event_teams (event_id, member_id, role) VALUES ($1, $2, 'volunteer')",
            &[&f.event, &f.other_profile],
        )
        .await
        .expect_err("a second membership");
    assert_eq!(sqlstate(&dup_member), "23505");
    let dup_code = client
        .execute(
            "INSERT INTO tickets (event_id, attendee_id, ticket_type_id, code) VALUES ($1, $2, $3, 'FIX-0001')",
            &[&f.event, &f.other_attendee, &f.ticket_type],
        )
        .await
        .expect_err("a second ticket with the same code");
    assert_eq!(sqlstate(&dup_code), "23505");
}

async fn count(client: &Client, sql: &str, id: uuid::Uuid) -> i64 {
    client
        .query_one(sql, &[&id])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .get(0)
}

#[tokio::test]
async fn deleting_an_event_cascades_to_everything_it_owns() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let f = fixture(&client).await;
    client
        .execute("DELETE FROM events WHERE id = $1", &[&f.event])
        .await
        .expect("delete event");
    for table in [
        "speakers",
        "sessions",
        "sponsors",
        "event_feedback",
        "networking_connections",
        "event_checkins",
        "event_materials",
        "event_announcements",
        "event_analytics",
        "event_waitlists",
        "event_expenses",
        "event_teams",
        "session_registrations",
        "attendees",
        "tickets",
        "orders",
        "ticket_types",
        "refused_scans",
    ] {
        let n = count(
            &client,
            &format!("SELECT count(*) FROM {table} WHERE event_id = $1"),
            f.event,
        )
        .await;
        assert_eq!(n, 0, "{table} kept rows of a deleted event");
    }
    // People and places outlive the event.
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM profiles WHERE id = $1",
            f.profile
        )
        .await,
        1
    );
    assert_eq!(
        count(&client, "SELECT count(*) FROM venues WHERE id = $1", f.room).await,
        1
    );
}

#[tokio::test]
async fn deleting_an_attendee_cascades_as_the_seed_says() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let f = fixture(&client).await;
    client
        .execute("DELETE FROM attendees WHERE id = $1", &[&f.attendee])
        .await
        .expect("delete attendee");
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM event_feedback WHERE id = $1",
            f.feedback
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM networking_connections WHERE id = $1",
            f.connection
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM event_checkins WHERE id = $1",
            f.checkin
        )
        .await,
        0
    );
    client
        .execute("DELETE FROM attendees WHERE id = $1", &[&f.other_attendee])
        .await
        .expect("delete the other attendee");
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM event_waitlists WHERE id = $1",
            f.waitlist
        )
        .await,
        0
    );
}

#[tokio::test]
async fn deleting_a_session_cascades_feedback_and_clears_the_rest() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let f = fixture(&client).await;
    client
        .batch_execute("SET session_replication_role = replica")
        .await
        .expect("replica mode");
    // Set-up as an administrator's import would do it (the rules forbid moving a check-in).
    client
        .execute(
            "UPDATE event_checkins SET session_id = $1 WHERE id = $2",
            &[&f.session, &f.checkin],
        )
        .await
        .expect("move the check-in into the session");
    client
        .batch_execute("SET session_replication_role = origin")
        .await
        .expect("origin mode");
    client
        .execute("DELETE FROM sessions WHERE id = $1", &[&f.session])
        .await
        .expect("delete session");
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM event_feedback WHERE id = $1",
            f.feedback
        )
        .await,
        0
    );
    for (table, id) in [
        ("event_checkins", f.checkin),
        ("event_materials", f.material),
        ("event_analytics", f.analytics),
    ] {
        let n = count(
            &client,
            &format!("SELECT count(*) FROM {table} WHERE id = $1 AND session_id IS NULL"),
            id,
        )
        .await;
        assert_eq!(
            n, 1,
            "{table}.session_id should be set to NULL and the row kept"
        );
    }
}

#[tokio::test]
async fn deleting_a_speaker_or_a_room_clears_the_session_reference() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let f = fixture(&client).await;
    client
        .execute("DELETE FROM speakers WHERE id = $1", &[&f.speaker])
        .await
        .expect("delete speaker");
    client
        .execute("DELETE FROM venues WHERE id = $1", &[&f.room])
        .await
        .expect("delete room");
    let row = client
        .query_one(
            "SELECT speaker_id, venue_id FROM sessions WHERE id = $1",
            &[&f.session],
        )
        .await
        .expect("session kept");
    let (speaker, venue): (Option<uuid::Uuid>, Option<uuid::Uuid>) = (row.get(0), row.get(1));
    assert_eq!((speaker, venue), (None, None));
}

#[tokio::test]
async fn deleting_a_profile_cascades_and_sets_null_as_the_seed_says() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let f = fixture(&client).await;
    client
        .batch_execute("SET session_replication_role = replica")
        .await
        .expect("replica mode");
    // An approval imported by an administrator (an operator's approval is tested in tests/rules.rs).
    client
        .execute(
            "UPDATE event_expenses SET status = 'approved', approved_by = $1, approved_at = now() WHERE id = $2",
            &[&f.other_profile, &f.expense],
        )
        .await
        .expect("approve");
    client
        .batch_execute("SET session_replication_role = origin")
        .await
        .expect("origin mode");
    // other_profile: a speaker (CASCADE), a team member (CASCADE), the expense's approver (SET NULL).
    client
        .execute("DELETE FROM profiles WHERE id = $1", &[&f.other_profile])
        .await
        .expect("delete");
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM speakers WHERE id = $1",
            f.speaker
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM event_teams WHERE id = $1",
            f.team
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM event_expenses WHERE id = $1 AND approved_by IS NULL",
            f.expense
        )
        .await,
        1
    );
    // profile: author, uploader, expense creator, organizer (all SET NULL).
    client
        .execute(
            "DELETE FROM event_teams WHERE assigned_by = $1",
            &[&f.profile],
        )
        .await
        .expect("no team rows left");
    client
        .execute("DELETE FROM profiles WHERE id = $1", &[&f.profile])
        .await
        .expect("delete");
    for (table, column, id) in [
        ("event_announcements", "author_id", f.announcement),
        ("event_materials", "uploaded_by", f.material),
        ("event_expenses", "created_by", f.expense),
        ("events", "organizer_id", f.event),
        ("attendees", "profile_id", f.attendee),
    ] {
        let n = count(
            &client,
            &format!("SELECT count(*) FROM {table} WHERE id = $1 AND {column} IS NULL"),
            id,
        )
        .await;
        assert_eq!(
            n, 1,
            "{table}.{column} should be set to NULL and the row kept"
        );
    }
}

#[tokio::test]
async fn a_team_member_assigned_by_a_deleted_profile_keeps_the_membership() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let f = fixture(&client).await;
    // The membership belongs to other_profile; profile only assigned it (SET NULL).
    client
        .execute("DELETE FROM profiles WHERE id = $1", &[&f.profile])
        .await
        .expect("delete");
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM event_teams WHERE id = $1 AND assigned_by IS NULL",
            f.team
        )
        .await,
        1
    );
}

#[tokio::test]
async fn target_sessions_must_be_sessions_of_the_same_event() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let f = fixture(&client).await;
    let stranger = uuid::Uuid::new_v4();
    let err = client
        .execute(
            "UPDATE event_announcements SET target_sessions = ARRAY[$1::uuid] WHERE id = $2",
            &[&stranger, &f.announcement],
        )
        .await
        .expect_err("an unknown session");
    assert_eq!(sqlstate(&err), "23503");
}

#[tokio::test]
async fn updated_at_is_kept_by_the_database() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let f = fixture(&client).await;
    // A client that sets updated_at itself, or forgets it, still gets the time of its update.
    client
        .execute(
            "UPDATE event_expenses SET description = 'more coffee', updated_at = '2000-01-01' WHERE id = $1",
            &[&f.expense],
        )
        .await
        .expect("update");
    let fresh: bool = client
        .query_one(
            "SELECT updated_at > now() - interval '1 minute' FROM event_expenses WHERE id = $1",
            &[&f.expense],
        )
        .await
        .expect("read back")
        .get(0);
    assert!(fresh, "updated_at kept the client's value");
}

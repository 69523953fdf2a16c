//! The test harness: every database test gets its own PostgreSQL database, cloned from a template that
//! holds the migrated schema, and dropped when the test ends. Real server, no mocks.
//!
//! DATABASE_URL names the server (default postgres://postgres@127.0.0.1:5432/postgres); it must let
//! its role create databases. Test databases are named eventos_test_<pid>_<n>; ones left behind by a
//! crashed run are dropped the next time a test starts.

#![allow(dead_code)] // each test file uses a different part of the harness

pub mod pty;

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};

use eventos::config::DatabaseSettings;
use tokio_postgres::{Client, NoTls};

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const TEMPLATE_LOCK_KEY: i64 = 0x7465_6d70_6c61_7465; // "template"

pub fn server_url() -> String {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned())
}

/// The server URL with another database name.
pub fn url_for_database(url: &str, dbname: &str) -> String {
    for scheme in ["postgres://", "postgresql://"] {
        if let Some(rest) = url.strip_prefix(scheme) {
            let (before_query, query) = match rest.find('?') {
                Some(i) => (&rest[..i], &rest[i..]),
                None => (rest, ""),
            };
            let authority = before_query.split('/').next().unwrap_or("");
            return format!("{scheme}{authority}/{dbname}{query}");
        }
    }
    format!("{url} dbname={dbname}")
}

/// A connection to the server's maintenance database (for ALTER DATABASE and the like).
pub async fn server_client() -> Client {
    connect_url(&server_url()).await
}

async fn connect_url(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test server at {url}: {e}"));
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A database of one's own for one test.
pub struct TestDb {
    pub name: String,
    pub url: String,
    server_url: String,
    /// Login roles made for this test (roles belong to the server, not the database).
    roles: std::sync::Mutex<Vec<String>>,
}

/// An operator: a profile mapped to a login role of its own, and a connection as that role.
pub struct Operator {
    pub profile: uuid::Uuid,
    pub role: String,
    pub client: Client,
}

impl TestDb {
    /// A fresh database holding the migrated EventOS schema.
    pub async fn migrated() -> TestDb {
        let template = ensure_template().await;
        Self::create(Some(&template)).await
    }

    /// A fresh, empty database (no EventOS schema).
    pub async fn empty() -> TestDb {
        Self::create(None).await
    }

    async fn create(template: Option<&str>) -> TestDb {
        let server_url = server_url();
        let admin = connect_url(&server_url).await;
        let name = format!(
            "eventos_test_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let sql = match template {
            Some(t) => format!("CREATE DATABASE {name} TEMPLATE {t}"),
            None => format!("CREATE DATABASE {name} TEMPLATE template0"),
        };
        admin
            .batch_execute(&sql)
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e:?}"));
        TestDb {
            url: url_for_database(&server_url, &name),
            name,
            server_url,
            roles: std::sync::Mutex::new(Vec::new()),
        }
    }

    pub async fn client(&self) -> Client {
        connect_url(&self.url).await
    }

    /// A connection as `role` (the test server trusts local logins).
    pub async fn connect_as(&self, role: &str) -> Client {
        let mut config: tokio_postgres::Config = self.url.parse().expect("test URL");
        config.user(role);
        let (client, connection) = config
            .connect(NoTls)
            .await
            .unwrap_or_else(|e| panic!("cannot connect as {role}: {e}"));
        tokio::spawn(async move {
            let _ = connection.await;
        });
        client
    }

    /// Creates an operator: a login role named after this database, a member of eventos_operator (where
    /// its privileges come from), mapped to a new profile. It belongs to no team yet.
    pub async fn operator(&self, short: &str, full_name: &str) -> Operator {
        let role = format!("{}_{short}", self.name);
        let admin = self.client().await;
        admin
            .batch_execute(&format!(
                "CREATE ROLE {role} LOGIN IN ROLE eventos_operator"
            ))
            .await
            .unwrap_or_else(|e| panic!("cannot create role {role}: {e}"));
        self.roles.lock().expect("roles").push(role.clone());
        let profile: uuid::Uuid = admin
            .query_one(
                "INSERT INTO profiles (email, full_name, login_role) VALUES ($1, $2, $3) RETURNING id",
                &[&format!("{short}@{}.example.org", self.name), &full_name, &role],
            )
            .await
            .expect("operator profile")
            .get(0);
        let client = self.connect_as(&role).await;
        Operator {
            profile,
            role,
            client,
        }
    }

    /// Drops `role` with this database (a role the product made, e.g. through `eventos operator add`).
    pub fn adopt_role(&self, role: &str) {
        self.roles.lock().expect("roles").push(role.to_owned());
    }

    /// Drops the login roles `eventos seed` makes for `slug` with this database.
    pub fn adopt_seed_operators(&self, slug: &str) {
        for (kind, _, _) in eventos::demo::seed::OPERATORS {
            self.adopt_role(&eventos::demo::seed::operator_login(slug, kind));
        }
    }

    /// An operator who is an active member of `event`'s team in `team_role`, with that role's default
    /// permissions.
    pub async fn member(
        &self,
        event: uuid::Uuid,
        short: &str,
        full_name: &str,
        team_role: &str,
    ) -> Operator {
        let operator = self.operator(short, full_name).await;
        self.client()
            .await
            .execute(
                "INSERT INTO event_teams (event_id, member_id, role) VALUES ($1, $2, $3)",
                &[&event, &operator.profile, &team_role],
            )
            .await
            .unwrap_or_else(|e| panic!("cannot add {short} to the team: {e}"));
        operator
    }

    /// This database's URL with `role` as the user (trusted local logins).
    pub fn url_as(&self, role: &str) -> String {
        let (scheme, rest) = self.url.split_once("://").expect("a postgres:// URL");
        let host = rest.split_once('@').map_or(rest, |(_, host)| host);
        format!("{scheme}://{role}@{host}")
    }

    /// Settings as the product builds them for `role` on this database.
    pub fn settings_as(&self, role: &str) -> DatabaseSettings {
        eventos::config::Settings::load_with(None, Some(&self.url_as(role)), &NoEnv)
            .expect("test settings")
            .database
    }

    /// Settings as the product builds them, pointing at this database.
    pub fn settings(&self) -> DatabaseSettings {
        eventos::config::Settings::load_with(None, Some(&self.url), &NoEnv)
            .expect("test settings")
            .database
    }
}

/// An empty environment, so a developer's PG* variables cannot leak into a test.
pub struct NoEnv;
impl eventos::config::Env for NoEnv {
    fn var(&self, key: &str) -> Option<String> {
        (key == "HOME").then(|| "/nonexistent-home".to_owned())
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let server_url = self.server_url.clone();
        let name = self.name.clone();
        let roles = std::mem::take(&mut *self.roles.lock().unwrap_or_else(|e| e.into_inner()));
        // Drop runs inside the test's runtime, which cannot block on itself: use a thread of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let (client, connection) =
                    tokio_postgres::connect(&server_url, NoTls).await.ok()?;
                tokio::spawn(async move {
                    let _ = connection.await;
                });
                client
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
                    .ok()?;
                for role in roles {
                    client
                        .batch_execute(&format!("DROP ROLE IF EXISTS {role}"))
                        .await
                        .ok()?;
                }
                Some(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("warning: test database {} was not dropped", self.name);
        }
    }
}

/// The template's name follows the migrations' contents, so a changed migration gets a new template.
fn template_name() -> String {
    let mut hasher = DefaultHasher::new();
    for m in eventos::db::migrate::known() {
        (m.version, m.name, m.checksum).hash(&mut hasher);
    }
    format!("eventos_tpl_{:016x}", hasher.finish())
}

/// Creates the migrated template once per server (test processes run in parallel: an advisory lock
/// makes one of them build it while the others wait). Returns its name.
async fn ensure_template() -> String {
    let name = template_name();
    let server_url = server_url();
    let admin = connect_url(&server_url).await;
    admin
        .execute("SELECT pg_advisory_lock($1)", &[&TEMPLATE_LOCK_KEY])
        .await
        .expect("template lock");
    let ready: bool = admin
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)",
            &[&name],
        )
        .await
        .expect("template lookup")
        .get(0);
    if !ready {
        drop_leftovers(&admin, &name).await;
        // CREATE and DROP DATABASE refuse to share a batch (an implicit transaction).
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .expect("drop a half-built template");
        admin
            .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE template0"))
            .await
            .expect("create template database");
        {
            let mut client = connect_url(&url_for_database(&server_url, &name)).await;
            eventos::db::migrate::apply(&mut client)
                .await
                .unwrap_or_else(|e| panic!("migrating the template failed: {e:#}"));
        }
        // The template must have no connections when it is copied. Its comment records when it was
        // built, so another checkout's test run leaves it alone while it may still be in use.
        let built = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        admin
            .batch_execute(&format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}';
                 ALTER DATABASE {name} IS_TEMPLATE true;
                 COMMENT ON DATABASE {name} IS 'eventos test template built {built}'"
            ))
            .await
            .expect("mark template");
    }
    admin
        .execute("SELECT pg_advisory_unlock($1)", &[&TEMPLATE_LOCK_KEY])
        .await
        .expect("template unlock");
    name
}

fn process_gone(test_name: &str) -> bool {
    let pid = test_name
        .strip_prefix("eventos_test_")
        .and_then(|rest| rest.split('_').next())
        .unwrap_or("");
    !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Drops templates of other migration sets, and test databases and roles whose process is gone.
async fn drop_leftovers(admin: &Client, keep: &str) {
    if let Ok(roles) = admin
        .query(
            "SELECT rolname::text FROM pg_roles WHERE rolname LIKE 'eventos\\_test\\_%'",
            &[],
        )
        .await
    {
        for row in roles {
            let role: String = row.get(0);
            if process_gone(&role) {
                let _ = admin
                    .batch_execute(&format!("DROP ROLE IF EXISTS {role}"))
                    .await;
            }
        }
    }
    // Templates of other migration sets go once they are a day old: a test run in another checkout
    // may still be cloning a younger one.
    let rows = admin
        .query(
            "SELECT datname, datistemplate,
                    coalesce(substring(shobj_description(oid, 'pg_database') FROM 'built ([0-9]+)')::bigint, 0)
                      < extract(epoch FROM now()) - 86400
               FROM pg_database
              WHERE datname LIKE 'eventos\\_tpl\\_%' OR datname LIKE 'eventos\\_test\\_%'",
            &[],
        )
        .await
        .expect("list leftovers");
    for row in rows {
        let name: String = row.get(0);
        let is_template: bool = row.get(1);
        let old_enough: bool = row.get(2);
        if name == keep {
            continue;
        }
        let stale = if name.starts_with("eventos_test_") {
            process_gone(&name)
        } else {
            old_enough
        };
        if stale {
            if is_template {
                let _ = admin
                    .batch_execute(&format!("ALTER DATABASE {name} IS_TEMPLATE false"))
                    .await;
            }
            let _ = admin
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
        }
    }
}

/// The SQLSTATE of a failed statement, for asserting which rule refused it.
pub fn sqlstate(error: &tokio_postgres::Error) -> String {
    error
        .code()
        .map(|c| c.code().to_owned())
        .unwrap_or_else(|| format!("no SQLSTATE: {error}"))
}

/// The built `eventos` binary with `args`, in a clean environment: no DATABASE_URL or PGPASSWORD from
/// the developer's shell, no config file, logs to a scratch file.
pub fn eventos(args: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_eventos"));
    command
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("PGPASSWORD")
        .env_remove("EVENTOS_CONFIG")
        .env("HOME", "/nonexistent-home")
        .env(
            "EVENTOS_LOG_FILE",
            std::env::temp_dir().join("eventos-test.log"),
        )
        .current_dir(std::env::temp_dir());
    command
}

/// Inserts one valid row into every table an event owns (and the profiles, venues behind them).
/// Returns the ids by table name.
pub async fn fixture(client: &Client) -> Fixture {
    let row = client
        .query_one(FIXTURE_SQL, &[])
        .await
        .unwrap_or_else(|e| panic!("fixture failed: {e:?}"));
    Fixture {
        profile: row.get("profile"),
        other_profile: row.get("other_profile"),
        site: row.get("site"),
        room: row.get("room"),
        event: row.get("event"),
        ticket_type: row.get("ticket_type"),
        order: row.get("order_id"),
        attendee: row.get("attendee"),
        other_attendee: row.get("other_attendee"),
        ticket: row.get("ticket"),
        other_ticket: row.get("other_ticket"),
        speaker: row.get("speaker"),
        session: row.get("session"),
        sponsor: row.get("sponsor"),
        feedback: row.get("feedback"),
        connection: row.get("connection"),
        checkin: row.get("checkin"),
        material: row.get("material"),
        announcement: row.get("announcement"),
        analytics: row.get("analytics"),
        waitlist: row.get("waitlist"),
        expense: row.get("expense"),
        team: row.get("team"),
        registration: row.get("registration"),
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Fixture {
    pub profile: uuid::Uuid,
    pub other_profile: uuid::Uuid,
    pub site: uuid::Uuid,
    pub room: uuid::Uuid,
    pub event: uuid::Uuid,
    pub ticket_type: uuid::Uuid,
    pub order: uuid::Uuid,
    pub attendee: uuid::Uuid,
    pub other_attendee: uuid::Uuid,
    pub ticket: uuid::Uuid,
    pub other_ticket: uuid::Uuid,
    pub speaker: uuid::Uuid,
    pub session: uuid::Uuid,
    pub sponsor: uuid::Uuid,
    pub feedback: uuid::Uuid,
    pub connection: uuid::Uuid,
    pub checkin: uuid::Uuid,
    pub material: uuid::Uuid,
    pub announcement: uuid::Uuid,
    pub analytics: uuid::Uuid,
    pub waitlist: uuid::Uuid,
    pub expense: uuid::Uuid,
    pub team: uuid::Uuid,
    pub registration: uuid::Uuid,
}

const FIXTURE_SQL: &str = r#"
WITH
profile AS (INSERT INTO profiles (email, full_name) VALUES ('ada@example.org', 'Ada Lovelace') RETURNING id),
other_profile AS (INSERT INTO profiles (email, full_name) VALUES ('alan@example.org', 'Alan Turing') RETURNING id),
site AS (INSERT INTO venues (name, venue_type, time_zone, city, country_code)
         VALUES ('Harbour Convention Centre', 'site', 'America/Toronto', 'Toronto', 'CA') RETURNING id),
room AS (INSERT INTO venues (parent_id, name, venue_type, capacity) SELECT id, 'Hall A', 'hall', 500 FROM site RETURNING id),
event AS (INSERT INTO events (slug, name, venue_id, organizer_id, starts_at, ends_at, time_zone, currency)
          SELECT 'fixture-conf', 'Fixture Conf', site.id, profile.id, now() - interval '1 hour', now() + interval '2 days',
                 'America/Toronto', 'CAD' FROM site, profile RETURNING id),
ticket_type AS (INSERT INTO ticket_types (event_id, name, price) SELECT id, 'General', 199 FROM event RETURNING id),
order_row AS (INSERT INTO orders (event_id, buyer_id, order_number, buyer_email, buyer_name, status,
                                  subtotal_amount, total_amount, paid_at)
              SELECT event.id, profile.id, 'ORD-1', 'ada@example.org', 'Ada Lovelace', 'paid', 199, 199, now()
                FROM event, profile RETURNING id),
attendee AS (INSERT INTO attendees (event_id, order_id, profile_id, first_name, last_name, email)
             SELECT event.id, order_row.id, profile.id, 'Ada', 'Lovelace', 'ada@example.org'
               FROM event, order_row, profile RETURNING id),
other_attendee AS (INSERT INTO attendees (event_id, first_name, last_name, email)
                   SELECT event.id, 'Alan', 'Turing', 'alan@example.org' FROM event RETURNING id),
ticket AS (INSERT INTO tickets (event_id, attendee_id, order_id, ticket_type_id, code, price_paid)
           SELECT event.id, attendee.id, order_row.id, ticket_type.id, 'FIX-0001', 199
             FROM event, attendee, order_row, ticket_type RETURNING id),
other_ticket AS (INSERT INTO tickets (event_id, attendee_id, ticket_type_id, code)
                 SELECT event.id, other_attendee.id, ticket_type.id, 'FIX-0002'
                   FROM event, other_attendee, ticket_type RETURNING id),
speaker AS (INSERT INTO speakers (event_id, profile_id, presentation_title, status)
            SELECT event.id, other_profile.id, 'On Computable Numbers', 'confirmed' FROM event, other_profile RETURNING id),
session AS (INSERT INTO sessions (event_id, speaker_id, venue_id, title, session_type, start_time, end_time, max_attendees)
            SELECT event.id, speaker.id, room.id, 'Opening keynote', 'keynote', now(), now() + interval '90 minutes', 300
              FROM event, speaker, room RETURNING id),
sponsor AS (INSERT INTO sponsors (event_id, company_name, sponsorship_tier, sponsorship_amount)
            SELECT id, 'Analytical Engines Ltd', 'gold', 25000 FROM event RETURNING id),
feedback AS (INSERT INTO event_feedback (event_id, attendee_id, session_id, overall_rating)
             SELECT event.id, attendee.id, session.id, 5 FROM event, attendee, session RETURNING id),
connection AS (INSERT INTO networking_connections (event_id, requester_id, target_id, connection_type)
               SELECT event.id, attendee.id, other_attendee.id, 'business' FROM event, attendee, other_attendee RETURNING id),
checkin AS (INSERT INTO event_checkins (event_id, attendee_id, ticket_id, check_in_method, gate)
            SELECT event.id, attendee.id, ticket.id, 'qr_code', 'North Gate' FROM event, attendee, ticket RETURNING id),
material AS (INSERT INTO event_materials (event_id, session_id, uploaded_by, title, material_type)
             SELECT event.id, session.id, profile.id, 'Slides', 'presentation' FROM event, session, profile RETURNING id),
announcement AS (INSERT INTO event_announcements (event_id, author_id, title, content, target_audience,
                                                  target_sessions, delivery_method)
                 SELECT event.id, profile.id, 'Welcome', 'Doors open at 9', 'all', ARRAY[session.id], ARRAY['email', 'push']
                   FROM event, profile, session RETURNING id),
analytics AS (INSERT INTO event_analytics (event_id, session_id, metric_name, metric_value, data_source)
              SELECT event.id, session.id, 'check_ins', 1, 'check_in' FROM event, session RETURNING id),
waitlist AS (INSERT INTO event_waitlists (event_id, attendee_id, session_id, waitlist_position, waitlist_reason)
             SELECT event.id, other_attendee.id, session.id, 1, 'session_full' FROM event, other_attendee, session RETURNING id),
expense AS (INSERT INTO event_expenses (event_id, created_by, expense_name, expense_category, amount, currency)
            SELECT event.id, profile.id, 'Coffee', 'catering', 450.00, 'CAD' FROM event, profile RETURNING id),
team AS (INSERT INTO event_teams (event_id, member_id, role, permissions, assigned_by)
         SELECT event.id, other_profile.id, 'registration', ARRAY['manage_attendees'], profile.id
           FROM event, other_profile, profile RETURNING id),
registration AS (INSERT INTO session_registrations (event_id, session_id, attendee_id)
                 SELECT event.id, session.id, attendee.id FROM event, session, attendee RETURNING id)
SELECT profile.id AS profile, other_profile.id AS other_profile, site.id AS site, room.id AS room,
       event.id AS event, ticket_type.id AS ticket_type, order_row.id AS order_id, attendee.id AS attendee,
       other_attendee.id AS other_attendee, ticket.id AS ticket, other_ticket.id AS other_ticket, speaker.id AS speaker, session.id AS session,
       sponsor.id AS sponsor, feedback.id AS feedback, connection.id AS connection, checkin.id AS checkin,
       material.id AS material, announcement.id AS announcement, analytics.id AS analytics,
       waitlist.id AS waitlist, expense.id AS expense, team.id AS team, registration.id AS registration
  FROM profile, other_profile, site, room, event, ticket_type, order_row, attendee, other_attendee, ticket, other_ticket,
       speaker, session, sponsor, feedback, connection, checkin, material, announcement, analytics,
       waitlist, expense, team, registration
"#;

/// Every rule that can be checked from the data alone, for one event. Returns the violations found.
pub async fn rule_violations(client: &Client, event: uuid::Uuid) -> Vec<String> {
    let checks: [(&str, &str); 9] = [
        (
            "a session's counter differs from its registrations",
            "SELECT count(*) FROM sessions s WHERE s.event_id = $1 AND s.current_registrations <>
               (SELECT count(*) FROM session_registrations r WHERE r.session_id = s.id AND r.status = 'registered')",
        ),
        (
            "a session's presence differs from its open entries",
            "SELECT count(*) FROM sessions s WHERE s.event_id = $1 AND s.present_count <>
               (SELECT count(*) FROM event_checkins c WHERE c.session_id = s.id AND c.is_present)",
        ),
        (
            "a session is over capacity",
            "SELECT count(*) FROM sessions WHERE event_id = $1 AND max_attendees IS NOT NULL
               AND (current_registrations > max_attendees OR present_count > max_attendees)",
        ),
        (
            "a queue's positions are not 1..n",
            "SELECT count(*) FROM (
               SELECT session_id, array_agg(waitlist_position ORDER BY waitlist_position) AS p, count(*) AS n
                 FROM event_waitlists WHERE event_id = $1 AND status IN ('waiting', 'offered')
                GROUP BY session_id) q
              WHERE q.p <> ARRAY(SELECT generate_series(1, q.n::int))",
        ),
        (
            "a queue has more offers than free places",
            "SELECT count(*) FROM sessions s WHERE s.event_id = $1 AND s.max_attendees IS NOT NULL
               AND (SELECT count(*) FROM event_waitlists w WHERE w.session_id = s.id AND w.status = 'offered')
                   > s.max_attendees - s.current_registrations",
        ),
        (
            "someone has two open entries",
            "SELECT count(*) FROM (SELECT attendee_id, session_id FROM event_checkins
                                    WHERE event_id = $1 AND is_present GROUP BY 1, 2 HAVING count(*) > 1) d",
        ),
        (
            "an open entry without a valid ticket or with a cancelled attendee",
            "SELECT count(*) FROM event_checkins c JOIN attendees a ON a.id = c.attendee_id
               LEFT JOIN tickets t ON t.id = c.ticket_id
              WHERE c.event_id = $1 AND c.is_present AND c.session_id IS NULL
                AND c.check_in_time > now() - interval '1 minute' AND (a.status <> 'registered' OR t.status <> 'valid')",
        ),
        (
            "an expense approved by its submitter, or decided without its actor",
            "SELECT count(*) FROM event_expenses WHERE event_id = $1 AND (approved_by = created_by
               OR (status IN ('approved', 'paid') AND approved_by IS NULL)
               OR (status = 'rejected' AND btrim(coalesce(rejection_reason, '')) = ''))",
        ),
        (
            "a sent announcement without its outbox",
            "SELECT count(*) FROM event_announcements a WHERE a.event_id = $1 AND a.status = 'sent'
               AND coalesce(a.recipient_count, 0) > 0
               AND NOT EXISTS (SELECT 1 FROM outbox_messages o WHERE o.source_id = a.id)",
        ),
    ];
    let mut violations = Vec::new();
    for (what, sql) in checks {
        let n: i64 = client
            .query_one(sql, &[&event])
            .await
            .unwrap_or_else(|e| panic!("{what}: {e:?}"))
            .get(0);
        if n > 0 {
            violations.push(format!("{what} ({n})"));
        }
    }
    let broken: Option<i64> = client
        .query_one("SELECT audit_first_broken_link()", &[])
        .await
        .expect("audit check")
        .get(0);
    if let Some(id) = broken {
        violations.push(format!("the audit chain breaks at {id}"));
    }
    violations
}

/// Whether a PostgreSQL server is running on `data_dir`: its postmaster.pid names a live process.
/// (pg_ctl status refuses to run as root, so it cannot tell.)
pub fn server_running(data_dir: &std::path::Path) -> bool {
    let Ok(pid_file) = std::fs::read_to_string(data_dir.join("postmaster.pid")) else {
        return false;
    };
    let pid = pid_file.lines().next().unwrap_or("").trim();
    !pid.is_empty() && std::path::Path::new("/proc").join(pid).exists()
}

/// Check-ins and refused scans whose writing transaction the realtime flusher has not announced yet
/// (V9: created or checked out by a transaction that is neither below the frontier nor done pending).
pub async fn unannounced(client: &Client) -> i64 {
    client
        .query_one(
            "SELECT (SELECT count(*) FROM event_checkins e, realtime_watermarks w
                      WHERE w.stream = 'event_checkins'
                        AND ((e.created_xid IS NOT NULL AND NOT realtime_announced(e.created_xid, w.flushed_below, w.pending))
                          OR (e.checkout_xid IS NOT NULL AND NOT realtime_announced(e.checkout_xid, w.flushed_below, w.pending))))
                  + (SELECT count(*) FROM refused_scans r, realtime_watermarks w
                      WHERE w.stream = 'refused_scans' AND r.created_xid IS NOT NULL
                        AND NOT realtime_announced(r.created_xid, w.flushed_below, w.pending))",
            &[],
        )
        .await
        .expect("watermark")
        .get(0)
}

/// An event's per-gate totals as the flusher keeps them: "gate entries", by gate.
pub async fn gate_totals(client: &Client, event: uuid::Uuid) -> Vec<String> {
    client
        .query(
            "SELECT gate || ' ' || entries FROM checkin_gate_totals
              WHERE event_id = $1 AND entries > 0 ORDER BY gate",
            &[&event],
        )
        .await
        .expect("gate totals")
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Checks the fixture's other attendee in the way a client that follows the seed's schema does: the
/// place written as `location`, no `gate`.
pub async fn check_in_with_only_a_location(client: &Client, f: &Fixture, place: &str) {
    client
        .execute(
            "INSERT INTO event_checkins (event_id, attendee_id, ticket_id, check_in_method, location)
             VALUES ($1, $2, $3, 'qr_code', $4)",
            &[&f.event, &f.other_attendee, &f.other_ticket, &place],
        )
        .await
        .expect("a check-in in the seed's columns");
}

/// The Check-ins desk's totals for `event` as a recount of the rows says they must read once the doors
/// are quiet: "Checked in N / M" and "Present now P".
pub async fn recounted_totals(client: &Client, event: uuid::Uuid) -> (String, String) {
    let row = client
        .query_one(
            "SELECT (SELECT count(*) FROM attendees
                      WHERE event_id = $1 AND status = 'registered' AND deleted_at IS NULL),
                    (SELECT count(DISTINCT attendee_id) FROM event_checkins
                      WHERE event_id = $1 AND session_id IS NULL),
                    (SELECT count(*) FROM event_checkins
                      WHERE event_id = $1 AND session_id IS NULL AND check_out_time IS NULL)",
            &[&event],
        )
        .await
        .expect("recount");
    let (expected, checked_in, present): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
    let thousands = eventos::desks::checkins::view::thousands;
    (
        format!(
            "Checked in {} / {}",
            thousands(checked_in),
            thousands(expected)
        ),
        format!("Present now {}", thousands(present)),
    )
}

/// `n` people with tickets, let in at `gate` `minutes_ago` (each a number of minutes before now, one
/// per person), as the administrator writes a past entry.
pub async fn gate_entries(admin: &Client, f: &Fixture, gate: &str, minutes_ago: &[f64]) {
    admin
        .execute(
            "WITH people AS (
               INSERT INTO attendees (event_id, first_name, last_name, email)
               SELECT $1, 'Guest', $3 || ' ' || k, gen_random_uuid() || '@example.org'
                 FROM generate_series(1, cardinality($4::float8[])) k RETURNING id),
             numbered AS (SELECT id, row_number() OVER () AS k FROM people),
             tickets AS (
               INSERT INTO tickets (event_id, attendee_id, ticket_type_id, code)
               SELECT $1, id, $2, 'GW-' || gen_random_uuid() FROM numbered RETURNING id, attendee_id)
             INSERT INTO event_checkins (event_id, attendee_id, ticket_id, gate, check_in_method, check_in_time)
             SELECT $1, t.attendee_id, t.id, $3, 'qr_code', now() - make_interval(secs => $4[n.k] * 60)
               FROM tickets t JOIN numbered n ON n.id = t.attendee_id",
            &[&f.event, &f.ticket_type, &gate, &minutes_ago],
        )
        .await
        .expect("entries at the gate");
}

/// The fixture's own entry (at North Gate, now) goes, so each test's gates are the only ones.
pub async fn no_entries(admin: &Client, f: &Fixture) {
    admin
        .execute(
            "DELETE FROM event_checkins WHERE event_id = $1",
            &[&f.event],
        )
        .await
        .expect("no entries");
}

/// `n` moments from `from` to `to` (minutes ago), evenly apart.
pub fn spread(from: f64, to: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| from + (to - from) * i as f64 / (n.max(2) - 1) as f64)
        .collect()
}

/// Gate 1 let in 30 over the ten minutes to 4 minutes ago, then nobody; Gate 2 goes on (6 in the last
/// 2.5 minutes). The fixture's own entry goes first. Not flushed yet.
pub async fn gate_one_goes_quiet(admin: &Client, f: &Fixture) {
    no_entries(admin, f).await;
    gate_entries(admin, f, "Gate 1", &spread(14.0, 4.0, 30)).await;
    gate_entries(admin, f, "Gate 2", &spread(2.5, 0.2, 6)).await;
}

/// The fixture's session made a workshop of `max` places starting in 30 minutes, and `count` new
/// attendees of the event (not registered): the fill forecast tests' setup.
pub async fn workshop_later_today(
    admin: &Client,
    f: &Fixture,
    max: i32,
    count: i32,
) -> Vec<uuid::Uuid> {
    admin
        .execute(
            "UPDATE sessions SET max_attendees = $2, start_time = now() + interval '30 minutes',
                    end_time = now() + interval '2 hours'
              WHERE id = $1",
            &[&f.session, &max],
        )
        .await
        .expect("a workshop-sized session later today");
    admin
        .query(
            "INSERT INTO attendees (event_id, first_name, last_name, email)
             SELECT $1, 'Seat', 'Taker ' || k, 'seat' || k || '@example.org' FROM generate_series(1, $2) k
             RETURNING id",
            &[&f.event, &count],
        )
        .await
        .expect("people")
        .iter()
        .map(|r| r.get(0))
        .collect()
}

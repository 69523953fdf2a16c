//! `eventos doctor`: is this installation fit for event day? Each check prints one line; the first
//! failure is repeated as the closing sentence and the exit status is 1.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tokio_postgres::Client;

use crate::config::{Settings, describe_target};
use crate::db::{self, migrate::SchemaState};

#[derive(Debug, clap::Args)]
pub struct Args {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Ok,
    Warn,
    Fail,
}

struct Check {
    status: Status,
    name: &'static str,
    detail: String,
}

impl Check {
    fn new(status: Status, name: &'static str, detail: impl Into<String>) -> Self {
        Check {
            status,
            name,
            detail: detail.into(),
        }
    }
}

/// The tables behind the five desks, with the desk's name.
const DESK_TABLES: [(&str, &str); 5] = [
    ("Check-ins", "event_checkins"),
    ("Sessions", "sessions"),
    ("Waitlist", "event_waitlists"),
    ("Announcements", "event_announcements"),
    ("Expenses", "event_expenses"),
];

pub async fn run(settings: &Settings, _args: Args) -> Result<ExitCode> {
    let target = describe_target(&settings.database.pg);
    let (client, mut notifications) = db::connect_listening(&settings.database).await?;
    let mut checks = Vec::new();

    let row = client
        .query_one(
            "SELECT current_setting('server_version'), current_database(), current_user, \
                    inet_server_addr() IS NULL",
            &[],
        )
        .await
        .context("cannot ask the server for its version")?;
    let version: String = row.get(0);
    let database: String = row.get(1);
    let user: String = row.get(2);
    let socket: bool = row.get(3);
    let transport = if socket {
        "Unix socket"
    } else if settings.database.pg.get_ssl_mode() == tokio_postgres::config::SslMode::Require {
        "TCP with TLS"
    } else {
        "TCP without TLS"
    };
    checks.push(Check::new(
        Status::Ok,
        "server",
        format!("PostgreSQL {version} at {target} ({transport}), database \"{database}\""),
    ));

    let state = db::migrate::state(&client).await?;
    let latest = db::migrate::known().last().map_or(0, |m| m.version);
    let schema_status = match state {
        SchemaState::Current { .. } => Status::Ok,
        _ => Status::Fail,
    };
    checks.push(Check::new(
        schema_status,
        "schema",
        super::migrate::describe_state(&state, latest),
    ));

    checks.push(listen_notify(&client, &mut notifications).await);
    checks.push(role(&client, &user).await?);
    if schema_status == Status::Ok {
        checks.push(worker(&client).await?);
        if is_worker_login(&client).await? {
            // A worker's login reads no profiles: it is not an operator and has no desks.
            checks.push(Check::new(
                Status::Ok,
                "login",
                "a worker's login (eventos_worker): it runs `eventos worker`, not the console",
            ));
        } else {
            checks.push(operator(&client).await?);
            // An operator's desks follow their team permissions; an administrator's, their privileges.
            match operator_desks(&client).await? {
                Some(check) => checks.push(check),
                None => checks.push(privileges(&client).await?),
            }
        }
    }
    checks.push(Check::new(
        Status::Ok,
        "log file",
        settings.log_file.display().to_string(),
    ));

    println!("EventOS doctor");
    for check in &checks {
        let tag = match check.status {
            Status::Ok => "ok  ",
            Status::Warn => "warn",
            Status::Fail => "FAIL",
        };
        println!("  {tag}  {:<11} {}", check.name, check.detail);
    }
    match checks.iter().find(|c| c.status == Status::Fail) {
        Some(failed) => {
            eprintln!("eventos: {}", failed.detail);
            Ok(ExitCode::FAILURE)
        }
        None => {
            let warnings = checks.iter().filter(|c| c.status == Status::Warn).count();
            if warnings == 0 {
                println!("healthy");
            } else {
                println!("healthy, with {warnings} warning(s)");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// LISTEN on a private channel, NOTIFY it, and time the notification's arrival.
async fn listen_notify(client: &Client, notifications: &mut db::Notifications) -> Check {
    let channel = format!("eventos_doctor_{}", std::process::id());
    let started = Instant::now();
    let sent = async {
        client.batch_execute(&format!("LISTEN {channel}")).await?;
        client
            .execute("SELECT pg_notify($1, 'ping')", &[&channel])
            .await
    }
    .await;
    if let Err(err) = sent {
        return Check::new(
            Status::Fail,
            "realtime",
            format!("LISTEN/NOTIFY failed: {}", db_message(&err)),
        );
    }
    let wait = tokio::time::timeout(Duration::from_secs(3), async {
        while let Some(n) = notifications.recv().await {
            if n.channel() == channel && n.payload() == "ping" {
                return true;
            }
        }
        false
    })
    .await;
    let _ = client.batch_execute(&format!("UNLISTEN {channel}")).await;
    match wait {
        Ok(true) => Check::new(
            Status::Ok,
            "realtime",
            format!(
                "LISTEN/NOTIFY round trip in {:.1} ms",
                started.elapsed().as_secs_f64() * 1000.0
            ),
        ),
        Ok(false) => Check::new(
            Status::Fail,
            "realtime",
            "the connection closed before the test notification came back",
        ),
        Err(_) => Check::new(
            Status::Fail,
            "realtime",
            "a test notification did not come back within 3 s: LISTEN/NOTIFY is not working (a \
             connection pooler in transaction mode drops notifications)",
        ),
    }
}

async fn role(client: &Client, user: &str) -> Result<Check> {
    let row = client
        .query_one(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls \
               FROM pg_roles WHERE rolname = current_user",
            &[],
        )
        .await
        .context("cannot read the connected role's attributes")?;
    let (superuser, createrole, createdb, bypassrls): (bool, bool, bool, bool) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    let mut powers = Vec::new();
    if superuser {
        powers.push("superuser");
    }
    if createrole {
        powers.push("creates roles");
    }
    if createdb {
        powers.push("creates databases");
    }
    if bypassrls && !superuser {
        powers.push("bypasses row level security");
    }
    let detail = if powers.is_empty() {
        format!("connected as \"{user}\", an ordinary role")
    } else {
        format!("connected as \"{user}\": {}", powers.join(", "))
    };
    // An administrator is fine for migrate and doctor; operators should not sit on such a role.
    let status = if superuser || bypassrls {
        Status::Warn
    } else {
        Status::Ok
    };
    let detail = if status == Status::Warn {
        format!("{detail} (fine for administration; operators should use their own login role)")
    } else {
        detail
    };
    Ok(Check::new(status, "role", detail))
}

/// Whether this login is a worker's (a member of eventos_worker, not an operator or an administrator).
async fn is_worker_login(client: &Client) -> Result<bool> {
    let row = client
        .query_one(
            "SELECT pg_has_role(current_user, 'eventos_worker', 'MEMBER')
                    AND NOT pg_has_role(current_user, 'eventos_operator', 'MEMBER')
                    AND NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)",
            &[],
        )
        .await
        .context("cannot read the login's roles")?;
    Ok(row.get(0))
}

/// Whether a worker has run lately: without one, offers do not expire and scheduled announcements wait.
async fn worker(client: &Client) -> Result<Check> {
    let row = client
        .query_one(
            "SELECT extract(epoch FROM now() - worker_seen_at())::bigint",
            &[],
        )
        .await
        .context("cannot read the worker's heartbeat")?;
    let silent: Option<i64> = row.get(0);
    let silent_after = crate::db::listen::WORKER_SILENT_AFTER.num_seconds();
    Ok(match silent {
        Some(secs) if secs <= silent_after => {
            Check::new(Status::Ok, "worker", format!("a worker beat {secs} s ago"))
        }
        Some(secs) => Check::new(
            Status::Warn,
            "worker",
            format!(
                "no worker has beaten for {secs} s: start `eventos worker` (until then offers do not \
                 expire, scheduled announcements wait, and consoles announce check-ins themselves)"
            ),
        ),
        None => Check::new(
            Status::Warn,
            "worker",
            "no worker has ever run on this database: start `eventos worker`",
        ),
    })
}

/// The profile this login maps to and the teams it is on.
async fn operator(client: &Client) -> Result<Check> {
    let row = client
        .query_opt(
            "SELECT p.full_name,
                    coalesce(string_agg(t.role || ' at ' || e.slug, ', ' ORDER BY e.slug)
                             FILTER (WHERE t.status = 'active'), '')
               FROM profiles p
               LEFT JOIN event_teams t ON t.member_id = p.id
               LEFT JOIN events e ON e.id = t.event_id
              WHERE p.id = acting_profile_id()
              GROUP BY p.full_name",
            &[],
        )
        .await
        .context("cannot read the operator's profile")?;
    Ok(match row {
        Some(row) => {
            let name: String = row.get(0);
            let teams: String = row.get(1);
            if teams.is_empty() {
                Check::new(
                    Status::Warn,
                    "operator",
                    format!("{name}: on no event's team, so every desk is empty"),
                )
            } else {
                Check::new(Status::Ok, "operator", format!("{name}: {teams}"))
            }
        }
        None => Check::new(
            Status::Ok,
            "operator",
            "this login maps to no profile: an administrator, not an operator",
        ),
    })
}

/// What an operator may do at each desk, from their team permissions (all their events together).
async fn operator_desks(client: &Client) -> Result<Option<Check>> {
    let row = client
        .query_one(
            "SELECT acting_profile_id() IS NOT NULL,
                    cardinality(member_event_ids('check_in_attendees')) > 0,
                    cardinality(member_event_ids(NULL)) > 0,
                    cardinality(member_event_ids('manage_sessions')) > 0,
                    cardinality(member_event_ids('manage_attendees')) > 0,
                    cardinality(member_event_ids('send_announcements')) > 0,
                    cardinality(member_event_ids('approve_expenses')) > 0,
                    cardinality(member_event_ids('submit_expenses')) > 0",
            &[],
        )
        .await
        .context("cannot read the operator's permissions")?;
    if !row.get::<_, bool>(0) {
        return Ok(None);
    }
    let flag = |i: usize| row.get::<_, bool>(i);
    let member = flag(2);
    let desk = |name: &str, act: bool, read: bool| match (act, read) {
        (true, _) => format!("{name} act"),
        (false, true) => format!("{name} view"),
        (false, false) => format!("{name} none"),
    };
    let expenses = if flag(6) {
        "Expenses approve".to_owned()
    } else if flag(7) {
        "Expenses submit".to_owned()
    } else {
        "Expenses none".to_owned()
    };
    let parts = [
        desk("Check-ins", flag(1), member),
        desk("Sessions", flag(3), member),
        desk("Waitlist", flag(4), member),
        desk("Announcements", flag(5), member),
        expenses,
    ];
    Ok(Some(Check::new(Status::Ok, "desks", parts.join(", "))))
}

/// What the role may do at each desk: read and write on the tables behind it.
async fn privileges(client: &Client) -> Result<Check> {
    let mut parts = Vec::new();
    for (desk, table) in DESK_TABLES {
        let row = client
            .query_one(
                "SELECT has_table_privilege($1, 'SELECT'), has_table_privilege($1, 'INSERT, UPDATE')",
                &[&table],
            )
            .await
            .with_context(|| format!("cannot read the privileges on {table}"))?;
        let (read, write): (bool, bool) = (row.get(0), row.get(1));
        let access = match (read, write) {
            (true, true) => "read+write",
            (true, false) => "read",
            (false, true) => "write",
            (false, false) => "none",
        };
        parts.push(format!("{desk} {access}"));
    }
    Ok(Check::new(Status::Ok, "desks", parts.join(", ")))
}

fn db_message(error: &tokio_postgres::Error) -> String {
    error
        .as_db_error()
        .map(|db| db.message().to_owned())
        .unwrap_or_else(|| error.to_string())
}

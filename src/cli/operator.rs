//! `eventos operator add | list | remove`: operators as PostgreSQL login roles mapped to profiles, and
//! their membership of an event's team. Run by an administrator (a role that may create roles).

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use tokio_postgres::Client;

use crate::config::Settings;
use crate::db;

const TEAM_ROLES: [&str; 7] = [
    "organizer",
    "coordinator",
    "volunteer",
    "speaker_liaison",
    "tech_support",
    "registration",
    "marketing",
];

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Create (or update) the profile, the login role and the team membership. Safe to repeat.
    Add {
        /// The event's slug.
        #[arg(long)]
        event: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// organizer, coordinator, volunteer, speaker_liaison, tech_support, registration or marketing.
        #[arg(long)]
        role: String,
        /// The PostgreSQL login (on a venue server: the person's SSH user name). Default: from the email.
        #[arg(long)]
        login: Option<String>,
    },
    /// The operators of one event, or of every event.
    List {
        #[arg(long)]
        event: Option<String>,
    },
    /// Take someone off an event's team (the login role stays for their other events).
    Remove {
        #[arg(long)]
        event: String,
        #[arg(long)]
        login: String,
    },
}

pub async fn run(settings: &Settings, args: Args) -> Result<ExitCode> {
    let mut client = db::connect(&settings.database).await?;
    match args.command {
        Command::Add {
            event,
            email,
            name,
            role,
            login,
        } => add(&mut client, &event, &email, &name, &role, login.as_deref()).await,
        Command::List { event } => list(&client, event.as_deref()).await,
        Command::Remove { event, login } => remove(&client, &event, &login).await,
    }
}

/// A login name from an email's local part: lower case, letters, digits and underscores.
pub fn login_from_email(email: &str) -> String {
    let local = email.split('@').next().unwrap_or("");
    let mut login: String = local
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() { c } else { '_' }
        })
        .collect();
    if login.is_empty() || login.starts_with(|c: char| c.is_ascii_digit()) {
        login.insert(0, '_');
    }
    login.truncate(63);
    login
}

fn valid_login(login: &str) -> bool {
    let mut chars = login.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && login.len() <= 63
        && !login.starts_with("pg_")
        && !["postgres", "eventos_operator", "eventos_worker", "public"].contains(&login)
}

async fn event_id(client: &Client, slug: &str) -> Result<uuid::Uuid> {
    let row = client
        .query_opt(
            "SELECT id FROM events WHERE slug = $1 AND deleted_at IS NULL",
            &[&slug],
        )
        .await
        .context("cannot look up the event")?;
    match row {
        Some(row) => Ok(row.get(0)),
        None => bail!("no event has the slug {slug:?}"),
    }
}

async fn add(
    client: &mut Client,
    slug: &str,
    email: &str,
    name: &str,
    role: &str,
    login: Option<&str>,
) -> Result<ExitCode> {
    if !TEAM_ROLES.contains(&role) {
        bail!(
            "role must be one of {}, not {role:?}",
            TEAM_ROLES.join(", ")
        );
    }
    let email = email.trim();
    if !email.contains('@') || email.chars().any(char::is_whitespace) {
        bail!("{email:?} is not an email address");
    }
    let name = name.trim();
    if name.is_empty() {
        bail!("a name is required");
    }
    let login = login.map_or_else(|| login_from_email(email), str::to_owned);
    if !valid_login(&login) {
        bail!(
            "{login:?} cannot be a login: use lower-case letters, digits and underscores, starting with a letter"
        );
    }
    let event = event_id(client, slug).await?;
    let tx = client
        .transaction()
        .await
        .context("cannot start a transaction")?;
    // The profile: found by email, else created.
    let existing = tx
        .query_opt(
            "SELECT id, login_role::text FROM profiles WHERE lower(email) = lower($1) AND deleted_at IS NULL",
            &[&email],
        )
        .await
        .context("cannot look up the profile")?;
    let profile: uuid::Uuid = match existing {
        Some(row) => {
            let current: Option<String> = row.get(1);
            if let Some(current) = current.filter(|c| *c != login) {
                bail!("{email} already logs in as {current:?}; use --login {current}");
            }
            row.get(0)
        }
        None => tx
            .query_one(
                "INSERT INTO profiles (email, full_name) VALUES ($1, $2) RETURNING id",
                &[&email, &name],
            )
            .await
            .context("cannot create the profile")?
            .get(0),
    };
    let taken = tx
        .query_opt(
            "SELECT email FROM profiles WHERE login_role = $1 AND id <> $2",
            &[&login, &profile],
        )
        .await
        .context("cannot check the login")?;
    if let Some(row) = taken {
        let other: String = row.get(0);
        bail!("the login {login:?} already belongs to {other}");
    }
    tx.execute(
        "UPDATE profiles SET login_role = $1, full_name = $2 WHERE id = $3",
        &[&login, &name, &profile],
    )
    .await
    .context("cannot link the profile to its login")?;
    // The login role: created once, a member of eventos_operator. No password: on a venue server the
    // operator logs in over the Unix socket with peer authentication.
    let role_exists: bool = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)",
            &[&login],
        )
        .await
        .context("cannot look up the login role")?
        .get(0);
    let ddl: String = tx
        .query_one(
            if role_exists {
                "SELECT format('GRANT eventos_operator TO %I', $1::text)"
            } else {
                "SELECT format('CREATE ROLE %I LOGIN IN ROLE eventos_operator', $1::text)"
            },
            &[&login],
        )
        .await?
        .get(0);
    tx.batch_execute(&ddl).await.with_context(|| {
        format!("cannot create the login role {login:?} (is this an administrator's connection?)")
    })?;
    let permissions: Vec<String> = tx
        .query_one(
            "INSERT INTO event_teams (event_id, member_id, role, permissions, status)
             VALUES ($1, $2, $3, default_permissions($3), 'active')
             ON CONFLICT (event_id, member_id)
             DO UPDATE SET role = excluded.role, permissions = excluded.permissions, status = 'active'
             RETURNING permissions",
            &[&event, &profile, &role],
        )
        .await
        .context("cannot add the team membership")?
        .get(0);
    tx.commit()
        .await
        .context("cannot commit the new operator")?;
    println!(
        "{name} <{email}> is {role} at {slug}, logging in as PostgreSQL role \"{login}\" (permissions: {})",
        permissions.join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

async fn list(client: &Client, slug: Option<&str>) -> Result<ExitCode> {
    let rows = client
        .query(
            "SELECT e.slug, coalesce(p.login_role::text, '-'), p.full_name, p.email, t.role, t.status,
                    array_to_string(t.permissions, ',')
               FROM event_teams t JOIN events e ON e.id = t.event_id JOIN profiles p ON p.id = t.member_id
              WHERE $1::text IS NULL OR e.slug = $1
              ORDER BY e.slug, t.role, p.full_name",
            &[&slug],
        )
        .await
        .context("cannot list the operators")?;
    if let Some(slug) = slug
        && rows.is_empty()
    {
        event_id(client, slug).await?;
    }
    println!(
        "{:<20} {:<16} {:<24} {:<14} {:<8} permissions",
        "event", "login", "name", "role", "status"
    );
    for row in &rows {
        println!(
            "{:<20} {:<16} {:<24} {:<14} {:<8} {}",
            row.get::<_, String>(0),
            row.get::<_, String>(1),
            row.get::<_, String>(2),
            row.get::<_, String>(4),
            row.get::<_, String>(5),
            row.get::<_, String>(6)
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn remove(client: &Client, slug: &str, login: &str) -> Result<ExitCode> {
    let event = event_id(client, slug).await?;
    let changed = client
        .execute(
            "UPDATE event_teams t SET status = 'removed'
               FROM profiles p
              WHERE p.id = t.member_id AND p.login_role = $2 AND t.event_id = $1 AND t.status <> 'removed'",
            &[&event, &login],
        )
        .await
        .context("cannot remove the membership")?;
    if changed == 0 {
        bail!("{login:?} is not on the team of {slug}");
    }
    println!("{login} is off the team of {slug}; their login role remains for any other event");
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_come_from_emails() {
        assert_eq!(login_from_email("Ada.Lovelace@example.org"), "ada_lovelace");
        assert_eq!(login_from_email("42@example.org"), "_42");
        assert!(valid_login("ada_lovelace"));
        assert!(!valid_login("Ada"));
        assert!(!valid_login("pg_admin"));
        assert!(!valid_login("postgres"));
        assert!(!valid_login("a; DROP ROLE x"));
    }
}

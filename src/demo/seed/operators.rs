//! The event's operators: one login role per team role, named after the event's slug.

use anyhow::{Context, Result};

use super::Tx;

/// The seed's operators: (login suffix, team role, name). Every team role, and a second organizer so an
/// expense always has someone other than its submitter to approve it.
pub const OPERATORS: [(&str, &str, &str); 8] = [
    ("organizer", "organizer", "Olivia Organizer"),
    ("finance", "organizer", "Frank Finance"),
    ("coordinator", "coordinator", "Carlos Coordinator"),
    ("registration", "registration", "Rita Registration"),
    ("volunteer", "volunteer", "Victor Volunteer"),
    ("speaker_liaison", "speaker_liaison", "Sana Liaison"),
    ("tech_support", "tech_support", "Theo Tech"),
    ("marketing", "marketing", "Mia Marketing"),
];

/// A login for `role` at `slug`: "northwind_summit_volunteer".
pub fn operator_login(slug: &str, role: &str) -> String {
    let base: String = slug
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let mut login = format!("{base}_{role}");
    login.truncate(63);
    login
}

/// The operators of [`OPERATORS`], each with a login role. Returns (login, team role).
pub(super) async fn operators(
    tx: &Tx<'_>,
    event_id: uuid::Uuid,
    slug: &str,
) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for (kind, team_role, name) in OPERATORS {
        let login = operator_login(slug, kind);
        let email = format!("{login}@example.org");
        let ddl: String = tx
            .query_one(
                "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)
                             THEN format('GRANT eventos_operator TO %I', $1::text)
                             ELSE format('CREATE ROLE %I LOGIN IN ROLE eventos_operator', $1::text) END",
                &[&login],
            )
            .await?
            .get(0);
        tx.batch_execute(&ddl).await.with_context(|| {
            format!(
                "cannot create the login role {login} (the seed needs a role that may create roles)"
            )
        })?;
        tx.execute(
            "WITH p AS (INSERT INTO profiles (email, full_name, login_role) VALUES ($1, $2, $3) RETURNING id)
             INSERT INTO event_teams (event_id, member_id, role) SELECT $4, p.id, $5 FROM p",
            &[&email, &name, &login, &event_id, &team_role],
        )
        .await
        .with_context(|| format!("cannot add the {kind} to the team"))?;
        out.push((login, team_role.to_owned()));
    }
    Ok(out)
}

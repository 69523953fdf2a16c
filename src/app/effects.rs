//! Effects: each Cmd runs on its own tokio task through the pool and answers with one Msg, within one
//! time limit for all of them. Nothing here touches the state; a desk's command is run by the desk
//! (`desks::registry::run`).

use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::sync::mpsc::UnboundedSender;
use uuid::Uuid;

use super::msg::{Cmd, Failure, Msg};
use crate::desks::desk::{Env, attempt};
use crate::desks::registry::{self, Loaded};
use crate::desks::{Permission, Permissions};

/// The longest a read may take, and how long a change waits before the operator is told it is late.
pub const EFFECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);
/// A change unanswered this long is given up, and reported as not known to have happened. Until then its
/// real answer is awaited, so a frozen or overloaded server that applies it late is never reported as
/// having refused it.
pub const CHANGE_GIVE_UP: std::time::Duration = std::time::Duration::from_secs(120);

/// What `cmd` changes, in words for "NO ANSWER YET for ...", or None for a read (a read that times out
/// is simply read again later).
fn change_in_words(cmd: &Cmd) -> Option<String> {
    match cmd {
        Cmd::Snapshot { .. } | Cmd::Permissions | Cmd::ReportOutage { .. } => None,
        Cmd::Desk(cmd) => registry::change_in_words(cmd),
    }
}

/// The answer to `cmd` when it could not run at all.
pub fn failed(cmd: Cmd, why: Failure) -> Msg {
    match cmd {
        Cmd::Snapshot { generation, .. } => Msg::Snapshot {
            generation,
            result: Err(why),
        },
        Cmd::Permissions => Msg::Permissions(Err(why)),
        Cmd::ReportOutage { .. } => Msg::OutageReported(Err(why)),
        Cmd::Desk(cmd) => Msg::Desk(registry::failed(cmd, why)),
    }
}

pub struct Effects {
    pub env: Env,
}

impl Effects {
    /// Runs `cmd` in the background; the answer arrives on `tx`.
    pub fn spawn(self: &Arc<Self>, cmd: Cmd, tx: UnboundedSender<Msg>) {
        let effects = Arc::clone(self);
        tokio::spawn(async move {
            let run = effects.run(cmd.clone());
            tokio::pin!(run);
            // A query that never answers (a lock wait, a frozen server, a half-open connection) must
            // not leave its desk waiting forever. A read past the limit is a failure like any other;
            // a change may still be applied, so the operator is told it is late and its answer awaited.
            let msg = match tokio::time::timeout(EFFECT_TIMEOUT, &mut run).await {
                Ok(msg) => msg,
                Err(_) => match change_in_words(&cmd) {
                    None => {
                        tracing::warn!(?cmd, "read timed out");
                        failed(
                            cmd,
                            format!(
                                "the database did not answer within {} s",
                                EFFECT_TIMEOUT.as_secs()
                            )
                            .into(),
                        )
                    }
                    Some(what) => {
                        tracing::warn!(?cmd, "change unanswered; still waiting");
                        let _ = tx.send(Msg::StillWaiting { what });
                        match tokio::time::timeout(CHANGE_GIVE_UP - EFFECT_TIMEOUT, &mut run).await
                        {
                            Ok(msg) => msg,
                            Err(_) => {
                                tracing::warn!(?cmd, "change given up");
                                failed(
                                    cmd,
                                    format!(
                                        "the database has not answered for {} s, so this console \
                                         gave up waiting: whether it went through shows on the desk \
                                         once the server answers again",
                                        CHANGE_GIVE_UP.as_secs()
                                    )
                                    .into(),
                                )
                            }
                        }
                    }
                },
            };
            // The console may have quit meanwhile; nobody is waiting then.
            let _ = tx.send(msg);
        });
    }

    async fn run(&self, cmd: Cmd) -> Msg {
        match cmd {
            Cmd::Snapshot {
                generation,
                permissions,
            } => Msg::Snapshot {
                generation,
                result: attempt(self.snapshot(&permissions)).await.map(Box::new),
            },
            Cmd::Permissions => Msg::Permissions(
                attempt(async {
                    let db = self.env.client().await?;
                    permissions(&db, self.env.event).await
                })
                .await,
            ),
            Cmd::ReportOutage {
                lost_for_seconds,
                reason,
            } => Msg::OutageReported(attempt(self.report_outage(lost_for_seconds, &reason)).await),
            Cmd::Desk(cmd) => Msg::Desk(registry::run(&self.env, cmd).await),
        }
    }

    async fn report_outage(&self, lost_for_seconds: f64, reason: &str) -> Result<()> {
        let db = self.env.client().await?;
        db.query_one(
            "SELECT id FROM report_console_outage($1, make_interval(secs => $2), $3)",
            &[&self.env.event, &lost_for_seconds, &reason],
        )
        .await
        .context("cannot record this console's time without the database")?;
        Ok(())
    }

    async fn snapshot(&self, permissions: &Permissions) -> Result<Loaded> {
        let db = self.env.client().await?;
        // One repeatable-read transaction: every desk's numbers from the same moment.
        db.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .context("cannot start the snapshot")?;
        let result = registry::load(&self.env, &db, permissions).await;
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        db.batch_execute(end)
            .await
            .context("cannot finish the snapshot")?;
        result
    }
}

/// The operator's role and permissions at the event.
pub async fn permissions(
    db: &tokio_postgres::Client,
    event: Uuid,
) -> Result<(String, Permissions)> {
    // Every permission the desks know of, asked of the database by its name.
    let names: Vec<&str> = Permission::ALL.iter().map(|p| p.sql_name()).collect();
    let row = db
        .query_one(
            "SELECT is_administrator(),
                    (SELECT t.role FROM event_teams t
                      WHERE t.event_id = $1 AND t.member_id = acting_profile_id() AND t.status = 'active'),
                    coalesce(has_event_permission($1, NULL), false),
                    ARRAY(SELECT p FROM unnest($2::text[]) AS p WHERE has_event_permission($1, p))",
            &[&event, &names],
        )
        .await
        .context("cannot read your permissions")?;
    if row.get::<_, bool>(0) {
        return Ok(("administrator".to_owned(), Permissions::all()));
    }
    let role = row
        .get::<_, Option<String>>(1)
        .unwrap_or_else(|| "no team role".to_owned());
    if !row.get::<_, bool>(2) {
        return Ok((role, Permissions::default()));
    }
    Ok((
        role,
        Permissions::member_granted(&row.get::<_, Vec<String>>(3)),
    ))
}

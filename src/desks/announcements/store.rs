//! The Announcements desk's SQL.

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use tokio_postgres::Client;
use uuid::Uuid;

use super::compose::Draft;
use super::model::{AnnouncementRow, AnnouncementStatus, Audience, DeliveryMethod, Priority};
use crate::desks::words::ColumnWords;
use crate::desks::{clean, clean_opt, storable};

/// The event's announcements, or only `ids`, with how many people each reaches.
pub async fn announcements(
    client: &Client,
    event: Uuid,
    ids: Option<&[Uuid]>,
) -> Result<Vec<AnnouncementRow>> {
    let rows = client
        .query(
            "SELECT a.id, a.title, a.content, a.priority::text, a.target_audience::text,
                    coalesce(a.target_sessions, '{}'), coalesce(a.delivery_method, '{}'),
                    a.scheduled_for, a.sent_at, a.status::text, profile_name(a.author_id), a.created_at,
                    CASE WHEN a.sent_at IS NOT NULL AND a.recipient_count IS NOT NULL THEN a.recipient_count::bigint
                         ELSE coalesce(announcement_reach(a.id), 0) END,
                    (SELECT coalesce(array_agg(s.title ORDER BY s.start_time), '{}')
                       FROM sessions s WHERE s.id = ANY (a.target_sessions))
               FROM event_announcements a
              WHERE a.event_id = $1 AND ($2::uuid[] IS NULL OR a.id = ANY ($2::uuid[]))",
            &[&event, &ids],
        )
        .await
        .context("cannot read announcements")?;
    rows.iter()
        .map(|r| {
            Ok(AnnouncementRow {
                id: r.get(0),
                title: clean(r.get(1)),
                content: r.get::<_, String>(2).replace('\r', ""),
                priority: Priority::get(r, 3)?,
                audience: Audience::get_opt(r, 4)?,
                target_sessions: r.get(5),
                methods: r
                    .get::<_, Vec<String>>(6)
                    .iter()
                    .map(|w| DeliveryMethod::read(w))
                    .collect::<Result<_>>()?,
                scheduled_for: r.get(7),
                sent_at: r.get(8),
                status: AnnouncementStatus::get(r, 9)?,
                author: clean_opt(r.get(10)),
                created_at: r.get(11),
                recipients: r.get(12),
                session_titles: r
                    .get::<_, Vec<String>>(13)
                    .iter()
                    .map(|t| clean(t))
                    .collect(),
            })
        })
        .collect::<Result<_>>()
        .context("cannot read announcements")
}

/// Creates (or, for a draft, rewrites) an announcement through the SQL API and schedules it when a time is given; all or
/// nothing. Returns its id.
pub async fn save(
    client: &mut Client,
    event: Uuid,
    id: Option<Uuid>,
    draft: &Draft,
    schedule: Option<DateTime<Utc>>,
) -> Result<Uuid> {
    storable(&draft.title, "the title", "nothing was saved")?;
    storable(&draft.content, "the content", "nothing was saved")?;
    let methods: Vec<&str> = draft.methods.iter().map(|m| m.as_str()).collect();
    let tx = client.transaction().await.context("cannot start saving")?;
    let id = match id {
        None => tx
            .query_one(
                "SELECT id FROM create_announcement($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &event,
                    &draft.title,
                    &draft.content,
                    &draft.priority.as_str(),
                    &draft.audience.as_str(),
                    &draft.sessions,
                    &methods,
                ],
            )
            .await
            .context("cannot save the announcement")?
            .get(0),
        Some(id) => {
            tx.query_one(
                "SELECT id FROM update_announcement($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &id,
                    &draft.title,
                    &draft.content,
                    &draft.priority.as_str(),
                    &draft.audience.as_str(),
                    &draft.sessions,
                    &methods,
                ],
            )
            .await
            .context("cannot save the announcement")?;
            id
        }
    };
    if let Some(at) = schedule {
        tx.query_one("SELECT id FROM schedule_announcement($1, $2)", &[&id, &at])
            .await
            .context("cannot schedule it")?;
    }
    tx.commit().await.context("cannot save the announcement")?;
    Ok(id)
}

pub async fn send_now(client: &Client, id: Uuid) -> Result<()> {
    client
        .query_one("SELECT id FROM send_announcement_now($1)", &[&id])
        .await
        .context("cannot send")?;
    Ok(())
}

pub async fn schedule(client: &Client, id: Uuid, at: DateTime<Utc>) -> Result<()> {
    client
        .query_one("SELECT id FROM schedule_announcement($1, $2)", &[&id, &at])
        .await
        .context("cannot schedule")?;
    Ok(())
}

pub async fn cancel(client: &Client, id: Uuid) -> Result<()> {
    client
        .query_one("SELECT id FROM cancel_announcement($1)", &[&id])
        .await
        .context("cannot cancel")?;
    Ok(())
}

//! The Sessions desk's SQL.

use anyhow::{Context, Result};
use tokio_postgres::Client;
use uuid::Uuid;

use super::forecast;
use super::model::{SessionRow, SessionStatus};
use crate::desks::words::ColumnWords;
use crate::desks::{clean, clean_opt};

/// Today's sessions (the event's local day), or only those of `ids` that are today's (a session
/// moved to another day leaves the desk).
pub async fn sessions(
    client: &Client,
    event: Uuid,
    ids: Option<&[Uuid]>,
) -> Result<Vec<SessionRow>> {
    let rows = client
        .query(
            "SELECT s.id, s.title, v.name, s.session_type, s.start_time, s.end_time,
                    s.current_registrations, s.max_attendees, s.present_count, s.status::text,
                    (SELECT count(*) FROM event_waitlists w
                      WHERE w.session_id = s.id AND w.status IN ('waiting', 'offered')),
                    (SELECT count(*) FROM session_registrations r
                      WHERE r.session_id = s.id AND r.status = 'registered'
                        AND r.registered_at > now() - make_interval(mins => $3)),
                    (SELECT count(*) FROM event_checkins c
                      WHERE c.session_id = s.id AND c.check_in_time > now() - make_interval(mins => $3))
               FROM sessions s
               JOIN events e ON e.id = s.event_id
               LEFT JOIN venues v ON v.id = s.venue_id
              WHERE s.event_id = $1
                AND (s.start_time AT TIME ZONE e.time_zone)::date = (now() AT TIME ZONE e.time_zone)::date
                AND ($2::uuid[] IS NULL OR s.id = ANY ($2::uuid[]))",
            &[&event, &ids, &forecast::WINDOW_MINUTES],
        )
        .await
        .context("cannot read sessions")?;
    rows.iter()
        .map(|row| {
            Ok(SessionRow {
                id: row.get(0),
                title: clean(row.get(1)),
                room: clean_opt(row.get(2)),
                session_type: row.get(3),
                start: row.get(4),
                end: row.get(5),
                registered: row.get(6),
                max: row.get(7),
                present: row.get(8),
                status: SessionStatus::get(row, 9)?,
                waiting: row.get(10),
                registrations_recent: row.get(11),
                entries_recent: row.get(12),
            })
        })
        .collect::<Result<_>>()
        .context("cannot read sessions")
}

pub async fn set_status(client: &Client, session: Uuid, status: SessionStatus) -> Result<()> {
    client
        .query_one(
            "SELECT id FROM set_session_status($1, $2)",
            &[&session, &status.as_str()],
        )
        .await
        .context("cannot change the session's status")?;
    Ok(())
}

pub async fn set_capacity(client: &Client, session: Uuid, capacity: Option<i32>) -> Result<()> {
    client
        .query_one(
            "SELECT id FROM set_session_capacity($1, $2)",
            &[&session, &capacity],
        )
        .await
        .context("cannot change the session's capacity")?;
    Ok(())
}

//! The programme: speakers, three days of sessions and breaks moved along to now, registrations,
//! waitlists on the full sessions and the seats just offered from them.

use anyhow::{Context, Result};

use super::{Tx, bulk_mode};

/// Speakers, and three days of sessions in eight rooms, 09:00 to 17:00 local each day. The second day
/// is today, and now is within it (see VENUES): some sessions are over, one slot (or a break) is live,
/// the rest are ahead.
pub(super) async fn sessions(tx: &Tx<'_>, event_id: uuid::Uuid, s: i32) -> Result<()> {
    tx.execute(
        "WITH names AS (
           SELECT (SELECT array_agg(value ORDER BY n) FROM seed_names WHERE kind = 'first') AS first,
                  (SELECT array_agg(value ORDER BY n) FROM seed_names WHERE kind = 'last') AS last),
         p AS (
           INSERT INTO profiles (email, full_name, organization)
           SELECT 'speaker' || k || '.' || left(md5($1::uuid::text), 8) || '@example.org',
                  names.first[1 + floor(pg_temp.r($2, 'sfirst', k) * cardinality(names.first))::int] || ' ' ||
                  names.last[1 + floor(pg_temp.r($2, 'slast', k) * cardinality(names.last))::int],
                  'Speaker org ' || k
             FROM generate_series(1, 100) k, names
           RETURNING id, full_name, split_part(split_part(email, '.', 1), 'speaker', 2)::int AS k)
         INSERT INTO speakers (event_id, profile_id, bio, expertise_areas, presentation_duration, status, speaker_fee)
         SELECT $1, p.id, p.full_name || ' builds things and talks about them.', ARRAY['databases', 'operations'], 45,
                CASE WHEN pg_temp.r($2, 'spk', p.k) < 0.05 THEN 'pending' ELSE 'confirmed' END,
                CASE WHEN pg_temp.r($2, 'fee', p.k) < 0.2 THEN 1500 END
           FROM p",
        &[&event_id, &s],
    )
    .await
    .context("cannot create speakers")?;
    // Day d (1..3) is today + d - 2, local; five slots of 75 minutes (09:00, 10:30, 13:00, 14:15,
    // 15:45) and the breaks between them (below) fill 09:00 to 17:00 without a gap.
    tx.execute(
        "WITH rooms AS (
           SELECT v.id, v.name, v.capacity, row_number() OVER (ORDER BY v.capacity DESC, v.name) AS r
             FROM venues v JOIN events e ON v.parent_id = e.venue_id WHERE e.id = $1),
         topics AS (SELECT array_agg(value ORDER BY n) AS t FROM seed_names WHERE kind = 'topic'),
         spk AS (SELECT array_agg(s.id ORDER BY p.email) AS ids FROM speakers s JOIN profiles p ON p.id = s.profile_id
                  WHERE s.event_id = $1),
         slots AS (
           SELECT d, k, ((day.today + (d - 2)) + (ARRAY[540, 630, 780, 855, 945])[k] * interval '1 minute')
                        AT TIME ZONE day.zone AS starts
             FROM generate_series(1, 3) d, generate_series(1, 5) k, seed_day day)
         INSERT INTO sessions (event_id, speaker_id, venue_id, title, description, session_type, difficulty_level,
                               start_time, end_time, max_attendees, registration_required)
         SELECT $1, spk.ids[1 + ((d * 40 + k * 8 + r) % cardinality(spk.ids))], rooms.id,
                CASE kind WHEN 'keynote' THEN 'Day ' || d || ' keynote: ' || topics.t[1 + (d * 7) % 20]
                          WHEN 'networking' THEN 'Hallway track: ' || topics.t[1 + (d * 5 + k) % 20]
                          WHEN 'workshop' THEN 'Workshop: ' || topics.t[1 + (d * 11 + k * 3 + r) % 20]
                          ELSE topics.t[1 + (d * 13 + k * 5 + r) % 20] || ' (' ||
                               (ARRAY['panel', 'deep dive', 'case study', 'lightning talks'])[1 + (k + r) % 4] || ')' END,
                'A session of the Northwind Tech Summit.', kind,
                (ARRAY['beginner', 'intermediate', 'advanced'])[1 + (d + k + r) % 3],
                slots.starts, slots.starts + interval '75 minutes', rooms.capacity, kind = 'workshop'
           FROM slots CROSS JOIN rooms CROSS JOIN topics CROSS JOIN spk
           CROSS JOIN LATERAL (SELECT CASE WHEN k = 1 AND r = 1 THEN 'keynote'
                                           WHEN k = 5 AND r = 2 THEN 'networking'
                                           WHEN rooms.name LIKE 'Workshop%' THEN 'workshop'
                                           ELSE 'panel' END AS kind) AS what",
        &[&event_id],
    )
    .await
    .context("cannot create sessions")?;
    // Breaks: morning coffee, lunch and afternoon coffee each day, in the Main Hall, no capacity.
    tx.execute(
        "INSERT INTO sessions (event_id, venue_id, title, session_type, start_time, end_time)
         SELECT $1, (SELECT v.id FROM venues v JOIN events e ON v.parent_id = e.venue_id
                      WHERE e.id = $1 AND v.name = 'Main Hall'),
                b.title, 'break', ((day.today + (d - 2)) + b.at * interval '1 minute') AT TIME ZONE day.zone,
                ((day.today + (d - 2)) + (b.at + b.len) * interval '1 minute') AT TIME ZONE day.zone
           FROM generate_series(1, 3) d, seed_day day,
                (VALUES ('Coffee break', 615, 15), ('Lunch', 705, 75), ('Afternoon coffee', 930, 15)) AS b(title, at, len)",
        &[&event_id],
    )
    .await
    .context("cannot create breaks")?;
    Ok(())
}

/// Time has moved on: past sessions completed, the current slot live, two of tomorrow's cancelled.
pub(super) async fn move_sessions_along(tx: &Tx<'_>, event_id: uuid::Uuid) -> Result<()> {
    for sql in [
        "UPDATE sessions SET status = 'live' WHERE event_id = $1 AND start_time <= now()",
        "UPDATE sessions SET status = 'completed' WHERE event_id = $1 AND end_time <= now()",
        "UPDATE sessions SET status = 'cancelled'
          WHERE id IN (SELECT id FROM sessions WHERE event_id = $1 AND start_time > now() + interval '1 day'
                          AND session_type = 'panel' ORDER BY start_time, title LIMIT 2)",
    ] {
        tx.execute(sql, &[&event_id])
            .await
            .context("cannot move sessions along")?;
    }
    Ok(())
}

/// Registrations (workshops and a few popular talks full), waitlists on the full ones, and a few
/// cancellations that have just offered their places to the next in line.
pub(super) async fn people_in_sessions(
    tx: &Tx<'_>,
    event_id: uuid::Uuid,
    s: i32,
    n: i32,
    superuser: bool,
) -> Result<()> {
    // Registrations are valid by construction (registered people with valid tickets, within capacity,
    // sessions still open): an administrator's load skips the per-row guard and counter, whose
    // session updates made a notification each, and sets the counters once.
    bulk_mode(tx, superuser, true).await?;
    tx.execute(
        "WITH target AS (
           SELECT id, sn,
                  -- Workshops of the next day still taking registrations are half full (the demo's
                  -- floor fills them, and the Sessions desk forecasts when); the others are full.
                  CASE WHEN registration_required AND start_time > now() AND start_time < now() + interval '1 day'
                            THEN floor(max_attendees * 0.5)::int
                       WHEN registration_required OR pg_temp.r($2, 'popular', sn) < 0.15 THEN max_attendees
                       ELSE floor(max_attendees * (0.2 + 0.6 * pg_temp.r($2, 'fill', sn)))::int END AS seats
             FROM (SELECT s.id, s.registration_required, s.max_attendees, s.start_time,
                          row_number() OVER (ORDER BY s.start_time, v.name) AS sn
                     FROM sessions s JOIN venues v ON v.id = s.venue_id
                    WHERE s.event_id = $1 AND s.session_type <> 'break' AND s.max_attendees IS NOT NULL) AS numbered)
         INSERT INTO session_registrations (event_id, session_id, attendee_id, registered_at)
         SELECT $1, target.id, p.id, now() - interval '10 days' * pg_temp.r($2, 'reg', p.g)
           FROM target
           JOIN LATERAL (SELECT sp.id, sp.g FROM seed_people sp
                          WHERE sp.ok AND sp.g > (target.sn * 97) % greatest($3 / 2, 1)
                          ORDER BY sp.g LIMIT least(target.seats, $3 / 3)) AS p ON true",
        &[&event_id, &s, &n],
    )
    .await
    .context("cannot register people for sessions")?;
    if superuser {
        set_session_counters(tx, event_id).await?;
        bulk_mode(tx, true, false).await?;
    }
    // Twelve people wait for each full session that has not ended.
    tx.execute(
        "WITH full_sessions AS (
           SELECT s.id, row_number() OVER (ORDER BY s.start_time, v.name) AS fn
             FROM sessions s JOIN venues v ON v.id = s.venue_id
            WHERE s.event_id = $1 AND s.end_time > now() AND s.current_registrations >= s.max_attendees)
         INSERT INTO event_waitlists (event_id, attendee_id, session_id)
         SELECT $1, w.id, f.id
           FROM full_sessions f
           JOIN LATERAL (SELECT sp.id, sp.g FROM seed_people sp
                          WHERE sp.ok AND sp.g > (f.fn * 389) % greatest($2 - 20, 1)
                            AND NOT EXISTS (SELECT 1 FROM session_registrations r
                                             WHERE r.session_id = f.id AND r.attendee_id = sp.id AND r.status = 'registered')
                          ORDER BY sp.g LIMIT 12) AS w ON true
          ORDER BY f.id, w.g",
        &[&event_id, &n],
    )
    .await
    .context("cannot fill the waitlists")?;
    // In four full sessions someone has just cancelled: the database offers the seat to the next in line.
    tx.execute(
        "UPDATE session_registrations SET status = 'cancelled', cancelled_at = now()
          WHERE id IN (SELECT DISTINCT ON (r.session_id) r.id FROM session_registrations r
                        WHERE r.session_id IN (SELECT s.id FROM sessions s JOIN venues v ON v.id = s.venue_id
                                                WHERE s.event_id = $1
                                                  AND EXISTS (SELECT 1 FROM event_waitlists w WHERE w.session_id = s.id)
                                                ORDER BY s.start_time, v.name LIMIT 4)
                          AND r.status = 'registered'
                        ORDER BY r.session_id, r.registered_at)",
        &[&event_id],
    )
    .await
    .context("cannot free a few seats")?;
    Ok(())
}

/// Sessions' registration and presence counters, from the rows an administrator's bulk load wrote
/// with the counting triggers off.
pub(super) async fn set_session_counters(tx: &Tx<'_>, event_id: uuid::Uuid) -> Result<()> {
    tx.execute(
        "UPDATE sessions s
            SET current_registrations = (SELECT count(*) FROM session_registrations r
                                          WHERE r.session_id = s.id AND r.status = 'registered'),
                present_count = (SELECT count(*) FROM event_checkins c WHERE c.session_id = s.id AND c.is_present)
          WHERE s.event_id = $1",
        &[&event_id],
    )
    .await
    .context("cannot count the sessions' registrations and presence")?;
    Ok(())
}

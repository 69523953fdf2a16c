//! Check-ins beyond the doors' arrivals: people in the live sessions, and the refused scans a real
//! door sees (duplicates, unknown codes, void and refunded tickets).

use anyhow::{Context, Result};

use super::sessions::set_session_counters;
use super::{Tx, bulk_mode};

/// People in the live sessions, and the refused scans a real door sees (the doors' arrivals are part
/// of the bulk load).
pub(super) async fn checkins(
    tx: &Tx<'_>,
    event_id: uuid::Uuid,
    s: i32,
    n: i32,
    superuser: bool,
) -> Result<()> {
    // The live sessions: most of their registered people who are on site are in the room. Valid by
    // construction (registered, present at the event, within the room's registrations), so an
    // administrator's load skips the per-row guard and presence counter and sets the counters once.
    bulk_mode(tx, superuser, true).await?;
    tx.execute(
        "INSERT INTO event_checkins (event_id, attendee_id, session_id, ticket_id, check_in_time, gate, location, check_in_method)
         SELECT $1, r.attendee_id, r.session_id, sp.ticket, greatest(s.start_time, sp.arrived) + interval '2 minutes',
                v.name || ' door', v.name, 'qr_code'
           FROM session_registrations r
           JOIN sessions s ON s.id = r.session_id AND s.status = 'live'
           JOIN venues v ON v.id = s.venue_id
           JOIN seed_people sp ON sp.id = r.attendee_id AND sp.present
          WHERE r.event_id = $1 AND r.status = 'registered'
            AND greatest(s.start_time, sp.arrived) + interval '2 minutes' <= now()
            AND pg_temp.r($2, 'inroom:' || s.title, sp.g) < 0.8",
        &[&event_id, &s],
    )
    .await
    .context("cannot fill the live sessions")?;
    if superuser {
        set_session_counters(tx, event_id).await?;
        bulk_mode(tx, true, false).await?;
    }
    // Refused scans: duplicates, unknown codes, void and refunded tickets.
    tx.execute(
        "INSERT INTO refused_scans (event_id, code, code_length, gate, method, reason_code, reason, ticket_id,
                                    attendee_id, conflicting_checkin_id, scanned_at)
         SELECT $1, code, length(code), gate, 'qr_code', reason_code, reason, ticket, attendee, conflict, least(at, now())
           FROM (
             SELECT sp.code, 'South Gate' AS gate, 'already_checked_in' AS reason_code,
                    'already checked in at ' || to_char(sp.arrived AT TIME ZONE (SELECT zone FROM seed_day), 'HH24:MI')
                      || ' at ' || sp.gate AS reason,
                    sp.ticket, sp.id AS attendee, sp.checkin AS conflict,
                    sp.arrived + interval '20 minutes' * pg_temp.r($2, 'dup', sp.g) AS at
               FROM seed_people sp
              WHERE sp.present AND pg_temp.r($2, 'dupsel', sp.g) < 0.02
             UNION ALL
             SELECT 'NW' || upper(lpad(to_hex(hashint8extended(k, hashtextextended('bogus', $2)) & 1099511627775), 10, '0')),
                    'North Gate', 'unknown_code',
                    'unknown ticket code', NULL, NULL, NULL, (SELECT doors FROM seed_day) + (now() - (SELECT doors FROM seed_day)) * pg_temp.r($2, 'bogus', k)
               FROM generate_series(1, greatest($3 / 500, 3)) k
             UNION ALL
             SELECT sp.code, 'East Gate', 'ticket_' || sp.tstatus,
                    CASE sp.tstatus WHEN 'void' THEN 'ticket is void' ELSE 'ticket was refunded' END,
                    sp.ticket, sp.id, NULL, (SELECT doors FROM seed_day) + (now() - (SELECT doors FROM seed_day)) * pg_temp.r($2, 'voidscan', sp.g)
               FROM seed_people sp
              WHERE sp.tstatus <> 'valid' AND pg_temp.r($2, 'voidtry', sp.g) < 0.4
           ) AS scans",
        &[&event_id, &s, &n],
    )
    .await
    .context("cannot create refused scans")?;
    Ok(())
}

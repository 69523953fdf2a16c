//! Expenses and announcements in every state, with their past decisions and deliveries when the seed
//! may write history.

use anyhow::{Context, Result};

use super::{Tx, bulk_mode};

/// Expenses in every category and state, announcements in every state. Decided and sent ones carry
/// their past actors and times, which only a superuser may write (triggers off); without one, the
/// seed leaves them pending and draft.
pub(super) async fn money_and_messages(
    tx: &Tx<'_>,
    event_id: uuid::Uuid,
    s: i32,
    n: i32,
    superuser: bool,
) -> Result<()> {
    tx.execute(
        "WITH team AS (SELECT array_agg(t.member_id ORDER BY t.role, p.email) AS ids
                         FROM event_teams t JOIN profiles p ON p.id = t.member_id
                        -- Submitted by those whose role may submit (not volunteers or registration).
                        WHERE t.event_id = $1
                          AND ('submit_expenses' = ANY (t.permissions) OR 'manage_event' = ANY (t.permissions))),
              names AS (SELECT array_agg(value ORDER BY n) AS company FROM seed_names WHERE kind = 'company')
         INSERT INTO event_expenses (event_id, created_by, expense_name, expense_category, description, amount, currency,
                                     vendor_name, invoice_number, receipt_url, invoice_url, created_at)
         SELECT $1, team.ids[1 + (k % cardinality(team.ids))],
                (ARRAY['Hall rental deposit', 'Coffee service', 'Speaker travel', 'Social ads', 'Wi-Fi upgrade',
                       'Taxi receipts', 'Badge printing', 'Stage lighting', 'Lunch buffet', 'Hotel block'])[1 + k % 10],
                (ARRAY['venue', 'catering', 'speakers', 'marketing', 'technology', 'travel', 'miscellaneous'])[1 + k % 7],
                'Expense ' || k || ' of the summit.',
                round((50 + 4950 * pg_temp.r($2, 'amount', k))::numeric, 2),
                CASE WHEN k % 9 = 0 THEN 'USD' ELSE 'CAD' END,
                names.company[1 + k % cardinality(names.company)], 'INV-' || (2200 + k),
                'https://files.example.org/receipts/' || k || '.pdf', 'https://files.example.org/invoices/' || k || '.pdf',
                now() - interval '6 days' * pg_temp.r($2, 'age', k)
           FROM generate_series(1, 42) k, team, names",
        &[&event_id, &s],
    )
    .await
    .context("cannot create expenses")?;
    tx.execute(
        "INSERT INTO event_announcements (event_id, author_id, title, content, priority, target_audience,
                                          delivery_method, scheduled_for, status)
         SELECT $1, (SELECT member_id FROM event_teams WHERE event_id = $1 AND role = 'marketing' LIMIT 1),
                a.title, a.content, a.priority, a.audience, a.methods,
                -- On the event's clock (from today's local midnight), or in 25 minutes (NULL).
                CASE WHEN a.state = 'scheduled'
                     THEN greatest(now() + interval '1 minute',
                                   coalesce((day.today + a.at::interval) AT TIME ZONE day.zone, now() + interval '25 minutes'))
                END, a.state
           FROM seed_day day, (VALUES
             ('Welcome to day two', 'Doors are open at the North and South gates.', 'normal', 'all', ARRAY['push', 'in_app'], 'draft', NULL),
             ('Lunch is served', 'Lunch is in the Main Hall until 13:00.', 'low', 'attendees', ARRAY['in_app'], 'draft', NULL),
             ('Speaker briefing', 'Speakers: green room briefing 30 minutes before your slot.', 'normal', 'speakers', ARRAY['email'], 'draft', NULL),
             ('Keynote in 10 minutes', 'The day three keynote starts in 10 minutes in the Main Hall.', 'high', 'all', ARRAY['push', 'in_app'], 'scheduled', '1 day 08:50'),
             ('Sponsor hall closes soon', 'The sponsor hall closes at 17:30.', 'normal', 'attendees', ARRAY['push'], 'scheduled', '17:15'),
             ('Tomorrow: badge pickup', 'Badge pickup opens at 07:30 tomorrow.', 'normal', 'attendees', ARRAY['email', 'sms'], 'scheduled', '17:30'),
             ('Team stand-up', 'Organizers: stand-up at the registration desk.', 'urgent', 'organizers', ARRAY['sms', 'in_app'], 'scheduled', NULL),
             ('Wi-Fi details', 'Network: Northwind-Guest, password on your badge.', 'normal', 'all', ARRAY['email', 'in_app'], 'draft', NULL),
             ('Room change', 'The afternoon panel in Room 203 moves to Hall B.', 'high', 'attendees', ARRAY['push', 'in_app'], 'draft', NULL),
             ('Shuttle schedule', 'Shuttles leave every 20 minutes from the East Gate.', 'low', 'attendees', ARRAY['email'], 'draft', NULL),
             ('Feedback survey', 'Tell us how day one went.', 'normal', 'attendees', ARRAY['email'], 'draft', NULL),
             ('Sponsor thanks', 'Thank you to our platinum sponsors.', 'low', 'sponsors', ARRAY['email'], 'draft', NULL)
           ) AS a(title, content, priority, audience, methods, state, at)",
        &[&event_id],
    )
    .await
    .context("cannot create announcements")?;
    tx.execute(
        "UPDATE event_announcements SET status = 'cancelled'
          WHERE event_id = $1 AND title IN ('Shuttle schedule', 'Sponsor thanks')",
        &[&event_id],
    )
    .await?;
    if !superuser {
        return Ok(());
    }
    // History, as it happened: decided expenses, sent announcements (their outbox too).
    bulk_mode(tx, true, true).await?;
    tx.execute(
        "WITH team AS (SELECT array_agg(t.member_id ORDER BY p.email) AS ids
                         FROM event_teams t JOIN profiles p ON p.id = t.member_id
                        WHERE t.event_id = $1 AND t.role = 'organizer'),
              picked AS (SELECT e.id, e.created_by, e.created_at, row_number() OVER (ORDER BY e.invoice_number) AS k
                           FROM event_expenses e WHERE e.event_id = $1)
         UPDATE event_expenses e
            SET status = CASE WHEN p.k % 4 = 1 THEN 'approved' WHEN p.k % 4 = 2 THEN 'paid' WHEN p.k % 8 = 3 THEN 'rejected' ELSE 'pending' END,
                approved_by = CASE WHEN p.k % 4 IN (1, 2) THEN (SELECT x FROM unnest(team.ids) x WHERE x IS DISTINCT FROM p.created_by LIMIT 1) END,
                approved_at = CASE WHEN p.k % 4 IN (1, 2) THEN p.created_at + interval '5 hours' END,
                paid_by = CASE WHEN p.k % 4 = 2 THEN (SELECT x FROM unnest(team.ids) x WHERE x IS DISTINCT FROM p.created_by LIMIT 1) END,
                payment_date = CASE WHEN p.k % 4 = 2 THEN (p.created_at + interval '1 day')::date END,
                rejected_by = CASE WHEN p.k % 8 = 3 THEN (SELECT x FROM unnest(team.ids) x WHERE x IS DISTINCT FROM p.created_by LIMIT 1) END,
                rejected_at = CASE WHEN p.k % 8 = 3 THEN p.created_at + interval '3 hours' END,
                rejection_reason = CASE WHEN p.k % 8 = 3 THEN 'No receipt attached; resubmit with the invoice.' END
           FROM picked p, team
          WHERE e.id = p.id",
        &[&event_id],
    )
    .await
    .context("cannot decide past expenses")?;
    tx.execute(
        "INSERT INTO event_announcements (event_id, author_id, title, content, priority, target_audience,
                                          delivery_method, sent_at, recipient_count, status, created_at)
         SELECT $1, (SELECT member_id FROM event_teams WHERE event_id = $1 AND role = 'marketing' LIMIT 1),
                a.title, a.content, a.priority, a.audience, a.methods, sent.at, NULL, 'sent', sent.at - interval '10 minutes'
           FROM seed_day day, (VALUES
             ('Doors open', 'Registration is open at the North Gate.', 'high', 'all', ARRAY['push', 'in_app'], '-1 day 07:55'),
             ('Day one wrap-up', 'Thanks for a great first day!', 'normal', 'attendees', ARRAY['email'], '-1 day 17:15'),
             ('Good morning', 'Day two starts with the keynote at 09:00.', 'normal', 'all', ARRAY['push', 'in_app'], '07:30'),
             ('Coat check full', 'The coat check is full; please use the lockers on level 2.', 'urgent', 'attendees', ARRAY['push', 'sms'], '08:40'),
             ('Workshop materials', 'Workshop materials are on the event app.', 'low', 'attendees', ARRAY['in_app'], '08:50'),
             ('Speaker dinner', 'Speaker dinner at 19:00, details by email.', 'normal', 'speakers', ARRAY['email'], '-1 day 15:00'),
             ('Sponsor breakfast', 'Sponsor breakfast in Room 201.', 'normal', 'sponsors', ARRAY['email'], '07:00'),
             ('Lost and found', 'Lost and found is at the registration desk.', 'low', 'all', ARRAY['in_app'], '09:00')
           ) AS a(title, content, priority, audience, methods, at),
           -- On the event's clock, from today's local midnight; never later than now.
           LATERAL (SELECT least(now() - interval '1 minute', (day.today + a.at::interval) AT TIME ZONE day.zone) AS at) AS sent",
        &[&event_id],
    )
    .await
    .context("cannot create sent announcements")?;
    // Still with triggers off: the rules would refuse to touch a sent announcement's recipient count.
    // Past deliveries are in the outbox for a normal event; for a huge one (a benchmark) they would be
    // tens of millions of rows the integrations delivered long ago, so only the counts are kept.
    let sql = if n <= 20_000 {
        "SELECT announcement_write_outbox(id) FROM event_announcements WHERE event_id = $1 AND status = 'sent'"
    } else {
        // Recipients depend only on the audience here (no target sessions): count each audience once.
        // Materialized: inlined into the join, the counts would run again for every announcement.
        "WITH one AS MATERIALIZED (
           SELECT DISTINCT ON (target_audience) target_audience, id
             FROM event_announcements
            WHERE event_id = $1 AND status = 'sent' AND target_sessions IS NULL
            ORDER BY target_audience, id),
         counts AS MATERIALIZED (
           SELECT target_audience, (SELECT count(*) FROM announcement_recipients(one.id)) AS n FROM one)
         UPDATE event_announcements a SET recipient_count = c.n
           FROM counts c
          WHERE a.event_id = $1 AND a.status = 'sent' AND a.target_sessions IS NULL
            AND a.target_audience = c.target_audience"
    };
    tx.execute(sql, &[&event_id])
        .await
        .context("cannot record the sent announcements' deliveries")?;
    bulk_mode(tx, true, false).await?;
    Ok(())
}

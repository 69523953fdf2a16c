//! The rest of a summit: sponsors in every tier, feedback on completed sessions, materials, analytics.

use anyhow::{Context, Result};

use super::Tx;

/// Sponsors in every tier, feedback, materials and analytics.
pub(super) async fn extras(tx: &Tx<'_>, event_id: uuid::Uuid, s: i32) -> Result<()> {
    tx.execute(
        "WITH names AS (SELECT array_agg(value ORDER BY n) AS company FROM seed_names WHERE kind = 'company')
         INSERT INTO sponsors (event_id, company_name, contact_name, contact_email, sponsorship_tier, sponsorship_amount,
                               benefits_included, status)
         SELECT $1, names.company[1 + (k * 7) % cardinality(names.company)], 'Contact ' || k, 'sponsor' || k || '@example.org',
                (ARRAY['platinum', 'gold', 'silver', 'bronze', 'partner'])[1 + k % 5],
                (ARRAY[50000, 25000, 10000, 5000, 0])[1 + k % 5], ARRAY['booth', 'logo on badges'],
                CASE WHEN k = 11 THEN 'pending' WHEN k = 12 THEN 'cancelled' ELSE 'confirmed' END
           FROM generate_series(1, 12) k, names",
        &[&event_id],
    )
    .await
    .context("cannot create sponsors")?;
    tx.execute(
        "INSERT INTO event_feedback (event_id, attendee_id, session_id, overall_rating, content_rating, speaker_rating,
                                     venue_rating, organization_rating, comments, is_anonymous)
         SELECT $1, r.attendee_id, r.session_id, 1 + floor(5 * sqrt(x))::int % 5 + 0, 1 + floor(5 * x)::int % 5,
                1 + floor(5 * sqrt(x))::int % 5, 3 + floor(3 * x)::int % 3, 2 + floor(4 * x)::int % 4,
                CASE WHEN x > 0.7 THEN 'Great session.' WHEN x < 0.2 THEN 'Too crowded.' END, x < 0.3
           FROM session_registrations r JOIN sessions s ON s.id = r.session_id AND s.status = 'completed'
           JOIN seed_people sp ON sp.id = r.attendee_id
           CROSS JOIN LATERAL (SELECT pg_temp.r($2, 'rating:' || s.title, sp.g) AS x) AS q
          WHERE r.event_id = $1 AND pg_temp.r($2, 'answers:' || s.title, sp.g) < 0.2",
        &[&event_id, &s],
    )
    .await
    .context("cannot create feedback")?;
    tx.execute(
        "INSERT INTO event_materials (event_id, session_id, title, material_type, file_url, file_size, file_format, access_level)
         SELECT $1, id, 'Slides: ' || title, 'presentation', 'https://files.example.org/slides/' || id || '.pdf',
                1000000, 'pdf', 'attendees_only'
           FROM sessions WHERE event_id = $1 AND session_type IN ('keynote', 'panel', 'workshop') AND status = 'completed'",
        &[&event_id],
    )
    .await
    .context("cannot create materials")?;
    tx.execute(
        "INSERT INTO event_analytics (event_id, metric_name, metric_value, metric_unit, measurement_time, data_source, dimension_1)
         SELECT $1, m.name, round((m.base * (0.5 + pg_temp.r($2, m.name, h)))::numeric, 4), m.unit,
                date_trunc('hour', now()) - h * interval '1 hour', m.source, m.dim
           FROM generate_series(0, 30) h,
                (VALUES ('check_ins', 120, 'count', 'check_in', 'all gates'),
                        ('app_sessions', 900, 'count', 'engagement', 'mobile'),
                        ('wifi_clients', 1500, 'count', 'engagement', 'venue'),
                        ('avg_session_rating', 4, 'stars', 'feedback', 'sessions')) AS m(name, base, unit, source, dim)",
        &[&event_id, &s],
    )
    .await
    .context("cannot create analytics")?;
    Ok(())
}

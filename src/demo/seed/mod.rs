//! `eventos seed`: a realistic, deterministic conference in any EventOS database, with times relative to
//! now so that today is its live day. The rows that grow with the attendees (orders, attendees, tickets,
//! door check-ins, networking) are drawn here and sent by binary COPY; the rest is set-based SQL, so a
//! million attendees take a minute or two, not an hour. Randomness is a hash of (seed, what, row
//! number), here and in SQL: the same --seed gives the same event, whatever the query plans.
//!
//! Historic decisions (approved and paid expenses, sent announcements, expired offers) carry their past
//! actors and times, which the rules would never let a client back-date: that part is written with
//! triggers off (session_replication_role = replica), which needs a superuser; anywhere else the seed
//! writes only what an operator could have written today, and says so.

mod attendees;
mod checkins;
mod draw;
mod extras;
mod loader;
mod money_and_messages;
mod names;
mod operators;
mod sessions;
mod venues;

use std::time::Instant;

use anyhow::{Context, Result, bail};
use tokio_postgres::Client;

use attendees::Bulk;
use checkins::checkins;
use extras::extras;
use money_and_messages::money_and_messages;
use names::{COMPANIES, FIRST_NAMES, LAST_NAMES, TOPICS, list};
use operators::operators;
pub use operators::{OPERATORS, operator_login};
use sessions::{move_sessions_along, people_in_sessions, sessions};
pub use venues::{VENUES, Venue};

/// What to generate.
#[derive(Debug, Clone)]
pub struct SeedOptions {
    pub slug: String,
    pub attendees: i32,
    pub seed: i32,
}

impl Default for SeedOptions {
    fn default() -> Self {
        SeedOptions {
            slug: "northwind-summit".to_owned(),
            attendees: 5000,
            seed: 42,
        }
    }
}

/// What was generated, counted from the database afterwards.
#[derive(Debug, Clone, Default)]
pub struct SeedReport {
    pub event_id: uuid::Uuid,
    pub slug: String,
    pub attendees: i64,
    pub orders: i64,
    pub tickets: i64,
    pub sessions: i64,
    pub rooms: i64,
    pub speakers: i64,
    pub sponsors: i64,
    pub checkins: i64,
    pub waitlisted: i64,
    pub expenses: i64,
    pub announcements: i64,
    /// (login, team role) of every operator.
    pub operators: Vec<(String, String)>,
    pub history_included: bool,
    pub seconds: f64,
}

pub async fn seed(client: &mut Client, options: &SeedOptions) -> Result<SeedReport> {
    if !(10..=5_000_000).contains(&options.attendees) {
        bail!(
            "--attendees must be between 10 and 5,000,000, not {}",
            options.attendees
        );
    }
    if !options
        .slug
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        || options.slug.len() < 2
        || options.slug.len() > 40
    {
        bail!(
            "--slug must be 2 to 40 lower-case letters, digits and hyphens, not {:?}",
            options.slug
        );
    }
    let started = Instant::now();
    let superuser: bool = client
        .query_one(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user",
            &[],
        )
        .await?
        .get(0);
    let exists: bool = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM events WHERE slug = $1)",
            &[&options.slug],
        )
        .await
        .context("cannot read events: is this an EventOS database (run `eventos migrate`)?")?
        .get(0);
    if exists {
        bail!(
            "an event with the slug {:?} already exists; choose another --slug",
            options.slug
        );
    }

    let tx = client
        .transaction()
        .await
        .context("cannot start the seed transaction")?;
    tx.batch_execute(
        "SET LOCAL max_parallel_workers_per_gather = 0;
         SET LOCAL synchronous_commit = off;
         CREATE TEMPORARY TABLE seed_names (kind text, n int, value text) ON COMMIT DROP;
         CREATE OR REPLACE FUNCTION pg_temp.r(seed int, what text, k bigint) RETURNS float8
           LANGUAGE sql IMMUTABLE
           AS $$ SELECT (hashint8extended(k, hashtextextended(what, seed)) & 4294967295)::float8 / 4294967296.0 $$;",
    )
    .await
    .context("cannot prepare the seed session")?;
    for (kind, text) in [
        ("first", FIRST_NAMES),
        ("last", LAST_NAMES),
        ("company", COMPANIES),
        ("topic", TOPICS),
    ] {
        let values = list(text);
        tx.execute(
            "INSERT INTO seed_names SELECT $1, n::int - 1, v FROM unnest($2::text[]) WITH ORDINALITY AS u(v, n)",
            &[&kind, &values],
        )
        .await
        .context("cannot load the name lists")?;
    }
    let s = options.seed;
    let n = options.attendees;

    // Where the summit is, and so the live day's clock (see VENUES).
    let zones: Vec<&str> = VENUES.iter().map(|v| v.zone).collect();
    let venue = &VENUES[tx
        .query_one(
            "SELECT k::int - 1 FROM unnest($1::text[]) WITH ORDINALITY AS c(zone, k),
                    LATERAL (SELECT (now() AT TIME ZONE zone)::time AS t) AS l
              ORDER BY (k = 1 AND t >= time '09:15' AND t < time '15:30') DESC,
                       (t >= time '09:15' AND t < time '16:00') DESC,
                       abs(extract(epoch FROM t - time '10:30')), k
              LIMIT 1",
            &[&zones],
        )
        .await
        .context("cannot choose the venue")?
        .get::<_, i32>(0) as usize];
    tx.execute(
        "CREATE TEMPORARY TABLE seed_day ON COMMIT DROP AS
         SELECT $1::text AS zone, (now() AT TIME ZONE $1)::date AS today,
                ((now() AT TIME ZONE $1)::date + time '08:00') AT TIME ZONE $1 AS doors",
        &[&venue.zone],
    )
    .await
    .context("cannot fix the live day")?;

    // The event: yesterday 08:00 to tomorrow 18:00, event-local, so today is its middle, live day.
    let event_id: uuid::Uuid = tx
        .query_one(
            "WITH site AS (
               INSERT INTO venues (name, venue_type, time_zone, address_line, city, region, postal_code, country_code)
               VALUES ('Harbour Convention Centre', 'site', $3, $4, $5, $6, $7, $8)
               RETURNING id),
             rooms AS (
               INSERT INTO venues (parent_id, name, venue_type, capacity, floor)
               SELECT site.id, r.name, r.kind, r.cap, r.floor FROM site,
                 (VALUES ('Main Hall', 'hall', 1200, '1'), ('Hall B', 'hall', 400, '1'), ('Room 201', 'room', 150, '2'),
                         ('Room 202', 'room', 150, '2'), ('Room 203', 'room', 120, '2'), ('Room 204', 'room', 120, '2'),
                         ('Workshop Lab A', 'room', 40, '3'), ('Workshop Lab B', 'room', 40, '3')) AS r(name, kind, cap, floor)
               RETURNING id)
             INSERT INTO events (slug, name, description, venue_id, starts_at, ends_at, time_zone, currency, capacity,
                                 status, waitlist_offer_window)
             SELECT $1, 'Northwind Tech Summit', 'Three days of talks, workshops and hallway tracks.', site.id,
                    ((day.today - 1) + time '08:00') AT TIME ZONE day.zone,
                    ((day.today + 1) + time '18:00') AT TIME ZONE day.zone,
                    day.zone, 'CAD', ($2::int * 21) / 20, 'published', interval '10 minutes'
               FROM site, seed_day day
             RETURNING id",
            &[
                &options.slug,
                &n,
                &venue.zone,
                &venue.address,
                &venue.city,
                &venue.region,
                &venue.postal_code,
                &venue.country,
            ],
        )
        .await
        .context("cannot create the event")?
        .get(0);

    tx.execute(
        "INSERT INTO ticket_types (event_id, name, price, quantity)
         VALUES ($1, 'General', 299, NULL), ($1, 'VIP', 899, NULL), ($1, 'Student', 99, NULL),
                ($1, 'Day Pass', 149, NULL), ($1, 'Speaker', 0, NULL), ($1, 'Sponsor', 0, NULL)",
        &[&event_id],
    )
    .await
    .context("cannot create ticket types")?;

    // Orders, attendees with a ticket each, today's arrivals at the doors: the bulk of a large seed,
    // drawn here and sent by binary COPY. Every reference is valid by construction, so an
    // administrator's load skips the per-row foreign-key, guard and realtime triggers (as pg_restore
    // does) and fills in what the guard would.
    let bulk = Bulk::prepare(&tx, event_id, options, superuser).await?;
    bulk_mode(&tx, superuser, true).await?;
    bulk.orders(&tx).await?;
    bulk.attendees(&tx).await?;
    bulk.tickets(&tx).await?;
    bulk.people(&tx).await?;
    bulk.door_checkins(&tx).await?;
    bulk.networking(&tx).await?;
    bulk_mode(&tx, superuser, false).await?;
    // The planner and the desks see a million new rows, not the empty tables of a minute ago.
    tx.batch_execute("ANALYZE orders, attendees, tickets, event_checkins")
        .await
        .context("cannot analyze the loaded tables")?;

    let operators = operators(&tx, event_id, &options.slug).await?;
    sessions(&tx, event_id, s).await?;
    people_in_sessions(&tx, event_id, s, n, superuser).await?;
    move_sessions_along(&tx, event_id).await?;
    checkins(&tx, event_id, s, n, superuser).await?;
    money_and_messages(&tx, event_id, s, n, superuser).await?;
    extras(&tx, event_id, s).await?;
    if superuser {
        recount_totals(&tx, event_id).await?;
    }
    tx.commit().await.context("cannot commit the seed")?;
    // The rest of what the desks read, counted for the planner now rather than when autovacuum gets
    // round to it (the Problems feed took 235 ms instead of 5 on a fresh million-attendee seed).
    // VACUUM also sets the visibility map, which the totals' index-only scans need.
    if superuser {
        client
            .batch_execute("VACUUM (ANALYZE) event_checkins, refused_scans, session_registrations, event_waitlists")
            .await
            .context("cannot analyze the seeded tables")?;
    }

    let counts = client
        .query_one(
            "SELECT (SELECT count(*) FROM attendees WHERE event_id = $1),
                    (SELECT count(*) FROM orders WHERE event_id = $1),
                    (SELECT count(*) FROM tickets WHERE event_id = $1),
                    (SELECT count(*) FROM sessions WHERE event_id = $1),
                    (SELECT count(*) FROM venues v JOIN events e ON v.parent_id = e.venue_id WHERE e.id = $1),
                    (SELECT count(*) FROM speakers WHERE event_id = $1),
                    (SELECT count(*) FROM sponsors WHERE event_id = $1),
                    (SELECT count(*) FROM event_checkins WHERE event_id = $1),
                    (SELECT count(*) FROM event_waitlists WHERE event_id = $1),
                    (SELECT count(*) FROM event_expenses WHERE event_id = $1),
                    (SELECT count(*) FROM event_announcements WHERE event_id = $1)",
            &[&event_id],
        )
        .await
        .context("cannot count what was seeded")?;
    Ok(SeedReport {
        event_id,
        slug: options.slug.clone(),
        attendees: counts.get(0),
        orders: counts.get(1),
        tickets: counts.get(2),
        sessions: counts.get(3),
        rooms: counts.get(4),
        speakers: counts.get(5),
        sponsors: counts.get(6),
        checkins: counts.get(7),
        waitlisted: counts.get(8),
        expenses: counts.get(9),
        announcements: counts.get(10),
        operators,
        history_included: superuser,
        seconds: started.elapsed().as_secs_f64(),
    })
}

type Tx<'a> = tokio_postgres::Transaction<'a>;

/// The realtime totals (V9) for rows loaded with the per-row and statement triggers off: counted once
/// here, holding the flusher's watermarks so that what the flusher announces later is not counted twice.
async fn recount_totals(tx: &Tx<'_>, event_id: uuid::Uuid) -> Result<()> {
    tx.execute(
        "SELECT 1 FROM realtime_watermarks ORDER BY stream FOR UPDATE",
        &[],
    )
    .await
    .context("cannot hold the realtime watermarks")?;
    tx.execute("SELECT checkin_totals_recount($1)", &[&event_id])
        .await
        .context("cannot count the check-in totals")?;
    tx.execute(
        "INSERT INTO attendee_totals (event_id, registered)
         SELECT $1, count(*) FROM attendees WHERE event_id = $1 AND status = 'registered' AND deleted_at IS NULL
         ON CONFLICT (event_id) DO UPDATE SET registered = EXCLUDED.registered",
        &[&event_id],
    )
    .await
    .context("cannot count the registered attendees")?;
    Ok(())
}

/// Per-row triggers off for an administrator's bulk load (valid by construction, as pg_restore's), or
/// back on. Only a superuser may turn them off; anyone else's rows go through the rules.
async fn bulk_mode(tx: &Tx<'_>, superuser: bool, on: bool) -> Result<()> {
    if superuser {
        tx.batch_execute(if on {
            "SET LOCAL session_replication_role = replica"
        } else {
            "SET LOCAL session_replication_role = origin"
        })
        .await
        .context("cannot switch the per-row triggers")?;
    }
    Ok(())
}

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

use std::pin::Pin;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use tokio_postgres::Client;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use uuid::Uuid;

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

fn list(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

const FIRST_NAMES: &str = include_str!("../../assets/seed/first_names.txt");
const LAST_NAMES: &str = include_str!("../../assets/seed/last_names.txt");
const COMPANIES: &str = include_str!("../../assets/seed/companies.txt");
const TOPICS: &str = include_str!("../../assets/seed/topics.txt");

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

/// A city the summit can be in.
pub struct Venue {
    pub zone: &'static str,
    pub address: &'static str,
    pub city: &'static str,
    pub region: Option<&'static str>,
    pub postal_code: Option<&'static str>,
    pub country: &'static str,
}

/// The summit's live day is a day wherever and whenever the demo runs: its program is fixed in daytime
/// (doors at 08:00, sessions 09:00 to 17:00, local) and the seed puts it in a city where it is daytime
/// now: Toronto while its clock is between 09:15 and 15:30, otherwise, of the cities whose clock is
/// between 09:15 and 16:00, the one nearest 10:30 (no city's offset is more than five hours from the
/// next, so there always is one). An operator opening the demo at 03:00 in Toronto finds a summit in
/// Dubai at noon, a session on and doors open, not sessions running through the night.
pub const VENUES: [Venue; 10] = [
    Venue {
        zone: "America/Toronto",
        address: "255 Front St W",
        city: "Toronto",
        region: Some("ON"),
        postal_code: Some("M5V 2W6"),
        country: "CA",
    },
    Venue {
        zone: "America/Vancouver",
        address: "1055 Canada Pl",
        city: "Vancouver",
        region: Some("BC"),
        postal_code: Some("V6C 0C3"),
        country: "CA",
    },
    Venue {
        zone: "Pacific/Honolulu",
        address: "1801 Kalakaua Ave",
        city: "Honolulu",
        region: Some("HI"),
        postal_code: Some("96815"),
        country: "US",
    },
    Venue {
        zone: "Pacific/Auckland",
        address: "88 Federal St",
        city: "Auckland",
        region: None,
        postal_code: Some("1010"),
        country: "NZ",
    },
    Venue {
        zone: "Australia/Sydney",
        address: "14 Darling Dr",
        city: "Sydney",
        region: Some("NSW"),
        postal_code: Some("2000"),
        country: "AU",
    },
    Venue {
        zone: "Asia/Tokyo",
        address: "3-11-1 Ariake",
        city: "Tokyo",
        region: None,
        postal_code: Some("135-0063"),
        country: "JP",
    },
    Venue {
        zone: "Asia/Singapore",
        address: "10 Bayfront Ave",
        city: "Singapore",
        region: None,
        postal_code: Some("018956"),
        country: "SG",
    },
    Venue {
        zone: "Asia/Dubai",
        address: "Sheikh Zayed Rd",
        city: "Dubai",
        region: None,
        postal_code: None,
        country: "AE",
    },
    Venue {
        zone: "Europe/Berlin",
        address: "Messedamm 22",
        city: "Berlin",
        region: None,
        postal_code: Some("14055"),
        country: "DE",
    },
    Venue {
        zone: "Europe/London",
        address: "1 Western Gateway",
        city: "London",
        region: None,
        postal_code: Some("E16 1XL"),
        country: "GB",
    },
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

/// A deterministic draw in [0, 1) from (seed, what, k), for the rows drawn on the client: SplitMix64's
/// finalizer over a name hashed once, so a million rows cost microseconds, not md5s.
#[derive(Debug, Clone, Copy)]
struct Draw(u64);

impl Draw {
    fn new(seed: i32, what: &str) -> Draw {
        // FNV-1a of the name.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in what.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        Draw(mix(h ^ mix(i64::from(seed) as u64)))
    }

    fn bits(self, k: i64) -> u64 {
        mix(self.0 ^ k as u64)
    }

    fn at(self, k: i64) -> f64 {
        (self.bits(k) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn pick<T>(self, k: i64, list: &[T]) -> &T {
        // at() < 1, so the index is always in range.
        &list[(self.at(k) * list.len() as f64) as usize]
    }
}

fn mix(z: u64) -> u64 {
    let mut z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `span` times a draw, to the microsecond.
fn scaled(span: Duration, x: f64) -> Duration {
    Duration::microseconds((span.num_microseconds().unwrap_or(0) as f64 * x) as i64)
}

/// Ids of the bulk rows: one random version-4 base per seed, numbered, so the loads append to the
/// id and foreign-key indexes instead of writing all over them.
#[derive(Debug, Clone, Copy)]
struct Ids(u128);

impl Ids {
    const ORDER: u128 = 1;
    const ATTENDEE: u128 = 2;
    const TICKET: u128 = 3;
    const CHECKIN: u128 = 4;
    const CONNECTION: u128 = 5;

    fn of(self, table: u128, k: i64) -> Uuid {
        Uuid::from_u128(self.0 | (table << 40) | (k as u128 & 0xff_ffff_ffff))
    }
}

/// Someone's ticket and arrival, the same in every pass.
struct Person {
    registered: bool,
    ticket_status: &'static str,
    code: String,
    arrival: Option<Arrival>,
}

/// A check-in at the door today, and when they left if they did.
#[derive(Debug, Clone, Copy)]
struct Arrival {
    at: DateTime<Utc>,
    gate: &'static str,
    left: Option<DateTime<Utc>>,
}

impl Person {
    fn ok(&self) -> bool {
        self.registered && self.ticket_status == "valid"
    }
}

const JOBS: [&str; 10] = [
    "Engineer",
    "Senior Engineer",
    "Engineering Manager",
    "Product Manager",
    "Designer",
    "Data Scientist",
    "CTO",
    "Developer Advocate",
    "Student",
    "Architect",
];
const GATES: [&str; 5] = [
    "North Gate",
    "North Gate",
    "South Gate",
    "East Gate",
    "Registration Desk",
];

/// Orders, attendees, tickets and door check-ins, drawn on the client.
struct Bulk {
    event_id: Uuid,
    n: i64,
    seed: i32,
    now: DateTime<Utc>,
    /// Today's doors opened at 08:00 local, an hour or more ago (see VENUES).
    doors: DateTime<Utc>,
    ids: Ids,
    /// Upper-case md5 of the slug: order numbers and ticket codes start with it, unique across events.
    prefix: String,
    /// By price, highest first, then name: VIP, General, Day Pass, Student, Speaker, Sponsor.
    ticket_types: Vec<Uuid>,
    first: Vec<String>,
    last: Vec<String>,
    company: Vec<String>,
    /// A role under row-level security may not COPY into the tables themselves.
    direct: bool,
    /// Triggers are off (an administrator's load): check-outs are written whole, as the guard would.
    triggers_off: bool,
}

impl Bulk {
    async fn prepare(
        tx: &Tx<'_>,
        event_id: Uuid,
        options: &SeedOptions,
        superuser: bool,
    ) -> Result<Bulk> {
        let row = tx
            .query_one(
                "SELECT now(), gen_random_uuid(), upper(md5($1)), (SELECT doors FROM seed_day),
                        (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user),
                        (SELECT array_agg(id ORDER BY price DESC, name) FROM ticket_types WHERE event_id = $2)",
                &[&options.slug, &event_id],
            )
            .await
            .context("cannot prepare the bulk load")?;
        let base: Uuid = row.get(1);
        let ticket_types: Vec<Uuid> = row.get(5);
        if ticket_types.len() != 6 {
            bail!("the event has {} ticket types, not 6", ticket_types.len());
        }
        Ok(Bulk {
            event_id,
            n: i64::from(options.attendees),
            seed: options.seed,
            now: row.get(0),
            doors: row.get(3),
            // Keep the version and variant bits, clear the 48 bits that number the rows.
            ids: Ids(base.as_u128() & !0xffff_ffff_ffff),
            prefix: row.get(2),
            ticket_types,
            first: list(FIRST_NAMES),
            last: list(LAST_NAMES),
            company: list(COMPANIES),
            direct: row.get::<_, Option<bool>>(4).unwrap_or(false),
            triggers_off: superuser,
        })
    }

    fn draw(&self, what: &str) -> Draw {
        Draw::new(self.seed, what)
    }

    fn orders_count(&self) -> i64 {
        (self.n * 2 + 2) / 3
    }

    /// Attendee g's order: groups of one and two.
    fn order_of(g: i64) -> i64 {
        (g * 2 + 2) / 3
    }

    fn paid_at(&self, paid: Draw, o: i64) -> DateTime<Utc> {
        self.now - scaled(Duration::days(30), paid.at(o))
    }

    fn person(&self, g: i64, d: &PersonDraws) -> Person {
        let v = d.void.at(g);
        let ticket_status = if v < 0.015 {
            "void"
        } else if v < 0.025 {
            "refunded"
        } else {
            "valid"
        };
        let registered = d.cancel.at(g) >= 0.02;
        let code = format!(
            "{}{g:06X}{:05X}",
            &self.prefix[..3],
            d.code.bits(g) & 0xf_ffff
        );
        let x = d.arrive.at(g);
        let arrival = (registered && ticket_status == "valid" && x < 0.62).then(|| {
            // Since the doors opened: seven in ten in the doors-open rush (exponential, a mean of
            // 30 minutes after the doors), the rest at any time since.
            let open = (self.now - self.doors).max(Duration::minutes(1));
            let rush = Duration::seconds((-(1.0 - d.early.at(g)).ln() * 1800.0) as i64);
            let at = self.doors
                + if d.recent.at(g) < 0.7 && rush < open {
                    rush
                } else {
                    scaled(open, d.early.at(g))
                };
            let left = (d.leave.at(g) < 0.06).then(|| at + scaled(self.now - at, d.stay.at(g)));
            let gate = *d.gate.pick(g, &GATES);
            Arrival { at, gate, left }
        });
        Person {
            registered,
            ticket_status,
            code,
            arrival,
        }
    }

    async fn orders(&self, tx: &Tx<'_>) -> Result<()> {
        let (refund, paid, reference) = (
            self.draw("refund"),
            self.draw("paid"),
            self.draw(&format!("{}:order", self.prefix)),
        );
        let zero = Decimal::ZERO;
        let (subtotal, tax, total) = (
            Decimal::new(299, 0),
            Decimal::new(3887, 2),
            Decimal::new(33787, 2),
        );
        let mut load = Loader::start(
            tx,
            "orders",
            "id, event_id, order_number, buyer_email, buyer_name, status, subtotal_amount, tax_amount,
             total_amount, refunded_amount, payment_provider, payment_reference, paid_at, created_at",
            &[
                Type::UUID,
                Type::UUID,
                Type::TEXT,
                Type::TEXT,
                Type::TEXT,
                Type::TEXT,
                Type::NUMERIC,
                Type::NUMERIC,
                Type::NUMERIC,
                Type::NUMERIC,
                Type::TEXT,
                Type::TEXT,
                Type::TIMESTAMPTZ,
                Type::TIMESTAMPTZ,
            ],
            self.direct,
        )
        .await?;
        for o in 1..=self.orders_count() {
            let refunded = refund.at(o) < 0.01;
            let at = self.paid_at(paid, o);
            load.row(&[
                &self.ids.of(Ids::ORDER, o),
                &self.event_id,
                &format!("{}-{o:07}", &self.prefix[..6]),
                &format!("buyer{o}@example.org"),
                &format!("Buyer {o}"),
                &if refunded { "refunded" } else { "paid" },
                &subtotal,
                &tax,
                &total,
                if refunded { &total } else { &zero },
                &"stripe",
                &format!("pi_{:016x}{:016x}", reference.bits(o), reference.bits(-o)),
                &at,
                &at,
            ])
            .await?;
        }
        load.finish().await
    }

    async fn attendees(&self, tx: &Tx<'_>) -> Result<()> {
        let d = PersonDraws::new(self);
        let (paid, first, last, company, job) = (
            self.draw("paid"),
            self.draw("first"),
            self.draw("last"),
            self.draw("company"),
            self.draw("job"),
        );
        let cancelled_at = self.now - Duration::days(3);
        let mut load = Loader::start(
            tx,
            "attendees",
            "id, event_id, order_id, first_name, last_name, email, company, job_title, status, cancelled_at,
             created_at",
            &[
                Type::UUID,
                Type::UUID,
                Type::UUID,
                Type::TEXT,
                Type::TEXT,
                Type::TEXT,
                Type::TEXT,
                Type::TEXT,
                Type::TEXT,
                Type::TIMESTAMPTZ,
                Type::TIMESTAMPTZ,
            ],
            self.direct,
        )
        .await?;
        let mut email = String::new();
        for g in 1..=self.n {
            let o = Self::order_of(g);
            let (f, l) = (first.pick(g, &self.first), last.pick(g, &self.last));
            email.clear();
            email.extend(
                f.chars()
                    .chain(std::iter::once('.'))
                    .chain(l.chars())
                    .filter(|c| c.is_ascii_alphabetic() || *c == '.')
                    .map(|c| c.to_ascii_lowercase()),
            );
            email.push_str(&format!(".{g}@example.org"));
            let registered = d.cancel.at(g) >= 0.02;
            let (company, job) = (company.pick(g, &self.company), job.pick(g, &JOBS));
            load.row(&[
                &self.ids.of(Ids::ATTENDEE, g),
                &self.event_id,
                &self.ids.of(Ids::ORDER, o),
                f,
                l,
                &email,
                company,
                job,
                &if registered {
                    "registered"
                } else {
                    "cancelled"
                },
                &(!registered).then_some(cancelled_at),
                &self.paid_at(paid, o),
            ])
            .await?;
        }
        load.finish().await
    }

    async fn tickets(&self, tx: &Tx<'_>) -> Result<()> {
        let d = PersonDraws::new(self);
        let kind = self.draw("type");
        let changed_at = self.now - Duration::days(2);
        let prices = [899, 299, 149, 99].map(|p| Decimal::new(p, 0));
        let mut load = Loader::start(
            tx,
            "tickets",
            "id, event_id, attendee_id, order_id, ticket_type_id, code, status, price_paid, status_changed_at",
            &[
                Type::UUID,
                Type::UUID,
                Type::UUID,
                Type::UUID,
                Type::UUID,
                Type::TEXT,
                Type::TEXT,
                Type::NUMERIC,
                Type::TIMESTAMPTZ,
            ],
            self.direct,
        )
        .await?;
        for g in 1..=self.n {
            let p = self.person(g, &d);
            // 8% VIP, 10% day passes, 8% students, the rest general admission.
            let x = kind.at(g);
            let t = if x < 0.08 {
                0
            } else if x < 0.18 {
                2
            } else if x < 0.26 {
                3
            } else {
                1
            };
            load.row(&[
                &self.ids.of(Ids::TICKET, g),
                &self.event_id,
                &self.ids.of(Ids::ATTENDEE, g),
                &self.ids.of(Ids::ORDER, Self::order_of(g)),
                &self.ticket_types[t],
                &p.code,
                &p.ticket_status,
                &prices[t],
                &(p.ticket_status != "valid").then_some(changed_at),
            ])
            .await?;
        }
        load.finish().await
    }

    /// Today's arrivals (a rush after the doors opened, a trickle since) and a few early leavers. With triggers on, the guard refuses a closed new entry: those check out afterwards.
    async fn door_checkins(&self, tx: &Tx<'_>) -> Result<()> {
        let d = PersonDraws::new(self);
        let mut load = Loader::start(
            tx,
            "event_checkins",
            "id, event_id, attendee_id, ticket_id, check_in_time, gate, location, check_in_method,
             qr_code_scanned, check_out_time, is_present, attendance_duration",
            &[
                Type::UUID,
                Type::UUID,
                Type::UUID,
                Type::UUID,
                Type::TIMESTAMPTZ,
                Type::TEXT,
                Type::TEXT,
                Type::TEXT,
                Type::TEXT,
                Type::TIMESTAMPTZ,
                Type::BOOL,
                Type::INT4,
            ],
            self.direct,
        )
        .await?;
        for g in 1..=self.n {
            let p = self.person(g, &d);
            let Some(Arrival { at, gate, left }) = p.arrival else {
                continue;
            };
            let left = left.filter(|_| self.triggers_off);
            load.row(&[
                &self.ids.of(Ids::CHECKIN, g),
                &self.event_id,
                &self.ids.of(Ids::ATTENDEE, g),
                &self.ids.of(Ids::TICKET, g),
                &at,
                &gate,
                &gate,
                &"qr_code",
                &p.code,
                &left,
                &left.is_none(),
                &left.map(|out| ((out - at).num_seconds() / 60) as i32),
            ])
            .await?;
        }
        load.finish().await?;
        if !self.triggers_off {
            tx.execute(
                "UPDATE event_checkins c SET check_out_time = sp.left_at
                   FROM seed_people sp WHERE c.id = sp.checkin AND sp.left_at IS NOT NULL",
                &[],
            )
            .await
            .context("cannot check some people out")?;
        }
        Ok(())
    }

    /// Networking: attendee k asks attendee 1 + 7919k mod n, for the first fifth of them.
    async fn networking(&self, tx: &Tx<'_>) -> Result<()> {
        const KINDS: [&str; 4] = ["business", "collaboration", "mentorship", "friendship"];
        const STATES: [&str; 4] = ["pending", "accepted", "accepted", "declined"];
        let mut load = Loader::start(
            tx,
            "networking_connections",
            "id, event_id, requester_id, target_id, connection_type, status, message",
            &[
                Type::UUID,
                Type::UUID,
                Type::UUID,
                Type::UUID,
                Type::TEXT,
                Type::TEXT,
                Type::TEXT,
            ],
            self.direct,
        )
        .await?;
        for k in 1..=(self.n / 5).max(2) {
            let target = 1 + (k * 7919) % self.n;
            if target == k {
                continue;
            }
            load.row(&[
                &self.ids.of(Ids::CONNECTION, k),
                &self.event_id,
                &self.ids.of(Ids::ATTENDEE, k),
                &self.ids.of(Ids::ATTENDEE, target),
                &KINDS[(k % 4) as usize],
                &STATES[((k / 3) % 4) as usize],
                &"Nice to meet you!",
            ])
            .await?;
        }
        load.finish().await
    }

    /// Everyone numbered in a temporary table, with their ticket and arrival, for picking people by
    /// arithmetic in the set-based steps that follow.
    async fn people(&self, tx: &Tx<'_>) -> Result<()> {
        let d = PersonDraws::new(self);
        tx.batch_execute(
            "CREATE TEMPORARY TABLE seed_people (g int, id uuid, ok bool, ticket uuid, code text, tstatus text,
                                                 checkin uuid, arrived timestamptz, gate text,
                                                 left_at timestamptz, present bool) ON COMMIT DROP",
        )
        .await
        .context("cannot number the attendees")?;
        let mut load = Loader::start(
            tx,
            "seed_people",
            "g, id, ok, ticket, code, tstatus, checkin, arrived, gate, left_at, present",
            &[
                Type::INT4,
                Type::UUID,
                Type::BOOL,
                Type::UUID,
                Type::TEXT,
                Type::TEXT,
                Type::UUID,
                Type::TIMESTAMPTZ,
                Type::TEXT,
                Type::TIMESTAMPTZ,
                Type::BOOL,
            ],
            true,
        )
        .await?;
        for g in 1..=self.n {
            let p = self.person(g, &d);
            let arrival = p.arrival;
            load.row(&[
                &(g as i32),
                &self.ids.of(Ids::ATTENDEE, g),
                &p.ok(),
                &self.ids.of(Ids::TICKET, g),
                &p.code,
                &p.ticket_status,
                &arrival.map(|_| self.ids.of(Ids::CHECKIN, g)),
                &arrival.map(|a| a.at),
                &arrival.map(|a| a.gate),
                &arrival.and_then(|a| a.left),
                &arrival.is_some_and(|a| a.left.is_none()),
            ])
            .await?;
        }
        load.finish().await?;
        tx.batch_execute(
            "CREATE UNIQUE INDEX ON seed_people (g);
             CREATE UNIQUE INDEX ON seed_people (id);
             ANALYZE seed_people;",
        )
        .await
        .context("cannot index the attendees")
    }
}

/// The draws that make a [`Person`].
struct PersonDraws {
    void: Draw,
    cancel: Draw,
    code: Draw,
    arrive: Draw,
    recent: Draw,
    early: Draw,
    gate: Draw,
    leave: Draw,
    stay: Draw,
}

impl PersonDraws {
    fn new(bulk: &Bulk) -> PersonDraws {
        PersonDraws {
            void: bulk.draw("void"),
            cancel: bulk.draw("cancel"),
            code: bulk.draw(&format!("{}:ticket", bulk.prefix)),
            arrive: bulk.draw("arrive"),
            recent: bulk.draw("recent"),
            early: bulk.draw("early"),
            gate: bulk.draw("gate"),
            leave: bulk.draw("leave"),
            stay: bulk.draw("stay"),
        }
    }
}

/// Rows by binary COPY into a table, or, for a role under row-level security (which may not COPY into
/// it), into a temporary table and from there by one INSERT that the policies check.
struct Loader<'a> {
    tx: &'a Tx<'a>,
    table: &'static str,
    columns: &'static str,
    staged: bool,
    writer: Pin<Box<BinaryCopyInWriter>>,
}

impl<'a> Loader<'a> {
    async fn start(
        tx: &'a Tx<'a>,
        table: &'static str,
        columns: &'static str,
        types: &[Type],
        direct: bool,
    ) -> Result<Loader<'a>> {
        if !direct {
            tx.batch_execute(&format!(
                "CREATE TEMPORARY TABLE seed_stage ON COMMIT DROP AS SELECT {columns} FROM {table} WITH NO DATA"
            ))
            .await
            .with_context(|| format!("cannot stage {table}"))?;
        }
        let target = if direct { table } else { "seed_stage" };
        let sink = tx
            .copy_in(&format!(
                "COPY {target} ({columns}) FROM STDIN (FORMAT binary)"
            ))
            .await
            .with_context(|| format!("cannot start loading {table}"))?;
        Ok(Loader {
            tx,
            table,
            columns,
            staged: !direct,
            writer: Box::pin(BinaryCopyInWriter::new(sink, types)),
        })
    }

    async fn row(&mut self, values: &[&(dyn ToSql + Sync)]) -> Result<()> {
        let table = self.table;
        self.writer
            .as_mut()
            .write(values)
            .await
            .with_context(|| format!("cannot load {table}"))
    }

    async fn finish(mut self) -> Result<()> {
        let table = self.table;
        self.writer
            .as_mut()
            .finish()
            .await
            .with_context(|| format!("cannot load {table}"))?;
        if self.staged {
            let columns = self.columns;
            self.tx
                .batch_execute(&format!(
                    "INSERT INTO {table} ({columns}) SELECT {columns} FROM seed_stage; DROP TABLE seed_stage"
                ))
                .await
                .with_context(|| format!("cannot load {table}"))?;
        }
        Ok(())
    }
}

/// The operators of [`OPERATORS`], each with a login role. Returns (login, team role).
async fn operators(tx: &Tx<'_>, event_id: uuid::Uuid, slug: &str) -> Result<Vec<(String, String)>> {
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

/// Speakers, and three days of sessions in eight rooms, 09:00 to 17:00 local each day. The second day
/// is today, and now is within it (see VENUES): some sessions are over, one slot (or a break) is live,
/// the rest are ahead.
async fn sessions(tx: &Tx<'_>, event_id: uuid::Uuid, s: i32) -> Result<()> {
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
async fn move_sessions_along(tx: &Tx<'_>, event_id: uuid::Uuid) -> Result<()> {
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
async fn people_in_sessions(
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
                  CASE WHEN registration_required OR pg_temp.r($2, 'popular', sn) < 0.15 THEN max_attendees
                       ELSE floor(max_attendees * (0.2 + 0.6 * pg_temp.r($2, 'fill', sn)))::int END AS seats
             FROM (SELECT s.id, s.registration_required, s.max_attendees,
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

/// People in the live sessions, and the refused scans a real door sees (the doors' arrivals are part
/// of the bulk load).
async fn checkins(
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

/// Sessions' registration and presence counters, from the rows an administrator's bulk load wrote
/// with the counting triggers off.
async fn set_session_counters(tx: &Tx<'_>, event_id: uuid::Uuid) -> Result<()> {
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

/// Expenses in every category and state, announcements in every state. Decided and sent ones carry
/// their past actors and times, which only a superuser may write (triggers off); without one, the
/// seed leaves them pending and draft.
async fn money_and_messages(
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

/// Sponsors in every tier, feedback, materials and analytics.
async fn extras(tx: &Tx<'_>, event_id: uuid::Uuid, s: i32) -> Result<()> {
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

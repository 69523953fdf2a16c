//! The rows that grow with the attendees, drawn on the client and sent by binary COPY: orders,
//! attendees, their tickets, today's arrivals at the doors and networking requests, and everyone
//! numbered in a temporary table (seed_people) for the set-based steps that follow.

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use tokio_postgres::types::Type;
use uuid::Uuid;

use super::draw::{Draw, scaled};
use super::loader::Loader;
use super::names::{COMPANIES, FIRST_NAMES, LAST_NAMES, list};
use super::{SeedOptions, Tx};

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
pub(super) struct Bulk {
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
    pub(super) async fn prepare(
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

    pub(super) async fn orders(&self, tx: &Tx<'_>) -> Result<()> {
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

    pub(super) async fn attendees(&self, tx: &Tx<'_>) -> Result<()> {
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

    pub(super) async fn tickets(&self, tx: &Tx<'_>) -> Result<()> {
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
    pub(super) async fn door_checkins(&self, tx: &Tx<'_>) -> Result<()> {
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
    pub(super) async fn networking(&self, tx: &Tx<'_>) -> Result<()> {
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
    pub(super) async fn people(&self, tx: &Tx<'_>) -> Result<()> {
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

//! The gate simulator: concurrent scanners on separate connections (as real gates are) at a rate
//! profile, with the faults a real door sees, and the floor around them: people leaving, session doors,
//! cancellations that free seats (and so waitlist offers), new expenses, announcements falling due.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio_postgres::Client;
use tracing::warn;

use crate::config::DatabaseSettings;
use crate::db;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateProfile {
    /// The same rate throughout.
    Steady,
    /// Doors open: three times the rate for the first third, then the base rate.
    Burst,
}

#[derive(Debug, Clone)]
pub struct SimulateOptions {
    pub slug: String,
    pub gates: usize,
    /// Scans per second, all gates together.
    pub rate: f64,
    pub profile: RateProfile,
    pub duration: Option<Duration>,
    /// Log in as this role for the gates and the floor (None: the connection's own user).
    pub gate_login: Option<String>,
    pub floor_login: Option<String>,
}

/// Running totals, shared by the tasks.
#[derive(Debug, Default)]
pub struct Counters {
    pub scans: AtomicU64,
    pub accepted: AtomicU64,
    pub refused: AtomicU64,
    pub errors: AtomicU64,
    pub floor_actions: AtomicU64,
}

impl Counters {
    pub fn line(&self, elapsed: Duration) -> String {
        let scans = self.scans.load(Ordering::Relaxed);
        // One line that fits 80 columns.
        format!(
            "{:>5.0} s  {scans} scans: {} in, {} refused, {} errors  {:.1}/s  floor {}",
            elapsed.as_secs_f64(),
            self.accepted.load(Ordering::Relaxed),
            self.refused.load(Ordering::Relaxed),
            self.errors.load(Ordering::Relaxed),
            scans as f64 / elapsed.as_secs_f64().max(0.001),
            self.floor_actions.load(Ordering::Relaxed)
        )
    }
}

/// A small, seedable generator (splitmix64): the simulator needs variety, not cryptography.
struct Rng(u64);

impl Rng {
    fn new() -> Rng {
        Rng(uuid::Uuid::new_v4().as_u128() as u64)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

async fn connect_as(settings: &DatabaseSettings, login: Option<&str>) -> Result<Client> {
    let mut settings = settings.clone();
    if let Some(login) = login {
        settings.pg.user(login);
    }
    db::connect(&settings).await
}

/// Runs until the duration passes or `stop` fires; prints a line every `report_every`.
pub async fn run(
    settings: &DatabaseSettings,
    options: &SimulateOptions,
    counters: Arc<Counters>,
    stop: tokio::sync::watch::Receiver<bool>,
    mut report: impl FnMut(String) + Send,
) -> Result<()> {
    if options.gates == 0 || options.gates > 64 {
        bail!("--gates must be between 1 and 64, not {}", options.gates);
    }
    if !(options.rate > 0.0 && options.rate <= 10_000.0) {
        bail!(
            "--rate must be more than 0 and at most 10,000 scans a second, not {}",
            options.rate
        );
    }
    let admin = connect_as(settings, None).await?;
    let row = admin
        .query_opt("SELECT id FROM events WHERE slug = $1", &[&options.slug])
        .await
        .context("cannot look up the event")?;
    let Some(row) = row else {
        bail!(
            "no event has the slug {:?} (run `eventos seed` first)",
            options.slug
        );
    };
    let event: uuid::Uuid = row.get(0);
    // The codes a door will see: people not in yet, with the faults mixed in at scan time.
    let codes: Vec<String> = admin
        .query(
            "SELECT t.code FROM tickets t JOIN attendees a ON a.id = t.attendee_id
              WHERE t.event_id = $1 AND NOT EXISTS (SELECT 1 FROM event_checkins c
                                                      WHERE c.attendee_id = a.id AND c.is_present AND c.session_id IS NULL)
              ORDER BY md5(t.code) LIMIT 200000",
            &[&event],
        )
        .await
        .context("cannot read the ticket codes")?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if codes.is_empty() {
        bail!("every ticket of {:?} is already checked in", options.slug);
    }
    let codes = Arc::new(codes);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for gate in 0..options.gates {
        let client = connect_as(settings, options.gate_login.as_deref()).await?;
        let codes = codes.clone();
        let counters = counters.clone();
        let options = options.clone();
        let mut stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng::new();
            let gate_name = [
                "North Gate",
                "South Gate",
                "East Gate",
                "West Gate",
                "Registration Desk",
            ][gate % 5]
                .to_owned();
            let mut next_code = gate;
            let mut scanned: Vec<String> = Vec::new();
            let mut next_at = Instant::now();
            loop {
                if *stop.borrow() || options.duration.is_some_and(|d| started.elapsed() >= d) {
                    break;
                }
                let rate = gate_rate(&options, started.elapsed());
                next_at += Duration::from_secs_f64(rng_exp(&mut rng) / rate);
                tokio::select! {
                    _ = tokio::time::sleep_until(next_at.into()) => {}
                    _ = stop.changed() => break,
                }
                let fault = rng.unit();
                let code = if fault < 0.06 && !scanned.is_empty() {
                    scanned[rng.below(scanned.len())].clone() // a second scan of someone already in
                } else if fault < 0.09 {
                    format!("NW{:010X}", rng.next() & 0xFF_FFFF_FFFF) // a code nobody issued
                } else if fault < 0.10 {
                    "\u{1b}[A".to_owned() // scanner garbage
                } else {
                    let code = codes[next_code % codes.len()].clone();
                    next_code += options.gates;
                    code
                };
                counters.scans.fetch_add(1, Ordering::Relaxed);
                match client
                    .query_one(
                        "SELECT accepted FROM check_in_by_code($1, $2, $3)",
                        &[&event, &code, &gate_name],
                    )
                    .await
                {
                    Ok(row) if row.get::<_, bool>(0) => {
                        counters.accepted.fetch_add(1, Ordering::Relaxed);
                        scanned.push(code);
                    }
                    Ok(_) => {
                        counters.refused.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(error) => {
                        counters.errors.fetch_add(1, Ordering::Relaxed);
                        warn!(%error, "simulated scan failed");
                        if client.is_closed() {
                            break;
                        }
                    }
                }
            }
        }));
    }
    let floor = connect_as(settings, options.floor_login.as_deref()).await?;
    {
        let counters = counters.clone();
        let options = options.clone();
        let mut stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng::new();
            let mut tick = tokio::time::interval(Duration::from_millis(1500));
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stop.changed() => break,
                }
                if *stop.borrow() || options.duration.is_some_and(|d| started.elapsed() >= d) {
                    break;
                }
                let sql = FLOOR_ACTIONS[rng.below(FLOOR_ACTIONS.len())];
                match floor.execute(sql, &[&event]).await {
                    Ok(_) => {
                        counters.floor_actions.fetch_add(1, Ordering::Relaxed);
                    }
                    // A refusal (a full room, a rule) is part of the floor's life, not a failure.
                    Err(error) if error.code().map(|c| c.code()) == Some("EV001") => {}
                    Err(error) => {
                        counters.errors.fetch_add(1, Ordering::Relaxed);
                        warn!(%error, "simulated floor action failed");
                    }
                }
            }
        }));
    }
    let mut stop_reports = stop.clone();
    let mut every = tokio::time::interval(Duration::from_secs(5));
    every.tick().await;
    loop {
        tokio::select! {
            _ = every.tick() => report(counters.line(started.elapsed())),
            _ = stop_reports.changed() => break,
            _ = tokio::time::sleep(Duration::from_millis(200)) => {
                if options.duration.is_some_and(|d| started.elapsed() >= d) { break; }
                if tasks.iter().all(|t| t.is_finished()) { break; }
            }
        }
    }
    for task in tasks {
        let _ = task.await;
    }
    report(counters.line(started.elapsed()));
    Ok(())
}

/// What happens on the floor, one at a time: each statement picks its own subject.
const FLOOR_ACTIONS: [&str; 5] = [
    // Someone leaves.
    "SELECT check_out(c.attendee_id) FROM event_checkins c
      WHERE c.event_id = $1 AND c.is_present AND c.session_id IS NULL
      ORDER BY random() LIMIT 1",
    // Someone walks into a live session they registered for.
    "SELECT check_in_attendee(r.attendee_id, 'Room door', r.session_id)
       FROM session_registrations r JOIN sessions s ON s.id = r.session_id AND s.status = 'live'
      WHERE r.event_id = $1 AND r.status = 'registered'
        AND NOT EXISTS (SELECT 1 FROM event_checkins c WHERE c.session_id = r.session_id AND c.attendee_id = r.attendee_id AND c.is_present)
      ORDER BY random() LIMIT 1",
    // Someone gives their seat back in a full session: the next in line gets an offer.
    "SELECT cancel_session_seat(r.session_id, r.attendee_id)
       FROM session_registrations r JOIN sessions s ON s.id = r.session_id
      WHERE r.event_id = $1 AND r.status = 'registered' AND s.status = 'scheduled'
        AND EXISTS (SELECT 1 FROM event_waitlists w WHERE w.session_id = s.id AND w.status = 'waiting')
      ORDER BY random() LIMIT 1",
    // A receipt comes in.
    "SELECT submit_expense($1, (ARRAY['Taxi', 'Extension cords', 'Water bottles', 'Printer toner'])[1 + floor(random() * 4)::int],
                           round((20 + random() * 480)::numeric, 2), 'miscellaneous')",
    // An announcement is set to go out shortly.
    "SELECT schedule_announcement((create_announcement($1, 'Next sessions start in 5 minutes',
                                                      'Please make your way to the rooms.', 'normal', 'attendees',
                                                      NULL, ARRAY['push', 'in_app'])).id, now() + interval '20 seconds')",
];

/// The whole rate spread over the gates, with the profile's shape.
fn gate_rate(options: &SimulateOptions, elapsed: Duration) -> f64 {
    let base = options.rate / options.gates as f64;
    match (options.profile, options.duration) {
        (RateProfile::Burst, Some(total)) if elapsed < total / 3 => base * 3.0,
        (RateProfile::Burst, None) if elapsed < Duration::from_secs(120) => base * 3.0,
        _ => base,
    }
}

/// An exponential variate with mean 1 (scans arrive as a Poisson process).
fn rng_exp(rng: &mut Rng) -> f64 {
    -(1.0 - rng.unit()).ln()
}

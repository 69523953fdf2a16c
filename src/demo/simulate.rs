//! The gate simulator: concurrent scanners on separate connections (as real gates are), each following
//! a doors-open plan (`doors`: a rush that decays to a floor of late arrivals, re-entries and a few
//! percent of problems), and the floor around them on the event's own clock: room hosts marking
//! sessions live and over, people scanning in at a room's door when its session starts, a reminder
//! before each slot, now and then a seat given back (and so a waitlist offer) or a receipt.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use tokio_postgres::Client;
use tracing::warn;

use super::doors::{Crowd, DoorsPlan, GateEvent, Rng};
use crate::config::DatabaseSettings;
use crate::db;
use crate::desks::sessions::model::SessionStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateProfile {
    /// The same rate throughout: the people expected arrive over three hours, the rest of the scans
    /// are people coming back and a few problems.
    Steady,
    /// Doors open: a rush at the rate that decays to a tenth of it (see `doors`).
    Burst,
}

#[derive(Debug, Clone)]
pub struct SimulateOptions {
    pub slug: String,
    pub gates: usize,
    /// Peak gate events a second (scans and people stepping out), all gates together: where the
    /// burst profile's rush starts, and the steady profile's rate throughout.
    pub rate: f64,
    pub profile: RateProfile,
    pub duration: Option<Duration>,
    /// Log in as this role for the gates and the floor (None: the connection's own user).
    pub gate_login: Option<String>,
    pub floor_login: Option<String>,
    /// The same seed, event and options give the same plan at every gate (None: a random one).
    pub seed: Option<u64>,
    /// A gate that stops for a while, as a scanner that dies or a blocked queue (gate watch's alert).
    pub stall: Option<Stall>,
}

/// Gate `gate` lets nobody in from `from` to `until` into every `every` (its queue waits and comes
/// through at once when it is back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stall {
    pub gate: usize,
    pub every: Duration,
    pub from: Duration,
    pub until: Duration,
}

impl Stall {
    /// When the gate may scan again, if it is stalled at `elapsed`.
    pub fn over_at(&self, gate: usize, elapsed: Duration) -> Option<Duration> {
        if gate != self.gate || self.every.is_zero() {
            return None;
        }
        let cycles = elapsed.as_nanos() / self.every.as_nanos();
        let start = self.every * u32::try_from(cycles).ok()?;
        let into = elapsed - start;
        (into >= self.from && into < self.until).then(|| start + self.until)
    }
}

/// Running totals, shared by the tasks.
#[derive(Debug, Default)]
pub struct Counters {
    pub scans: AtomicU64,
    pub accepted: AtomicU64,
    pub refused: AtomicU64,
    pub errors: AtomicU64,
    /// People who stepped out (checked out at a gate).
    pub left: AtomicU64,
    pub floor_actions: AtomicU64,
}

impl Counters {
    pub fn line(&self, elapsed: Duration) -> String {
        let scans = self.scans.load(Ordering::Relaxed);
        // One line that fits 80 columns.
        format!(
            "{:>5.0} s  {scans} scans: {} in, {} refused, {} errors  {:.1}/s  {} out  floor {}",
            elapsed.as_secs_f64(),
            self.accepted.load(Ordering::Relaxed),
            self.refused.load(Ordering::Relaxed),
            self.errors.load(Ordering::Relaxed),
            scans as f64 / elapsed.as_secs_f64().max(0.001),
            self.left.load(Ordering::Relaxed),
            self.floor_actions.load(Ordering::Relaxed)
        )
    }
}

async fn connect_as(settings: &DatabaseSettings, login: Option<&str>) -> Result<Client> {
    let mut settings = settings.clone();
    if let Some(login) = login {
        settings.pg.user(login);
    }
    db::connect(&settings).await
}

/// A new connection after the last one closed (the server restarted, the link came back), as a real
/// gate's scanner gets one: tried every half second until it works or the run stops (None).
async fn reconnect(
    settings: &DatabaseSettings,
    login: Option<&str>,
    stop: &mut tokio::sync::watch::Receiver<bool>,
) -> Option<Client> {
    loop {
        if *stop.borrow() {
            return None;
        }
        match connect_as(settings, login).await {
            Ok(client) => return Some(client),
            Err(error) => {
                warn!(error = %format!("{error:#}"), "a simulated gate cannot reconnect yet")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Someone a gate may scan: their code and who they are (to check them out).
#[derive(Debug, Clone)]
struct Person {
    code: String,
    attendee: uuid::Uuid,
}

/// What one gate serves: its share of those inside, then of those expected, and of the bad codes.
struct GateCrowd {
    people: Vec<Person>,
    crowd: Crowd,
    bad: Vec<String>,
}

/// The event's people, dealt to the gates round robin (in an order fixed by their codes).
async fn deal(client: &Client, event: uuid::Uuid, gates: usize) -> Result<Vec<GateCrowd>> {
    let rows = client
        .query(
            "SELECT t.code, a.id, t.status = 'valid' AND a.status = 'registered' AS ok,
                    EXISTS (SELECT 1 FROM event_checkins c
                             WHERE c.attendee_id = a.id AND c.is_present AND c.session_id IS NULL) AS inside
               FROM tickets t JOIN attendees a ON a.id = t.attendee_id
              WHERE t.event_id = $1 AND a.deleted_at IS NULL
              ORDER BY md5(t.code) LIMIT 2000000",
            &[&event],
        )
        .await
        .context("cannot read the ticket codes")?;
    let mut inside: Vec<Vec<Person>> = vec![Vec::new(); gates];
    let mut due: Vec<Vec<Person>> = vec![Vec::new(); gates];
    let mut bad: Vec<Vec<String>> = vec![Vec::new(); gates];
    for (k, row) in rows.iter().enumerate() {
        let g = k % gates;
        let person = Person {
            code: row.get(0),
            attendee: row.get(1),
        };
        match (row.get::<_, bool>(2), row.get::<_, bool>(3)) {
            (false, _) => bad[g].push(person.code),
            (true, true) => inside[g].push(person),
            (true, false) => due[g].push(person),
        }
    }
    Ok(inside
        .into_iter()
        .zip(due)
        .zip(bad)
        .map(|((mut people, due), bad)| {
            let crowd = Crowd {
                present: people.len(),
                due: due.len(),
                bad: bad.len(),
            };
            people.extend(due);
            GateCrowd { people, crowd, bad }
        })
        .collect())
}

const GATE_NAMES: [&str; 5] = [
    "North Gate",
    "South Gate",
    "East Gate",
    "West Gate",
    "Registration Desk",
];

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
    let crowds = deal(&admin, event, options.gates).await?;
    if crowds.iter().all(|c| c.people.is_empty()) {
        bail!("{:?} has no attendee who may come in", options.slug);
    }
    let seed = options
        .seed
        .unwrap_or_else(|| uuid::Uuid::new_v4().as_u128() as u64);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (gate, crowd) in crowds.into_iter().enumerate() {
        let mut client = connect_as(settings, options.gate_login.as_deref()).await?;
        let settings = settings.clone();
        let counters = counters.clone();
        let options = options.clone();
        let mut stop = stop.clone();
        let gate_seed = seed ^ (gate as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let event_id = event;
        tasks.push(tokio::spawn(async move {
            let gate_name = GATE_NAMES[gate % GATE_NAMES.len()];
            let mut plan = DoorsPlan::new(
                crowd.crowd,
                options.rate / options.gates as f64,
                options.profile == RateProfile::Burst,
                gate_seed,
            );
            loop {
                let (at, step) = plan.next_event();
                let at = Duration::from_secs_f64(at);
                if *stop.borrow() || options.duration.is_some_and(|d| at >= d) {
                    break;
                }
                tokio::select! {
                    _ = tokio::time::sleep_until((started + at).into()) => {}
                    _ = stop.changed() => break,
                }
                if let Some(back) = options
                    .stall
                    .and_then(|s| s.over_at(gate, started.elapsed()))
                {
                    tokio::select! {
                        _ = tokio::time::sleep_until((started + back).into()) => {}
                        _ = stop.changed() => break,
                    }
                }
                if !gate_event(&client, event_id, step, &crowd, gate_name, &counters).await
                    && client.is_closed()
                {
                    match reconnect(&settings, options.gate_login.as_deref(), &mut stop).await {
                        Some(again) => client = again,
                        None => break,
                    }
                }
            }
        }));
    }
    // The floor and the rooms' doors, as the floor login (an organizer: it may run sessions).
    for task in [Floor::Hosts, Floor::RoomDoors] {
        let client = connect_as(settings, options.floor_login.as_deref()).await?;
        let settings = settings.clone();
        let counters = counters.clone();
        let options = options.clone();
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            floor(
                task, client, &settings, event, &options, started, &counters, stop, seed,
            )
            .await
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

/// One step of a gate's plan; false when the database failed it.
async fn gate_event(
    client: &Client,
    event: uuid::Uuid,
    step: GateEvent,
    crowd: &GateCrowd,
    gate: &str,
    counters: &Counters,
) -> bool {
    let code = match step {
        GateEvent::Leave(i) => {
            let attendee = crowd.people[i].attendee;
            return match client.execute("SELECT check_out($1)", &[&attendee]).await {
                Ok(_) => {
                    counters.left.fetch_add(1, Ordering::Relaxed);
                    true
                }
                // Checked out by someone else meanwhile (an operator at a desk): nothing to do.
                Err(error) if error.code().map(|c| c.code()) == Some("EV001") => true,
                Err(error) => {
                    counters.errors.fetch_add(1, Ordering::Relaxed);
                    warn!(%error, "simulated check-out failed");
                    false
                }
            };
        }
        GateEvent::Arrive(i) | GateEvent::Return(i) | GateEvent::Duplicate(i) => {
            crowd.people[i].code.clone()
        }
        GateEvent::BadTicket(j) => crowd.bad[j].clone(),
        GateEvent::Unknown(n) => format!("NW{:010X}", n & 0xFF_FFFF_FFFF),
        GateEvent::Garbage => "\u{1b}[A".to_owned(),
    };
    scan(client, event, &code, gate, None, counters).await
}

/// A scan at a gate (or a room's door); false when the database failed it.
async fn scan(
    client: &Client,
    event: uuid::Uuid,
    code: &str,
    gate: &str,
    session: Option<uuid::Uuid>,
    counters: &Counters,
) -> bool {
    counters.scans.fetch_add(1, Ordering::Relaxed);
    let result = client
        .query_one(
            "SELECT accepted FROM check_in_by_code($1, $2, $3, 'qr_code', $4)",
            &[&event, &code, &gate, &session],
        )
        .await;
    match result {
        Ok(row) if row.get::<_, bool>(0) => {
            counters.accepted.fetch_add(1, Ordering::Relaxed);
            true
        }
        Ok(_) => {
            counters.refused.fetch_add(1, Ordering::Relaxed);
            true
        }
        Err(error) => {
            counters.errors.fetch_add(1, Ordering::Relaxed);
            warn!(%error, "simulated scan failed");
            false
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Floor {
    /// Sessions marked live and over, slot reminders, now and then a seat given back or a receipt.
    Hosts,
    /// People scanning in at a room's door as its session starts.
    RoomDoors,
}

#[allow(clippy::too_many_arguments)]
async fn floor(
    task: Floor,
    mut client: Client,
    settings: &DatabaseSettings,
    event: uuid::Uuid,
    options: &SimulateOptions,
    started: Instant,
    counters: &Counters,
    mut stop: tokio::sync::watch::Receiver<bool>,
    seed: u64,
) {
    let mut rng = Rng::new(seed ^ 0xF100_0000 ^ task as u64);
    let mut tick = tokio::time::interval(match task {
        Floor::Hosts => Duration::from_secs(5),
        Floor::RoomDoors => Duration::from_secs(2),
    });
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => break,
        }
        if *stop.borrow() || options.duration.is_some_and(|d| started.elapsed() >= d) {
            break;
        }
        let done = match task {
            Floor::Hosts => hosts(&client, event, &mut rng).await,
            Floor::RoomDoors => room_doors(&client, event, counters).await,
        };
        match done {
            Ok(n) => {
                counters.floor_actions.fetch_add(n, Ordering::Relaxed);
            }
            Err(error) => {
                counters.errors.fetch_add(1, Ordering::Relaxed);
                warn!(error = %format!("{error:#}"), "simulated floor action failed");
                if client.is_closed() {
                    match reconnect(settings, options.floor_login.as_deref(), &mut stop).await {
                        Some(again) => client = again,
                        None => break,
                    }
                }
            }
        }
    }
}

/// Every five seconds: the sessions' states, the slot reminders; a quarter of the time someone on site
/// takes a seat in the next workshop with seats left (about three a minute: a half-full workshop fills
/// within minutes, and the Sessions desk forecasts when); about once a minute a seat given back in a full session (the next
/// in line gets an offer), about every five minutes a receipt.
async fn hosts(client: &Client, event: uuid::Uuid, rng: &mut Rng) -> Result<u64> {
    let mut done = advance_sessions(client, event, None).await?;
    done += announce_slots(client, event, None).await?;
    if rng.unit() < 1.0 / 4.0 {
        done += floor_statement(client, event, A_WORKSHOP_SEAT).await?;
    }
    if rng.unit() < 1.0 / 12.0 {
        done += floor_statement(client, event, GIVE_BACK_A_SEAT).await?;
    }
    if rng.unit() < 1.0 / 60.0 {
        done += floor_statement(client, event, A_RECEIPT).await?;
    }
    Ok(done)
}

/// A statement of the floor's; a refusal (a full room, a rule) is part of the floor's life.
async fn floor_statement(client: &Client, event: uuid::Uuid, sql: &str) -> Result<u64> {
    match client.execute(sql, &[&event]).await {
        Ok(n) => Ok(n),
        Err(error) if error.code().map(|c| c.code()) == Some("EV001") => Ok(0),
        Err(error) => Err(error).context("a floor statement failed"),
    }
}

const A_WORKSHOP_SEAT: &str = "WITH next AS (
         SELECT s.id FROM sessions s
          WHERE s.event_id = $1 AND s.status = 'scheduled' AND s.session_type = 'workshop'
            AND s.start_time BETWEEN now() AND now() + interval '3 hours'
            AND s.max_attendees IS NOT NULL AND s.current_registrations < s.max_attendees
          ORDER BY s.start_time, s.current_registrations DESC, s.id LIMIT 1)
       SELECT register_session_seat(next.id, c.attendee_id)
         FROM next, event_checkins c
        WHERE c.event_id = $1 AND c.is_present AND c.session_id IS NULL
          AND NOT EXISTS (SELECT 1 FROM session_registrations r
                           WHERE r.session_id = next.id AND r.attendee_id = c.attendee_id AND r.status = 'registered')
        ORDER BY c.check_in_time DESC LIMIT 1";

const GIVE_BACK_A_SEAT: &str = "SELECT cancel_session_seat(r.session_id, r.attendee_id)
       FROM session_registrations r JOIN sessions s ON s.id = r.session_id
      WHERE r.event_id = $1 AND r.status = 'registered' AND s.status = 'scheduled'
        AND EXISTS (SELECT 1 FROM event_waitlists w WHERE w.session_id = s.id AND w.status = 'waiting')
      ORDER BY random() LIMIT 1";

const A_RECEIPT: &str = "SELECT submit_expense($1, (ARRAY['Taxi', 'Extension cords', 'Water bottles', 'Printer toner'])[1 + floor(random() * 4)::int],
                           round((20 + random() * 480)::numeric, 2), 'miscellaneous')";

/// The room hosts, at `at` (default now): a session whose start has come is live, then one whose end
/// has passed is completed (a session goes scheduled, live, completed). Returns how many changed.
pub async fn advance_sessions(
    client: &Client,
    event: uuid::Uuid,
    at: Option<DateTime<Utc>>,
) -> Result<u64> {
    let mut changed = 0;
    for (from, to, when) in [
        (
            SessionStatus::Scheduled,
            SessionStatus::Live,
            "s.start_time",
        ),
        (SessionStatus::Live, SessionStatus::Completed, "s.end_time"),
    ] {
        let row = client
            .query_one(
                &format!(
                    "SELECT count(set_session_status(s.id, $3)) FROM sessions s
                      WHERE s.event_id = $1 AND s.status = $4
                        AND {when} <= coalesce($2::timestamptz, now())
                        AND {when} > coalesce($2::timestamptz, now()) - interval '1 day'"
                ),
                &[&event, &at, &to.as_str(), &from.as_str()],
            )
            .await
            .with_context(|| format!("cannot mark sessions {to}"))?;
        changed += row.get::<_, i64>(0) as u64;
    }
    Ok(changed)
}

/// The reminders, at `at` (default now): one per slot, made when the slot is ten minutes away and sent
/// five minutes before it: "Next sessions at 14:15", "Lunch at 11:45". Never twice for one slot,
/// however often it runs or however many simulators run. Returns how many it made.
pub async fn announce_slots(
    client: &Client,
    event: uuid::Uuid,
    at: Option<DateTime<Utc>>,
) -> Result<u64> {
    let row = client
        .query_one(
            "WITH now AS (SELECT coalesce($2::timestamptz, now()) AS t),
                  slot AS (
                    SELECT s.start_time, bool_and(s.session_type = 'break') AS is_break,
                           min(s.title) AS title, min(v.name) AS place,
                           to_char(s.start_time AT TIME ZONE e.time_zone, 'HH24:MI') AS hhmm
                      FROM sessions s JOIN events e ON e.id = s.event_id
                      LEFT JOIN venues v ON v.id = s.venue_id, now
                     WHERE s.event_id = $1 AND s.status <> 'cancelled'
                       AND s.start_time > now.t + interval '5 minutes'
                       AND s.start_time <= now.t + interval '10 minutes'
                     GROUP BY s.start_time, e.time_zone),
                  msg AS (
                    SELECT start_time,
                           CASE WHEN is_break THEN title || ' at ' || hhmm ELSE 'Next sessions at ' || hhmm END AS title,
                           CASE WHEN is_break THEN title || ' starts at ' || hhmm || coalesce(' in the ' || place, '') || '.'
                                ELSE 'The next sessions start at ' || hhmm || ': please make your way to the rooms.' END AS content
                      FROM slot),
                  made AS (
                    SELECT schedule_announcement((create_announcement($1, msg.title, msg.content, 'normal', 'attendees',
                                                                      NULL, ARRAY['push', 'in_app'])).id,
                                                 msg.start_time - interval '5 minutes')
                      FROM msg
                     WHERE NOT EXISTS (SELECT 1 FROM event_announcements a
                                        WHERE a.event_id = $1 AND a.title = msg.title
                                          AND coalesce(a.scheduled_for, a.sent_at, a.created_at)
                                              > msg.start_time - interval '12 hours'))
             SELECT count(*) FROM made",
            &[&event, &at],
        )
        .await
        .context("cannot announce the next slot")?;
    Ok(row.get::<_, i64>(0) as u64)
}

/// Every two seconds: for each session that started in the last twenty minutes, the people registered
/// for it who are on site come to its door, most in the first minutes (85% of them, 63% of those
/// within three minutes), each a scan spread over the two seconds.
async fn room_doors(client: &Client, event: uuid::Uuid, counters: &Counters) -> Result<u64> {
    let rows = client
        .query(
            "WITH live AS (
               SELECT s.id, v.name || ' door' AS door, s.present_count,
                      extract(epoch FROM now() - s.start_time)::float8 AS since,
                      (SELECT count(*) FROM session_registrations r
                         JOIN event_checkins c ON c.attendee_id = r.attendee_id AND c.is_present AND c.session_id IS NULL
                        WHERE r.session_id = s.id AND r.status = 'registered') AS expected
                 FROM sessions s JOIN venues v ON v.id = s.venue_id
                WHERE s.event_id = $1 AND s.status = 'live' AND s.session_type <> 'break'
                  AND s.start_time > now() - interval '20 minutes' AND s.start_time <= now())
             SELECT live.id, live.door, p.code
               FROM live CROSS JOIN LATERAL (
                 SELECT t.code FROM session_registrations r
                   JOIN event_checkins c ON c.attendee_id = r.attendee_id AND c.is_present AND c.session_id IS NULL
                   JOIN tickets t ON t.attendee_id = r.attendee_id AND t.status = 'valid'
                  WHERE r.session_id = live.id AND r.status = 'registered'
                    AND NOT EXISTS (SELECT 1 FROM event_checkins x
                                     WHERE x.session_id = live.id AND x.attendee_id = r.attendee_id)
                  ORDER BY md5(r.attendee_id::text || live.id::text)
                  LIMIT greatest(0, least(40, floor(0.85 * live.expected * (1 - exp(-live.since / 180.0)))::int
                                              - live.present_count))) AS p",
            &[&event],
        )
        .await
        .context("cannot read who is at the rooms' doors")?;
    if rows.is_empty() {
        return Ok(0);
    }
    let gap = Duration::from_millis(1800) / rows.len() as u32;
    for row in &rows {
        let (session, door, code): (uuid::Uuid, String, String) =
            (row.get(0), row.get(1), row.get(2));
        if !scan(client, event, &code, &door, Some(session), counters).await && client.is_closed() {
            break;
        }
        tokio::time::sleep(gap).await;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::Stall;
    use std::time::Duration;

    #[test]
    fn a_stalled_gate_waits_until_its_stall_is_over_every_cycle() {
        let minutes = |m: u64| Duration::from_secs(m * 60);
        let stall = Stall {
            gate: 3,
            every: minutes(30),
            from: minutes(4),
            until: minutes(9),
        };
        assert_eq!(stall.over_at(3, minutes(3)), None);
        assert_eq!(stall.over_at(3, minutes(4)), Some(minutes(9)));
        assert_eq!(stall.over_at(3, minutes(8)), Some(minutes(9)));
        assert_eq!(stall.over_at(3, minutes(9)), None);
        assert_eq!(stall.over_at(3, minutes(35)), Some(minutes(39)));
        assert_eq!(stall.over_at(2, minutes(5)), None, "other gates scan on");
    }
}

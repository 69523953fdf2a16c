//! Gate ingest: scans a second through the API against the bare INSERT, and what the worker costs.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio_postgres::Client;
use uuid::Uuid;

use super::console::{clock_ticks_per_second, process_ticks};
use crate::config::DatabaseSettings;
use crate::db;

#[derive(Clone, Copy)]
pub(super) enum Way {
    /// The row itself from the scanned code (a gate has nothing else), as the administrator.
    Bare,
    /// check_in_by_code, as an operator.
    Api,
}

/// Attendees with a valid ticket and no open entry at the doors: (attendee, code).
pub(super) async fn free_attendees(admin: &Client, event: Uuid) -> Result<Vec<(Uuid, String)>> {
    let rows = admin
        .query(
            "SELECT a.id, t.code FROM attendees a JOIN tickets t ON t.attendee_id = a.id AND t.status = 'valid'
              WHERE a.event_id = $1 AND a.status = 'registered' AND a.deleted_at IS NULL
                AND NOT EXISTS (SELECT 1 FROM event_checkins c
                                 WHERE c.attendee_id = a.id AND c.session_id IS NULL AND c.is_present)
              ORDER BY t.code",
            &[&event],
        )
        .await
        .context("cannot list the attendees still outside")?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// The entries a run made go again, so the next run finds the same people outside.
pub(super) async fn undo_since(admin: &Client, event: Uuid, since: &str) -> Result<()> {
    admin
        .execute(
            "DELETE FROM event_checkins WHERE event_id = $1 AND created_xid >= $2::text::xid8",
            &[&event, &since],
        )
        .await
        .context("cannot remove the run's entries")?;
    admin
        .execute(
            "DELETE FROM refused_scans WHERE event_id = $1 AND created_xid >= $2::text::xid8",
            &[&event, &since],
        )
        .await
        .context("cannot remove the run's refusals")?;
    Ok(())
}

pub(super) async fn current_xid(admin: &Client) -> Result<String> {
    Ok(admin
        .query_one("SELECT pg_current_xact_id()::text", &[])
        .await
        .context("cannot read the transaction counter")?
        .get(0))
}

/// Scans per second over `run` (or until everyone outside is in) from `scanners` connections.
pub(super) async fn ingest(
    admin: &Client,
    settings: &DatabaseSettings,
    event: Uuid,
    scanners: usize,
    run: Duration,
    way: Way,
) -> Result<f64> {
    let people = Arc::new(free_attendees(admin, event).await?);
    if people.is_empty() {
        bail!("nobody is left outside to scan");
    }
    let since = current_xid(admin).await?;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for scanner in 0..scanners {
        let client = db::connect(settings).await?;
        let (people, next) = (people.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let gate = format!("Bench gate {}", scanner % 8);
            let sql = match way {
                Way::Bare => {
                    "INSERT INTO event_checkins (event_id, attendee_id, ticket_id, gate, check_in_method,
                                                 qr_code_scanned, location)
                     SELECT $1, t.attendee_id, t.id, $3, 'qr_code', t.code, $3 FROM tickets t WHERE t.code = $2"
                }
                Way::Api => "SELECT accepted FROM check_in_by_code($1, $2, $3)",
            };
            let statement = client.prepare(sql).await?;
            let mut done = 0usize;
            while started.elapsed() < run {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((_, code)) = people.get(i) else {
                    break;
                };
                client.execute(&statement, &[&event, code, &gate]).await?;
                done += 1;
            }
            Ok::<usize, tokio_postgres::Error>(done)
        }));
    }
    let scans = super::latency::scanned(tasks).await?;
    let rate = scans as f64 / started.elapsed().as_secs_f64();
    undo_since(admin, event, &since).await?;
    Ok(rate)
}

/// pgbench, when this machine has it (on PATH, or where Debian puts PostgreSQL's programs): the gates
/// are then driven by PostgreSQL's own load generator, so the figures do not depend on this process's
/// client sharing the cores.
pub(super) fn find_pgbench() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("pgbench"))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| {
        let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|entry| entry.ok())
            .map(|entry| entry.path().join("bin/pgbench"))
            .filter(|p| p.is_file())
            .collect();
        // The newest major version (directories are named by it).
        found.sort_by_key(|p| {
            p.iter()
                .nth(4)
                .and_then(|v| v.to_str()?.parse::<u32>().ok())
                .unwrap_or(0)
        });
        found.pop()
    })
}

/// The settings as a libpq conninfo string, for pgbench and for a worker process.
pub(super) fn conninfo(settings: &DatabaseSettings) -> String {
    let pg = &settings.pg;
    let quote = |v: &str| format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"));
    let mut parts = Vec::new();
    if let Some(host) = pg.get_hosts().first() {
        let host = match host {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        };
        parts.push(format!("host={}", quote(&host)));
    }
    if let Some(port) = pg.get_ports().first() {
        parts.push(format!("port={port}"));
    }
    if let Some(user) = pg.get_user() {
        parts.push(format!("user={}", quote(user)));
    }
    if let Some(dbname) = pg.get_dbname() {
        parts.push(format!("dbname={}", quote(dbname)));
    }
    if let Some(password) = pg.get_password() {
        parts.push(format!(
            "password={}",
            quote(&String::from_utf8_lossy(password))
        ));
    }
    parts.join(" ")
}

/// What pgbench's clients do, one transaction each time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Load {
    /// One row into a plain table with a serial key: what the server commits at this concurrency.
    SingleRowInsert,
    /// The check-in row itself from the scanned code (a gate has nothing else), as the administrator.
    Bare,
    /// check_in_by_code, as a volunteer.
    Api,
}

/// The people outside, numbered for pgbench's scripts (`bench_outside`, taken in order through
/// `bench_next`), and the plain table of the single-row ceiling; readable by the gate login.
pub(super) async fn prepare_pgbench(admin: &Client, event: Uuid, gate_login: &str) -> Result<()> {
    admin
        .batch_execute(&format!(
            "DROP TABLE IF EXISTS bench_outside, bench_ceiling;
             DROP SEQUENCE IF EXISTS bench_next;
             CREATE TABLE bench_ceiling (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), gate text);
             CREATE TABLE bench_outside (n bigint PRIMARY KEY, attendee_id uuid NOT NULL, event_id uuid NOT NULL, code text NOT NULL);
             CREATE SEQUENCE bench_next;
             GRANT SELECT ON bench_outside TO \"{gate_login}\";
             GRANT USAGE ON SEQUENCE bench_next TO \"{gate_login}\";"
        ))
        .await
        .context("cannot make pgbench's tables")?;
    let people = free_attendees(admin, event).await?;
    let (ids, codes): (Vec<Uuid>, Vec<String>) = people.into_iter().unzip();
    admin
        .execute(
            "INSERT INTO bench_outside
             SELECT p.n, p.id, $1, p.code
               FROM unnest($2::uuid[], $3::text[]) WITH ORDINALITY AS p(id, code, n)",
            &[&event, &ids, &codes],
        )
        .await
        .context("cannot number the people outside")?;
    admin
        .batch_execute("ANALYZE bench_outside")
        .await
        .context("cannot analyze pgbench's table")?;
    Ok(())
}

/// Rows written a second by pgbench's `clients` for `run`, counted in the database (a client that found
/// nobody left outside wrote nothing). Undone afterwards.
pub(super) async fn pgbench_rate(
    pgbench: &std::path::Path,
    admin: &Client,
    settings: &DatabaseSettings,
    event: Uuid,
    clients: usize,
    run: Duration,
    load: Load,
) -> Result<f64> {
    let script = match load {
        Load::SingleRowInsert => "INSERT INTO bench_ceiling (gate) VALUES ('Bench gate');",
        Load::Bare => {
            "WITH k AS (SELECT nextval('bench_next') AS n)
             INSERT INTO event_checkins (event_id, attendee_id, ticket_id, gate, check_in_method, qr_code_scanned, location)
             SELECT b.event_id, t.attendee_id, t.id, 'Bench gate ' || (b.n % 8), 'qr_code', b.code,
                    'Bench gate ' || (b.n % 8)
               FROM bench_outside b JOIN k USING (n) JOIN tickets t ON t.code = b.code;"
        }
        Load::Api => {
            "WITH k AS (SELECT nextval('bench_next') AS n)
             SELECT r.accepted FROM bench_outside b JOIN k USING (n),
                    check_in_by_code(b.event_id, b.code, 'Bench gate ' || (b.n % 8)) r;"
        }
    };
    let dir = std::env::temp_dir().join(format!("eventos-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot make {}", dir.display()))?;
    let file = dir.join(format!("{load:?}.sql"));
    std::fs::write(&file, script).with_context(|| format!("cannot write {}", file.display()))?;
    admin
        .batch_execute("SELECT setval('bench_next', 1, false); TRUNCATE bench_ceiling; CHECKPOINT")
        .await
        .context("cannot reset pgbench's tables")?;
    let since = current_xid(admin).await?;
    let output = tokio::process::Command::new(pgbench)
        .args(["-n", "-M", "prepared", "-f"])
        .arg(&file)
        .args(["-c", &clients.to_string()])
        .args(["-j", &clients.clamp(1, 2).to_string()])
        .args(["-T", &run.as_secs().max(1).to_string()])
        .arg(conninfo(settings))
        .env("PGOPTIONS", "-c client_min_messages=warning")
        .output()
        .await
        .with_context(|| format!("cannot run {}", pgbench.display()))?;
    if !output.status.success() {
        bail!(
            "pgbench failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let written: i64 = if load == Load::SingleRowInsert {
        admin
            .query_one("SELECT count(*) FROM bench_ceiling", &[])
            .await
    } else {
        admin
            .query_one(
                "SELECT count(*) FROM event_checkins WHERE event_id = $1 AND created_xid >= $2::text::xid8",
                &[&event, &since],
            )
            .await
    }
    .context("cannot count what pgbench wrote")?
    .get(0);
    undo_since(admin, event, &since).await?;
    // What autovacuum does on a venue server (it is off on this machine): without it every run left its
    // removed entries in the indexes the next run's scans of the same people walk.
    admin
        .batch_execute("VACUUM (ANALYZE) event_checkins, refused_scans")
        .await
        .context("cannot vacuum after a run")?;
    if load != Load::SingleRowInsert {
        let outside: i64 = admin
            .query_one("SELECT count(*) FROM bench_outside", &[])
            .await
            .context("cannot count the people outside")?
            .get(0);
        if written >= outside {
            bail!(
                "pgbench let in all {outside} people outside before its {} s were up: the event is too small for this machine",
                run.as_secs()
            );
        }
    }
    // The run's length is -T (pgbench's connection set-up is outside it).
    Ok(written as f64 / run.as_secs().max(1) as f64)
}

/// A worker in a process of its own, as on a venue server: `eventos worker` from this very binary.
pub(super) struct WorkerProcess(tokio::process::Child);

/// How long a worker runs before its measured run: its first looks do start-up work (a recount of the
/// event whose entries the last run removed, the first rollup refresh) that a venue server's worker did
/// hours ago; with 1 s they overlapped the run.
const WORKER_SETTLE: Duration = Duration::from_secs(3);

/// `first` and `second`, run in the order pair number `pair` calls for (ABBA: first-second, then
/// second-first, so drift over a section falls on both sides); their results in the written order.
async fn alternating<A, B>(
    pair: usize,
    first: impl AsyncFnOnce() -> Result<A>,
    second: impl AsyncFnOnce() -> Result<B>,
) -> Result<(A, B)> {
    if pair.is_multiple_of(2) {
        let a = first().await?;
        Ok((a, second().await?))
    } else {
        let b = second().await?;
        Ok((first().await?, b))
    }
}

/// The middle of `values` (the mean of the two middle ones for an even count).
fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// The bench's worker's connections, by name, to find its backends.
const WORKER_APPLICATION: &str = "eventos-bench-worker";

impl WorkerProcess {
    pub(super) fn start(settings: &DatabaseSettings) -> Result<WorkerProcess> {
        let exe = std::env::current_exe().context("cannot find this program to start a worker")?;
        let child = tokio::process::Command::new(exe)
            .args(["worker", "--database-url"])
            .arg(format!(
                "{} application_name={WORKER_APPLICATION}",
                conninfo(settings)
            ))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start a worker")?;
        Ok(WorkerProcess(child))
    }

    /// The CPU ticks the worker has used: its process and its server backends (a local server's /proc),
    /// or why they cannot be read.
    pub(super) async fn cpu_ticks(
        &self,
        admin: &Client,
    ) -> Result<std::result::Result<u64, String>> {
        let Some(pid) = self.0.id() else {
            return Ok(Err("the worker has exited".to_owned()));
        };
        let mut ticks = match process_ticks(pid as i32, "eventos") {
            Ok(t) => t,
            Err(why) => return Ok(Err(why)),
        };
        let backends = admin
            .query(
                "SELECT pid FROM pg_stat_activity WHERE application_name = $1",
                &[&WORKER_APPLICATION],
            )
            .await
            .context("cannot list the worker's backends")?;
        for row in backends {
            match process_ticks(row.get(0), "postgres") {
                Ok(t) => ticks += t,
                Err(why) => return Ok(Err(why)),
            }
        }
        Ok(Ok(ticks))
    }

    /// SIGTERM, as systemd stops it; killed if it has not stopped within 5 s.
    pub(super) async fn stop(mut self) {
        if let Some(pid) = self.0.id() {
            let _ = tokio::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await;
        }
        if tokio::time::timeout(Duration::from_secs(5), self.0.wait())
            .await
            .is_err()
        {
            let _ = self.0.kill().await;
        }
    }
}

/// The "Gate ingest" section: each concurrency's ceilings and the API beside them, then the worker's
/// cost in `pairs` alternating runs without and with it (runs vary on a small machine; several pairs
/// show by how much).
pub(super) async fn ingest_section(
    admin: &Client,
    settings: &DatabaseSettings,
    gate: &DatabaseSettings,
    event: Uuid,
    run: Duration,
    pairs: usize,
) -> Result<String> {
    let mut out = String::from("### Gate ingest\n\n");
    let gate_login = gate.pg.get_user().unwrap_or_default().to_owned();
    let pgbench = find_pgbench();
    let rate = |load: Load, scanners: usize| {
        let pgbench = pgbench.clone();
        async move {
            let who = if load == Load::Api { gate } else { settings };
            match &pgbench {
                Some(p) => pgbench_rate(p, admin, who, event, scanners, run, load).await,
                None => {
                    let way = if load == Load::Api {
                        Way::Api
                    } else {
                        Way::Bare
                    };
                    ingest(admin, who, event, scanners, run, way).await
                }
            }
        }
    };
    match &pgbench {
        Some(p) => {
            prepare_pgbench(admin, event, &gate_login).await?;
            out.push_str(&format!(
                "Driven by `{}` (`-M prepared`, {} s a run): each transaction one scan of a new ticket; \
                 rates are rows written, counted in the database. The single-row INSERT is the server's own \
                 ceiling at that concurrency (one row into a plain table with a serial key); the bare INSERT \
                 is the row the API writes (event, attendee, ticket, gate, method, code, location), its \
                 ticket and attendee found by the scanned code, as the administrator (its rules' trigger and \
                 foreign keys still run); \
                 `check_in_by_code` is the API as a volunteer, as a gate runs it.\n\n\
                 | scanners | single-row INSERT | bare INSERT | check_in_by_code | API / bare INSERT |\n\
                 |---:|---:|---:|---:|---:|\n",
                p.display(),
                run.as_secs()
            ));
        }
        None => out.push_str(&format!(
            "pgbench is not installed here, so this process drives the gates ({} s a run); the bare INSERT \
             is the row the API writes, found by the scanned code, as the administrator.\n\n\
             | scanners | single-row INSERT | bare INSERT | check_in_by_code | API / bare INSERT |\n\
             |---:|---:|---:|---:|---:|\n",
            run.as_secs()
        )),
    }
    for scanners in [1usize, 8, 32] {
        let ceiling = match pgbench {
            Some(_) => format!("{:.0} /s", rate(Load::SingleRowInsert, scanners).await?),
            None => "-".to_owned(),
        };
        let bare = rate(Load::Bare, scanners).await?;
        let api = rate(Load::Api, scanners).await?;
        out.push_str(&format!(
            "| {scanners} | {ceiling} | {bare:.0} /s | {api:.0} /s | {:.0}% |\n",
            100.0 * api / bare.max(1.0)
        ));
    }
    // Runs on a small shared machine vary by 15-20% from one to the next: the API's share of the bare
    // INSERT and the worker's cost are each measured in alternating pairs (ABBA order, so drift over the
    // section falls on both sides) and the median pair is the figure.
    let runs = match pairs {
        1 => "1 pair".to_owned(),
        n => format!("{n} pairs"),
    };
    out.push_str(&format!(
        "\nThe API against the bare INSERT at 8 scanners, {runs} of runs (each pair in alternating order; the median pair is the figure):\n\n\
         | pair | bare INSERT | check_in_by_code | API / bare INSERT |\n|---:|---:|---:|---:|\n",
    ));
    let mut shares = Vec::new();
    for pair in 0..pairs {
        let (bare, api) = alternating(
            pair,
            async || rate(Load::Bare, 8).await,
            async || rate(Load::Api, 8).await,
        )
        .await?;
        let share = 100.0 * api / bare.max(1.0);
        shares.push(share);
        out.push_str(&format!(
            "| {} | {bare:.0} /s | {api:.0} /s | {share:.0}% |\n",
            pair + 1
        ));
    }
    if let Some(m) = median(&shares) {
        out.push_str(&format!(
            "\nMedian: the API at {m:.0}% of the bare INSERT.\n"
        ));
    }

    out.push_str(&format!(
        "\nWhat the worker (`eventos worker`, a process of its own, started {} s before its run so that its start-up work is done) costs 8 scanners through the API, {runs} of runs without and with it (alternating order), and the CPU the worker used meanwhile (its process and its server backends, utime+stime from /proc, as a share of one core):\n\n\
         | pair | without | with | change | worker's CPU |\n|---:|---:|---:|---:|---:|\n",
        WORKER_SETTLE.as_secs()
    ));
    let with_worker = async || -> Result<(f64, String)> {
        let worker = WorkerProcess::start(settings)?;
        tokio::time::sleep(WORKER_SETTLE).await;
        let before = worker.cpu_ticks(admin).await?;
        let started = Instant::now();
        let with = rate(Load::Api, 8).await;
        let after = worker.cpu_ticks(admin).await?;
        let elapsed = started.elapsed().as_secs_f64();
        worker.stop().await;
        let cpu = match (before, after) {
            (Ok(b), Ok(a)) => format!(
                "{:.1}%",
                100.0 * a.saturating_sub(b) as f64
                    / clock_ticks_per_second() as f64
                    / elapsed.max(0.001)
            ),
            (Err(why), _) | (_, Err(why)) => {
                tracing::info!(%why, "the worker's CPU is not measured");
                "-".to_owned()
            }
        };
        Ok((with?, cpu))
    };
    let mut changes = Vec::new();
    for pair in 0..pairs {
        let (alone, (with, cpu)) = alternating(
            pair,
            async || rate(Load::Api, 8).await,
            async || with_worker().await,
        )
        .await?;
        let change = 100.0 * (with - alone) / alone.max(1.0);
        changes.push(change);
        out.push_str(&format!(
            "| {} | {alone:.0} /s | {with:.0} /s | {change:+.1}% | {cpu} |\n",
            pair + 1
        ));
    }
    if let Some(m) = median(&changes) {
        out.push_str(&format!("\nMedian change: {m:+.1}%.\n\n"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{alternating, median};
    use std::cell::RefCell;

    #[tokio::test]
    async fn pairs_alternate_their_order_and_keep_their_results_apart() {
        let ran = RefCell::new(Vec::new());
        for pair in 0..4 {
            let (a, b) = alternating(
                pair,
                async || {
                    ran.borrow_mut().push('A');
                    Ok(1)
                },
                async || {
                    ran.borrow_mut().push('B');
                    Ok("two")
                },
            )
            .await
            .expect("both run");
            assert_eq!((a, b), (1, "two"));
        }
        assert_eq!(ran.into_inner().iter().collect::<String>(), "ABBAABBA");
    }

    #[test]
    fn the_median_is_the_middle_value_or_the_mean_of_the_middle_two() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, -21.0, 0.5]), Some(0.5));
        assert_eq!(median(&[4.0, -2.0, 1.0, 10.0]), Some(2.5));
    }
}

//! The desks' reads at several sizes: the console's own store functions, called as the console calls
//! them, timed as the event's organizer on a pooled connection; and, in a pass of their own, every
//! statement each one runs with its plan, caught by auto_explain and sent back as notices.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use deadpool_postgres::ClientWrapper;
use tokio::sync::mpsc;
use tokio_postgres::config::SslMode;
use tokio_postgres::{AsyncMessage, Client, NoTls};
use uuid::Uuid;

use super::ingest::current_xid;
use crate::config::{DatabaseSettings, Settings};
use crate::db;
use crate::db::listen::XidRange;
use crate::demo::seed::{self, SeedOptions};
use crate::desks::announcements::store as announcements;
use crate::desks::checkins::store as checkins;
use crate::desks::checkins::view::thousands;
use crate::desks::expenses::store as expenses;
use crate::desks::sessions::store as sessions;
use crate::desks::waitlist::store as waitlist;

/// How many transactions the measured realtime batch spans.
const BATCH_SPAN: u64 = 1000;

/// What auto_explain is told for the plan pass: every statement, nested ones too, with its run-time
/// figures, as a notice so that it comes back on the connection rather than into the server's log.
const AUTO_EXPLAIN: [(&str, &str); 6] = [
    ("session_preload_libraries", "'auto_explain'"),
    ("auto_explain.log_min_duration", "0"),
    ("auto_explain.log_analyze", "on"),
    ("auto_explain.log_buffers", "on"),
    ("auto_explain.log_nested_statements", "on"),
    ("auto_explain.log_level", "notice"),
];

/// One of the console's reads.
#[derive(Debug, Clone, Copy)]
enum Read {
    Summary,
    Feed,
    Batch,
    Problems,
    Sessions,
    Waitlist,
    Announcements,
    Expenses,
}

const READS: [Read; 8] = [
    Read::Summary,
    Read::Feed,
    Read::Batch,
    Read::Problems,
    Read::Sessions,
    Read::Waitlist,
    Read::Announcements,
    Read::Expenses,
];

impl Read {
    /// Its row in the report.
    fn label(self) -> &'static str {
        match self {
            Read::Summary => "Check-ins: totals (`summary`)",
            Read::Feed => "Check-ins: feed, newest 200 (`checkins`)",
            Read::Batch => "Check-ins: one realtime batch (`checkins` of 1,000 transactions)",
            Read::Problems => "Check-ins: refused scans (`problems`)",
            Read::Sessions => "Sessions (`sessions`)",
            Read::Waitlist => "Waitlist (`entries`)",
            Read::Announcements => "Announcements (`announcements`)",
            Read::Expenses => "Expenses (`expenses`)",
        }
    }

    /// Its plan file, without the extension.
    fn file_stem(self) -> &'static str {
        match self {
            Read::Summary => "checkins-summary",
            Read::Feed => "checkins-feed",
            Read::Batch => "checkins-batch",
            Read::Problems => "checkins-problems",
            Read::Sessions => "sessions",
            Read::Waitlist => "waitlist",
            Read::Announcements => "announcements",
            Read::Expenses => "expenses",
        }
    }

    /// One call, with the arguments the console's snapshot (or, for the batch, its realtime refresh)
    /// passes; answers how many rows came back.
    async fn run(self, db: &ClientWrapper, event: Uuid, batch: &XidRange) -> Result<usize> {
        Ok(match self {
            Read::Summary => checkins::summary(db, event).await.map(|_| 1)?,
            Read::Feed => checkins::checkins(db, event, None).await?.len(),
            Read::Batch => checkins::checkins(db, event, Some(batch)).await?.len(),
            Read::Problems => checkins::problems(db, event, None).await?.len(),
            Read::Sessions => sessions::sessions(db, event, None).await?.len(),
            Read::Waitlist => waitlist::entries(db, event, None).await?.len(),
            Read::Announcements => announcements::announcements(db, event, None).await?.len(),
            Read::Expenses => expenses::expenses(db, event, None).await?.len(),
        })
    }
}

/// Median and worst of one read's timed calls.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Timing {
    median: Duration,
    worst: Duration,
}

impl Timing {
    fn of(mut samples: Vec<Duration>) -> Option<Timing> {
        samples.sort();
        let worst = *samples.last()?;
        let middle = samples.len() / 2;
        let median = if samples.len().is_multiple_of(2) {
            (samples[middle - 1] + samples[middle]) / 2
        } else {
            samples[middle]
        };
        Some(Timing { median, worst })
    }

    fn cell(self) -> String {
        format!(
            "{:.1} / {:.1}",
            self.median.as_secs_f64() * 1000.0,
            self.worst.as_secs_f64() * 1000.0
        )
    }
}

/// The seeded event of one size (its operators' logins are named after it, for the caller to drop).
pub(super) fn slug(attendees: i32) -> String {
    format!("reads-{attendees}")
}

/// The desks' reads at each size (one seeded event per size, slugs "reads-10000" etc.), as the
/// event's organizer, median and worst of `rounds`; each read's plan (EXPLAIN ANALYZE, BUFFERS, of every
/// statement it runs, nested ones included) written into `plans_dir/<attendees>/<read>.txt` when given.
/// Returns a Markdown section (a "### Desk reads" heading, one sentence saying how measured, a table:
/// one row per read, one column per size, "median / worst ms").
pub(super) async fn desk_reads(
    admin: &mut Client,
    all: &Settings,
    sizes: &[i32],
    rounds: usize,
    plans_dir: Option<&Path>,
) -> Result<String> {
    let rounds = rounds.max(1);
    let mut columns = Vec::new();
    for &attendees in sizes {
        columns.push(one_size(admin, &all.database, attendees, rounds, plans_dir).await?);
    }

    let mut out = String::from("### Desk reads\n\n");
    out.push_str(&format!(
        "Each read is the console's own store function with the console's arguments, called on its \
         own on a pooled connection as the event's organizer, in one database holding one seeded \
         event per size (analyzed after seeding): one warm-up call, then median / worst ms of \
         {rounds} calls; the realtime batch asks for the check-ins of the last {} transactions{}.\n\n",
        thousands(BATCH_SPAN as i64),
        match plans_dir {
            Some(dir) => format!(
                ", and every statement's plan is in `{}/<attendees>/`",
                dir.display()
            ),
            None => String::new(),
        }
    ));
    out.push_str("| read |");
    for &attendees in sizes {
        out.push_str(&format!(" {} attendees |", thousands(i64::from(attendees))));
    }
    out.push_str("\n|---|");
    out.push_str(&"---:|".repeat(sizes.len()));
    out.push('\n');
    for (row, read) in READS.iter().enumerate() {
        out.push_str(&format!("| {} |", read.label()));
        for column in &columns {
            let cell = column
                .get(row)
                .copied()
                .flatten()
                .map_or("-".to_owned(), Timing::cell);
            out.push_str(&format!(" {cell} |"));
        }
        out.push('\n');
    }
    Ok(out)
}

/// Seeds one event of `attendees`, times every read, then (when asked) catches their plans.
async fn one_size(
    admin: &mut Client,
    database: &DatabaseSettings,
    attendees: i32,
    rounds: usize,
    plans_dir: Option<&Path>,
) -> Result<Vec<Option<Timing>>> {
    let slug = slug(attendees);
    let seeded = seed::seed(
        admin,
        &SeedOptions {
            slug: slug.clone(),
            attendees,
            ..SeedOptions::default()
        },
    )
    .await
    .with_context(|| format!("cannot seed {attendees} attendees"))?;
    // Autovacuum may be off: the planner must see the new rows, as it would on a server that ran a day.
    admin
        .batch_execute("ANALYZE")
        .await
        .with_context(|| format!("cannot analyze after seeding {attendees} attendees"))?;
    let event = seeded.event_id;
    let now: u64 = current_xid(admin)
        .await?
        .parse()
        .context("the transaction counter is not a number")?;
    let batch = XidRange {
        from: now.saturating_sub(BATCH_SPAN),
        to: now,
        late: vec![],
    };
    let login = seed::operator_login(&slug, "organizer");
    let mut organizer = database.clone();
    organizer.pg.user(&login);

    // Timed before auto_explain is set for the login, so no call pays for explaining itself.
    let timings = time_reads(&organizer, event, &batch, rounds)
        .await
        .with_context(|| format!("cannot time the reads at {attendees} attendees"))?;

    if let Some(dir) = plans_dir {
        let dir = dir.join(attendees.to_string());
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot make {}", dir.display()))?;
        let scratch: String = admin
            .query_one("SELECT current_database()", &[])
            .await
            .context("cannot name the scratch database")?
            .get(0);
        let role_in_db = format!(
            "ALTER ROLE {} IN DATABASE {}",
            quote_ident(&login),
            quote_ident(&scratch)
        );
        let set: String = AUTO_EXPLAIN
            .iter()
            .map(|(name, value)| format!("{role_in_db} SET {name} = {value};"))
            .collect();
        admin
            .batch_execute(&set)
            .await
            .with_context(|| format!("cannot set auto_explain up for {login}"))?;
        let caught = catch_plans(&organizer, event, &batch, rounds, &dir, &login).await;
        // The login's settings go whatever happened, so nothing after this explains itself.
        let reset = admin
            .batch_execute(&format!("{role_in_db} RESET ALL"))
            .await
            .with_context(|| format!("cannot reset {login}'s settings"));
        caught.with_context(|| format!("cannot catch the plans at {attendees} attendees"))?;
        reset?;
    }
    Ok(timings)
}

/// One warm-up call and `rounds` timed calls of every read, on one pooled connection as the console's.
async fn time_reads(
    organizer: &DatabaseSettings,
    event: Uuid,
    batch: &XidRange,
    rounds: usize,
) -> Result<Vec<Option<Timing>>> {
    let pool = db::pool(organizer)?;
    let db = pool.get().await.context("no pooled connection")?;
    let mut timings = Vec::new();
    for read in READS {
        read.run(&db, event, batch)
            .await
            .with_context(|| format!("{} failed", read.label()))?;
        let mut samples = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            let started = Instant::now();
            read.run(&db, event, batch)
                .await
                .with_context(|| format!("{} failed", read.label()))?;
            samples.push(started.elapsed());
        }
        timings.push(Timing::of(samples));
    }
    Ok(timings)
}

/// Every read called as often as when timed (a cached statement may turn to a generic plan after its
/// fifth run), on a connection of its own whose notices are kept; the last call's plans go into
/// `dir/<read>.txt`.
async fn catch_plans(
    organizer: &DatabaseSettings,
    event: Uuid,
    batch: &XidRange,
    rounds: usize,
    dir: &Path,
    login: &str,
) -> Result<()> {
    let (db, mut notices) = connect_keeping_notices(organizer).await?;
    let loaded: String = db
        .query_one(
            "SELECT current_setting('auto_explain.log_level', true)",
            &[],
        )
        .await
        .context("cannot read the plan connection's settings")?
        .try_get::<_, Option<String>>(0)
        .context("cannot read the plan connection's settings")?
        .unwrap_or_default();
    anyhow::ensure!(
        loaded == "notice",
        "auto_explain is not loaded for {login} (log_level {loaded:?})"
    );
    // That check explained itself: its notice is no read's.
    finish_notices(&db).await?;
    while notices.try_recv().is_ok() {}
    for read in READS {
        let mut plans = Vec::new();
        let mut rows = 0;
        for _ in 0..=rounds {
            rows = read
                .run(&db, event, batch)
                .await
                .with_context(|| format!("{} failed", read.label()))?;
            finish_notices(&db).await?;
            plans.clear();
            while let Ok(plan) = notices.try_recv() {
                plans.push(plan);
            }
        }
        let path = dir.join(format!("{}.txt", read.file_stem()));
        let text = format!(
            "-- {} as {login}, {rows} row(s) back; the plans of call {} of {} (a warm-up and the timed \
             calls), every statement it ran\n\n{}\n",
            read.label(),
            rounds + 1,
            rounds + 1,
            plans.join("\n\n")
        );
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// A round trip that runs nothing (so auto_explain says nothing): once it returns, the connection has
/// handed on every notice sent before it, since it reads the server's messages in order.
async fn finish_notices(db: &Client) -> Result<()> {
    db.batch_execute("")
        .await
        .context("the plan connection stopped answering")
}

/// One connection with the pool's own statement cache, whose server notices come back on the channel.
async fn connect_keeping_notices(
    settings: &DatabaseSettings,
) -> Result<(ClientWrapper, mpsc::UnboundedReceiver<String>)> {
    let mut pg = settings.pg.clone();
    // As the pool does: `prefer` is plain text; `require` cannot be had without TLS and fails here.
    if pg.get_ssl_mode() != SslMode::Require {
        pg.ssl_mode(SslMode::Disable);
    }
    let limit = pg
        .get_connect_timeout()
        .copied()
        .unwrap_or(Duration::from_secs(5));
    let (client, mut connection) = tokio::time::timeout(limit, pg.connect(NoTls))
        .await
        .context("the plan connection did not answer in time")?
        .context("cannot open the plan connection (it is plain text: no sslmode=require)")?;
    let (tx, rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        while let Some(Ok(message)) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            if let AsyncMessage::Notice(notice) = message {
                // A closed receiver only means the plans are no longer wanted.
                let _ = tx.send(notice.message().to_owned());
            }
        }
    });
    // Dropping the wrapper ends the connection's task, as for a pooled one.
    Ok((ClientWrapper::new(client, task), rx))
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_worst_come_from_the_sorted_samples() {
        let ms = Duration::from_millis;
        assert_eq!(
            Timing::of(vec![ms(5), ms(1), ms(3)]),
            Some(Timing {
                median: ms(3),
                worst: ms(5)
            })
        );
        assert_eq!(
            Timing::of(vec![ms(4), ms(1), ms(2), ms(9)]),
            Some(Timing {
                median: ms(3),
                worst: ms(9)
            })
        );
        assert_eq!(Timing::of(Vec::new()), None);
    }

    /// Seeds two small sizes in a scratch database and prints the section:
    /// `cargo test --lib reads -- --ignored --nocapture`.
    #[tokio::test]
    #[ignore = "needs PostgreSQL at 127.0.0.1:5432 (trust) and takes a minute"]
    async fn desk_reads_at_two_sizes() {
        const SCRATCH: &str = "eventos_reads_try";
        const SIZES: [i32; 2] = [10_000, 20_000];
        let url = "postgres://postgres@127.0.0.1:5432/postgres";
        let server = Settings::load(None, Some(url)).expect("settings");
        let outside = db::connect(&server.database).await.expect("server");
        let drop_scratch = format!("DROP DATABASE IF EXISTS {SCRATCH} WITH (FORCE)");
        outside.batch_execute(&drop_scratch).await.expect("drop");
        outside
            .batch_execute(&format!("CREATE DATABASE {SCRATCH}"))
            .await
            .expect("create");
        let mut settings = server.clone();
        settings.database.pg.dbname(SCRATCH);
        let plans = std::env::temp_dir().join(SCRATCH);
        let outcome = async {
            let mut admin = db::connect(&settings.database).await?;
            db::migrate::apply(&mut admin).await?;
            desk_reads(&mut admin, &settings, &SIZES, 3, Some(&plans)).await
        }
        .await;
        let _ = outside.batch_execute(&drop_scratch).await;
        for attendees in SIZES {
            for (kind, _, _) in seed::OPERATORS {
                let login = seed::operator_login(&slug(attendees), kind);
                let _ = outside
                    .batch_execute(&format!("DROP ROLE IF EXISTS {}", quote_ident(&login)))
                    .await;
            }
        }
        let section = outcome.expect("desk reads");
        println!("{section}\nplans in {}", plans.display());
        assert!(section.starts_with("### Desk reads\n"), "{section}");
        for attendees in SIZES {
            for read in READS {
                let path = plans
                    .join(attendees.to_string())
                    .join(format!("{}.txt", read.file_stem()));
                let text = std::fs::read_to_string(&path).expect("plan file");
                assert!(text.contains("Query Text:"), "{}: {text}", path.display());
            }
        }
    }
}

//! Times the console's reads against a seeded event: `cargo run --release --example console_fetch --
//! URL SLUG [ROUNDS]`. The numbers in BENCHMARKS.md ("The console's reads") come from here.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use eventos::db::listen::XidRange;
use eventos::desks::checkins::store as checkins;
use eventos::desks::sessions::store as sessions;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .context("usage: console_fetch URL SLUG [ROUNDS]")?;
    let slug = args
        .next()
        .context("usage: console_fetch URL SLUG [ROUNDS]")?;
    let rounds: usize = args
        .next()
        .map_or(Ok(5), |r| r.parse())
        .context("ROUNDS is a number")?;
    let settings = eventos::config::Settings::load(None, Some(&url))?;
    // A pooled connection, as the console's: its reads are cached prepared statements.
    let pool = eventos::db::pool(&settings.database)?;
    let db = pool.get().await.context("no database connection")?;
    let event: uuid::Uuid = db
        .query_one("SELECT id FROM events WHERE slug = $1", &[&slug])
        .await
        .context("no such event")?
        .get(0);
    // A realtime batch as the worker would announce it: the last 1,000 transactions.
    let top: String = db
        .query_one("SELECT pg_current_xact_id()::text", &[])
        .await?
        .get(0);
    let to: u64 = top.parse()?;
    let range = XidRange {
        from: to.saturating_sub(1000),
        to,
        late: Vec::new(),
    };
    let mut timings: Vec<(&str, Vec<Duration>)> = vec![
        ("totals (summary)", Vec::new()),
        ("feed, newest 200", Vec::new()),
        ("feed, one batch", Vec::new()),
        ("problems, newest 200", Vec::new()),
        ("today's sessions", Vec::new()),
    ];
    for _ in 0..rounds {
        let t = Instant::now();
        checkins::summary(&db, event).await?;
        timings[0].1.push(t.elapsed());
        let t = Instant::now();
        checkins::checkins(&db, event, None).await?;
        timings[1].1.push(t.elapsed());
        let t = Instant::now();
        checkins::checkins(&db, event, Some(&range)).await?;
        timings[2].1.push(t.elapsed());
        let t = Instant::now();
        checkins::problems(&db, event, None).await?;
        timings[3].1.push(t.elapsed());
        let t = Instant::now();
        sessions::sessions(&db, event, None).await?;
        timings[4].1.push(t.elapsed());
    }
    for (name, mut samples) in timings {
        samples.sort();
        let median = samples[samples.len() / 2];
        let worst = samples[samples.len() - 1];
        println!(
            "{name:<22} median {:>8.1} ms   worst {:>8.1} ms",
            median.as_secs_f64() * 1000.0,
            worst.as_secs_f64() * 1000.0
        );
    }
    Ok(())
}

//! `eventos demo`: a live event in one command. Without DATABASE_URL (or --database-url) it runs a
//! private PostgreSQL cluster of its own under the user's data directory; it migrates, seeds, runs the
//! worker and the gate simulator, and opens the console as the demo organizer; when the console quits
//! (or Ctrl-C without a console) it stops everything and the cluster (unless --keep).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::config::{ProcessEnv, Settings, UrlSource, parse_connection_string};
use crate::db;
use crate::demo::cluster::{Cluster, ClusterSpec};
use crate::demo::seed::{self, SeedOptions, operator_login};
use crate::demo::simulate::{self, Counters, RateProfile, SimulateOptions, Stall};
use crate::worker::{self, WorkerConfig};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Leave the private server running (and its event) when the demo ends; the next run reuses it.
    /// Without it, every run starts a fresh event.
    #[arg(long)]
    keep: bool,
    /// Where the private cluster lives (default: $XDG_DATA_HOME/eventos/demo or ~/.local/share/eventos/demo).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Attendees in the demo event (when it is made: not when a kept one is reused).
    #[arg(long, default_value_t = 5000)]
    attendees: i32,
    /// The simulator's peak gate scans a second, when the doors open (0: no simulator); it settles at a
    /// tenth of it.
    #[arg(long, default_value_t = 8.0)]
    rate: f64,
    /// Stop after this many seconds (default: run until Ctrl-C). Runs without the console.
    #[arg(long)]
    duration: Option<u64>,
    /// Print how to connect and the simulator's rates instead of opening the console (also what
    /// happens when the output is not a terminal).
    #[arg(long)]
    no_console: bool,
}

const SLUG: &str = "northwind-summit";

/// Written by a run that ends with --keep: the next run reuses its event instead of starting afresh.
fn kept_marker(root: &std::path::Path) -> PathBuf {
    root.join("kept")
}

fn step(text: &str) {
    println!("  {text}");
}

pub async fn run(settings: &Settings, args: Args) -> Result<ExitCode> {
    println!("EventOS demo");
    let private = matches!(
        settings.database.url_source,
        UrlSource::ConfigFile | UrlSource::BuiltIn
    );
    let mut cluster = None;
    let database = if private {
        let root = args.data_dir.clone().unwrap_or_else(default_data_dir);
        step(&format!("private PostgreSQL in {}", root.display()));
        let spec = ClusterSpec {
            root: root.clone(),
            superuser: "eventos".to_owned(),
            password: Some(demo_password(&root)?),
        };
        let c = Cluster::init(&spec).await?;
        c.start().await?;
        step(&format!(
            "server running on {} and 127.0.0.1:{}",
            c.socket_dir().display(),
            c.port
        ));
        let mut admin_settings = settings.database.clone();
        admin_settings.pg = parse_connection_string(&c.socket_url("postgres"))?;
        let admin = db::connect(&admin_settings).await?;
        let mut exists: bool = admin
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'eventos')",
                &[],
            )
            .await?
            .get(0);
        // A fresh event each time, unless the last run kept its own (a run that was killed kept
        // nothing either: the marker is written only by a run that ends with --keep).
        let kept = kept_marker(&root);
        if exists && !kept.exists() {
            step("a fresh event (the last run did not --keep its own)");
            admin
                .batch_execute("DROP DATABASE eventos WITH (FORCE)")
                .await
                .context("cannot drop the last demo's database")?;
            exists = false;
        }
        if kept.exists() {
            std::fs::remove_file(&kept)
                .with_context(|| format!("cannot remove {}", kept.display()))?;
        }
        if !exists {
            admin
                .batch_execute("CREATE DATABASE eventos")
                .await
                .context("cannot create the demo database")?;
        }
        let mut db_settings = settings.database.clone();
        db_settings.pg = parse_connection_string(&c.socket_url("eventos"))?;
        cluster = Some(c);
        db_settings
    } else {
        step("using the server named by DATABASE_URL / --database-url");
        settings.database.clone()
    };
    let outcome = run_event(settings, &database, &args, cluster.as_ref()).await;
    if let Some(c) = &cluster {
        if args.keep {
            let kept = kept_marker(&c.root);
            std::fs::write(&kept, "the next `eventos demo` reuses this event\n")
                .with_context(|| format!("cannot write {}", kept.display()))?;
            println!(
                "the private server keeps running (--keep); stop it with: {}",
                c.stop_command()
            );
        } else {
            step("stopping the private server");
            c.stop().await?;
        }
    }
    outcome
}

async fn run_event(
    settings: &Settings,
    database: &crate::config::DatabaseSettings,
    args: &Args,
    cluster: Option<&Cluster>,
) -> Result<ExitCode> {
    let mut client = db::connect(database).await?;
    step("migrating");
    db::migrate::apply(&mut client).await?;
    let seeded: bool = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM events WHERE slug = $1)",
            &[&SLUG],
        )
        .await?
        .get(0);
    if seeded {
        step("the demo event is already there (reusing it); its operators:");
        for (kind, team_role, _) in crate::demo::seed::OPERATORS {
            println!("  {:<36} {team_role}", operator_login(SLUG, kind));
        }
    } else {
        step(&format!("seeding {SLUG} ({} attendees)", args.attendees));
        let report = seed::seed(
            &mut client,
            &SeedOptions {
                slug: SLUG.to_owned(),
                attendees: args.attendees,
                seed: 42,
            },
        )
        .await?;
        super::seed::print_report(&report);
    }
    drop(client);

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut worker_stop = stop_rx.clone();
    let worker_settings = database.clone();
    let worker = tokio::spawn(async move {
        worker::run(&worker_settings, &WorkerConfig::default(), async move {
            let _ = worker_stop.wait_for(|stop| *stop).await;
        })
        .await
    });
    step("worker running (offers, dispatch, realtime batches)");

    use std::io::IsTerminal;
    let console = !args.no_console && args.duration.is_none() && std::io::stdout().is_terminal();
    if !console {
        println!();
        println!("The event is live. Connect as one of its operators (logins above, no password):");
        match cluster {
            Some(c) => println!(
                "  export PGHOST={} PGPORT={} PGDATABASE=eventos",
                c.socket_dir().display(),
                c.port
            ),
            None => println!("  (the server of your DATABASE_URL, database as in the URL)"),
        }
        println!(
            "  eventos console --event {SLUG}   (as PGUSER={})",
            operator_login(SLUG, "organizer")
        );
        println!("  psql -U {}", operator_login(SLUG, "organizer"));
        println!("(Ctrl-C stops the demo)");
        println!("gate simulator, every 5 s:");
        println!();
    }

    let counters = Arc::new(Counters::default());
    let simulation = if args.rate > 0.0 {
        let options = SimulateOptions {
            slug: SLUG.to_owned(),
            // Every gate the seed's morning used, so none of them falls silent at the start.
            gates: 5,
            rate: args.rate,
            profile: RateProfile::Burst,
            duration: args.duration.map(Duration::from_secs),
            gate_login: cluster.map(|_| operator_login(SLUG, "volunteer")),
            floor_login: cluster.map(|_| operator_login(SLUG, "finance")),
            seed: None,
            // The last gate's scanner stops for five minutes, from minute 4 of every half hour of the
            // run: gate watch raises its alert after three minutes of silence while the others scan.
            stall: Some(Stall {
                gate: 3,
                every: Duration::from_secs(30 * 60),
                from: Duration::from_secs(4 * 60),
                until: Duration::from_secs(9 * 60),
            }),
        };
        let settings = database.clone();
        let counters = counters.clone();
        let rx = stop_rx.clone();
        Some(tokio::spawn(async move {
            simulate::run(&settings, &options, counters, rx, move |line| {
                // With the console on the screen the rates go to the log instead.
                if console {
                    tracing::info!(target: "simulator", "{line}");
                } else {
                    println!("{line}");
                }
            })
            .await
        }))
    } else {
        None
    };
    if console {
        // The console as the demo organizer (over the private server's socket); with DATABASE_URL, as
        // the URL's user.
        let mut console_settings = settings.clone();
        console_settings.database = database.clone();
        if cluster.is_some() {
            console_settings
                .database
                .pg
                .user(operator_login(SLUG, "organizer"));
        }
        step("opening the console (q quits the demo)");
        let result = crate::app::run(
            &console_settings,
            crate::app::ConsoleOptions {
                event: Some(SLUG.to_owned()),
                gate: Some("Demo desk".to_owned()),
            },
        )
        .await;
        if let Err(error) = result {
            eprintln!("eventos: the console stopped: {}", super::sentence(&error));
        }
    } else {
        let stop_reason = async {
            match args.duration {
                Some(secs) => {
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(secs)) => {}
                        _ = worker::shutdown_signal() => {}
                    }
                }
                None => worker::shutdown_signal().await,
            }
        };
        stop_reason.await;
    }
    let _ = stop_tx.send(true);
    if let Some(sim) = simulation {
        match sim.await {
            Ok(Err(error)) => eprintln!(
                "eventos: the simulator stopped: {}",
                super::sentence(&error)
            ),
            Err(error) => eprintln!("eventos: the simulator crashed: {error}"),
            Ok(Ok(())) => {}
        }
    }
    match worker.await {
        Ok(Ok(totals)) => step(&format!(
            "worker stopped: {} realtime hints, {} offers expired, {} announcements sent",
            totals.hints, totals.offers_expired, totals.announcements_sent
        )),
        Ok(Err(error)) => eprintln!("eventos: the worker stopped: {}", super::sentence(&error)),
        Err(error) => eprintln!("eventos: the worker crashed: {error}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// $XDG_DATA_HOME/eventos/demo, or ~/.local/share/eventos/demo. Under root, whose home the server's
/// unprivileged user cannot enter, /var/lib/eventos/demo.
fn default_data_dir() -> PathBuf {
    use crate::config::Env;
    let env = ProcessEnv;
    let home = env.var("XDG_DATA_HOME").map(PathBuf::from).or_else(|| {
        env.var("HOME")
            .map(|h| PathBuf::from(h).join(".local").join("share"))
    });
    match home {
        Some(dir) if !crate::demo::cluster::running_as_root() => dir.join("eventos").join("demo"),
        _ => PathBuf::from("/var/lib/eventos/demo"),
    }
}

/// The demo cluster's password for TCP logins: made once, kept beside the cluster (mode 0600).
fn demo_password(root: &std::path::Path) -> Result<String> {
    use std::os::unix::fs::PermissionsExt;
    let path = root.join("demo.password");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        return Ok(existing.trim().to_owned());
    }
    std::fs::create_dir_all(root).with_context(|| format!("cannot create {}", root.display()))?;
    let password = uuid::Uuid::new_v4().simple().to_string();
    std::fs::write(&path, &password).with_context(|| format!("cannot write {}", path.display()))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot protect {}", path.display()))?;
    Ok(password)
}

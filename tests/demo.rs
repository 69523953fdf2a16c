//! `eventos demo` and `eventos simulate`: the private cluster starts, migrates, seeds and stops; a
//! simulation leaves every rule intact.

mod common;

use common::{TestDb, eventos, rule_violations};
use eventos::demo::cluster::{find_server_binaries, scratch_root};
use eventos::demo::seed::{SeedOptions, operator_login, seed};

#[tokio::test]
async fn the_demo_runs_a_private_server_and_leaves_none_running() {
    if let Err(why) = find_server_binaries().await {
        eprintln!("skipped: {why:#}");
        return;
    }
    let root = scratch_root("demo").expect("scratch");
    let run = || {
        eventos(&[
            "demo",
            "--duration",
            "3",
            "--attendees",
            "200",
            "--rate",
            "5",
            "--data-dir",
        ])
        .arg(&root)
        .env_remove("DATABASE_URL")
        .output()
        .expect("eventos demo")
    };
    let first = run();
    let stdout = String::from_utf8_lossy(&first.stdout).to_string();
    assert!(
        first.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&first.stderr)
    );
    for expected in [
        "private PostgreSQL in",
        "migrating",
        "seeded event northwind-summit",
        "The event is live",
        "stopping the private server",
    ] {
        assert!(
            stdout.contains(expected),
            "{expected:?} missing from:\n{stdout}"
        );
    }
    assert!(
        !common::server_running(&root.join("data")),
        "the demo left its server running"
    );

    // A second run reuses the cluster but starts a fresh event: the first did not --keep its own.
    let second = run();
    let stdout = String::from_utf8_lossy(&second.stdout).to_string();
    assert!(second.status.success(), "{stdout}");
    assert!(stdout.contains("a fresh event"), "{stdout}");
    assert!(stdout.contains("seeded event northwind-summit"), "{stdout}");
    assert!(!stdout.contains("reusing it"), "{stdout}");

    // A run that ends with --keep leaves its server and event; the next run reuses both.
    let kept = eventos(&[
        "demo",
        "--duration",
        "2",
        "--attendees",
        "200",
        "--rate",
        "0",
        "--keep",
        "--data-dir",
    ])
    .arg(&root)
    .env_remove("DATABASE_URL")
    .output()
    .expect("eventos demo --keep");
    assert!(
        kept.status.success(),
        "{}",
        String::from_utf8_lossy(&kept.stdout)
    );
    assert!(
        common::server_running(&root.join("data")),
        "--keep left it running"
    );
    let third = run();
    let stdout = String::from_utf8_lossy(&third.stdout).to_string();
    assert!(third.status.success(), "{stdout}");
    assert!(stdout.contains("already there (reusing it)"), "{stdout}");
    assert!(
        !common::server_running(&root.join("data")),
        "the run after a kept one stops the server"
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[tokio::test]
async fn a_few_seconds_of_simulation_leave_every_rule_intact() {
    let db = TestDb::migrated().await;
    let slug = db.name.replace('_', "-");
    db.adopt_seed_operators(&slug);
    let mut admin = db.client().await;
    let report = seed(
        &mut admin,
        &SeedOptions {
            slug: slug.clone(),
            attendees: 400,
            seed: 3,
        },
    )
    .await
    .expect("seed");
    let output = eventos(&[
        "simulate",
        "--database-url",
        &db.url,
        "--event",
        &slug,
        "--duration",
        "4",
        "--rate",
        "60",
        "--gates",
        "6",
        "--profile",
        "burst",
        "--gate-login",
        &operator_login(&slug, "volunteer"),
        "--floor-login",
        &operator_login(&slug, "finance"),
    ])
    .output()
    .expect("simulate");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let last = stdout.lines().last().unwrap_or("");
    assert!(last.contains(", 0 errors"), "{stdout}");
    let accepted: i64 = last
        .split("scans: ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(accepted > 20, "the gates admitted too few: {stdout}");
    assert_eq!(
        rule_violations(&admin, report.event_id).await,
        Vec::<String>::new()
    );
}

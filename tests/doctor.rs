//! `eventos doctor` and connection failures: a healthy report on a migrated database, and one clear
//! sentence with a non-zero exit for every way the database can be out of reach.

mod common;

use std::net::TcpListener;
use std::process::Output;

use common::{TestDb, eventos, server_url, url_for_database};

fn doctor(url: &str) -> Output {
    eventos(&["doctor", "--database-url", url])
        .output()
        .expect("run eventos doctor")
}

/// A failure is exactly one line on stderr, no panic, no backtrace, exit status 1.
fn assert_one_sentence(output: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one sentence, got: {stderr}");
    assert!(stderr.starts_with("eventos: "), "{stderr}");
    assert!(
        stderr.contains(expected),
        "expected {expected:?} in {stderr}"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_migrated_database_is_healthy() {
    let db = TestDb::migrated().await;
    let output = doctor(&db.url);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("PostgreSQL 1"), "{stdout}");
    assert!(stdout.contains("the schema is current at V"), "{stdout}");
    assert!(stdout.contains("LISTEN/NOTIFY round trip in"), "{stdout}");
    assert!(stdout.contains("connected as \""), "{stdout}");
    assert!(stdout.contains("Expenses read+write"), "{stdout}");
    assert!(
        stdout.lines().last().unwrap_or("").starts_with("healthy"),
        "{stdout}"
    );
}

/// The worker's own login (a member of eventos_worker, as the runbook's systemd unit uses) is told it is
/// a worker's, not refused reading operators' profiles; and everyone is told whether a worker runs.
#[tokio::test]
async fn a_worker_login_is_told_it_is_one_and_the_heartbeat_is_checked() {
    let db = TestDb::migrated().await;
    let role = format!("{}_worker", db.name);
    db.client()
        .await
        .batch_execute(&format!("CREATE ROLE {role} LOGIN IN ROLE eventos_worker"))
        .await
        .expect("a worker role");
    db.adopt_role(&role);
    let output = doctor(&db.url_as(&role));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("a worker's login (eventos_worker)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("no worker has ever run on this database"),
        "{stdout}"
    );
    // Once a worker has beaten, the check says so.
    db.connect_as(&role)
        .await
        .execute("SELECT worker_heartbeat()", &[])
        .await
        .expect("a heartbeat");
    let output = doctor(&db.url);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("a worker beat "), "{stdout}");
}

#[tokio::test]
async fn an_unmigrated_database_says_to_migrate() {
    let db = TestDb::empty().await;
    let output = doctor(&db.url);
    assert_one_sentence(
        &output,
        "no EventOS schema in this database yet: run `eventos migrate`",
    );
    // The report still shows what works.
    assert!(String::from_utf8_lossy(&output.stdout).contains("LISTEN/NOTIFY round trip"));
}

#[tokio::test]
async fn a_half_migrated_database_says_what_is_pending() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    client
        .execute("DELETE FROM refinery_schema_history WHERE version = (SELECT max(version) FROM refinery_schema_history)", &[])
        .await
        .expect("forget the last migration");
    let output = doctor(&db.url);
    assert_one_sentence(&output, "1 migration pending");
}

#[test]
fn an_unreachable_server_is_one_sentence() {
    // A port nobody listens on: bind one, then free it.
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let output = doctor(&format!("postgres://postgres@127.0.0.1:{port}/postgres"));
    assert_one_sentence(
        &output,
        &format!("cannot reach PostgreSQL at 127.0.0.1:{port}: connection refused"),
    );
}

#[test]
fn a_server_that_never_answers_times_out_in_one_sentence() {
    // Accepts the TCP connection and then says nothing.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let output = doctor(&format!(
        "postgres://postgres@127.0.0.1:{port}/postgres?connect_timeout=1"
    ));
    drop(listener);
    assert_one_sentence(&output, "no answer within 1 s");
}

#[test]
fn a_missing_socket_is_one_sentence() {
    let output = doctor("host=/nonexistent-socket-dir dbname=eventos user=postgres");
    assert_one_sentence(&output, "no server is listening there");
}

#[test]
fn a_missing_database_is_one_sentence() {
    let url = url_for_database(&server_url(), "eventos_no_such_database");
    let output = doctor(&url);
    assert_one_sentence(
        &output,
        "database \"eventos_no_such_database\" does not exist",
    );
}

#[test]
fn an_unknown_role_is_one_sentence() {
    let url = server_url().replacen("postgres@", "eventos_no_such_role@", 1);
    let output = doctor(&url);
    assert_one_sentence(&output, "refused the login");
}

#[test]
fn a_malformed_url_is_one_sentence() {
    let output = doctor("postgres://u@h/db?nonsense=1");
    assert_one_sentence(
        &output,
        "the connection string from --database-url is invalid",
    );
}

#[test]
fn a_broken_config_file_is_one_sentence() {
    let dir = std::env::temp_dir().join(format!("eventos-doctor-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("eventos.toml");
    std::fs::write(&path, "[database]\npool_size = \"many\"\n").expect("write");
    let output = eventos(&["doctor", "--config"])
        .arg(&path)
        .output()
        .expect("run");
    let _ = std::fs::remove_dir_all(&dir);
    assert_one_sentence(&output, "is invalid: line 2: invalid type");
}

#[test]
fn tls_is_required_when_asked_and_an_untrusted_certificate_is_refused() {
    // The local server either offers TLS with a certificate no public root signed (Debian's
    // snakeoil) or no TLS at all: both must refuse the connection rather than fall back to plain text.
    let url = server_url();
    let separator = if url.contains('?') { '&' } else { '?' };
    let output = doctor(&format!("{url}{separator}sslmode=require"));
    assert_one_sentence(&output, "TLS");
}

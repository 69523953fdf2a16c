//! docs/operations.md is a runbook: its commands must not rot. Every block marked
//! `<!-- runbook: NAME -->` is either run here, in the doc's order, against a private PostgreSQL cluster
//! set up the way a Debian venue server is (socket only, peer authentication, the doc's pg_hba.conf
//! line above Debian's defaults), with real Linux users for the worker and an operator, or named below
//! with the reason it cannot be (systemd is not PID 1 on a test machine). The systemd units in
//! assets/systemd/ pass `systemd-analyze verify`, and the runbook's hand-run of the worker is the
//! unit's own command line.
//!
//! Running the blocks needs root (runuser, useradd, a server run as `postgres`), the PostgreSQL server
//! programs and `systemd-analyze`; without them the tests say why and pass, unless
//! EVENTOS_REQUIRE_RUNBOOK=1 makes that a failure. EVENTOS_RUNBOOK=PATH checks another copy of the doc
//! (to see a broken command fail without touching the real one).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use eventos::demo::cluster::{Cluster, ClusterSpec, find_server_binaries, scratch_root};

/// What the test does with each runbook block, in the doc's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum How {
    /// Run with bash; the output must contain each of these.
    Run(&'static [&'static str]),
    /// pg_hba.conf lines: put above Debian's default lines in the cluster's pg_hba.conf.
    Hba,
    /// Not run here, for this reason.
    Skip(&'static str),
}

const NO_SYSTEMD: &str = "needs systemd as PID 1 (systemctl, journalctl) and writes to /usr/local and \
                          /etc/systemd; the units are checked by the_systemd_units_verify instead";

const BLOCKS: &[(&str, How)] = &[
    ("install", How::Skip(NO_SYSTEMD)),
    ("config", How::Run(&[])),
    ("pg_hba", How::Hba),
    (
        "pg_reload",
        How::Run(&["{eventos,eventos_drill}", "| peer", "\non\n"]),
    ),
    (
        "database",
        How::Run(&["applied ", "the schema is now at V"]),
    ),
    ("worker_user", How::Run(&["CREATE ROLE"])),
    (
        "worker_by_hand",
        How::Run(&[
            "worker running against socket",
            "worker stopped:",
            "exit status 0",
            "worker started",
        ]),
    ),
    ("worker_unit", How::Skip(NO_SYSTEMD)),
    (
        "operator",
        How::Run(&[
            "Alice Martin <alice@example.org> is volunteer at spring-summit",
            "connected as \"alice\", an ordinary role",
            "Alice Martin: volunteer at spring-summit",
            "\nhealthy",
        ]),
    ),
    ("operator_remove", How::Run(&[])),
    (
        "backup",
        How::Run(&["eventos-backup: ", "eventos-latest.dump"]),
    ),
    ("backup_timer", How::Skip(NO_SYSTEMD)),
    (
        "restore_drill",
        How::Run(&["database \"eventos_drill\"", "the audit trail is intact"]),
    ),
    (
        "restore",
        How::Run(&[
            "the schema is current at V",
            "the audit trail is intact",
            "\neventos|t\n",
        ]),
    ),
    (
        "checks",
        How::Run(&["accepting connections", "worker_silent_for", "open_for"]),
    ),
    ("audit_verify", How::Run(&["the audit trail is intact"])),
    ("audit_expense", How::Run(&["| approved |"])),
    ("audit_checkin", How::Run(&["Alice Martin", "manual"])),
    ("audit_window", How::Run(&["event_expenses.approved"])),
    ("audit_entry", How::Run(&["approved_by", "status"])),
];

/// The runbook: docs/operations.md, or EVENTOS_RUNBOOK.
fn runbook_path() -> PathBuf {
    std::env::var_os("EVENTOS_RUNBOOK")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/operations.md"))
}

fn read_runbook() -> String {
    let path = runbook_path();
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read the runbook {}: {e}", path.display()))
}

fn assets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/systemd")
}

#[derive(Debug)]
struct Block {
    name: String,
    line: usize,
    text: String,
}

/// Every `<!-- runbook: NAME -->` block: the fenced block on the next non-empty line.
fn blocks(doc: &str) -> Vec<Block> {
    let lines: Vec<&str> = doc.lines().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        if let Some(rest) = line.strip_prefix("<!-- runbook:") {
            let name = rest
                .strip_suffix("-->")
                .unwrap_or_else(|| panic!("line {}: a runbook marker ends with -->", i + 1))
                .trim()
                .to_owned();
            let mut j = i + 1;
            while j < lines.len() && lines[j].trim().is_empty() {
                j += 1;
            }
            assert!(
                j < lines.len() && lines[j].starts_with("```"),
                "line {}: the runbook block {name} is not followed by a fenced block",
                i + 1
            );
            let start = j + 1;
            let mut end = start;
            while end < lines.len() && !lines[end].starts_with("```") {
                end += 1;
            }
            assert!(
                end < lines.len(),
                "line {}: the block {name} never ends",
                i + 1
            );
            found.push(Block {
                name,
                line: i + 1,
                text: lines[start..end].join("\n") + "\n",
            });
            i = end;
        }
        i += 1;
    }
    found
}

#[test]
fn every_runbook_block_is_known_to_the_test_in_order() {
    let doc = read_runbook();
    let names: Vec<String> = blocks(&doc).into_iter().map(|b| b.name).collect();
    let known: Vec<String> = BLOCKS.iter().map(|(n, _)| (*n).to_owned()).collect();
    assert_eq!(
        names, known,
        "the runbook's blocks (left) and the ones this test runs or skips with a reason (right) differ"
    );
}

/// `Key=value` lines of a unit's [Service] section (a key may repeat).
fn unit_values(unit: &str, key: &str) -> Vec<String> {
    unit.lines()
        .filter_map(|l| l.strip_prefix(&format!("{key}=")))
        .map(|v| v.trim().to_owned())
        .collect()
}

/// A shell command with its line continuations joined and its spaces collapsed.
fn one_line(text: &str) -> String {
    text.replace("\\\n", " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn the_worker_run_by_hand_is_the_units_own_command() {
    let unit = std::fs::read_to_string(assets().join("eventos-worker.service")).expect("unit");
    let user = unit_values(&unit, "User");
    let exec = unit_values(&unit, "ExecStart");
    let env = unit_values(&unit, "Environment");
    assert_eq!(user.len(), 1, "one User= in the unit");
    assert_eq!(exec.len(), 1, "one ExecStart= in the unit");
    let expected = format!(
        "setpriv --reuid={0} --regid={0} --init-groups env {1} {2} &",
        user[0],
        env.join(" "),
        exec[0]
    );
    let doc = read_runbook();
    let block = blocks(&doc)
        .into_iter()
        .find(|b| b.name == "worker_by_hand")
        .expect("the runbook runs the worker by hand");
    assert!(
        one_line(&block.text).contains(&expected),
        "the runbook's worker_by_hand block must run the unit's command as its user: {expected}\n{}",
        block.text
    );
    // The unit's user and role are the ones the runbook creates.
    let setup = blocks(&doc)
        .into_iter()
        .find(|b| b.name == "worker_user")
        .expect("worker_user block");
    assert!(
        setup.text.contains(&format!(
            "CREATE ROLE {} LOGIN IN ROLE eventos_worker",
            user[0]
        )),
        "{}",
        setup.text
    );
}

/// Why the tests that need this machine's privileges cannot run, or None when they can.
fn missing_prerequisite(programs: &[&str]) -> Option<String> {
    if !eventos::demo::cluster::running_as_root() {
        return Some("not running as root (runuser, useradd and a server run as postgres)".into());
    }
    for program in programs {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {program}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
            || Path::new("/usr/sbin").join(program).is_file();
        if !found {
            return Some(format!("{program} is not installed"));
        }
    }
    None
}

/// Says why a test cannot run and returns true (a pass), or fails under EVENTOS_REQUIRE_RUNBOOK=1.
fn skip(why: &str) -> bool {
    if std::env::var("EVENTOS_REQUIRE_RUNBOOK").as_deref() == Ok("1") {
        panic!("EVENTOS_REQUIRE_RUNBOOK=1 but {why}");
    }
    eprintln!("skipped: {why}");
    true
}

#[test]
fn the_systemd_units_verify() {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
        && skip("systemd-analyze is not installed (Debian: apt-get install systemd)")
    {
        return;
    }
    let dir = std::env::temp_dir().join(format!("eventos-units-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    // The programs the units start must exist: point them at this build and this checkout.
    let binary = env!("CARGO_BIN_EXE_eventos");
    let script = assets().join("eventos-backup");
    let mut paths = Vec::new();
    for name in [
        "eventos-worker.service",
        "eventos-backup.service",
        "eventos-backup.timer",
    ] {
        let text = std::fs::read_to_string(assets().join(name))
            .unwrap_or_else(|e| panic!("assets/systemd/{name}: {e}"));
        let text = text.replace("/usr/local/bin/eventos", binary).replace(
            "/usr/local/sbin/eventos-backup",
            &script.display().to_string(),
        );
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write unit");
        paths.push(path);
    }
    let output = Command::new("systemd-analyze")
        .arg("verify")
        .args(&paths)
        .output()
        .expect("systemd-analyze runs");
    let _ = std::fs::remove_dir_all(&dir);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success() && said.trim().is_empty(),
        "systemd-analyze verify: {said}"
    );
}

/// Linux users the runbook creates; the ones that did not exist before are removed afterwards, and so
/// is the log directory eventos makes in postgres's home when there was none.
struct Users {
    created_by_us: Vec<&'static str>,
    postgres_local: Option<PathBuf>,
}

/// A user's home directory, from /etc/passwd.
fn home_of(user: &str) -> Option<PathBuf> {
    std::fs::read_to_string("/etc/passwd")
        .ok()?
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.first() == Some(&user))
        .and_then(|f| f.get(5).map(PathBuf::from))
}

fn user_exists(name: &str) -> bool {
    Command::new("id")
        .arg(name)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl Drop for Users {
    fn drop(&mut self) {
        for name in &self.created_by_us {
            if user_exists(name) {
                let _ = Command::new("userdel").args(["-r", name]).output();
            }
        }
        if let Some(dir) = &self.postgres_local {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The private cluster, stopped and removed however the test ends.
struct Server {
    cluster: Cluster,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("sh")
            .args(["-c", &self.cluster.stop_command()])
            .output();
        let _ = std::fs::remove_dir_all(&self.cluster.root);
    }
}

/// psql as postgres on the private cluster: one value.
fn psql(env: &BTreeMap<String, String>, sql: &str) -> String {
    let output = Command::new("runuser")
        .args(["-u", "postgres", "--", "psql", "-d", "eventos", "-v"])
        .arg("ON_ERROR_STOP=1")
        .args(["-Atq", "-c", sql])
        .env_clear()
        .envs(env)
        .current_dir("/")
        .output()
        .expect("psql runs");
    let stdout = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    assert!(
        output.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Runs a block with bash, strict, from /, with a time limit.
fn run_block(block: &Block, text: &str, env: &BTreeMap<String, String>) -> String {
    let script = format!("set -euo pipefail\n{text}");
    let output: Output = Command::new("timeout")
        .args(["90", "bash", "-c", &script])
        .env_clear()
        .envs(env)
        .current_dir("/")
        .stdin(Stdio::null())
        .output()
        .expect("bash runs");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "the runbook's block {} (line {}) failed with {}:\n--- as run ---\n{text}--- output ---\n{said}",
        block.name,
        block.line,
        output.status
    );
    said
}

#[test]
fn the_runbook_runs_on_a_private_server_with_peer_authentication() {
    if let Some(why) = missing_prerequisite(&[
        "runuser", "setpriv", "useradd", "userdel", "timeout", "bash",
    ]) && skip(&why)
    {
        return;
    }
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    if let Err(why) = runtime.block_on(find_server_binaries())
        && skip(&format!("{why:#}"))
    {
        return;
    }
    // The Linux users are the machine's: one run at a time, across test processes.
    let lock = std::fs::File::create(std::env::temp_dir().join("eventos-runbook.lock"))
        .expect("lock file");
    lock.lock().expect("lock");
    let _users = Users {
        created_by_us: ["eventos", "alice"]
            .into_iter()
            .filter(|u| !user_exists(u))
            .collect(),
        postgres_local: home_of("postgres")
            .map(|home| home.join(".local"))
            .filter(|dir| !dir.exists()),
    };

    let root = scratch_root("runbook").expect("scratch dir");
    let cluster = runtime
        .block_on(Cluster::init(&ClusterSpec {
            root: root.clone(),
            superuser: "postgres".to_owned(),
            password: None,
        }))
        .expect("initdb");
    let server = Server { cluster };
    let cluster = &server.cluster;

    let doc = read_runbook();
    let all = blocks(&doc);

    // pg_hba.conf as on Debian, with the runbook's lines above the defaults. Until the runbook's
    // reload the server runs with initdb's trust (as a fresh Debian install runs with its own file).
    let hba = all
        .iter()
        .find(|b| b.name == "pg_hba")
        .expect("pg_hba block");
    let debian = "local   all             postgres                                peer\n\
                  local   all             all                                     peer\n\
                  host    all             all             127.0.0.1/32            scram-sha-256\n\
                  host    all             all             ::1/128                 scram-sha-256\n";
    std::fs::write(
        cluster.data_dir().join("pg_hba.conf"),
        format!("{}{debian}", hba.text),
    )
    .expect("pg_hba.conf");
    runtime.block_on(cluster.start()).expect("start");
    // Like /var/run/postgresql: every local user may reach the socket; pg_hba.conf decides who logs in.
    std::fs::set_permissions(
        cluster.socket_dir(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("open the socket directory");

    // Where the runbook writes outside the test's directory, and the test's own copies of the
    // program and the backup script.
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin).expect("bin dir");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_eventos"), bin.join("eventos")).expect("link");
    let paths: Vec<(&str, String)> = vec![
        (
            "/usr/local/bin/eventos",
            bin.join("eventos").display().to_string(),
        ),
        (
            "/usr/local/sbin/eventos-backup",
            bin.join("eventos-backup").display().to_string(),
        ),
        (
            "/var/backups/eventos",
            root.join("backups").display().to_string(),
        ),
        ("/var/log/eventos", root.join("log").display().to_string()),
        (
            "/var/lib/eventos",
            root.join("home-eventos").display().to_string(),
        ),
        (
            "/etc/eventos",
            root.join("etc-eventos").display().to_string(),
        ),
    ];
    let substitute = |text: &str, table: &[(&str, String)]| {
        table
            .iter()
            .fold(text.to_owned(), |t, (from, to)| t.replace(from, to))
    };
    let script = std::fs::read_to_string(assets().join("eventos-backup")).expect("backup script");
    assert!(script.contains("/var/backups/eventos"), "{script}");
    let script_copy = bin.join("eventos-backup");
    std::fs::write(&script_copy, substitute(&script, &paths)).expect("script copy");
    std::fs::set_permissions(
        &script_copy,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    for (from, _) in &paths {
        assert!(
            doc.contains(from),
            "the runbook no longer mentions {from}: update this test"
        );
    }

    let mut env: BTreeMap<String, String> = BTreeMap::new();
    for key in ["PATH", "LANG", "TERM"] {
        if let Ok(value) = std::env::var(key) {
            env.insert(key.to_owned(), value);
        }
    }
    let path = format!(
        "{}:{}",
        bin.display(),
        env.get("PATH").cloned().unwrap_or_default()
    );
    env.insert("PATH".into(), path);
    env.insert("HOME".into(), "/root".into());
    env.insert("PGHOST".into(), cluster.socket_dir().display().to_string());
    env.insert("PGPORT".into(), cluster.port.to_string());

    // The values the examples of section 8 name, replaced by this event's own.
    let mut data: Vec<(&str, String)> = Vec::new();
    for block in &all {
        let How::Run(expect) = BLOCKS
            .iter()
            .find(|(n, _)| *n == block.name)
            .map(|(_, h)| *h)
            .unwrap_or_else(|| panic!("unknown runbook block {}", block.name))
        else {
            continue;
        };
        let mut table = paths.clone();
        table.extend(data.iter().cloned());
        let text = substitute(&block.text, &table);
        let said = run_block(block, &text, &env);
        eprintln!(
            "--- runbook block {} (line {}) ---\n{said}",
            block.name, block.line
        );
        for wanted in expect {
            assert!(
                said.contains(wanted),
                "the runbook's block {} (line {}) did not say {wanted:?}:\n{said}",
                block.name,
                block.line
            );
        }
        match block.name.as_str() {
            // An event to work on, as the web app would have made it.
            "database" => {
                let seeded = Command::new("runuser")
                    .args(["-u", "postgres", "--", "eventos", "seed"])
                    .args(["--slug", "spring-summit", "--attendees", "200"])
                    // Only the runbook's environment: CI's DATABASE_URL names the shared server.
                    .env_clear()
                    .envs(&env)
                    .current_dir("/")
                    .output()
                    .expect("seed");
                assert!(
                    seeded.status.success(),
                    "seed: {}",
                    String::from_utf8_lossy(&seeded.stderr)
                );
            }
            // Real operators act: the organizer approves an expense, alice checks someone in by hand
            // and out again. Each as their own login (SET SESSION AUTHORIZATION, which only a
            // superuser may use, sets session_user, which is who the database records).
            "operator" => {
                let organizer = psql(
                    &env,
                    "SELECT p.login_role FROM event_teams t JOIN profiles p ON p.id = t.member_id
                      JOIN events e ON e.id = t.event_id
                     WHERE e.slug = 'spring-summit' AND t.role = 'organizer' AND p.login_role IS NOT NULL
                     ORDER BY p.login_role LIMIT 1",
                );
                let invoice = psql(
                    &env,
                    "SELECT invoice_number FROM event_expenses WHERE status = 'pending'
                        AND invoice_number IS NOT NULL ORDER BY invoice_number LIMIT 1",
                );
                psql(
                    &env,
                    &format!(
                        "SET SESSION AUTHORIZATION {organizer};
                         SELECT approve_expense(id) FROM event_expenses WHERE invoice_number = '{invoice}'"
                    ),
                );
                let entry = psql(
                    &env,
                    "SELECT max(id) FROM audit_log WHERE action = 'event_expenses.approved'",
                );
                let person = psql(
                    &env,
                    "SELECT a.first_name || ' ' || a.last_name FROM attendees a
                      WHERE a.status = 'registered' AND a.last_name <> ''
                        AND NOT EXISTS (SELECT 1 FROM event_checkins c WHERE c.attendee_id = a.id)
                        AND EXISTS (SELECT 1 FROM tickets t WHERE t.attendee_id = a.id AND t.status = 'valid')
                        AND (SELECT count(*) FROM attendees b
                              WHERE b.first_name || ' ' || b.last_name = a.first_name || ' ' || a.last_name) = 1
                      ORDER BY a.last_name, a.first_name LIMIT 1",
                );
                psql(
                    &env,
                    &format!(
                        "SET SESSION AUTHORIZATION alice;
                         SELECT (check_in_attendee(a.id, 'North door')).accepted
                           FROM attendees a WHERE a.first_name || ' ' || a.last_name = '{person}';
                         SELECT check_out(a.id)
                           FROM attendees a WHERE a.first_name || ' ' || a.last_name = '{person}'"
                    ),
                );
                let window = psql(
                    &env,
                    "SELECT to_char((now() - interval '10 minutes') AT TIME ZONE time_zone, 'YYYY-MM-DD HH24:MI')
                            || '|' || to_char((now() + interval '10 minutes') AT TIME ZONE time_zone, 'YYYY-MM-DD HH24:MI')
                       FROM events WHERE slug = 'spring-summit'",
                );
                let (from, to) = window.split_once('|').expect("a time window");
                data.push(("invoice=INV-2204", format!("invoice={invoice}")));
                data.push(("person='Siobhan Allen'", format!("person='{person}'")));
                data.push(("from='2026-06-12 14:00'", format!("from='{from}'")));
                data.push(("to='2026-06-12 14:10'", format!("to='{to}'")));
                data.push(("entry=191", format!("entry={entry}")));
                for (from, _) in &data {
                    assert!(
                        doc.contains(from),
                        "the runbook no longer says {from}: update this test"
                    );
                }
            }
            "audit_expense" => {
                let approver = psql(
                    &env,
                    &format!(
                        "SELECT p.full_name FROM audit_log a JOIN profiles p ON p.id = a.actor_id WHERE a.id = {}",
                        data.iter()
                            .find(|(k, _)| k.starts_with("entry="))
                            .map(|(_, v)| v.trim_start_matches("entry=").to_owned())
                            .expect("entry")
                    ),
                );
                assert!(
                    said.contains(&approver),
                    "step 8.2 does not name the approver {approver}:\n{said}"
                );
            }
            _ => {}
        }
    }
}

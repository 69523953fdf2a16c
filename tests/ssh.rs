//! The console over a real OpenSSH session on loopback: a private sshd started by the test (its own
//! config, host key and client key in a scratch directory), `ssh -tt` in a pseudo-terminal running the
//! real binary on the far side. It renders and takes keys there; when the connection drops (the client
//! killed, or sshd's session process killed) the console exits within seconds, its database
//! connections go, what was committed stays, what was only on screen (a dialog, a half-typed scan)
//! never happens, and sshd keeps no session behind.
//!
//! Needs Debian's openssh-server (`sshd`). Without it the tests say why and pass, unless
//! EVENTOS_REQUIRE_SSH=1 (set by .ci/run, which installs it) makes that a failure.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::pty::Console;
use common::{Fixture, TestDb, fixture};

/// How long a dropped session's console may take to exit ("within a few seconds").
const EXIT_LIMIT: Duration = Duration::from_secs(5);

/// How long sshd waits for a silent client before it drops the connection (ClientAliveInterval 1,
/// ClientAliveCountMax 1 in the test's sshd_config: about 3 s), plus the console's exit, with room
/// for a loaded machine.
const KEEPALIVE_LIMIT: Duration = Duration::from_secs(20);

/// A private sshd on a free loopback port, killed (and its scratch directory removed) on drop.
struct Sshd {
    child: std::process::Child,
    dir: PathBuf,
    port: u16,
    user: String,
}

/// Why sshd cannot run here: a skip, or a failure when CI demands SSH.
fn unavailable(why: String) -> Option<Sshd> {
    if std::env::var("EVENTOS_REQUIRE_SSH").as_deref() == Ok("1") {
        panic!("EVENTOS_REQUIRE_SSH=1 but {why}");
    }
    eprintln!("skipped: {why} (apt-get install openssh-server; .ci/run does)");
    None
}

/// `name` on PATH or in the sbin directories (sshd is not on an ordinary user's PATH).
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"])
        .map(|dir| Path::new(dir).join(name))
        .find(|p| p.is_file())
}

static SCRATCH: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl Sshd {
    fn start() -> Option<Sshd> {
        let (Some(sshd), Some(keygen)) = (find_program("sshd"), find_program("ssh-keygen")) else {
            return unavailable("OpenSSH's server (sshd) or ssh-keygen is not installed".into());
        };
        if find_program("ssh").is_none() {
            return unavailable("the OpenSSH client (ssh) is not installed".into());
        }
        // sshd refuses to start without its privilege separation directory.
        if let Err(e) = std::fs::create_dir_all("/run/sshd") {
            return unavailable(format!("cannot create /run/sshd: {e}"));
        }
        let dir = std::env::temp_dir().join(format!(
            "eventos-ssh-{}-{}",
            std::process::id(),
            SCRATCH.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch directory");
        for key in ["host_key", "client_key"] {
            let made = Command::new(&keygen)
                .args(["-q", "-t", "ed25519", "-N", "", "-C", "eventos-test", "-f"])
                .arg(dir.join(key))
                .status()
                .expect("ssh-keygen runs");
            assert!(made.success(), "ssh-keygen {key}: {made:?}");
        }
        std::fs::copy(dir.join("client_key.pub"), dir.join("authorized_keys"))
            .expect("authorize the client key");
        let user = String::from_utf8(
            Command::new("id")
                .arg("-un")
                .output()
                .expect("id -un")
                .stdout,
        )
        .expect("a user name")
        .trim()
        .to_owned();
        // The port is free when asked; another process may take it before sshd binds, so retry.
        let mut last_log = String::new();
        for _ in 0..3 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let config = dir.join("sshd_config");
            std::fs::write(
                &config,
                format!(
                    "ListenAddress 127.0.0.1:{port}\n\
                     HostKey {dir}/host_key\n\
                     AuthorizedKeysFile {dir}/authorized_keys\n\
                     AllowUsers {user}\n\
                     PermitRootLogin prohibit-password\n\
                     PasswordAuthentication no\n\
                     KbdInteractiveAuthentication no\n\
                     UsePAM no\n\
                     StrictModes no\n\
                     PidFile none\n\
                     PrintMotd no\n\
                     PrintLastLog no\n\
                     UseDNS no\n\
                     X11Forwarding no\n\
                     AllowTcpForwarding no\n\
                     ClientAliveInterval 1\n\
                     ClientAliveCountMax 1\n\
                     LogLevel VERBOSE\n",
                    dir = dir.display()
                ),
            )
            .expect("sshd_config");
            let log = dir.join("sshd.log");
            let mut child = Command::new(&sshd)
                .args(["-D", "-e", "-f"])
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).expect("sshd log"))
                .spawn()
                .expect("sshd starts");
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                last_log = std::fs::read_to_string(&log).unwrap_or_default();
                if last_log.contains("Server listening on") {
                    return Some(Sshd {
                        child,
                        dir,
                        port,
                        user,
                    });
                }
                if child.try_wait().expect("sshd status").is_some() || Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            if !last_log.contains("Address already in use") {
                break;
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
        unavailable(format!("sshd did not start:\n{last_log}"))
    }

    /// `ssh -tt` to this server running `remote` (a shell command line), in a pseudo-terminal.
    fn ssh(&self, remote: &str, cols: u16, rows: u16) -> Console {
        let port = self.port.to_string();
        let key = self.dir.join("client_key").display().to_string();
        let target = format!("{}@127.0.0.1", self.user);
        let mut args = vec!["-tt", "-F", "/dev/null", "-p", &port, "-i", &key];
        for option in [
            "IdentitiesOnly=yes",
            "BatchMode=yes",
            "StrictHostKeyChecking=no",
            "UserKnownHostsFile=/dev/null",
            "GlobalKnownHostsFile=/dev/null",
            "LogLevel=ERROR",
            "ConnectTimeout=10",
        ] {
            args.extend(["-o", option]);
        }
        args.extend([target.as_str(), remote]);
        Console::program("ssh", &args, cols, rows)
    }

    /// The console on the fixture's event as `url`'s role, logging to `log`. The shell prints its pid
    /// and execs the console, so that pid is the console's (`remote_pid`).
    fn console(&self, url: &str, log: &Path) -> Console {
        let remote = format!(
            "echo EVENTOS_PID=$$; cd {tmp} && exec env HOME=/nonexistent-home LANG=C.UTF-8 \
             EVENTOS_LOG_FILE={log} {bin} --database-url {url} console --event fixture-conf \
             --gate 'SSH desk'",
            tmp = quote(&std::env::temp_dir().display().to_string()),
            log = quote(&log.display().to_string()),
            bin = quote(env!("CARGO_BIN_EXE_eventos")),
            url = quote(url),
        );
        self.ssh(&remote, 80, 24)
    }

    /// sshd's processes for open connections: its listener's children.
    fn sessions(&self) -> Vec<u32> {
        children(self.child.id())
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("sshd.log")).unwrap_or_default()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        // Connections first (each is its own process), then the listener.
        for pid in self.sessions() {
            signal("KILL", pid);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Single-quoted for the remote shell.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

fn signal(name: &str, pid: u32) {
    let sent = Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .expect("kill");
    assert!(sent.success(), "kill -{name} {pid}");
}

/// A process's state letter and parent, from /proc (None when it is gone).
fn stat(pid: u32) -> Option<(char, u32)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: the fields follow the last ')'.
    let mut fields = text[text.rfind(')')? + 1..].split_whitespace();
    let state = fields.next()?.chars().next()?;
    let parent = fields.next()?.parse().ok()?;
    Some((state, parent))
}

/// Running, not a zombie (a zombie has exited; its parent may not have reaped it yet).
fn alive(pid: u32) -> bool {
    stat(pid).is_some_and(|(state, _)| state != 'Z')
}

fn children(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| stat(pid).is_some_and(|(state, ppid)| ppid == parent && state != 'Z'))
        .collect()
}

/// The console on the server, killed when a failed test leaves it running (it was reparented to init
/// when sshd's session went).
struct Remote(u32);

impl Drop for Remote {
    fn drop(&mut self) {
        if alive(self.0) && is_console(self.0) {
            let _ = Command::new("kill")
                .args(["-KILL", &self.0.to_string()])
                .status();
        }
    }
}

fn is_console(pid: u32) -> bool {
    let command = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    String::from_utf8_lossy(&command)
        .replace('\0', " ")
        .contains("console --event fixture-conf")
}

/// The console's pid on the server: what the remote shell printed before exec.
fn remote_pid(console: &Console) -> Remote {
    let raw = console.raw_text();
    let digits: String = raw
        .split("EVENTOS_PID=")
        .nth(1)
        .unwrap_or_else(|| panic!("the remote shell printed no pid:\n{raw}"))
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let pid = digits.parse().expect("a pid");
    assert!(is_console(pid), "pid {pid} is not the console");
    Remote(pid)
}

/// How long until `done` held, or None when it did not within `limit`.
async fn within(limit: Duration, mut done: impl AsyncFnMut() -> bool) -> Option<Duration> {
    let started = Instant::now();
    loop {
        if done().await {
            return Some(started.elapsed());
        }
        if started.elapsed() > limit {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Types like a person (60 ms a key), so the scanner detector (keys within 25 ms) passes them on.
async fn type_slowly(console: &mut Console, text: &str) {
    for c in text.chars() {
        console.send(&c.to_string());
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
}

/// The database connections `role` has open on `db`.
async fn backends(admin: &tokio_postgres::Client, db: &str, role: &str) -> i64 {
    admin
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND usename = $2",
            &[&db, &role],
        )
        .await
        .expect("pg_stat_activity")
        .get(0)
}

/// Alan's open entries at the doors (the fixture's other attendee, ticket FIX-0002).
async fn alans_entries(admin: &tokio_postgres::Client, f: &Fixture) -> Vec<Option<String>> {
    admin
        .query(
            "SELECT gate FROM event_checkins WHERE attendee_id = $1 AND session_id IS NULL AND is_present",
            &[&f.other_attendee],
        )
        .await
        .expect("Alan's entries")
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// After a drop: the console on the server exits by itself, its database connections go and sshd
/// keeps no session process. Returns how long the console took to exit.
async fn assert_gone(
    sshd: &Sshd,
    limit: Duration,
    pid: u32,
    admin: &tokio_postgres::Client,
    db: &TestDb,
    role: &str,
) -> Duration {
    let exited = within(limit, async || !alive(pid))
        .await
        .unwrap_or_else(|| panic!("the console (pid {pid}) still runs {limit:?} after the drop"));
    within(EXIT_LIMIT, async || {
        backends(admin, &db.name, role).await == 0
    })
    .await
    .expect("the console's database connections close");
    if within(EXIT_LIMIT, async || sshd.sessions().is_empty())
        .await
        .is_none()
    {
        panic!(
            "sshd kept session processes {:?} after the drop:\n{}",
            sshd.sessions(),
            sshd.log()
        );
    }
    exited
}

/// A database with the fixture's event and an organizer's login role for the console.
async fn organizer_db() -> (TestDb, tokio_postgres::Client, Fixture, String) {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let organizer = db
        .member(f.event, "org", "Olga Organizer", "organizer")
        .await;
    (db, admin, f, organizer.role)
}

/// Over SSH the console renders and takes keys (a desk switch, a scan typed in the scan box reaches
/// the database); then, with a confirmation dialog open, the ssh client is killed (the operator's
/// laptop gone). The console exits, the scan it committed stays, the dialog's approval never happens.
#[tokio::test]
async fn over_ssh_it_renders_takes_keys_and_a_killed_client_leaves_no_half_applied_action() {
    let Some(sshd) = Sshd::start() else { return };
    let (db, admin, f, role) = organizer_db().await;
    let log = sshd.dir.join("eventos.log");
    let mut console = sshd.console(&db.url_as(&role), &log);
    console
        .wait_for(
            &[
                "Fixture Conf",
                "Olga Organizer (organizer)",
                "LIVE",
                "1 Check-ins",
                "5 Expenses",
                "Checked in 1 / 2",
            ],
            async || {},
        )
        .await;
    let remote = remote_pid(&console);
    let pid = remote.0;

    console.send("5");
    console
        .wait_for(&["450.00 CAD", "Showing pending (1)"], async || {})
        .await;
    console.send("1");
    console.wait_for(&["Checked in 1 / 2"], async || {}).await;
    console.send("s");
    console.wait_for(&["SCAN>"], async || {}).await;
    type_slowly(&mut console, "FIX-0002\r").await;
    console
        .wait_for(&["ACCEPTED Alan Turing"], async || {})
        .await;
    assert_eq!(alans_entries(&admin, &f).await, [Some("SSH desk".into())]);

    // Esc and the next key apart, or they read as Alt-5.
    console.send("\x1b");
    tokio::time::sleep(Duration::from_millis(200)).await;
    console.send("5");
    console
        .wait_for(&["Showing pending (1)"], async || {})
        .await;
    console.send("a");
    console
        .wait_for(&["Approve expense", "[ Cancel ]"], async || {})
        .await;

    // The connection drops with the dialog open: the client dies without a word to the server.
    signal("KILL", console.pid());
    console.wait_exit().await;
    let took = assert_gone(&sshd, EXIT_LIMIT, pid, &admin, &db, &role).await;
    eprintln!("the console exited {took:?} after the client was killed");

    let row = admin
        .query_one(
            "SELECT status, approved_by FROM event_expenses WHERE id = $1",
            &[&f.expense],
        )
        .await
        .expect("the expense");
    assert_eq!(
        row.get::<_, String>(0),
        "pending",
        "the dialog's action ran"
    );
    assert_eq!(row.get::<_, Option<uuid::Uuid>>(1), None);
    // What was committed before the drop is not undone.
    assert_eq!(alans_entries(&admin, &f).await, [Some("SSH desk".into())]);
    assert_eq!(
        common::rule_violations(&admin, f.event).await,
        Vec::<String>::new()
    );
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        logged.contains("console stopped"),
        "the console did not shut down in order on the hangup:\n{logged}"
    );
}

/// Half a code typed in the scan box, then sshd's session process is killed (the server ends the
/// connection). The console exits and checks no one in; the next session on the same server starts
/// fresh (no scan box, nothing carried over), and `q` there restores the terminal through SSH.
#[tokio::test]
async fn over_ssh_a_killed_session_checks_no_one_in_and_the_next_session_starts_clean() {
    let Some(sshd) = Sshd::start() else { return };
    let (db, admin, f, role) = organizer_db().await;
    let log = sshd.dir.join("eventos.log");
    let mut console = sshd.console(&db.url_as(&role), &log);
    console
        .wait_for(&["Fixture Conf", "LIVE", "Checked in 1 / 2"], async || {})
        .await;
    let remote = remote_pid(&console);
    let pid = remote.0;
    console.send("s");
    console.wait_for(&["SCAN>"], async || {}).await;
    type_slowly(&mut console, "FIX-00").await;
    console.wait_for(&["SCAN> FIX-00"], async || {}).await;

    // sshd's process for this connection holds the terminal's other end: it dies, the terminal hangs up.
    let (_, session) = stat(pid).expect("the console runs");
    assert!(
        sshd.sessions().contains(&session),
        "the console's parent {session} is not one of sshd's sessions {:?}",
        sshd.sessions()
    );
    signal("KILL", session);
    let took = assert_gone(&sshd, EXIT_LIMIT, pid, &admin, &db, &role).await;
    eprintln!("the console exited {took:?} after sshd's session was killed");
    // The client sees the connection close and ends by itself.
    let status = console.wait_exit().await;
    assert!(!status.success(), "{status:?}");

    assert_eq!(
        alans_entries(&admin, &f).await,
        Vec::<Option<String>>::new()
    );
    let refused: i64 = admin
        .query_one(
            "SELECT count(*) FROM refused_scans WHERE event_id = $1",
            &[&f.event],
        )
        .await
        .expect("refused scans")
        .get(0);
    assert_eq!(refused, 0, "half a code was submitted");
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        logged.contains("console stopped"),
        "the console did not shut down in order on the hangup:\n{logged}"
    );

    // The next session: a fresh console, nothing of the dropped one's scan box.
    let mut next = sshd.console(&db.url_as(&role), &log);
    let screen = next
        .wait_for(&["Fixture Conf", "LIVE", "Checked in 1 / 2"], async || {})
        .await;
    assert!(!screen.contains("SCAN>"), "{screen}");
    next.send("q");
    let status = next.wait_exit().await;
    assert!(
        status.success(),
        "ssh reports the console's exit: {status:?}"
    );
    next.assert_restored();
    within(EXIT_LIMIT, async || sshd.sessions().is_empty())
        .await
        .expect("sshd ends the finished session");
}

/// The operator's network goes silent (the ssh client frozen: no FIN, no reply) with a waitlist offer
/// waiting for `y`. sshd's keepalive gives up on the connection and hangs up the terminal; the console
/// exits and no offer is made.
#[tokio::test]
async fn over_ssh_a_silent_client_is_dropped_by_sshd_and_the_open_dialog_does_nothing() {
    let Some(sshd) = Sshd::start() else { return };
    let (db, admin, f, role) = organizer_db().await;
    let log = sshd.dir.join("eventos.log");
    let mut console = sshd.console(&db.url_as(&role), &log);
    console
        .wait_for(&["Fixture Conf", "LIVE", "3 Waitlist"], async || {})
        .await;
    let remote = remote_pid(&console);
    let pid = remote.0;
    console.send("3");
    console
        .wait_for(&["Alan Turing", "Waiting 1"], async || {})
        .await;
    console.send("o");
    console
        .wait_for(&["Offer next", "[ Cancel ]"], async || {})
        .await;

    signal("STOP", console.pid());
    let took = assert_gone(&sshd, KEEPALIVE_LIMIT, pid, &admin, &db, &role).await;
    eprintln!("the console exited {took:?} after the client went silent");
    signal("KILL", console.pid());
    console.wait_exit().await;

    let status: String = admin
        .query_one(
            "SELECT status FROM event_waitlists WHERE id = $1",
            &[&f.waitlist],
        )
        .await
        .expect("the entry")
        .get(0);
    assert_eq!(status, "waiting", "the dialog's offer was made");
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        logged.contains("console stopped"),
        "the console did not shut down in order on the hangup:\n{logged}"
    );
}

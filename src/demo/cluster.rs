//! A private PostgreSQL cluster of our own: initdb and pg_ctl into a data directory, listening on a
//! Unix socket there and on a free local port. When run as root it runs the server as an unprivileged
//! system user, since initdb and postgres refuse to run as root.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, Result, bail};
use tokio::process::Command;

/// What a new cluster should look like.
#[derive(Debug, Clone)]
pub struct ClusterSpec {
    /// Holds `data/`, `socket/` and `server.log`.
    pub root: PathBuf,
    /// The cluster's bootstrap superuser.
    pub superuser: String,
    /// With a password, TCP logins need it (scram-sha-256); without, TCP is trusted like the socket.
    pub password: Option<String>,
}

/// A cluster on disk, running or not.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub root: PathBuf,
    pub bin_dir: PathBuf,
    pub superuser: String,
    pub port: u16,
    run_as: Option<SystemUser>,
}

#[derive(Debug, Clone)]
struct SystemUser {
    name: String,
    uid: u32,
    gid: u32,
}

impl Cluster {
    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    pub fn socket_dir(&self) -> PathBuf {
        self.root.join("socket")
    }

    pub fn log_file(&self) -> PathBuf {
        self.root.join("server.log")
    }

    /// The shell command that stops this cluster by hand.
    pub fn stop_command(&self) -> String {
        let pg_ctl = self.bin_dir.join("pg_ctl");
        let base = format!(
            "{} -D {} -m fast stop",
            pg_ctl.display(),
            self.data_dir().display()
        );
        match &self.run_as {
            Some(user) => format!("runuser -u {} -- {base}", user.name),
            None => base,
        }
    }

    /// A libpq key=value connection string over the Unix socket.
    pub fn socket_url(&self, dbname: &str) -> String {
        format!(
            "host={} port={} user={} dbname={dbname}",
            self.socket_dir().display(),
            self.port,
            self.superuser
        )
    }

    /// A postgres:// URL over TCP on 127.0.0.1, with the given password if any.
    pub fn tcp_url(&self, dbname: &str, password: Option<&str>) -> String {
        match password {
            Some(p) => format!(
                "postgres://{}:{p}@127.0.0.1:{}/{dbname}",
                self.superuser, self.port
            ),
            None => format!(
                "postgres://{}@127.0.0.1:{}/{dbname}",
                self.superuser, self.port
            ),
        }
    }

    /// Creates the cluster if `spec.root` holds none yet (initdb), or opens the existing one.
    pub async fn init(spec: &ClusterSpec) -> Result<Cluster> {
        let bin_dir = find_server_binaries().await?;
        let run_as = if running_as_root() {
            Some(unprivileged_user()?)
        } else {
            None
        };
        for dir in [spec.root.clone(), spec.root.join("socket")] {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        // Local logins are trusted: only the cluster's owner may reach its socket.
        std::fs::set_permissions(
            spec.root.join("socket"),
            std::fs::Permissions::from_mode(0o700),
        )
        .context("cannot close the socket directory to other users")?;
        let data_dir = spec.root.join("data");
        if let Some(user) = &run_as {
            // The server's user must reach its directories; nothing else in them is secret.
            for dir in [&spec.root, &spec.root.join("socket")] {
                std::os::unix::fs::chown(dir, Some(user.uid), Some(user.gid)).with_context(
                    || format!("cannot hand {} to user {}", dir.display(), user.name),
                )?;
            }
            make_traversable(&spec.root)?;
        }
        let cluster = Cluster {
            root: spec.root.clone(),
            bin_dir,
            superuser: spec.superuser.clone(),
            port: match read_port(&spec.root) {
                Some(port) => port,
                None => free_port()?,
            },
            run_as,
        };
        if !data_dir.join("PG_VERSION").is_file() {
            cluster.initdb(spec).await?;
        }
        std::fs::write(spec.root.join("port"), cluster.port.to_string())
            .context("cannot record the cluster's port")?;
        Ok(cluster)
    }

    async fn initdb(&self, spec: &ClusterSpec) -> Result<()> {
        let pwfile = self.root.join("initdb.pw");
        let mut args: Vec<String> = vec![
            "-D".into(),
            self.data_dir().display().to_string(),
            "-U".into(),
            spec.superuser.clone(),
            "-E".into(),
            "UTF8".into(),
            "--no-locale".into(),
            "--auth-local=trust".into(),
        ];
        if let Some(password) = &spec.password {
            std::fs::write(&pwfile, password).context("cannot write the initdb password file")?;
            if let Some(user) = &self.run_as {
                std::os::unix::fs::chown(&pwfile, Some(user.uid), Some(user.gid))
                    .context("cannot hand the password file to the server's user")?;
            }
            args.push("--auth-host=scram-sha-256".into());
            args.push(format!("--pwfile={}", pwfile.display()));
        } else {
            args.push("--auth-host=trust".into());
        }
        let result = self.run("initdb", &args).await;
        let _ = std::fs::remove_file(&pwfile);
        result.context("initdb failed")
    }

    /// Starts the server and waits until it accepts connections. A running server is left alone.
    pub async fn start(&self) -> Result<()> {
        if self.is_running().await {
            return Ok(());
        }
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200",
            self.port,
            self.socket_dir().display()
        );
        let args = vec![
            "-D".into(),
            self.data_dir().display().to_string(),
            "-l".into(),
            self.log_file().display().to_string(),
            "-o".into(),
            options,
            "-w".into(),
            "-t".into(),
            "60".into(),
            "start".into(),
        ];
        self.run("pg_ctl", &args).await.with_context(|| {
            format!(
                "the private PostgreSQL server did not start (its log is {})",
                self.log_file().display()
            )
        })
    }

    /// Stops the server (fast shutdown: open sessions are ended, nothing committed is lost).
    pub async fn stop(&self) -> Result<()> {
        if !self.is_running().await {
            return Ok(());
        }
        let args = vec![
            "-D".into(),
            self.data_dir().display().to_string(),
            "-m".into(),
            "fast".into(),
            "-w".into(),
            "stop".into(),
        ];
        self.run("pg_ctl", &args)
            .await
            .context("the private PostgreSQL server did not stop")
    }

    pub async fn is_running(&self) -> bool {
        let args = vec![
            "-D".into(),
            self.data_dir().display().to_string(),
            "status".into(),
        ];
        self.run("pg_ctl", &args).await.is_ok()
    }

    /// Runs one of the server's programs, as the unprivileged user when we are root.
    async fn run(&self, program: &str, args: &[String]) -> Result<()> {
        let mut command = Command::new(self.bin_dir.join(program));
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env("LC_ALL", "C");
        if let Some(user) = &self.run_as {
            command.uid(user.uid).gid(user.gid);
        }
        let output = command
            .output()
            .await
            .with_context(|| format!("cannot run {}", self.bin_dir.join(program).display()))?;
        if output.status.success() {
            return Ok(());
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("");
        bail!("{program} exited with {}: {last}", output.status)
    }
}

/// initdb and pg_ctl: on PATH, else where pg_config says, else the newest /usr/lib/postgresql/*/bin.
pub async fn find_server_binaries() -> Result<PathBuf> {
    let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if has_both(&dir) {
                return Ok(dir);
            }
        }
    }
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output().await
        && output.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if has_both(&dir) {
            return Ok(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            has_both(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).ok_or_else(|| {
        anyhow::anyhow!(
            "no PostgreSQL server programs (initdb, pg_ctl) were found on PATH, through pg_config or \
             under /usr/lib/postgresql: install the server package (Debian/Ubuntu: apt-get install \
             postgresql; Fedora: dnf install postgresql-server; macOS: brew install postgresql)"
        )
    })
}

/// Whether this process runs with effective user id 0.
pub fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

/// The system user the server runs as under root: `postgres` (the distribution's), else `nobody`.
fn unprivileged_user() -> Result<SystemUser> {
    let passwd = std::fs::read_to_string("/etc/passwd").context("cannot read /etc/passwd")?;
    let users: Vec<SystemUser> = passwd
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            Some(SystemUser {
                name: (*fields.first()?).to_owned(),
                uid: fields.get(2)?.parse().ok()?,
                gid: fields.get(3)?.parse().ok()?,
            })
        })
        .collect();
    ["postgres", "nobody"]
        .iter()
        .find_map(|name| {
            users
                .iter()
                .find(|u| u.name == *name && u.uid != 0)
                .cloned()
        })
        .ok_or_else(|| {
            anyhow::anyhow!(
                "running as root, and neither a `postgres` nor a `nobody` user exists to run the \
                 server as (PostgreSQL refuses to run as root): create one, or run as another user"
            )
        })
}

/// Lets the server's user walk down to `dir` (x on each ancestor that lacks it for others).
fn make_traversable(dir: &Path) -> Result<()> {
    for ancestor in dir.ancestors() {
        if ancestor.as_os_str().is_empty() || ancestor == Path::new("/") {
            continue;
        }
        let meta = std::fs::metadata(ancestor)
            .with_context(|| format!("cannot read {}", ancestor.display()))?;
        let mode = meta.permissions().mode();
        if mode & 0o001 == 0 {
            bail!(
                "the server's user cannot reach {} (directory {} is closed to other users): choose a \
                 data directory outside it",
                dir.display(),
                ancestor.display()
            );
        }
    }
    Ok(())
}

fn read_port(root: &Path) -> Option<u16> {
    std::fs::read_to_string(root.join("port"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// A free local port below the kernel's ephemeral range. A port the kernel picked (bind to port 0) is
/// one it may hand to any client's outgoing connection as soon as the server stops, so a restart could
/// find its own port taken; the demo's server restarts on the same port across runs.
fn free_port() -> Result<u16> {
    let ephemeral_start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let low: u16 = 20000;
    let span = u32::from(ephemeral_start.saturating_sub(low).max(1));
    let start = (uuid::Uuid::new_v4().as_u128() % u128::from(span)) as u32;
    for step in 0..span {
        let Ok(port) = u16::try_from(u32::from(low) + (start + step) % span) else {
            continue;
        };
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    bail!("no free local port between {low} and {ephemeral_start}")
}

/// Makes a fresh directory that an unprivileged server user can reach (for tests).
pub fn scratch_root(label: &str) -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "eventos-{label}-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("cannot open {} to the server's user", dir.display()))?;
    Ok(dir)
}

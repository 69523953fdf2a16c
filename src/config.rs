//! Settings: `config/eventos.toml` (every key documented there), then the environment
//! (DATABASE_URL and libpq's PG* variables), then command-line flags, each overriding the one before.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// The configuration file as written; every field optional so a partial file is fine.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub database: DatabaseSection,
    #[serde(default)]
    pub logging: LoggingSection,
    #[serde(default)]
    pub console: ConsoleSection,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleSection {
    pub event: Option<String>,
    pub gate: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSection {
    pub url: Option<String>,
    pub tls_root_cert: Option<PathBuf>,
    pub pool_size: Option<usize>,
    pub connect_timeout_secs: Option<u64>,
    pub application_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoggingSection {
    pub file: Option<PathBuf>,
    pub level: Option<String>,
}

/// Where a connection string came from; decides how the PG* variables apply to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlSource {
    Flag,
    Environment,
    ConfigFile,
    BuiltIn,
}

/// Connection settings after every layer has been applied.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub pg: tokio_postgres::Config,
    pub tls_root_cert: Option<PathBuf>,
    pub pool_size: usize,
    pub url_source: UrlSource,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub log_file: PathBuf,
    pub log_level: String,
    pub config_path: Option<PathBuf>,
    pub console: ConsoleSection,
}

/// The connection used when nothing is configured: the local server over its Unix socket, as the
/// operating-system user (peer authentication on a venue server), database `eventos`.
pub const BUILT_IN_URL: &str = "host=/var/run/postgresql dbname=eventos";
const DEFAULT_POOL_SIZE: usize = 8;
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Reads the environment through a function so tests can supply their own.
pub trait Env {
    fn var(&self, key: &str) -> Option<String>;
}

pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, key: &str) -> Option<String> {
        std::env::var(key).ok().filter(|v| !v.is_empty())
    }
}

impl Settings {
    /// Loads the settings for a command: `config_flag` and `url_flag` are the global CLI flags.
    pub fn load(config_flag: Option<&Path>, url_flag: Option<&str>) -> Result<Settings> {
        Self::load_with(config_flag, url_flag, &ProcessEnv)
    }

    pub fn load_with(
        config_flag: Option<&Path>,
        url_flag: Option<&str>,
        env: &dyn Env,
    ) -> Result<Settings> {
        let config_path = locate_config(config_flag, env)?;
        let file = match &config_path {
            Some(path) => read_config(path)?,
            None => FileConfig::default(),
        };
        let database = database_settings(&file.database, url_flag, env)?;
        let log_file = file
            .logging
            .file
            .clone()
            .or_else(|| env.var("EVENTOS_LOG_FILE").map(PathBuf::from))
            .unwrap_or_else(|| default_state_dir(env).join("eventos.log"));
        let log_level = env
            .var("EVENTOS_LOG")
            .or(file.logging.level.clone())
            .unwrap_or_else(|| "info".to_owned());
        Ok(Settings {
            database,
            log_file,
            log_level,
            config_path,
            console: file.console.clone(),
        })
    }
}

/// `--config`, else EVENTOS_CONFIG, else ./config/eventos.toml, else the user's config directory.
fn locate_config(flag: Option<&Path>, env: &dyn Env) -> Result<Option<PathBuf>> {
    if let Some(path) = flag {
        if !path.is_file() {
            bail!("config file {} does not exist", path.display());
        }
        return Ok(Some(path.to_path_buf()));
    }
    if let Some(path) = env.var("EVENTOS_CONFIG") {
        let path = PathBuf::from(path);
        if !path.is_file() {
            bail!(
                "config file {} (from EVENTOS_CONFIG) does not exist",
                path.display()
            );
        }
        return Ok(Some(path));
    }
    let local = PathBuf::from("config/eventos.toml");
    if local.is_file() {
        return Ok(Some(local));
    }
    let user = env
        .var("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| env.var("HOME").map(|h| PathBuf::from(h).join(".config")))
        .map(|dir| dir.join("eventos").join("eventos.toml"));
    Ok(user.filter(|p| p.is_file()))
}

pub fn read_config(path: &Path) -> Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    parse_config(&text).with_context(|| format!("config file {} is invalid", path.display()))
}

pub fn parse_config(text: &str) -> Result<FileConfig> {
    toml::from_str(text).map_err(|err| {
        // toml's own message spans several lines with a source excerpt; keep the sentence.
        let message = err.message().trim().to_owned();
        match err.span() {
            Some(span) => {
                let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                anyhow::anyhow!("line {line}: {message}")
            }
            None => anyhow::anyhow!("{message}"),
        }
    })
}

/// Where logs and state go by default: $XDG_STATE_HOME/eventos or ~/.local/state/eventos.
pub fn default_state_dir(env: &dyn Env) -> PathBuf {
    env.var("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| {
            env.var("HOME")
                .map(|h| PathBuf::from(h).join(".local").join("state"))
        })
        .unwrap_or_else(std::env::temp_dir)
        .join("eventos")
}

fn database_settings(
    file: &DatabaseSection,
    url_flag: Option<&str>,
    env: &dyn Env,
) -> Result<DatabaseSettings> {
    let (url, source) = if let Some(url) = url_flag {
        (url.to_owned(), UrlSource::Flag)
    } else if let Some(url) = env.var("DATABASE_URL") {
        (url, UrlSource::Environment)
    } else if let Some(url) = &file.url {
        (url.clone(), UrlSource::ConfigFile)
    } else {
        (BUILT_IN_URL.to_owned(), UrlSource::BuiltIn)
    };
    let origin = match source {
        UrlSource::Flag => "--database-url",
        UrlSource::Environment => "DATABASE_URL",
        UrlSource::ConfigFile => "the config file's database.url",
        UrlSource::BuiltIn => "the built-in default",
    };
    let mut pg = parse_connection_string(&url)
        .with_context(|| format!("the connection string from {origin} is invalid"))?;
    apply_pg_env(&mut pg, source, env)?;
    if pg.get_connect_timeout().is_none() {
        let secs = file
            .connect_timeout_secs
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT.as_secs());
        pg.connect_timeout(Duration::from_secs(secs.max(1)));
    }
    if pg.get_application_name().is_none() {
        pg.application_name(file.application_name.as_deref().unwrap_or("eventos"));
    }
    let tls_root_cert = env
        .var("PGSSLROOTCERT")
        .map(PathBuf::from)
        .or_else(|| file.tls_root_cert.clone());
    let pool_size = file.pool_size.unwrap_or(DEFAULT_POOL_SIZE);
    if pool_size == 0 || pool_size > 256 {
        bail!("database.pool_size must be between 1 and 256, got {pool_size}");
    }
    Ok(DatabaseSettings {
        pg,
        tls_root_cert,
        pool_size,
        url_source: source,
    })
}

/// Parses a postgres:// URL or a libpq key=value string. libpq's `verify-ca` and `verify-full` modes
/// are read as `require`: EventOS always verifies the server certificate when it uses TLS.
pub fn parse_connection_string(url: &str) -> Result<tokio_postgres::Config> {
    let normalized = url
        .replace("sslmode=verify-full", "sslmode=require")
        .replace("sslmode=verify-ca", "sslmode=require");
    normalized
        .parse::<tokio_postgres::Config>()
        .map_err(|err| anyhow::anyhow!("{err}"))
}

/// libpq's variables. Over a URL from the config file or the built-in default they override what it
/// says; over DATABASE_URL or --database-url they fill in only what the URL leaves out, as libpq does.
fn apply_pg_env(pg: &mut tokio_postgres::Config, source: UrlSource, env: &dyn Env) -> Result<()> {
    let overrides = matches!(source, UrlSource::ConfigFile | UrlSource::BuiltIn);
    if let Some(host) = env.var("PGHOST")
        && (overrides || pg.get_hosts().is_empty())
    {
        let port = pg.get_ports().first().copied();
        let mut fresh = pg.clone();
        // Config has no way to clear hosts, so rebuild from a copy without them.
        fresh = rebuild_without_hosts(&fresh);
        for h in host.split(',') {
            if h.starts_with('/') {
                fresh.host_path(h);
            } else {
                fresh.host(h);
            }
        }
        if let Some(port) = port {
            fresh.port(port);
        }
        *pg = fresh;
    }
    // A parsed URL always carries a port (5432 when it names none), so PGPORT can only override.
    if let Some(port) = env.var("PGPORT")
        && overrides
    {
        let port: u16 = port
            .parse()
            .map_err(|_| anyhow::anyhow!("PGPORT must be a port number, got {port:?}"))?;
        *pg = rebuild_with_port(pg, port);
    }
    if let Some(user) = env.var("PGUSER")
        && (overrides || pg.get_user().is_none())
    {
        pg.user(&user);
    }
    if let Some(password) = env.var("PGPASSWORD")
        && (overrides || pg.get_password().is_none())
    {
        pg.password(password.as_bytes());
    }
    if let Some(db) = env.var("PGDATABASE")
        && (overrides || pg.get_dbname().is_none())
    {
        pg.dbname(&db);
    }
    if let Some(name) = env.var("PGAPPNAME")
        && (overrides || pg.get_application_name().is_none())
    {
        pg.application_name(&name);
    }
    if let Some(mode) = env.var("PGSSLMODE") {
        let mode = match mode.as_str() {
            "disable" | "allow" => tokio_postgres::config::SslMode::Disable,
            "prefer" => tokio_postgres::config::SslMode::Prefer,
            "require" | "verify-ca" | "verify-full" => tokio_postgres::config::SslMode::Require,
            other => {
                bail!("PGSSLMODE {other:?} is not one of disable, prefer, require, verify-full")
            }
        };
        if overrides || pg.get_ssl_mode() == tokio_postgres::config::SslMode::Prefer {
            pg.ssl_mode(mode);
        }
    }
    if let Some(secs) = env.var("PGCONNECT_TIMEOUT")
        && (overrides || pg.get_connect_timeout().is_none())
    {
        let secs: u64 = secs.parse().map_err(|_| {
            anyhow::anyhow!("PGCONNECT_TIMEOUT must be a number of seconds, got {secs:?}")
        })?;
        pg.connect_timeout(Duration::from_secs(secs.max(1)));
    }
    Ok(())
}

/// A copy of `pg` with every field but hosts and ports.
fn rebuild_without_hosts(pg: &tokio_postgres::Config) -> tokio_postgres::Config {
    let mut fresh = tokio_postgres::Config::new();
    copy_non_network(pg, &mut fresh);
    fresh
}

fn rebuild_with_port(pg: &tokio_postgres::Config, port: u16) -> tokio_postgres::Config {
    let mut fresh = rebuild_without_hosts(pg);
    for host in pg.get_hosts() {
        match host {
            tokio_postgres::config::Host::Tcp(h) => {
                fresh.host(h);
            }
            tokio_postgres::config::Host::Unix(p) => {
                fresh.host_path(p);
            }
        }
    }
    fresh.port(port);
    fresh
}

fn copy_non_network(from: &tokio_postgres::Config, to: &mut tokio_postgres::Config) {
    if let Some(user) = from.get_user() {
        to.user(user);
    }
    if let Some(password) = from.get_password() {
        to.password(password);
    }
    if let Some(db) = from.get_dbname() {
        to.dbname(db);
    }
    if let Some(options) = from.get_options() {
        to.options(options);
    }
    if let Some(name) = from.get_application_name() {
        to.application_name(name);
    }
    if let Some(timeout) = from.get_connect_timeout() {
        to.connect_timeout(*timeout);
    }
    to.ssl_mode(from.get_ssl_mode());
    to.keepalives(from.get_keepalives());
    to.keepalives_idle(from.get_keepalives_idle());
    to.target_session_attrs(from.get_target_session_attrs());
    to.channel_binding(from.get_channel_binding());
}

/// Where a connection goes, for messages: "127.0.0.1:5432" or "socket /var/run/postgresql".
/// Never includes the password.
pub fn describe_target(pg: &tokio_postgres::Config) -> String {
    let port = pg.get_ports().first().copied().unwrap_or(5432);
    let hosts: Vec<String> = pg
        .get_hosts()
        .iter()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(h) => format!("{h}:{port}"),
            tokio_postgres::config::Host::Unix(p) => {
                format!("socket {}/.s.PGSQL.{port}", p.display())
            }
        })
        .collect();
    if hosts.is_empty() {
        format!("localhost:{port}")
    } else {
        hosts.join(" or ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct FakeEnv(HashMap<&'static str, &'static str>);
    impl Env for FakeEnv {
        fn var(&self, key: &str) -> Option<String> {
            self.0.get(key).map(|v| (*v).to_owned())
        }
    }

    fn env(pairs: &[(&'static str, &'static str)]) -> FakeEnv {
        let mut map: HashMap<_, _> = pairs.iter().copied().collect();
        // Keep the developer's own config directory out of the tests.
        map.entry("HOME").or_insert("/nonexistent-home");
        FakeEnv(map)
    }

    fn db(
        file: &str,
        flag: Option<&str>,
        pairs: &[(&'static str, &'static str)],
    ) -> Result<DatabaseSettings> {
        let parsed = parse_config(file)?;
        database_settings(&parsed.database, flag, &env(pairs))
    }

    #[test]
    fn flag_beats_environment_beats_file() -> Result<()> {
        let file = "[database]\nurl = \"postgres://file@filehost/filedb\"\n";
        let s = db(file, None, &[])?;
        assert_eq!(s.pg.get_user(), Some("file"));
        let s = db(
            file,
            None,
            &[("DATABASE_URL", "postgres://envuser@envhost/envdb")],
        )?;
        assert_eq!(s.pg.get_user(), Some("envuser"));
        assert_eq!(s.url_source, UrlSource::Environment);
        let s = db(
            file,
            Some("postgres://flaguser@flaghost/flagdb"),
            &[("DATABASE_URL", "postgres://envuser@envhost/envdb")],
        )?;
        assert_eq!(s.pg.get_user(), Some("flaguser"));
        assert_eq!(s.pg.get_dbname(), Some("flagdb"));
        Ok(())
    }

    #[test]
    fn pg_variables_override_the_file_but_only_fill_gaps_in_database_url() -> Result<()> {
        let file = "[database]\nurl = \"postgres://file@filehost:5433/filedb\"\n";
        let vars = [
            ("PGUSER", "pguser"),
            ("PGDATABASE", "pgdb"),
            ("PGHOST", "pghost"),
        ];
        let s = db(file, None, &vars)?;
        assert_eq!(s.pg.get_user(), Some("pguser"));
        assert_eq!(s.pg.get_dbname(), Some("pgdb"));
        assert_eq!(describe_target(&s.pg), "pghost:5433");

        let mut with_url = vars.to_vec();
        with_url.push(("DATABASE_URL", "postgres://urluser@urlhost/"));
        let s = db(file, None, &with_url)?;
        assert_eq!(s.pg.get_user(), Some("urluser"));
        assert_eq!(s.pg.get_dbname(), Some("pgdb"), "the URL named no database");
        assert_eq!(describe_target(&s.pg), "urlhost:5432");
        Ok(())
    }

    #[test]
    fn pgport_keeps_the_hosts() -> Result<()> {
        let file = "[database]\nurl = \"postgres://u@a,b/db\"\n";
        let s = db(file, None, &[("PGPORT", "6543")])?;
        assert_eq!(s.pg.get_ports(), &[6543]);
        assert_eq!(s.pg.get_hosts().len(), 2);
        assert_eq!(s.pg.get_user(), Some("u"));
        Ok(())
    }

    #[test]
    fn bad_values_are_one_sentence() {
        let err = db("", None, &[("PGPORT", "abc")]).unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            "PGPORT must be a port number, got \"abc\""
        );
        let err = parse_config("[database]\nurll = \"x\"\n").unwrap_err();
        assert!(
            format!("{err:#}").starts_with("line 2: unknown field `urll`"),
            "{err:#}"
        );
        let err = db("", Some("postgres://u@h/db?bogus=1"), &[]).unwrap_err();
        assert!(
            format!("{err:#}").starts_with("the connection string from --database-url is invalid")
        );
        let err = db("[database]\npool_size = 0\n", None, &[]).unwrap_err();
        assert!(format!("{err:#}").contains("pool_size"));
    }

    #[test]
    fn verify_full_means_require() -> Result<()> {
        let s = db("", Some("postgres://u@h/db?sslmode=verify-full"), &[])?;
        assert_eq!(
            s.pg.get_ssl_mode(),
            tokio_postgres::config::SslMode::Require
        );
        Ok(())
    }

    #[test]
    fn the_shipped_config_file_parses() -> Result<()> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/eventos.toml");
        read_config(&path)?;
        Ok(())
    }
}

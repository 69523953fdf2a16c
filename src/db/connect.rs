//! Opening connections, with TLS when the settings ask for it, and turning a failed attempt into one
//! sentence an operator can act on.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio::sync::mpsc;
use tokio_postgres::config::SslMode;
use tokio_postgres::error::SqlState;
use tokio_postgres::{AsyncMessage, Client, NoTls, Notification};
use tracing::{debug, warn};

use crate::config::{DatabaseSettings, describe_target};

/// A failed connection attempt, already phrased for the person at the terminal.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConnectError(pub String);

/// Notifications that arrive on a connection, in order. Closes when the connection ends.
pub type Notifications = mpsc::UnboundedReceiver<Notification>;

fn tls_config(settings: &DatabaseSettings) -> Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for error in &native.errors {
        debug!(%error, "skipping an unreadable system root certificate");
    }
    let (added, _ignored) = roots.add_parsable_certificates(native.certs);
    if let Some(path) = &settings.tls_root_cert {
        use rustls::pki_types::{CertificateDer, pem::PemObject};
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .with_context(|| format!("cannot read TLS root certificate {}", path.display()))?
            .collect::<Result<_, _>>()
            .with_context(|| format!("TLS root certificate {} is not valid PEM", path.display()))?;
        roots.add_parsable_certificates(certs);
    }
    if roots.is_empty() {
        anyhow::bail!(
            "TLS was asked for (sslmode=require) but no root certificate is available: install the \
             system's ca-certificates or set database.tls_root_cert"
        );
    }
    debug!(system_roots = added, "TLS roots loaded");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("the TLS library refused its default protocol versions")?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// Whether this connection uses TLS. `prefer` is treated as `disable`: a TLS attempt that fails
/// certificate verification must not silently fall back to plain text, so TLS is all or nothing.
fn wants_tls(settings: &DatabaseSettings) -> bool {
    settings.pg.get_ssl_mode() == SslMode::Require
}

fn plain_config(settings: &DatabaseSettings) -> tokio_postgres::Config {
    let mut pg = settings.pg.clone();
    if !wants_tls(settings) {
        pg.ssl_mode(SslMode::Disable);
    }
    pg
}

/// Opens one connection; its notifications are discarded.
pub async fn connect(settings: &DatabaseSettings) -> Result<Client> {
    let (client, _notifications) = connect_listening(settings).await?;
    Ok(client)
}

/// Opens one connection and hands back the notifications it receives (for LISTEN).
pub async fn connect_listening(settings: &DatabaseSettings) -> Result<(Client, Notifications)> {
    let pg = plain_config(settings);
    let (tx, rx) = mpsc::unbounded_channel();
    let client = if wants_tls(settings) {
        let tls = tokio_postgres_rustls::MakeRustlsConnect::new(tls_config(settings)?);
        let (client, connection) = within_timeout(settings, pg.connect(tls)).await?;
        tokio::spawn(drive(connection, tx));
        client
    } else {
        let (client, connection) = within_timeout(settings, pg.connect(NoTls)).await?;
        tokio::spawn(drive(connection, tx));
        client
    };
    Ok((client, rx))
}

/// tokio-postgres's connect_timeout covers only the TCP connect; a server that accepts and then says
/// nothing would hang the startup forever, so the whole attempt gets the same limit.
async fn within_timeout<T>(
    settings: &DatabaseSettings,
    attempt: impl Future<Output = Result<T, tokio_postgres::Error>>,
) -> Result<T> {
    let limit = settings
        .pg
        .get_connect_timeout()
        .copied()
        .unwrap_or(Duration::from_secs(5));
    match tokio::time::timeout(limit, attempt).await {
        Ok(Ok(connected)) => Ok(connected),
        Ok(Err(error)) => Err(describe_connect_error(settings, &error).into()),
        Err(_) => Err(ConnectError(format!(
            "cannot reach PostgreSQL at {}: no answer within {} s",
            describe_target(&settings.pg),
            limit.as_secs()
        ))
        .into()),
    }
}

/// Polls a connection until it ends, forwarding notifications and logging server notices.
async fn drive<S, T>(
    mut connection: tokio_postgres::Connection<S, T>,
    tx: mpsc::UnboundedSender<Notification>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    loop {
        match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            Some(Ok(AsyncMessage::Notification(n))) => {
                // A closed receiver only means nobody is listening any more.
                let _ = tx.send(n);
            }
            Some(Ok(AsyncMessage::Notice(notice))) => {
                debug!(
                    severity = notice.severity(),
                    message = notice.message(),
                    "server notice"
                );
            }
            Some(Ok(_)) => {}
            Some(Err(error)) => {
                warn!(%error, "database connection ended with an error");
                break;
            }
            None => break,
        }
    }
}

/// How long a desk waits for a free connection before it is told that every one is busy.
const POOL_WAIT: Duration = Duration::from_secs(10);

/// The desks' connection pool. Connections open lazily; the first failure surfaces on first use.
pub fn pool(settings: &DatabaseSettings) -> Result<Pool> {
    sized_pool(settings, settings.pool_size)
}

/// Connections kept for the door (scans, check-ins and check-outs), apart from the desks' reads: a scan
/// never waits behind a slow read for a connection.
pub const DOOR_CONNECTIONS: usize = 2;

/// The door's own pool, of `DOOR_CONNECTIONS`.
pub fn door_pool(settings: &DatabaseSettings) -> Result<Pool> {
    sized_pool(settings, DOOR_CONNECTIONS)
}

fn sized_pool(settings: &DatabaseSettings, size: usize) -> Result<Pool> {
    let pg = plain_config(settings);
    let manager_config = ManagerConfig {
        recycling_method: RecyclingMethod::Fast,
    };
    let manager = if wants_tls(settings) {
        let tls = tokio_postgres_rustls::MakeRustlsConnect::new(tls_config(settings)?);
        Manager::from_config(pg, tls, manager_config)
    } else {
        Manager::from_config(pg, NoTls, manager_config)
    };
    Pool::builder(manager)
        .max_size(size)
        .wait_timeout(Some(POOL_WAIT))
        .create_timeout(settings.pg.get_connect_timeout().copied())
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .build()
        .context("cannot build the database connection pool")
}

/// A connection from `pool`, or why there is none in the console's own words (deadpool's say "Timeout
/// occurred while creating a new object").
pub async fn pooled(pool: &Pool) -> Result<deadpool_postgres::Object> {
    use deadpool_postgres::{PoolError, TimeoutType};
    const NONE: &str = "no database connection";
    match pool.get().await {
        Ok(client) => Ok(client),
        Err(PoolError::Backend(error)) => Err(anyhow::Error::new(error).context(NONE)),
        Err(PoolError::Timeout(TimeoutType::Wait)) => Err(anyhow::anyhow!(
            "{NONE}: none of this console's {} came free within {} s",
            pool.status().max_size,
            POOL_WAIT.as_secs()
        )),
        Err(PoolError::Timeout(TimeoutType::Create)) => Err(anyhow::anyhow!(
            "{NONE}: the server did not accept a new one in time"
        )),
        Err(PoolError::Timeout(TimeoutType::Recycle)) => Err(anyhow::anyhow!(
            "{NONE}: an open one did not answer its check in time"
        )),
        Err(PoolError::Closed) => Err(anyhow::anyhow!("{NONE}: the console is closing")),
        Err(other) => Err(anyhow::anyhow!("{NONE}: {other}")),
    }
}

/// One sentence for a failed connection attempt.
pub fn describe_connect_error(
    settings: &DatabaseSettings,
    error: &tokio_postgres::Error,
) -> ConnectError {
    let target = describe_target(&settings.pg);
    let user = settings
        .pg
        .get_user()
        .map(str::to_owned)
        .unwrap_or_else(os_user);
    let dbname = settings
        .pg
        .get_dbname()
        .map(str::to_owned)
        .unwrap_or_else(|| user.clone());
    if let Some(db) = error.as_db_error() {
        let code = db.code();
        let text = if *code == SqlState::INVALID_PASSWORD {
            format!("PostgreSQL at {target} refused the password for user \"{user}\"")
        } else if *code == SqlState::INVALID_CATALOG_NAME {
            format!("database \"{dbname}\" does not exist on the PostgreSQL server at {target}")
        } else if *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION {
            format!("PostgreSQL at {target} refused the login: {}", db.message())
        } else if *code == SqlState::TOO_MANY_CONNECTIONS {
            format!(
                "PostgreSQL at {target} has no free connections: {}",
                db.message()
            )
        } else if *code == SqlState::CANNOT_CONNECT_NOW {
            format!("PostgreSQL at {target} is starting up or shutting down; try again shortly")
        } else {
            format!(
                "PostgreSQL at {target} refused the connection: {}",
                db.message()
            )
        };
        return ConnectError(text);
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<io::Error>() {
            let text = match io.kind() {
                io::ErrorKind::ConnectionRefused => format!(
                    "cannot reach PostgreSQL at {target}: connection refused (is the server running?)"
                ),
                io::ErrorKind::NotFound => format!(
                    "cannot reach PostgreSQL at {target}: no server is listening there (is it running?)"
                ),
                io::ErrorKind::PermissionDenied => {
                    format!("cannot reach PostgreSQL at {target}: permission denied")
                }
                io::ErrorKind::TimedOut => format!(
                    "cannot reach PostgreSQL at {target}: no answer within {} s",
                    settings.pg.get_connect_timeout().map_or(0, |d| d.as_secs())
                ),
                _ if io.to_string().contains("certificate") => format!(
                    "PostgreSQL at {target} presented a TLS certificate that is not trusted ({io}); \
                     set database.tls_root_cert to its CA, or connect without sslmode=require"
                ),
                _ => format!("cannot reach PostgreSQL at {target}: {io}"),
            };
            return ConnectError(text);
        }
        source = err.source();
    }
    // tokio-postgres puts the useful part ("password missing") in the error's source.
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(err) = cause {
        text = format!("{text}: {err}");
        cause = err.source();
    }
    if text.contains("timeout") || text.contains("timed out") {
        return ConnectError(format!(
            "cannot reach PostgreSQL at {target}: no answer within {} s",
            settings.pg.get_connect_timeout().map_or(0, |d| d.as_secs())
        ));
    }
    if text.contains("password missing") {
        return ConnectError(format!(
            "PostgreSQL at {target} asks for a password for user \"{user}\" and none was given \
             (set PGPASSWORD or put it in the connection URL)"
        ));
    }
    ConnectError(format!("cannot connect to PostgreSQL at {target}: {text}"))
}

fn os_user() -> String {
    std::env::var("USER").unwrap_or_else(|_| "the current user".to_owned())
}

//! Logging goes to a file, never to the terminal the console draws on.

use std::fs::OpenOptions;
use std::path::Path;
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;

/// Starts logging to `file` at `level` (a tracing filter). Returns a sentence saying why logging is
/// off when the file cannot be opened: the program carries on without it.
pub fn init(file: &Path, level: &str) -> Result<(), String> {
    if let Some(dir) = file.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create log directory {}: {e}", dir.display()))?;
    }
    let handle = OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .map_err(|e| format!("cannot open log file {}: {e}", file.display()))?;
    let filter = EnvFilter::try_new(level)
        .map_err(|e| format!("log level {level:?} is not a valid filter: {e}"))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(Mutex::new(handle))
        .try_init()
        .map_err(|e| format!("logging was already set up: {e}"))
}

/// Replaces Rust's panic message (and backtrace) with one line on stderr; the details go to the log.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        tracing::error!(%location, %payload, "panic");
        eprintln!("eventos: internal error ({payload}); details are in the log file");
    }));
}

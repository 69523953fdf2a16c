use std::process::ExitCode;

use clap::Parser;
use eventos::cli::{self, Cli};

fn main() -> ExitCode {
    eventos::logging::install_panic_hook();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("eventos: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(code) => code,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "command failed");
            eprintln!("eventos: {}", cli::sentence(&err));
            ExitCode::FAILURE
        }
    }
}

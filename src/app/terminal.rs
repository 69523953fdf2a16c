//! The terminal: raw mode and the alternate screen on the way in, everything restored on the way out —
//! on quit, on error, on panic, and on SIGTERM or SIGHUP (an SSH session dropping).

use std::io::{self, Stdout, Write};

use anyhow::{Context, Result};
use crossterm::cursor::{Hide, Show};
use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use crossterm::{execute, queue};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Owns the terminal; dropping it restores the screen.
pub struct TerminalGuard {
    pub terminal: Term,
}

impl TerminalGuard {
    pub fn enter() -> Result<TerminalGuard> {
        install_restoring_panic_hook();
        enable_raw_mode().context("cannot put the terminal in raw mode (is this a terminal?)")?;
        let mut stdout = io::stdout();
        if let Err(e) = execute!(stdout, EnterAlternateScreen, EnableBracketedPaste, Hide) {
            restore();
            return Err(e).context("cannot take over the terminal");
        }
        let terminal = match Terminal::new(CrosstermBackend::new(stdout)) {
            Ok(t) => t,
            Err(e) => {
                restore();
                return Err(e).context("cannot start drawing");
            }
        };
        Ok(TerminalGuard { terminal })
    }

    /// Draws one frame inside synchronized output, so the terminal shows it whole.
    pub fn draw(&mut self, render: impl FnOnce(&mut ratatui::Frame)) -> Result<()> {
        let backend = self.terminal.backend_mut();
        queue!(backend, crossterm::terminal::BeginSynchronizedUpdate)
            .context("cannot write to the terminal")?;
        self.terminal
            .draw(render)
            .context("cannot draw to the terminal")?;
        execute!(
            self.terminal.backend_mut(),
            crossterm::terminal::EndSynchronizedUpdate
        )
        .context("cannot write to the terminal")?;
        Ok(())
    }

    pub fn bell(&mut self) {
        let backend = self.terminal.backend_mut();
        // A bell that cannot be written is not worth stopping for.
        let _ = backend.write_all(b"\x07");
        let _ = backend.flush();
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Puts the terminal back. Safe to call twice; errors are ignored (the terminal may be gone: SIGHUP).
pub fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        DisableBracketedPaste,
        LeaveAlternateScreen,
        Show
    );
}

/// A panic restores the terminal first, then the usual one-line message (logging::install_panic_hook).
fn install_restoring_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}

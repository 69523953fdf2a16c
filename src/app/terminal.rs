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
use ratatui::buffer::Buffer;

pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Owns the terminal; dropping it restores the screen.
pub struct TerminalGuard {
    pub terminal: Term,
    /// What the terminal shows now.
    shown: Option<Buffer>,
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
        Ok(TerminalGuard {
            terminal,
            shown: None,
        })
    }

    /// Draws one frame (see `draw_frame`).
    pub fn draw(&mut self, render: impl FnOnce(&mut ratatui::Frame)) -> Result<bool> {
        draw_frame(&mut self.terminal, &mut self.shown, render)
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

/// Draws one frame inside synchronized output, so the terminal shows it whole. A frame that would
/// change no cell of what `shown` says is on screen writes nothing at all (an idle console sends no
/// bytes, whatever it reread meanwhile); answers whether it wrote. The console never shows a cursor.
pub fn draw_frame<W: Write>(
    terminal: &mut Terminal<CrosstermBackend<W>>,
    shown: &mut Option<Buffer>,
    render: impl FnOnce(&mut ratatui::Frame),
) -> Result<bool> {
    terminal
        .autoresize()
        .context("cannot read the terminal's size")?;
    render(&mut terminal.get_frame());
    if shown.as_ref() == Some(&*terminal.current_buffer_mut()) {
        // Ready for the next frame, which ratatui renders into this same buffer.
        terminal.current_buffer_mut().reset();
        return Ok(false);
    }
    *shown = Some(terminal.current_buffer_mut().clone());
    queue!(
        terminal.backend_mut(),
        crossterm::terminal::BeginSynchronizedUpdate
    )
    .context("cannot write to the terminal")?;
    terminal
        .apply_buffer()
        .context("cannot draw to the terminal")?;
    execute!(
        terminal.backend_mut(),
        crossterm::terminal::EndSynchronizedUpdate
    )
    .context("cannot write to the terminal")?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use ratatui::layout::Rect;
    use ratatui::widgets::Paragraph;
    use ratatui::{TerminalOptions, Viewport};

    use super::*;

    /// What the terminal is sent.
    #[derive(Clone, Default)]
    struct Wire(Arc<Mutex<Vec<u8>>>);

    impl Write for Wire {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| io::Error::other("poisoned"))?
                .extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Wire {
        fn take(&self) -> Vec<u8> {
            std::mem::take(&mut *self.0.lock().expect("the wire"))
        }
    }

    #[test]
    fn a_frame_that_changes_nothing_writes_nothing() {
        let wire = Wire::default();
        let mut terminal = Terminal::with_options(
            CrosstermBackend::new(wire.clone()),
            TerminalOptions {
                viewport: Viewport::Fixed(Rect::new(0, 0, 20, 2)),
            },
        )
        .expect("a terminal");
        let mut shown = None;
        let mut draw = |text: &str| {
            let drawn = draw_frame(&mut terminal, &mut shown, |frame| {
                frame.render_widget(Paragraph::new(text.to_owned()), frame.area())
            })
            .expect("drawn");
            let on_screen: String = shown
                .as_ref()
                .map(|b: &Buffer| b.content().iter().map(|c| c.symbol()).collect())
                .unwrap_or_default();
            (drawn, on_screen.trim_end().to_owned())
        };
        assert_eq!(draw("LIVE 1234"), (true, "LIVE 1234".into()));
        assert!(!wire.take().is_empty());
        assert_eq!(
            draw("LIVE 1234"),
            (false, "LIVE 1234".into()),
            "nothing changed"
        );
        assert!(wire.take().is_empty(), "no bytes for an unchanged frame");
        // The frame after an unchanged one starts from a clean buffer: nothing of the last stays.
        assert_eq!(draw("LIVE 1"), (true, "LIVE 1".into()));
        assert!(!wire.take().is_empty());
    }
}

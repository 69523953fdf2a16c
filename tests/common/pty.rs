//! The real binary in a pseudo-terminal, its screen kept by a terminal emulator (vt100): what an
//! operator sees, typed keys, exit and the terminal left behind.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

pub const WAIT: Duration = Duration::from_secs(20);

/// The console running in a pseudo-terminal, its screen kept by a terminal emulator (vt100).
pub struct Console {
    screen: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
    /// The reader has seen the end of the output (the program and its children closed the terminal).
    drained: Arc<std::sync::atomic::AtomicBool>,
    writer: Box<dyn Write + Send>,
    master: Box<dyn MasterPty + Send>,
    child: Box<dyn Child + Send + Sync>,
}

impl Console {
    pub fn start(url: &str, args: &[&str], cols: u16, rows: u16) -> Console {
        let mut all = vec!["--database-url", url, "console"];
        all.extend_from_slice(args);
        Console::run(&all, cols, rows)
    }

    /// `eventos ARGS` in a pseudo-terminal with a clean environment.
    pub fn run(args: &[&str], cols: u16, rows: u16) -> Console {
        Console::program(env!("CARGO_BIN_EXE_eventos"), args, cols, rows)
    }

    /// Any `PROGRAM ARGS` (e.g. `ssh -tt ...`) in a pseudo-terminal with the same clean environment.
    pub fn program(program: &str, args: &[&str], cols: u16, rows: u16) -> Console {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pseudo-terminal");
        let mut command = CommandBuilder::new(program);
        command.args(args);
        command.env_clear();
        command.env("PATH", std::env::var("PATH").unwrap_or_default());
        command.env("HOME", "/nonexistent-home");
        command.env("TERM", "xterm-256color");
        command.env("LANG", "C.UTF-8");
        command.env(
            "EVENTOS_LOG_FILE",
            std::env::temp_dir().join("eventos-console-test.log"),
        );
        command.cwd(std::env::temp_dir());
        let child = pty
            .slave
            .spawn_command(command)
            .unwrap_or_else(|e| panic!("{program} starts: {e}"));
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().expect("reader");
        let writer = pty.master.take_writer().expect("writer");
        let screen = Arc::new(Mutex::new(vt100::Parser::new(
            nonzero(rows),
            nonzero(cols),
            0,
        )));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let drained = Arc::new(std::sync::atomic::AtomicBool::new(false));
        {
            let screen = Arc::clone(&screen);
            let raw = Arc::clone(&raw);
            let drained = Arc::clone(&drained);
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                while let Ok(n) = reader.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    screen.lock().expect("screen").process(&buf[..n]);
                    raw.lock().expect("raw").extend_from_slice(&buf[..n]);
                }
                drained.store(true, std::sync::atomic::Ordering::SeqCst);
            });
        }
        Console {
            screen,
            raw,
            drained,
            writer,
            master: pty.master,
            child,
        }
    }

    /// The terminal's new size, as a window manager or SSH client would report it.
    pub fn resize(&self, cols: u16, rows: u16) {
        // The screen takes the new size first and stays locked until the terminal has it, so nothing the
        // program draws after it hears of the resize is read at the old size (a redraw for 80 columns
        // read at 60 wraps and stays garbled, as a diff never repaints it).
        let mut screen = self.screen.lock().expect("screen");
        screen.screen_mut().set_size(nonzero(rows), nonzero(cols));
        self.master
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("resize");
    }

    /// The program's process id.
    pub fn pid(&self) -> u32 {
        self.child.process_id().expect("pid")
    }

    /// Everything the program wrote, control sequences included (lossy UTF-8).
    pub fn raw_text(&self) -> String {
        String::from_utf8_lossy(&self.raw.lock().expect("raw")).into_owned()
    }

    pub fn text(&self) -> String {
        self.screen.lock().expect("screen").screen().contents()
    }

    pub fn send(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).expect("type");
        self.writer.flush().expect("flush");
    }

    /// Waits until every needle is on screen, calling `between` while waiting; panics showing the screen.
    pub async fn wait_for(&self, needles: &[&str], between: impl AsyncFnMut()) -> String {
        self.wait_longer(WAIT, needles, between).await
    }

    pub async fn wait_longer(
        &self,
        wait: Duration,
        needles: &[&str],
        mut between: impl AsyncFnMut(),
    ) -> String {
        let deadline = Instant::now() + wait;
        loop {
            let text = self.text();
            if needles.iter().all(|n| text.contains(n)) {
                return text;
            }
            if Instant::now() > deadline {
                panic!("{needles:?} did not appear within {wait:?}; the screen:\n{text}");
            }
            between().await;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for the program to exit and for everything it wrote to be read.
    pub async fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                while !self.drained.load(std::sync::atomic::Ordering::SeqCst)
                    && Instant::now() < deadline
                {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the console did not exit:\n{}",
                self.text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The terminal is back as it was: main screen, cursor shown, the last thing written.
    pub fn assert_restored(&self) {
        let raw = self.raw.lock().expect("raw");
        let text = String::from_utf8_lossy(&raw);
        let left = text
            .rfind("\x1b[?1049l")
            .expect("left the alternate screen");
        let entered = text
            .rfind("\x1b[?1049h")
            .expect("entered the alternate screen");
        assert!(left > entered, "the alternate screen was left last");
        assert!(
            text[left..].contains("\x1b[?25h"),
            "the cursor is shown again"
        );
        assert!(
            !self
                .screen
                .lock()
                .expect("screen")
                .screen()
                .alternate_screen()
        );
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn nonzero(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n).expect("a size")
}

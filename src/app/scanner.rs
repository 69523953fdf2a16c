//! Telling a barcode scanner from a person. A USB scanner is a keyboard that types a whole code and
//! Enter within a few milliseconds; typed into the menus, its digits would switch desks and its
//! letters press desk keys (an "a" once opened "Approve marked"). So keys are held back for a moment:
//! a burst of at least `MIN_CODE` code characters ending in Enter, each within `GAP` of the one
//! before, is a scan, whatever desk or dialog is open; anything else is given back as the keys it was,
//! in order, at most `GAP` late.

use std::task::Poll;
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use futures_util::{Stream, StreamExt};
use tokio::sync::mpsc::UnboundedSender;

use super::msg::Msg;

/// The longest pause between two characters of one scan. Scanners type a character every few
/// milliseconds; people, even fast typists, rarely press five keys this close together.
pub const GAP: Duration = Duration::from_millis(25);

/// The shortest code a burst must carry to count as a scan (ticket codes are longer).
pub const MIN_CODE: usize = 4;

/// What the keyboard task passes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Key(KeyEvent),
    Scan(String),
}

/// Keys held back while they might be a scan.
#[derive(Debug, Default)]
pub struct Burst {
    held: Vec<KeyEvent>,
    /// When the last key of any kind came.
    last: Option<Instant>,
    /// This run of quick keys held something no code holds (a space, Tab, an arrow): not a scan,
    /// down to its end (a pasted sentence's last word and Enter must not check anyone in).
    not_a_scan: bool,
}

/// A character a ticket code can hold: printable, no spaces (codes are `[[:graph:]]+`), typed without
/// Ctrl or Alt. A pasted sentence has spaces, so it stays keys.
fn code_char(key: &KeyEvent) -> bool {
    match key.code {
        KeyCode::Char(c) => {
            !c.is_whitespace()
                && !c.is_control()
                && (key.modifiers - KeyModifiers::SHIFT).is_empty()
        }
        _ => false,
    }
}

impl Burst {
    /// Whether keys are held (the caller wakes up after `GAP` to call `pause`).
    pub fn holding(&self) -> bool {
        !self.held.is_empty()
    }

    /// A key pressed at `at`: what to pass on now.
    pub fn key(&mut self, key: KeyEvent, at: Instant) -> Vec<Input> {
        let quick = self
            .last
            .is_some_and(|last| at.saturating_duration_since(last) <= GAP);
        self.last = Some(at);
        let mut out = Vec::new();
        if !quick {
            out.extend(self.release());
            self.not_a_scan = false;
        }
        if code_char(&key) && !self.not_a_scan {
            self.held.push(key);
            return out;
        }
        if key.code == KeyCode::Enter
            && key.modifiers.is_empty()
            && quick
            && !self.not_a_scan
            && self.held.len() >= MIN_CODE
        {
            let code: String = self
                .held
                .drain(..)
                .filter_map(|k| match k.code {
                    KeyCode::Char(c) => Some(c),
                    _ => None,
                })
                .collect();
            out.push(Input::Scan(code));
            return out;
        }
        out.extend(self.release());
        self.not_a_scan = true;
        out.push(Input::Key(key));
        out
    }

    /// No key came for `GAP`: what was held was typed by a person.
    pub fn pause(&mut self) -> Vec<Input> {
        self.not_a_scan = false;
        self.release()
    }

    fn release(&mut self) -> Vec<Input> {
        self.held.drain(..).map(Input::Key).collect()
    }
}

/// Passes the terminal's events on as messages until the terminal ends or nobody listens, keys through
/// the burst detector. A key is timed when it arrived, as far as this task can tell: one already
/// waiting when the task looks came with the key before it, however late a busy machine runs this
/// task (a scanner's burst read in one piece and handled with a stall between two of its keys was
/// once split into keys that opened a dialog). `now` is the clock (a test's own).
pub async fn forward<S>(mut events: S, tx: &UnboundedSender<Msg>, mut now: impl FnMut() -> Instant)
where
    S: Stream<Item = std::io::Result<Event>> + Unpin,
{
    let pass_on = |inputs: Vec<Input>| {
        inputs.into_iter().all(|input| {
            let msg = match input {
                Input::Key(key) => Msg::Key(key),
                Input::Scan(code) => Msg::ScannerInput(code),
            };
            tx.send(msg).is_ok()
        })
    };
    let mut burst = Burst::default();
    // When the last key was stamped; None after anything that is not a key.
    let mut last_key: Option<Instant> = None;
    loop {
        // One look with this task's own waker (crossterm's stream keeps the first waker it is given,
        // so a look with a throwaway one would never wake this task again).
        let ready = std::future::poll_fn(|cx| Poll::Ready(events.poll_next_unpin(cx))).await;
        let (event, already_waiting) = match ready {
            Poll::Ready(event) => (event, true),
            Poll::Pending if burst.holding() => {
                match tokio::time::timeout(GAP, events.next()).await {
                    Ok(event) => (event, false),
                    Err(_) => {
                        last_key = None;
                        if !pass_on(burst.pause()) {
                            return;
                        }
                        continue;
                    }
                }
            }
            Poll::Pending => (events.next().await, false),
        };
        let Some(event) = event else { return };
        let msg = match event {
            Ok(Event::Key(key)) if key.kind == KeyEventKind::Press => {
                let at = match last_key {
                    Some(before) if already_waiting => before,
                    _ => now(),
                };
                last_key = Some(at);
                if !pass_on(burst.key(key, at)) {
                    return;
                }
                continue;
            }
            // Text for the box that has the keyboard, never the desk's keys (a pasted "?q"
            // must not open help and quit); the state refuses it where no box is open.
            Ok(Event::Paste(text)) => Msg::Paste(text),
            Ok(Event::Resize(..)) => Msg::Resize,
            Ok(_) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "terminal input failed");
                Msg::Quit
            }
        };
        last_key = None;
        if !pass_on(burst.pause()) || tx.send(msg).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    fn enter() -> KeyEvent {
        KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)
    }

    /// Types `text` (and Enter for '\n') one key every `every`, then pauses.
    fn typed(text: &str, every: Duration) -> Vec<Input> {
        let mut burst = Burst::default();
        let mut at = Instant::now();
        let mut out = Vec::new();
        for c in text.chars() {
            let k = if c == '\n' { enter() } else { key(c) };
            out.extend(burst.key(k, at));
            at += every;
        }
        out.extend(burst.pause());
        out
    }

    #[test]
    fn a_scanner_burst_is_one_scan() {
        assert_eq!(
            typed("TKT-0042\n", Duration::from_millis(2)),
            vec![Input::Scan("TKT-0042".into())]
        );
    }

    #[test]
    fn a_person_typing_the_same_keys_gets_the_keys() {
        let out = typed("TKT-0042\n", Duration::from_millis(120));
        assert_eq!(out.len(), 9);
        assert_eq!(out[0], Input::Key(key('T')));
        assert_eq!(out[8], Input::Key(enter()));
    }

    #[test]
    fn a_short_burst_or_one_without_enter_stays_keys() {
        assert_eq!(
            typed("12\n", Duration::from_millis(1)),
            vec![
                Input::Key(key('1')),
                Input::Key(key('2')),
                Input::Key(enter())
            ]
        );
        assert_eq!(typed("abcdef", Duration::from_millis(1)).len(), 6);
    }

    #[test]
    fn a_pasted_sentence_is_not_a_scan() {
        let out = typed("see you at nine\n", Duration::from_millis(1));
        assert!(out.iter().all(|i| matches!(i, Input::Key(_))), "{out:?}");
        assert_eq!(out.len(), 16);
    }

    #[test]
    fn a_key_after_a_pause_releases_what_was_held_first() {
        let mut burst = Burst::default();
        let at = Instant::now();
        assert!(burst.key(key('2'), at).is_empty());
        assert!(burst.holding());
        let out = burst.key(key('a'), at + Duration::from_millis(200));
        assert_eq!(out, vec![Input::Key(key('2'))]);
        assert_eq!(burst.pause(), vec![Input::Key(key('a'))]);
    }

    #[test]
    fn two_scans_in_a_row_are_two_scans() {
        assert_eq!(
            typed("CODE-1\nCODE-2\n", Duration::from_millis(2)),
            vec![Input::Scan("CODE-1".into()), Input::Scan("CODE-2".into())]
        );
    }

    /// The keys `text` types, as the terminal's events, all waiting at once (read in one piece).
    fn waiting_events(text: &str) -> impl Stream<Item = std::io::Result<Event>> + Unpin {
        let events: Vec<_> = text
            .chars()
            .map(|c| Ok(Event::Key(if c == '\n' { enter() } else { key(c) })))
            .collect();
        futures_util::stream::iter(events)
    }

    fn received(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Msg>) -> Vec<String> {
        std::iter::from_fn(|| rx.try_recv().ok())
            .map(|msg| match msg {
                Msg::Key(k) => format!("key {:?}", k.code),
                Msg::ScannerInput(code) => format!("scan {code}"),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[tokio::test]
    async fn a_burst_read_in_one_piece_is_a_scan_however_late_its_keys_are_handled() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        // A busy machine: a tenth of a second passes between any two looks at the clock.
        let mut clock = Instant::now();
        forward(waiting_events("ARPAF2J5\n"), &tx, move || {
            clock += Duration::from_millis(100);
            clock
        })
        .await;
        assert_eq!(received(&mut rx), vec!["scan ARPAF2J5"]);
    }

    #[tokio::test(start_paused = true)]
    async fn keys_that_come_apart_stay_keys() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        // One key every 100 ms, each arriving only after the task has gone back to waiting.
        let events = futures_util::stream::iter("ab12\n".chars()).then(|c| async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            Ok(Event::Key(if c == '\n' { enter() } else { key(c) }))
        });
        forward(Box::pin(events), &tx, || {
            tokio::time::Instant::now().into_std()
        })
        .await;
        assert_eq!(
            received(&mut rx),
            vec![
                "key Char('a')",
                "key Char('b')",
                "key Char('1')",
                "key Char('2')",
                "key Enter"
            ]
        );
    }

    #[test]
    fn ctrl_c_is_never_held_in_a_code() {
        let mut burst = Burst::default();
        let at = Instant::now();
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(burst.key(ctrl_c, at), vec![Input::Key(ctrl_c)]);
    }
}

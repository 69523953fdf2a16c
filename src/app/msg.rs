//! Messages into the console's update, and the effects it asks for.

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;

use crate::db::listen::ListenerEvent;
use crate::desks::Permissions;
use crate::desks::registry::{AnyAnswer, AnyCmd, Loaded, PushedBatch};

/// Why an effect did not do what was asked: a rule's refusal or a failure, in one sentence.
pub use crate::db::Failure;

#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    /// A barcode scanner's burst (app::scanner): a code to check in, whatever is on screen.
    ScannerInput(String),
    /// A bracketed paste: text for the text box that has the keyboard, never keys for the desk.
    Paste(String),
    Resize,
    Tick(DateTime<Utc>),
    Listener(ListenerEvent),
    /// A batch pushed whole on the event's feed channel (V11), read by the listener's forwarder.
    Pushed(Box<PushedBatch>),
    /// Every desk, read in one transaction after LISTEN.
    Snapshot {
        generation: u64,
        result: Result<Box<Loaded>, Failure>,
    },
    Permissions(Result<(String, Permissions), Failure>),
    /// A desk's command answered.
    Desk(AnyAnswer),
    /// A change the database has not answered within the limit for one query: it may still be applied
    /// (a frozen or overloaded server answers late), so its real answer is awaited and follows.
    StillWaiting {
        what: String,
    },
    /// This console's time without the database, recorded in the event's incident timeline (or why not).
    OutageReported(Result<(), Failure>),
    /// SIGTERM, SIGHUP, Ctrl-C from outside.
    Quit,
}

/// Effects: run on tokio tasks through the pool; each answers with one Msg.
#[derive(Debug, Clone, PartialEq)]
pub enum Cmd {
    /// Every desk the operator may see, in one REPEATABLE READ transaction.
    Snapshot {
        generation: u64,
        /// Their permissions now (they can change mid-shift): a desk they cannot see is not read.
        permissions: Permissions,
    },
    Permissions,
    /// Back on the database after RECONNECTING: how long this console was without it, on its own clock
    /// (the server places it on its own), and why it lost it.
    ReportOutage {
        lost_for_seconds: f64,
        reason: String,
    },
    /// A desk's own command.
    Desk(AnyCmd),
}

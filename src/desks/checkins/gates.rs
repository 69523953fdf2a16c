//! Gate watch (V15): every gate's rate, last entry and refusal share over the event's window, and the
//! alerts the database's sweep raised (a gate gone silent while the others scan, a jump in its
//! refusals). The numbers and the judgement are the database's (`gate_watch()`, `gate_watch_sweep()`);
//! the desk reads them and shows them.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::db::listen::Hint;

/// How often the gates are read again while the desk is in front (their rates and last entries move
/// with the doors; alerts come at once, by their hint).
const REFRESH_SHOWN: Duration = Duration::seconds(5);

crate::column_words! {
    /// What is wrong at a gate.
    pub enum AlertKind for gate_alerts.kind {
        Silent = "silent",
        Refusals = "refusals",
    }
}

impl AlertKind {
    /// The gates table's word for it.
    pub fn label(self) -> &'static str {
        match self {
            AlertKind::Silent => "SILENT",
            AlertKind::Refusals => "REFUSALS",
        }
    }
}

/// One gate as `gate_watch()` reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateRow {
    pub gate: String,
    pub entries: i64,
    pub last_at: Option<DateTime<Utc>>,
    pub window_entries: i64,
    pub window_refusals: i64,
    /// Refused scans as a share of the window's scans; None with no scans in it.
    pub refusal_percent: Option<i32>,
    pub window_minutes: i32,
    pub silent_minutes: i32,
}

/// An open alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateAlert {
    pub id: Uuid,
    pub gate: String,
    pub kind: AlertKind,
    /// The sweep's sentence when it raised it.
    pub detail: String,
    pub raised_at: DateTime<Utc>,
    /// Who acknowledged it, by name, and when.
    pub acknowledged: Option<(String, DateTime<Utc>)>,
}

/// The gates as last read, and when to read them again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GateWatch {
    pub rows: Vec<GateRow>,
    /// Open alerts, oldest first.
    pub alerts: Vec<GateAlert>,
    pub loaded: bool,
    /// A read is called for (an alert changed, or the rows are due).
    pub wanted: bool,
    pub in_flight: bool,
    pub read_at: Option<DateTime<Utc>>,
}

impl GateWatch {
    pub fn hear(&mut self, hint: &Hint) {
        if hint.table == "gate_alerts" {
            self.wanted = true;
        }
    }

    /// Each second: the rows are due again every few seconds while the desk is in front.
    pub fn tick(&mut self, now: DateTime<Utc>, shown: bool) {
        if shown && self.read_at.is_none_or(|at| now - at >= REFRESH_SHOWN) {
            self.wanted = true;
        }
    }

    /// Whether to read now (one read out at a time); marks it out.
    pub fn take_read(&mut self, now: DateTime<Utc>) -> bool {
        if !self.wanted || self.in_flight {
            return false;
        }
        self.wanted = false;
        self.in_flight = true;
        self.read_at = Some(now);
        true
    }

    pub fn read(&mut self, rows: Vec<GateRow>, alerts: Vec<GateAlert>) {
        self.in_flight = false;
        self.loaded = true;
        self.rows = rows;
        self.alerts = alerts;
    }

    pub fn failed(&mut self) {
        self.in_flight = false;
    }

    /// A resync or a lost link: nothing out; read again when asked.
    pub fn forget(&mut self) {
        self.in_flight = false;
        self.wanted = true;
    }

    /// The alert `a` acknowledges: the oldest open one nobody has acknowledged yet.
    pub fn to_acknowledge(&self) -> Option<&GateAlert> {
        self.alerts.iter().find(|a| a.acknowledged.is_none())
    }

    /// The open alert at `gate`, if any (an unacknowledged one first).
    pub fn alert_at(&self, gate: &str) -> Option<&GateAlert> {
        self.alerts
            .iter()
            .filter(|a| a.gate == gate)
            .min_by_key(|a| a.acknowledged.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(second: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0)
            .single()
            .expect("a time")
            + Duration::seconds(second)
    }

    fn alert(n: u128, gate: &str, acknowledged: bool) -> GateAlert {
        GateAlert {
            id: Uuid::from_u128(n),
            gate: gate.to_owned(),
            kind: AlertKind::Silent,
            detail: format!("{gate} has let nobody in"),
            raised_at: at(n as i64),
            acknowledged: acknowledged.then(|| ("Dora Door".to_owned(), at(100))),
        }
    }

    #[test]
    fn every_alert_kind_reads_back_from_its_word() {
        assert_eq!(
            crate::desks::words::round_trip::<AlertKind>(),
            ["silent", "refusals"]
        );
    }

    #[test]
    fn the_gates_are_read_on_an_alert_and_every_few_seconds_in_front_one_at_a_time() {
        let mut watch = GateWatch::default();
        watch.tick(at(0), false);
        assert!(!watch.take_read(at(0)), "not in front: nothing due");
        watch.tick(at(0), true);
        assert!(watch.take_read(at(0)));
        watch.hear(&Hint::row("gate_alerts", Uuid::nil(), Uuid::nil()));
        assert!(!watch.take_read(at(1)), "one read out at a time");
        watch.read(Vec::new(), Vec::new());
        assert!(
            watch.take_read(at(1)),
            "the alert's hint is read when the first answers"
        );
        watch.read(Vec::new(), Vec::new());
        watch.tick(at(4), true);
        assert!(!watch.take_read(at(4)), "not due yet");
        watch.tick(at(6), true);
        assert!(watch.take_read(at(6)));
        watch.hear(&Hint::row("sessions", Uuid::nil(), Uuid::nil()));
        watch.failed();
        assert!(
            !watch.take_read(at(7)),
            "other tables' hints are not the gates'"
        );
    }

    #[test]
    fn a_acknowledges_the_oldest_alert_nobody_has_seen() {
        let mut watch = GateWatch::default();
        watch.read(
            Vec::new(),
            vec![
                alert(1, "Gate 1", true),
                alert(2, "Gate 2", false),
                alert(3, "Gate 3", false),
            ],
        );
        assert_eq!(
            watch.to_acknowledge().map(|a| a.gate.as_str()),
            Some("Gate 2")
        );
        assert!(watch.alert_at("Gate 1").is_some());
        assert!(watch.alert_at("Gate 9").is_none());
        watch.read(Vec::new(), vec![alert(1, "Gate 1", true)]);
        assert_eq!(watch.to_acknowledge(), None);
    }
}

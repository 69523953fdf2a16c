//! The Check-ins desk's SQL. Everything runs as the operator, under their row security.

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use deadpool_postgres::ClientWrapper;
use serde::Deserialize;
use tokio_postgres::Client;
use uuid::Uuid;

use super::gates::{AlertKind, GateAlert, GateRow};
use super::model::{
    AttendeeHit, AttendeeStatus, BatchView, CheckinRow, GateStat, Problem, Refusal, SEARCH_SHOWN,
    ScanOutcome, Summary,
};
use crate::db::listen::XidRange;
use crate::desks::words::ColumnWords;
use crate::desks::{clean, clean_opt, storable};

/// Feed rows kept on screen at most (newest first).
pub const FEED_LIMIT: i64 = 200;

const CHECKIN_COLUMNS: &str = "c.id, c.attendee_id, btrim(a.first_name || ' ' || a.last_name),
       tt.name, c.gate, c.check_in_method, s.title, c.check_in_time, c.check_out_time";

fn checkin_row(row: &tokio_postgres::Row) -> CheckinRow {
    CheckinRow {
        id: row.get(0),
        attendee_id: row.get(1),
        name: clean(row.get(2)),
        ticket_type: clean_opt(row.get(3)),
        gate: clean_opt(row.get(4)),
        method: row.get(5),
        session: clean_opt(row.get(6)),
        at: row.get(7),
        out_at: row.get(8),
    }
}

const PROBLEM_COLUMNS: &str = "r.id, r.scanned_at, r.gate, r.reason_code, r.reason, r.code,
       first.gate, first.check_in_time, btrim(a.first_name || ' ' || a.last_name)";

fn problem_row(row: &tokio_postgres::Row) -> Result<Problem> {
    Ok(Problem {
        id: row.get(0),
        at: row.get(1),
        gate: clean_opt(row.get(2)),
        reason_code: Refusal::get(row, 3)?,
        reason: clean(row.get(4)),
        code: clean(row.get(5)),
        first_gate: clean_opt(row.get(6)),
        first_at: row.get(7),
        name: clean_opt(row.get(8)),
    })
}

/// The newest entries, or only those written in `range` (a realtime batch).
pub async fn checkins(
    client: &ClientWrapper,
    event: Uuid,
    range: Option<&XidRange>,
) -> Result<Vec<CheckinRow>> {
    let sql = format!(
        "SELECT {CHECKIN_COLUMNS}
           FROM event_checkins c
           JOIN attendees a ON a.id = c.attendee_id
           LEFT JOIN tickets t ON t.id = c.ticket_id
           LEFT JOIN ticket_types tt ON tt.id = t.ticket_type_id
           LEFT JOIN sessions s ON s.id = c.session_id
          WHERE c.event_id = $1
            AND ($2::text IS NULL
                 OR (c.change_xid >= $2::text::xid8 AND c.change_xid < $3::text::xid8)
                 OR c.change_xid = ANY ($4::text[]::xid8[]))
          ORDER BY c.check_in_time DESC
          LIMIT {FEED_LIMIT}"
    );
    let (from, to, late) = bounds(range);
    let statement = client
        .prepare_cached(&sql)
        .await
        .context("cannot read check-ins")?;
    let rows = client
        .query(&statement, &[&event, &from, &to, &late])
        .await
        .context("cannot read check-ins")?;
    Ok(rows.iter().map(checkin_row).collect())
}

/// The newest refused scans, or only those written in `range`. Without a range, the newest of each
/// kind: duplicates (someone already inside, often one stuck scanner repeating) and everything else
/// (void, refunded, unknown...), so a burst of the one cannot push the other out of view.
pub async fn problems(
    client: &ClientWrapper,
    event: Uuid,
    range: Option<&XidRange>,
) -> Result<Vec<Problem>> {
    if range.is_none() {
        let duplicate = Refusal::AlreadyCheckedIn.as_str();
        let newest = |kind: &str| {
            format!(
                "(SELECT {PROBLEM_COLUMNS}
                    FROM refused_scans r
                    LEFT JOIN event_checkins first ON first.id = r.conflicting_checkin_id
                    LEFT JOIN attendees a ON a.id = r.attendee_id
                   WHERE r.event_id = $1 AND r.reason_code {kind} '{duplicate}'
                   ORDER BY r.scanned_at DESC
                   LIMIT {FEED_LIMIT})"
            )
        };
        let sql = format!("{} UNION ALL {} ORDER BY 2 DESC", newest("<>"), newest("="));
        let statement = client
            .prepare_cached(&sql)
            .await
            .context("cannot read refused scans")?;
        let rows = client
            .query(&statement, &[&event])
            .await
            .context("cannot read refused scans")?;
        return rows
            .iter()
            .map(problem_row)
            .collect::<Result<_>>()
            .context("cannot read refused scans");
    }
    let sql = format!(
        "SELECT {PROBLEM_COLUMNS}
           FROM refused_scans r
           LEFT JOIN event_checkins first ON first.id = r.conflicting_checkin_id
           LEFT JOIN attendees a ON a.id = r.attendee_id
          WHERE r.event_id = $1
            AND ($2::text IS NULL
                 OR (r.change_xid >= $2::text::xid8 AND r.change_xid < $3::text::xid8)
                 OR r.change_xid = ANY ($4::text[]::xid8[]))
          ORDER BY r.scanned_at DESC
          LIMIT {FEED_LIMIT}"
    );
    let (from, to, late) = bounds(range);
    let statement = client
        .prepare_cached(&sql)
        .await
        .context("cannot read refused scans")?;
    let rows = client
        .query(&statement, &[&event, &from, &to, &late])
        .await
        .context("cannot read refused scans")?;
    rows.iter()
        .map(problem_row)
        .collect::<Result<_>>()
        .context("cannot read refused scans")
}

fn bounds(range: Option<&XidRange>) -> (Option<String>, Option<String>, Vec<String>) {
    match range {
        Some(r) => (
            Some(r.from.to_string()),
            Some(r.to.to_string()),
            r.late_text(),
        ),
        None => (None, None, Vec::new()),
    }
}

/// The desk's numbers, from the totals the flusher keeps (V9): a few index reads at any size, so they
/// are read with every batch and move with the feed.
pub async fn summary(client: &ClientWrapper, event: Uuid) -> Result<Summary> {
    let statement = client
        .prepare_cached(
            "SELECT expected, checked_in, present, gate_names, gate_totals, gate_recent, arrivals,
                    problems_15_min, as_of, as_of_batch
               FROM checkin_summary($1)",
        )
        .await
        .context("cannot read the check-in totals")?;
    let row = client
        .query_one(&statement, &[&event])
        .await
        .context("cannot read the check-in totals")?;
    Ok(summary_row(&row, 0, row.get(9)))
}

/// The totals' columns from `first` on, in checkin_summary()'s order.
fn summary_row(row: &tokio_postgres::Row, first: usize, batch: Option<i64>) -> Summary {
    Summary {
        expected: row.get(first),
        checked_in: row.get(first + 1),
        present: row.get(first + 2),
        gates: gate_stats(row.get(first + 3), row.get(first + 4), row.get(first + 5)),
        arrivals_per_minute: arrivals(row.get(first + 6)),
        problems_15_min: row.get(first + 7),
        as_of: row.get::<_, DateTime<Utc>>(first + 8),
        batch,
    }
}

fn gate_stats(names: Vec<String>, totals: Vec<i64>, recent: Vec<i64>) -> Vec<GateStat> {
    names
        .into_iter()
        .zip(totals)
        .zip(recent)
        .map(|((gate, total), last_5_min)| GateStat {
            gate,
            total,
            last_5_min,
        })
        .collect()
}

fn arrivals(per_minute: Vec<i64>) -> Vec<u64> {
    per_minute.into_iter().map(|n| n.max(0) as u64).collect()
}

/// A feed row as the flusher writes it into a view (realtime_flush(), V11).
#[derive(Debug, Deserialize)]
struct ViewCheckin {
    id: Uuid,
    attendee_id: Uuid,
    name: Option<String>,
    ticket_type: Option<String>,
    gate: Option<String>,
    method: Option<String>,
    session: Option<String>,
    at: DateTime<Utc>,
    out_at: Option<DateTime<Utc>>,
}

impl From<ViewCheckin> for CheckinRow {
    fn from(c: ViewCheckin) -> CheckinRow {
        CheckinRow {
            id: c.id,
            attendee_id: c.attendee_id,
            name: clean(c.name.as_deref().unwrap_or_default()),
            ticket_type: clean_opt(c.ticket_type),
            gate: clean_opt(c.gate),
            method: c.method,
            session: clean_opt(c.session),
            at: c.at,
            out_at: c.out_at,
        }
    }
}

#[derive(Debug, Deserialize)]
struct ViewProblem {
    id: i64,
    at: DateTime<Utc>,
    gate: Option<String>,
    reason_code: Refusal,
    reason: Option<String>,
    code: Option<String>,
    first_gate: Option<String>,
    first_at: Option<DateTime<Utc>>,
    name: Option<String>,
}

impl From<ViewProblem> for Problem {
    fn from(p: ViewProblem) -> Problem {
        Problem {
            id: p.id,
            at: p.at,
            gate: clean_opt(p.gate),
            reason_code: p.reason_code,
            reason: clean(p.reason.as_deref().unwrap_or_default()),
            code: clean(p.code.as_deref().unwrap_or_default()),
            first_gate: clean_opt(p.first_gate),
            first_at: p.first_at,
            name: clean_opt(p.name),
        }
    }
}

/// One part of a batch pushed on the event's feed channel (V13's realtime_push()): `p` is its place
/// and how many there are; the first part carries the totals (`head`), every part some rows, each an
/// array of its values.
#[derive(Debug, Deserialize)]
struct PushedPart {
    v: u32,
    p: (usize, usize),
    batch: i64,
    #[serde(flatten)]
    head: Option<PushedHead>,
    c: Vec<PushedCheckin>,
    r: Vec<PushedProblem>,
}

#[derive(Debug, Deserialize)]
struct PushedHead {
    event_id: Uuid,
    expected: i64,
    checked_in: i64,
    present: i64,
    gate_names: Vec<String>,
    gate_totals: Vec<i64>,
    gate_recent: Vec<i64>,
    arrivals: Vec<i64>,
    problems_15_min: i64,
    as_of: DateTime<Utc>,
    sessions: Vec<Uuid>,
}

/// A feed row's values in the order realtime_push() writes them.
#[derive(Debug, Deserialize)]
struct PushedCheckin(
    Uuid,
    Uuid,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

impl From<PushedCheckin> for CheckinRow {
    fn from(c: PushedCheckin) -> CheckinRow {
        CheckinRow::from(ViewCheckin {
            id: c.0,
            attendee_id: c.1,
            name: c.2,
            ticket_type: c.3,
            gate: c.4,
            method: c.5,
            session: c.6,
            at: c.7,
            out_at: c.8,
        })
    }
}

/// A refused scan's values in the order realtime_push() writes them.
#[derive(Debug, Deserialize)]
struct PushedProblem(
    i64,
    DateTime<Utc>,
    Option<String>,
    Refusal,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<String>,
);

impl From<PushedProblem> for Problem {
    fn from(p: PushedProblem) -> Problem {
        Problem::from(ViewProblem {
            id: p.0,
            at: p.1,
            gate: p.2,
            reason_code: p.3,
            reason: p.4,
            code: p.5,
            first_gate: p.6,
            first_at: p.7,
            name: p.8,
        })
    }
}

/// Batches not yet whole: kept for a few batches at most (all parts of one batch arrive together, in
/// one commit's notifications, so a batch left incomplete is one whose parts were cut off, and its hint
/// has it read by number).
const PARTIAL_KEPT: usize = 4;

/// Puts pushed batches together from their parts, in the order they are heard.
#[derive(Debug, Default)]
pub struct PushedParts {
    partial: Vec<(i64, Vec<Option<PushedPart>>)>,
}

impl PushedParts {
    /// One notification heard on the feed channel: the batch it completes, if it does.
    pub fn take(&mut self, payload: &str) -> Result<Option<BatchView>> {
        let part: PushedPart =
            serde_json::from_str(payload).context("a pushed batch is not as expected")?;
        let (place, count) = part.p;
        if part.v != 2 || count == 0 || place == 0 || place > count || count > 64 {
            anyhow::bail!(
                "a pushed batch is not as expected (version {}, part {place} of {count})",
                part.v
            );
        }
        let batch = part.batch;
        let at = match self.partial.iter().position(|(b, _)| *b == batch) {
            Some(at) => at,
            None => {
                if self.partial.len() >= PARTIAL_KEPT {
                    self.partial.remove(0);
                }
                self.partial
                    .push((batch, (0..count).map(|_| None).collect()));
                self.partial.len() - 1
            }
        };
        let parts = &mut self.partial[at].1;
        if parts.len() != count {
            anyhow::bail!("batch {batch}'s parts disagree on how many there are");
        }
        parts[place - 1] = Some(part);
        if parts.iter().any(Option::is_none) {
            return Ok(None);
        }
        let (_, parts) = self.partial.remove(at);
        assemble(batch, parts.into_iter().flatten()).map(Some)
    }
}

fn assemble(batch: i64, parts: impl Iterator<Item = PushedPart>) -> Result<BatchView> {
    let mut head = None;
    let mut checkins = Vec::new();
    let mut problems = Vec::new();
    for part in parts {
        if part.p.0 == 1 {
            head = part.head;
        }
        checkins.extend(part.c.into_iter().map(CheckinRow::from));
        problems.extend(part.r.into_iter().map(Problem::from));
    }
    let v = head.with_context(|| format!("batch {batch}'s first part has no totals"))?;
    Ok(BatchView {
        event: v.event_id,
        batch,
        summary: Summary {
            expected: v.expected,
            checked_in: v.checked_in,
            present: v.present,
            gates: gate_stats(v.gate_names, v.gate_totals, v.gate_recent),
            arrivals_per_minute: arrivals(v.arrivals),
            problems_15_min: v.problems_15_min,
            as_of: v.as_of,
            batch: Some(batch),
        },
        checkins,
        problems,
        sessions: v.sessions,
    })
}

/// The views of `batches` that are still there, oldest first. Fewer than asked (made by an older
/// flusher, dropped after a minute, or an operator outside the event's team): read the ranges instead.
pub async fn batch_views(
    client: &ClientWrapper,
    event: Uuid,
    batches: &[i64],
) -> Result<Vec<BatchView>> {
    let statement = client
        .prepare_cached(
            "SELECT expected, checked_in, present, gate_names, gate_totals, gate_recent, arrivals,
                    problems_15_min, as_of, batch, checkins, problems, sessions
               FROM realtime_batch_views($1, $2)",
        )
        .await
        .context("cannot read the realtime batches")?;
    let rows = client
        .query(&statement, &[&event, &batches])
        .await
        .context("cannot read the realtime batches")?;
    rows.iter()
        .map(|row| {
            let batch: i64 = row.get(9);
            let checkins: Vec<ViewCheckin> = serde_json::from_value(row.get(10))
                .with_context(|| format!("batch {batch}'s check-ins are not as expected"))?;
            let problems: Vec<ViewProblem> = serde_json::from_value(row.get(11))
                .with_context(|| format!("batch {batch}'s refused scans are not as expected"))?;
            Ok(BatchView {
                event,
                batch,
                summary: summary_row(row, 0, Some(batch)),
                checkins: checkins.into_iter().map(CheckinRow::from).collect(),
                problems: problems.into_iter().map(Problem::from).collect(),
                sessions: row.get(12),
            })
        })
        .collect()
}

/// Every gate of the event with its numbers over the event's window, and the open alerts (V15): what
/// the gate watch shows, read from the rows the flusher and the sweep keep.
pub async fn gates(client: &ClientWrapper, event: Uuid) -> Result<(Vec<GateRow>, Vec<GateAlert>)> {
    let rows = client
        .query(
            "SELECT gate, entries, last_at, window_entries, window_refusals, refusal_percent,
                    window_minutes, silent_minutes
               FROM gate_watch($1)",
            &[&event],
        )
        .await
        .context("cannot read the gates")?;
    let alerts = client
        .query(
            "SELECT a.id, a.gate, a.kind, a.detail, a.raised_at,
                    CASE WHEN a.acknowledged_at IS NOT NULL THEN profile_name(a.acknowledged_by) END,
                    a.acknowledged_at
               FROM gate_alerts a
              WHERE a.event_id = $1 AND a.cleared_at IS NULL
              ORDER BY a.raised_at, a.gate",
            &[&event],
        )
        .await
        .context("cannot read the gate alerts")?;
    let rows = rows
        .iter()
        .map(|r| GateRow {
            gate: clean(r.get(0)),
            entries: r.get(1),
            last_at: r.get(2),
            window_entries: r.get(3),
            window_refusals: r.get(4),
            refusal_percent: r.get(5),
            window_minutes: r.get(6),
            silent_minutes: r.get(7),
        })
        .collect();
    let alerts = alerts
        .iter()
        .map(|r| {
            Ok(GateAlert {
                id: r.get(0),
                gate: clean(r.get(1)),
                kind: AlertKind::get(r, 2)?,
                detail: clean(r.get(3)),
                raised_at: r.get(4),
                acknowledged: r
                    .get::<_, Option<String>>(5)
                    .zip(r.get::<_, Option<DateTime<Utc>>>(6))
                    .map(|(name, at)| (clean(&name), at)),
            })
        })
        .collect::<Result<_>>()
        .context("cannot read the gate alerts")?;
    Ok((rows, alerts))
}

/// Acknowledges a gate alert through the SQL API (audited there).
pub async fn acknowledge(client: &Client, alert: Uuid) -> Result<()> {
    client
        .query_one("SELECT id FROM acknowledge_gate_alert($1)", &[&alert])
        .await
        .context("cannot acknowledge the alert")?;
    Ok(())
}

/// A scanned code, checked in at `gate` through the SQL API. A refusal is an answer, not an error.
pub async fn scan(client: &Client, event: Uuid, code: &str, gate: &str) -> Result<ScanOutcome> {
    storable(code, "the code", "nothing was checked in or recorded")?;
    storable(gate, "this console's gate name", "nothing was checked in")?;
    let row = client
        .query_one(
            "SELECT accepted, reason_code, message, attendee_name, ticket_type, checked_in_at
               FROM check_in_by_code($1, $2, $3, 'qr_code')",
            &[&event, &code, &gate],
        )
        .await
        .context("cannot check in")?;
    Ok(outcome(&row, code))
}

/// A checkin_result row as the scan box shows it.
fn outcome(row: &tokio_postgres::Row, code: &str) -> ScanOutcome {
    ScanOutcome {
        code: clean(code),
        accepted: row.get(0),
        reason_code: row.get(1),
        message: clean_opt(row.get(2)),
        name: clean_opt(row.get(3)),
        ticket_type: clean_opt(row.get(4)),
        at: row.get(5),
    }
}

/// A manual check-in of a found attendee.
pub async fn check_in(client: &Client, attendee: Uuid, gate: &str) -> Result<ScanOutcome> {
    storable(gate, "this console's gate name", "nothing was checked in")?;
    let row = client
        .query_one(
            "SELECT accepted, reason_code, message, attendee_name, ticket_type, checked_in_at
               FROM check_in_attendee($1, $2)",
            &[&attendee, &gate],
        )
        .await
        .context("cannot check in")?;
    Ok(outcome(&row, ""))
}

/// Checks an attendee out of the event.
pub async fn check_out(client: &Client, attendee: Uuid) -> Result<()> {
    client
        .query_one("SELECT id FROM check_out($1)", &[&attendee])
        .await
        .context("cannot check out")?;
    Ok(())
}

/// Attendees by name, email or ticket code (case-insensitive), with whether they are inside now.
pub async fn search(client: &Client, event: Uuid, query: &str) -> Result<Vec<AttendeeHit>> {
    storable(query, "the search", "nobody was looked up")?;
    let pattern = format!(
        "%{}%",
        query
            .trim()
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let rows = client
        .query(
            "SELECT a.id, btrim(a.first_name || ' ' || a.last_name), a.email, a.status::text,
                    (SELECT string_agg(t.code || CASE WHEN t.status <> 'valid' THEN ' (' || t.status || ')' ELSE '' END, ', ')
                       FROM tickets t WHERE t.attendee_id = a.id),
                    EXISTS (SELECT 1 FROM event_checkins c
                             WHERE c.attendee_id = a.id AND c.session_id IS NULL AND c.is_present)
               FROM attendees a
              WHERE a.event_id = $1 AND a.deleted_at IS NULL
                AND (lower(a.first_name || ' ' || a.last_name) LIKE $2
                     OR lower(a.email) LIKE $2
                     OR EXISTS (SELECT 1 FROM tickets t WHERE t.attendee_id = a.id AND lower(t.code) = lower($3)))
              ORDER BY lower(a.last_name), lower(a.first_name)
              LIMIT $4",
            &[&event, &pattern, &query.trim(), &(SEARCH_SHOWN as i64 + 1)],
        )
        .await
        .context("cannot search attendees")?;
    rows.iter()
        .map(|row| {
            Ok(AttendeeHit {
                id: row.get(0),
                name: clean(row.get(1)),
                email: clean(row.get(2)),
                status: AttendeeStatus::get(row, 3)?,
                tickets: clean(&row.get::<_, Option<String>>(4).unwrap_or_default()),
                inside: row.get(5),
            })
        })
        .collect::<Result<_>>()
        .context("cannot search attendees")
}

/// Sessions whose presence moved with the entries written in `range`.
pub async fn sessions_touched(
    client: &ClientWrapper,
    event: Uuid,
    range: &XidRange,
) -> Result<Vec<Uuid>> {
    let (from, to, late) = bounds(Some(range));
    let statement = client
        .prepare_cached(
            "SELECT DISTINCT session_id FROM event_checkins
              WHERE event_id = $1 AND session_id IS NOT NULL
                AND ((change_xid >= $2::text::xid8 AND change_xid < $3::text::xid8)
                     OR change_xid = ANY ($4::text[]::xid8[]))",
        )
        .await
        .context("cannot read the sessions behind the check-ins")?;
    let rows = client
        .query(&statement, &[&event, &from, &to, &late])
        .await
        .context("cannot read the sessions behind the check-ins")?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

#[cfg(test)]
mod tests {
    use super::PushedParts;

    fn head(batch: i64) -> String {
        format!(
            r#""event_id":"00000000-0000-0000-0000-000000000001","batch":{batch},"expected":10,
               "checked_in":3,"present":2,"gate_names":["North"],"gate_totals":[3],"gate_recent":[1],
               "arrivals":[1,2],"problems_15_min":1,"as_of":"2026-12-07T09:00:00Z","sessions":[]"#
        )
    }

    fn entry(n: u32) -> String {
        format!(
            r#"["00000000-0000-0000-0000-0000000000{n:02}","00000000-0000-0000-0000-0000000001{n:02}",
                "Guest {n}","VIP","North","qr_code",null,"2026-12-07T09:00:{n:02}Z",null]"#
        )
    }

    #[test]
    fn parts_make_a_batch_when_the_last_arrives_whatever_else_comes_between() {
        let mut parts = PushedParts::default();
        let first = format!(
            r#"{{"v":2,"p":[1,2],{},"c":[{}],"r":[]}}"#,
            head(7),
            entry(1)
        );
        let other = format!(
            r#"{{"v":2,"p":[1,1],{},"c":[{}],"r":[]}}"#,
            head(8),
            entry(3)
        );
        let second = format!(
            r#"{{"v":2,"p":[2,2],"batch":7,"c":[{}],"r":[[5,"2026-12-07T09:00:05Z","East","unknown_code","unknown ticket code","NOPE",null,null,null]]}}"#,
            entry(2)
        );
        assert_eq!(parts.take(&first).expect("reads"), None);
        let eight = parts.take(&other).expect("reads").expect("whole");
        assert_eq!(eight.batch, 8);
        let seven = parts.take(&second).expect("reads").expect("whole");
        assert_eq!(seven.batch, 7);
        assert_eq!(seven.summary.checked_in, 3);
        assert_eq!(seven.summary.batch, Some(7));
        let names: Vec<&str> = seven.checkins.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["Guest 1", "Guest 2"]);
        assert_eq!(seven.problems[0].code, "NOPE");
        assert!(parts.partial.is_empty(), "nothing left waiting");
    }

    #[test]
    fn a_malformed_part_is_refused_in_a_sentence_and_forgets_nothing() {
        let mut parts = PushedParts::default();
        let first = format!(r#"{{"v":2,"p":[1,2],{},"c":[],"r":[]}}"#, head(9));
        assert_eq!(parts.take(&first).expect("reads"), None);
        for bad in [
            r#"{"v":3,"p":[2,2],"batch":9,"c":[],"r":[]}"#,
            r#"{"v":2,"p":[3,2],"batch":9,"c":[],"r":[]}"#,
            r#"{"v":2,"p":[0,2],"batch":9,"c":[],"r":[]}"#,
            r#"{"v":2,"p":[2,3],"batch":9,"c":[],"r":[]}"#,
            r#"{"v":2,"p":[2,2],"batch":9,"c":[["not a row"]],"r":[]}"#,
            "not json",
        ] {
            let err = parts.take(bad).expect_err(bad);
            assert!(format!("{err:#}").contains("batch"), "{err:#}");
        }
        // The first part still waits, and a second part without totals in the first fails plainly.
        let second = r#"{"v":2,"p":[2,2],"batch":9,"c":[],"r":[]}"#;
        assert!(parts.take(second).expect("reads").is_some());
        let headless = r#"{"v":2,"p":[1,1],"batch":10,"c":[],"r":[]}"#;
        let err = parts.take(headless).expect_err("no totals");
        assert!(format!("{err:#}").contains("no totals"), "{err:#}");
    }

    #[test]
    fn incomplete_batches_are_forgotten_after_a_few() {
        let mut parts = PushedParts::default();
        for batch in 0..10 {
            let first = format!(r#"{{"v":2,"p":[1,2],{},"c":[],"r":[]}}"#, head(batch));
            assert_eq!(parts.take(&first).expect("reads"), None);
        }
        assert_eq!(parts.partial.len(), super::PARTIAL_KEPT);
    }
}

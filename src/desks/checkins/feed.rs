//! What the Check-ins desk hears and reads as doors scan: the transaction ranges and batches heard,
//! batches already pushed whole, when the totals were last read and how long they took.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};

use super::commands::{CheckinChanges, Cmd};
use super::model::{BatchView, CheckinsDesk, Summary};
use crate::db::listen::{Hint, XidRange};
use crate::desks::Context;
use crate::desks::desk::Outcome;

/// A reading of the check-in totals that cannot be timed counts as this slow.
const SUMMARY_UNTIMED: Duration = Duration::seconds(1);
/// Batches read by number in one call at most; more waiting (a console that fell behind) are read by
/// their ranges.
const BATCHES_BY_NUMBER: usize = 64;
/// Pushed batches remembered until their hints come (right after them, in the same delivery).
const PUSHED_KEPT: usize = 256;

/// Hints heard since the last fetch, coalesced: one fetch per frame, none while one is out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Feed {
    pub checkins: Option<XidRange>,
    pub problems: Option<XidRange>,
    /// The batches those ranges are, by number, while every hint named one.
    pub batches: BTreeSet<i64>,
    /// A range came without a batch number (a flusher before V11): the ranges are read.
    pub unbatched: bool,
    /// Batches already shown as pushed on the feed channel (their hints ask for nothing), the newest.
    pub pushed: BTreeSet<i64>,
    /// Totals only (attendees or tickets changed, or the minute turned).
    pub summary: bool,
    pub in_flight: bool,
    /// When the totals were last asked for, and how long they took to read.
    pub summary_at: Option<DateTime<Utc>>,
    pub summary_took: Duration,
}

impl Feed {
    pub fn hear(&mut self, hint: &Hint) {
        match hint.table.as_str() {
            "event_checkins" | "refused_scans" => {
                if hint.batch.is_some_and(|b| self.pushed.contains(&b)) {
                    // Already shown, pushed on the feed channel just before this hint.
                    return;
                }
                if let Some(range) = hint.xid_range() {
                    let pending = if hint.table == "event_checkins" {
                        &mut self.checkins
                    } else {
                        &mut self.problems
                    };
                    *pending = Some(match pending.take() {
                        Some(r) => r.merge(range),
                        None => range,
                    });
                    match hint.batch {
                        Some(batch) => {
                            self.batches.insert(batch);
                        }
                        None => self.unbatched = true,
                    }
                }
                self.summary = true;
            }
            "attendees" | "tickets" => self.summary = true,
            _ => {}
        }
    }

    /// The read the hints call for, if none is out.
    pub fn fetch(&mut self, ctx: &Context) -> Option<Cmd> {
        if self.in_flight {
            return None;
        }
        // The totals are kept by the flusher (V9): a few index reads, so they come with every batch.
        // Still never more than a quarter of the time, should a server be slow to answer.
        let spacing = self.summary_took * 4;
        let by_number =
            !self.unbatched && !self.batches.is_empty() && self.batches.len() <= BATCHES_BY_NUMBER;
        let summary_due =
            by_number || (self.summary && self.summary_at.is_none_or(|at| ctx.now - at >= spacing));
        if self.checkins.is_none() && self.problems.is_none() && !summary_due {
            return None;
        }
        let batches = std::mem::take(&mut self.batches);
        self.unbatched = false;
        if summary_due {
            self.summary = false;
            self.summary_at = Some(ctx.now);
        }
        self.in_flight = true;
        Some(Cmd::Changes {
            generation: ctx.generation,
            checkins: self.checkins.take(),
            problems: self.problems.take(),
            batches: if by_number {
                batches.into_iter().collect()
            } else {
                Vec::new()
            },
            summary: summary_due,
        })
    }

    /// A resync or a lost link: nothing pending, nothing out; how slow the totals are stays known.
    pub fn forget(&mut self) {
        *self = Feed {
            summary_at: self.summary_at,
            summary_took: self.summary_took,
            ..Feed::default()
        };
    }

    /// Nothing older than a pushed batch is still to come from this desk's own reads.
    fn in_order(&self) -> bool {
        !self.in_flight && self.checkins.is_none() && self.problems.is_none()
    }
}

/// Changes read (or pushed): merged, the totals kept unless older than those shown, the sessions whose
/// presence moved passed on to the other desks.
pub fn apply(
    desk: &mut CheckinsDesk,
    changes: CheckinChanges,
    ctx: &Context,
) -> Outcome<CheckinsDesk> {
    if let Some(summary) = changes.summary
        && !older_than_shown(&summary, desk.summary.as_ref())
    {
        desk.summary = Some(summary);
    }
    if let Some(took) = changes.summary_took {
        desk.fetch.summary_took = Duration::from_std(took).unwrap_or(SUMMARY_UNTIMED);
    }
    desk.merge_checkins(changes.checkins);
    desk.merge_problems(changes.problems);
    Outcome {
        hints: changes
            .sessions_touched
            .into_iter()
            .map(|id| Hint::row("sessions", ctx.event, id))
            .collect(),
        ..Outcome::nothing()
    }
}

/// A batch pushed whole on the feed channel: shown at once, and its hint then asks for nothing. Taken
/// only when nothing older is still to come (`in_order`: no snapshot out and the link live; and no
/// read of this desk out or waiting): merged before them, an entry could go back to an older state.
/// Otherwise it is dropped and its hint fetches it.
pub fn pushed(
    desk: &mut CheckinsDesk,
    view: BatchView,
    in_order: bool,
    ctx: &Context,
) -> Outcome<CheckinsDesk> {
    if view.event != ctx.event || !in_order || !desk.fetch.in_order() {
        return Outcome::nothing();
    }
    let feed = &mut desk.fetch;
    feed.pushed.insert(view.batch);
    while feed.pushed.len() > PUSHED_KEPT {
        feed.pushed.pop_first();
    }
    apply(
        desk,
        CheckinChanges {
            summary: Some(view.summary),
            summary_took: None,
            checkins: view.checkins,
            problems: view.problems,
            sessions_touched: view.sessions,
        },
        ctx,
    )
}

/// Totals from an older batch than those on screen (a batch's view read after a fresher direct read)
/// would move the numbers back: they are dropped.
fn older_than_shown(summary: &Summary, shown: Option<&Summary>) -> bool {
    match (summary.batch, shown.and_then(|s| s.batch)) {
        (Some(new), Some(old)) => new < old,
        _ => false,
    }
}

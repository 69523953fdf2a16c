//! What one gate sees, as a plan: when each scan happens and whose it is, a pure function of the crowd,
//! the rate and a seed, so that a test can look at hours of a day in milliseconds.
//!
//! The shape is a doors-open: a rush that starts at the peak rate and decays exponentially (it brings in
//! three quarters of the people still expected, so after some twenty minutes at the demo's rate most of
//! them are in), then a floor of a tenth of the peak for as long as the simulator runs: the late
//! arrivals (spread over three hours), people stepping out and coming back 5 to 45 minutes later, and
//! a few percent of problems. A tenth of those expected never come (no-shows), so the doors never run
//! out of people and never turn into refusals only.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The share of scans that are problems: someone scanned twice, a void or refunded ticket or a
/// cancelled attendee's, a code nobody issued, scanner garbage.
pub const PROBLEM_SHARE: f64 = 0.04;
/// Of those expected when the plan starts: who comes in the rush, and who never comes.
pub const RUSH_SHARE: f64 = 0.75;
pub const NO_SHOW_SHARE: f64 = 0.10;
/// The late arrivals spread over this many seconds.
const LATE_SPAN: f64 = 3.0 * 3600.0;
/// Someone who steps out is away this long on average (at least 5 minutes).
const AWAY_MEAN: f64 = 20.0 * 60.0;
const AWAY_MIN: f64 = 5.0 * 60.0;

/// Who a gate serves. People are numbered: 0..present are inside when the plan starts,
/// present..present + due are expected; `bad` codes are refused whenever they are scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crowd {
    pub present: usize,
    pub due: usize,
    pub bad: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateEvent {
    /// Person i's first entry.
    Arrive(usize),
    /// Person i comes back in after stepping out.
    Return(usize),
    /// Person i steps out (a check-out, not a scan).
    Leave(usize),
    /// Person i, inside, is scanned again.
    Duplicate(usize),
    /// Bad code j.
    BadTicket(usize),
    /// A code nobody issued (its number).
    Unknown(u64),
    /// A scanner's garbage.
    Garbage,
}

impl GateEvent {
    pub fn is_scan(self) -> bool {
        !matches!(self, GateEvent::Leave(_))
    }

    pub fn is_problem(self) -> bool {
        matches!(
            self,
            GateEvent::Duplicate(_)
                | GateEvent::BadTicket(_)
                | GateEvent::Unknown(_)
                | GateEvent::Garbage
        )
    }
}

/// A small, seedable generator (splitmix64): the simulator needs variety, not cryptography.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn bits(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// In [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.bits() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.bits() % n.max(1) as u64) as usize
    }
    /// An exponential variate with mean 1.
    pub fn exp(&mut self) -> f64 {
        -(1.0 - self.unit()).ln()
    }
}

/// One gate's plan. `next_event()` gives the next event and the second (since the plan started) it falls on.
#[derive(Debug, Clone)]
pub struct DoorsPlan {
    rng: Rng,
    /// The rush's height at the start (events a second) and its time constant (seconds).
    rush: f64,
    tau: f64,
    /// Events a second once the rush is over.
    floor: f64,
    /// Late arrivals a second (part of the floor).
    late_rate: f64,
    t: f64,
    next_due: usize,
    rush_end: usize,
    late_end: usize,
    bad: usize,
    inside: Vec<usize>,
    away: BinaryHeap<Reverse<(u64, usize)>>,
}

impl DoorsPlan {
    /// `peak`: this gate's events a second at the start; `rush`: false for a steady rate (no rush,
    /// everyone expected arrives late).
    pub fn new(crowd: Crowd, peak: f64, rush: bool, seed: u64) -> DoorsPlan {
        let coming = ((crowd.due as f64) * (1.0 - NO_SHOW_SHARE)).round() as usize;
        let rushing = if rush {
            ((crowd.due as f64) * RUSH_SHARE).round() as usize
        } else {
            0
        }
        .min(coming);
        let floor = if rush { peak / 10.0 } else { peak };
        let height = (peak - floor).max(0.0);
        // The rush's integral, height * tau, less its problems, is the people it brings in.
        let tau = if height > 0.0 {
            (rushing as f64 / (height * (1.0 - PROBLEM_SHARE))).max(1.0)
        } else {
            1.0
        };
        let late = coming - rushing;
        DoorsPlan {
            rng: Rng::new(seed),
            rush: height,
            tau,
            floor,
            late_rate: (late as f64 / LATE_SPAN).min(floor * (1.0 - PROBLEM_SHARE)),
            t: 0.0,
            next_due: crowd.present,
            rush_end: crowd.present + rushing,
            late_end: crowd.present + coming,
            bad: crowd.bad,
            inside: (0..crowd.present).collect(),
            away: BinaryHeap::new(),
        }
    }

    /// The next event and its second.
    pub fn next_event(&mut self) -> (f64, GateEvent) {
        let rush = if self.next_due < self.rush_end {
            self.rush * (-self.t / self.tau).exp()
        } else {
            0.0
        };
        let total = (rush + self.floor).max(1e-6);
        self.t += self.rng.exp() / total;
        let event = if self.rng.unit() < PROBLEM_SHARE {
            self.problem()
        } else if self.rng.unit() * total < rush {
            self.arrive(true)
        } else {
            self.floor_event()
        };
        (self.t, event)
    }

    fn arrive(&mut self, rush: bool) -> GateEvent {
        let end = if rush { self.rush_end } else { self.late_end };
        if self.next_due < end {
            let i = self.next_due;
            self.next_due += 1;
            self.inside.push(i);
            GateEvent::Arrive(i)
        } else {
            self.floor_event()
        }
    }

    /// Late arrivals, then people coming back, else someone stepping out.
    fn floor_event(&mut self) -> GateEvent {
        let micros = (self.t * 1e6) as u64;
        if self.next_due >= self.rush_end
            && self.next_due < self.late_end
            && self.rng.unit() * self.floor < self.late_rate
        {
            return self.arrive(false);
        }
        if let Some(Reverse((at, i))) = self.away.peek().copied()
            && at <= micros
        {
            self.away.pop();
            self.inside.push(i);
            return GateEvent::Return(i);
        }
        if self.inside.is_empty() {
            return if self.next_due < self.late_end {
                self.arrive(false)
            } else {
                GateEvent::Unknown(self.rng.bits())
            };
        }
        let i = self.inside.swap_remove(self.rng.below(self.inside.len()));
        let away = AWAY_MIN + self.rng.exp() * (AWAY_MEAN - AWAY_MIN);
        self.away.push(Reverse((micros + (away * 1e6) as u64, i)));
        GateEvent::Leave(i)
    }

    fn problem(&mut self) -> GateEvent {
        let x = self.rng.unit();
        if x < 0.45 && !self.inside.is_empty() {
            GateEvent::Duplicate(self.inside[self.rng.below(self.inside.len())])
        } else if x < 0.70 && self.bad > 0 {
            GateEvent::BadTicket(self.rng.below(self.bad))
        } else if x < 0.95 {
            GateEvent::Unknown(self.rng.bits())
        } else {
            GateEvent::Garbage
        }
    }
}

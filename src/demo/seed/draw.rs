//! Deterministic randomness for the rows drawn on the client: the same (seed, what, row) gives the
//! same number, on every machine and in every pass.

use chrono::Duration;

/// A deterministic draw in [0, 1) from (seed, what, k), for the rows drawn on the client: SplitMix64's
/// finalizer over a name hashed once, so a million rows cost microseconds, not md5s.
#[derive(Debug, Clone, Copy)]
pub(super) struct Draw(u64);

impl Draw {
    pub(super) fn new(seed: i32, what: &str) -> Draw {
        // FNV-1a of the name.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in what.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        Draw(mix(h ^ mix(i64::from(seed) as u64)))
    }

    pub(super) fn bits(self, k: i64) -> u64 {
        mix(self.0 ^ k as u64)
    }

    pub(super) fn at(self, k: i64) -> f64 {
        (self.bits(k) >> 11) as f64 / (1u64 << 53) as f64
    }

    pub(super) fn pick<T>(self, k: i64, list: &[T]) -> &T {
        // at() < 1, so the index is always in range.
        &list[(self.at(k) * list.len() as f64) as usize]
    }
}

fn mix(z: u64) -> u64 {
    let mut z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `span` times a draw, to the microsecond.
pub(super) fn scaled(span: Duration, x: f64) -> Duration {
    Duration::microseconds((span.num_microseconds().unwrap_or(0) as f64 * x) as i64)
}

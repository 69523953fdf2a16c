//! When a session fills: from how fast its registrations and its door have moved over the last
//! `WINDOW_MINUTES`, the minutes until the fuller of seats and room reaches capacity, with a 90% range
//! for the rate (a count of arrivals is taken as Poisson). Too few arrivals give no forecast, and a
//! session not filling within `HORIZON_MINUTES` gets none either: an operator is told only what the
//! numbers can carry. Computed here only; the database gives the counts.

/// The window the rates are counted over (the store asks the database for exactly this).
pub const WINDOW_MINUTES: i32 = 15;
/// Fewer arrivals than this in the window say too little about a rate.
pub const MIN_ARRIVALS: i64 = 8;
/// A session that would fill later than this is not "heading for capacity".
pub const HORIZON_MINUTES: f64 = 120.0;
/// The normal quantile of a two-sided 90% range.
const Z90: f64 = 1.645;

/// What a session's recent arrivals say about when it fills.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Forecast {
    /// No capacity, or nothing arriving: nothing to say.
    None,
    /// At capacity already.
    Full,
    /// Arrivals, but too few in the window to give a rate.
    TooFew { seen: i64 },
    /// Filling, but not within the horizon.
    NotSoon,
    /// Full in about `minutes`, between `early` and `late` (90%; `late` None: could be much later).
    FullIn {
        minutes: f64,
        early: f64,
        late: Option<f64>,
        by: Counter,
        seen: i64,
    },
}

/// Which count reaches capacity first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    Registrations,
    Door,
}

impl Counter {
    pub fn words(self) -> &'static str {
        match self {
            Counter::Registrations => "registrations",
            Counter::Door => "people at the door",
        }
    }
}

/// One count's forecast: `used` of `capacity` taken, `arrivals` in the last `window` minutes.
pub fn one(used: i64, capacity: i64, arrivals: i64, window: f64, by: Counter) -> Forecast {
    if capacity <= 0 && used <= 0 {
        return Forecast::None;
    }
    if used >= capacity {
        return Forecast::Full;
    }
    if arrivals <= 0 || window <= 0.0 {
        return Forecast::None;
    }
    if arrivals < MIN_ARRIVALS {
        return Forecast::TooFew { seen: arrivals };
    }
    let remaining = (capacity - used) as f64;
    let (low, high) = poisson_range(arrivals);
    let minutes = remaining * window / arrivals as f64;
    if minutes > HORIZON_MINUTES {
        return Forecast::NotSoon;
    }
    Forecast::FullIn {
        minutes,
        early: remaining * window / high,
        late: (low > 0.0).then(|| remaining * window / low),
        by,
        seen: arrivals,
    }
}

/// The session's forecast: the count that fills first (seats by registrations, the room by the door).
pub fn session(
    registered: i64,
    present: i64,
    capacity: Option<i64>,
    registrations_recent: i64,
    entries_recent: i64,
) -> Forecast {
    let Some(capacity) = capacity else {
        return Forecast::None;
    };
    let window = f64::from(WINDOW_MINUTES);
    let seats = one(
        registered,
        capacity,
        registrations_recent,
        window,
        Counter::Registrations,
    );
    let room = one(present, capacity, entries_recent, window, Counter::Door);
    let rank = |f: &Forecast| match f {
        Forecast::Full => 0.0,
        Forecast::FullIn { minutes, .. } => 1.0 + minutes,
        Forecast::TooFew { .. } => 10_000.0,
        Forecast::NotSoon => 20_000.0,
        Forecast::None => 30_000.0,
    };
    if rank(&room) < rank(&seats) {
        room
    } else {
        seats
    }
}

/// A 90% range for the mean of a Poisson count `k` (Wilson and Hilferty's approximation, good to a
/// few percent from k = 8 on).
fn poisson_range(k: i64) -> (f64, f64) {
    let k = k as f64;
    let low = if k > 0.0 {
        k * (1.0 - 1.0 / (9.0 * k) - Z90 / (3.0 * k.sqrt())).powi(3)
    } else {
        0.0
    };
    let k1 = k + 1.0;
    let high = k1 * (1.0 - 1.0 / (9.0 * k1) + Z90 / (3.0 * k1.sqrt())).powi(3);
    (low.max(0.0), high)
}

/// "full in about 25 min (15-45) at 12 registrations in 15 min" for the detail line; None when there is nothing to say.
pub fn said(forecast: &Forecast) -> Option<String> {
    match forecast {
        Forecast::None | Forecast::NotSoon => None,
        Forecast::Full => Some("full".to_owned()),
        Forecast::TooFew { seen } => Some(format!(
            "too few arrivals to forecast ({seen} in {WINDOW_MINUTES} min)"
        )),
        Forecast::FullIn {
            minutes,
            early,
            late,
            by,
            seen,
        } => Some(format!(
            "full in about {} min ({}-{}) at {seen} {} in {WINDOW_MINUTES} min",
            round(*minutes),
            round(*early),
            late.map_or_else(|| "?".to_owned(), |l| round(l).to_string()),
            by.words()
        )),
    }
}

/// "full ~25m" for the table, only for a session forecast to fill.
pub fn short(forecast: &Forecast) -> Option<String> {
    match forecast {
        Forecast::FullIn { minutes, .. } => Some(format!("full ~{}m", round(*minutes))),
        _ => None,
    }
}

fn round(minutes: f64) -> i64 {
    minutes.round().max(1.0) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full_in(f: Forecast) -> (f64, f64, Option<f64>) {
        match f {
            Forecast::FullIn {
                minutes,
                early,
                late,
                ..
            } => (minutes, early, late),
            other => panic!("no forecast: {other:?}"),
        }
    }

    #[test]
    fn thirty_arrivals_in_fifteen_minutes_fill_ten_places_in_five_minutes() {
        let (minutes, early, late) = full_in(one(30, 40, 30, 15.0, Counter::Door));
        assert!((minutes - 5.0).abs() < 1e-9, "{minutes}");
        // The 90% range of a count of 30 is about 21.6 to 40.8.
        assert!((early - 10.0 * 15.0 / 40.8).abs() < 0.1, "{early}");
        let late = late.expect("a late bound");
        assert!((late - 10.0 * 15.0 / 21.6).abs() < 0.15, "{late}");
        assert!(early < minutes && minutes < late);
    }

    #[test]
    fn the_range_narrows_as_arrivals_grow() {
        let width = |k: i64| {
            let (_, early, late) = full_in(one(0, k, k, 15.0, Counter::Registrations));
            late.expect("bounded") / early
        };
        assert!(width(8) > width(30));
        assert!(width(30) > width(300));
    }

    #[test]
    fn too_few_arrivals_no_arrivals_no_capacity_and_full_say_so() {
        assert_eq!(
            one(10, 40, 7, 15.0, Counter::Door),
            Forecast::TooFew { seen: 7 }
        );
        assert_eq!(one(10, 40, 0, 15.0, Counter::Door), Forecast::None);
        assert_eq!(one(40, 40, 30, 15.0, Counter::Door), Forecast::Full);
        assert_eq!(one(41, 40, 0, 15.0, Counter::Door), Forecast::Full);
        assert_eq!(session(10, 5, None, 30, 30), Forecast::None);
        // 8 arrivals in 15 minutes fill 1,000 places in about 31 hours: not soon.
        assert_eq!(one(0, 1000, 8, 15.0, Counter::Door), Forecast::NotSoon);
    }

    #[test]
    fn the_count_that_fills_first_is_the_sessions_forecast() {
        // Seats fill in 30 min by registrations, the room in 10 min by the door.
        match session(10, 30, Some(40), 15, 15) {
            Forecast::FullIn { by, minutes, .. } => {
                assert_eq!(by, Counter::Door);
                assert!((minutes - 10.0).abs() < 1e-9);
            }
            other => panic!("{other:?}"),
        }
        // Full already by registrations beats any rate at the door.
        assert_eq!(session(40, 3, Some(40), 0, 20), Forecast::Full);
        // Too few at the door, a rate by registrations: the rate is the forecast.
        assert!(matches!(
            session(20, 2, Some(40), 20, 3),
            Forecast::FullIn {
                by: Counter::Registrations,
                ..
            }
        ));
    }

    #[test]
    fn forecasts_are_said_in_whole_minutes() {
        let f = one(30, 40, 30, 15.0, Counter::Door);
        assert_eq!(short(&f).as_deref(), Some("full ~5m"));
        assert_eq!(
            said(&f).as_deref(),
            Some("full in about 5 min (4-7) at 30 people at the door in 15 min")
        );
        assert_eq!(
            said(&Forecast::TooFew { seen: 3 }).as_deref(),
            Some("too few arrivals to forecast (3 in 15 min)")
        );
        assert_eq!(short(&Forecast::Full), None);
        assert_eq!(said(&Forecast::NotSoon), None);
    }
}

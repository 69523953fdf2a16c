//! Where the summit is: the cities it can be in, one of them in daytime whenever the demo runs.

/// A city the summit can be in.
pub struct Venue {
    pub zone: &'static str,
    pub address: &'static str,
    pub city: &'static str,
    pub region: Option<&'static str>,
    pub postal_code: Option<&'static str>,
    pub country: &'static str,
}

/// The summit's live day is a day wherever and whenever the demo runs: its program is fixed in daytime
/// (doors at 08:00, sessions 09:00 to 17:00, local) and the seed puts it in a city where it is daytime
/// now: Toronto while its clock is between 09:15 and 15:30, otherwise, of the cities whose clock is
/// between 09:15 and 16:00, the one nearest 10:30 (no city's offset is more than five hours from the
/// next, so there always is one). An operator opening the demo at 03:00 in Toronto finds a summit in
/// Dubai at noon, a session on and doors open, not sessions running through the night.
pub const VENUES: [Venue; 10] = [
    Venue {
        zone: "America/Toronto",
        address: "255 Front St W",
        city: "Toronto",
        region: Some("ON"),
        postal_code: Some("M5V 2W6"),
        country: "CA",
    },
    Venue {
        zone: "America/Vancouver",
        address: "1055 Canada Pl",
        city: "Vancouver",
        region: Some("BC"),
        postal_code: Some("V6C 0C3"),
        country: "CA",
    },
    Venue {
        zone: "Pacific/Honolulu",
        address: "1801 Kalakaua Ave",
        city: "Honolulu",
        region: Some("HI"),
        postal_code: Some("96815"),
        country: "US",
    },
    Venue {
        zone: "Pacific/Auckland",
        address: "88 Federal St",
        city: "Auckland",
        region: None,
        postal_code: Some("1010"),
        country: "NZ",
    },
    Venue {
        zone: "Australia/Sydney",
        address: "14 Darling Dr",
        city: "Sydney",
        region: Some("NSW"),
        postal_code: Some("2000"),
        country: "AU",
    },
    Venue {
        zone: "Asia/Tokyo",
        address: "3-11-1 Ariake",
        city: "Tokyo",
        region: None,
        postal_code: Some("135-0063"),
        country: "JP",
    },
    Venue {
        zone: "Asia/Singapore",
        address: "10 Bayfront Ave",
        city: "Singapore",
        region: None,
        postal_code: Some("018956"),
        country: "SG",
    },
    Venue {
        zone: "Asia/Dubai",
        address: "Sheikh Zayed Rd",
        city: "Dubai",
        region: None,
        postal_code: None,
        country: "AE",
    },
    Venue {
        zone: "Europe/Berlin",
        address: "Messedamm 22",
        city: "Berlin",
        region: None,
        postal_code: Some("14055"),
        country: "DE",
    },
    Venue {
        zone: "Europe/London",
        address: "1 Western Gateway",
        city: "London",
        region: None,
        postal_code: Some("E16 1XL"),
        country: "GB",
    },
];

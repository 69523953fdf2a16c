//! The console's screens, drawn over ratatui's TestBackend from fixed data with the clock frozen, at
//! 80x24 and 160x48. `cargo insta review` after an intended change.

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use eventos::app::frame::render;
use eventos::app::msg::{Cmd, Msg};
use eventos::app::state::{EventInfo, Operator, State, update};
use eventos::db::listen::ListenerEvent;
use eventos::desks::announcements::model::{
    AnnouncementRow, AnnouncementStatus, Audience, DeliveryMethod, Priority,
};
use eventos::desks::checkins::commands::{Answer as CheckinAnswer, Cmd as CheckinCmd};
use eventos::desks::checkins::gates::{AlertKind, GateAlert, GateRow};
use eventos::desks::checkins::model::{AttendeeStatus, Refusal};
use eventos::desks::checkins::model::{CheckinRow, GateStat, Problem, ScanOutcome, Summary};
use eventos::desks::expenses::model::{ExpenseRow, ExpenseStatus};
use eventos::desks::incidents::commands::{Answer as IncidentAnswer, Cmd as IncidentCmd};
use eventos::desks::incidents::model::{Entry as IncidentEntry, Kind as IncidentKind};
use eventos::desks::registry::{AnyAnswer, AnyCmd, Loaded};
use eventos::desks::sessions::model::{SessionRow, SessionStatus};
use eventos::desks::waitlist::model::{WaitRow, WaitStatus};
use eventos::desks::{Permission, Permissions};
use eventos::ui::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use uuid::Uuid;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 15, 42, 10)
        .single()
        .expect("valid")
}

fn ago(minutes: i64, seconds: i64) -> DateTime<Utc> {
    now() - Duration::minutes(minutes) - Duration::seconds(seconds)
}

const NAMES: [&str; 12] = [
    "Ada Lovelace",
    "Alan Turing",
    "Grace Hopper",
    "Katherine Johnson",
    "Edsger Dijkstra",
    "Barbara Liskov",
    "Donald Knuth",
    "Frances Allen",
    "Ken Thompson",
    "Margaret Hamilton",
    "Dennis Ritchie",
    "Radia Perlman",
];
const GATES: [&str; 3] = ["North Gate", "South Gate", "East Gate"];
const TICKETS: [&str; 3] = ["General", "VIP", "Student"];

fn feed() -> Vec<CheckinRow> {
    (0..40u32)
        .map(|i| CheckinRow {
            id: Uuid::from_u128(u128::from(i) + 1),
            attendee_id: Uuid::from_u128(1000 + u128::from(i)),
            name: NAMES[i as usize % NAMES.len()].to_owned(),
            ticket_type: Some(TICKETS[i as usize % 3].to_owned()),
            gate: Some(GATES[i as usize % 3].to_owned()),
            method: Some(if i % 7 == 3 { "manual" } else { "qr_code" }.to_owned()),
            session: (i % 9 == 5).then(|| "Rust in Production".to_owned()),
            at: ago(i64::from(i), i64::from(i * 7 % 60)),
            out_at: (i % 11 == 6).then(|| ago(0, 30)),
        })
        .collect()
}

fn problems() -> Vec<Problem> {
    let reasons = [
        (Refusal::AlreadyCheckedIn, "already checked in"),
        (Refusal::UnknownCode, "unknown ticket code"),
        (Refusal::TicketVoid, "ticket is void"),
        (Refusal::WrongEvent, "ticket is for another event"),
    ];
    (0..12u32)
        .map(|i| {
            let (code, reason) = reasons[i as usize % reasons.len()];
            let duplicate = code == Refusal::AlreadyCheckedIn;
            Problem {
                id: 100 - i64::from(i),
                at: ago(i64::from(i) * 2, 5),
                gate: Some(GATES[(i as usize + 1) % 3].to_owned()),
                reason_code: code,
                reason: reason.to_owned(),
                code: format!("NW{:08X}", 0xA11CE + i),
                first_gate: duplicate.then(|| "North Gate".to_owned()),
                first_at: duplicate.then(|| ago(40, 0)),
                name: (code != Refusal::UnknownCode).then(|| NAMES[i as usize].to_owned()),
            }
        })
        .collect()
}

fn summary() -> Summary {
    Summary {
        expected: 5000,
        checked_in: 3412,
        present: 3101,
        gates: vec![
            GateStat {
                gate: "North Gate".into(),
                total: 1502,
                last_5_min: 61,
            },
            GateStat {
                gate: "South Gate".into(),
                total: 1210,
                last_5_min: 44,
            },
            GateStat {
                gate: "East Gate".into(),
                total: 700,
                last_5_min: 7,
            },
        ],
        arrivals_per_minute: (0..60u64).map(|m| (m * 37 % 23) + m / 3).collect(),
        problems_15_min: 12,
        as_of: now(),
        batch: None,
    }
}

/// The gates as `gate_watch()` reads them (as the totals' gates say): East Gate quiet for four minutes.
fn gates() -> Vec<GateRow> {
    let row = |gate: &str, entries, last: i64, window_entries, window_refusals, percent| GateRow {
        gate: gate.into(),
        entries,
        last_at: Some(ago(last, 12)),
        window_entries,
        window_refusals,
        refusal_percent: percent,
        window_minutes: 5,
        silent_minutes: 3,
    };
    vec![
        row("North Gate", 1502, 0, 61, 2, Some(3)),
        row("South Gate", 1210, 0, 44, 14, Some(24)),
        row("East Gate", 700, 4, 7, 0, Some(0)),
    ]
}

/// East Gate's alert: silent for four minutes while the others scan.
fn east_gate_alert(acknowledged: bool) -> GateAlert {
    GateAlert {
        id: Uuid::from_u128(777),
        gate: "East Gate".into(),
        kind: AlertKind::Silent,
        detail: "East Gate has let nobody in since 10:37 (41 in the 10 minutes before; the other gates 105 in the last 3 minutes)".into(),
        raised_at: ago(0, 50),
        acknowledged: acknowledged.then(|| ("Dora Door".to_owned(), ago(0, 20))),
    }
}

fn sessions() -> Vec<SessionRow> {
    let rooms = [
        "Main Hall",
        "Hall B",
        "Room 201",
        "Room 202",
        "Workshop Lab",
    ];
    let titles = [
        "Opening Keynote: The Next Decade of Events",
        "Rust in Production",
        "Designing for Accessibility",
        "Observability at Scale",
        "Workshop: Postgres Row Level Security",
        "Lunch",
        "Panel: Hybrid Events That Work",
        "Networking Hour",
    ];
    let types = [
        "keynote",
        "workshop",
        "panel",
        "panel",
        "workshop",
        "break",
        "panel",
        "networking",
    ];
    (0..16u32)
        .map(|i| {
            let start = ago(90, 0) + Duration::minutes(i64::from(i / 4) * 75);
            let max = [Some(1200), Some(150), Some(40), Some(120), None][i as usize % 5];
            let registered = max.map_or(57, |m| m * [60, 91, 100, 30][i as usize % 4] / 100);
            SessionRow {
                id: Uuid::from_u128(500 + u128::from(i)),
                title: titles[i as usize % titles.len()].to_owned(),
                room: Some(rooms[i as usize % rooms.len()].to_owned()),
                session_type: Some(types[i as usize % types.len()].to_owned()),
                start,
                end: start + Duration::minutes(60),
                registered,
                max,
                present: if i < 4 { registered / 2 } else { 0 },
                status: match i {
                    0..=2 => SessionStatus::Live,
                    3 => SessionStatus::Cancelled,
                    _ => SessionStatus::Scheduled,
                },
                waiting: i64::from(i % 3) * 4,
                // A workshop half full taking 12 registrations in 15 minutes: full in about 20.
                registrations_recent: if i == 12 { 12 } else { 0 },
                entries_recent: 0,
            }
        })
        .collect()
}

fn expenses() -> Vec<ExpenseRow> {
    let items = [
        (
            "Coffee service, day 2",
            "catering",
            "Café Ada",
            "1840.50",
            ExpenseStatus::Pending,
            42,
        ),
        (
            "Stage lighting rental",
            "technology",
            "Bright Lights Inc",
            "12500",
            ExpenseStatus::Pending,
            7,
        ),
        (
            "Keynote speaker travel",
            "travel",
            "Air Maple",
            "987.25",
            ExpenseStatus::Pending,
            8,
        ),
        (
            "Printed badges",
            "marketing",
            "PrintCo",
            "432.10",
            ExpenseStatus::Approved,
            7,
        ),
        (
            "Wi-Fi upgrade",
            "venue",
            "Harbour Centre",
            "3000",
            ExpenseStatus::Paid,
            8,
        ),
        (
            "Late-night pizza",
            "catering",
            "Slice",
            "212.40",
            ExpenseStatus::Rejected,
            9,
        ),
        (
            "Signage",
            "marketing",
            "PrintCo",
            "75.5",
            ExpenseStatus::Pending,
            9,
        ),
    ];
    items
        .iter()
        .enumerate()
        .map(
            |(i, (name, category, vendor, amount, status, by))| ExpenseRow {
                id: Uuid::from_u128(900 + i as u128),
                name: (*name).to_owned(),
                category: Some((*category).to_owned()),
                description: Some(format!("{name} for the Northwind Tech Summit")),
                amount: amount.parse().expect("amount"),
                currency: "CAD".to_owned(),
                vendor: Some((*vendor).to_owned()),
                invoice_number: Some(format!("INV-{:04}", 100 + i)),
                status: *status,
                created_by: Some(Uuid::from_u128(*by)),
                submitter: match by {
                    42 => "Olivia Organizer",
                    7 => "Tom Tech",
                    8 => "Lina Liaison",
                    _ => "Max Marketing",
                }
                .to_owned(),
                created_at: ago(300 - i as i64 * 37, 0),
                receipt_url: Some(format!("https://files.example.org/r/{i}.pdf")),
                invoice_url: Some(format!(
                    "https://files.example.org/invoices/northwind-tech-summit/2026/{i}.pdf"
                )),
                approved_by: matches!(status, ExpenseStatus::Approved | ExpenseStatus::Paid)
                    .then(|| "Fay Finance".to_owned()),
                approved_at: matches!(status, ExpenseStatus::Approved | ExpenseStatus::Paid)
                    .then(|| ago(30, 0)),
                rejection_reason: (*status == ExpenseStatus::Rejected)
                    .then(|| "not a conference expense".to_owned()),
                payment_date: (*status == ExpenseStatus::Paid).then(|| now().date_naive()),
            },
        )
        .collect()
}

fn waitlist() -> Vec<WaitRow> {
    let people = [
        "Ada Lovelace",
        "Alan Turing",
        "Grace Hopper",
        "Donald Knuth",
        "Radia Perlman",
        "Ken Thompson",
    ];
    let mut rows = Vec::new();
    for (q, (session, title)) in [
        (None, None),
        (Some(501u128), Some("Rust in Production")),
        (Some(504u128), Some("Workshop: Postgres Row Level Security")),
    ]
    .into_iter()
    .enumerate()
    {
        for (i, person) in people.iter().enumerate().take(2 + q) {
            let offered = i == 0;
            rows.push(WaitRow {
                id: Uuid::from_u128(2000 + (q * 10 + i) as u128),
                session_id: session.map(Uuid::from_u128),
                session: title.map(str::to_owned),
                session_start: session.map(|s| ago(90, 0) + Duration::minutes(s as i64 - 500)),
                position: Some(i as i32 + 1),
                attendee: (*person).to_owned(),
                reason: Some(
                    if session.is_some() {
                        "session_full"
                    } else {
                        "event_full"
                    }
                    .to_owned(),
                ),
                status: if offered {
                    WaitStatus::Offered
                } else {
                    WaitStatus::Waiting
                },
                offered_at: offered.then(|| ago(10, 0)),
                expires_at: offered.then(|| now() + Duration::seconds(95 + 400 * q as i64)),
                notified_at: offered.then(|| ago(10, 0)),
                created_at: ago(120, 0),
                updated_at: ago(10, 0),
            });
        }
    }
    rows
}

/// Title, status, priority, audience, delivery methods, minutes from now.
type AnnouncementSpec<'a> = (
    &'a str,
    AnnouncementStatus,
    Priority,
    Audience,
    &'a [&'a str],
    i64,
);

fn announcements() -> Vec<AnnouncementRow> {
    let items: [AnnouncementSpec; 6] = [
        (
            "Doors open at 9:00",
            AnnouncementStatus::Sent,
            Priority::Normal,
            Audience::All,
            &["email", "push"],
            -90,
        ),
        (
            "Keynote moved to Hall B",
            AnnouncementStatus::Sent,
            Priority::Urgent,
            Audience::Attendees,
            &["push", "sms"],
            -20,
        ),
        (
            "Lunch is served",
            AnnouncementStatus::Scheduled,
            Priority::Normal,
            Audience::Attendees,
            &["push", "in_app"],
            45,
        ),
        (
            "Speaker dinner shuttle",
            AnnouncementStatus::Scheduled,
            Priority::High,
            Audience::Speakers,
            &["email"],
            300,
        ),
        (
            "Fire drill at 15:00",
            AnnouncementStatus::Draft,
            Priority::Urgent,
            Audience::All,
            &["push", "sms"],
            0,
        ),
        (
            "Sponsor raffle",
            AnnouncementStatus::Cancelled,
            Priority::Low,
            Audience::All,
            &["in_app"],
            -60,
        ),
    ];
    items
        .iter()
        .enumerate()
        .map(
            |(i, (title, status, priority, audience, methods, minutes))| AnnouncementRow {
                id: Uuid::from_u128(3000 + i as u128),
                title: (*title).to_owned(),
                content: format!("{title}.\nSee the app for details."),
                priority: *priority,
                audience: Some(*audience),
                target_sessions: vec![],
                methods: methods
                    .iter()
                    .map(|m| eventos::desks::words::ColumnWords::read(m).expect("a known method"))
                    .collect(),
                scheduled_for: (*status == AnnouncementStatus::Scheduled)
                    .then(|| now() + Duration::minutes(*minutes)),
                sent_at: (*status == AnnouncementStatus::Sent)
                    .then(|| now() + Duration::minutes(*minutes)),
                status: *status,
                author: Some("Max Marketing".to_owned()),
                created_at: ago(200 - i as i64, 0),
                recipients: match audience {
                    Audience::All => 5120,
                    Audience::Attendees => 5000,
                    _ => 100,
                },
                session_titles: vec![],
            },
        )
        .collect()
}

#[allow(clippy::needless_update)] // `..Loaded::default()`: a desk added later loads nothing here
fn state(permissions: Permissions, role: &str) -> State {
    let mut state = State::new(
        EventInfo {
            id: Uuid::from_u128(1),
            slug: "northwind-summit".into(),
            name: "Northwind Tech Summit".into(),
            time_zone: "America/Toronto".into(),
        },
        Operator {
            name: "Olivia Organizer".into(),
            role: role.into(),
            profile: Some(Uuid::from_u128(42)),
        },
        permissions,
        FixedOffset::west_opt(5 * 3600).expect("offset"),
        now(),
    );
    update(&mut state, Msg::Listener(ListenerEvent::Connected));
    update(
        &mut state,
        Msg::Snapshot {
            generation: 1,
            result: Ok(Box::new(Loaded {
                checkins: eventos::desks::checkins::Loaded(Some(
                    eventos::desks::checkins::Snapshot {
                        summary: summary(),
                        feed: feed(),
                        problems: problems(),
                        gates: gates(),
                        alerts: vec![],
                    },
                )),
                sessions: sessions(),
                expenses: expenses(),
                waitlist: waitlist(),
                announcements: announcements(),
                // A desk added later loads nothing here.
                ..Loaded::default()
            })),
        },
    );
    state
}

fn press(state: &mut State, code: KeyCode) {
    update(state, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn type_text(state: &mut State, text: &str) {
    for c in text.chars() {
        press(state, KeyCode::Char(c));
    }
}

fn draw(state: &State, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal
        .draw(|frame| render(frame, state, &Theme::plain()))
        .expect("draw");
    terminal.backend().to_string()
}

fn both_sizes(name: &str, state: &State) {
    insta::assert_snapshot!(format!("{name}_80x24"), draw(state, 80, 24));
    insta::assert_snapshot!(format!("{name}_160x48"), draw(state, 160, 48));
}

fn timeline() -> Vec<IncidentEntry> {
    let row = |m: i64, kind: IncidentKind, who: &str, what: &str| IncidentEntry {
        at: ago(m, 0),
        kind,
        who: who.to_owned(),
        what: what.to_owned(),
    };
    vec![
        row(
            1,
            IncidentKind::Notes,
            "Olivia Organizer",
            "note: East Gate scanner swapped; queue cleared by 10:41.",
        ),
        row(
            2,
            IncidentKind::Alerts,
            "Dora Door",
            "acknowledged the silent alert at East Gate",
        ),
        row(
            3,
            IncidentKind::Alerts,
            "gate watch",
            "East Gate has let nobody in since 10:37 (41 in the 10 minutes before; the other gates 105 in the last 3 minutes)",
        ),
        row(
            7,
            IncidentKind::Doors,
            "Dora Door",
            "Grace Hopper checked in by hand at Help desk",
        ),
        row(
            9,
            IncidentKind::Outages,
            "Val Volunteer",
            "a console without the database from 10:31:02 to 10:31:40 (38 s): the link dropped",
        ),
        row(
            12,
            IncidentKind::Sessions,
            "Olivia Organizer",
            "\"Rust in Production\" capacity 150 -> 180",
        ),
        row(
            15,
            IncidentKind::Messages,
            "Olivia Organizer",
            "announcement \"Room change\" sent to 812 people",
        ),
        row(
            21,
            IncidentKind::Money,
            "Frank Finance",
            "expense \"Stage lighting rental\" (12500.00 CAD) approved",
        ),
    ]
}

#[test]
fn the_incident_timeline_newest_first_with_the_selected_row_in_full() {
    let mut s = state(Permissions::all(), "organizer");
    update(
        &mut s,
        Msg::Desk(AnyAnswer::Incidents(IncidentAnswer::Read {
            generation: 1,
            result: Ok(timeline()),
        })),
    );
    press(&mut s, KeyCode::Char('6'));
    press(&mut s, KeyCode::Down);
    press(&mut s, KeyCode::Down);
    both_sizes("incidents", &s);
    // k: one kind at a time, read again at once.
    let cmds = update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Char('k'), KeyModifiers::NONE)),
    );
    assert!(
        cmds.is_empty(),
        "the read goes out with the frame's fetches"
    );
    let fetched = eventos::app::state::fetches(&mut s);
    assert!(
        fetched.iter().any(|c| matches!(
            c,
            Cmd::Desk(AnyCmd::Incidents(IncidentCmd::Read {
                kind: Some(IncidentKind::Alerts),
                ..
            }))
        )),
        "{fetched:?}"
    );
    // n: a note, written in one step from its prompt.
    press(&mut s, KeyCode::Char('n'));
    type_text(&mut s, "Fire door B propped open; closed.");
    let cmds = update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    assert_eq!(
        cmds,
        vec![Cmd::Desk(AnyCmd::Incidents(IncidentCmd::Note {
            text: "Fire door B propped open; closed.".into()
        }))]
    );
}

#[test]
fn a_volunteer_has_no_incident_desk() {
    let s = state(
        Permissions::member_with(&[Permission::CheckIn]),
        "volunteer",
    );
    assert!(!draw(&s, 160, 48).contains("Incidents"));
}

#[test]
fn a_session_heading_for_capacity_says_when_and_n_begins_its_announcement() {
    let mut s = state(Permissions::all(), "organizer");
    press(&mut s, KeyCode::Char('2'));
    type_text(&mut s, "/Postgres");
    press(&mut s, KeyCode::Enter);
    for _ in 0..3 {
        if draw(&s, 160, 48).contains("full in about") {
            break;
        }
        press(&mut s, KeyCode::Down);
    }
    both_sizes("sessions_forecast", &s);
    press(&mut s, KeyCode::Char('n'));
    insta::assert_snapshot!("sessions_notice_compose_80x24", draw(&s, 80, 24));
}

#[test]
fn checkins_desk() {
    both_sizes("checkins", &state(Permissions::all(), "organizer"));
}

/// The sweep's alerts as the desk reads them (gate_watch() and the open gate_alerts).
fn gates_read(state: &mut State, alerts: Vec<GateAlert>) {
    update(
        state,
        Msg::Desk(AnyAnswer::Checkins(CheckinAnswer::Gates {
            generation: 1,
            result: Ok((gates(), alerts)),
        })),
    );
}

#[test]
fn a_gate_alert_shows_over_the_feed_and_a_acknowledges_it() {
    let mut s = state(Permissions::all(), "organizer");
    gates_read(&mut s, vec![east_gate_alert(false)]);
    both_sizes("checkins_gate_alert", &s);
    let cmds = update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Char('a'), KeyModifiers::NONE)),
    );
    assert_eq!(
        cmds,
        vec![Cmd::Desk(AnyCmd::Checkins(CheckinCmd::Acknowledge {
            alert: Uuid::from_u128(777),
            gate: "East Gate".into(),
        }))],
        "one key, no dialog"
    );
    // Acknowledged (here or elsewhere): still shown while open, with who saw it.
    gates_read(&mut s, vec![east_gate_alert(true)]);
    insta::assert_snapshot!("checkins_gate_alert_seen_80x24", draw(&s, 80, 24));
    let cmds = update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Char('a'), KeyModifiers::NONE)),
    );
    assert!(cmds.is_empty(), "{cmds:?}");
    assert!(
        draw(&s, 80, 24).contains("every open gate alert is acknowledged already"),
        "{}",
        draw(&s, 80, 24)
    );
}

#[test]
fn every_gate_with_its_rate_last_entry_refusals_and_alert() {
    let mut s = state(Permissions::all(), "organizer");
    gates_read(&mut s, vec![east_gate_alert(false)]);
    press(&mut s, KeyCode::Char('f'));
    both_sizes("checkins_gate_watch", &s);
}

#[test]
fn a_volunteer_without_the_door_permission_cannot_acknowledge() {
    let mut s = state(Permissions::member_with(&[]), "marketing");
    gates_read(&mut s, vec![east_gate_alert(false)]);
    let cmds = update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Char('a'), KeyModifiers::NONE)),
    );
    assert!(cmds.is_empty(), "{cmds:?}");
    assert!(
        draw(&s, 80, 24).contains("does not include check in attendees"),
        "{}",
        draw(&s, 80, 24)
    );
}

#[test]
fn checkins_desk_scanning() {
    let mut s = state(Permissions::all(), "organizer");
    press(&mut s, KeyCode::Char('s'));
    update(
        &mut s,
        Msg::Desk(AnyAnswer::Checkins(CheckinAnswer::Scanned {
            code: "NW00A11CE".into(),
            result: Ok(ScanOutcome {
                code: "NW00A11CE".into(),
                accepted: false,
                reason_code: Some("already_checked_in".into()),
                message: Some("already checked in at North Gate at 10:02".into()),
                name: Some("Ada Lovelace".into()),
                ticket_type: Some("VIP".into()),
                at: None,
            }),
        })),
    );
    type_text(&mut s, "NW00B0");
    both_sizes("checkins_scanning", &s);
}

#[test]
fn checkins_desk_search() {
    let mut s = state(Permissions::all(), "organizer");
    press(&mut s, KeyCode::Char('/'));
    // Results follow the typing: "lo" is looked up at once, "love" when that answer is back.
    type_text(&mut s, "love");
    let again = update(
        &mut s,
        Msg::Desk(AnyAnswer::Checkins(CheckinAnswer::Searched {
            seq: 1,
            result: Ok(vec![]),
        })),
    );
    assert!(
        matches!(again.as_slice(), [Cmd::Desk(AnyCmd::Checkins(CheckinCmd::Search { seq: 2, query }))] if query == "love"),
        "{again:?}"
    );
    update(
        &mut s,
        Msg::Desk(AnyAnswer::Checkins(CheckinAnswer::Searched {
            seq: 2,
            result: Ok(vec![
                eventos::desks::checkins::model::AttendeeHit {
                    id: Uuid::from_u128(77),
                    name: "Ada Lovelace".into(),
                    email: "ada@example.org".into(),
                    status: AttendeeStatus::Registered,
                    tickets: "NW00A11CE".into(),
                    inside: true,
                },
                eventos::desks::checkins::model::AttendeeHit {
                    id: Uuid::from_u128(78),
                    name: "Byron Lovelace".into(),
                    email: "byron@example.org".into(),
                    status: AttendeeStatus::Cancelled,
                    tickets: "NW00A11CF (void)".into(),
                    inside: false,
                },
            ]),
        })),
    );
    let cmds = update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    assert!(cmds.is_empty(), "Enter goes to the results: {cmds:?}");
    both_sizes("checkins_search", &s);
}

#[test]
fn checkins_desk_all_gates() {
    let mut s = state(Permissions::all(), "organizer");
    press(&mut s, KeyCode::Char('f'));
    both_sizes("checkins_all_gates", &s);
}

#[test]
fn sessions_desk() {
    let mut s = state(Permissions::all(), "organizer");
    press(&mut s, KeyCode::Char('2'));
    press(&mut s, KeyCode::Down);
    both_sizes("sessions", &s);
}

#[test]
fn sessions_desk_confirming_a_cancellation() {
    let mut s = state(Permissions::all(), "organizer");
    press(&mut s, KeyCode::Char('2'));
    press(&mut s, KeyCode::Char('x'));
    both_sizes("sessions_confirm_cancel", &s);
}

#[test]
fn a_volunteer_sees_only_their_desks_and_keys() {
    let volunteer = Permissions::member_with(&[Permission::CheckIn]);
    let mut s = state(volunteer, "volunteer");
    press(&mut s, KeyCode::Char('2'));
    press(&mut s, KeyCode::Char('c'));
    insta::assert_snapshot!("volunteer_sessions_80x24", draw(&s, 80, 24));
}

#[test]
fn help() {
    let mut s = state(Permissions::all(), "organizer");
    press(&mut s, KeyCode::Char('?'));
    both_sizes("help_checkins", &s);
}

#[test]
fn a_small_terminal_says_what_it_needs() {
    let s = state(Permissions::all(), "organizer");
    insta::assert_snapshot!("too_small_79x24", draw(&s, 79, 24));
}

#[test]
fn expenses_desk() {
    let mut s = state(Permissions::all(), "organizer");
    press(&mut s, KeyCode::Char('5'));
    press(&mut s, KeyCode::Char(' '));
    // A long address goes on under itself, never from the screen's first column.
    let screen = draw(&s, 80, 24);
    assert!(screen.contains("invoice https://"), "{screen}");
    assert!(
        screen
            .lines()
            .all(|l| !l.trim_start_matches('"').starts_with("https")),
        "{screen}"
    );
    both_sizes("expenses", &s);
}

#[test]
fn expenses_desk_to_pay_shows_no_marks_and_no_approving() {
    let mut s = state(Permissions::all(), "organizer");
    press(&mut s, KeyCode::Char('5'));
    press(&mut s, KeyCode::Char(' '));
    press(&mut s, KeyCode::Char('f'));
    let screen = draw(&s, 80, 24);
    assert!(!screen.contains("1 marked"), "{screen}");
    assert!(!screen.contains("a approve"), "{screen}");
    assert!(!screen.contains("Space mark"), "{screen}");
    both_sizes("expenses_to_pay", &s);
}

#[test]
fn expenses_desk_rejecting_needs_a_reason() {
    let mut s = state(Permissions::all(), "organizer");
    press(&mut s, KeyCode::Char('5'));
    press(&mut s, KeyCode::Down);
    press(&mut s, KeyCode::Char('r'));
    press(&mut s, KeyCode::Enter);
    insta::assert_snapshot!("expenses_reject_reason_80x24", draw(&s, 80, 24));
}

#[test]
fn waitlist_desk() {
    let mut s = state(Permissions::all(), "organizer");
    press(&mut s, KeyCode::Char('3'));
    both_sizes("waitlist", &s);
}

#[test]
fn waitlist_desk_opened_from_a_session() {
    let mut s = state(Permissions::all(), "organizer");
    press(&mut s, KeyCode::Char('2'));
    type_text(&mut s, "/Rust");
    press(&mut s, KeyCode::Enter);
    press(&mut s, KeyCode::Char('w'));
    press(&mut s, KeyCode::Char('n'));
    type_text(&mut s, "six");
    press(&mut s, KeyCode::Enter);
    insta::assert_snapshot!("waitlist_release_places_80x24", draw(&s, 80, 24));
}

#[test]
fn announcements_desk() {
    let mut s = state(Permissions::all(), "organizer");
    press(&mut s, KeyCode::Char('4'));
    both_sizes("announcements", &s);
}

#[test]
fn a_long_announcement_line_goes_on_under_itself_not_from_column_0() {
    let mut s = state(Permissions::all(), "organizer");
    press(&mut s, KeyCode::Char('4'));
    let selected = s
        .desks
        .announcements
        .selected_row()
        .map(|r| r.id)
        .expect("a selected announcement");
    for row in s
        .desks
        .announcements
        .rows
        .iter_mut()
        .filter(|r| r.id == selected)
    {
        row.title = "Keynote moved to the main hall because of the overflow".into();
        row.methods = vec![
            DeliveryMethod::Email,
            DeliveryMethod::Push,
            DeliveryMethod::Sms,
            DeliveryMethod::InApp,
        ];
        row.session_titles = vec![
            "Opening keynote: the next ten years".into(),
            "Data Privacy by Design in practice".into(),
        ];
    }
    let screen = draw(&s, 80, 24);
    assert!(screen.contains("by email, push, sms, in_app"), "{screen}");
    assert!(
        screen
            .lines()
            .all(|l| l.trim_start_matches('"').starts_with(' ')),
        "a line starts at column 0:\n{screen}"
    );
}

#[test]
fn the_compose_form_marks_what_is_missing() {
    let mut s = state(Permissions::all(), "organizer");
    press(&mut s, KeyCode::Char('4'));
    press(&mut s, KeyCode::Char('n'));
    type_text(&mut s, "Room change");
    press(&mut s, KeyCode::Tab);
    press(&mut s, KeyCode::Tab);
    press(&mut s, KeyCode::Right);
    press(&mut s, KeyCode::Tab);
    press(&mut s, KeyCode::Tab);
    type_text(&mut s, "cooking");
    press(&mut s, KeyCode::Tab);
    press(&mut s, KeyCode::Tab);
    type_text(&mut s, "09:00");
    update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL)),
    );
    both_sizes("announcements_compose_errors", &s);
}

#[test]
fn an_urgent_message_to_everyone_needs_the_slug_typed() {
    let mut s = state(Permissions::all(), "organizer");
    press(&mut s, KeyCode::Char('4'));
    // The urgent draft to all is first (drafts lead).
    press(&mut s, KeyCode::Char('s'));
    type_text(&mut s, "northwind");
    let cmds = update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    assert!(cmds.is_empty(), "a wrong slug sends nothing");
    insta::assert_snapshot!("announcements_type_slug_80x24", draw(&s, 80, 24));
    type_text(&mut s, "-summit");
    let cmds = update(
        &mut s,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    assert_eq!(cmds.len(), 1, "the slug is the confirmation");
}

/// A refusal's last words often say what to do: a long one wraps over up to three rows instead of
/// being cut with `~`.
#[test]
fn a_long_refusal_wraps_instead_of_losing_its_end() {
    let mut s = state(Permissions::all(), "organizer");
    update(
        &mut s,
        Msg::Desk(AnyAnswer::Checkins(CheckinAnswer::Scanned {
            code: "NW00A11CE".into(),
            result: Ok(ScanOutcome {
                code: "NW00A11CE".into(),
                accepted: false,
                reason_code: Some("session_full".into()),
                message: Some(
                    "session is full: 120 of 120 present and 3 offers outstanding (raise the capacity first, or wait for someone to leave)"
                        .into(),
                ),
                name: Some("Ada Lovelace".into()),
                ticket_type: Some("VIP".into()),
                at: None,
            }),
        })),
    );
    let screen = draw(&s, 80, 24);
    assert!(
        screen.contains("wait for someone to leave)") && !screen.contains('~'),
        "{screen}"
    );
    both_sizes("checkins_long_refusal", &s);
}

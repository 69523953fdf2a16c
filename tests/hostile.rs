//! Hostile input (#13, item 5): very long text, wide, combining and right-to-left characters, control
//! characters, escape sequences, NUL, paste bursts and resize storms, into every text box (the scan
//! box, the attendee search, the desks' filters, the prompts, the compose form). Three levels: the
//! pure update drawn into a TestBackend, the desks' SQL on a real database, and the real binary in a
//! pseudo-terminal.

mod common;

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use eventos::app::frame::render;
use eventos::app::msg::{Cmd, Msg};
use eventos::app::state::{EventInfo, Operator, Overlay, State, update};
use eventos::db::listen::ListenerEvent;
use eventos::desks::Permissions;
use eventos::desks::announcements::model::{
    AnnouncementRow, AnnouncementStatus, Audience, DeliveryMethod, Priority,
};
use eventos::desks::checkins::model::{CheckinRow, Summary};
use eventos::desks::expenses::model::{ExpenseRow, ExpenseStatus};
use eventos::desks::registry::{AnyForm, Loaded};
use eventos::desks::sessions::model::{SessionRow, SessionStatus};
use eventos::desks::waitlist::model::{WaitRow, WaitStatus};
use eventos::ui::Theme;
use proptest::prelude::*;
use proptest::test_runner::Config;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------------
// Hostile text

/// Characters chosen to break things: wide (CJK, emoji), combining marks, right-to-left letters and
/// bidi overrides, zero-width ones, and every kind of control character (C0, ESC, NUL, DEL, C1).
const NASTY: &[char] = &[
    '界',
    '漢',
    '😀',
    '👩',
    '\u{200D}',
    '\u{301}',
    '\u{20DD}',
    'ש',
    'ל',
    'م',
    'ر',
    '\u{202E}',
    '\u{2067}',
    '\u{200B}',
    '\u{FEFF}',
    '\u{0}',
    '\u{7}',
    '\u{8}',
    '\t',
    '\n',
    '\r',
    '\u{1b}',
    '\u{7f}',
    '\u{85}',
    '\u{9b}',
    '\u{9c}',
    'ǅ',
    'ß',
    '\u{10FFFF}',
    ' ',
];

/// Escape sequences an attacker would try: set the window title, clear the screen, colour, a device
/// control string, a hyperlink, a cursor move.
const ESCAPES: &[&str] = &[
    "\u{1b}]0;pwned\u{7}",
    "\u{1b}[2J",
    "\u{1b}[31m",
    "\u{1b}P+q544e\u{1b}\\",
    "\u{1b}]8;;http://evil.example\u{1b}\\x\u{1b}]8;;\u{1b}\\",
    "\u{1b}[10;10H",
    "\u{9b}2J",
];

fn hostile_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => proptest::char::range(' ', '~'),
        3 => proptest::sample::select(NASTY),
        1 => any::<char>(),
    ]
}

/// A piece of hostile text: characters, an escape sequence, or a long run (a paste burst).
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::collection::vec(hostile_char(), 0..40).prop_map(|v| v.into_iter().collect()),
        2 => proptest::sample::select(ESCAPES).prop_map(str::to_owned),
        1 => (hostile_char(), 200usize..3000).prop_map(|(c, n)| std::iter::repeat_n(c, n).collect()),
    ]
}

fn is_control_text(c: char) -> bool {
    c.is_control() && c != '\n'
}

// ---------------------------------------------------------------------------------------------------
// The console's state with every desk loaded

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 15, 0, 0)
        .single()
        .expect("a valid time")
}

fn session() -> SessionRow {
    SessionRow {
        id: Uuid::from_u128(20),
        title: "Opening keynote".into(),
        room: Some("Hall A".into()),
        session_type: Some("keynote".into()),
        start: now() - Duration::minutes(10),
        end: now() + Duration::minutes(50),
        registered: 10,
        max: Some(100),
        present: 3,
        status: SessionStatus::Live,
        waiting: 1,
        registrations_recent: 0,
        entries_recent: 0,
    }
}

fn expense() -> ExpenseRow {
    ExpenseRow {
        id: Uuid::from_u128(30),
        name: "Coffee".into(),
        category: Some("catering".into()),
        description: None,
        amount: rust_decimal::Decimal::new(45000, 2),
        currency: "CAD".into(),
        vendor: Some("Lumen AV".into()),
        invoice_number: None,
        status: ExpenseStatus::Pending,
        created_by: Some(Uuid::from_u128(99)),
        submitter: "Frank Finance".into(),
        created_at: now() - Duration::days(1),
        receipt_url: None,
        invoice_url: None,
        approved_by: None,
        approved_at: None,
        rejection_reason: None,
        payment_date: None,
    }
}

fn waiting() -> WaitRow {
    WaitRow {
        id: Uuid::from_u128(40),
        session_id: Some(session().id),
        session: Some(session().title),
        session_start: Some(session().start),
        position: Some(1),
        attendee: "Alan Turing".into(),
        reason: Some("session_full".into()),
        status: WaitStatus::Offered,
        offered_at: Some(now() - Duration::minutes(5)),
        expires_at: Some(now() + Duration::minutes(10)),
        notified_at: None,
        created_at: now() - Duration::hours(1),
        updated_at: now() - Duration::minutes(5),
    }
}

fn draft() -> AnnouncementRow {
    AnnouncementRow {
        id: Uuid::from_u128(50),
        title: "Welcome".into(),
        content: "Doors open at 9".into(),
        priority: Priority::Urgent,
        audience: Some(Audience::All),
        target_sessions: vec![],
        methods: vec![DeliveryMethod::Push],
        scheduled_for: None,
        sent_at: None,
        status: AnnouncementStatus::Draft,
        author: Some("Ada Lovelace".into()),
        created_at: now() - Duration::hours(2),
        recipients: 2,
        session_titles: vec![],
    }
}

/// An organizer's console, LIVE, one row on every desk (so every prompt can open).
#[allow(clippy::needless_update)] // `..Loaded::default()`: a desk added later loads nothing here
fn loaded() -> State {
    let mut state = State::new(
        EventInfo {
            id: Uuid::from_u128(1),
            slug: "conf".into(),
            name: "Conf".into(),
            time_zone: "UTC".into(),
        },
        Operator {
            name: "Olivia Organizer".into(),
            role: "organizer".into(),
            profile: Some(Uuid::from_u128(7)),
        },
        Permissions::all(),
        FixedOffset::east_opt(0).expect("an offset"),
        now(),
    );
    update(&mut state, Msg::Listener(ListenerEvent::Connected));
    let generation = state.generation;
    update(
        &mut state,
        Msg::Snapshot {
            generation,
            result: Ok(Box::new(Loaded {
                checkins: eventos::desks::checkins::Loaded(Some(
                    eventos::desks::checkins::Snapshot {
                        summary: Summary {
                            expected: 2,
                            checked_in: 1,
                            present: 1,
                            gates: vec![],
                            arrivals_per_minute: vec![0; 60],
                            problems_15_min: 0,
                            as_of: now(),
                            batch: None,
                        },
                        feed: vec![CheckinRow {
                            id: Uuid::from_u128(10),
                            attendee_id: Uuid::from_u128(11),
                            name: "Ada Lovelace".into(),
                            ticket_type: Some("General".into()),
                            gate: Some("North Gate".into()),
                            method: Some("qr_code".into()),
                            session: None,
                            at: now() - Duration::minutes(3),
                            out_at: None,
                        }],
                        problems: vec![],
                        gates: vec![],
                        alerts: vec![],
                    },
                )),
                sessions: vec![session()],
                expenses: vec![expense()],
                waitlist: vec![waiting()],
                announcements: vec![draft()],
                // A desk added later loads nothing here.
                ..Loaded::default()
            })),
        },
    );
    state
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn press(state: &mut State, code: KeyCode) -> Vec<Cmd> {
    update(state, Msg::Key(key(code)))
}

/// Types `text` the way a terminal delivers it: one key per character.
fn type_text(state: &mut State, text: &str) -> Vec<Cmd> {
    text.chars()
        .flat_map(|c| update(state, Msg::Key(key(KeyCode::Char(c)))))
        .collect()
}

/// Every text box's value, named.
fn text_boxes(state: &State) -> Vec<(&'static str, String)> {
    let mut boxes = vec![
        (
            "scan box",
            state.desks.checkins.scan.input.value().to_owned(),
        ),
        (
            "sessions filter",
            state.desks.sessions.nav.filter.value().to_owned(),
        ),
        (
            "expenses filter",
            state.desks.expenses.nav.filter.value().to_owned(),
        ),
        (
            "waitlist filter",
            state.desks.waitlist.nav.filter.value().to_owned(),
        ),
        (
            "announcements filter",
            state.desks.announcements.nav.filter.value().to_owned(),
        ),
    ];
    if let Some(search) = &state.desks.checkins.search {
        boxes.push(("attendee search", search.input.value().to_owned()));
    }
    match &state.overlay {
        Some(Overlay::Prompt(prompt)) => boxes.push(("prompt", prompt.input.value().to_owned())),
        Some(Overlay::Form(AnyForm::Announcements(form))) => {
            boxes.push(("compose title", form.title.value().to_owned()));
            boxes.push(("compose content", form.content.value().to_owned()));
            boxes.push(("compose sessions", form.sessions.value().to_owned()));
            boxes.push(("compose schedule", form.schedule.value().to_owned()));
        }
        _ => {}
    }
    boxes
}

fn draw(state: &State, width: u16, height: u16) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("a test terminal");
    terminal
        .draw(|frame| render(frame, state, &Theme::plain()))
        .expect("a frame");
    terminal.backend().buffer().clone()
}

fn rows(buffer: &Buffer) -> Vec<String> {
    let area = buffer.area;
    (area.top()..area.bottom())
        .map(|y| {
            (area.left()..area.right())
                .map(|x| buffer[(x, y)].symbol())
                .collect()
        })
        .collect()
}

/// No cell of the frame holds a control character: nothing drawn can drive the terminal.
fn assert_no_control_cells(buffer: &Buffer) -> Result<(), TestCaseError> {
    for (i, cell) in buffer.content.iter().enumerate() {
        prop_assert!(
            !cell.symbol().chars().any(char::is_control),
            "cell {i} holds {:?}",
            cell.symbol()
        );
    }
    Ok(())
}

/// The desk's sentence, when there is one, is one line of text with no control characters.
fn assert_one_sentence(state: &State) -> Result<(), TestCaseError> {
    if let Some(notice) = &state.notice {
        prop_assert!(
            !notice.text.chars().any(char::is_control),
            "the notice holds a control character: {:?}",
            notice.text
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------
// Pure level: the real update, every frame drawn

#[derive(Debug, Clone)]
enum Step {
    Key(KeyEvent),
    /// A bracketed paste, as the terminal delivers it.
    Paste(String),
    /// A scanner's burst, recognised by the keyboard task.
    Scan(String),
    Resize(u16, u16),
}

fn step() -> impl Strategy<Value = Step> {
    let modifiers = proptest::sample::select(vec![
        KeyModifiers::NONE,
        KeyModifiers::SHIFT,
        KeyModifiers::CONTROL | KeyModifiers::ALT,
        KeyModifiers::ALT,
    ]);
    let named = proptest::sample::select(vec![
        KeyCode::Enter,
        KeyCode::Esc,
        KeyCode::Tab,
        KeyCode::BackTab,
        KeyCode::Backspace,
        KeyCode::Delete,
        KeyCode::Left,
        KeyCode::Right,
        KeyCode::Home,
        KeyCode::End,
        KeyCode::Up,
        KeyCode::Down,
        KeyCode::F(2),
    ]);
    // The keys that open the text boxes and move between desks, so every box is reached.
    let opener = proptest::sample::select(vec![
        '1', '2', '3', '4', '5', 's', '/', 'n', 'e', 'c', 'r', 'x', 'p', 't', 'w', 'f', 'y',
    ]);
    prop_oneof![
        6 => (hostile_char(), modifiers).prop_map(|(c, m)| Step::Key(KeyEvent::new(KeyCode::Char(c), m))),
        3 => named.prop_map(|k| Step::Key(key(k))),
        3 => opener.prop_map(|c| Step::Key(key(KeyCode::Char(c)))),
        2 => hostile_text().prop_map(Step::Paste),
        1 => hostile_text().prop_map(Step::Scan),
        2 => (0u16..260, 0u16..90).prop_map(|(w, h)| Step::Resize(w, h)),
    ]
}

proptest! {
    #![proptest_config(Config { cases: 256, failure_persistence: None, ..Config::default() })]

    /// Any sequence of keys, pastes, scans and resizes: no panic, no control character drawn or kept
    /// in a text box, and a paste never presses a desk's keys.
    #[test]
    fn hostile_keys_pastes_and_resizes_never_break_the_console(
        steps in proptest::collection::vec(step(), 1..60)
    ) {
        let mut state = loaded();
        let (mut width, mut height) = (80, 24);
        for step in steps {
            if state.quit {
                // The loop stops here (q, Ctrl-C).
                break;
            }
            match step {
                Step::Key(key) => {
                    update(&mut state, Msg::Key(key));
                }
                Step::Paste(text) => {
                    let before = (state.desk, state.overlay.is_some(), state.typing());
                    let cmds = update(&mut state, Msg::Paste(text));
                    if !before.2 && !before.1 {
                        // Outside a text box a paste is text, not keys: nothing runs, nothing opens.
                        prop_assert!(cmds.is_empty(), "a paste ran {cmds:?}");
                        prop_assert_eq!(before, (state.desk, state.overlay.is_some(), state.typing()));
                        prop_assert!(!state.quit, "a paste quit the console");
                    }
                }
                Step::Scan(code) => {
                    update(&mut state, Msg::ScannerInput(code));
                }
                Step::Resize(w, h) => {
                    (width, height) = (w, h);
                    update(&mut state, Msg::Resize);
                }
            }
            for (name, value) in text_boxes(&state) {
                prop_assert!(
                    !value.chars().any(is_control_text),
                    "the {name} keeps a control character: {value:?}"
                );
            }
            assert_one_sentence(&state)?;
            let frame = draw(&state, width, height);
            assert_no_control_cells(&frame)?;
        }
    }
}

/// Each text box: the keys that open it on a fresh console, and the label on its row.
const BOXES: &[(&str, &[KeyCode], &str)] = &[
    ("scan box", &[KeyCode::Char('s')], "SCAN>"),
    (
        "attendee search",
        &[KeyCode::Char('/')],
        "Search attendees:",
    ),
    (
        "sessions filter",
        &[KeyCode::Char('2'), KeyCode::Char('/')],
        "Filter:",
    ),
    (
        "waitlist filter",
        &[KeyCode::Char('3'), KeyCode::Char('/')],
        "Filter:",
    ),
    (
        "announcements filter",
        &[KeyCode::Char('4'), KeyCode::Char('/')],
        "Filter:",
    ),
    (
        "expenses filter",
        &[KeyCode::Char('5'), KeyCode::Char('/')],
        "Filter:",
    ),
    (
        "capacity",
        &[KeyCode::Char('2'), KeyCode::Char('c')],
        "New capacity:",
    ),
    (
        "places to release",
        &[KeyCode::Char('3'), KeyCode::Char('n')],
        "Places:",
    ),
    (
        "minutes to extend",
        &[KeyCode::Char('3'), KeyCode::Char('e')],
        "Extend by minutes:",
    ),
    (
        "cancel reason",
        &[KeyCode::Char('3'), KeyCode::Char('x')],
        "Reason:",
    ),
    (
        "schedule time",
        &[KeyCode::Char('4'), KeyCode::Char('t')],
        "Send at:",
    ),
    (
        "reject reason",
        &[KeyCode::Char('5'), KeyCode::Char('r')],
        "Reason:",
    ),
    (
        "compose title",
        &[KeyCode::Char('4'), KeyCode::Char('n')],
        "Title",
    ),
    (
        "compose sessions",
        &[
            KeyCode::Char('4'),
            KeyCode::Char('n'),
            KeyCode::Tab,
            KeyCode::Tab,
            KeyCode::Tab,
            KeyCode::Tab,
        ],
        "Sessions",
    ),
    (
        "compose schedule",
        &[
            KeyCode::Char('4'),
            KeyCode::Char('n'),
            KeyCode::Tab,
            KeyCode::Tab,
            KeyCode::Tab,
            KeyCode::Tab,
            KeyCode::Tab,
            KeyCode::Tab,
        ],
        "Schedule",
    ),
];

/// Text a person could type: printable characters of every width and direction, no control ones.
fn printable_text() -> impl Strategy<Value = String> {
    let visible = hostile_char().prop_filter("typed text", |c| !c.is_control());
    proptest::collection::vec(visible, 0..300).prop_map(|v| v.into_iter().collect())
}

proptest! {
    #![proptest_config(Config { cases: 64, failure_persistence: None, ..Config::default() })]

    /// However long, wide or right-to-left the text, a box shows the end being typed, and Home brings
    /// its start into sight: the operator always sees where the cursor is.
    #[test]
    fn a_text_box_keeps_its_cursor_in_sight(
        which in 0..BOXES.len(),
        first in proptest::sample::select(vec!['漢', 'م', '#', '👩']),
        middle in printable_text(),
        last in proptest::sample::select(vec!['界', 'ש', '@', '😀']),
        width in 80u16..200,
        height in 24u16..60,
    ) {
        let (name, opening, label) = BOXES[which];
        let mut state = loaded();
        for code in opening {
            press(&mut state, *code);
        }
        prop_assert!(
            state.typing() || matches!(state.overlay, Some(Overlay::Prompt(_) | Overlay::Form(_))),
            "the {name} did not open: {:?}", state.notice
        );
        let text = format!("{first}{middle}{last}");
        type_text(&mut state, &text);
        prop_assert!(
            text_boxes(&state).iter().any(|(_, value)| *value == text),
            "the {name} holds what was typed"
        );
        let screen = rows(&draw(&state, width, height));
        prop_assert!(
            screen.iter().any(|row| row.contains(label) && row.contains(last)),
            "the {name} does not show the end of {text:?}:\n{}", screen.join("\n")
        );
        press(&mut state, KeyCode::Home);
        let screen = rows(&draw(&state, width, height));
        prop_assert!(
            screen.iter().any(|row| row.contains(label) && row.contains(first)),
            "after Home the {name} does not show the start of {text:?}:\n{}", screen.join("\n")
        );
    }
}

// ---------------------------------------------------------------------------------------------------
// Database level: the desks' own SQL, as the console runs it, on a real database

use common::{Fixture, Operator as Member, TestDb, fixture};
use eventos::desks::announcements::compose::Compose;
use eventos::desks::announcements::store as announcements;
use eventos::desks::checkins::store as checkins;
use eventos::desks::expenses::store as expenses;
use eventos::desks::waitlist::store as waitlist;
use proptest::test_runner::TestRunner;

/// Operator text: hostile, and now and then holding a NUL (PostgreSQL text cannot store one).
fn operator_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => hostile_text(),
        1 => (hostile_text(), hostile_text()).prop_map(|(a, b)| format!("{a}\0{b}")),
    ]
}

/// A refusal as the operator reads it: one line of text, no control characters, not a wall.
fn assert_sentence(text: &str) -> Result<(), TestCaseError> {
    prop_assert!(!text.trim().is_empty(), "an empty refusal");
    prop_assert!(
        !text.chars().any(char::is_control),
        "the refusal holds a control character: {text:?}"
    );
    prop_assert!(text.chars().count() <= 300, "not one sentence: {text:?}");
    Ok(())
}

/// A refusal of text the database cannot hold: made by the console before the database (no driver
/// or server error behind it), said in one sentence through the console's own error path.
fn assert_refused_before_the_database(error: &anyhow::Error) -> Result<(), TestCaseError> {
    prop_assert!(
        error
            .chain()
            .all(|cause| cause.downcast_ref::<tokio_postgres::Error>().is_none()),
        "the database's own error reached the operator: {error:#}"
    );
    assert_sentence(&eventos::cli::sentence(error))
}

/// An event with an organizer on its team, and a runtime to drive the database from a property.
struct Desk {
    runtime: tokio::runtime::Runtime,
    /// Held for the test's length: dropping it drops the database.
    _db: TestDb,
    admin: tokio_postgres::Client,
    fixture: Fixture,
    organizer: Member,
}

impl Desk {
    fn open() -> Desk {
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        let (db, admin, fixture, organizer) = runtime.block_on(async {
            let db = TestDb::migrated().await;
            let admin = db.client().await;
            let f = fixture(&admin).await;
            let organizer = db
                .member(f.event, "olga", "Olga Organizer", "organizer")
                .await;
            (db, admin, f, organizer)
        });
        Desk {
            runtime,
            _db: db,
            admin,
            fixture,
            organizer,
        }
    }

    /// Runs `case` for each generated text (a modest number: each is a few round trips).
    fn check(&mut self, case: impl Fn(&mut Desk, String) -> Result<(), TestCaseError>) {
        let mut runner = TestRunner::new(Config {
            cases: 40,
            failure_persistence: None,
            ..Config::default()
        });
        let desk = std::cell::RefCell::new(self);
        let outcome = runner.run(&operator_text(), |text| case(&mut desk.borrow_mut(), text));
        if let Err(failure) = outcome {
            panic!("{failure}");
        }
    }

    fn count(&self, sql: &str) -> i64 {
        self.runtime.block_on(async {
            self.admin
                .query_one(sql, &[&self.fixture.event])
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
                .get(0)
        })
    }
}

#[test]
fn a_scanned_code_is_recorded_as_sent_or_refused_in_one_sentence() {
    let mut desk = Desk::open();
    desk.check(|desk, code| {
        let refused_before = desk.count("SELECT count(*) FROM refused_scans WHERE event_id = $1");
        let scanned = desk.runtime.block_on(checkins::scan(
            &desk.organizer.client,
            desk.fixture.event,
            &code,
            "Gate A",
        ));
        let refused_after = desk.count("SELECT count(*) FROM refused_scans WHERE event_id = $1");
        match scanned {
            Ok(outcome) => {
                prop_assert!(!code.contains('\0'));
                prop_assert!(!outcome.accepted, "{code:?} let someone in");
                assert_sentence(outcome.message.as_deref().unwrap_or_default())?;
                prop_assert_eq!(refused_after, refused_before + 1);
                let (stored, length): (String, i32) = desk.runtime.block_on(async {
                    let row = desk
                        .admin
                        .query_one(
                            "SELECT code, code_length FROM refused_scans WHERE event_id = $1
                              ORDER BY id DESC LIMIT 1",
                            &[&desk.fixture.event],
                        )
                        .await
                        .expect("the refused scan");
                    (row.get(0), row.get(1))
                });
                // Kept as sent (the code the gate read, or its trimmed form), cut at 512 characters.
                let trimmed = code.trim_matches([' ', '\t', '\r', '\n']);
                let sent = [code.as_str(), trimmed]
                    .into_iter()
                    .find(|sent| sent.chars().count() == length as usize);
                prop_assert!(sent.is_some(), "{length} characters recorded for {code:?}");
                let kept: String = sent.unwrap_or_default().chars().take(512).collect();
                prop_assert_eq!(stored, kept);
            }
            Err(error) => {
                prop_assert!(code.contains('\0'), "{code:?} failed: {error:#}");
                assert_refused_before_the_database(&error)?;
                prop_assert_eq!(refused_after, refused_before, "nothing is recorded");
            }
        }
        Ok(())
    });
}

#[test]
fn a_search_answers_or_is_refused_in_one_sentence() {
    let mut desk = Desk::open();
    desk.check(|desk, query| {
        let found = desk.runtime.block_on(checkins::search(
            &desk.organizer.client,
            desk.fixture.event,
            &query,
        ));
        match found {
            Ok(hits) => {
                prop_assert!(!query.contains('\0'));
                for hit in hits {
                    prop_assert!(!hit.name.chars().any(char::is_control));
                }
            }
            Err(error) => {
                prop_assert!(query.contains('\0'), "{query:?} failed: {error:#}");
                assert_refused_before_the_database(&error)?;
            }
        }
        Ok(())
    });
}

#[test]
fn an_announcement_is_saved_verbatim_or_refused_in_one_sentence() {
    let mut desk = Desk::open();
    desk.check(|desk, text| {
        // Through the compose form's own checks, as the console saves it.
        let mut form = Compose::new();
        form.title = tui_input::Input::new(text.clone());
        form.content = tui_input::Input::new(format!("Body: {text}"));
        let Some((draft, _)) = form.check(&[], now(), FixedOffset::east_opt(0).expect("UTC"))
        else {
            for (_, error) in &form.errors {
                assert_sentence(error)?;
            }
            return Ok(());
        };
        let before = desk.count("SELECT count(*) FROM event_announcements WHERE event_id = $1");
        let saved = desk.runtime.block_on(announcements::save(
            &mut desk.organizer.client,
            desk.fixture.event,
            None,
            &draft,
            None,
        ));
        match saved {
            Ok(id) => {
                prop_assert!(!text.contains('\0'));
                let (title, content): (String, String) = desk.runtime.block_on(async {
                    let row = desk
                        .admin
                        .query_one(
                            "SELECT title, content FROM event_announcements WHERE id = $1",
                            &[&id],
                        )
                        .await
                        .expect("the saved announcement");
                    (row.get(0), row.get(1))
                });
                prop_assert_eq!(title, draft.title);
                prop_assert_eq!(content, draft.content);
            }
            Err(error) => {
                if text.contains('\0') {
                    assert_refused_before_the_database(&error)?;
                } else {
                    assert_refused_as_too_long(
                        &error,
                        "announcement_title",
                        200,
                        draft.title.trim(),
                    )?;
                }
                let after =
                    desk.count("SELECT count(*) FROM event_announcements WHERE event_id = $1");
                prop_assert_eq!(after, before, "nothing is saved");
            }
        }
        Ok(())
    });
}

/// A reason as the console's prompt sends it (trimmed), None when the prompt itself refuses it (empty).
fn prompt_reason(text: &str) -> Option<&str> {
    let reason = text.trim();
    (!reason.is_empty()).then_some(reason)
}

/// A reason the console passed on and the database refused: too long for `rule`, said by the rule in one
/// sentence with its limit (the console checks no length of its own).
fn assert_refused_as_too_long(
    error: &anyhow::Error,
    rule: &str,
    limit: usize,
    reason: &str,
) -> Result<(), TestCaseError> {
    prop_assert!(
        reason.chars().count() > limit,
        "{reason:?} was refused: {error:#}"
    );
    let failure = eventos::db::Failure::of(error);
    prop_assert_eq!(failure.rule(), Some(rule), "{:#}", error);
    prop_assert!(failure.sentence().contains("at most"), "{failure:?}");
    assert_sentence(failure.sentence())
}

#[test]
fn a_rejection_reason_is_stored_verbatim_or_refused_in_one_sentence() {
    let mut desk = Desk::open();
    desk.check(|desk, text| {
        let Some(reason) = prompt_reason(&text) else {
            return Ok(());
        };
        let (expense, rejected) = desk.runtime.block_on(async {
            // A fresh pending expense, submitted by someone else (four eyes).
            let expense: Uuid = desk
                .admin
                .query_one(
                    "INSERT INTO event_expenses (event_id, created_by, expense_name, expense_category, amount, currency)
                     VALUES ($1, $2, 'Ice', 'catering', 10, 'CAD') RETURNING id",
                    &[&desk.fixture.event, &desk.fixture.profile],
                )
                .await
                .expect("a pending expense")
                .get(0);
            let rejected = expenses::reject(&desk.organizer.client, expense, reason).await;
            (expense, rejected)
        });
        let (status, stored): (String, Option<String>) = desk.runtime.block_on(async {
            let row = desk
                .admin
                .query_one(
                    "SELECT status, rejection_reason FROM event_expenses WHERE id = $1",
                    &[&expense],
                )
                .await
                .expect("the expense");
            (row.get(0), row.get(1))
        });
        match rejected {
            Ok(()) => {
                prop_assert_eq!(status, "rejected");
                prop_assert_eq!(stored.as_deref(), Some(reason));
            }
            Err(error) => {
                if reason.contains('\0') {
                    assert_refused_before_the_database(&error)?;
                } else {
                    assert_refused_as_too_long(&error, "rejection_reason", 1000, reason)?;
                }
                prop_assert_eq!(status, "pending", "nothing changed");
            }
        }
        Ok(())
    });
}

#[test]
fn a_cancel_reason_is_stored_verbatim_or_refused_in_one_sentence() {
    let mut desk = Desk::open();
    desk.check(|desk, text| {
        let Some(reason) = prompt_reason(&text) else {
            return Ok(());
        };
        let (entry, cancelled) = desk.runtime.block_on(async {
            // A fresh waiting entry in the session's queue.
            let entry: Uuid = desk
                .admin
                .query_one(
                    "WITH a AS (INSERT INTO attendees (event_id, first_name, last_name, email)
                                VALUES ($1, 'Wanda', 'Waiting', gen_random_uuid() || '@example.org')
                                RETURNING id)
                     INSERT INTO event_waitlists (event_id, attendee_id, session_id, waitlist_reason)
                     SELECT $1, a.id, $2, 'session_full' FROM a RETURNING id",
                    &[&desk.fixture.event, &desk.fixture.session],
                )
                .await
                .expect("a waiting entry")
                .get(0);
            let cancelled = waitlist::cancel(&desk.organizer.client, entry, reason).await;
            (entry, cancelled)
        });
        let (status, stored): (String, Option<String>) = desk.runtime.block_on(async {
            let row = desk
                .admin
                .query_one(
                    "SELECT status, cancel_reason FROM event_waitlists WHERE id = $1",
                    &[&entry],
                )
                .await
                .expect("the entry");
            (row.get(0), row.get(1))
        });
        match cancelled {
            Ok(()) => {
                prop_assert_eq!(status, "cancelled");
                prop_assert_eq!(stored.as_deref(), Some(reason));
            }
            Err(error) => {
                if reason.contains('\0') {
                    assert_refused_before_the_database(&error)?;
                } else {
                    assert_refused_as_too_long(&error, "cancel_reason", 500, reason)?;
                }
                prop_assert_eq!(status, "waiting", "nothing changed");
            }
        }
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------------------
// Pseudo-terminal level: the real binary

/// A bracketed paste, as a terminal sends one.
fn paste(text: &str) -> String {
    format!("\u{1b}[200~{text}\u{1b}[201~")
}

#[tokio::test]
async fn a_hostile_paste_burst_and_a_resize_storm_leave_the_console_up_and_the_terminal_restored() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    fixture(&admin).await;
    let mut console = common::pty::Console::start(&db.url, &["--event", "fixture-conf"], 80, 24);
    console
        .wait_for(&["Fixture Conf", "LIVE"], async || {})
        .await;

    // Pasted on the desk, with no text box open, "?q" is neither help nor quit: one sentence, nothing
    // else.
    console.send(&paste("?q"));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let screen = console.text();
    assert!(
        screen.contains("Fixture Conf") && !screen.contains("Keys (Esc closes)"),
        "a paste pressed the desk's keys:\n{screen}"
    );

    // Into the scan box: a long burst with escape sequences and NUL in it is refused whole, in one
    // sentence, and reaches neither the box nor the terminal.
    console.send("s");
    console.wait_for(&["SCAN>"], async || {}).await;
    let burst = format!(
        "{}\u{1b}]0;pwned\u{7}\u{1b}[2J\0שלום界😀END9",
        "A".repeat(300)
    );
    console.send(&paste(&burst));
    let screen = console
        .wait_for(&["the paste holds a control character"], async || {})
        .await;
    assert!(
        screen.contains("Fixture Conf") && screen.contains("SCAN> _"),
        "the screen was cleared or the box took the paste:\n{screen}"
    );
    // The same without the control characters: the box shows the end being typed, however long.
    console.send(&paste(&format!("{}שלום界😀END9", "A".repeat(300))));
    console.wait_for(&["END9"], async || {}).await;
    // A C1 control character typed (CSI, which some terminals obey like ESC [) is refused in one
    // sentence, not kept invisibly in the code.
    console.send("\u{9b}");
    console
        .wait_for(&["control characters cannot be typed"], async || {})
        .await;
    console.send("\r");
    console.wait_for(&["REFUSED"], async || {}).await;

    // Into the search: right-to-left and wide text.
    console.send("\u{1b}");
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    console.send("/");
    console.wait_for(&["Search attendees:"], async || {}).await;
    console.send(&paste("שלום界"));
    console.wait_for(&["nobody matches"], async || {}).await;

    // A resize storm, tiny sizes included; the console draws through it and comes back whole.
    for (cols, rows) in [
        (20, 5),
        (200, 60),
        (1, 1),
        (79, 23),
        (132, 43),
        (2, 80),
        (80, 24),
    ] {
        console.resize(cols, rows);
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    }
    console.resize(60, 10);
    console
        .wait_for(&["terminal too small (needs 80x24)"], async || {})
        .await;
    console.resize(80, 24);
    let screen = console
        .wait_for(&["Fixture Conf", "Search attendees:"], async || {})
        .await;
    assert!(!screen.contains("pwned\u{7}"), "{screen}");
    let written = console.raw_text();
    assert!(
        !written.contains("]0;pwned"),
        "the pasted title sequence reached the terminal"
    );

    console.send("\u{1b}");
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    console.send("q");
    let status = console.wait_exit().await;
    assert!(status.success(), "{status:?}");
    console.assert_restored();
}

//! The real binary in a pseudo-terminal against a real database: what an operator sees, live changes
//! from other connections, a broken realtime link and its recovery, signals, small terminals.

mod common;

use std::time::{Duration, Instant};

use common::pty::{Console, WAIT};
use common::{Fixture, TestDb, fixture};

async fn flush(client: &tokio_postgres::Client) {
    client
        .query_one("SELECT realtime_flush()", &[])
        .await
        .expect("flush");
}

async fn checks_in_alan(client: &tokio_postgres::Client, f: &Fixture) {
    client
        .execute(
            "INSERT INTO event_checkins (event_id, attendee_id, ticket_id, gate, check_in_method)
             VALUES ($1, $2, $3, 'South Gate', 'qr_code')",
            &[&f.event, &f.other_attendee, &f.other_ticket],
        )
        .await
        .expect("check in from another connection");
}

#[tokio::test]
async fn a_check_in_elsewhere_appears_live_and_q_restores_the_terminal() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let mut console = Console::start(&db.url, &["--event", "fixture-conf"], 80, 24);
    let screen = console
        .wait_for(&["Fixture Conf", "LIVE", "Checked in 1 / 2"], async || {})
        .await;
    assert!(screen.contains("Ada Lovelace"), "{screen}");

    checks_in_alan(&admin, &f).await;
    console
        .wait_for(
            &["Alan Turing", "South Gate", "Checked in 2 / 2"],
            async || flush(&admin).await,
        )
        .await;

    console.send("q");
    let status = console.wait_exit().await;
    assert!(status.success(), "{status:?}");
    console.assert_restored();
}

#[tokio::test]
async fn with_no_worker_the_console_announces_check_ins_itself_and_says_so() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let console = Console::start(&db.url, &["--event", "fixture-conf"], 80, 24);
    console
        .wait_for(&["LIVE, NO WORKER", "Checked in 1 / 2"], async || {})
        .await;

    // Nobody flushes but the console itself.
    checks_in_alan(&admin, &f).await;
    console
        .wait_for(
            &["Alan Turing", "South Gate", "Checked in 2 / 2"],
            async || {},
        )
        .await;

    // A worker turns up: the header says LIVE alone at its next liveness check.
    let deadline = Instant::now() + WAIT;
    loop {
        admin
            .query_one("SELECT worker_heartbeat()", &[])
            .await
            .expect("a worker's heartbeat");
        let text = console.text();
        if text.contains("LIVE") && !text.contains("NO WORKER") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the header still says no worker:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_killed_listener_shows_reconnecting_then_live_with_the_right_counts() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let server = common::server_client().await;
    let mut console = Console::start(&db.url, &["--event", "fixture-conf"], 80, 24);
    console
        .wait_for(&["LIVE", "Checked in 1 / 2"], async || {})
        .await;

    // Keep it from reconnecting while the change happens, so the hint is really missed.
    server
        .batch_execute(&format!(
            "ALTER DATABASE {} ALLOW_CONNECTIONS false",
            db.name
        ))
        .await
        .expect("hold connections");
    let killed: i64 = server
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
              WHERE datname = $1 AND application_name = 'eventos-console-listener'",
            &[&db.name],
        )
        .await
        .expect("terminate the listener")
        .get(0);
    assert_eq!(killed, 1, "exactly one listener");
    console.wait_for(&["RECONNECTING since"], async || {}).await;
    assert!(!console.text().contains("LIVE"));

    checks_in_alan(&admin, &f).await;
    flush(&admin).await;
    server
        .batch_execute(&format!(
            "ALTER DATABASE {} ALLOW_CONNECTIONS true",
            db.name
        ))
        .await
        .expect("allow connections");

    let screen = console
        .wait_for(&["LIVE", "Checked in 2 / 2", "Alan Turing"], async || {})
        .await;
    assert!(!screen.contains("RECONNECTING"), "{screen}");

    // Back, the console has put its time without the database on the event's incident timeline.
    console.send("6");
    console
        .wait_for(
            &["outages", "a console without the database from"],
            async || {},
        )
        .await;
    let reported: i64 = admin
        .query_one(
            "SELECT count(*) FROM connection_outages
              WHERE event_id = $1 AND who = 'console' AND back_at - lost_at >= interval '0'",
            &[&f.event],
        )
        .await
        .expect("outages")
        .get(0);
    assert_eq!(reported, 1, "reported once");
}

#[tokio::test]
async fn sigterm_and_sighup_restore_the_terminal() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    fixture(&admin).await;
    for signal in ["TERM", "HUP"] {
        let mut console = Console::start(&db.url, &["--event", "fixture-conf"], 80, 24);
        console.wait_for(&["LIVE"], async || {}).await;
        let pid = console.pid();
        let sent = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &pid.to_string()])
            .status()
            .expect("kill");
        assert!(sent.success());
        let status = console.wait_exit().await;
        assert!(status.success(), "SIG{signal}: {status:?}");
        console.assert_restored();
    }
}

#[tokio::test]
async fn a_small_terminal_says_so_until_it_grows() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    fixture(&admin).await;
    let mut console = Console::start(&db.url, &["--event", "fixture-conf"], 70, 20);
    console
        .wait_for(&["terminal too small (needs 80x24)"], async || {})
        .await;
    console.resize(80, 24);
    console
        .wait_for(&["Fixture Conf", "Check-ins"], async || {})
        .await;
    console.send("\x03"); // Ctrl-C
    let status = console.wait_exit().await;
    assert!(status.success());
    console.assert_restored();
}

#[tokio::test]
async fn a_volunteer_sees_their_desks_and_a_refused_key_says_why() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let volunteer = db
        .member(f.event, "vol", "Val Volunteer", "volunteer")
        .await;
    let mut console = Console::start(
        &db.url_as(&volunteer.role),
        &["--event", "fixture-conf"],
        80,
        24,
    );
    let screen = console
        .wait_for(&["Val Volunteer (volunteer)", "LIVE"], async || {})
        .await;
    assert!(
        !screen.contains("Expenses"),
        "a volunteer has no Expenses desk:\n{screen}"
    );
    console.send("2");
    console.wait_for(&["Opening keynote"], async || {}).await;
    console.send("x");
    console
        .wait_for(
            &["your role (volunteer) does not include manage sessions"],
            async || {},
        )
        .await;
    // Scanning is theirs: an unknown code is refused by the database and logged.
    console.send("1s");
    console.wait_for(&["SCAN>"], async || {}).await;
    console.send("NOT-A-TICKET\r");
    console.wait_for(&["REFUSED", "unknown"], async || {}).await;
    let logged: i64 = admin
        .query_one(
            "SELECT count(*) FROM refused_scans WHERE code = 'NOT-A-TICKET' AND gate = 'Control room'",
            &[],
        )
        .await
        .expect("refused scans")
        .get(0);
    assert_eq!(logged, 1);
    // Esc and q apart: sent together they read as Alt-q, as in any terminal.
    console.send("\x1b");
    tokio::time::sleep(Duration::from_millis(200)).await;
    console.send("q");
    assert!(console.wait_exit().await.success());
}

#[tokio::test]
async fn an_unknown_event_is_one_sentence_and_no_screen() {
    let db = TestDb::migrated().await;
    let output = common::eventos(&["--database-url", &db.url, "console", "--event", "nope"])
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("no event \"nope\""), "{stderr}");
    assert!(output.stdout.is_empty(), "nothing drawn");
}

#[tokio::test]
async fn the_demo_opens_the_console_and_q_stops_its_server() {
    use eventos::demo::cluster::{find_server_binaries, scratch_root};
    match find_server_binaries().await {
        Ok(_) => {}
        Err(why) => {
            eprintln!("skipped: {why:#}");
            return;
        }
    }
    let root = scratch_root("demo-console").expect("scratch");
    let root_text = root.display().to_string();
    let mut demo = Console::run(
        &[
            "demo",
            "--attendees",
            "200",
            "--rate",
            "5",
            "--data-dir",
            &root_text,
        ],
        80,
        24,
    );
    demo.wait_longer(
        Duration::from_secs(90),
        &["Northwind Tech Summit", "(organizer)", "LIVE", "Checked in"],
        async || {},
    )
    .await;
    demo.send("q");
    let status = demo.wait_exit().await;
    assert!(status.success(), "{status:?}\n{}", demo.text());
    demo.assert_restored();
    assert!(
        !common::server_running(&root.join("data")),
        "the demo left its server running"
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[tokio::test]
async fn expenses_submitted_and_decided_elsewhere_appear_live_and_a_approves() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let organizer = db
        .member(f.event, "org", "Olga Organizer", "organizer")
        .await;
    let coordinator = db
        .member(f.event, "coord", "Cody Coordinator", "coordinator")
        .await;
    let finance = db.member(f.event, "fin", "Fay Finance", "organizer").await;
    let mut console = Console::start(
        &db.url_as(&organizer.role),
        &["--event", "fixture-conf"],
        80,
        24,
    );
    console
        .wait_for(&["LIVE", "Olga Organizer"], async || {})
        .await;
    console.send("5");
    console
        .wait_for(&["450.00 CAD", "Showing pending (1)"], async || {})
        .await;

    // Another operator submits: it appears, oldest first, without a key pressed.
    coordinator
        .client
        .query_one(
            "SELECT submit_expense($1, 'Stage lights', 1200.00, 'technology', NULL, 'Bright Lights')",
            &[&f.event],
        )
        .await
        .expect("submit");
    console
        .wait_for(
            &["1,200.00 CAD", "Bright Lights", "Showing pending (2)"],
            async || {},
        )
        .await;

    // Approve it from the keyboard: confirm first, then the database decides.
    console.send("j");
    console.send("a");
    console
        .wait_for(&["Approve expense", "[ Cancel ]"], async || {})
        .await;
    console.send("y");
    console
        .wait_for(
            &["approved Stage lights", "Showing pending (1)"],
            async || {},
        )
        .await;
    let (status, approver): (String, Option<uuid::Uuid>) = {
        let row = admin
            .query_one(
                "SELECT status, approved_by FROM event_expenses WHERE expense_name = 'Stage lights'",
                &[],
            )
            .await
            .expect("expense");
        (row.get(0), row.get(1))
    };
    assert_eq!(status, "approved");
    assert_eq!(approver, Some(organizer.profile));

    // Decided by someone else: it leaves the queue live.
    finance
        .client
        .query_one("SELECT id FROM approve_expense($1)", &[&f.expense])
        .await
        .expect("approve elsewhere");
    console
        .wait_for(&["Showing pending (0)"], async || {})
        .await;
    console.send("q");
    assert!(console.wait_exit().await.success());
}

/// A USB scanner types a code and Enter in a few milliseconds, whatever desk is open. Its letters are
/// desk keys (A approves every marked expense, r rejects, p pays, f filters) and its digits switch
/// desks: the burst must be one scan at this console's gate and nothing else.
#[tokio::test]
async fn a_scanner_burst_on_another_desk_is_a_scan_and_presses_no_keys() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    admin
        .execute(
            "UPDATE tickets SET code = 'ARPAF2J5' WHERE id = $1",
            &[&f.other_ticket],
        )
        .await
        .expect("a code made of desk keys");
    let organizer = db
        .member(f.event, "org", "Olga Organizer", "organizer")
        .await;
    let mut console = Console::start(
        &db.url_as(&organizer.role),
        &["--event", "fixture-conf"],
        80,
        24,
    );
    console
        .wait_for(&["LIVE", "Olga Organizer"], async || {})
        .await;
    console.send("5");
    console
        .wait_for(&["450.00 CAD", "Showing pending (1)"], async || {})
        .await;
    console.send(" ");
    console.wait_for(&["1 marked"], async || {}).await;

    console.send("ARPAF2J5\r");
    let screen = console
        .wait_for(&["ACCEPTED Alan Turing"], async || {})
        .await;
    assert!(
        screen.contains("Showing pending (1)") && !screen.contains("[ Cancel ]"),
        "the scan changed the desk or opened a dialog:\n{screen}"
    );
    let status: String = admin
        .query_one(
            "SELECT status FROM event_expenses WHERE id = $1",
            &[&f.expense],
        )
        .await
        .expect("expense")
        .get(0);
    assert_eq!(status, "pending");
    let gate: Option<String> = admin
        .query_one(
            "SELECT gate FROM event_checkins WHERE attendee_id = $1 AND session_id IS NULL AND is_present",
            &[&f.other_attendee],
        )
        .await
        .expect("Alan's entry")
        .get(0);
    assert_eq!(gate.as_deref(), Some("Control room"));

    // A person pressing the same keys one at a time still gets the desk's keys.
    tokio::time::sleep(Duration::from_millis(200)).await;
    console.send("1");
    console.wait_for(&["Checked in"], async || {}).await;
    console.send("q");
    assert!(console.wait_exit().await.success());
}

/// At 160x48 with the scan box open and a person halfway through typing a code by hand, a scanner's
/// burst is its own scan, once: it neither joins the typed text nor is typed into the box as well, and the
/// person's half-typed text is still there to finish.
#[tokio::test]
async fn a_burst_into_an_open_scan_box_is_one_scan_and_leaves_typing_alone() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let code: String = admin
        .query_one("SELECT code FROM tickets WHERE id = $1", &[&f.other_ticket])
        .await
        .expect("Alan's code")
        .get(0);
    let organizer = db
        .member(f.event, "org", "Olga Organizer", "organizer")
        .await;
    let mut console = Console::start(
        &db.url_as(&organizer.role),
        &["--event", "fixture-conf"],
        160,
        48,
    );
    console.wait_for(&["LIVE"], async || {}).await;
    console.send("s");
    console.wait_for(&["SCAN>"], async || {}).await;
    // A person, one key at a time.
    for key in ["X", "Y", "Z"] {
        tokio::time::sleep(Duration::from_millis(150)).await;
        console.send(key);
    }
    console.wait_for(&["SCAN> XYZ"], async || {}).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    console.send(&format!("{code}\r"));
    let screen = console
        .wait_for(&["ACCEPTED Alan Turing"], async || {})
        .await;
    assert!(
        screen.contains("SCAN> XYZ") && !screen.contains(&format!("XYZ{code}")),
        "the burst joined the typed text:\n{screen}"
    );
    let entries: i64 = admin
        .query_one(
            "SELECT count(*) FROM event_checkins WHERE attendee_id = $1 AND session_id IS NULL",
            &[&f.other_attendee],
        )
        .await
        .expect("entries")
        .get(0);
    assert_eq!(entries, 1);
    let refused: i64 = admin
        .query_one("SELECT count(*) FROM refused_scans", &[])
        .await
        .expect("refused scans")
        .get(0);
    assert_eq!(refused, 0, "the burst was not scanned a second time");
    console.send("\x1b");
    tokio::time::sleep(Duration::from_millis(300)).await;
    console.send("q");
    assert!(console.wait_exit().await.success());
}

#[tokio::test]
async fn the_waitlist_offers_from_the_keyboard_and_shows_others_changes_live() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let organizer = db
        .member(f.event, "org", "Olga Organizer", "organizer")
        .await;
    let coordinator = db
        .member(f.event, "coord", "Cody Coordinator", "coordinator")
        .await;
    let mut console = Console::start(
        &db.url_as(&organizer.role),
        &["--event", "fixture-conf"],
        80,
        24,
    );
    console.wait_for(&["LIVE"], async || {}).await;
    // From the Sessions desk to the session's queue.
    console.send("2");
    console.wait_for(&["Opening keynote"], async || {}).await;
    console.send("w");
    console
        .wait_for(
            &["Queue: Opening keynote", "Alan Turing", "waiting"],
            async || {},
        )
        .await;
    console.send("o");
    // The dialog names who gets the offer.
    console
        .wait_for(
            &["Offer next", "Alan Turing", "#1 in line", "[ Cancel ]"],
            async || {},
        )
        .await;
    console.send("y");
    console
        .wait_for(&["offered 1 of 1 places", "offered"], async || {})
        .await;
    let status: String = admin
        .query_one(
            "SELECT status FROM event_waitlists WHERE id = $1",
            &[&f.waitlist],
        )
        .await
        .expect("entry")
        .get(0);
    assert_eq!(status, "offered");
    // The countdown runs (m:ss), and a change by another operator shows up without a key.
    let before = console.wait_for(&[":"], async || {}).await;
    assert!(before.contains("offered"), "{before}");
    coordinator
        .client
        .query_one(
            "SELECT id FROM cancel_waitlist_entry($1, 'found a seat elsewhere')",
            &[&f.waitlist],
        )
        .await
        .expect("cancel elsewhere");
    console
        .wait_for(&["Nobody is waiting here."], async || {})
        .await;
    console.send("q");
    assert!(console.wait_exit().await.success());
}

#[tokio::test]
async fn an_announcement_written_at_the_keyboard_is_saved_and_others_sends_appear_live() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let marketing = db
        .member(f.event, "mkt", "Max Marketing", "marketing")
        .await;
    let organizer = db
        .member(f.event, "org", "Olga Organizer", "organizer")
        .await;
    let mut console = Console::start(
        &db.url_as(&marketing.role),
        &["--event", "fixture-conf"],
        80,
        24,
    );
    console
        .wait_for(&["LIVE", "Max Marketing (marketing)"], async || {})
        .await;
    console.send("4");
    console.wait_for(&["Welcome", "Draft 1"], async || {}).await;

    // Compose: title, two lines of content, the keynote's audience in the room, scheduled later today.
    console.send("n");
    console.wait_for(&["New announcement"], async || {}).await;
    console.send("Room change\t");
    console.send("The keynote moves to Hall B.\rSee you there.\t");
    console.send("\t\t");
    console.send("keynote\t");
    console.send("\t");
    console.send("\x13"); // Ctrl-S
    console
        .wait_for(&["saved the draft: Room change", "Draft 2"], async || {})
        .await;
    let row = admin
        .query_one(
            "SELECT status, content, target_sessions, author_id FROM event_announcements WHERE title = 'Room change'",
            &[],
        )
        .await
        .expect("saved");
    assert_eq!(row.get::<_, String>(0), "draft");
    assert_eq!(
        row.get::<_, String>(1),
        "The keynote moves to Hall B.\nSee you there."
    );
    assert_eq!(row.get::<_, Vec<uuid::Uuid>>(2), vec![f.session]);
    assert_eq!(row.get::<_, Option<uuid::Uuid>>(3), Some(marketing.profile));

    // Another operator sends the fixture's announcement: it moves to sent, live.
    organizer
        .client
        .query_one(
            "SELECT id FROM send_announcement_now($1)",
            &[&f.announcement],
        )
        .await
        .expect("send elsewhere");
    console.wait_for(&["Sent 1", "Draft 1"], async || {}).await;
    console.send("q");
    assert!(console.wait_exit().await.success());
}

#[tokio::test]
async fn an_expired_offer_rolls_to_the_next_person_on_screen() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let grace: uuid::Uuid = admin
        .query_one(
            "INSERT INTO attendees (event_id, first_name, last_name, email)
             VALUES ($1, 'Grace', 'Hopper', 'grace@example.org') RETURNING id",
            &[&f.event],
        )
        .await
        .expect("attendee")
        .get(0);
    admin
        .query_one(
            "SELECT id FROM join_waitlist($1, $2)",
            &[&grace, &f.session],
        )
        .await
        .expect("Grace joins the queue");
    let mut console = Console::start(&db.url, &["--event", "fixture-conf"], 80, 24);
    console.wait_for(&["LIVE"], async || {}).await;
    console.send("3");
    console
        .wait_for(&["Alan Turing", "Grace Hopper", "Waiting 2"], async || {})
        .await;
    admin
        .query(
            "SELECT id FROM offer_next($1, $2, 1)",
            &[&f.event, &f.session],
        )
        .await
        .expect("offer");
    console
        .wait_for(&["Offered 1", "Waiting 1"], async || {})
        .await;
    // Time passes: the offer window (a minute at the least) is over. Moved back with the rules'
    // triggers off for this one statement, as the clock would.
    admin
        .batch_execute(&format!(
            "SET session_replication_role = replica;
             UPDATE event_waitlists SET expires_at = now() - interval '1 second'
              WHERE session_id = '{}' AND status = 'offered';
             SET session_replication_role = origin;",
            f.session
        ))
        .await
        .expect("the offer runs out");
    // The worker's sweep moves the offer on; the desk shows it happen.
    let swept: i32 = admin
        .query_one("SELECT expire_offers()", &[])
        .await
        .expect("sweep")
        .get(0);
    assert_eq!(swept, 1);
    let screen = console
        .wait_for(&["Waiting 0", "Offered 1", "Grace Hopper"], async || {})
        .await;
    assert!(
        !screen.contains("Alan Turing"),
        "the expired entry left the queue:\n{screen}"
    );
    console.send("q");
    assert!(console.wait_exit().await.success());
}

#[tokio::test]
async fn several_live_events_bring_up_a_picker() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    admin
        .execute(
            "INSERT INTO events (slug, name, venue_id, organizer_id, starts_at, ends_at, time_zone, currency)
             SELECT 'other-conf', 'Other Conf', venue_id, organizer_id, now() - interval '1 hour',
                    now() + interval '5 hours', time_zone, currency
               FROM events WHERE id = $1",
            &[&f.event],
        )
        .await
        .expect("a second event live today");
    let mut console = Console::start(&db.url, &[], 80, 24);
    console
        .wait_for(
            &[
                "Several events are live today",
                "Fixture Conf",
                "Other Conf",
            ],
            async || {},
        )
        .await;
    console.send("j\r");
    console
        .wait_for(&["Other Conf", "LIVE", "Checked in 0 / 0"], async || {})
        .await;
    console.send("q");
    assert!(console.wait_exit().await.success());
}

/// `url` with `application_name` set, so a test can find that process's backend.
fn named(url: &str, name: &str) -> String {
    let joiner = if url.contains('?') { '&' } else { '?' };
    format!("{url}{joiner}application_name={name}")
}

/// Terminates this database's backends that `filter` (SQL over pg_stat_activity) picks; how many.
async fn terminate(server: &tokio_postgres::Client, db: &str, filter: &str) -> i64 {
    server
        .query_one(
            &format!(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                  WHERE datname = $1 AND pid <> pg_backend_pid() AND ({filter})"
            ),
            &[&db],
        )
        .await
        .expect("terminate")
        .get(0)
}

/// Faults while the doors are busy, with the gate simulator scanning and a worker running: the
/// console's pooled connections are cut, then its listening connection, then the worker's. The console
/// says what happened, comes back LIVE on its own, and once the doors are quiet its numbers equal a
/// recount in the database; the worker carries on; every rule of the event holds.
#[tokio::test]
async fn faults_under_load_are_recovered_alone_and_the_numbers_end_right() {
    use eventos::demo::seed::{SeedOptions, operator_login, seed};

    let db = TestDb::migrated().await;
    let slug = db.name.replace('_', "-");
    db.adopt_seed_operators(&slug);
    let mut admin = db.client().await;
    let report = seed(
        &mut admin,
        &SeedOptions {
            slug: slug.clone(),
            attendees: 800,
            seed: 5,
        },
    )
    .await
    .expect("seed");
    let server = common::server_client().await;
    let mut worker =
        common::eventos(&["worker", "--database-url", &named(&db.url, "fault-worker")])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("a worker");
    let organizer = operator_login(&slug, "organizer");
    let console = Console::start(&db.url_as(&organizer), &["--event", &slug], 80, 24);
    console.wait_for(&["LIVE"], async || {}).await;
    let mut simulator = common::eventos(&[
        "simulate",
        "--database-url",
        &db.url,
        "--event",
        &slug,
        "--duration",
        "12",
        "--rate",
        "40",
        "--gates",
        "4",
        "--gate-login",
        &operator_login(&slug, "volunteer"),
        "--floor-login",
        &operator_login(&slug, "finance"),
    ])
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .spawn()
    .expect("the simulator");
    let settle = || tokio::time::sleep(Duration::from_secs(2));
    settle().await;

    // The pool's connections: the next read fails, says so, and the console reads everything again.
    let pooled = terminate(
        &server,
        &db.name,
        &format!("usename = '{organizer}' AND application_name <> 'eventos-console-listener'"),
    )
    .await;
    assert!(pooled >= 1, "the console had no pooled connection");
    settle().await;
    console.wait_for(&["LIVE"], async || {}).await;

    // The listening connection: RECONNECTING, then LIVE with everything read again.
    let listeners = terminate(
        &server,
        &db.name,
        &format!("usename = '{organizer}' AND application_name = 'eventos-console-listener'"),
    )
    .await;
    assert_eq!(listeners, 1);
    console.wait_for(&["RECONNECTING since"], async || {}).await;
    console.wait_for(&["LIVE"], async || {}).await;

    // The worker's connection: it reconnects and goes on announcing.
    let workers = terminate(&server, &db.name, "application_name = 'fault-worker'").await;
    assert_eq!(workers, 1, "the worker's one connection");

    let status = simulator.wait().expect("the simulator ends");
    assert!(status.success(), "{status:?}");
    // Quiet doors: the screen ends equal to a recount of the rows.
    let (checked, inside) = common::recounted_totals(&admin, report.event_id).await;
    let screen = console
        .wait_longer(
            Duration::from_secs(30),
            &[&checked, &inside, "LIVE"],
            async || {},
        )
        .await;
    assert!(!screen.contains("RECONNECTING"), "{screen}");
    assert_eq!(
        common::rule_violations(&admin, report.event_id).await,
        Vec::<String>::new()
    );
    let _ = worker.kill();
    let _ = worker.wait();
}

/// Gate watch in the real console: with no worker, the console's own flush sweeps the gates; a gate
/// that went quiet while another scans shows its alert over the feed, `a` acknowledges it (one key, in
/// the operator's name), and `f` shows every gate with its last entry and the alert.
#[tokio::test]
async fn a_silent_gate_is_shown_acknowledged_with_one_key_and_listed_with_the_gates() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let door = db.member(f.event, "dora", "Dora Door", "volunteer").await;
    common::gate_one_goes_quiet(&admin, &f).await;
    let mut console = Console::start(&db.url_as(&door.role), &["--event", "fixture-conf"], 80, 24);
    console
        .wait_for(
            &["LIVE, NO WORKER", "! Gate 1 silent since", "a acknowledges"],
            async || {},
        )
        .await;

    console.send("a");
    console
        .wait_for(
            &["acknowledged the alert at Gate 1", "seen by Dora Door at"],
            async || {},
        )
        .await;
    let by: String = admin
        .query_one(
            "SELECT profile_name(acknowledged_by) FROM gate_alerts WHERE event_id = $1",
            &[&f.event],
        )
        .await
        .expect("the alert")
        .get(0);
    assert_eq!(by, "Dora Door");

    console.send("f");
    let screen = console
        .wait_for(&["All gates (2)", "Last in", "SILENT seen"], async || {})
        .await;
    assert!(screen.contains("Gate 2"), "{screen}");
    console.send("q");
    assert!(console.wait_exit().await.success());
}

/// The Incidents desk in the real console, as an organizer: the timeline shows what happened (a check-in
/// by hand), `n` writes a note that appears in it at once, `k` shows one kind at a time.
#[tokio::test]
async fn the_incident_desk_shows_the_timeline_and_takes_a_note() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let olga = db
        .member(f.event, "olga", "Olga Organizer", "organizer")
        .await;
    olga.client
        .query_one(
            "SELECT * FROM check_in_attendee($1, 'Help desk')",
            &[&f.other_attendee],
        )
        .await
        .expect("a check-in by hand");
    admin
        .query_one("SELECT worker_heartbeat()", &[])
        .await
        .expect("chained");
    let mut console = Console::start(
        &db.url_as(&olga.role),
        &["--event", "fixture-conf"],
        100,
        30,
    );
    console
        .wait_for(&["LIVE", "6 Incidents"], async || {})
        .await;
    console.send("6");
    console
        .wait_for(
            &[
                "Timeline: every kind",
                "Alan Turing checked in by hand at Help desk",
            ],
            async || {},
        )
        .await;
    console.send("n");
    console.wait_for(&["Incident note"], async || {}).await;
    console.send("Side door alarm tested, all fine.\r");
    console
        .wait_for(
            &[
                "the note is in the timeline",
                "note: Side door alarm tested, all fine.",
            ],
            async || {
                let _ = admin.query_one("SELECT worker_heartbeat()", &[]).await;
            },
        )
        .await;
    console.send("k");
    let screen = console.wait_for(&["Timeline: alerts"], async || {}).await;
    assert!(!screen.contains("checked in by hand"), "{screen}");
    console.send("q");
    assert!(console.wait_exit().await.success());
}

/// A session heading for capacity in the real console, as an organizer: the Sessions desk says when it
/// fills and how sure, and `n` opens a notice to its attendees written for the operator to finish.
#[tokio::test]
async fn a_session_filling_up_says_when_and_n_drafts_a_notice_about_it() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let olga = db
        .member(f.event, "olga", "Olga Organizer", "organizer")
        .await;
    // 16 seats taken in the last minutes (the fixture's one and 15 more): 14 left at about one a minute.
    let people = common::workshop_later_today(&admin, &f, 30, 15).await;
    for person in &people {
        olga.client
            .query_one(
                "SELECT id FROM register_session_seat($1, $2)",
                &[&f.session, person],
            )
            .await
            .expect("a seat");
    }
    let mut console = Console::start(&db.url_as(&olga.role), &["--event", "fixture-conf"], 80, 24);
    console.wait_for(&["LIVE"], async || {}).await;
    console.send("2");
    console
        .wait_for(
            &[
                "16/30",
                "full ~",
                "full in about",
                "registrations in 15 min",
            ],
            async || {},
        )
        .await;
    console.send("n");
    let screen = console
        .wait_for(&["is expected to be full in about"], async || {})
        .await;
    assert!(screen.contains("high"), "a notice goes out high: {screen}");
    // Left unsaved: Esc closes the form and nothing is written.
    console.send("\x1b");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let drafts: i64 = admin
        .query_one(
            "SELECT count(*) FROM event_announcements WHERE event_id = $1 AND content LIKE '%expected to be full%'",
            &[&f.event],
        )
        .await
        .expect("announcements")
        .get(0);
    assert_eq!(drafts, 0, "nothing is sent or saved without the operator");
    console.send("q");
    assert!(console.wait_exit().await.success());
}

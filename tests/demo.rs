//! `eventos demo` and `eventos simulate`: the private cluster starts, migrates, seeds and stops; a
//! simulation leaves every rule intact.

mod common;

use common::{TestDb, eventos, rule_violations};
use eventos::demo::cluster::{find_server_binaries, scratch_root};
use eventos::demo::seed::{SeedOptions, operator_login, seed};

#[tokio::test]
async fn the_demo_runs_a_private_server_and_leaves_none_running() {
    if let Err(why) = find_server_binaries().await {
        eprintln!("skipped: {why:#}");
        return;
    }
    let root = scratch_root("demo").expect("scratch");
    let run = || {
        eventos(&[
            "demo",
            "--duration",
            "3",
            "--attendees",
            "200",
            "--rate",
            "5",
            "--data-dir",
        ])
        .arg(&root)
        .env_remove("DATABASE_URL")
        .output()
        .expect("eventos demo")
    };
    let first = run();
    let stdout = String::from_utf8_lossy(&first.stdout).to_string();
    assert!(
        first.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&first.stderr)
    );
    for expected in [
        "private PostgreSQL in",
        "migrating",
        "seeded event northwind-summit",
        "The event is live",
        "stopping the private server",
    ] {
        assert!(
            stdout.contains(expected),
            "{expected:?} missing from:\n{stdout}"
        );
    }
    assert!(
        !common::server_running(&root.join("data")),
        "the demo left its server running"
    );

    // A second run reuses the cluster but starts a fresh event: the first did not --keep its own.
    let second = run();
    let stdout = String::from_utf8_lossy(&second.stdout).to_string();
    assert!(second.status.success(), "{stdout}");
    assert!(stdout.contains("a fresh event"), "{stdout}");
    assert!(stdout.contains("seeded event northwind-summit"), "{stdout}");
    assert!(!stdout.contains("reusing it"), "{stdout}");

    // A run that ends with --keep leaves its server and event; the next run reuses both.
    let kept = eventos(&[
        "demo",
        "--duration",
        "2",
        "--attendees",
        "200",
        "--rate",
        "0",
        "--keep",
        "--data-dir",
    ])
    .arg(&root)
    .env_remove("DATABASE_URL")
    .output()
    .expect("eventos demo --keep");
    assert!(
        kept.status.success(),
        "{}",
        String::from_utf8_lossy(&kept.stdout)
    );
    assert!(
        common::server_running(&root.join("data")),
        "--keep left it running"
    );
    let third = run();
    let stdout = String::from_utf8_lossy(&third.stdout).to_string();
    assert!(third.status.success(), "{stdout}");
    assert!(stdout.contains("already there (reusing it)"), "{stdout}");
    assert!(
        !common::server_running(&root.join("data")),
        "the run after a kept one stops the server"
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[tokio::test]
async fn a_few_seconds_of_simulation_leave_every_rule_intact() {
    let db = TestDb::migrated().await;
    let slug = db.name.replace('_', "-");
    db.adopt_seed_operators(&slug);
    let mut admin = db.client().await;
    let report = seed(
        &mut admin,
        &SeedOptions {
            slug: slug.clone(),
            attendees: 400,
            seed: 3,
        },
    )
    .await
    .expect("seed");
    let output = eventos(&[
        "simulate",
        "--database-url",
        &db.url,
        "--event",
        &slug,
        "--duration",
        "4",
        "--rate",
        "60",
        "--gates",
        "6",
        "--profile",
        "burst",
        "--gate-login",
        &operator_login(&slug, "volunteer"),
        "--floor-login",
        &operator_login(&slug, "finance"),
    ])
    .output()
    .expect("simulate");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let last = stdout.lines().last().unwrap_or("");
    assert!(last.contains(", 0 errors"), "{stdout}");
    let accepted: i64 = last
        .split("scans: ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(accepted > 20, "the gates admitted too few: {stdout}");
    assert_eq!(
        rule_violations(&admin, report.event_id).await,
        Vec::<String>::new()
    );
}

/// Seeds a small event as its operators would see it; returns (admin client, slug, event).
async fn seeded(
    db: &TestDb,
    attendees: i32,
    seed_number: i32,
) -> (tokio_postgres::Client, String, uuid::Uuid) {
    let slug = db.name.replace('_', "-");
    db.adopt_seed_operators(&slug);
    let mut admin = db.client().await;
    let report = seed(
        &mut admin,
        &SeedOptions {
            slug: slug.clone(),
            attendees,
            seed: seed_number,
        },
    )
    .await
    .expect("seed");
    (admin, slug, report.event_id)
}

#[tokio::test]
async fn the_live_day_is_a_day_in_the_summits_own_time_zone() {
    let db = TestDb::migrated().await;
    let (admin, _, event) = seeded(&db, 300, 4).await;
    // Every session, each of the three days: 09:00 to 17:00 local, within one date.
    let outside: Vec<String> = admin
        .query(
            "SELECT s.title || ' ' || to_char(s.start_time AT TIME ZONE e.time_zone, 'YYYY-MM-DD HH24:MI')
                    || ' to ' || to_char(s.end_time AT TIME ZONE e.time_zone, 'YYYY-MM-DD HH24:MI')
               FROM sessions s JOIN events e ON e.id = s.event_id
              WHERE s.event_id = $1
                AND ((s.start_time AT TIME ZONE e.time_zone)::time < time '09:00'
                     OR (s.end_time AT TIME ZONE e.time_zone)::time > time '17:00'
                     OR (s.start_time AT TIME ZONE e.time_zone)::date <> (s.end_time AT TIME ZONE e.time_zone)::date)",
            &[&event],
        )
        .await
        .expect("sessions")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        outside,
        Vec::<String>::new(),
        "sessions outside 09:00-17:00 local"
    );
    let row = admin
        .query_one(
            "WITH e AS (SELECT time_zone AS tz, (now() AT TIME ZONE time_zone) AS here FROM events WHERE id = $1),
                  today AS (SELECT s.* FROM sessions s, e
                             WHERE s.event_id = $1 AND (s.start_time AT TIME ZONE e.tz)::date = e.here::date)
             SELECT to_char(e.here, 'HH24:MI'),
                    (SELECT to_char(min(start_time) AT TIME ZONE e.tz, 'HH24:MI') FROM today),
                    (SELECT to_char(max(end_time) AT TIME ZONE e.tz, 'HH24:MI') FROM today),
                    (SELECT count(*) FROM today WHERE status = 'live'),
                    (SELECT count(*) FROM today WHERE start_time <= now() AND end_time > now()),
                    (SELECT count(*) FROM event_checkins c
                      WHERE c.event_id = $1 AND c.session_id IS NULL
                        AND (c.check_in_time AT TIME ZONE e.tz) < e.here::date + time '08:00'),
                    (SELECT count(*) FROM refused_scans r
                      WHERE r.event_id = $1 AND (r.scanned_at AT TIME ZONE e.tz) < e.here::date + time '08:00'),
                    (SELECT count(*) FROM event_announcements a
                      WHERE a.event_id = $1
                        AND (coalesce(a.sent_at, a.scheduled_for) AT TIME ZONE e.tz)::time NOT BETWEEN time '07:00' AND time '18:00')
               FROM e",
            &[&event],
        )
        .await
        .expect("today");
    let (here, first, last): (String, String, String) = (row.get(0), row.get(1), row.get(2));
    assert!(
        ("09:00".to_owned()..="16:59".to_owned()).contains(&here),
        "it is {here} at the summit: not within its day"
    );
    assert_eq!(
        (first.as_str(), last.as_str()),
        ("09:00", "17:00"),
        "today's program"
    );
    assert!(row.get::<_, i64>(3) >= 1, "something is on now");
    assert_eq!(
        row.get::<_, i64>(3),
        row.get::<_, i64>(4),
        "what is on now is live"
    );
    assert_eq!(
        row.get::<_, i64>(5),
        0,
        "door check-ins before the doors opened at 08:00"
    );
    assert_eq!(
        row.get::<_, i64>(6),
        0,
        "refused scans before the doors opened at 08:00"
    );
    assert_eq!(
        row.get::<_, i64>(7),
        0,
        "announcements sent or due at night"
    );
    assert_eq!(rule_violations(&admin, event).await, Vec::<String>::new());
}

#[test]
fn hours_of_doors_are_a_rush_then_a_trickle_with_a_few_problems() {
    use eventos::demo::doors::{Crowd, DoorsPlan, GateEvent};
    // The demo's crowd at one gate of four: 5000 attendees, about 62% inside, a peak of 8 a second.
    let crowd = Crowd {
        present: 750,
        due: 470,
        bad: 55,
    };
    let mut plan = DoorsPlan::new(crowd, 2.0, true, 7);
    let (mut arrived, mut scans, mut problems) = (Vec::new(), 0usize, 0usize);
    let mut per_minute = vec![0usize; 240];
    let mut first_in = std::collections::HashSet::new();
    let mut away = std::collections::HashSet::new();
    loop {
        let (at, event) = plan.next_event();
        if at >= 4.0 * 3600.0 {
            break;
        }
        match event {
            GateEvent::Arrive(i) => {
                assert!(i >= crowd.present && i < crowd.present + crowd.due);
                assert!(first_in.insert(i), "{i} arrived twice");
                arrived.push(at);
            }
            GateEvent::Leave(i) => assert!(away.insert(i), "{i} left twice"),
            GateEvent::Return(i) => assert!(away.remove(&i), "{i} came back without leaving"),
            _ => {}
        }
        if event.is_scan() {
            scans += 1;
            per_minute[(at / 60.0) as usize] += 1;
            problems += usize::from(event.is_problem());
        }
    }
    let by = |minutes: f64| {
        arrived.iter().filter(|&&t| t < minutes * 60.0).count() as f64 / crowd.due as f64
    };
    assert!(
        by(5.0) > 0.35,
        "a rush in the first five minutes: {:.2}",
        by(5.0)
    );
    assert!(
        by(5.0) < 0.75,
        "not everyone in five minutes: {:.2}",
        by(5.0)
    );
    assert!(
        (0.70..0.90).contains(&by(20.0)),
        "most but not all after 20 minutes: {:.2}",
        by(20.0)
    );
    assert!(
        (0.80..0.95).contains(&by(240.0)),
        "no-shows never come: {:.2}",
        by(240.0)
    );
    let fourth_hour: usize = per_minute[180..].iter().sum();
    assert!(
        fourth_hour > 250,
        "the doors keep going: {fourth_hour} scans in the fourth hour"
    );
    assert!(
        per_minute[0] * 60 > 5 * fourth_hour,
        "the first minute ({}) is a rush beside the fourth hour's ({fourth_hour} an hour)",
        per_minute[0]
    );
    let share = problems as f64 / scans as f64;
    assert!(
        (0.02..0.08).contains(&share),
        "problems are {:.1}% of {scans} scans",
        share * 100.0
    );
}

#[tokio::test]
async fn a_simulated_doors_open_never_runs_out_of_people_or_into_refusals() {
    let db = TestDb::migrated().await;
    let (admin, slug, event) = seeded(&db, 400, 3).await;
    let since: chrono::DateTime<chrono::Utc> = admin
        .query_one("SELECT now()", &[])
        .await
        .expect("now")
        .get(0);
    let output = eventos(&[
        "simulate",
        "--database-url",
        &db.url,
        "--event",
        &slug,
        "--duration",
        "5",
        "--rate",
        "40",
        "--gates",
        "4",
        "--profile",
        "burst",
        "--seed",
        "7",
        "--gate-login",
        &operator_login(&slug, "volunteer"),
        "--floor-login",
        &operator_login(&slug, "finance"),
    ])
    .output()
    .expect("simulate");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.lines().last().unwrap_or("").contains(", 0 errors"),
        "{stdout}"
    );
    let row = admin
        .query_one(
            "WITH ok AS (SELECT a.id FROM attendees a JOIN tickets t ON t.attendee_id = a.id
                          WHERE a.event_id = $1 AND a.status = 'registered' AND t.status = 'valid')
             SELECT (SELECT count(*) FROM ok),
                    (SELECT count(*) FROM ok WHERE EXISTS (SELECT 1 FROM event_checkins c
                                                            WHERE c.attendee_id = ok.id AND c.session_id IS NULL AND c.is_present)),
                    (SELECT count(*) FROM event_checkins WHERE event_id = $1 AND session_id IS NULL AND check_in_time >= $2),
                    (SELECT count(*) FROM refused_scans WHERE event_id = $1 AND session_id IS NULL AND scanned_at >= $2),
                    (SELECT count(*) FROM event_announcements WHERE event_id = $1 AND created_at >= $2),
                    (SELECT count(DISTINCT title) FROM event_announcements WHERE event_id = $1 AND created_at >= $2)",
            &[&event, &since],
        )
        .await
        .expect("counts");
    let (ok, inside, admitted, refused): (i64, i64, i64, i64) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    assert!(admitted > 40, "the rush admitted {admitted}: {stdout}");
    assert!(
        inside < ok,
        "everyone who may come in is in ({inside} of {ok}): the doors ran dry"
    );
    let share = refused as f64 / (admitted + refused) as f64;
    assert!(
        share < 0.10,
        "{refused} of {} gate scans refused: not a few percent\n{stdout}",
        admitted + refused
    );
    let (made, titles): (i64, i64) = (row.get(4), row.get(5));
    assert!(
        made <= 2 && made == titles,
        "{made} announcements ({titles} titles) in 5 seconds"
    );
    assert_eq!(rule_violations(&admin, event).await, Vec::<String>::new());
}

#[tokio::test]
async fn reminders_come_once_a_slot_at_a_human_pace() {
    use eventos::demo::simulate::{advance_sessions, announce_slots};
    let db = TestDb::migrated().await;
    let (admin, slug, event) = seeded(&db, 100, 5).await;
    let floor = db.connect_as(&operator_login(&slug, "finance")).await;
    let doors: chrono::DateTime<chrono::Utc> = admin
        .query_one(
            "SELECT ((now() AT TIME ZONE time_zone)::date + 1 + time '08:00') AT TIME ZONE time_zone FROM events WHERE id = $1",
            &[&event],
        )
        .await
        .expect("doors")
        .get(0);
    let since: chrono::DateTime<chrono::Utc> = admin
        .query_one("SELECT now()", &[])
        .await
        .expect("now")
        .get(0);
    // The floor's every-five-seconds step, over tomorrow (all of it ahead: a reminder is never
    // scheduled in the past) from the doors to 18:00, a minute at a time, twice a minute: it must not
    // repeat itself.
    for minute in 0..600 {
        let at = doors + chrono::Duration::minutes(minute);
        for _ in 0..2 {
            advance_sessions(&floor, event, Some(at))
                .await
                .expect("sessions");
            announce_slots(&floor, event, Some(at))
                .await
                .expect("reminders");
        }
    }
    let made: Vec<(String, chrono::DateTime<chrono::Utc>)> = admin
        .query(
            "SELECT title, scheduled_for FROM event_announcements
              WHERE event_id = $1 AND created_at >= $2 ORDER BY scheduled_for",
            &[&event, &since],
        )
        .await
        .expect("made")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let slots: i64 = admin
        .query_one(
            "SELECT count(DISTINCT start_time) FROM sessions s JOIN events e ON e.id = s.event_id
              WHERE s.event_id = $1 AND s.status <> 'cancelled'
                AND (s.start_time AT TIME ZONE e.time_zone)::date = (now() AT TIME ZONE e.time_zone)::date + 1",
            &[&event],
        )
        .await
        .expect("slots")
        .get(0);
    assert_eq!(made.len() as i64, slots, "one reminder a slot: {made:?}");
    let titles: std::collections::HashSet<&str> = made.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(titles.len(), made.len(), "{made:?}");
    for (i, (_, at)) in made.iter().enumerate() {
        let within_hour = made[i..]
            .iter()
            .take_while(|(_, later)| *later - *at < chrono::Duration::hours(1))
            .count();
        assert!(
            within_hour <= 3,
            "{within_hour} reminders within an hour of {at}: {made:?}"
        );
    }
    // The room hosts kept up: nothing that has ended is still scheduled.
    let late: i64 = admin
        .query_one(
            "SELECT count(*) FROM sessions WHERE event_id = $1 AND status = 'scheduled' AND end_time <= $2",
            &[&event, &(doors + chrono::Duration::minutes(600))],
        )
        .await
        .expect("late")
        .get(0);
    assert_eq!(late, 0);
}

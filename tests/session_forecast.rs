//! Session fill forecasts on real PostgreSQL (V16): the Sessions desk reads each session's registrations
//! and door entries over the forecast's window, and its forecast follows from them.

mod common;

use common::{TestDb, fixture, workshop_later_today};
use eventos::desks::sessions::forecast::{Counter, Forecast, WINDOW_MINUTES};

#[tokio::test]
async fn a_sessions_recent_registrations_and_entries_are_read_and_forecast() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let olga = db
        .member(f.event, "olga", "Olga Organizer", "organizer")
        .await;
    // The fixture's one registration, made now, and 20 more people: 12 register now, 4 an hour ago.
    let people = workshop_later_today(&admin, &f, 40, 20).await;
    for person in &people[..12] {
        olga.client
            .query_one(
                "SELECT id FROM register_session_seat($1, $2)",
                &[&f.session, person],
            )
            .await
            .expect("a seat");
    }
    admin
        .execute(
            "INSERT INTO session_registrations (event_id, session_id, attendee_id, registered_at)
             SELECT $1, $2, unnest($3::uuid[]), now() - interval '1 hour'",
            &[&f.event, &f.session, &people[12..16].to_vec()],
        )
        .await
        .expect("earlier registrations");
    let rows = eventos::desks::sessions::store::sessions(&olga.client, f.event, None)
        .await
        .expect("today's sessions");
    let row = rows
        .iter()
        .find(|r| r.id == f.session)
        .expect("the session is today's");
    assert_eq!(row.registered, 17);
    assert_eq!(
        row.registrations_recent, 13,
        "only the last {WINDOW_MINUTES} minutes"
    );
    assert_eq!(row.entries_recent, 0);
    // 23 seats left at 13 in 15 minutes: full in about 27 minutes.
    match row.forecast() {
        Forecast::FullIn {
            minutes,
            by: Counter::Registrations,
            seen: 13,
            ..
        } => assert!((minutes - 23.0 * 15.0 / 13.0).abs() < 1e-9, "{minutes}"),
        other => panic!("{other:?}"),
    }
    // Cancelled, it forecasts nothing.
    admin
        .execute(
            "UPDATE sessions SET status = 'cancelled' WHERE id = $1",
            &[&f.session],
        )
        .await
        .expect("cancelled");
    let rows = eventos::desks::sessions::store::sessions(&olga.client, f.event, Some(&[f.session]))
        .await
        .expect("the session");
    assert_eq!(rows[0].forecast(), Forecast::None);
}

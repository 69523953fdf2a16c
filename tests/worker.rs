//! `eventos worker`: dispatches due announcements, expires offers, announces check-in batches, and stops
//! cleanly on SIGTERM. Several run at once without sending anything twice.

mod common;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{TestDb, eventos, fixture};

fn start_worker(db: &TestDb) -> Child {
    eventos(&[
        "worker",
        "--database-url",
        &db.url,
        "--flush-ms",
        "50",
        "--sweep-ms",
        "100",
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("start worker")
}

fn terminate(child: &mut Child) -> std::process::Output {
    let pid = child.id().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    if child.try_wait().expect("wait").is_none() {
        let _ = child.kill();
        panic!("the worker did not stop within 10 s of SIGTERM");
    }
    let mut out = String::new();
    let mut err = String::new();
    use std::io::Read;
    if let Some(mut s) = child.stdout.take() {
        let _ = s.read_to_string(&mut out);
    }
    if let Some(mut s) = child.stderr.take() {
        let _ = s.read_to_string(&mut err);
    }
    std::process::Output {
        status: child.wait().expect("status"),
        stdout: out.into_bytes(),
        stderr: err.into_bytes(),
    }
}

async fn wait_for(
    client: &tokio_postgres::Client,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> bool {
    for _ in 0..100 {
        let done: bool = client.query_one(sql, params).await.expect("poll").get(0);
        if done {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn three_workers_dispatch_once_expire_offers_and_stop_on_sigterm() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let mut workers: Vec<Child> = (0..3).map(|_| start_worker(&db)).collect();

    let mut due = Vec::new();
    for i in 0..10 {
        let id: uuid::Uuid = admin
            .query_one(
                "SELECT id FROM create_announcement($1, $2, 'Keynote starts in 5 minutes')",
                &[&f.event, &format!("Reminder {i}")],
            )
            .await
            .expect("create")
            .get(0);
        admin
            .query_one("SELECT * FROM schedule_announcement($1, now())", &[&id])
            .await
            .expect("schedule");
        due.push(id);
    }
    assert!(
        wait_for(
            &admin,
            "SELECT bool_and(status = 'sent') FROM event_announcements WHERE id = ANY ($1)",
            &[&due]
        )
        .await,
        "the workers did not send the due announcements within 5 s"
    );
    let (rows, distinct): (i64, i64) = {
        let row = admin
            .query_one(
                "SELECT count(*), count(DISTINCT (source_id, channel, recipient_type, recipient_id))
                   FROM outbox_messages WHERE source_id = ANY ($1)",
                &[&due],
            )
            .await
            .expect("outbox");
        (row.get(0), row.get(1))
    };
    assert!(rows > 0);
    assert_eq!(rows, distinct, "an outbox row was written twice");

    // An offer past its deadline rolls to the next in line without anyone asking.
    admin
        .batch_execute(&format!(
            "SET session_replication_role = replica;
             UPDATE event_waitlists SET status = 'offered', offered_at = now() - interval '20 minutes',
                    expires_at = now() - interval '5 minutes' WHERE id = '{}';
             SET session_replication_role = origin;",
            f.waitlist
        ))
        .await
        .expect("an old offer");
    assert!(
        wait_for(
            &admin,
            "SELECT status = 'expired' FROM event_waitlists WHERE id = $1",
            &[&f.waitlist]
        )
        .await,
        "the workers did not expire the offer within 5 s"
    );

    for worker in &mut workers {
        let output = terminate(worker);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(stdout.contains("worker running against"), "{stdout}");
        assert!(stdout.contains("worker stopped:"), "{stdout}");
    }
}

#[tokio::test]
async fn a_worker_on_an_unmigrated_database_says_so_and_exits() {
    let db = TestDb::empty().await;
    let output = eventos(&["worker", "--database-url", &db.url])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("run `eventos migrate`"), "{stderr}");
}

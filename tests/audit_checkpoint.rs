//! `eventos audit verify --checkpoint`: a file outside the database that catches what the hash chain
//! alone cannot, entries cut off the end of the trail. Real PostgreSQL, the built binary.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{TestDb, eventos, fixture};
use tokio_postgres::Client;

/// A scratch directory of this test's own, removed when it ends.
struct Scratch(PathBuf);

impl Scratch {
    fn new(db: &TestDb) -> Scratch {
        let dir = std::env::temp_dir().join(format!("eventos-audit-checkpoint-{}", db.name));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch directory");
        Scratch(dir)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn verify(db: &TestDb, extra: &[&str]) -> Output {
    let mut args = vec!["audit", "verify", "--database-url", &db.url];
    args.extend_from_slice(extra);
    eventos(&args).output().expect("run eventos audit verify")
}

fn verify_with(db: &TestDb, checkpoint: &Path, extra: &[&str]) -> Output {
    let path = checkpoint.to_str().expect("a UTF-8 scratch path");
    let mut args = vec!["--checkpoint", path];
    args.extend_from_slice(extra);
    verify(db, &args)
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "stdout: {}\nstderr: {}",
        stdout(output),
        stderr(output)
    );
}

/// Asserts the run failed with one line on stderr, and returns it.
fn refusal(output: &Output) -> String {
    let err = stderr(output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "stdout: {}\nstderr: {err}",
        stdout(output)
    );
    assert_eq!(err.trim().lines().count(), 1, "one sentence: {err}");
    err.trim().to_owned()
}

/// The ids of the audit entries, in order.
async fn audit_ids(client: &Client) -> Vec<i64> {
    client
        .query("SELECT id FROM audit_log ORDER BY id", &[])
        .await
        .expect("audit ids")
        .iter()
        .map(|r| r.get(0))
        .collect()
}

async fn audit_hash(client: &Client, id: i64) -> String {
    client
        .query_one(
            "SELECT encode(hash, 'hex') FROM audit_log WHERE id = $1",
            &[&id],
        )
        .await
        .expect("audit hash")
        .get(0)
}

/// Adds `n` audit entries: each expense inserted is audited.
async fn add_entries(client: &Client, f: &common::Fixture, n: usize) {
    for i in 0..n {
        client
            .execute(
                "INSERT INTO event_expenses (event_id, created_by, expense_name, expense_category, amount, currency)
                 VALUES ($1, $2, $3, 'catering', 12.50, 'CAD')",
                &[&f.event, &f.profile, &format!("Water {i}")],
            )
            .await
            .expect("an audited expense");
    }
}

/// Cuts the last `n` entries off the trail the way a superuser can: triggers off, delete, triggers on.
async fn cut_tail(client: &Client, n: usize) {
    let ids = audit_ids(client).await;
    assert!(ids.len() > n, "not enough entries to cut {n}: {ids:?}");
    let keep = ids[ids.len() - n - 1];
    client
        .batch_execute(&format!(
            "ALTER TABLE audit_log DISABLE TRIGGER USER;
             DELETE FROM audit_log WHERE id > {keep};
             ALTER TABLE audit_log ENABLE TRIGGER USER;"
        ))
        .await
        .expect("cut the tail as a superuser");
}

fn read_checkpoint(path: &Path) -> toml::Table {
    let text = std::fs::read_to_string(path).expect("checkpoint file");
    toml::from_str(&text).unwrap_or_else(|e| panic!("checkpoint is not TOML: {e}\n{text}"))
}

fn int(table: &toml::Table, key: &str) -> i64 {
    table
        .get(key)
        .and_then(toml::Value::as_integer)
        .unwrap_or_else(|| panic!("no integer {key} in {table:?}"))
}

fn string<'a>(table: &'a toml::Table, key: &str) -> &'a str {
    table
        .get(key)
        .and_then(toml::Value::as_str)
        .unwrap_or_else(|| panic!("no string {key} in {table:?}"))
}

#[tokio::test]
async fn the_first_run_creates_the_checkpoint_and_later_runs_advance_it() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    let scratch = Scratch::new(&db);
    let path = scratch.file("audit.toml");

    let first = verify_with(&db, &path, &[]);
    assert_success(&first);
    let out = stdout(&first);
    assert!(out.contains("recorded the first checkpoint in"), "{out}");
    let ids = audit_ids(&admin).await;
    let last = *ids.last().expect("the fixture is audited");
    let checkpoint = read_checkpoint(&path);
    assert_eq!(int(&checkpoint, "format"), 1);
    assert_eq!(int(&checkpoint, "entry"), last);
    assert_eq!(int(&checkpoint, "entries"), ids.len() as i64);
    assert_eq!(string(&checkpoint, "hash"), audit_hash(&admin, last).await);
    assert_eq!(string(&checkpoint, "database"), db.name);
    let recorded = string(&checkpoint, "recorded_at");
    let at = chrono::DateTime::parse_from_rfc3339(recorded).expect("RFC 3339");
    assert_eq!(at.offset().local_minus_utc(), 0, "UTC: {recorded}");
    assert!(recorded.ends_with('Z'), "{recorded}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    add_entries(&admin, &f, 2).await;
    let second = verify_with(&db, &path, &[]);
    assert_success(&second);
    let out = stdout(&second);
    assert!(out.contains("checked against the checkpoint of "), "{out}");
    assert!(out.contains(&format!("entry {last} unchanged")), "{out}");
    assert!(out.contains("recorded a new checkpoint in"), "{out}");
    let ids = audit_ids(&admin).await;
    let newest = *ids.last().expect("entries");
    assert!(newest > last);
    let checkpoint = read_checkpoint(&path);
    assert_eq!(int(&checkpoint, "entry"), newest);
    assert_eq!(int(&checkpoint, "entries"), ids.len() as i64);
    assert_eq!(
        string(&checkpoint, "hash"),
        audit_hash(&admin, newest).await
    );
    // Nothing but the checkpoint is left in the directory: the temporary file was renamed.
    let names: Vec<_> = std::fs::read_dir(&scratch.0)
        .expect("scratch")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("audit.toml")]);

    // --no-update checks but leaves the file alone.
    add_entries(&admin, &f, 1).await;
    let before = std::fs::read(&path).expect("checkpoint");
    let third = verify_with(&db, &path, &["--no-update"]);
    assert_success(&third);
    let out = stdout(&third);
    assert!(out.contains(&format!("entry {newest} unchanged")), "{out}");
    assert!(out.contains("as it was (--no-update)"), "{out}");
    assert_eq!(std::fs::read(&path).expect("checkpoint"), before);
}

#[tokio::test]
async fn cutting_the_tail_is_caught_by_the_checkpoint_and_not_without_it() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    add_entries(&admin, &f, 3).await;
    let scratch = Scratch::new(&db);
    let path = scratch.file("audit.toml");
    assert_success(&verify_with(&db, &path, &[]));
    let checkpointed = *audit_ids(&admin).await.last().expect("entries");
    let before = std::fs::read(&path).expect("checkpoint");

    cut_tail(&admin, 2).await;
    let remaining = *audit_ids(&admin).await.last().expect("entries");

    // What is left is still a valid chain: the chain alone cannot tell.
    let plain = verify(&db, &[]);
    assert_success(&plain);
    assert!(
        stdout(&plain).contains(&format!("the last (entry {remaining})")),
        "{}",
        stdout(&plain)
    );

    let caught = refusal(&verify_with(&db, &path, &[]));
    assert!(
        caught.contains(&format!(
            "the audit trail ends at entry {remaining} but the checkpoint recorded on "
        )),
        "{caught}"
    );
    assert!(
        caught.contains(&format!(
            " UTC holds entry {checkpointed}: entries were removed from its end"
        )),
        "{caught}"
    );
    assert_eq!(
        std::fs::read(&path).expect("checkpoint"),
        before,
        "left as it was"
    );

    // Writing on after the cut links the next entry to the removed one (the database keeps the chain's
    // head apart from the trail), so from then on the chain alone tells as well...
    add_entries(&admin, &f, 1).await;
    let broken = refusal(&verify(&db, &[]));
    assert!(broken.contains("is broken at audit entry"), "{broken}");
    // ...unless the superuser also rewrote the head and the entry after the cut: then only the
    // checkpoint tells.
    admin
        .batch_execute(
            "ALTER TABLE audit_log DISABLE TRIGGER USER;
             DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log);
             ALTER TABLE audit_log ENABLE TRIGGER USER;
             UPDATE audit_chain_head SET (last_id, last_hash) =
               (SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1)",
        )
        .await
        .expect("a thorough superuser");
    add_entries(&admin, &f, 3).await;
    assert_success(&verify(&db, &[]));
    let caught = refusal(&verify_with(&db, &path, &["--no-update"]));
    assert!(
        caught.contains(&format!("no longer holds entry {checkpointed}")),
        "{caught}"
    );
    assert_eq!(
        std::fs::read(&path).expect("checkpoint"),
        before,
        "left as it was"
    );
}

#[tokio::test]
async fn a_checkpoint_whose_entry_hashes_differently_is_refused() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    let f = fixture(&admin).await;
    add_entries(&admin, &f, 2).await;
    let scratch = Scratch::new(&db);
    let path = scratch.file("audit.toml");
    assert_success(&verify_with(&db, &path, &[]));
    let checkpoint = std::fs::read_to_string(&path).expect("checkpoint");
    let hash = string(&read_checkpoint(&path), "hash").to_owned();
    let other = format!(
        "{}{}",
        if hash.starts_with('0') { '1' } else { '0' },
        &hash[1..]
    );
    std::fs::write(&path, checkpoint.replace(&hash, &other)).expect("edit the checkpoint");

    let caught = refusal(&verify_with(&db, &path, &[]));
    assert!(
        caught.contains("but the checkpoint recorded on "),
        "{caught}"
    );
    assert!(
        caught.contains("the trail was rewritten or entries were removed before it"),
        "{caught}"
    );
}

#[tokio::test]
async fn a_malformed_checkpoint_is_refused_and_left_as_it_is() {
    let db = TestDb::migrated().await;
    let admin = db.client().await;
    fixture(&admin).await;
    let scratch = Scratch::new(&db);
    let path = scratch.file("audit.toml");
    for text in [
        "not toml at all [[\n",
        "format = 1\nentry = \"forty-two\"\n",
        "",
        "format = 1\ndatabase = \"x\"\nentry = 3\nentries = 3\nhash = \"abc\"\nrecorded_at = \"2026-12-01T09:00:00Z\"\n",
        "format = 2\ndatabase = \"x\"\nentry = 3\nentries = 3\nhash = \"\"\nrecorded_at = \"yesterday\"\n",
    ] {
        std::fs::write(&path, text).expect("write a bad checkpoint");
        let err = refusal(&verify_with(&db, &path, &[]));
        assert!(
            err.contains(&format!(
                "the checkpoint file {} is not a valid audit checkpoint",
                path.display()
            )),
            "{text:?}: {err}"
        );
        assert_eq!(
            std::fs::read_to_string(&path).expect("file"),
            text,
            "left as it was"
        );
    }
}

#[tokio::test]
async fn a_checkpoint_of_another_database_is_refused() {
    let one = TestDb::migrated().await;
    let other = TestDb::migrated().await;
    fixture(&one.client().await).await;
    fixture(&other.client().await).await;
    let scratch = Scratch::new(&one);
    let path = scratch.file("audit.toml");
    assert_success(&verify_with(&one, &path, &[]));
    let before = std::fs::read(&path).expect("checkpoint");

    let err = refusal(&verify_with(&other, &path, &[]));
    assert!(
        err.contains(&format!(
            "is a checkpoint of another database ({})",
            one.name
        )),
        "{err}"
    );
    assert!(err.contains(&other.name), "{err}");
    assert_eq!(
        std::fs::read(&path).expect("checkpoint"),
        before,
        "left as it was"
    );
}

#[tokio::test]
async fn no_update_without_a_checkpoint_file_is_refused() {
    let db = TestDb::migrated().await;
    fixture(&db.client().await).await;
    let scratch = Scratch::new(&db);
    let path = scratch.file("missing.toml");
    let err = refusal(&verify_with(&db, &path, &["--no-update"]));
    assert!(err.contains("there is no checkpoint file"), "{err}");
    assert!(!path.exists());
}

//! The columns the console reads as enums (`desks::words::ColumnWords`: statuses, an announcement's
//! priority and audience) against the database: each enum's words are exactly the words the database
//! allows in its column (read from the catalog, so a migration that changes them fails here, naming
//! the column), and a word the console does not know fails the desk's read in one sentence, never a
//! panic.

mod common;

use std::collections::BTreeSet;

use common::{TestDb, fixture};
use eventos::desks::announcements::model::{
    AnnouncementStatus, Audience, DeliveryMethod, Priority,
};
use eventos::desks::checkins::gates::AlertKind;
use eventos::desks::checkins::model::{AttendeeStatus, Refusal};
use eventos::desks::expenses::model::ExpenseStatus;
use eventos::desks::sessions::model::SessionStatus;
use eventos::desks::waitlist::model::WaitStatus;
use eventos::desks::words::ColumnWords;
use tokio_postgres::Client;

/// (table, column, the enum's words) for one enum.
fn words<W: ColumnWords>() -> (&'static str, &'static str, Vec<&'static str>) {
    (
        W::TABLE,
        W::COLUMN,
        W::ALL.iter().map(|w| w.word()).collect(),
    )
}

/// Every column the console reads as an enum.
fn every_enum() -> Vec<(&'static str, &'static str, Vec<&'static str>)> {
    vec![
        words::<SessionStatus>(),
        words::<ExpenseStatus>(),
        words::<WaitStatus>(),
        words::<AnnouncementStatus>(),
        words::<Priority>(),
        words::<Audience>(),
        words::<AttendeeStatus>(),
        words::<Refusal>(),
        words::<DeliveryMethod>(),
        words::<AlertKind>(),
    ]
}

/// The words `table.column` allows: an enum type's labels, or the words of the CHECK on that column
/// alone (`column IN (...)`, which PostgreSQL keeps as `column = ANY (ARRAY[...])`; for an array
/// column, `column <@ ARRAY[...]`). Each word read from a CHECK is then put to the CHECK itself (an
/// array column as an array of that word), as is a word it must refuse, so a misread fails.
async fn allowed(client: &Client, table: &str, column: &str) -> Result<BTreeSet<String>, String> {
    let at = format!("{table}.{column}");
    let row = client
        .query_opt(
            "SELECT t.typtype::text, t.oid, a.attnum, format_type(a.atttypid, a.atttypmod)
               FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
              WHERE a.attrelid = $1::text::regclass AND a.attname = $2 AND NOT a.attisdropped",
            &[&table, &column],
        )
        .await
        .map_err(|e| format!("{at}: cannot read its type: {e}"))?
        .ok_or_else(|| format!("{at} is not a column"))?;
    let (kind, type_oid, attnum, type_name): (String, u32, i16, String) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    match kind.as_str() {
        "e" => {
            let labels = client
                .query(
                    "SELECT enumlabel::text FROM pg_enum WHERE enumtypid = $1 ORDER BY enumsortorder",
                    &[&type_oid],
                )
                .await
                .map_err(|e| format!("{at}: cannot read its enum type's labels: {e}"))?;
            return Ok(labels.iter().map(|r| r.get(0)).collect());
        }
        "b" => {}
        other => {
            return Err(format!(
                "{at} is of type {type_name} (typtype {other}): teach this test to read its words"
            ));
        }
    }
    let checks = client
        .query(
            "SELECT conname::text, pg_get_constraintdef(oid), pg_get_expr(conbin, conrelid)
               FROM pg_constraint
              WHERE conrelid = $1::text::regclass AND contype = 'c' AND conkey = ARRAY[$2::int2]",
            &[&table, &attnum],
        )
        .await
        .map_err(|e| format!("{at}: cannot read its CHECK constraints: {e}"))?;
    let mut words: Option<BTreeSet<String>> = None;
    for check in &checks {
        let (name, definition): (String, String) = (check.get(0), check.get(1));
        let listed = listed_words(&definition, column)
            .ok_or_else(|| format!("{at}: CHECK {name} is not a list of words: {definition}"))?;
        words = Some(match words {
            None => listed,
            Some(before) => before.intersection(&listed).cloned().collect(),
        });
    }
    let words = words.ok_or_else(|| format!("{at} has no CHECK that lists its words"))?;
    for check in &checks {
        let (name, expression): (String, String) = (check.get(0), check.get(2));
        let value = match type_name.strip_suffix("[]") {
            Some(element) => format!("ARRAY[$1::{element}]"),
            None => format!("$1::{type_name}"),
        };
        let sql = format!(
            "SELECT ({expression}) FROM (SELECT {value} AS {}) AS t",
            quoted(column)
        );
        let passes = async |word: &str| {
            client
                .query_one(sql.as_str(), &[&word])
                .await
                .map(|r| r.get::<_, Option<bool>>(0) != Some(false))
                .map_err(|e| format!("{at}: cannot evaluate CHECK {name}: {e}"))
        };
        for word in &words {
            if !passes(word).await? {
                return Err(format!("{at}: CHECK {name} refuses {word:?}, read from it"));
            }
        }
        if passes("no such word").await? {
            return Err(format!("{at}: CHECK {name} lets any word through"));
        }
    }
    Ok(words)
}

/// The words of `CHECK ((column = ANY (ARRAY['a'::text, 'b'::text])))`, or of an array column's
/// `CHECK ((column <@ ARRAY['a'::text, 'b'::text]))`; None for another shape.
fn listed_words(definition: &str, column: &str) -> Option<BTreeSet<String>> {
    let list = definition
        .strip_prefix(&format!("CHECK (({column} = ANY (ARRAY["))
        .and_then(|rest| rest.strip_suffix("])))"))
        .or_else(|| {
            definition
                .strip_prefix(&format!("CHECK (({column} <@ ARRAY["))?
                .strip_suffix("]))")
        })?;
    let mut words = BTreeSet::new();
    let mut rest = list;
    while !rest.is_empty() {
        let (word, after) = literal(rest)?;
        words.insert(word);
        let after = after.strip_prefix("::text")?;
        rest = match after.strip_prefix(", ") {
            Some(more) => more,
            None if after.is_empty() => after,
            None => return None,
        };
    }
    Some(words)
}

/// A quoted SQL literal at the start of `text` ('' inside is one quote), and what follows it.
fn literal(text: &str) -> Option<(String, &str)> {
    let mut chars = text.strip_prefix('\'')?.char_indices().peekable();
    let mut word = String::new();
    while let Some((i, c)) = chars.next() {
        if c != '\'' {
            word.push(c);
        } else if chars.peek().is_some_and(|(_, next)| *next == '\'') {
            chars.next();
            word.push('\'');
        } else {
            return Some((word, &text[i + 2..]));
        }
    }
    None
}

fn quoted(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

#[test]
fn check_definitions_are_read_as_postgresql_prints_them() {
    let words = listed_words(
        "CHECK ((status = ANY (ARRAY['it''s'::text, 'b, c'::text, 'd'::text])))",
        "status",
    );
    assert_eq!(words, Some(["it's", "b, c", "d"].map(str::to_owned).into()));
    assert_eq!(
        listed_words(
            "CHECK ((ways <@ ARRAY['email'::text, 'sms'::text]))",
            "ways"
        ),
        Some(["email", "sms"].map(str::to_owned).into())
    );
    assert_eq!(listed_words("CHECK ((status <> ''::text))", "status"), None);
    assert_eq!(
        listed_words("CHECK ((other = ANY (ARRAY['a'::text])))", "status"),
        None
    );
}

#[tokio::test]
async fn every_enum_holds_exactly_the_words_its_column_allows() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let mut problems = Vec::new();
    for (table, column, known) in every_enum() {
        let known: BTreeSet<String> = known.iter().map(|w| (*w).to_owned()).collect();
        match allowed(&client, table, column).await {
            Err(problem) => problems.push(problem),
            Ok(allowed) if allowed == known => {}
            Ok(allowed) => problems.push(format!(
                "{table}.{column}: the database allows {:?} that the console does not know, \
                 and the console knows {:?} that the database does not allow",
                allowed.difference(&known).collect::<Vec<_>>(),
                known.difference(&allowed).collect::<Vec<_>>()
            )),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Lets `table.column` hold any word (its CHECK dropped, in this test's own database) and writes
/// `word` into every row of `table`, triggers off.
async fn unknown_word(client: &Client, table: &str, column: &str, word: &str) {
    let checks = client
        .query(
            "SELECT c.conname::text
               FROM pg_constraint c
               JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
              WHERE c.conrelid = $1::text::regclass AND c.contype = 'c' AND a.attname = $2",
            &[&table, &column],
        )
        .await
        .expect("the column's CHECKs");
    for check in &checks {
        let name: String = check.get(0);
        client
            .batch_execute(&format!(
                "ALTER TABLE {table} DROP CONSTRAINT {}",
                quoted(&name)
            ))
            .await
            .expect("drop the CHECK");
    }
    client
        .execute(
            &format!("UPDATE {table} SET {} = $1", quoted(column)),
            &[&word],
        )
        .await
        .expect("an unknown word written");
}

#[tokio::test]
async fn a_word_the_console_does_not_know_fails_the_read_in_one_sentence() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let f = fixture(&client).await;
    client
        .batch_execute("SET session_replication_role = replica")
        .await
        .expect("replica mode");
    let said = |result: anyhow::Result<usize>| match result {
        Ok(n) => format!("read {n} rows"),
        Err(e) => eventos::db::sentence(&e),
    };
    let unknown = "a value this console does not know";

    unknown_word(&client, "sessions", "status", "paused").await;
    let read = eventos::desks::sessions::store::sessions(&client, f.event, None).await;
    assert_eq!(
        said(read.map(|r| r.len())),
        format!("cannot read sessions: sessions.status holds \"paused\", {unknown}")
    );

    unknown_word(&client, "event_expenses", "status", "on_hold").await;
    let read = eventos::desks::expenses::store::expenses(&client, f.event, None).await;
    assert_eq!(
        said(read.map(|r| r.len())),
        format!("cannot read expenses: event_expenses.status holds \"on_hold\", {unknown}")
    );

    unknown_word(&client, "event_waitlists", "status", "paused").await;
    let read = eventos::desks::waitlist::store::entries(&client, f.event, None).await;
    assert_eq!(
        said(read.map(|r| r.len())),
        format!("cannot read the waitlists: event_waitlists.status holds \"paused\", {unknown}")
    );

    // A NULL audience (nobody chosen) reads; a word it does not know does not.
    client
        .execute("UPDATE event_announcements SET target_audience = NULL", &[])
        .await
        .expect("no audience");
    let read = eventos::desks::announcements::store::announcements(&client, f.event, None).await;
    assert_eq!(said(read.map(|r| r.len())), "read 1 rows");
    unknown_word(
        &client,
        "event_announcements",
        "target_audience",
        "volunteers",
    )
    .await;
    let read = eventos::desks::announcements::store::announcements(&client, f.event, None).await;
    assert_eq!(
        said(read.map(|r| r.len())),
        format!(
            "cannot read announcements: event_announcements.target_audience holds \"volunteers\", {unknown}"
        )
    );

    client
        .execute(
            "INSERT INTO refused_scans (event_id, code, code_length, reason_code, reason)
             VALUES ($1, 'NOPE', 4, 'unknown_code', 'unknown ticket code')",
            &[&f.event],
        )
        .await
        .expect("a refused scan");
    unknown_word(&client, "refused_scans", "reason_code", "gremlins").await;
    let pool = eventos::db::pool(&db.settings()).expect("a pool");
    let pooled = pool.get().await.expect("a pooled connection");
    let read = eventos::desks::checkins::store::problems(&pooled, f.event, None).await;
    assert_eq!(
        said(read.map(|r| r.len())),
        format!(
            "cannot read refused scans: refused_scans.reason_code holds \"gremlins\", {unknown}"
        )
    );

    unknown_word(&client, "attendees", "status", "vip\u{1b}[2J").await;
    let read = eventos::desks::checkins::store::search(&client, f.event, "lovelace").await;
    assert_eq!(
        said(read.map(|r| r.len())),
        format!("cannot search attendees: attendees.status holds \"vip\\u{{1b}}[2J\", {unknown}")
    );
}

/// Each permission the console asks for is one the database can grant (event_teams.permissions).
#[tokio::test]
async fn every_permission_the_console_asks_for_is_one_the_database_grants() {
    let db = TestDb::migrated().await;
    let client = db.client().await;
    let grantable = allowed(&client, "event_teams", "permissions")
        .await
        .expect("event_teams.permissions lists its words");
    for permission in eventos::desks::Permission::ALL {
        assert!(
            grantable.contains(permission.sql_name()),
            "{} is not among {grantable:?}",
            permission.sql_name()
        );
    }
}

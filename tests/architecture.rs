//! The layers import downwards only: config and logging, then db (connections, migrations, failures),
//! ui (theme, text, widgets), desks (each desk's model, view and SQL), app (the loop, the frame, the key
//! table, effects), demo and worker, and cli on top. A desk that reached up into the app, or the
//! database layer into the command line, would make the layers one tangle again; this test names the
//! file and the import.

use std::path::Path;

/// Each top-level module of src/ and its floor; a module may import its own floor and those below.
const FLOORS: &[(&str, u8)] = &[
    ("config", 0),
    ("logging", 0),
    ("db", 1),
    ("ui", 2),
    ("desks", 3),
    ("app", 4),
    ("demo", 5),
    ("worker", 5),
    ("cli", 6),
];

fn floor(module: &str) -> Option<u8> {
    FLOORS.iter().find(|(m, _)| *m == module).map(|(_, f)| *f)
}

/// Every `crate::name` a source text refers to, grouped imports (`crate::{a, b::c}`) included.
fn crate_paths(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    found.push(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.push(name);
        }
    }
    found
}

fn visit(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            visit(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

#[test]
fn every_import_goes_down_a_floor_or_stays() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    visit(&src, &mut files);
    let mut upward = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).expect("under src");
        let top = relative
            .components()
            .next()
            .map(|c| {
                c.as_os_str()
                    .to_string_lossy()
                    .trim_end_matches(".rs")
                    .to_owned()
            })
            .unwrap_or_default();
        let Some(mine) = floor(&top) else {
            continue; // lib.rs and main.rs sit above everything
        };
        let text = std::fs::read_to_string(file).expect("read a source file");
        for name in crate_paths(&text) {
            if let Some(theirs) = floor(&name)
                && theirs > mine
            {
                upward.push(format!("{} imports crate::{name}", relative.display()));
            }
        }
    }
    upward.sort();
    upward.dedup();
    assert!(
        upward.is_empty(),
        "imports that go up a floor:\n{}",
        upward.join("\n")
    );
}

#[test]
fn the_reader_finds_grouped_and_plain_imports() {
    assert_eq!(
        crate_paths("use crate::{app::state::State, db};\nlet x = crate::ui::text::fit(a, 3);"),
        vec!["app", "db", "ui"]
    );
}

/// The desks, by their folders under src/desks.
fn desk_folders(src: &Path) -> Vec<String> {
    let mut desks: Vec<String> = std::fs::read_dir(src.join("desks"))
        .expect("read src/desks")
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            path.is_dir()
                .then(|| path.file_name().map(|n| n.to_string_lossy().into_owned()))
                .flatten()
        })
        .collect();
    desks.sort();
    desks
}

/// The identifier at the start of `text`.
fn ident(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// "checkins" -> "Checkins": a desk's name as an enum variant (`DeskId::Checkins`, `AnyCmd::Checkins`).
fn variant(desk: &str) -> String {
    let mut chars = desk.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The desks whose module `text` names outside its tests: `desks::checkins`, in a group
/// `desks::{checkins, ..}`, or from a sibling desk's folder `super::super::checkins`.
fn desk_modules_named(text: &str, desks: &[String]) -> Vec<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or(text);
    let mut modules: Vec<String> = Vec::new();
    for prefix in ["desks::", "super::super::"] {
        let mut rest = code;
        while let Some(at) = rest.find(prefix) {
            rest = &rest[at + prefix.len()..];
            match rest.strip_prefix('{') {
                Some(group) => {
                    let end = group.find('}').unwrap_or(group.len());
                    modules.extend(group[..end].split(',').map(|item| ident(item.trim())));
                }
                None => modules.push(ident(rest)),
            }
        }
    }
    desks
        .iter()
        .filter(|desk| modules.contains(desk))
        .cloned()
        .collect()
}

/// Where a desk is named in `text` outside its tests: its module (`desk_modules_named`), a variant of
/// any enum named after it (`DeskId::Checkins`, `AnyCmd::Checkins`), or the field that holds it
/// (`desks.checkins`). For the app, where no such word has another meaning.
fn desks_named(text: &str, desks: &[String]) -> Vec<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or(text);
    let mut named = desk_modules_named(code, desks);
    for desk in desks {
        let variant = variant(desk);
        let mut rest = code;
        while let Some(at) = rest.find(&format!("::{variant}")) {
            rest = &rest[at + 2..];
            if ident(rest) == variant {
                named.push(format!("::{variant}"));
                break;
            }
        }
        let mut rest = code;
        while let Some(at) = rest.find(&format!(".{desk}")) {
            rest = &rest[at + 1..];
            if ident(rest) == *desk {
                named.push(format!(".{desk}"));
                break;
            }
        }
    }
    named
}

/// The app routes messages, draws the frame and runs commands for any desk: it names none, so adding
/// a desk is its folder and a line in `desks::registry`.
#[test]
fn the_app_names_no_desk() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let desks = desk_folders(&src);
    assert!(desks.len() >= 5, "found the desks: {desks:?}");
    let mut files = Vec::new();
    visit(&src.join("app"), &mut files);
    let mut named = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read a source file");
        for desk in desks_named(&text, &desks) {
            named.push(format!("{} names {desk}", file.display()));
        }
    }
    assert!(
        named.is_empty(),
        "the app names desks (route through desks::registry instead):\n{}",
        named.join("\n")
    );
}

#[test]
fn the_desk_reader_finds_paths_and_variants_outside_tests() {
    let desks = vec!["checkins".to_owned(), "sessions".to_owned()];
    assert_eq!(
        desks_named(
            "use crate::desks::checkins::model;\nlet d = DeskId::Sessions; DeskId::ALL;\n#[cfg(test)]\nmod tests { use crate::desks::sessions; }",
            &desks
        ),
        vec!["checkins", "::Sessions"]
    );
    assert_eq!(
        desks_named("use crate::desks::{Context, sessions::model::Row};", &desks),
        vec!["sessions"]
    );
    assert_eq!(
        desks_named("use super::super::checkins::store;", &desks),
        vec!["checkins"]
    );
    assert_eq!(
        desks_named("AnyCmd::Checkins(cmd); state.desks.sessions.rows", &desks),
        vec!["::Checkins", ".sessions"]
    );
    // Words that only start like a desk are not one.
    assert_eq!(
        desks_named(
            "use crate::desks::checkins_shared; x.sessions_today; Kind::SessionsToday",
            &desks
        ),
        Vec::<String>::new()
    );
}

/// Desks do not reach into each other's modules: what one learns that another shows travels as data
/// (hints, a `Focus`, `Context::today`), so a desk's folder can change without another's breaking.
/// (Module paths only: inside the desks "sessions" is also a form's field and a draft's targets.)
#[test]
fn no_desk_names_another() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let desks = desk_folders(&src);
    let mut named = Vec::new();
    for desk in &desks {
        let others: Vec<String> = desks.iter().filter(|d| *d != desk).cloned().collect();
        let mut files = Vec::new();
        visit(&src.join("desks").join(desk), &mut files);
        for file in &files {
            let text = std::fs::read_to_string(file).expect("read a source file");
            for other in desk_modules_named(&text, &others) {
                named.push(format!("{} names {other}", file.display()));
            }
        }
    }
    assert!(
        named.is_empty(),
        "desks that reach into another desk (pass data through desks::Context, a hint or a Focus):\n{}",
        named.join("\n")
    );
}

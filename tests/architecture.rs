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

//! The keys that work on every desk. Each desk's own keys are in its folder (`keys.rs`); lookup, the
//! footer hints and the `?` help are built from those tables and this one, so they cannot disagree.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::desks::desk::{Binding, Nav};

/// What a key asks for on any desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Global {
    Quit,
    Help,
    /// A digit: the desk with that number (1 is the first tab).
    DeskByNumber,
    NextDesk,
    PrevDesk,
    /// Movement and Esc, handed to the desk in front as its own action.
    Nav(Nav),
}

const NONE: KeyModifiers = KeyModifiers::NONE;
const SHIFT: KeyModifiers = KeyModifiers::SHIFT;
const CTRL: KeyModifiers = KeyModifiers::CONTROL;

const fn global(
    keys: &'static [(KeyCode, KeyModifiers)],
    label: &'static str,
    help: &'static str,
    hint: Option<&'static str>,
    action: Global,
) -> Binding<Global> {
    Binding {
        keys,
        label,
        help,
        hint,
        action,
        needs: None,
    }
}

pub const GLOBAL: &[Binding<Global>] = &[
    global(
        &[(KeyCode::Up, NONE), (KeyCode::Char('k'), NONE)],
        "Up/k",
        "move up",
        None,
        Global::Nav(Nav::Up),
    ),
    global(
        &[(KeyCode::Down, NONE), (KeyCode::Char('j'), NONE)],
        "Down/j",
        "move down",
        None,
        Global::Nav(Nav::Down),
    ),
    global(
        &[(KeyCode::PageUp, NONE)],
        "PgUp",
        "page up",
        None,
        Global::Nav(Nav::PageUp),
    ),
    global(
        &[(KeyCode::PageDown, NONE)],
        "PgDn",
        "page down",
        None,
        Global::Nav(Nav::PageDown),
    ),
    global(
        &[(KeyCode::Home, NONE), (KeyCode::Char('g'), NONE)],
        "Home/g",
        "first row",
        None,
        Global::Nav(Nav::Top),
    ),
    global(
        &[
            (KeyCode::End, NONE),
            (KeyCode::Char('G'), SHIFT),
            (KeyCode::Char('G'), NONE),
        ],
        "End/G",
        "last row",
        None,
        Global::Nav(Nav::Bottom),
    ),
    // Help lists one line per desk for this binding (its number and title).
    global(
        &[
            (KeyCode::Char('1'), NONE),
            (KeyCode::Char('2'), NONE),
            (KeyCode::Char('3'), NONE),
            (KeyCode::Char('4'), NONE),
            (KeyCode::Char('5'), NONE),
            (KeyCode::Char('6'), NONE),
            (KeyCode::Char('7'), NONE),
            (KeyCode::Char('8'), NONE),
            (KeyCode::Char('9'), NONE),
        ],
        "1-9",
        "a desk by its number",
        None,
        Global::DeskByNumber,
    ),
    global(
        &[(KeyCode::Tab, NONE)],
        "Tab",
        "next desk",
        None,
        Global::NextDesk,
    ),
    global(
        &[(KeyCode::BackTab, SHIFT), (KeyCode::BackTab, NONE)],
        "S-Tab",
        "previous desk",
        None,
        Global::PrevDesk,
    ),
    global(
        &[(KeyCode::Esc, NONE)],
        "Esc",
        "close what is open",
        None,
        Global::Nav(Nav::Back),
    ),
    global(
        &[(KeyCode::Char('?'), NONE), (KeyCode::Char('?'), SHIFT)],
        "?",
        "this help",
        Some("help"),
        Global::Help,
    ),
    global(
        &[(KeyCode::Char('q'), NONE), (KeyCode::Char('c'), CTRL)],
        "q",
        "quit (also Ctrl-C)",
        Some("quit"),
        Global::Quit,
    ),
];

/// The global binding for `key` (a desk's own keys are looked up first, in `desks::registry`).
pub fn lookup(key: &KeyEvent) -> Option<&'static Binding<Global>> {
    GLOBAL.iter().find(|b| b.matches(key))
}

/// The desk number a digit key names (1 is the first).
pub fn desk_number(key: &KeyEvent) -> Option<usize> {
    match key.code {
        KeyCode::Char(c) => c.to_digit(10).map(|d| d as usize),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desks::DeskId;
    use crate::desks::registry::Desks;

    #[test]
    fn no_two_bindings_in_one_scope_share_a_key() {
        let desks = Desks::default();
        let mut scopes: Vec<Vec<&'static [(KeyCode, KeyModifiers)]>> =
            vec![GLOBAL.iter().map(|b| b.keys).collect()];
        for desk in DeskId::ALL {
            scopes.push(desks.keys(*desk).iter().map(|k| k.keys).collect());
        }
        for scope in scopes {
            for (i, a) in scope.iter().enumerate() {
                for b in &scope[i + 1..] {
                    for key in *a {
                        assert!(!b.contains(key), "{key:?} is bound twice in one scope");
                    }
                }
            }
        }
    }

    #[test]
    fn every_desk_has_a_digit() {
        assert!(DeskId::ALL.len() <= 9, "digits 1-9 open the desks");
    }
}

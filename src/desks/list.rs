//! What every list desk shares: the selection, the `/` filter box, movement keys, and merging
//! re-read rows by id.

use crossterm::event::{Event, KeyCode, KeyEvent};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;
use uuid::Uuid;

use crate::desks::desk::Nav;

/// The selected row and the `/` filter of a list desk.
#[derive(Debug, Clone, Default)]
pub struct ListNav {
    pub selected: usize,
    pub filter: Input,
    /// The filter box has the keyboard.
    pub filtering: bool,
}

impl ListNav {
    /// The filter, lower-cased, for matching.
    pub fn needle(&self) -> String {
        self.filter.value().trim().to_lowercase()
    }

    /// A key while the filter box has the keyboard: Esc clears and leaves it, Enter/Up/Down leave it.
    pub fn type_key(&mut self, key: KeyEvent) {
        match key.code {
            KeyCode::Esc => {
                self.filtering = false;
                self.filter.reset();
            }
            KeyCode::Enter | KeyCode::Down | KeyCode::Up => self.filtering = false,
            _ => {
                self.filter.handle_event(&Event::Key(key));
                self.selected = 0;
            }
        }
    }

    /// Movement over `len` rows, `/` and Esc-clears-the-filter. True when the action was one of them.
    pub fn navigate(&mut self, nav: Option<Nav>, len: usize) -> bool {
        let last = len.saturating_sub(1);
        match nav {
            Some(Nav::Down) => self.selected = (self.selected + 1).min(last),
            Some(Nav::Up) => self.selected = self.selected.saturating_sub(1),
            Some(Nav::PageDown) => self.selected = (self.selected + 10).min(last),
            Some(Nav::PageUp) => self.selected = self.selected.saturating_sub(10),
            Some(Nav::Top) => self.selected = 0,
            Some(Nav::Bottom) => self.selected = last,
            Some(Nav::Filter) => self.filtering = true,
            Some(Nav::Back) if !self.filter.value().is_empty() => self.filter.reset(),
            _ => return false,
        }
        true
    }

    /// After the rows changed: the selection stays on the row it was on (`keep`) if still shown,
    /// and within the list.
    pub fn follow(&mut self, keep: Option<Uuid>, shown: &[Uuid]) {
        if let Some(id) = keep
            && let Some(i) = shown.iter().position(|r| *r == id)
        {
            self.selected = i;
        }
        if self.selected >= shown.len() {
            self.selected = shown.len().saturating_sub(1);
        }
    }
}

/// Replaces the rows that were asked for with what the database returned (a missing one is gone).
pub fn merge_by_id<T>(
    rows: &mut Vec<T>,
    requested: &[Uuid],
    changed: Vec<T>,
    id: impl Fn(&T) -> Uuid,
) {
    rows.retain(|r| !requested.contains(&id(r)));
    rows.extend(changed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_selection_follows_its_row_and_stays_in_range() {
        let ids: Vec<Uuid> = (1..=3).map(Uuid::from_u128).collect();
        let mut nav = ListNav::default();
        nav.follow(Some(Uuid::from_u128(3)), &ids);
        assert_eq!(nav.selected, 2);
        nav.follow(Some(Uuid::from_u128(9)), &ids[..1]);
        assert_eq!(nav.selected, 0);
        nav.follow(None, &[]);
        assert_eq!(nav.selected, 0);
    }

    #[test]
    fn movement_stops_at_the_ends() {
        let mut nav = ListNav::default();
        assert!(nav.navigate(Some(Nav::Up), 3));
        assert_eq!(nav.selected, 0);
        nav.navigate(Some(Nav::PageDown), 3);
        assert_eq!(nav.selected, 2);
        assert!(!nav.navigate(Some(Nav::Back), 3));
        assert!(!nav.navigate(None, 3));
        nav.navigate(Some(Nav::Filter), 3);
        assert!(nav.filtering);
    }
}

//! What every list desk shares: the selection, the `/` filter box, movement keys, and merging
//! re-read rows by id.

use crossterm::event::{Event, KeyCode, KeyEvent};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;
use uuid::Uuid;

use crate::app::keymap::Action;

/// A key while the filter box has the keyboard: Esc clears and leaves it, Enter/Up/Down leave it.
pub fn filter_key(filter: &mut Input, filtering: &mut bool, selected: &mut usize, key: KeyEvent) {
    match key.code {
        KeyCode::Esc => {
            *filtering = false;
            filter.reset();
        }
        KeyCode::Enter | KeyCode::Down | KeyCode::Up => *filtering = false,
        _ => {
            filter.handle_event(&Event::Key(key));
            *selected = 0;
        }
    }
}

/// Movement over `len` rows, `/` and Esc-clears-the-filter. True when the action was one of them.
pub fn navigate(
    selected: &mut usize,
    filtering: &mut bool,
    filter: &mut Input,
    action: Action,
    len: usize,
) -> bool {
    let last = len.saturating_sub(1);
    match action {
        Action::Down => *selected = (*selected + 1).min(last),
        Action::Up => *selected = selected.saturating_sub(1),
        Action::PageDown => *selected = (*selected + 10).min(last),
        Action::PageUp => *selected = selected.saturating_sub(10),
        Action::Top => *selected = 0,
        Action::Bottom => *selected = last,
        Action::Filter => *filtering = true,
        Action::Back if !filter.value().is_empty() => filter.reset(),
        _ => return false,
    }
    true
}

/// After the rows changed: the selection stays on the row it was on (`keep`) if still shown, and
/// within the list.
pub fn follow(selected: &mut usize, keep: Option<Uuid>, shown: &[Uuid]) {
    if let Some(id) = keep
        && let Some(i) = shown.iter().position(|r| *r == id)
    {
        *selected = i;
    }
    if *selected >= shown.len() {
        *selected = shown.len().saturating_sub(1);
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
        let mut selected = 0;
        follow(&mut selected, Some(Uuid::from_u128(3)), &ids);
        assert_eq!(selected, 2);
        follow(&mut selected, Some(Uuid::from_u128(9)), &ids[..1]);
        assert_eq!(selected, 0);
        follow(&mut selected, None, &[]);
        assert_eq!(selected, 0);
    }

    #[test]
    fn movement_stops_at_the_ends() {
        let (mut selected, mut filtering, mut filter) = (0, false, Input::default());
        assert!(navigate(
            &mut selected,
            &mut filtering,
            &mut filter,
            Action::Up,
            3
        ));
        assert_eq!(selected, 0);
        navigate(
            &mut selected,
            &mut filtering,
            &mut filter,
            Action::PageDown,
            3,
        );
        assert_eq!(selected, 2);
        assert!(!navigate(
            &mut selected,
            &mut filtering,
            &mut filter,
            Action::Back,
            3
        ));
        navigate(
            &mut selected,
            &mut filtering,
            &mut filter,
            Action::Filter,
            3,
        );
        assert!(filtering);
    }
}

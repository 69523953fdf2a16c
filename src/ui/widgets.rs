//! Widgets the desks and the frame share: a text box that keeps its cursor in sight, text indented
//! under itself, word wrap.

use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use tui_input::Input;

use ratatui::layout::{Constraint, Layout, Rect};

use super::Theme;
use super::text::fit;

/// A text box's value in at most `width` columns. Focused, the text nearest the cursor stays in sight
/// (a long paste shows its end as it is typed), the cursor is a `_` past the end or the character under
/// it reversed, and a wide character is never cut in half. Control characters are never drawn.
pub fn text_box(
    input: &Input,
    width: usize,
    focused: bool,
    style: Style,
    theme: &Theme,
) -> Vec<Span<'static>> {
    let value = input.value();
    if !focused {
        return vec![Span::styled(fit(value, width), style)];
    }
    let at = value
        .char_indices()
        .nth(input.cursor())
        .map_or(value.len(), |(i, _)| i);
    let (head, tail) = value.split_at(at);
    let graphemes = |text: &str| -> Vec<(String, usize)> {
        Span::raw(text.to_owned())
            .styled_graphemes(Style::new())
            .map(|g| (g.symbol.to_owned(), Span::raw(g.symbol).width()))
            .filter(|(_, width)| *width > 0)
            .collect()
    };
    let head = graphemes(head);
    let mut tail = graphemes(tail).into_iter();
    let under = tail.next();
    let tail: Vec<(String, usize)> = tail.collect();
    let tail_width: usize = tail.iter().map(|(_, w)| w).sum();
    let under_width = under.as_ref().map_or(1, |(_, w)| *w);
    // The text before the cursor gets what the cursor and the rest do not need, taken from its end.
    let room = width
        .saturating_sub(under_width)
        .saturating_sub(tail_width.min(width / 2));
    let mut before = Vec::new();
    let mut used = 0;
    for (g, w) in head.iter().rev() {
        if used + w > room {
            break;
        }
        used += w;
        before.push(g.as_str());
    }
    before.reverse();
    let mut room = width.saturating_sub(used + under_width);
    let mut after = String::new();
    for (g, w) in &tail {
        if *w > room {
            break;
        }
        room -= w;
        after.push_str(g);
    }
    let mut spans = vec![Span::styled(before.concat(), style)];
    match under {
        Some((g, _)) => spans.push(Span::styled(g, style.add_modifier(Modifier::REVERSED))),
        None => spans.push(Span::styled("_", theme.key())),
    }
    if !after.is_empty() {
        spans.push(Span::styled(after, style));
    }
    spans
}

/// Greedy word wrap at `width` characters; a word longer than a line is split.
/// `text` as lines starting at column 1, a long one going on under itself (never from column 0).
pub fn indented(text: &str, width: usize) -> Vec<Line<'static>> {
    let rows = wrap(text, width.saturating_sub(1).max(1));
    if rows.is_empty() {
        // A blank line stays a line.
        return vec![Line::raw(" ")];
    }
    rows.into_iter()
        .map(|row| Line::raw(format!(" {row}")))
        .collect()
}

pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let used = line.chars().count();
            let gap = usize::from(used > 0);
            if used + gap + word.len() <= width {
                if gap == 1 {
                    line.push(' ');
                }
                line.extend(word.iter());
                break;
            }
            if used > 0 {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            let rest = word.split_off(width.min(word.len()));
            lines.push(word.iter().collect());
            word = rest;
            if word.is_empty() {
                break;
            }
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The widths a table with these columns (one column apart) gives each column in `width`, as the table
/// lays them out: for cutting values to their column before the table would cut them silently.
pub fn column_widths(columns: &[Constraint], width: u16) -> Vec<usize> {
    Layout::horizontal(columns.to_vec())
        .spacing(1)
        .split(Rect::new(0, 0, width, 1))
        .iter()
        .map(|c| usize::from(c.width))
        .collect()
}

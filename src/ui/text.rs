//! Text as the screen draws it: cut to a width with a mark, told apart in a column, control characters
//! made visible.

/// Cuts `text` to `width` characters, marking the cut with a '~' (ASCII-safe).
pub fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    let mut out: String = text.chars().take(width - 1).collect();
    out.push('~');
    out
}

/// The values of one column, each cut to `width` and still told apart: a value whose end-cut would read
/// the same as a different value's ("Workshop L" for both Lab A and Lab B) keeps its end instead, after a
/// `~` ("Work~Lab A"), ending on whole words where they fit.
pub fn fit_column(values: &[String], width: usize) -> Vec<String> {
    let cut: Vec<String> = values.iter().map(|v| fit(v, width)).collect();
    values
        .iter()
        .zip(&cut)
        .map(|(value, short)| {
            let ambiguous = values
                .iter()
                .zip(&cut)
                .any(|(other, other_short)| other_short == short && other != value);
            if ambiguous {
                fit_keeping_end(value, width)
            } else {
                short.clone()
            }
        })
        .collect()
}

/// `text` in `width` characters: its start, `~`, and as much of its end as leaves the start a third.
fn fit_keeping_end(text: &str, width: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= width || width < 5 {
        return fit(text, width);
    }
    let most = width - 1 - (width / 3).max(3);
    // The longest run of whole words at the end that fits, else the last characters.
    let tail_len = (1..chars.len())
        .filter(|&i| chars[i - 1] == ' ' && chars.len() - i <= most)
        .map(|i| chars.len() - i)
        .max()
        .unwrap_or(most);
    let head: String = chars[..width - 1 - tail_len].iter().collect();
    let tail: String = chars[chars.len() - tail_len..].iter().collect();
    format!("{}~{tail}", head.trim_end())
}

/// Text from the database made safe to draw: control characters (an escape sequence in a scanned
/// code could otherwise drive the operator's terminal) are shown in caret notation, `^[`.
pub fn clean(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        match c {
            '\u{0}'..='\u{1f}' => {
                out.push('^');
                out.push(char::from(b'@' + c as u8));
            }
            '\u{7f}' => out.push_str("^?"),
            c if c.is_control() => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// `clean` for an optional column.
pub fn clean_opt(text: Option<String>) -> Option<String> {
    text.map(|t| clean(&t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_cut_keeps_values_apart() {
        let values: Vec<String> = [
            "Workshop Lab A",
            "Workshop Lab B",
            "Main Hall",
            "Data Privacy by Design (panel)",
            "Data Privacy by Design (deep dive)",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            fit_column(&values[..3], 10),
            vec!["Work~Lab A", "Work~Lab B", "Main Hall"]
        );
        let titles = fit_column(&values[3..], 18);
        assert_eq!(titles, vec!["Data Priva~(panel)", "Data P~(deep dive)"]);
        assert!(titles.iter().all(|t| t.chars().count() <= 18));
        // Only the ambiguous ones change; one alone is cut at its end as before.
        assert_eq!(fit_column(&values[..1], 10), vec!["Workshop ~"]);
    }

    #[test]
    fn control_characters_are_shown_not_sent() {
        assert_eq!(clean("ABC-123"), "ABC-123");
        assert_eq!(clean("\u{1b}[2J"), "^[[2J");
        assert_eq!(clean("a\tb\r\n"), "a^Ib^M^J");
        assert_eq!(clean("\u{7f}\u{9b}x"), "^??x");
        assert_eq!(clean("Zoë"), "Zoë");
    }
}

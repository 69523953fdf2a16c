//! Colours and symbols. NO_COLOR turns colour off (emphasis stays); a terminal that is not UTF-8 gets
//! ASCII symbols only.

use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
    pub ascii: bool,
}

impl Theme {
    /// From the environment: NO_COLOR (any value) and the locale's character set.
    pub fn from_env() -> Theme {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let locale = var("LC_ALL")
            .or_else(|| var("LC_CTYPE"))
            .or_else(|| var("LANG"))
            .unwrap_or_default()
            .to_ascii_lowercase();
        Theme {
            color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
            ascii: !(locale.contains("utf-8") || locale.contains("utf8")),
        }
    }

    /// Plain and ASCII: what the snapshot tests draw with.
    pub fn plain() -> Theme {
        Theme {
            color: false,
            ascii: true,
        }
    }

    fn fg(&self, color: Color) -> Style {
        if self.color {
            Style::new().fg(color)
        } else {
            Style::new()
        }
    }

    pub fn good(&self) -> Style {
        self.fg(Color::Green)
    }

    pub fn bad(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn warn(&self) -> Style {
        self.fg(Color::Yellow)
    }

    pub fn dim(&self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new().add_modifier(Modifier::DIM)
        }
    }

    pub fn title(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn header(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    pub fn key(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn border(&self) -> symbols::border::Set<'static> {
        if self.ascii {
            symbols::border::Set {
                top_left: "+",
                top_right: "+",
                bottom_left: "+",
                bottom_right: "+",
                vertical_left: "|",
                vertical_right: "|",
                horizontal_top: "-",
                horizontal_bottom: "-",
            }
        } else {
            symbols::border::PLAIN
        }
    }

    pub fn bars(&self) -> symbols::bar::Set<'static> {
        if self.ascii {
            symbols::bar::Set {
                full: "#",
                seven_eighths: "#",
                three_quarters: "#",
                five_eighths: "=",
                half: "=",
                three_eighths: "-",
                one_quarter: "-",
                one_eighth: ".",
                empty: " ",
            }
        } else {
            symbols::bar::NINE_LEVELS
        }
    }

    /// A text gauge `width` cells wide, `fill` from 0 to 1.
    pub fn gauge(&self, fill: f64, width: usize) -> String {
        let (full, empty) = if self.ascii {
            ('#', '.')
        } else {
            ('█', '·')
        };
        let filled = ((fill.clamp(0.0, 1.0) * width as f64).round() as usize).min(width);
        let mut bar: String = std::iter::repeat_n(full, filled).collect();
        bar.extend(std::iter::repeat_n(empty, width - filled));
        bar
    }

    pub fn tick(&self) -> &'static str {
        if self.ascii { "OK" } else { "✓" }
    }

    pub fn cross(&self) -> &'static str {
        if self.ascii { "NO" } else { "✗" }
    }

    pub fn dot(&self) -> &'static str {
        if self.ascii { "|" } else { "·" }
    }
}

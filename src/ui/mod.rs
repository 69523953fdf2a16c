//! What every screen draws with: the theme and the shared widgets. The frame around the desks (header,
//! tabs, footer, help, dialogs) is the app's (`app::frame`).

pub mod text;
pub mod theme;
pub mod widgets;

pub use theme::Theme;

/// The smallest terminal the console draws in.
pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

/// How a sentence on the notice line is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Info,
    Good,
    Bad,
}

//! Shared widgets: the frame (header, tabs, footer), dialogs, help, and the theme.

pub mod frame;
pub mod theme;

pub use frame::render;
pub use theme::Theme;

/// The smallest terminal the console draws in.
pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

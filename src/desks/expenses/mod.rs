//! Expenses desk: the approval queue, oldest first, decided from the keyboard.

pub mod model;
pub mod store;
pub mod view;

pub use model::ExpensesDesk;

//! Sessions desk: today's sessions, now and next first, with capacity, presence and status.

pub mod model;
pub mod store;
pub mod view;

pub use model::SessionsDesk;

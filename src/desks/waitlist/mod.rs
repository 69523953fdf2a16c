//! Waitlist desk: the queues per event and per session, offers counting down, by hand when needed.

pub mod model;
pub mod store;
pub mod view;

pub use model::WaitlistDesk;

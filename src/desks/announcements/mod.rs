//! Announcements desk: the queue by status, a compose and edit form, send now, schedule, cancel.

pub mod compose;
pub mod model;
pub mod store;
pub mod view;

pub use model::AnnouncementsDesk;

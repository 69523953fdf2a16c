//! Check-ins desk: totals, gates, arrivals, the live feed, the problems feed, the scan box and search.

pub mod model;
pub mod store;
pub mod view;

pub use model::CheckinsDesk;

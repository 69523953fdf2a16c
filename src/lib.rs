//! EventOS Control Room: a keyboard-driven terminal console for the people who run an event on the
//! day, over the EventOS PostgreSQL database. The library holds everything; `main.rs` only dispatches.

pub mod app;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod desks;
pub mod logging;
pub mod ui;
pub mod worker;

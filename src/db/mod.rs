//! Connections to PostgreSQL: single clients (migrate, doctor, the listener) and the desks' pool.

pub mod connect;
pub mod failure;
pub mod listen;
pub mod migrate;

pub use connect::{
    ConnectError, Notifications, connect, connect_listening, door_pool, pool, pooled,
};
pub use failure::{Failure, sentence};

//! The demo: its private PostgreSQL cluster, the seed generator, the doors' plan and the gate simulator.

pub mod cluster;
pub mod doors;
pub mod seed;
pub mod simulate;

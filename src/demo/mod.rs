//! The demo's private PostgreSQL cluster (and, later, its seed generator and gate simulator).

pub mod cluster;
pub mod seed;
pub mod simulate;

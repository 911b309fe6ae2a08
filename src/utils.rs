//! Small helpers shared across the library.

pub mod trace;

//! The shared vocabulary of wasiwheel: the WASI target model, SDK identities,
//! source languages and profiles, names, component entry points and the
//! layout of what wasiwheel puts into wheels.
//!
//! A leaf: it imports nothing else from the crate but [`crate::error`], so
//! that `pep517`, `crossbuild`, `tags` and `plan` can all use it without
//! importing each other.

pub mod entry;
pub mod lang;
pub mod layout;
pub mod names;
pub mod sdk;
pub mod target;

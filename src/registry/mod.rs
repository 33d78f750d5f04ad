//! A WASI wheel registry: a static package index of a wheelhouse
//! (`wasiwheel index`, [`index`]), installation for the WASI target from any
//! index (`wasiwheel install`, [`install`]), the wheelhouse of a requirement
//! set (`wasiwheel build -r`, [`wheelhouse`]) and sdists fetched from an index
//! by pinned version and unpacked safely ([`fetch`]).
//!
//! Distribution files are read and checked by [`dist`], their core metadata by
//! [`coremeta`]. It never builds: the command line resolves the target CPython
//! and its wheel tags and hands them in, and `build -r` gets its builder from
//! the caller (docs/development.md, "Architecture"; docs/registry.md for users).

pub mod coremeta;
pub mod dist;
pub mod fetch;
pub mod index;
pub mod install;
pub mod wheelhouse;

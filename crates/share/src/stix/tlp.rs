//! Traffic Light Protocol markings: the one [`Tlp`] of Pharos lives in
//! `pharos_core::tlp` (levels, names, STIX marking-definitions); this path
//! keeps `pharos_share::stix::tlp::Tlp` working.

pub use pharos_core::tlp::{TLP2_EXTENSION, Tlp};

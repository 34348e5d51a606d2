//! Pharos sharing: findings out to partners, and partners' findings in.
//!
//! - [`stix`]: STIX 2.1. [`stix::export`] turns incidents into a bundle
//!   (incident, campaign, DISARM attack-patterns, OpenCTI narratives and
//!   channels, observables, sightings, note, report) marked with TLP 2.0;
//!   [`stix::import`] keeps partners' bundles in the store with their
//!   markings; [`stix::ids`] makes the same input give the same ids;
//!   [`stix::tlp`] knows the TLP 2.0 (and 1.0) marking-definitions.
//! - [`taxii`]: a TAXII 2.1 client (`pharos share push | pull`); the
//!   server is `pharos-server`'s `taxii` module.
//! - [`misp`]: incidents as MISP events (`pharos export misp`).
//! - [`pseudonym`]: keyed pseudonyms for account identifiers, so partners can
//!   correlate accounts without receiving them.
//!
//! The DISARM framework itself (the catalogue, and the table of techniques
//! Pharos observes) lives in `pharos_assess::disarm`, next to the incidents
//! that are tagged with it.

pub mod misp;
pub mod pseudonym;
pub mod stix;
pub mod taxii;

pub use pseudonym::Pseudonymiser;
pub use stix::tlp::Tlp;

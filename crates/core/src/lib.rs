//! Canonical records of Pharos.
//!
//! Every source format (Twitter API v2, Telegram exports, CSV, RSS, ...) is
//! turned into the records defined here before anything else looks at it, so
//! detectors, the store and the exporters speak one language.
//!
//! - [`time`]: event time, a UTC instant with millisecond precision, and the
//!   lenient parser every importer uses for timestamps.
//! - [`post`]: [`Post`] and its parts ([`Actor`], [`Link`], [`Media`],
//!   [`Engagement`], [`Provenance`]).
//! - [`link`]: URL normalisation (so the same link shared with different
//!   tracking parameters is one link).
//! - [`text`]: hashtags, mentions and URLs found in free text.
//! - [`lang`]: language codes and names.
//! - [`quarantine`]: the one quarantine writer (records an import could not use).
//! - [`tlp`]: TLP 2.0 levels ([`Tlp`]) and their STIX marking-definitions.

pub mod lang;
pub mod link;
pub mod net;
pub mod post;
pub mod quarantine;
pub mod text;
pub mod time;
pub mod tlp;

pub use link::{Link, normalize_url};
pub use post::{Actor, Engagement, Media, MediaKind, Post, Provenance};
pub use time::{EventTime, FUTURE_TOLERANCE_MS, TimeError, live_horizon_ms, now_ms};
pub use tlp::Tlp;

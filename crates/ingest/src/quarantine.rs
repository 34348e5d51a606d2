//! Quarantine: rejected records, kept so nothing is lost silently.
//!
//! One JSON object a line: `{"file", "line"?, "record"?, "reason", "raw", "at"}`.
//! The file is append-only; every ingest run adds to it. The writer is the
//! one quarantine of Pharos, `pharos_core::quarantine`; ingest writes its
//! [`crate::Rejection`]s with it.

pub use pharos_core::quarantine::{Quarantine, reason_class};

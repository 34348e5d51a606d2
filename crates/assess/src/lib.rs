//! Pharos assessment: incidents fused from signals, ABCDE facets, DISARM techniques, reports.

/// The incident model (one campaign as an analyst sees it) and its storage.
pub mod incident;

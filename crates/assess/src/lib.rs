//! Pharos assessment: incidents fused from signals, ABCDE facets, DISARM techniques, reports.

/// The early-warning stream (narratives, actor signals, bursts, alert rules).
pub mod stream;

/// The incident model (one campaign as an analyst sees it) and its storage.
pub mod incident;

/// The DISARM framework (techniques keyed on T-numbers) and the techniques Pharos can observe.
pub mod disarm;

//! Pharos assessment: incidents fused from signals, ABCDE facets, DISARM techniques, reports.

/// The incident model (one campaign as an analyst sees it) and its storage.
pub mod incident;

/// The DISARM framework (techniques keyed on T-numbers) and the techniques Pharos can observe.
pub mod disarm;

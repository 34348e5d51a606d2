//! Pharos assessment: incidents fused from signals, ABCDE facets, DISARM techniques, reports.

//! pharos-analysis

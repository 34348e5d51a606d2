//! pharos-sim

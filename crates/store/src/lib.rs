//! pharos-store

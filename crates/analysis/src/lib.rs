//! pharos-analysis: the detectors that turn a stream of posts into findings.
//!
//! - [`coordination`]: coordinated account networks — CooRTweet's method
//!   with exact parity, at a fraction of its time and memory.
//!
//! Analysis depends on `pharos-core` only: it never reads the store or
//! talks to the server, so every detector runs the same in a batch, in a
//! test and behind the live pipeline.

pub mod actors;
pub mod bursts;
pub mod coordination;
pub mod narratives;
pub mod similarity;

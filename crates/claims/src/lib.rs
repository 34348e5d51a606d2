//! Known claims: the fact-check library, claim retrieval and response packs.
//!
//! - [`model`]: a fact-checked [`Claim`](model::Claim) and its reviews.
//! - [`library`]: importers and the on-disk library.
//! - [`retrieval`]: matching posts against the library (BM25, semantic re-ranking).
//! - [`respond`]: response packs for narratives and posts, and response tracking.
//! - [`watch`]: the library as the pipeline's claim watch ([`watch::LibraryClaims`]).

pub mod library;
pub mod model;
pub mod respond;
pub mod retrieval;
pub mod watch;

pub use model::{Claim, Review};

//! Actor signals: which accounts behave unlike people, and why.
//!
//! Each account's posts (in event-time order) feed a small, fixed-size
//! state; from it come the signals an analyst reads — posting rate and its
//! burstiness, how regular the gaps between posts are, the hour-of-day
//! profile, account age, follower/following ratio, share of reshares, of
//! duplicate posts and of posts made in lock-step with others. A transparent
//! model turns those signals into an inauthenticity score in `[0, 1]` whose
//! every term is shown with its contribution and a one-sentence explanation.
//!
//! - [`tracker`]: [`ActorTracker`], the incremental per-account state with
//!   an expiry horizon for inactive accounts, and [`ActorSignals`].
//! - [`score`]: the additive logistic model ([`Model`], [`Term`]) and its
//!   output ([`InauthenticityScore`], [`Contribution`]): the contributions
//!   plus the intercept are the score's logit, exactly.
//! - [`stream_model`]: the default hand-set weights over stream signals.
//! - [`profile`]: profile-only features (a Twitter v1.1 user object or a
//!   canonical [`Actor`](pharos_core::Actor)) and the profile-only model.
//! - [`fit`]: standardisation and an L2-penalised logistic regression fitted
//!   by Newton's method (for evaluations on labelled accounts).
//! - [`eval`]: ROC AUC (Mann–Whitney with ties), stratified k-fold
//!   cross-validation, and the cresci-rtbust-2019 protocol.
//!
//! Nothing here decides about an account: the score ranks accounts for an
//! analyst to look at, with the evidence behind each rank.
//!
//! ```
//! use pharos_analysis::actors::{ActorTracker, StreamModel};
//! use pharos_core::{Actor, EventTime, Post};
//! let mut tracker = ActorTracker::default();
//! for i in 0..50 {
//!     let post = Post {
//!         platform: "twitter".into(),
//!         id: i.to_string(),
//!         actor: Actor { id: "metronome".into(), ..Default::default() },
//!         time: EventTime::from_secs(1_600_000_000 + 60 * i),
//!         text: format!("post number {i}"),
//!         ..Default::default()
//!     };
//!     tracker.observe(&post);
//! }
//! let signals = tracker.signals("metronome").unwrap();
//! assert!(signals.regularity.unwrap() > 0.9);
//! let score = StreamModel::default_model().score(&signals);
//! assert!((score.intercept + score.contributions.iter().map(|c| c.contribution).sum::<f64>() - score.logit).abs() < 1e-12);
//! ```

pub mod eval;
pub mod fit;
pub mod profile;
pub mod score;
pub mod stream_model;
pub mod tracker;

pub use eval::{AucSummary, CvReport, roc_auc, stratified_folds};
pub use profile::{ProfileFeatures, ProfileModel};
pub use score::{Contribution, InauthenticityScore, Model, Term, sigmoid};
pub use stream_model::StreamModel;
pub use tracker::{
    ActorSignals, ActorTracker, PostFlags, Synchrony, TrackerConfig, normalised_text_hash,
};

#[cfg(test)]
mod tests;

//! pharos-alerts: which burst alerts reach people, and how.
//!
//! The burst detector (`pharos_analysis::bursts`) opens, updates and
//! closes alerts on event time. This crate decides which of them to send
//! and sends them:
//!
//! - [`rules`]: alert rules from a TOML file ([`Rules`], with documented
//!   defaults in [`Rules::default`] and `rules.example.toml`): entity
//!   kinds, include/exclude patterns, platforms, languages, minimum
//!   severity, volume, actors, growth and flagged share, and a cooldown per
//!   entity. [`RuleEngine`] turns detector events into [`Notification`]s.
//! - [`delivery`]: where notifications go — a JSONL file, stdout, or a
//!   [`Webhook`] (POST JSON, retries with exponential backoff; what still
//!   fails is logged and kept in a re-delivery file, see [`redeliver`]).
//!
//! Each notification is one JSON object: the alert's fields (see
//! `docs/early-warning.md`) plus `status`, `rule` and `raised_at`.

pub mod delivery;
pub mod notification;
pub mod rules;

pub use delivery::{
    DeliveryError, JsonlFile, Outcome, RedeliveryReport, Sink, Stdout, Webhook, WebhookConfig,
    redeliver,
};
pub use notification::{Notification, Status};
pub use rules::{Rule, RuleEngine, Rules, RulesError};

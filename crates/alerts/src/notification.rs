//! What is delivered: an alert, the rule that let it through, and why now.

use pharos_analysis::bursts::Alert;
use pharos_core::EventTime;
use serde::{Deserialize, Serialize};

/// Why a notification is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The alert met the rule for the first time.
    Raised,
    /// The burst went on (only for rules with `notify_updates`).
    Updated,
    /// The burst is over (`closed_at` is set).
    Closed,
}

/// One alert as delivered: one JSON object a line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    pub status: Status,
    /// Name of the rule that matched.
    pub rule: String,
    /// Event time at which the alert first met the rule (≥ `opened_at`).
    pub raised_at: EventTime,
    #[serde(flatten)]
    pub alert: Alert,
}

impl Notification {
    /// One JSON line (no trailing newline).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a notification always serialises")
    }
}

//! Live events between the replicas of `pharos serve` (`serve --bus`).
//!
//! Each replica runs its own live analysis over the shared store, and its
//! SSE clients (`/api/alerts/stream`) must see what any replica, or the
//! workers' pipeline leader, raises. A replica hands every event it raises
//! to [`FanOut::publish`]: the event goes to its own clients at once and
//! onto core NATS (`<NS>.live.<kind>`, not stored: a replica that is down
//! misses live events as an SSE client that is away does). Each replica
//! subscribes to `<NS>.live.>` and to the leader's alerts
//! (`<NS>.alerts.pipeline`) and hands what arrives to its clients.
//!
//! The same alert usually comes more than once: every replica analyses
//! the posts every other stores, and the leader analyses them all too.
//! Events are de-duplicated by what they say: an alert by its id, status,
//! update time and volume; anything else by its text; the last
//! [`REMEMBERED`] keys are kept.

use crate::{Bus, BusError, BusUrl};
use futures_util::StreamExt;
use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};

/// Event keys remembered for de-duplication.
pub const REMEMBERED: usize = 16_384;

/// Where arriving events go: `(kind, data)`.
pub type Deliver = dyn Fn(&str, Arc<str>) + Send + Sync;

/// A running fan-out (its tasks run on the tokio runtime it was started on).
#[derive(Clone)]
pub struct FanOut {
    bus: Bus,
    seen: Arc<Mutex<Seen>>,
    deliver: Arc<Deliver>,
}

#[derive(Default)]
struct Seen {
    keys: HashSet<String>,
    order: VecDeque<String>,
}

impl Seen {
    /// True the first time `key` is offered (within the last [`REMEMBERED`]).
    fn first(&mut self, key: String) -> bool {
        if self.keys.contains(&key) {
            return false;
        }
        if self.order.len() >= REMEMBERED
            && let Some(old) = self.order.pop_front()
        {
            self.keys.remove(&old);
        }
        self.keys.insert(key.clone());
        self.order.push_back(key);
        true
    }
}

/// What makes two events the same.
pub fn event_key(kind: &str, data: &str) -> String {
    if kind == "alert"
        && let Ok(v) = serde_json::from_str::<serde_json::Value>(data)
        && let Some(id) = v.get("id").and_then(|x| x.as_str())
    {
        return format!(
            "alert {id} {} {} {}",
            v.get("status").unwrap_or(&serde_json::Value::Null),
            v.get("updated_at").unwrap_or(&serde_json::Value::Null),
            v.get("volume").unwrap_or(&serde_json::Value::Null),
        );
    }
    use sha2::Digest;
    format!(
        "{kind} {}",
        hex::encode(sha2::Sha256::digest(data.as_bytes()))
    )
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl FanOut {
    /// Connects and subscribes; arriving events (and this replica's own,
    /// through [`FanOut::publish`]) go to `deliver`, each once. Must run
    /// inside a tokio runtime.
    pub async fn start(url: &BusUrl, deliver: Arc<Deliver>) -> Result<FanOut, BusError> {
        let bus = Bus::connect(url).await?;
        let live = bus
            .client
            .subscribe(bus.names.live_subjects.clone())
            .await
            .map_err(|e| bus.err("live subscription")(Box::new(e)))?;
        let alerts = bus
            .client
            .subscribe(bus.names.alerts_subject.clone())
            .await
            .map_err(|e| bus.err("alerts subscription")(Box::new(e)))?;
        let fan = FanOut {
            bus,
            seen: Arc::new(Mutex::new(Seen::default())),
            deliver,
        };
        let f = fan.clone();
        tokio::spawn(async move {
            let mut both = futures_util::stream::select(live, alerts);
            while let Some(m) = both.next().await {
                let kind = if m.subject.as_str() == f.bus.names.alerts_subject {
                    "alert"
                } else {
                    m.subject.as_str().rsplit('.').next().unwrap_or("")
                };
                if kind != "alert" && kind != "incident" {
                    continue;
                }
                let Ok(data) = std::str::from_utf8(&m.payload) else {
                    tracing::warn!(
                        "bus {}: live event on {} is not UTF-8",
                        f.bus.url,
                        m.subject
                    );
                    continue;
                };
                f.offer(kind, Arc::from(data));
            }
        });
        Ok(fan)
    }

    /// Hands an event to `deliver` unless seen already.
    fn offer(&self, kind: &str, data: Arc<str>) -> bool {
        let key = event_key(kind, &data);
        if !lock(&self.seen).first(key) {
            return false;
        }
        (self.deliver)(kind, data);
        true
    }

    /// An event this replica raised: to its own clients now, and to the
    /// other replicas (a publish that fails is logged: they miss it, ours
    /// do not).
    pub fn publish(&self, kind: &str, data: Arc<str>) {
        if !self.offer(kind, data.clone()) {
            return;
        }
        let bus = self.bus.clone();
        let subject = bus.names.live_subject(kind);
        let payload = bytes::Bytes::copy_from_slice(data.as_bytes());
        tokio::spawn(async move {
            if let Err(e) = bus.client.publish(subject, payload).await {
                tracing::warn!("bus {}: live event not published: {e}", bus.url);
            }
        });
    }

    /// Waits until what was published has left for the server.
    pub async fn flush(&self) -> Result<(), BusError> {
        self.bus
            .client
            .flush()
            .await
            .map_err(|e| self.bus.err("flush")(Box::new(e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_are_the_same_by_id_status_update_and_volume() {
        let a = r#"{"id":"hashtag:1:2","status":"raised","updated_at":"2024-05-01T00:00:00Z","volume":5,"explanation":"x"}"#;
        let b = r#"{"id":"hashtag:1:2","status":"raised","updated_at":"2024-05-01T00:00:00Z","volume":5,"explanation":"y"}"#;
        let c = r#"{"id":"hashtag:1:2","status":"updated","updated_at":"2024-05-01T00:00:00Z","volume":6}"#;
        assert_eq!(event_key("alert", a), event_key("alert", b));
        assert_ne!(event_key("alert", a), event_key("alert", c));
        assert_ne!(event_key("incident", "{}"), event_key("incident", "[]"));
    }

    #[test]
    fn seen_forgets_the_oldest() {
        let mut s = Seen::default();
        assert!(s.first("a".into()));
        assert!(!s.first("a".into()));
        for i in 0..REMEMBERED {
            s.first(i.to_string());
        }
        assert!(s.first("a".into()));
        assert!(s.keys.len() <= REMEMBERED);
    }
}

//! The bus: NATS JetStream between the processes of a scaled-out Pharos.
//!
//! - [`BusUrl`]: `nats://HOST:PORT[/NAMESPACE]`, and the names of what a
//!   namespace owns on the server ([`Names`]), so several deployments share
//!   one NATS.
//! - [`Bus`]: a connection, with the streams and consumer a namespace
//!   needs created on first use ([`Bus::setup`]).
//! - [`publish`]: posts onto the stream in batches, each message with a
//!   de-duplication id, many publishes in flight (`pharos ingest --bus`).
//! - [`worker`]: what `pharos worker` runs: a shared durable consumer whose
//!   batches are stored in one transaction and acknowledged after the
//!   commit, and the one pipeline in whichever worker holds the leader
//!   lease, which reads the stream in its order and publishes each alert
//!   exactly once.
//! - [`fanout`]: live events (alerts, incidents) between the replicas of
//!   `pharos serve`, and the leader's alerts to all of them.
//!
//! docs/architecture.md ("Scale-out") says why it is cut this way;
//! docs/deploy.md says how to run it.

pub mod fanout;
/// The NATS client, for callers that need the server's own API (tests, tools).
pub use async_nats;
pub mod publish;
pub mod worker;

use async_nats::jetstream;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, pull};
use async_nats::jetstream::stream::{DiscardPolicy, RetentionPolicy, StorageType};
use std::fmt;
use std::time::Duration;

/// The namespace when the URL names none.
pub const DEFAULT_NAMESPACE: &str = "pharos";

/// Largest message the posts stream accepts (bytes). A publisher keeps its
/// batches under [`publish::MAX_BATCH_BYTES`]; anything larger is refused by
/// the server, and a worker quarantines what is larger still (a server
/// configured with a larger `max_payload`).
pub const MAX_MESSAGE_BYTES: i32 = 1 << 20;

/// How long the posts stream remembers a message id: republishing the same
/// batch within this window is dropped by the server.
pub const DEDUP_WINDOW: Duration = Duration::from_secs(15 * 60);

/// How long the posts stream keeps posts (the leader replays them after a
/// failover; see docs/deploy.md). Eight days: one more than the pipeline's
/// longest horizon (narratives and accounts, seven days).
pub const RETENTION: Duration = Duration::from_secs(8 * 86_400);

/// Errors of the bus.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error(
        "bus URL {0:?}: expected nats://HOST:PORT[/NAMESPACE] (namespace: letters, digits, _ and -, at most 64)"
    )]
    Url(String),
    #[error("bus {url}: cannot connect: {source}; is nats-server (with -js) running there?")]
    Connect {
        url: String,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("bus {url}: {what}: {source}")]
    Nats {
        url: String,
        what: String,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("bus {url}: the server refused the post batch: {reason}")]
    Refused { url: String, reason: String },
    #[error(transparent)]
    Store(#[from] pharos_store::StoreError),
    #[error("{0}")]
    Other(String),
}

/// Where the bus is and which namespace to use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BusUrl {
    /// `nats://HOST:PORT` (what the client connects to).
    pub server: String,
    /// Prefix of every stream, subject, consumer and bucket name.
    pub namespace: String,
}

impl BusUrl {
    /// Reads `nats://HOST:PORT[/NAMESPACE]` (the port defaults to 4222).
    pub fn parse(s: &str) -> Result<BusUrl, BusError> {
        let bad = || BusError::Url(s.to_string());
        let rest = s.strip_prefix("nats://").ok_or_else(bad)?;
        let (hostport, ns) = match rest.split_once('/') {
            Some((h, n)) => (h, n.trim_end_matches('/')),
            None => (rest, ""),
        };
        if hostport.is_empty() || hostport.contains(['?', '#', ' ']) {
            return Err(bad());
        }
        let namespace = if ns.is_empty() {
            DEFAULT_NAMESPACE.to_string()
        } else {
            ns.to_string()
        };
        if namespace.len() > 64
            || !namespace
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(bad());
        }
        let server = if hostport
            .rsplit_once(':')
            .is_some_and(|(_, p)| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        {
            format!("nats://{hostport}")
        } else {
            format!("nats://{hostport}:4222")
        };
        Ok(BusUrl { server, namespace })
    }

    /// The names this namespace uses on the server.
    pub fn names(&self) -> Names {
        Names::new(&self.namespace)
    }
}

impl fmt::Display for BusUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Credentials in the URL (nats://user:pass@host) are not shown.
        let shown = match self.server.split_once('@') {
            Some((_, host)) => format!("nats://{host}"),
            None => self.server.clone(),
        };
        write!(f, "{shown}/{}", self.namespace)
    }
}

/// The names of a namespace's streams, subjects, consumer and buckets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Names {
    /// Stream of posts: `<NS>_posts`.
    pub posts_stream: String,
    /// Its subjects: `<NS>.posts.<partition>`; this is the wildcard.
    pub posts_subjects: String,
    /// The workers' shared durable consumer: `<NS>_store`.
    pub store_consumer: String,
    /// Stream of the leader's alerts: `<NS>_alerts`.
    pub alerts_stream: String,
    /// The leader publishes on this subject (`<NS>.alerts.pipeline`).
    pub alerts_subject: String,
    /// Live events between server replicas (core NATS, not stored):
    /// `<NS>.live.<kind>`; this is the wildcard.
    pub live_subjects: String,
    /// Stream of the leader lease, `<NS>_leader`, on subject `<NS>.leader`.
    pub leader_stream: String,
    pub leader_subject: String,
    namespace: String,
}

/// Subjects posts are spread over (by a hash of each message's id).
/// One shared consumer reads them all today; the partitions leave room for
/// a consumer per partition (docs/architecture.md).
pub const PARTITIONS: u32 = 16;

impl Names {
    pub fn new(ns: &str) -> Names {
        Names {
            posts_stream: format!("{ns}_posts"),
            posts_subjects: format!("{ns}.posts.>"),
            store_consumer: format!("{ns}_store"),
            alerts_stream: format!("{ns}_alerts"),
            alerts_subject: format!("{ns}.alerts.pipeline"),
            live_subjects: format!("{ns}.live.>"),
            leader_stream: format!("{ns}_leader"),
            leader_subject: format!("{ns}.leader"),
            namespace: ns.to_string(),
        }
    }

    /// The subject of partition `p`.
    pub fn posts_subject(&self, p: u32) -> String {
        format!("{}.posts.{p}", self.namespace)
    }

    /// The live subject of an event kind (`alert`, `incident`).
    pub fn live_subject(&self, kind: &str) -> String {
        format!("{}.live.{kind}", self.namespace)
    }
}

/// How the namespace's objects are made when absent (existing ones are
/// used as they are: the first worker to start decides).
#[derive(Clone, Debug)]
pub struct Setup {
    /// A message not acknowledged within this is redelivered to a worker.
    pub ack_wait: Duration,
    /// The leader lease lapses this long after its last renewal.
    pub lease_ttl: Duration,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            ack_wait: Duration::from_secs(30),
            lease_ttl: Duration::from_secs(10),
        }
    }
}

/// A connection to the bus.
#[derive(Clone)]
pub struct Bus {
    pub url: BusUrl,
    pub names: Names,
    pub client: async_nats::Client,
    pub js: jetstream::Context,
}

impl Bus {
    /// Connects (must run inside a tokio runtime).
    pub async fn connect(url: &BusUrl) -> Result<Bus, BusError> {
        let client = async_nats::ConnectOptions::new()
            .name("pharos")
            .connection_timeout(Duration::from_secs(5))
            .connect(url.server.as_str())
            .await
            .map_err(|e| BusError::Connect {
                url: url.to_string(),
                source: Box::new(e),
            })?;
        let js = jetstream::new(client.clone());
        Ok(Bus {
            names: url.names(),
            url: url.clone(),
            client,
            js,
        })
    }

    pub(crate) fn err(
        &self,
        what: impl Into<String>,
    ) -> impl FnOnce(Box<dyn std::error::Error + Send + Sync>) -> BusError + '_ {
        let what = what.into();
        move |source| BusError::Nats {
            url: self.url.to_string(),
            what,
            source,
        }
    }

    /// The posts stream, created when absent.
    pub async fn posts_stream(&self) -> Result<jetstream::stream::Stream, BusError> {
        self.js
            .get_or_create_stream(jetstream::stream::Config {
                name: self.names.posts_stream.clone(),
                subjects: vec![self.names.posts_subjects.clone()],
                retention: RetentionPolicy::Limits,
                storage: StorageType::File,
                max_age: RETENTION,
                max_message_size: MAX_MESSAGE_BYTES,
                duplicate_window: DEDUP_WINDOW,
                discard: DiscardPolicy::Old,
                ..Default::default()
            })
            .await
            .map_err(|e| self.err("posts stream")(Box::new(e)))
    }

    /// The alerts stream, created when absent.
    pub async fn alerts_stream(&self) -> Result<jetstream::stream::Stream, BusError> {
        self.js
            .get_or_create_stream(jetstream::stream::Config {
                name: self.names.alerts_stream.clone(),
                subjects: vec![self.names.alerts_subject.clone()],
                retention: RetentionPolicy::Limits,
                storage: StorageType::File,
                max_age: RETENTION,
                duplicate_window: DEDUP_WINDOW,
                ..Default::default()
            })
            .await
            .map_err(|e| self.err("alerts stream")(Box::new(e)))
    }

    /// The workers' shared durable consumer, created when absent.
    pub async fn store_consumer(
        &self,
        setup: &Setup,
    ) -> Result<jetstream::consumer::Consumer<pull::Config>, BusError> {
        let stream = self.posts_stream().await?;
        stream
            .get_or_create_consumer(
                &self.names.store_consumer,
                pull::Config {
                    durable_name: Some(self.names.store_consumer.clone()),
                    description: Some("pharos workers: store posts".into()),
                    deliver_policy: DeliverPolicy::All,
                    ack_policy: AckPolicy::Explicit,
                    ack_wait: setup.ack_wait,
                    // Never given up on: a message that cannot be stored now
                    // (the database is down) is retried until it can; one
                    // that can never be (not posts) is terminated by the worker.
                    max_deliver: -1,
                    max_ack_pending: 20_000,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| self.err("store consumer")(Box::new(e)))
    }

    /// The leader-lease stream, created when absent: one subject holding
    /// at most one message, which lapses after the lease's TTL (a stream,
    /// not a key-value bucket: the client's bucket creation does not speak
    /// to the NATS 2.9 that Debian ships). See [`worker`] for the protocol.
    pub async fn leader_stream(
        &self,
        setup: &Setup,
    ) -> Result<jetstream::stream::Stream, BusError> {
        self.js
            .get_or_create_stream(jetstream::stream::Config {
                name: self.names.leader_stream.clone(),
                subjects: vec![self.names.leader_subject.clone()],
                retention: RetentionPolicy::Limits,
                storage: StorageType::Memory,
                max_messages_per_subject: 1,
                max_age: setup.lease_ttl,
                duplicate_window: setup.lease_ttl.min(Duration::from_secs(120)),
                ..Default::default()
            })
            .await
            .map_err(|e| self.err("leader lease stream")(Box::new(e)))
    }

    /// The current leader lease, if someone holds it.
    pub async fn lease(&self) -> Option<(worker::Lease, u64)> {
        let stream = self.js.get_stream(&self.names.leader_stream).await.ok()?;
        let m = stream
            .get_last_raw_message_by_subject(&self.names.leader_subject)
            .await
            .ok()?;
        Some((serde_json::from_slice(&m.payload).ok()?, m.sequence))
    }

    /// Creates whatever the namespace lacks.
    pub async fn setup(&self, setup: &Setup) -> Result<(), BusError> {
        self.posts_stream().await?;
        self.alerts_stream().await?;
        self.store_consumer(setup).await?;
        self.leader_stream(setup).await?;
        Ok(())
    }

    /// Where the namespace stands (for tests, `pharos worker --status` and
    /// monitoring).
    pub async fn status(&self) -> Result<Status, BusError> {
        let mut stream = self.posts_stream().await?;
        let info = stream
            .info()
            .await
            .map_err(|e| self.err("posts stream info")(Box::new(e)))?
            .clone();
        let (pending, ack_pending, delivered) = match stream
            .get_consumer::<pull::Config>(&self.names.store_consumer)
            .await
        {
            Ok(mut c) => {
                let ci = c
                    .info()
                    .await
                    .map_err(|e| self.err("store consumer info")(Box::new(e)))?;
                (
                    ci.num_pending,
                    ci.num_ack_pending as u64,
                    ci.ack_floor.stream_sequence,
                )
            }
            Err(_) => (info.state.messages, 0, 0),
        };
        let leader = self.lease().await.map(|(l, _)| l);
        let alerts = match self.js.get_stream(&self.names.alerts_stream).await {
            Ok(mut s) => s.info().await.map(|i| i.state.messages).unwrap_or_default(),
            Err(_) => 0,
        };
        Ok(Status {
            messages: info.state.messages,
            last_seq: info.state.last_sequence,
            pending,
            ack_pending,
            ack_floor: delivered,
            alerts,
            leader,
        })
    }

    /// Deletes everything the namespace holds on the server (tests, and
    /// `pharos worker --drop`-style clean-ups).
    pub async fn delete_namespace(&self) -> Result<(), BusError> {
        let _ = self.js.delete_stream(&self.names.posts_stream).await;
        let _ = self.js.delete_stream(&self.names.alerts_stream).await;
        let _ = self.js.delete_stream(&self.names.leader_stream).await;
        Ok(())
    }

    /// Every notification the leader published, in order (the JSON of each).
    pub async fn alerts(&self) -> Result<Vec<String>, BusError> {
        use futures_util::StreamExt;
        let stream = self.alerts_stream().await?;
        let mut s = stream.clone();
        let total = s
            .info()
            .await
            .map_err(|e| self.err("alerts stream info")(Box::new(e)))?
            .state
            .messages;
        let mut out = Vec::with_capacity(total as usize);
        if total == 0 {
            return Ok(out);
        }
        let consumer = stream
            .create_consumer(pull::OrderedConfig {
                deliver_policy: DeliverPolicy::All,
                ..Default::default()
            })
            .await
            .map_err(|e| self.err("alerts reader")(Box::new(e)))?;
        let mut msgs = consumer
            .messages()
            .await
            .map_err(|e| self.err("alerts reader")(Box::new(e)))?;
        while (out.len() as u64) < total {
            match tokio::time::timeout(Duration::from_secs(10), msgs.next()).await {
                Ok(Some(Ok(m))) => out.push(String::from_utf8_lossy(&m.payload).into_owned()),
                Ok(Some(Err(e))) => return Err(self.err("alerts reader")(Box::new(e))),
                _ => break,
            }
        }
        Ok(out)
    }
}

/// What [`Bus::status`] reports.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Status {
    /// Messages (post batches) in the posts stream, and the last sequence.
    pub messages: u64,
    pub last_seq: u64,
    /// Messages no worker has been given yet, and those given but not yet
    /// acknowledged.
    pub pending: u64,
    pub ack_pending: u64,
    /// Every message up to this sequence is stored and acknowledged.
    pub ack_floor: u64,
    /// Notifications the leader published.
    pub alerts: u64,
    /// The leader lease, when someone holds it.
    pub leader: Option<worker::Lease>,
}

impl Status {
    /// Every message is stored and acknowledged.
    pub fn stored_all(&self) -> bool {
        self.pending == 0 && self.ack_pending == 0
    }

    /// The leader has run the pipeline over every message.
    pub fn analysed_all(&self) -> bool {
        self.leader
            .as_ref()
            .is_some_and(|l| l.processed >= self.last_seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = BusUrl::parse("nats://127.0.0.1:4222").unwrap();
        assert_eq!(u.server, "nats://127.0.0.1:4222");
        assert_eq!(u.namespace, "pharos");
        let u = BusUrl::parse("nats://bus.example/team_a").unwrap();
        assert_eq!(u.server, "nats://bus.example:4222");
        assert_eq!(u.namespace, "team_a");
        assert_eq!(u.to_string(), "nats://bus.example:4222/team_a");
        let u = BusUrl::parse("nats://u:secret@h:1/x/").unwrap();
        assert_eq!(u.namespace, "x");
        assert!(!u.to_string().contains("secret"));
        for bad in [
            "http://h:4222",
            "nats://",
            "nats://h/a.b",
            "nats://h/a/b",
            "nats://h/a*",
            "nats://h/ns with space",
        ] {
            assert!(BusUrl::parse(bad).is_err(), "{bad}");
        }
        let long = format!("nats://h/{}", "n".repeat(65));
        assert!(BusUrl::parse(&long).is_err());
    }

    #[test]
    fn names_are_prefixed() {
        let n = Names::new("t1");
        assert_eq!(n.posts_stream, "t1_posts");
        assert_eq!(n.posts_subject(3), "t1.posts.3");
        assert_eq!(n.posts_subjects, "t1.posts.>");
        assert_eq!(n.store_consumer, "t1_store");
        assert_eq!(n.alerts_subject, "t1.alerts.pipeline");
        assert_eq!(n.live_subject("alert"), "t1.live.alert");
        assert_eq!(n.leader_stream, "t1_leader");
        assert_eq!(n.leader_subject, "t1.leader");
    }
}

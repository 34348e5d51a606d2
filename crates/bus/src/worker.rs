//! `pharos worker`: stores what the bus carries, and runs the one pipeline
//! in exactly one worker at a time.
//!
//! # Storing (every worker)
//!
//! All workers of a namespace pull from one durable consumer
//! (`<NS>_store`), so the server hands each message to one of them. A
//! worker fetches up to `fetch` messages, decodes them as canonical JSON
//! lines (the checks of `pharos ingest --format jsonl` and `POST
//! /api/ingest`), stores every post of the fetch in **one transaction**
//! (idempotent on `(platform, id)`), and acknowledges the messages only
//! after the commit. A worker killed at any moment leaves its messages
//! unacknowledged: the server redelivers them after the ack wait, and the
//! store keeps the first copy of each post, so nothing is lost or doubled.
//!
//! Hostile messages: a line that is no post goes to the worker's
//! quarantine file (`source` = `nats:<stream>#<sequence>`, line, reason,
//! raw) and the rest of the message is stored; a message with no post at
//! all, or larger than [`crate::MAX_MESSAGE_BYTES`], is quarantined and
//! **terminated** (never redelivered). A store that fails (the database
//! is down) leaves the messages to be redelivered; the worker goes on.
//!
//! # The pipeline (one leader)
//!
//! The pipeline's stages keep global state (near-duplicate families,
//! narratives, bursts over every entity), so it runs in one worker at a
//! time: the holder of the leader lease. The lease is the one message on
//! subject `<NS>.leader` of the stream `<NS>_leader`, which keeps one
//! message a subject and drops it after the lease's TTL. A worker takes
//! the lease by publishing its [`Lease`] with
//! `Nats-Expected-Last-Subject-Sequence: 0` (succeeds only when no lease
//! is there), and renews it by publishing again expecting its own last
//! sequence (fails once another took over). When the leader dies its
//! message lapses and another worker takes over. The leader reads the posts
//! stream itself, from its first message, **in stream order** (each
//! message's posts sorted by event time, platform and id), so its input is
//! the same whatever the number of workers and whoever stored what: the
//! results with N workers are those with one.
//!
//! Alerts are published on `<NS>.alerts.pipeline` (stream `<NS>_alerts`),
//! each with its position: the stream sequence of the post message being
//! analysed and the notification's index in it (`Pharos-Position: seq.i`,
//! also the `Nats-Msg-Id`). A new leader reads the last published position,
//! replays the stream from the start with its sinks muted up to that
//! position (the pipeline is deterministic, so the replay raises the same
//! notifications), then publishes from there: no alert is lost or doubled
//! by a failover. Every publish carries `Nats-Expected-Last-Subject-Sequence`,
//! so a deposed leader that has not noticed yet cannot publish behind the
//! new one's back: its publish fails and it steps down.

use crate::{Bus, BusError, MAX_MESSAGE_BYTES, Setup};
use async_nats::jetstream::AckKind;
use async_nats::jetstream::consumer::{DeliverPolicy, pull};
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::stream::LastRawMessageErrorKind;
use futures_util::StreamExt;
use pharos_alerts::{DeliveryError, Notification, Outcome, Rules, Sink};
use pharos_core::time::{drop_after_horizon, live_horizon_at};
use pharos_core::{FUTURE_TOLERANCE_MS, Post};
use pharos_ingest::{Format, Item, Options, Quarantine, Rejection};
use pharos_pipeline::{AlertPipeline, StreamConfig};
use pharos_store::{EncodedPosts, Store};
use serde::{Deserialize, Serialize};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::runtime::Handle;

/// The header that carries an alert's position.
pub const POSITION_HEADER: &str = "Pharos-Position";

/// How a worker runs.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// Shown in the leader lease and the logs.
    pub name: String,
    /// How the namespace is made when absent.
    pub setup: Setup,
    /// Messages fetched (and stored in one transaction) at once.
    pub fetch: usize,
    /// Where lines and messages that are no posts go.
    pub quarantine: PathBuf,
    /// Take part in the leader election (run the pipeline when elected).
    pub pipeline: bool,
    /// The alert rules the pipeline applies.
    pub rules: Rules,
}

impl WorkerConfig {
    pub fn new(name: impl Into<String>, quarantine: impl Into<PathBuf>) -> WorkerConfig {
        WorkerConfig {
            name: name.into(),
            setup: Setup::default(),
            fetch: 32,
            quarantine: quarantine.into(),
            pipeline: true,
            rules: Rules::default(),
        }
    }
}

/// The leader lease's value: who runs the pipeline and how far it is.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Lease {
    pub worker: String,
    /// The last posts-stream sequence the pipeline analysed.
    pub processed: u64,
    /// Posts analysed, and notifications published, by this leader's term
    /// (the replay included).
    pub posts: u64,
    pub alerts: u64,
    /// Posts not analysed because they were dated more than
    /// `pharos_core::FUTURE_TOLERANCE_MS` after their message reached the
    /// stream (stored all the same).
    pub future_skipped: u64,
    /// Seconds of this term spent reading the stream and decoding posts,
    /// in the pipeline's stages (read, assign, signals: see
    /// `pharos_pipeline::StageTimes`), and publishing alerts.
    pub decode_s: f64,
    pub read_s: f64,
    pub assign_s: f64,
    pub signals_s: f64,
    pub publish_s: f64,
}

/// What a worker did (so far).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WorkerStats {
    pub messages: u64,
    pub stored: u64,
    pub duplicates: u64,
    /// Lines quarantined, and messages terminated (never redelivered).
    pub quarantined: u64,
    pub terminated: u64,
    /// Fetches whose store failed (left to be redelivered).
    pub store_failures: u64,
    /// Terms as leader.
    pub terms: u64,
}

/// Decodes a message's payload: its posts and the lines that are not.
pub fn decode(payload: &[u8], source: &str) -> (Vec<Post>, Vec<Rejection>) {
    let mut opts = Options::new();
    opts.format = Format::Jsonl;
    opts.detect_language = false;
    let mut posts = Vec::new();
    let mut rejected = Vec::new();
    let mut reader: &[u8] = payload;
    let res = pharos_ingest::read_reader(&mut reader, source, Format::Jsonl, &opts, &mut |item| {
        match item {
            Item::Post(p) => posts.push(*p),
            Item::Rejected(r) => rejected.push(r),
        }
        ControlFlow::Continue(())
    });
    if let Err(e) = res {
        rejected.push(Rejection::new(
            source,
            None,
            None,
            e.to_string(),
            String::from_utf8_lossy(&payload[..payload.len().min(4096)]),
        ));
    }
    (posts, rejected)
}

/// Runs a worker until `stop` is set: storing on this thread, the leader
/// election (and the pipeline, when elected) on another. Call it from
/// outside the runtime `rt` belongs to.
pub fn run<S: Store>(
    rt: &Handle,
    bus: &Bus,
    store: &mut S,
    cfg: &WorkerConfig,
    stop: &AtomicBool,
) -> Result<WorkerStats, BusError> {
    rt.block_on(bus.setup(&cfg.setup))?;
    let stats = Arc::new(Mutex::new(WorkerStats::default()));
    std::thread::scope(|scope| {
        let leader = if cfg.pipeline {
            let stats = stats.clone();
            Some(
                std::thread::Builder::new()
                    .name("pharos-leader".into())
                    .spawn_scoped(scope, move || {
                        lead_while_elected(rt, bus, cfg, stop, &stats)
                    })
                    .map_err(|e| BusError::Other(format!("cannot start the leader thread: {e}")))?,
            )
        } else {
            None
        };
        let stored = store_loop(rt, bus, store, cfg, stop, &stats);
        stop.store(true, Ordering::Relaxed);
        if let Some(h) = leader {
            match h.join() {
                Ok(r) => r?,
                Err(_) => return Err(BusError::Other("the leader thread panicked".into())),
            }
        }
        stored
    })?;
    let s = *lock(&stats);
    Ok(s)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Fetch, decode, store in one transaction, acknowledge; until `stop`.
fn store_loop<S: Store>(
    rt: &Handle,
    bus: &Bus,
    store: &mut S,
    cfg: &WorkerConfig,
    stop: &AtomicBool,
    stats: &Mutex<WorkerStats>,
) -> Result<(), BusError> {
    let consumer = rt.block_on(bus.store_consumer(&cfg.setup))?;
    let mut quarantine = Quarantine::new(&cfg.quarantine);
    let stream = bus.names.posts_stream.clone();
    let mut batch = EncodedPosts::with_capacity(cfg.fetch * crate::publish::BATCH_POSTS);
    while !stop.load(Ordering::Relaxed) {
        let fetched: Vec<async_nats::jetstream::Message> = rt.block_on(async {
            let mut out = Vec::new();
            let msgs = consumer
                .fetch()
                .max_messages(cfg.fetch.max(1))
                .expires(Duration::from_millis(500))
                .messages()
                .await;
            match msgs {
                Ok(mut m) => {
                    while let Some(r) = m.next().await {
                        match r {
                            Ok(msg) => out.push(msg),
                            Err(e) => {
                                tracing::warn!("bus {}: fetch: {e}", bus.url);
                                break;
                            }
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!("bus {}: fetch: {e}", bus.url);
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
            out
        });
        if fetched.is_empty() {
            continue;
        }
        batch.clear();
        let mut ack = Vec::with_capacity(fetched.len());
        let mut term = Vec::new();
        let mut lines_quarantined = 0u64;
        for msg in fetched {
            let seq = msg.info().map(|i| i.stream_sequence).unwrap_or(0);
            let source = format!("nats:{stream}#{seq}");
            if msg.payload.len() > MAX_MESSAGE_BYTES as usize {
                let r = Rejection::new(
                    &source,
                    None,
                    None,
                    format!(
                        "message of {} bytes, over the {} bytes a message may hold",
                        msg.payload.len(),
                        MAX_MESSAGE_BYTES
                    ),
                    String::from_utf8_lossy(&msg.payload[..4096]),
                );
                put(&mut quarantine, &r)?;
                term.push(msg);
                continue;
            }
            let (posts, rejected) = decode(&msg.payload, &source);
            for r in &rejected {
                put(&mut quarantine, r)?;
            }
            lines_quarantined += rejected.len() as u64;
            if posts.is_empty() {
                tracing::warn!(
                    "{source}: no post in the message ({}); terminated, not redelivered",
                    rejected
                        .first()
                        .map(|r| r.reason.as_str())
                        .unwrap_or("empty")
                );
                term.push(msg);
                continue;
            }
            for p in &posts {
                if let Err(e) = batch.push(p) {
                    let r = Rejection::new(&source, p.provenance.line, None, e.to_string(), "");
                    put(&mut quarantine, &r)?;
                    lines_quarantined += 1;
                }
            }
            ack.push(msg);
        }
        flush(&mut quarantine)?;
        let inserted = if batch.is_empty() {
            Ok(Default::default())
        } else {
            store.insert_encoded(&batch)
        };
        match inserted {
            Ok(done) => {
                rt.block_on(async {
                    for m in &ack {
                        if let Err(e) = m.ack().await {
                            tracing::warn!("bus {}: ack: {e}", bus.url);
                        }
                    }
                    for m in &term {
                        if let Err(e) = m.ack_with(AckKind::Term).await {
                            tracing::warn!("bus {}: term: {e}", bus.url);
                        }
                    }
                    let _ = bus.client.flush().await;
                });
                let mut s = lock(stats);
                s.messages += (ack.len() + term.len()) as u64;
                s.stored += done.stored;
                s.duplicates += done.duplicates;
                s.quarantined += lines_quarantined;
                s.terminated += term.len() as u64;
            }
            Err(e) => {
                // Left unacknowledged: redelivered after a pause (the
                // hostile ones are terminated all the same).
                tracing::warn!(
                    "worker {}: storing {} posts failed, they will be redelivered: {e}",
                    cfg.name,
                    batch.len()
                );
                rt.block_on(async {
                    for m in &ack {
                        let _ = m.ack_with(AckKind::Nak(Some(Duration::from_secs(2)))).await;
                    }
                    for m in &term {
                        let _ = m.ack_with(AckKind::Term).await;
                    }
                    let _ = bus.client.flush().await;
                });
                lock(stats).store_failures += 1;
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
    Ok(())
}

fn put(q: &mut Quarantine, r: &Rejection) -> Result<(), BusError> {
    tracing::warn!("{}: {}", r.location(), r.reason);
    q.put(r)
        .map_err(|e| BusError::Other(format!("writing quarantine {}: {e}", q.path().display())))
}

fn flush(q: &mut Quarantine) -> Result<(), BusError> {
    q.flush()
        .map_err(|e| BusError::Other(format!("writing quarantine {}: {e}", q.path().display())))
}

/// Publishes `lease` on the lease subject, expecting the subject's last
/// sequence to be `last` (0: nobody holds the lease); the new sequence.
fn put_lease(rt: &Handle, bus: &Bus, lease: &Lease, last: u64) -> Result<u64, BusError> {
    let value = serde_json::to_vec(lease).expect("a lease serialises");
    let publish = PublishMessage::build()
        .payload(value.into())
        .expected_last_subject_sequence(last);
    rt.block_on(async {
        bus.js
            .send_publish(bus.names.leader_subject.clone(), publish)
            .await?
            .await
    })
    .map(|ack| ack.sequence)
    .map_err(|e| BusError::Other(format!("leader lease: {e}")))
}

/// Campaigns for the lease; runs the pipeline while holding it.
fn lead_while_elected(
    rt: &Handle,
    bus: &Bus,
    cfg: &WorkerConfig,
    stop: &AtomicBool,
    stats: &Mutex<WorkerStats>,
) -> Result<(), BusError> {
    rt.block_on(bus.leader_stream(&cfg.setup))?;
    let retry = (cfg.setup.lease_ttl / 4).max(Duration::from_millis(200));
    while !stop.load(Ordering::Relaxed) {
        let lease = Lease {
            worker: cfg.name.clone(),
            ..Default::default()
        };
        // Fails while another holds the lease (its message is there).
        if let Ok(seq) = put_lease(rt, bus, &lease, 0) {
            tracing::info!("worker {}: leader: running the pipeline", cfg.name);
            lock(stats).terms += 1;
            if let Err(e) = lead(rt, bus, seq, cfg, stop) {
                tracing::warn!("worker {}: no longer the leader: {e}", cfg.name);
            }
        }
        sleep_unless(stop, retry);
    }
    Ok(())
}

fn sleep_unless(stop: &AtomicBool, d: Duration) {
    let until = Instant::now() + d;
    while !stop.load(Ordering::Relaxed) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Collects what the pipeline delivers.
struct Collect(Arc<Mutex<Vec<Notification>>>);

impl Sink for Collect {
    fn deliver(&mut self, n: &Notification) -> Result<Outcome, DeliveryError> {
        lock(&self.0).push(n.clone());
        Ok(Outcome::Delivered)
    }
}

/// `seq.index`.
fn parse_position(s: &str) -> Option<(u64, u64)> {
    let (a, b) = s.split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// One term as leader: replay, then follow the stream, until the lease is
/// lost, a publish is fenced off, or `stop`.
fn lead(
    rt: &Handle,
    bus: &Bus,
    mut revision: u64,
    cfg: &WorkerConfig,
    stop: &AtomicBool,
) -> Result<(), BusError> {
    let alerts = rt.block_on(bus.alerts_stream())?;
    // Where the last leader stopped publishing.
    let (checkpoint, mut last_subject_seq) =
        match rt.block_on(alerts.get_last_raw_message_by_subject(&bus.names.alerts_subject)) {
            Ok(m) => {
                let pos = m
                    .headers
                    .get(POSITION_HEADER)
                    .and_then(|v| parse_position(v.as_str()))
                    .ok_or_else(|| {
                        BusError::Other(format!(
                            "alert {} on {} has no {POSITION_HEADER} header",
                            m.sequence, bus.names.alerts_subject
                        ))
                    })?;
                (Some(pos), m.sequence)
            }
            Err(e) if e.kind() == LastRawMessageErrorKind::NoMessageFound => (None, 0),
            Err(e) => return Err(bus.err("last alert")(Box::new(e))),
        };
    let posts_stream = rt.block_on(bus.posts_stream())?;
    let consumer = rt
        .block_on(posts_stream.create_consumer(pull::OrderedConfig {
            deliver_policy: DeliverPolicy::All,
            ..Default::default()
        }))
        .map_err(|e| bus.err("pipeline reader")(Box::new(e)))?;
    let mut messages = rt
        .block_on(consumer.messages())
        .map_err(|e| bus.err("pipeline reader")(Box::new(e)))?;
    let delivered = Arc::new(Mutex::new(Vec::new()));
    let mut pipe = AlertPipeline::with_config(StreamConfig::default(), cfg.rules.clone(), false);
    pipe.add_sink(Box::new(Collect(delivered.clone())));
    let mut lease = Lease {
        worker: cfg.name.clone(),
        ..Default::default()
    };
    // Renewed (and its progress shown) at least every second.
    let renew_every =
        (cfg.setup.lease_ttl / 4).clamp(Duration::from_millis(100), Duration::from_secs(1));
    let mut renewed = Instant::now();
    let stream = bus.names.posts_stream.clone();
    while !stop.load(Ordering::Relaxed) {
        if renewed.elapsed() >= renew_every {
            revision = put_lease(rt, bus, &lease, revision)?;
            renewed = Instant::now();
        }
        let waited = Instant::now();
        let next = rt.block_on(async { tokio::time::timeout(renew_every, messages.next()).await });
        let waited = waited.elapsed().as_secs_f64();
        let msg = match next {
            Err(_) => continue,
            Ok(None) => return Err(BusError::Other("the pipeline reader ended".into())),
            Ok(Some(Err(e))) => return Err(bus.err("pipeline reader")(Box::new(e))),
            Ok(Some(Ok(m))) => m,
        };
        let (seq, published_ms) = msg
            .info()
            .map(|i| {
                let ms = i.published.unix_timestamp_nanos() / 1_000_000;
                (i.stream_sequence, ms.clamp(0, i64::MAX as i128) as i64)
            })
            .map_err(|e| BusError::Other(format!("pipeline reader: {e}")))?;
        if msg.payload.len() > MAX_MESSAGE_BYTES as usize {
            lease.processed = seq;
            continue;
        }
        let t = Instant::now();
        let (mut posts, _) = decode(&msg.payload, &format!("nats:{stream}#{seq}"));
        // A post dated far after its message reached the stream would move
        // the pipeline's clock past every other post. The horizon is the
        // message's stream time, not the wall clock, so that a replay
        // skips the very same posts.
        let future = drop_after_horizon(&mut posts, live_horizon_at(published_ms), |p| {
            p.time.millis()
        });
        if future > 0 {
            lease.future_skipped += future as u64;
            tracing::warn!(
                "pipeline: {future} posts of nats:{stream}#{seq} dated more than {} h after the message are not analysed",
                FUTURE_TOLERANCE_MS / 3_600_000
            );
        }
        posts.sort_by(|a, b| (a.time, &a.platform, &a.id).cmp(&(b.time, &b.platform, &b.id)));
        lease.decode_s += t.elapsed().as_secs_f64() + waited;
        pipe.push_batch(&posts)
            .map_err(|e| BusError::Other(format!("pipeline: {e}")))?;
        lease.posts += posts.len() as u64;
        let st = pipe.stage_times;
        (lease.read_s, lease.assign_s, lease.signals_s) = (st.read, st.assign, st.signals);
        let t = Instant::now();
        let raised = std::mem::take(&mut *lock(&delivered));
        for (i, n) in raised.iter().enumerate() {
            let pos = (seq, i as u64);
            if checkpoint.is_some_and(|c| pos <= c) {
                continue;
            }
            let position = format!("{}.{}", pos.0, pos.1);
            let publish = PublishMessage::build()
                .payload(n.to_json().into())
                .message_id(&position)
                .header(POSITION_HEADER, position.as_str())
                .expected_last_subject_sequence(last_subject_seq);
            let ack = rt
                .block_on(async {
                    bus.js
                        .send_publish(bus.names.alerts_subject.clone(), publish)
                        .await?
                        .await
                })
                .map_err(|e| {
                    BusError::Other(format!("alert {position} not published (fenced off?): {e}"))
                })?;
            last_subject_seq = ack.sequence;
            lease.alerts += 1;
        }
        lease.publish_s += t.elapsed().as_secs_f64();
        lease.processed = seq;
    }
    // Stopping: give the lease up so another worker takes over at once.
    if let Ok(stream) = rt.block_on(bus.leader_stream(&cfg.setup)) {
        let _ = rt.block_on(stream.delete_message(revision));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions() {
        assert_eq!(parse_position("12.0"), Some((12, 0)));
        assert_eq!(parse_position("12"), None);
        assert_eq!(parse_position("a.1"), None);
        assert!((3, 9) < (4, 0));
    }

    #[test]
    fn decode_keeps_posts_and_names_bad_lines() {
        let good = r#"{"platform":"x","id":"1","actor":{"id":"a"},"time":"2024-05-01T00:00:00Z","text":"hi"}"#;
        let payload = format!("{good}\nnot json\n{{\"id\":2}}\n");
        let (posts, bad) = decode(payload.as_bytes(), "nats:t_posts#7");
        assert_eq!(posts.len(), 1);
        assert_eq!(posts[0].id, "1");
        assert_eq!(bad.len(), 2);
        assert_eq!(bad[0].file, "nats:t_posts#7");
        assert_eq!(bad[0].line, Some(2));
        let (posts, bad) = decode(b"\xff\xfe garbage", "s");
        assert!(posts.is_empty());
        assert!(!bad.is_empty());
    }
}

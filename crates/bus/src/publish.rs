//! Posts onto the bus (`pharos ingest --bus`).
//!
//! Posts go in batches: one message holds up to [`BATCH_POSTS`] posts as
//! canonical JSON lines (what `pharos export` writes and `pharos ingest
//! --format jsonl` reads), at most [`MAX_BATCH_BYTES`]. One post a message
//! measured about 25k posts/s on loopback (the server's per-message cost);
//! batches reach the 100k posts/s (docs/BENCHMARKS.md).
//!
//! Each message carries `Nats-Msg-Id`: a SHA-256 of the `(platform, id)`
//! of its posts, so publishing the same file again within the stream's
//! de-duplication window ([`crate::DEDUP_WINDOW`]) is dropped by the server
//! (the same file cuts into the same batches). Outside the window, or cut
//! differently, a republished post reaches the workers again and the store
//! keeps the first copy: stores are idempotent on `(platform, id)`. The id
//! also picks the message's subject partition.
//!
//! Up to `in_flight` publishes wait for their acknowledgement at once;
//! [`Publisher::finish`] returns once the bus has acknowledged every one.

use crate::{Bus, BusError, BusUrl, PARTITIONS};
use async_nats::jetstream::context::{PublishAckFuture, PublishErrorKind};
use async_nats::jetstream::message::PublishMessage;
use pharos_core::Post;
use sha2::{Digest, Sha256};
use std::collections::VecDeque;

/// Posts per message, at most.
pub const BATCH_POSTS: usize = 256;
/// Bytes per message, at most (under the stream's [`crate::MAX_MESSAGE_BYTES`]).
pub const MAX_BATCH_BYTES: usize = 768 * 1024;
/// Publishes awaiting their acknowledgement, by default.
pub const IN_FLIGHT: usize = 256;

/// What a publisher did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Published {
    /// Posts in messages the bus stored.
    pub posts: u64,
    /// Posts in messages the bus dropped as duplicates (same id within
    /// the de-duplication window).
    pub duplicate_posts: u64,
    pub messages: u64,
    pub duplicate_messages: u64,
}

/// One batch being filled.
#[derive(Default)]
pub struct Batch {
    body: Vec<u8>,
    ids: Sha256,
    posts: usize,
}

impl Batch {
    /// Adds a post (its canonical JSON line).
    pub fn push(&mut self, post: &Post) -> Result<(), BusError> {
        serde_json::to_writer(&mut self.body, post)
            .map_err(|e| BusError::Other(format!("post {}/{}: {e}", post.platform, post.id)))?;
        self.body.push(b'\n');
        self.ids.update(post.platform.as_bytes());
        self.ids.update([0]);
        self.ids.update(post.id.as_bytes());
        self.ids.update([b'\n']);
        self.posts += 1;
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.posts
    }

    pub fn is_empty(&self) -> bool {
        self.posts == 0
    }

    /// Full: send it before adding more.
    pub fn is_full(&self) -> bool {
        self.posts >= BATCH_POSTS || self.body.len() >= MAX_BATCH_BYTES - 64 * 1024
    }
}

/// Publishes batches with bounded in-flight acknowledgements.
pub struct Publisher {
    bus: Bus,
    in_flight: usize,
    waiting: VecDeque<(PublishAckFuture, u64)>,
    done: Published,
}

impl Publisher {
    /// Creates the namespace's posts stream when absent.
    pub async fn new(bus: &Bus, in_flight: usize) -> Result<Publisher, BusError> {
        bus.posts_stream().await?;
        Ok(Publisher::on(bus, in_flight))
    }

    /// A publisher onto a posts stream known to exist.
    fn on(bus: &Bus, in_flight: usize) -> Publisher {
        Publisher {
            bus: bus.clone(),
            in_flight: in_flight.max(1),
            waiting: VecDeque::new(),
            done: Published::default(),
        }
    }

    /// Sends a batch (and empties it); waits for the oldest acknowledgement
    /// when `in_flight` are outstanding.
    pub async fn send(&mut self, batch: &mut Batch) -> Result<(), BusError> {
        if batch.is_empty() {
            return Ok(());
        }
        let digest = std::mem::take(&mut batch.ids).finalize();
        let id = hex::encode(&digest[..16]);
        let partition =
            u32::from_le_bytes([digest[0], digest[1], digest[2], digest[3]]) % PARTITIONS;
        let body = bytes::Bytes::from(std::mem::take(&mut batch.body));
        let posts = batch.posts as u64;
        batch.posts = 0;
        while self.waiting.len() >= self.in_flight {
            self.wait_one().await?;
        }
        let ack = self
            .bus
            .js
            .send_publish(
                self.bus.names.posts_subject(partition),
                PublishMessage::build().payload(body).message_id(id),
            )
            .await
            .map_err(|e| self.refused(e.kind(), e.to_string()))?;
        self.waiting.push_back((ack, posts));
        Ok(())
    }

    fn refused(&self, kind: PublishErrorKind, reason: String) -> BusError {
        match kind {
            PublishErrorKind::StreamNotFound => BusError::Refused {
                url: self.bus.url.to_string(),
                reason: format!("no stream {}: {reason}", self.bus.names.posts_stream),
            },
            _ => BusError::Refused {
                url: self.bus.url.to_string(),
                reason,
            },
        }
    }

    async fn wait_one(&mut self) -> Result<(), BusError> {
        let Some((ack, posts)) = self.waiting.pop_front() else {
            return Ok(());
        };
        let ack = ack
            .await
            .map_err(|e| self.refused(PublishErrorKind::Other, e.to_string()))?;
        self.done.messages += 1;
        if ack.duplicate {
            self.done.duplicate_messages += 1;
            self.done.duplicate_posts += posts;
        } else {
            self.done.posts += posts;
        }
        Ok(())
    }

    /// Posts acknowledged so far.
    pub fn published(&self) -> Published {
        self.done
    }

    /// Waits for every outstanding acknowledgement.
    pub async fn finish(mut self) -> Result<Published, BusError> {
        while !self.waiting.is_empty() {
            self.wait_one().await?;
        }
        Ok(self.done)
    }
}

/// Publishes for a server's HTTP ingest (`pharos serve --bus`): one
/// connection shared by every request, made on first use and again after
/// a failed attempt (once made, the client reconnects by itself), and the
/// posts stream looked up once.
///
/// A request's posts are cut into batches as a file's are, so a client
/// that sends the same body again within the de-duplication window gets
/// them counted as duplicates, not published twice. Every error is the
/// bus refusing (unreachable, no JetStream, stream missing or full, no
/// acknowledgement within the client's timeout): the caller answers 503.
pub struct Gateway {
    url: BusUrl,
    bus: tokio::sync::OnceCell<Bus>,
}

impl Gateway {
    pub fn new(url: BusUrl) -> Gateway {
        Gateway {
            url,
            bus: tokio::sync::OnceCell::new(),
        }
    }

    pub fn url(&self) -> &BusUrl {
        &self.url
    }

    /// The connection, made (and the posts stream created when absent) on
    /// first use.
    pub async fn bus(&self) -> Result<&Bus, BusError> {
        self.bus
            .get_or_try_init(|| async {
                let bus = Bus::connect(&self.url).await?;
                bus.posts_stream().await?;
                Ok(bus)
            })
            .await
    }

    /// Publishes `posts` and returns once the bus has acknowledged every
    /// batch. On an error some batches may be on the bus already: sending
    /// the same posts again is safe (their batches are de-duplicated, and
    /// stores keep the first copy of a post).
    pub async fn publish<'a>(
        &self,
        posts: impl IntoIterator<Item = &'a Post>,
    ) -> Result<Published, BusError> {
        let bus = self.bus().await?;
        let mut publisher = Publisher::on(bus, IN_FLIGHT);
        let mut batch = Batch::default();
        for p in posts {
            batch.push(p)?;
            if batch.is_full() {
                publisher.send(&mut batch).await?;
            }
        }
        publisher.send(&mut batch).await?;
        publisher.finish().await
    }

    /// Whether any worker is reading the posts stream now (a pull request
    /// waiting or messages delivered and not yet acknowledged); `None` when
    /// the bus cannot say.
    pub async fn workers_reading(&self) -> Option<bool> {
        let bus = self.bus().await.ok()?;
        let stream = bus.js.get_stream(&bus.names.posts_stream).await.ok()?;
        let mut c = stream
            .get_consumer::<async_nats::jetstream::consumer::pull::Config>(
                &bus.names.store_consumer,
            )
            .await
            .ok()?;
        let info = c.info().await.ok()?;
        Some(info.num_waiting > 0 || info.num_ack_pending > 0)
    }
}

/// Reads `files` as `pharos ingest` does (the same importers, checks and
/// quarantine) and publishes their posts; returns once the bus has
/// acknowledged every one. `stored` in the summary counts posts in
/// messages the bus stored, `duplicates` those in messages it dropped as
/// republished. Call it from outside the runtime `rt` belongs to.
pub fn publish_files(
    rt: &tokio::runtime::Handle,
    bus: &Bus,
    files: &[std::path::PathBuf],
    opts: &pharos_ingest::Options,
    strict: bool,
    quarantine: &std::path::Path,
    progress: &dyn pharos_ingest::load::Observer,
) -> Result<pharos_ingest::load::Summary, BusError> {
    use pharos_ingest::Item;
    use pharos_ingest::load::{FileFailure, Summary};
    use std::ops::ControlFlow;
    let started = std::time::Instant::now();
    let mut q = pharos_ingest::Quarantine::new(quarantine);
    let qerr = |e: std::io::Error| {
        BusError::Other(format!("writing quarantine {}: {e}", quarantine.display()))
    };
    let mut summary = Summary {
        files: files.len(),
        ..Default::default()
    };
    let mut publisher = rt.block_on(Publisher::new(bus, IN_FLIGHT))?;
    let mut batch = Batch::default();
    let mut failed: Option<BusError> = None;
    for path in files {
        if summary.stopped || failed.is_some() {
            break;
        }
        let mut sink = |item: Item| -> ControlFlow<()> {
            match item {
                Item::Post(p) => {
                    if let Err(e) = batch.push(&p) {
                        failed = Some(e);
                        return ControlFlow::Break(());
                    }
                    if batch.is_full() {
                        let sent = batch.len() as u64;
                        if let Err(e) = rt.block_on(publisher.send(&mut batch)) {
                            failed = Some(e);
                            return ControlFlow::Break(());
                        }
                        progress.written(sent);
                    }
                }
                Item::Rejected(r) => {
                    tracing::warn!("{}: {}", r.location(), r.reason);
                    if let Err(e) = q.put(&r) {
                        failed = Some(qerr(e));
                        return ControlFlow::Break(());
                    }
                    if strict {
                        summary.stopped = true;
                        progress.note(&format!(
                            "pharos: stopped at the first bad record (--strict): {}: {}",
                            r.location(),
                            r.reason
                        ));
                        return ControlFlow::Break(());
                    }
                }
            }
            ControlFlow::Continue(())
        };
        if let Err(e) = pharos_ingest::read_path(path, opts, &mut sink) {
            progress.note(&format!("pharos: {e}"));
            summary.failed_files.push(FileFailure {
                file: path.display().to_string(),
                error: e.to_string(),
            });
            if strict {
                summary.stopped = true;
            }
        }
    }
    if let Some(e) = failed {
        return Err(e);
    }
    // With --strict, what came before the bad record is still published
    // (as `pharos ingest` keeps what it stored before it).
    let sent = batch.len() as u64;
    rt.block_on(publisher.send(&mut batch))?;
    progress.written(sent);
    let done = rt.block_on(publisher.finish())?;
    q.flush().map_err(qerr)?;
    summary.stored = done.posts;
    summary.duplicates = done.duplicate_posts;
    summary.quarantined = q.count();
    summary.quarantine_reasons = q.by_reason().clone();
    if summary.quarantined > 0 {
        summary.quarantine_file = Some(q.path().display().to_string());
    }
    let elapsed = started.elapsed().as_secs_f64();
    summary.elapsed_s = (elapsed * 1000.0).round() / 1000.0;
    summary.posts_per_s = if elapsed > 0.0 {
        ((summary.stored + summary.duplicates) as f64 / elapsed).round()
    } else {
        0.0
    };
    Ok(summary)
}

//! The live analysis: one thread that reads every stored post in event-time
//! order at start, then follows the store as posts arrive (HTTP ingest, feed
//! polling, `pharos ingest` beside the server), and keeps a [`Snapshot`]
//! that handlers read.
//!
//! Per post, as `pharos assess` does: narrative engine (narrative and
//! near-duplicate family) → actor tracker (suspicion flag) → burst detector
//! → alert rules. Alerts raised after the start-up read go out live (SSE
//! and webhooks); those found while reading history are listed but not
//! re-sent. Coordination networks come from the live incidents' pass
//! ([`crate::incidents`], [`Snapshot::set_networks`]), numbered as the
//! incidents name them.

use crate::config::Config;
use crate::writer::Stored;
use pharos_alerts::{DeliveryError, Notification, Outcome, Rules, Sink, Webhook, WebhookConfig};
use pharos_analysis::actors::StreamModel;
use pharos_analysis::bursts::{Alert, EntityKind};
use pharos_analysis::coordination::report::{CoordinationReport, NetworkReport};
use pharos_analysis::narratives::NarrativeSummary;
use pharos_assess::stream::{AlertPipeline, StreamConfig};
use pharos_claims::respond::scan;
use pharos_core::time::drop_after_horizon;
use pharos_core::{EventTime, FUTURE_TOLERANCE_MS, Post, live_horizon_ms};
use pharos_store::{AnyStore, Location, PostLog};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;
use utoipa::ToSchema;

/// Post keys kept per narrative (its newest posts).
const POSTS_PER_NARRATIVE: usize = 30;
/// Bursts kept per narrative (the latest opened).
const BURSTS_PER_NARRATIVE: usize = 100;
/// Posts read at once.
const CHUNK: usize = 4096;
/// How long the live analysis waits for the writer before it looks at the
/// store for posts that other processes (`pharos ingest` beside the
/// server) wrote: the one read that is a poll, and what such posts wait at
/// most (plus the time to analyse them).
pub const OTHER_WRITERS_EVERY: Duration = Duration::from_secs(2);

/// One event of the live stream (`/api/alerts/stream`): its SSE event name
/// and its data (JSON).
#[derive(Clone, Debug)]
pub struct LiveEvent {
    /// `alert` (a notification: raised, updated, closed) or `incident` (an
    /// incident the live assessment found, new or updated).
    pub kind: &'static str,
    pub data: Arc<str>,
}

impl LiveEvent {
    pub fn alert(n: &Notification) -> LiveEvent {
        LiveEvent {
            kind: "alert",
            data: n.to_json().into(),
        }
    }
}

/// What handlers read.
#[derive(Default)]
pub struct Snapshot {
    /// The start-up read is done.
    pub ready: bool,
    pub posts: u64,
    pub narratives: Arc<Vec<NarrativeSummary>>,
    /// The same without their timelines (what lists show), made once per publish.
    pub narrative_list: Arc<Vec<NarrativeSummary>>,
    /// Newest post keys `(platform, id)` of each narrative, newest last.
    pub narrative_posts: HashMap<u64, VecDeque<(String, String)>>,
    /// Every post of each narrative (store rowids), in the order analysed.
    pub members: Members,
    /// The bursts each narrative carries (each alert's last state, oldest
    /// first), as of the last publish: as `pharos respond` attributes them
    /// (`pharos_claims::respond::scan`), from the live burst detector.
    pub narrative_bursts: HashMap<u64, Arc<Vec<Alert>>>,
    /// The latest event time analysed when `narratives` was published (the
    /// "now" of a response pack).
    pub as_of: Option<EventTime>,
    /// `narratives` was published after analysing the posts up to this
    /// rowid (0: not yet published).
    pub published_rowid: i64,
    /// Latest notification of each alert.
    pub alerts: HashMap<String, Notification>,
    /// The coordination networks of the last live assessment (directed
    /// co-retweet, co-link, co-tweet and co-hashtag networks summed and
    /// split with Leiden, as `pharos assess` finds them): their ids are the
    /// incidents' and STIX's `network:<id>`.
    pub coordination: Option<Arc<CoordinationReport>>,
    /// Its communities without their evidence (what lists show).
    pub network_list: Arc<Vec<NetworkReport>>,
    pub coordination_error: Option<String>,
    /// When coordination was last computed (RFC 3339 wall clock).
    pub coordination_at: Option<String>,
    /// Accounts by inauthenticity score, highest first (at most 500).
    pub actors: Arc<Vec<ActorRow>>,
    /// Platforms seen, in order of first appearance.
    pub platforms: Vec<String>,
    /// The stored incidents are the live assessment's of every post up to
    /// this rowid at least (0: no live assessment yet; see
    /// [`crate::incidents::start_live`]).
    pub incidents_rowid: i64,
    /// Incidents the last live assessment found.
    pub incidents: usize,
    /// When the incidents were last assessed (RFC 3339 wall clock).
    pub incidents_at: Option<String>,
    pub incidents_error: Option<String>,
    /// The storylines likely to come back, from the last live assessment
    /// (its prebunk briefs; the dashboard's `/prebunk`).
    pub prebunk: Arc<pharos_assess::prebunk::brief::Prebunk>,
    /// Posts analysed after the start-up read that the writer handed over
    /// (HTTP ingest, the server's feeds) ...
    pub fed_by_writer: u64,
    /// ... and those read from the store (written by other processes, or
    /// handed over while the analysis was too far behind to take them).
    pub read_from_store: u64,
    /// Posts stored but not analysed live: dated more than
    /// [`FUTURE_TOLERANCE_MS`] after the clock when read.
    pub future_skipped: u64,
    /// What the live analysis holds, as of the last publish (entry counts,
    /// for the memory benchmark and `PHAROS_MONITOR`).
    pub footprint: Footprint,
}

/// Entries the live analysis holds (each bounded: docs/limits.md).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Footprint {
    /// Post ids → narrative kept for attributing bursts.
    pub post_narratives: usize,
    /// Narratives with members, and the members kept over all of them.
    pub member_narratives: usize,
    pub members: usize,
    /// Narratives with newest-post keys, and the keys.
    pub key_narratives: usize,
    pub keys: usize,
    /// Narratives carrying bursts, and the bursts over all of them.
    pub burst_narratives: usize,
    pub bursts: usize,
    /// Alerts (latest notification of each).
    pub alerts: usize,
    /// Narratives listed (live and archived), and the engine's state.
    pub narratives: usize,
    pub live_narratives: usize,
    pub archived_narratives: usize,
    pub live_families: usize,
    pub lsh_buckets: usize,
    pub vocabulary: usize,
    pub postings: usize,
    /// Accounts the actor tracker holds; burst-detector entities.
    pub accounts: usize,
    pub burst_entities: usize,
}

impl Snapshot {
    /// Publishes the coordination networks of a live assessment made at
    /// `at` (RFC 3339 wall clock).
    pub fn set_networks(&mut self, r: CoordinationReport, at: String) {
        self.network_list = Arc::new(
            r.communities
                .iter()
                .map(|n| NetworkReport {
                    evidence: Vec::new(),
                    ..n.clone()
                })
                .collect(),
        );
        self.coordination = Some(Arc::new(r));
        self.coordination_error = None;
        self.coordination_at = Some(at);
    }
}

/// The posts the live analysis put in each narrative. When it analysed them
/// in store order they are also what one pass over the store in event-time
/// order finds (`pharos_claims::respond::scan::scan` runs the same engine
/// with the same settings); either way they are the narratives it lists.
///
/// Bounded (docs/limits.md): each narrative keeps its newest
/// `[analysis] members_per_narrative` posts (older ones are counted in
/// [`Members::trimmed`]), and the narratives the engine no longer holds
/// (expired, not archived) lose theirs at the next publish.
#[derive(Default)]
pub struct Members {
    /// Each narrative's kept posts, in the order analysed. A published
    /// narrative summary with `total_posts` = k covers its first k posts
    /// analysed, the first `trimmed` of which are no longer kept.
    pub posts: HashMap<u64, Vec<Member>>,
    /// Oldest posts of each narrative no longer kept.
    pub trimmed: HashMap<u64, u64>,
    /// Their rowids, for the clearance filter: a post marked hidden after
    /// it left a narrative's kept posts still hides the narrative.
    pub cut: HashMap<u64, CutRowids>,
    /// The highest rowid analysed (every stored post up to it is analysed).
    pub analysed_rowid: i64,
}

/// One post of a narrative: its store rowid and near-duplicate family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Member {
    pub rowid: i64,
    family: u64,
}

impl Member {
    const NO_FAMILY: u64 = u64::MAX;

    pub fn new(rowid: i64, family: Option<u64>) -> Member {
        Member {
            rowid,
            family: family.unwrap_or(Self::NO_FAMILY),
        }
    }

    /// Its near-duplicate family.
    pub fn family(&self) -> Option<u64> {
        (self.family != Self::NO_FAMILY).then_some(self.family)
    }
}

impl Members {
    /// Adds a post to `narrative`, keeping its newest `keep` posts (the
    /// list is cut when it reaches half as many again: amortised O(1)).
    pub(crate) fn push(
        &mut self,
        rowid: i64,
        narrative: Option<u64>,
        family: Option<u64>,
        keep: usize,
    ) {
        self.analysed_rowid = self.analysed_rowid.max(rowid);
        if let Some(n) = narrative {
            let v = self.posts.entry(n).or_default();
            v.push(Member::new(rowid, family));
            let keep = keep.max(1);
            if v.len() > keep + keep / 2 {
                let cut = v.len() - keep;
                let f = self.cut.entry(n).or_insert_with(|| CutRowids::new(keep));
                for m in &v[..cut] {
                    f.insert(m.rowid);
                }
                v.drain(..cut);
                *self.trimmed.entry(n).or_default() += cut as u64;
            }
        }
    }

    /// The kept posts of narrative `n` that a summary counting
    /// `total_posts` covers (its newest ones at most
    /// `members_per_narrative`), oldest first.
    pub fn listed(&self, n: u64, total_posts: u64) -> Option<&[Member]> {
        let kept = self.posts.get(&n)?;
        let trimmed = self.trimmed.get(&n).copied().unwrap_or(0);
        let k = (total_posts.saturating_sub(trimmed) as usize).min(kept.len());
        Some(&kept[..k])
    }

    /// Keeps only the narratives `held` says the engine still holds.
    fn retain(&mut self, held: &dyn Fn(u64) -> bool) {
        self.posts.retain(|n, _| held(*n));
        self.trimmed.retain(|n, _| held(*n));
        self.cut.retain(|n, _| held(*n));
    }
}

/// The rowids cut from one narrative's member list, as a Bloom filter of
/// fixed size (about ten bits per kept member, so 64 KiB for the default
/// 50,000): asked whether a rowid was cut, it may say yes wrongly (the
/// clearance filter then hides the narrative from a partner although the
/// hidden post was never in it: about 1 % of hidden posts when as many
/// posts were cut as are kept, more beyond) but never says no wrongly.
#[derive(Clone)]
pub struct CutRowids {
    bits: Vec<u64>,
}

impl CutRowids {
    const HASHES: u64 = 3;

    fn new(keep: usize) -> CutRowids {
        let bits = (keep.max(64) * 10).next_power_of_two();
        CutRowids {
            bits: vec![0; bits / 64],
        }
    }

    fn positions(&self, rowid: i64) -> impl Iterator<Item = usize> + use<> {
        // splitmix64, then double hashing.
        let mut z = (rowid as u64).wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        let (h1, h2) = (z & 0xffff_ffff, (z >> 32) | 1);
        let mask = (self.bits.len() * 64 - 1) as u64;
        (0..Self::HASHES).map(move |i| (h1.wrapping_add(i.wrapping_mul(h2)) & mask) as usize)
    }

    fn insert(&mut self, rowid: i64) {
        for b in self.positions(rowid) {
            self.bits[b / 64] |= 1 << (b % 64);
        }
    }

    /// Whether `rowid` may have been cut (never false for one that was).
    pub fn may_hold(&self, rowid: i64) -> bool {
        self.positions(rowid)
            .all(|b| self.bits[b / 64] & (1 << (b % 64)) != 0)
    }
}

/// Post ids (hashed, [`post_key`]) → narrative for the posts of the last
/// [`RecentNarratives::HORIZON_MS`] of event time at least, for attributing
/// bursts (a burst's evidence is its first posts): two generations, the
/// older dropped when the newer spans the horizon or holds
/// [`RecentNarratives::MAX`] posts.
#[derive(Default)]
struct RecentNarratives {
    current: HashMap<u64, u64>,
    previous: HashMap<u64, u64>,
    /// Event time (ms) of the first post of `current`.
    since: Option<i64>,
}

impl RecentNarratives {
    /// Seven days: a burst open that long still finds its first posts.
    const HORIZON_MS: i64 = 7 * 86_400_000;
    /// Posts per generation (about 40 MB for both at most).
    const MAX: usize = 1_000_000;

    fn insert(&mut self, key: u64, narrative: u64, time_ms: i64) {
        let since = *self.since.get_or_insert(time_ms);
        if time_ms.saturating_sub(since) >= Self::HORIZON_MS || self.current.len() >= Self::MAX {
            self.previous = std::mem::take(&mut self.current);
            self.since = Some(time_ms);
        }
        self.current.insert(key, narrative);
    }

    fn get(&self, key: u64) -> Option<u64> {
        self.current
            .get(&key)
            .or_else(|| self.previous.get(&key))
            .copied()
    }

    fn len(&self) -> usize {
        self.current.len() + self.previous.len()
    }
}

/// One account with its signals.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ActorRow {
    pub actor_id: String,
    pub posts: u64,
    /// In [0, 1]; ≥ 0.5 counts as suspicious.
    pub score: f64,
    pub first_seen: String,
    pub last_seen: String,
    pub rate_per_day: Option<f64>,
    pub burstiness: Option<f64>,
    pub regularity: Option<f64>,
    pub night_share: Option<f64>,
    pub account_age_days: Option<f64>,
    /// The three largest reasons, in words.
    pub reasons: Vec<String>,
}

struct Analyst {
    /// The one pipeline (`pharos_assess::stream`), as `pharos assess` runs
    /// it: narratives, actor signals, streaming coordination, bursts, rules.
    pipe: AlertPipeline,
    /// What its sink delivered since the last batch.
    delivered: Arc<Mutex<Vec<Notification>>>,
    snapshot: Arc<RwLock<Snapshot>>,
    /// Set once the start-up read is done: notifications then go out live.
    live: Arc<AtomicBool>,
    /// Post keys and notifications not yet moved into the snapshot.
    pending_posts: Vec<(u64, (String, String))>,
    /// `(rowid, narrative, family)` of each post analysed, not yet in the snapshot.
    pending_members: Vec<(i64, Option<u64>, Option<u64>)>,
    /// The narrative of each recent post analysed (by a hash of its id;
    /// the latest post with that id wins), for the bursts narratives carry.
    post_narrative: RecentNarratives,
    /// What it keeps (`[analysis]`).
    limits: crate::config::AnalysisConfig,
    /// The bursts each narrative carries: (opened at, alert id) → last state.
    bursts: HashMap<u64, BTreeMap<(i64, String), Alert>>,
    /// Narratives whose bursts changed since the last publish.
    bursts_changed: HashSet<u64>,
    /// The latest event time analysed.
    as_of: Option<EventTime>,
    /// The highest rowid analysed.
    analysed_rowid: i64,
    platforms: Vec<String>,
    posts: u64,
    /// Posts after the start-up read that came from the writer's channel,
    /// and those read from the store (other processes' posts, or batches
    /// the writer could not hand over).
    fed_by_writer: u64,
    read_from_store: u64,
    future_skipped: u64,
}

/// The pipeline's sink in the server: every notification goes into the
/// snapshot, and once the start-up read is done, out live (SSE subscribers
/// and the webhooks' thread).
struct LiveSink {
    live: Arc<AtomicBool>,
    alerts_tx: broadcast::Sender<LiveEvent>,
    hooks: Option<std::sync::mpsc::Sender<Notification>>,
    delivered: Arc<Mutex<Vec<Notification>>>,
}

impl Sink for LiveSink {
    fn deliver(&mut self, n: &Notification) -> Result<Outcome, DeliveryError> {
        if self.live.load(Ordering::Relaxed) {
            let _ = self.alerts_tx.send(LiveEvent::alert(n));
            if let Some(h) = &self.hooks {
                let _ = h.send(n.clone());
            }
        }
        lock(&self.delivered).push(n.clone());
        Ok(Outcome::Delivered)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Starts the analyst thread.
pub fn start(
    store_path: Location,
    config: &Config,
    snapshot: Arc<RwLock<Snapshot>>,
    alerts_tx: broadcast::Sender<LiveEvent>,
    stored: Receiver<Stored>,
) -> anyhow::Result<()> {
    let rules = match &config.alerts.rules {
        Some(p) => Rules::load(p)?,
        None => Rules::default(),
    };
    let hooks = start_webhooks(
        &store_path,
        &config.alerts.webhooks,
        &config.alerts.redirect_allow,
    )?;
    let mut a = Analyst::new(config, rules, snapshot, alerts_tx, hooks);
    std::thread::Builder::new()
        .name("pharos-analyst".into())
        .spawn(move || {
            if let Err(e) = a.run(&store_path, &stored) {
                tracing::error!("analysis stopped: {e:#}");
            }
        })?;
    Ok(())
}

fn start_webhooks(
    store_path: &Location,
    urls: &[String],
    redirect_allow: &[String],
) -> anyhow::Result<Option<std::sync::mpsc::Sender<Notification>>> {
    if urls.is_empty() {
        return Ok(None);
    }
    let mut hooks = Vec::new();
    for (i, url) in urls.iter().enumerate() {
        let redelivery = store_path.beside(&format!("webhook{i}.redeliver.jsonl"));
        let mut cfg = WebhookConfig::new(url, &redelivery);
        cfg.redirect_allow = redirect_allow.to_vec();
        hooks.push(Webhook::new(cfg)?);
    }
    let (tx, rx) = std::sync::mpsc::channel::<Notification>();
    std::thread::Builder::new()
        .name("pharos-webhooks".into())
        .spawn(move || {
            while let Ok(n) = rx.recv() {
                for h in &mut hooks {
                    if let Err(e) = h.deliver(&n) {
                        tracing::warn!("webhook {}: {e}", h.config().url);
                    }
                }
            }
        })?;
    Ok(Some(tx))
}

/// A post id's key in [`Analyst::post_narrative`] (FNV-1a, 64 bits: a
/// collision among a million ids has odds of about 1 in 40 million).
fn post_key(id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl Analyst {
    fn new(
        config: &Config,
        rules: Rules,
        snapshot: Arc<RwLock<Snapshot>>,
        alerts_tx: broadcast::Sender<LiveEvent>,
        hooks: Option<std::sync::mpsc::Sender<Notification>>,
    ) -> Analyst {
        let live = Arc::new(AtomicBool::new(false));
        let delivered = Arc::new(Mutex::new(Vec::new()));
        // The configuration `pharos assess` runs (suspicious = younger than
        // 150 days; coordinated = streaming coordination), so the server flags
        // the same accounts and raises the same alerts.
        let mut pipe = AlertPipeline::with_config(StreamConfig::default(), rules, false);
        pipe.tap_events();
        pipe.add_sink(Box::new(LiveSink {
            live: live.clone(),
            alerts_tx,
            hooks,
            delivered: delivered.clone(),
        }));
        Analyst {
            pipe,
            delivered,
            snapshot,
            live,
            pending_posts: Vec::new(),
            pending_members: Vec::new(),
            post_narrative: RecentNarratives::default(),
            limits: config.analysis.clone(),
            bursts: HashMap::new(),
            bursts_changed: HashSet::new(),
            as_of: None,
            analysed_rowid: 0,
            platforms: Vec::new(),
            posts: 0,
            fed_by_writer: 0,
            read_from_store: 0,
            future_skipped: 0,
        }
    }

    fn run(&mut self, store_path: &Location, stored: &Receiver<Stored>) -> anyhow::Result<()> {
        let store = AnyStore::open(store_path)?;
        let max = store.max_rowid()?;
        // Start-up: every stored post in event-time order, in chunks.
        let mut last_time = i64::MIN;
        let mut last_rowid = i64::MIN;
        loop {
            let rows = store.posts_in_time_order(max, (last_time, last_rowid), CHUNK)?;
            let Some((rid, p)) = rows.last() else { break };
            last_time = p.time.millis();
            last_rowid = *rid;
            let (ids, posts): (Vec<i64>, Vec<Post>) = rows.into_iter().unzip();
            self.push_batch(&ids, &posts);
        }
        // Every post up to `max` is analysed (a rowid without a readable
        // record counts as analysed: a pass over the store skips it too).
        self.analysed_rowid = self.analysed_rowid.max(max);
        self.live.store(true, Ordering::Relaxed);
        self.publish(true);
        let mut tail = max;
        let mut last_publish = Instant::now();
        let mut publish_every = Duration::from_secs(2);
        let mut dirty = false;
        let mut writer_gone = false;
        // The last read from the store was full: more posts wait there.
        let mut behind = false;
        let mut last_look = Instant::now();
        loop {
            // The writer's batches as they are stored; when none comes for
            // a while, a look at the store for posts other processes wrote.
            let first = if behind {
                None
            } else if writer_gone {
                std::thread::sleep(OTHER_WRITERS_EVERY);
                None
            } else {
                // Unpublished results wait half a second at most.
                let wait = if dirty {
                    Duration::from_millis(500)
                } else {
                    OTHER_WRITERS_EVERY
                };
                match stored.recv_timeout(wait) {
                    Ok(b) => Some(b),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => {
                        writer_gone = true;
                        None
                    }
                }
            };
            let mut rows: Vec<(i64, Post)> = Vec::new();
            let mut from_writer = false;
            match first {
                Some(b) => {
                    let mut batches = vec![b];
                    let mut n = batches[0].rowids.len();
                    while n < CHUNK * 4 {
                        match stored.try_recv() {
                            Ok(b) => {
                                n += b.rowids.len();
                                batches.push(b);
                            }
                            Err(_) => break,
                        }
                    }
                    let mut lowest = i64::MAX;
                    for b in &batches {
                        for (p, &rowid) in b.posts.iter().zip(&b.rowids) {
                            // 0: a duplicate; at most `tail`: already read
                            // from the store.
                            if rowid <= tail {
                                continue;
                            }
                            lowest = lowest.min(rowid);
                            match serde_json::from_str::<Post>(p.record) {
                                Ok(post) => rows.push((rowid, post)),
                                Err(e) => tracing::warn!("post at rowid {rowid}: {e}"),
                            }
                        }
                    }
                    from_writer = true;
                    if lowest != i64::MAX && lowest > tail + 1 {
                        // A gap: posts another process wrote, or batches
                        // the writer could not hand over. Read them (the
                        // batches' own posts come again: read from the store
                        // instead).
                        from_writer = false;
                        rows = self.catch_up(&store, tail, CHUNK * 4)?;
                    }
                }
                None => {
                    let look = behind || last_look.elapsed() >= OTHER_WRITERS_EVERY;
                    if look {
                        last_look = Instant::now();
                    }
                    if look && (behind || store.max_rowid()? > tail) {
                        rows = self.catch_up(&store, tail, CHUNK * 4)?;
                    }
                }
            }
            behind = !from_writer && rows.len() >= CHUNK * 4;
            if rows.is_empty() {
                if dirty && last_publish.elapsed() >= Duration::from_millis(500) {
                    self.publish(false);
                    last_publish = Instant::now();
                    dirty = false;
                }
                continue;
            }
            if from_writer {
                self.fed_by_writer += rows.len() as u64;
            }
            tail = rows.iter().map(|(r, _)| *r).max().unwrap_or(tail);
            // A post dated after the clock's horizon would move the live
            // clock past every other post (its narratives, bursts and
            // alerts would expire at once): stored, not analysed live.
            let future = drop_after_horizon(&mut rows, live_horizon_ms(), |(_, p)| p.time.millis());
            if future > 0 {
                self.future_skipped += future as u64;
                tracing::warn!(
                    "live analysis: {} posts dated more than {} h after the clock are stored but not analysed live ({} so far)",
                    future,
                    FUTURE_TOLERANCE_MS / 3_600_000,
                    self.future_skipped
                );
            }
            rows.sort_by_key(|(r, p)| (p.time.millis(), *r));
            let (ids, posts): (Vec<i64>, Vec<Post>) = rows.into_iter().unzip();
            self.analysed_rowid = self.analysed_rowid.max(tail);
            self.push_batch(&ids, &posts);
            dirty = true;
            // Publishing summarises every narrative and account: while
            // catching up, do it at most a fifth of the time.
            if last_publish.elapsed() >= publish_every {
                let t = Instant::now();
                self.publish(false);
                publish_every = Duration::from_secs(2).max(t.elapsed() * 5);
                last_publish = Instant::now();
                dirty = false;
            }
        }
    }

    /// Up to `limit` posts stored after `tail`, read from the store.
    fn catch_up(
        &mut self,
        store: &AnyStore,
        tail: i64,
        limit: usize,
    ) -> anyhow::Result<Vec<(i64, Post)>> {
        let rows = store.posts_after_rowid(tail, limit)?;
        self.read_from_store += rows.len() as u64;
        Ok(rows)
    }

    /// Analyses `posts` (whose store rowids are `rowids`) in order.
    fn push_batch(&mut self, rowids: &[i64], posts: &[Post]) {
        let assignments = match self.pipe.push_batch_assigned(posts) {
            Ok(a) => a,
            Err(e) => {
                // The server's sink does not fail; a rules or webhook
                // error is logged and the batch counts as analysed.
                tracing::warn!("alert pipeline: {e}");
                Vec::new()
            }
        };
        for ((post, asg), &rowid) in posts.iter().zip(assignments).zip(rowids) {
            self.posts += 1;
            self.pending_members
                .push((rowid, asg.narrative, asg.family));
            self.as_of = Some(self.as_of.map_or(post.time, |t| t.max(post.time)));
            if let Some(n) = asg.narrative {
                self.post_narrative
                    .insert(post_key(&post.id), n, post.time.millis());
            }
            if !self.platforms.contains(&post.platform) {
                self.platforms.push(post.platform.clone());
            }
            if let Some(n) = asg.narrative {
                self.pending_posts
                    .push((n, (post.platform.clone(), post.id.clone())));
            }
        }
        self.attribute_bursts();
        // Move what the batch found into the snapshot, under one short lock.
        let delivered = std::mem::take(&mut *lock(&self.delivered));
        let mut s = match self.snapshot.write() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        for (n, key) in self.pending_posts.drain(..) {
            let q = s.narrative_posts.entry(n).or_default();
            if q.len() == POSTS_PER_NARRATIVE {
                q.pop_front();
            }
            q.push_back(key);
        }
        let keep = self.limits.members_per_narrative;
        for (rowid, n, family) in self.pending_members.drain(..) {
            s.members.push(rowid, n, family, keep);
        }
        s.members.analysed_rowid = s.members.analysed_rowid.max(self.analysed_rowid);
        for n in delivered {
            s.alerts.insert(n.alert.id.clone(), n);
        }
    }

    /// The bursts the pipeline's detector reported, attributed to the
    /// narratives that carry them as `pharos respond` attributes them (its
    /// pass runs the same pipeline, so a pack reads the same as the CLI's).
    fn attribute_bursts(&mut self) {
        for ev in self.pipe.take_events() {
            let a = ev.alert();
            if a.entity_kind == EntityKind::Claim {
                continue;
            }
            let post_narrative = &self.post_narrative;
            let carriers = scan::carriers(a, &|id| post_narrative.get(post_key(id)));
            for n in carriers {
                let kept = Alert {
                    // Not shown in a pack; the alert list keeps them.
                    evidence_posts: Vec::new(),
                    explanation: String::new(),
                    ..a.clone()
                };
                let b = self.bursts.entry(n).or_default();
                b.insert((a.opened_at.0, a.id.clone()), kept);
                while b.len() > BURSTS_PER_NARRATIVE {
                    b.pop_first();
                }
                self.bursts_changed.insert(n);
            }
        }
    }

    fn publish(&mut self, ready: bool) {
        let mut narratives = self.pipe.narratives().narratives(None, None);
        // What the engine still holds (live, or archived): the rest of
        // what is kept per narrative goes below.
        let held: HashSet<u64> = narratives.iter().map(|n| n.id).collect();
        narratives.retain(|n| n.total_posts >= 2);
        let model = StreamModel::default_model();
        let mut actors: Vec<ActorRow> = self
            .pipe
            .actors()
            .all_signals()
            .map(|s| {
                let score = model.score(&s);
                let mut reasons: Vec<_> = score
                    .contributions
                    .iter()
                    .filter(|c| c.contribution != 0.0)
                    .collect();
                reasons.sort_by(|a, b| b.contribution.abs().total_cmp(&a.contribution.abs()));
                ActorRow {
                    actor_id: s.actor_id.clone(),
                    posts: s.posts,
                    score: score.score,
                    first_seen: s.first_seen.to_rfc3339(),
                    last_seen: s.last_seen.to_rfc3339(),
                    rate_per_day: s.rate_per_day,
                    burstiness: s.burstiness,
                    regularity: s.regularity,
                    night_share: s.night_share,
                    account_age_days: s.account_age_days,
                    reasons: reasons
                        .iter()
                        .take(3)
                        .map(|c| c.explanation.clone())
                        .collect(),
                }
            })
            .collect();
        actors.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| b.posts.cmp(&a.posts))
        });
        actors.truncate(500);
        let mut s = match self.snapshot.write() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        if ready {
            s.ready = true;
        }
        s.posts = self.posts;
        s.fed_by_writer = self.fed_by_writer;
        s.read_from_store = self.read_from_store;
        s.future_skipped = self.future_skipped;
        s.published_rowid = self.analysed_rowid;
        s.as_of = self.as_of;
        self.bursts.retain(|n, _| held.contains(n));
        for n in self.bursts_changed.drain() {
            if let Some(b) = self.bursts.get(&n) {
                s.narrative_bursts
                    .insert(n, Arc::new(b.values().cloned().collect()));
            }
        }
        s.narrative_bursts.retain(|n, _| held.contains(n));
        s.narrative_posts.retain(|n, _| held.contains(n));
        s.members.retain(&|n| held.contains(&n));
        // Closed alerts stay listed `closed_alerts_h` of event time.
        if let Some(now) = self.as_of {
            let keep_ms = (self.limits.closed_alerts_h.min(i64::MAX as u64 / 3_600_000) as i64)
                .saturating_mul(3_600_000);
            let cutoff = now.millis().saturating_sub(keep_ms);
            s.alerts
                .retain(|_, n| n.alert.closed_at.is_none_or(|c| c.millis() >= cutoff));
        }
        s.members.analysed_rowid = s.members.analysed_rowid.max(self.analysed_rowid);
        s.narrative_list = Arc::new(
            narratives
                .iter()
                .map(|n| NarrativeSummary {
                    timeline: Vec::new(),
                    ..n.clone()
                })
                .collect(),
        );
        s.narratives = Arc::new(narratives);
        s.actors = Arc::new(actors);
        s.platforms = self.platforms.clone();
        let engine = self.pipe.narratives().stats();
        s.footprint = Footprint {
            post_narratives: self.post_narrative.len(),
            member_narratives: s.members.posts.len(),
            members: s.members.posts.values().map(Vec::len).sum(),
            key_narratives: s.narrative_posts.len(),
            keys: s.narrative_posts.values().map(VecDeque::len).sum(),
            burst_narratives: self.bursts.len(),
            bursts: self.bursts.values().map(BTreeMap::len).sum(),
            alerts: s.alerts.len(),
            narratives: s.narratives.len(),
            live_narratives: engine.live_narratives,
            archived_narratives: engine.archived_narratives,
            live_families: engine.live_families,
            lsh_buckets: engine.lsh_buckets,
            vocabulary: engine.vocabulary,
            postings: engine.postings,
            accounts: self.pipe.actors().len(),
            burst_entities: self.pipe.stats().live_entities,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Posts of a simulated scenario, in event-time order.
    fn scenario(posts: u64, days: u32) -> Vec<Post> {
        let mut cfg = pharos_sim::SimConfig::new(posts, 7);
        cfg.days = Some(days.into());
        let mut out = Vec::new();
        pharos_sim::simulate(&cfg, &mut out, &mut |_| {}).expect("simulate");
        let mut v: Vec<Post> = std::str::from_utf8(&out)
            .expect("utf-8")
            .lines()
            .map(|l| serde_json::from_str(l).expect("post"))
            .collect();
        v.sort_by_key(|p| p.time);
        v
    }

    /// What the analysis keeps per post stays bounded by event time and by
    /// count, however long the stream: fed 60 days, it holds the posts of
    /// the last two weeks at most for bursts, a narrative's newest posts,
    /// the narratives the engine still holds, and recent closed alerts.
    #[test]
    fn what_the_analysis_keeps_per_post_stays_bounded_over_a_long_stream() {
        let posts = scenario(40_000, 60);
        let mut config = Config::default();
        config.analysis.members_per_narrative = 40;
        config.analysis.closed_alerts_h = 24;
        let snapshot = Arc::new(RwLock::new(Snapshot::default()));
        let (tx, _rx) = broadcast::channel(16);
        let mut a = Analyst::new(&config, Rules::default(), snapshot.clone(), tx, None);
        for (i, chunk) in posts.chunks(2_000).enumerate() {
            let rowids: Vec<i64> = (0..chunk.len())
                .map(|k| (i * 2_000 + k) as i64 + 1)
                .collect();
            a.push_batch(&rowids, chunk);
            a.publish(false);
            let s = snapshot.read().unwrap();
            for (n, kept) in &s.members.posts {
                assert!(kept.len() <= 60, "narrative {n} keeps {}", kept.len());
            }
        }
        let s = snapshot.read().unwrap();
        let now = s.as_of.expect("analysed").millis();
        let total: usize = s.members.posts.values().map(Vec::len).sum();
        let trimmed: u64 = s.members.trimmed.values().sum();
        // Post → narrative for bursts: two generations of at most 7 days.
        let recent = posts
            .iter()
            .filter(|p| p.time.millis() >= now - 14 * 86_400_000)
            .count();
        assert!(
            a.post_narrative.len() <= recent,
            "{} kept, {recent} posts in the last 14 days",
            a.post_narrative.len()
        );
        assert!(a.post_narrative.len() < posts.len() / 3);
        // Members: the newest 40–60 of each narrative the engine holds.
        let held: HashSet<u64> = a
            .pipe
            .narratives()
            .narratives(None, None)
            .iter()
            .map(|n| n.id)
            .collect();
        assert!(s.members.posts.keys().all(|n| held.contains(n)));
        assert!(s.narrative_posts.keys().all(|n| held.contains(n)));
        assert!(s.narrative_bursts.keys().all(|n| held.contains(n)));
        assert!(trimmed > 0, "some narrative outgrew 40 posts");
        assert!(total < posts.len() / 3, "{total} members kept");
        // A listed narrative's routes read its newest kept posts.
        for n in s.narratives.iter() {
            let listed = s.members.listed(n.id, n.total_posts).expect("kept");
            let trimmed = s.members.trimmed.get(&n.id).copied().unwrap_or(0);
            assert_eq!(listed.len() as u64, n.total_posts - trimmed);
            assert!(listed.len() <= 60);
        }
        // Closed alerts: those closed in the last day only.
        assert!(s.alerts.values().all(|n| {
            n.alert
                .closed_at
                .is_none_or(|c| c.millis() >= now - 86_400_000)
        }));
    }
}

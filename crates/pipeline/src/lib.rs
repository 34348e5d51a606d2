//! The one pipeline: posts in event-time order → narratives, actor
//! signals, coordination, claim matches → burst detector and claim watch →
//! alert rules → sinks.
//!
//! [`AlertPipeline`] is what every entry point runs: `pharos assess`
//! (batch, over the store; incidents are fused from what it emits),
//! `pharos watch` (live, over polled feeds), `pharos respond` (one pass for
//! a narrative's bursts, `pharos_claims::respond::scan`) and `pharos serve`
//! (live, over what the server stores). API: [`AlertPipeline::push_batch`]
//! posts, [`AlertPipeline::advance`] event time, read a snapshot
//! ([`AlertPipeline::narratives`], [`AlertPipeline::actors`],
//! [`AlertPipeline::ranked`], [`AlertPipeline::stats`]); sinks
//! ([`AlertPipeline::add_sink`]: JSONL file, stdout, webhook, the
//! server's SSE) get every notification.
//!
//! It is a crate of its own, below `pharos-claims` and `pharos-assess`:
//! the claims crate's response packs run it (so it cannot live in assess,
//! which depends on claims), and it needs no store: analysis stages and
//! alert rules in, notifications out. The fact-check library plugs in as a
//! [`ClaimSignal`] (`pharos_claims::watch::LibraryClaims`).
//!
//! # Stages
//!
//! For each post, in event-time order:
//!
//! 1. **read** (no shared state, parallel): normalisation, transliteration,
//!    language id, shingles, MinHash band keys, TF-IDF terms
//!    ([`NarrativeReader`]);
//! 2. **assign**: near-duplicate family and narrative ([`NarrativeEngine`]);
//! 3. **signals**: the actor tracker (an account is flagged *suspicious*
//!    when it is younger than [`StreamConfig::young_account_days`] when it
//!    posts, or — off by default — when its stream-model score so far is at
//!    least [`StreamConfig::suspicious_score`]), streaming coordination
//!    (flagged *coordinated*, see [`CoordinationFlags`]), the claim signal ([`ClaimSignal`], optional),
//!    then every entity the post uses — hashtags, normalised URLs, domains,
//!    the post it reshares or quotes, its narrative and its family — into
//!    the burst detector, and its claim matches into the claim watch; the
//!    events pass the alert rules and go to the sinks.
//!
//! [`AlertPipeline::push_batch`] runs the three stages as a pipeline over
//! chunks of [`CHUNK`] posts: chunk *i + 2* is read (on every core) while
//! chunk *i + 1* is assigned and chunk *i*'s signals run, each stage in
//! order. The result is the same as pushing the posts one by one.
//!
//! # Memory
//!
//! Every stage keeps bounded state with an event-time horizon: families
//! 48 h and narratives 7 days after their last post (caps 500k live
//! narratives, 1M vocabulary terms, 50k archived), burst entities 48 h
//! (cap 250k), accounts 7 days (cap 2M), coordination shares one time
//! window (plus about 30 bytes per account ever seen, see
//! `pharos_analysis::coordination::stream`), coordinated-account flags 7
//! days ([`CoordinationFlags::horizon_s`]), claim episodes 6 h after their
//! last match (cap 100k), rule cooldowns one hour. With `keep` the latest
//! notification of every alert is kept for the summary (grows with the
//! alerts; a live watch passes `false`).

use ahash::AHashMap;
use pharos_alerts::{DeliveryError, JsonlFile, Notification, RuleEngine, Rules, Sink, Status};
use pharos_analysis::actors::{
    ActorTracker, PostFlags, StreamModel, normalised_text_hash, sigmoid,
};
use pharos_analysis::bursts::{
    ActorFlags, AlertEvent, BurstConfig, BurstDetector, ClaimConfig, ClaimObservation, ClaimWatch,
    EntityKind, Observation, post_observations,
};
use pharos_analysis::coordination::ObjectRule;
use pharos_analysis::coordination::directed::{IMAGE_DISTANCE, Kind};
use pharos_analysis::coordination::stream::{
    DirectedStreamParams, MatchedPair, StreamPair, StreamParams, StreamingCoordinator,
    StreamingDirected,
};
use pharos_analysis::narratives::{
    Assignment, NarrativeConfig, NarrativeEngine, NarrativeReader, ReadPosts,
};
use pharos_core::{EventTime, Post};
use rayon::prelude::*;
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

/// The stream model's (`pharos_analysis::actors::StreamModel`, default
/// weights) decision threshold (logit ≥ 0): a value for
/// [`StreamConfig::suspicious_score`].
pub const SUSPICIOUS_SCORE: f64 = 0.5;

/// Posts per pipeline chunk (see the module docs).
pub const CHUNK: usize = 1024;

/// One match of a post against a fact-checked claim.
#[derive(Clone, Debug, PartialEq)]
pub struct ClaimHit {
    /// The claim's id in the fact-check library.
    pub claim_id: String,
    /// How sure the matcher is that the post repeats the claim, 0–1.
    pub confidence: f64,
    /// The fact-checkers' rating (`False`, `Misleading`, ...).
    pub verdict: String,
}

/// A source of claim matches: which known fact-checked claims a post
/// repeats (`pharos_claims::watch::LibraryClaims` is the fact-check
/// library's). Plug one in with [`AlertPipeline::set_claim_signal`]; its hits
/// become `claim` observations, alerted at the first confident matches
/// (`pharos_analysis::bursts::claims`).
pub trait ClaimSignal: Send {
    /// The claims `post` repeats (empty for most posts).
    fn claims(&mut self, post: &Post) -> Vec<ClaimHit>;

    /// The claims of many posts (one list per post, in order). Override it
    /// when matching in batches is cheaper (embeddings).
    fn claims_batch(&mut self, posts: &[Post]) -> Vec<Vec<ClaimHit>> {
        posts.iter().map(|p| self.claims(p)).collect()
    }
}

/// How the pipeline flags accounts as coordinated: the streaming
/// coordination engine (CooRTweet's method, `StreamingCoordinator`) over
/// the objects posts share. Two accounts that share the same object within
/// `time_window_s` make a pair; a pair counts once both accounts have at
/// least `min_participation` shares and either has that many in pairs
/// (CooRTweet's rule, counted so far). Organic accounts make such pairs
/// all the time (everyone reshares a viral post within the same minute),
/// so an account is flagged only when it has paired with the **same**
/// partner at least `min_repeats` times — the edge weight of CooRTweet's
/// network. Both accounts of such an edge are then flagged coordinated for
/// `horizon_s` after their latest pair.
///
/// Pictures pair accounts too (`images`, on by default): two posts by
/// different accounts within the window whose PDQ hashes (the `pdq:` hashes
/// posts carry, or that `pharos assess` attaches from `pharos media scan`)
/// are at most `image_distance` apart are a pair, found by the directed
/// method's streaming `co-image` kind (`StreamingDirected`, near keys from
/// a live index of the window's hashes). Such a pair skips CooRTweet's
/// participation rule (its accounts may share no object) and counts
/// towards `min_repeats` like any other.
#[derive(Clone, Debug, PartialEq)]
pub struct CoordinationFlags {
    /// Seconds within which two shares of one object pair up (default 10).
    pub time_window_s: i64,
    /// How far behind the newest post a post may arrive and still be
    /// paired (default 0: posts come sorted by time).
    pub lateness_s: i64,
    /// CooRTweet's participation threshold (default 2).
    pub min_participation: u32,
    /// Pairs with the same partner before both are flagged (default 3).
    pub min_repeats: u32,
    /// What posts share (default `auto`: the reshared post, else the first link).
    pub object: ObjectRule,
    /// Also count a near-duplicate family as a shared object, so accounts
    /// posting the same text within the window pair up (default false:
    /// organic template posts pair up too often).
    pub families: bool,
    /// Most pairs one object may emit per window (default 10,000); also
    /// caps the pairs of one picture.
    pub max_pairs_per_object: u64,
    /// Also pair accounts posting near-identical pictures (default true).
    pub images: bool,
    /// Largest PDQ distance between two pictures that count as the same
    /// (default 31, Meta's threshold).
    pub image_distance: u32,
    /// A flag lasts this long after the account's latest coordinated pair
    /// (default 7 days).
    pub horizon_s: i64,
}

impl Default for CoordinationFlags {
    fn default() -> Self {
        CoordinationFlags {
            time_window_s: 10,
            lateness_s: 0,
            min_participation: 2,
            min_repeats: 3,
            object: ObjectRule::Auto,
            families: false,
            max_pairs_per_object: 10_000,
            images: true,
            image_distance: IMAGE_DISTANCE,
            horizon_s: 7 * 86_400,
        }
    }
}

/// Everything the pipeline can be tuned with.
#[derive(Clone, Debug)]
pub struct StreamConfig {
    pub narratives: NarrativeConfig,
    pub bursts: BurstConfig,
    pub claims: ClaimConfig,
    /// `None`: no account is flagged coordinated.
    pub coordination: Option<CoordinationFlags>,
    /// Flag an account suspicious when its stream-model score so far is
    /// at least this (e.g. [`SUSPICIOUS_SCORE`]); default `None`: on
    /// simulated weeks the model at 0.5 flags 10–45 % of the accounts of
    /// organic surges and gives 40–100 false alarms a day at the default
    /// rule (docs/early-warning.md), so it does not flag by default.
    pub suspicious_score: Option<f64>,
    /// An account younger than this many days when it posts (from
    /// `actor.created`) is flagged suspicious (default 150).
    pub young_account_days: Option<i64>,
}

impl Default for StreamConfig {
    fn default() -> Self {
        StreamConfig {
            narratives: NarrativeConfig::default(),
            bursts: BurstConfig::default(),
            claims: ClaimConfig::default(),
            coordination: Some(CoordinationFlags::default()),
            suspicious_score: None,
            young_account_days: Some(150),
        }
    }
}

/// Counters of the signals stage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamStats {
    pub posts: u64,
    /// Coordination pairs seen, and of them coordinated.
    pub pairs: u64,
    pub coordinated_pairs: u64,
    /// Of `pairs`, pairs of near-identical pictures (co-image).
    pub image_pairs: u64,
    /// Accounts flagged coordinated now (within the horizon).
    pub coordinated_accounts: usize,
    /// Claim matches handed in by the claim signal.
    pub claim_hits: u64,
    /// Live burst entities.
    pub live_entities: usize,
}

/// The streaming coordination engine and the accounts it flags.
struct Coordination {
    cfg: CoordinationFlags,
    engine: StreamingCoordinator,
    /// Co-image pairs (when `cfg.images`).
    images: Option<StreamingDirected>,
    /// Account id → event time (s) of its latest coordinated pair.
    flagged: AHashMap<Box<str>, i64>,
    /// Pair of account hashes (smaller first) → (pairs so far, event time
    /// of the latest), forgotten after the horizon.
    edges: AHashMap<(u64, u64), (u32, i64)>,
    /// Pairs to settle: accounts, and whether of pictures.
    pairs: Vec<(Box<str>, Box<str>, bool)>,
    next_sweep: i64,
    seen_pairs: u64,
    coordinated_pairs: u64,
    image_pairs: u64,
}

impl Coordination {
    fn new(cfg: CoordinationFlags) -> Coordination {
        let engine = StreamingCoordinator::new(StreamParams {
            time_window: cfg.time_window_s.max(0),
            allowed_lateness: cfg.lateness_s.max(0),
            max_pairs_per_object: Some(cfg.max_pairs_per_object),
        })
        .expect("window and lateness are not negative");
        let images = cfg.images.then(|| {
            StreamingDirected::new(
                Kind::CoImage,
                DirectedStreamParams {
                    time_window_ms: cfg.time_window_s.max(0).saturating_mul(1000),
                    allowed_lateness_ms: cfg.lateness_s.max(0).saturating_mul(1000),
                    self_loops: false,
                    max_pairs_per_key: Some(cfg.max_pairs_per_object),
                    image_distance: cfg.image_distance,
                    // Pairs only: the state stays bounded by the window.
                    weights: false,
                },
            )
            .expect("co-image streams; window and lateness are not negative")
        });
        Coordination {
            cfg,
            engine,
            images,
            flagged: AHashMap::new(),
            edges: AHashMap::new(),
            pairs: Vec::new(),
            next_sweep: i64::MIN,
            seen_pairs: 0,
            coordinated_pairs: 0,
            image_pairs: 0,
        }
    }

    /// Streams the post's shares; returns whether its account is flagged.
    fn push(&mut self, post: &Post, family: Option<u64>) -> bool {
        let pairs = &mut self.pairs;
        let mut sink =
            |p: &StreamPair<'_>| pairs.push((p.account.into(), p.account_y.into(), false));
        self.engine.push_post(post, self.cfg.object, &mut sink);
        if self.cfg.families
            && let Some(f) = family
        {
            let object = format!("family:{f}");
            self.engine.push(
                &object,
                &post.actor.id,
                &post.id,
                post.time.secs(),
                &mut sink,
            );
        }
        if let Some(images) = self.images.as_mut()
            && post.media.iter().any(|m| m.pdq().is_some())
        {
            let pairs = &mut self.pairs;
            images.push_post(post, &mut |p: &MatchedPair<'_>| {
                pairs.push((p.user.into(), p.user_y.into(), true))
            });
        }
        let now = post.time.secs();
        self.settle(now);
        self.flagged.contains_key(post.actor.id.as_str())
    }

    /// Flags the accounts of coordinated pairs; forgets old flags.
    fn settle(&mut self, now: i64) {
        for (a, b, image) in std::mem::take(&mut self.pairs) {
            self.seen_pairs += 1;
            self.image_pairs += u64::from(image);
            if a == b
                || !image
                    && !self
                        .engine
                        .is_coordinated(&a, &b, self.cfg.min_participation)
            {
                continue;
            }
            self.coordinated_pairs += 1;
            let (x, y) = (account_hash(&a), account_hash(&b));
            let key = if x <= y { (x, y) } else { (y, x) };
            let e = self.edges.entry(key).or_insert((0, now));
            e.0 = e.0.saturating_add(1);
            e.1 = now;
            if e.0 >= self.cfg.min_repeats {
                self.flagged.insert(a, now);
                self.flagged.insert(b, now);
            }
        }
        if now >= self.next_sweep {
            let horizon = self.cfg.horizon_s;
            self.flagged.retain(|_, t| now - *t <= horizon);
            self.edges.retain(|_, e| now - e.1 <= horizon);
            self.next_sweep = now + 3600;
        }
    }

    fn finish(&mut self) {
        let pairs = &mut self.pairs;
        self.engine.flush(&mut |p: &StreamPair<'_>| {
            pairs.push((p.account.into(), p.account_y.into(), false))
        });
        if let Some(images) = self.images.as_mut() {
            images.flush(&mut |p: &MatchedPair<'_>| {
                pairs.push((p.user.into(), p.user_y.into(), true))
            });
        }
        let now = self.engine.watermark().unwrap_or(0);
        self.settle(now);
    }
}

/// `n` in decimal, written into `buf` (as `n.to_string()`, without the
/// allocation).
fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[i..]).expect("ASCII digits")
}

/// The actor tracker's duplicate-text hash of each post
/// ([`normalised_text_hash`]; 0, unused, for reshares), made in the read
/// stage so the serial signals stage does not walk every text again.
fn text_hashes(posts: &[Post]) -> Vec<u64> {
    posts.iter().map(text_hash).collect()
}

/// [`text_hashes`] on the rayon pool.
fn par_text_hashes(posts: &[Post]) -> Vec<u64> {
    posts.par_iter().with_min_len(64).map(text_hash).collect()
}

fn text_hash(post: &Post) -> u64 {
    if post.reshare_of.is_some() {
        0
    } else {
        normalised_text_hash(&post.text)
    }
}

/// FNV-1a of an account id (edge keys).
fn account_hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Stage 3: everything after narrative assignment.
struct Signals {
    tracker: ActorTracker,
    model: StreamModel,
    suspicious_score: Option<f64>,
    young_account_ms: Option<i64>,
    coordination: Option<Coordination>,
    claim_signal: Option<Box<dyn ClaimSignal>>,
    claims: ClaimWatch,
    detector: BurstDetector,
    rules: RuleEngine,
    sinks: Vec<Box<dyn Sink + Send>>,
    events: Vec<AlertEvent>,
    /// Every detector event, before the rules, when tapped
    /// ([`AlertPipeline::tap_events`]).
    tapped: Option<Vec<AlertEvent>>,
    keep: bool,
    written: u64,
    raised: u64,
    posts: u64,
    claim_hits: u64,
}

/// `posts` as the claim signal should read them: each text without the
/// lines its source repeats and the platform templates
/// ([`NarrativeEngine::clean_text`], as the engine knows them right after
/// assigning these posts), so a footer or signature that quotes a claim
/// does not make every post of a channel match it, and one that does not
/// dilutes nothing. `None` when there is no claim signal or nothing was
/// removed (the posts are then read as they are).
fn for_claims(claims: bool, engine: &NarrativeEngine, posts: &[Post]) -> Option<Vec<Post>> {
    if !claims {
        return None;
    }
    let mut out: Option<Vec<Post>> = None;
    for (i, p) in posts.iter().enumerate() {
        if let Cow::Owned(text) = engine.clean_text(p) {
            out.get_or_insert_with(|| posts.to_vec())[i].text = text;
        }
    }
    out
}

impl Signals {
    /// The signals of `posts` (assigned as `assignments`); returns the
    /// notifications to keep for the summary.
    ///
    /// `cleaned` is `posts` as the claim signal reads them, when the
    /// narrative stage removed boilerplate from any ([`for_claims`]).
    fn process(
        &mut self,
        posts: &[Post],
        assignments: &[Assignment],
        text_hashes: &[u64],
        cleaned: Option<&[Post]>,
    ) -> Result<Vec<Notification>, DeliveryError> {
        let mut kept = Vec::new();
        let hits = match self.claim_signal.as_mut() {
            Some(c) => c.claims_batch(cleaned.unwrap_or(posts)),
            None => Vec::new(),
        };
        for (i, (post, a)) in posts.iter().zip(assignments).enumerate() {
            let hits = hits.get(i).map(Vec::as_slice).unwrap_or(&[]);
            self.post(post, *a, text_hashes.get(i).copied(), hits);
            self.deliver(&mut kept)?;
        }
        Ok(kept)
    }

    fn post(
        &mut self,
        post: &Post,
        assignment: Assignment,
        text_hash: Option<u64>,
        hits: &[ClaimHit],
    ) {
        self.posts += 1;
        self.tracker.observe_with(
            post,
            PostFlags {
                text_hash,
                ..PostFlags::default()
            },
        );
        // The score alone (`sigmoid(logit)`, equal to `score().score`)
        // without building its explanation.
        let mut flags = ActorFlags::NONE;
        if let Some(min) = self.suspicious_score
            && let Some(s) = self.tracker.signals(&post.actor.id)
            && sigmoid(self.model.logit(&s)) >= min
        {
            flags = ActorFlags::SUSPICIOUS;
        }
        if let (Some(young), Some(created)) = (self.young_account_ms, post.actor.created)
            && post.time.millis() - created.millis() < young
        {
            flags = flags | ActorFlags::SUSPICIOUS;
        }
        if let Some(c) = self.coordination.as_mut()
            && c.push(post, assignment.family)
        {
            flags = flags | ActorFlags::COORDINATED;
        }
        // Narrative and family ids as text, without an allocation each.
        let (mut nbuf, mut fbuf) = ([0u8; 20], [0u8; 20]);
        let nkey = assignment.narrative.map(|n| decimal(n, &mut nbuf));
        let fkey = assignment.family.map(|f| decimal(f, &mut fbuf));
        let mut obs: Vec<Observation<'_>> = Vec::with_capacity(8);
        post_observations(post, flags, &mut obs);
        let base = |kind, key| Observation {
            kind,
            key: Cow::Borrowed(key),
            time: post.time,
            actor: &post.actor.id,
            platform: &post.platform,
            lang: post.lang.as_deref(),
            flags,
            post: &post.id,
        };
        if let Some(n) = nkey {
            obs.push(base(EntityKind::Narrative, n));
        }
        if let Some(f) = fkey {
            obs.push(base(EntityKind::Family, f));
        }
        for o in &obs {
            self.detector.observe(o, &mut self.events);
        }
        for h in hits {
            self.claim_hits += 1;
            let o = ClaimObservation {
                claim_id: &h.claim_id,
                confidence: h.confidence,
                verdict: &h.verdict,
                time: post.time,
                actor: &post.actor.id,
                platform: &post.platform,
                lang: post.lang.as_deref(),
                flags,
                post: &post.id,
            };
            self.claims.observe(&o, &mut self.events);
        }
    }

    fn finish(&mut self) -> Result<Vec<Notification>, DeliveryError> {
        if let Some(c) = self.coordination.as_mut() {
            c.finish();
        }
        self.detector.finish(&mut self.events);
        self.claims.finish(&mut self.events);
        let mut kept = Vec::new();
        self.deliver(&mut kept)?;
        self.flush()?;
        Ok(kept)
    }

    fn flush(&mut self) -> Result<(), DeliveryError> {
        for s in &mut self.sinks {
            s.flush()?;
        }
        Ok(())
    }

    fn deliver(&mut self, kept: &mut Vec<Notification>) -> Result<(), DeliveryError> {
        if let Some(t) = self.tapped.as_mut() {
            t.extend(self.events.iter().cloned());
        }
        for ev in self.events.drain(..) {
            for n in self.rules.process(&ev) {
                for s in &mut self.sinks {
                    s.deliver(&n)?;
                }
                self.written += 1;
                if n.status == Status::Raised {
                    self.raised += 1;
                }
                if self.keep {
                    kept.push(n);
                }
            }
        }
        Ok(())
    }
}

/// Posts in, notifications out (kept in memory for the summary and written
/// to the sinks). See the module docs.
pub struct AlertPipeline {
    narratives: NarrativeEngine,
    reader: NarrativeReader,
    signals: Signals,
    /// Latest notification per alert id (only when kept, for the summary).
    pub alerts: HashMap<String, Notification>,
    /// Notifications written, and how many of them were raises.
    pub written: u64,
    pub raised: u64,
    pub posts: u64,
    /// Seconds spent in each stage so far (see [`StageTimes`]).
    pub stage_times: StageTimes,
}

/// Seconds each stage of [`AlertPipeline::push_batch`] has spent so far,
/// summed over chunks (each on whatever thread ran it): how the work
/// divides between the stages, so they can be balanced over the cores.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StageTimes {
    /// Reading (normalisation, language id, shingles, MinHash, terms).
    pub read: f64,
    /// Family and narrative assignment.
    pub assign: f64,
    /// Actor tracker, coordination, claim watch, bursts, rules, deliveries.
    pub signals: f64,
}

/// Runs `f`, adding its duration to `acc`.
fn timed<T>(acc: &mut f64, f: impl FnOnce() -> T) -> T {
    let t = std::time::Instant::now();
    let r = f();
    *acc += t.elapsed().as_secs_f64();
    r
}

impl AlertPipeline {
    /// The default configuration ([`StreamConfig::default`]), alerts
    /// appended to `out` when given. `keep`: remember the latest
    /// notification of every alert (for a summary; memory grows with the
    /// alerts, so a live watch passes false).
    pub fn new(
        rules: Rules,
        out: Option<&Path>,
        keep: bool,
    ) -> Result<AlertPipeline, DeliveryError> {
        let mut p = AlertPipeline::with_config(StreamConfig::default(), rules, keep);
        if let Some(path) = out {
            p.add_sink(Box::new(JsonlFile::append(path)?));
        }
        Ok(p)
    }

    /// A pipeline with no sink yet ([`Self::add_sink`]).
    pub fn with_config(cfg: StreamConfig, rules: Rules, keep: bool) -> AlertPipeline {
        let narratives = NarrativeEngine::new(cfg.narratives);
        AlertPipeline {
            reader: narratives.reader(),
            narratives,
            signals: Signals {
                tracker: ActorTracker::default(),
                model: StreamModel::default_model(),
                suspicious_score: cfg.suspicious_score,
                young_account_ms: cfg.young_account_days.map(|d| d * 86_400_000),
                coordination: cfg.coordination.map(Coordination::new),
                claim_signal: None,
                claims: ClaimWatch::new(cfg.claims),
                detector: BurstDetector::new(cfg.bursts),
                rules: RuleEngine::new(rules),
                sinks: Vec::new(),
                events: Vec::new(),
                tapped: None,
                keep,
                written: 0,
                raised: 0,
                posts: 0,
                claim_hits: 0,
            },
            alerts: HashMap::new(),
            written: 0,
            raised: 0,
            posts: 0,
            stage_times: StageTimes::default(),
        }
    }

    /// Another delivery (JSONL file, stdout, webhook ...): every
    /// notification goes to every sink, in the order they were added.
    pub fn add_sink(&mut self, sink: Box<dyn Sink + Send>) {
        self.signals.sinks.push(sink);
    }

    /// Matches posts against fact-checked claims (see [`ClaimSignal`]).
    pub fn set_claim_signal(&mut self, signal: Box<dyn ClaimSignal>) {
        self.signals.claim_signal = Some(signal);
    }

    /// The narrative engine (its narratives, summaries and state sizes).
    pub fn narratives(&self) -> &NarrativeEngine {
        &self.narratives
    }

    /// The actor tracker (every account's signals so far, which the stream
    /// model scores).
    pub fn actors(&self) -> &ActorTracker {
        &self.signals.tracker
    }

    /// Keeps every event of the burst detector and the claim watch (opened,
    /// updated, closed; before the alert rules) for [`Self::take_events`]:
    /// what a consumer needs that attributes bursts itself (the server's
    /// response packs attribute them to narratives).
    pub fn tap_events(&mut self) {
        self.signals.tapped.get_or_insert_with(Vec::new);
    }

    /// The events kept since the last call (empty unless [`Self::tap_events`]).
    pub fn take_events(&mut self) -> Vec<AlertEvent> {
        self.signals
            .tapped
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Counters and state sizes of the signals stage.
    pub fn stats(&self) -> StreamStats {
        let s = &self.signals;
        StreamStats {
            posts: s.posts,
            pairs: s.coordination.as_ref().map_or(0, |c| c.seen_pairs),
            coordinated_pairs: s.coordination.as_ref().map_or(0, |c| c.coordinated_pairs),
            image_pairs: s.coordination.as_ref().map_or(0, |c| c.image_pairs),
            coordinated_accounts: s.coordination.as_ref().map_or(0, |c| c.flagged.len()),
            claim_hits: s.claim_hits,
            live_entities: s.detector.stats().live_entities,
        }
    }

    /// One post (call in event-time order).
    pub fn push(&mut self, post: &Post) -> Result<(), DeliveryError> {
        self.push_batch(std::slice::from_ref(post))
    }

    /// Posts in event-time order, many at once, through the staged
    /// pipeline (see the module docs); the same result as [`Self::push`]
    /// one by one.
    pub fn push_batch(&mut self, posts: &[Post]) -> Result<(), DeliveryError> {
        self.push_batch_assigned(posts).map(|_| ())
    }

    /// [`Self::push_batch`], returning each post's narrative and family.
    pub fn push_batch_assigned(
        &mut self,
        posts: &[Post],
    ) -> Result<Vec<Assignment>, DeliveryError> {
        let mut all: Vec<Assignment> = Vec::with_capacity(posts.len());
        let claims = self.signals.claim_signal.is_some();
        let times = &mut self.stage_times;
        if posts.len() <= CHUNK {
            let (read, hashes) = timed(&mut times.read, || {
                (self.reader.read_here(posts), text_hashes(posts))
            });
            let (assigned, cleaned) = timed(&mut times.assign, || {
                let a = self.narratives.assign_read(posts, read);
                (a, for_claims(claims, &self.narratives, posts))
            });
            let kept = timed(&mut times.signals, || {
                self.signals
                    .process(posts, &assigned, &hashes, cleaned.as_deref())
            })?;
            self.absorb(kept);
            all.extend(assigned);
            return Ok(all);
        }
        let chunks: Vec<&[Post]> = posts.chunks(CHUNK).collect();
        let reader = &self.reader;
        let narratives = &mut self.narratives;
        let signals = &mut self.signals;
        // In flight: chunk i read, chunk i - 1 assigned (waiting for signals).
        let read_chunk = |c: &[Post]| -> (ReadPosts, Vec<u64>) {
            rayon::join(|| reader.read(c), || par_text_hashes(c))
        };
        let mut read: Option<(ReadPosts, Vec<u64>)> = Some(read_chunk(chunks[0]));
        type Assigned = (usize, Vec<Assignment>, Vec<u64>, Option<Vec<Post>>);
        let mut assigned: Option<Assigned> = None;
        let mut kept_all = Vec::new();
        for i in 0..=chunks.len() {
            let to_read = chunks.get(i + 1).copied();
            let to_assign = read.take().map(|r| (i, r));
            let to_signal = assigned.take();
            let StageTimes {
                read: t_read,
                assign: t_assign,
                signals: t_signals,
            } = times;
            let ((next_read, now_assigned), signalled) = rayon::join(
                || {
                    rayon::join(
                        || timed(t_read, || to_read.map(read_chunk)),
                        || {
                            timed(t_assign, || {
                                to_assign.map(|(i, (r, hashes))| {
                                    let a = narratives.assign_read(chunks[i], r);
                                    let cleaned = for_claims(claims, narratives, chunks[i]);
                                    (i, a, hashes, cleaned)
                                })
                            })
                        },
                    )
                },
                || {
                    timed(t_signals, || match to_signal {
                        Some((j, a, hashes, cleaned)) => signals
                            .process(chunks[j], &a, &hashes, cleaned.as_deref())
                            .map(|k| Some((a, k))),
                        None => Ok(None),
                    })
                },
            );
            read = next_read;
            assigned = now_assigned;
            if let Some((a, kept)) = signalled? {
                all.extend(a);
                kept_all.extend(kept);
            }
        }
        self.absorb(kept_all);
        Ok(all)
    }

    fn absorb(&mut self, kept: Vec<Notification>) {
        for n in kept {
            self.alerts.insert(n.alert.id.clone(), n);
        }
        self.written = self.signals.written;
        self.raised = self.signals.raised;
        self.posts = self.signals.posts;
    }

    /// Tells the pipeline that event time has reached `watermark` with no
    /// more posts before it (a live watch between polls): bursts and claim
    /// episodes that went quiet are closed.
    pub fn advance(&mut self, watermark: EventTime) -> Result<(), DeliveryError> {
        let s = &mut self.signals;
        s.detector.advance(watermark, &mut s.events);
        s.claims.advance(watermark, &mut s.events);
        let mut kept = Vec::new();
        s.deliver(&mut kept)?;
        self.absorb(kept);
        Ok(())
    }

    /// End of input: closes every open burst and flushes the sinks.
    pub fn finish(&mut self) -> Result<(), DeliveryError> {
        let kept = self.signals.finish()?;
        self.absorb(kept);
        Ok(())
    }

    /// Flushes the sinks (between polls).
    pub fn flush(&mut self) -> Result<(), DeliveryError> {
        self.signals.flush()
    }

    /// Latest state of each alert, highest severity first.
    pub fn ranked(&self) -> Vec<&Notification> {
        let mut v: Vec<&Notification> = self.alerts.values().collect();
        v.sort_by(|a, b| {
            b.alert
                .severity
                .total_cmp(&a.alert.severity)
                .then_with(|| a.alert.id.cmp(&b.alert.id))
        });
        v
    }
}

#[cfg(test)]
mod tests {
    use super::{Coordination, CoordinationFlags, decimal};
    use pharos_core::{EventTime, Media, Post};

    fn post(id: usize, account: &str, secs: i64, pdq: &str) -> Post {
        let mut p = Post {
            platform: "x".into(),
            id: format!("p{id}"),
            time: EventTime::from_millis(secs * 1000),
            ..Default::default()
        };
        p.actor.id = account.into();
        p.media.push(Media {
            url: format!("img/{id}.jpg"),
            hash: Some(format!("pdq:{pdq}")),
            ..Default::default()
        });
        p
    }

    /// `base` with the first `bits` hex digits' low bits flipped.
    fn copy(base: &str, bits: usize) -> String {
        base.chars()
            .enumerate()
            .map(|(i, c)| {
                let d = c.to_digit(16).unwrap();
                let d = if i < bits { d ^ 1 } else { d };
                char::from_digit(d, 16).unwrap()
            })
            .collect()
    }

    #[test]
    fn accounts_posting_copies_of_a_picture_within_the_window_are_flagged() {
        let pictures = [
            "f0e1d2c3b4a5968778695a4b3c2d1e0f0123456789abcdeffedcba9876543210",
            "00112233445566778899aabbccddeeff0f1e2d3c4b5a69788796a5b4c3d2e1f0",
            "a5a5a5a55a5a5a5a0ff00ff0f00ff00f123456789abcdef00fedcba987654321",
        ];
        let run = |images: bool, gap: i64| {
            let mut c = Coordination::new(CoordinationFlags {
                images,
                ..Default::default()
            });
            let mut n = 0;
            // Three pictures, each posted by a, then by b `gap` s later
            // (a copy 12 bits away); c posts another picture meanwhile.
            for (k, pic) in pictures.iter().enumerate() {
                let t = 1_000 * k as i64;
                for (account, at, hash) in [
                    ("a", t, pic.to_string()),
                    ("b", t + gap, copy(pic, 12)),
                    ("c", t + 1, copy(pictures[(k + 1) % 3], 40)),
                ] {
                    c.push(&post(n, account, at, &hash), None);
                    n += 1;
                }
            }
            c.finish();
            let mut flagged: Vec<&str> = c.flagged.keys().map(|k| &**k).collect();
            flagged.sort_unstable();
            (flagged.join(","), c.image_pairs)
        };
        assert_eq!(run(true, 4), ("a,b".to_string(), 3));
        // Beyond the window (10 s), or without images: nothing.
        assert_eq!(run(true, 11), (String::new(), 0));
        assert_eq!(run(false, 4), (String::new(), 0));
    }

    #[test]
    fn decimal_is_to_string() {
        let mut buf = [0u8; 20];
        for n in [0, 7, 10, 99, 1234567890, u64::MAX] {
            assert_eq!(decimal(n, &mut buf), n.to_string());
        }
    }
}

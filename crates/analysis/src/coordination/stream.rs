//! Coordination over an unbounded, time-ordered stream.
//!
//! The batch engines ([`super::coortweet`], [`super::directed`]) see the
//! whole input at once. Here shares (or messages) arrive one at a time, in
//! event-time order give or take an *allowed lateness*, and pairs come out
//! as soon as they are certain, with state bounded by the time window.
//!
//! # Event time, watermark, lateness
//!
//! The watermark is `max event time seen − allowed_lateness` (it never goes
//! back; [`StreamingCoordinator::advance_watermark`] can push it further, by
//! a wall clock for instance). An input whose time is at or after the
//! watermark is accepted into a small reorder buffer; an input *before* the
//! watermark is **late**: it is not paired, it is counted
//! ([`StreamStats::late`]) and handed back to the caller
//! ([`Pushed::Late`]), never dropped silently. Inputs leave the buffer, in
//! time order, once the watermark has passed their time: from then on
//! nothing can arrive before them, so every pair they close with an earlier
//! share is final and is emitted at once.
//!
//! # State bounded by the window
//!
//! A share released at time `t` can only pair with later shares whose time
//! is at least the watermark, so it is kept while `t ≥ watermark −
//! time_window` and then forgotten; an object with no share left is dropped.
//! Live state is therefore the shares of the last `time_window` seconds
//! plus those in the reorder buffer (the last `allowed_lateness` seconds)
//! — see [`StreamingCoordinator::state_size`]. What does grow is per
//! *account*: its name and two counters (the participation rule below needs
//! them over the whole stream), about 30 bytes an account.
//!
//! A viral object makes pairs quadratically: 50 000 shares inside one
//! window are about 1.25e9 pairs. [`StreamParams::max_pairs_per_object`]
//! caps the pairs one object may emit per window (tumbling windows of
//! `time_window + 1` seconds aligned on the epoch). Once an object reaches
//! the cap, its later shares in that window are still kept (they are
//! state, bounded by the window) but no longer examined: the candidate
//! pairs they would have formed are counted in
//! [`StreamStats::pairs_dropped`] and each capped object window is reported
//! ([`StreamingCoordinator::take_capped`]). Time per share is then O(log n).
//!
//! # "The same pairs as batch", precisely
//!
//! CooRTweet's step 1 (drop accounts with fewer than `min_participation`
//! rows in the *whole* input) and step 4 (keep a pair when either account
//! has `min_participation` distinct contents in pairs) need the whole input
//! and cannot be known while it streams. The stream emits the raw windowed
//! pairs of steps 2, 3 and 5:
//!
//! > the pairs [`Coordination`](super::Coordination) outputs with
//! > `min_participation = 1` (which keeps every account and every pair) on
//! > the same shares, minus the late ones, in *canonical order*: sorted by
//! > `(time, account, content, object)`.
//!
//! Same rows, same orientation: `content` is the older share, and on equal
//! times it is the share whose account first appeared earlier in that
//! order (CooRTweet's x order), then the smaller content id. The canonical
//! order only matters for pairs with `time_delta = 0`: batch on another row
//! order may orient those the other way round. It makes the stream's output
//! independent of arrival order within the lateness.
//!
//! The participation rule is applied on top, by the consumer, from running
//! per-account counts ([`AccountCounts`]):
//!
//! - incrementally ([`StreamingCoordinator::is_coordinated`]): an edge is
//!   *coordinated* once both accounts have at least `min_participation`
//!   rows (step 1) and either has at least `min_participation` rows whose
//!   content is in some pair (step 4). Counts only grow, so once true it
//!   stays true. Until the end it can say true where batch says false: the
//!   step-4 count includes pairs with partners that step 1 drops at the end;
//! - exactly, at the end of the stream
//!   ([`StreamingCoordinator::participation_mask`] over the accumulated
//!   pairs): exactly batch's pairs at the same `min_participation` (tested).
//!
//! Exactness of step 4 assumes that the rows sharing one content id belong
//! to one account and one time — always true for posts (the rows of one
//! post share its author and time) and for CooRTweet tables; inputs that
//! break it are counted in [`StreamStats::content_conflicts`].
//!
//! The directed (QUT) method streams the same way: [`StreamingDirected`].
//! Its `co-image` kind matches near keys, not equal ones: the live window's
//! distinct PDQ hashes are held in a [`pharos_media::Index`] (inserted when
//! a hash first goes live, removed when its last message expires, so the
//! index is bounded by the window like the rest of the state), and each
//! message probes every live hash within
//! [`DirectedStreamParams::image_distance`] of its own.

use super::directed::{DirectedNetwork, IMAGE_DISTANCE, Kind, image_keys};
use super::shares::{Interner, ObjectRule};
use crate::similarity;
use hashbrown::HashTable;
use pharos_core::Post;
use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};

/// Why a streaming detector could not start.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StreamError {
    #[error("the time window must be 0 or more (got {0})")]
    BadWindow(i64),
    #[error("the allowed lateness must be 0 or more (got {0})")]
    BadLateness(i64),
    #[error("{0} cannot stream (it matches near keys, not equal ones): use the batch command")]
    UnsupportedKind(Kind),
}

// ---------------------------------------------------------------------------
// Reorder buffer

struct Held<T> {
    time: i64,
    seq: u64,
    item: T,
}

impl<T> PartialEq for Held<T> {
    fn eq(&self, o: &Self) -> bool {
        (self.time, self.seq) == (o.time, o.seq)
    }
}
impl<T> Eq for Held<T> {}
impl<T> PartialOrd for Held<T> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl<T> Ord for Held<T> {
    fn cmp(&self, o: &Self) -> Ordering {
        (self.time, self.seq).cmp(&(o.time, o.seq))
    }
}

/// Holds inputs until the watermark passes them; refuses late ones.
struct Reorder<T> {
    heap: BinaryHeap<Reverse<Held<T>>>,
    seq: u64,
    lateness: i64,
    max_seen: Option<i64>,
    watermark: i64,
}

impl<T> Reorder<T> {
    fn new(lateness: i64) -> Self {
        Reorder {
            heap: BinaryHeap::new(),
            seq: 0,
            lateness,
            max_seen: None,
            watermark: i64::MIN,
        }
    }

    fn push(&mut self, time: i64, item: T) -> Result<(), T> {
        if time < self.watermark {
            return Err(item);
        }
        self.seq += 1;
        self.heap.push(Reverse(Held {
            time,
            seq: self.seq,
            item,
        }));
        let max = self.max_seen.map_or(time, |m| m.max(time));
        self.max_seen = Some(max);
        self.advance(max.saturating_sub(self.lateness));
        Ok(())
    }

    fn advance(&mut self, to: i64) {
        self.watermark = self.watermark.max(to);
    }

    /// Everything held becomes ready; later inputs at or before the latest
    /// time seen are late.
    fn flush(&mut self) {
        if let Some(m) = self.max_seen {
            self.advance(m.saturating_add(1));
        }
    }

    fn pop_ready(&mut self) -> Option<(i64, T)> {
        if self.heap.peek().is_some_and(|h| h.0.time < self.watermark) {
            let Reverse(h) = self.heap.pop().expect("peeked");
            Some((h.time, h.item))
        } else {
            None
        }
    }

    fn len(&self) -> usize {
        self.heap.len()
    }
}

// ---------------------------------------------------------------------------
// Names of live things, with reusable slots

struct Slot<V> {
    name: Box<str>,
    hash: u64,
    value: V,
}

/// A string-keyed map whose entries have dense `u32` slots, reused once
/// removed (ids are only meaningful among live entries).
struct LiveMap<V> {
    table: HashTable<u32>,
    slots: Vec<Slot<V>>,
    free: Vec<u32>,
    state: ahash::RandomState,
}

impl<V> LiveMap<V> {
    fn new() -> Self {
        LiveMap {
            table: HashTable::new(),
            slots: Vec::new(),
            free: Vec::new(),
            state: ahash::RandomState::with_seeds(7, 11, 13, 17),
        }
    }

    /// The slot of `name`, created with `make` when absent; and whether new.
    fn intern(&mut self, name: &str, make: impl FnOnce() -> V) -> (u32, bool) {
        let hash = self.state.hash_one(name.as_bytes());
        let slots = &self.slots;
        if let Some(&id) = self
            .table
            .find(hash, |&id| &*slots[id as usize].name == name)
        {
            return (id, false);
        }
        let slot = Slot {
            name: name.into(),
            hash,
            value: make(),
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.slots[id as usize] = slot;
                id
            }
            None => {
                self.slots.push(slot);
                u32::try_from(self.slots.len() - 1).expect("more than 2^32 live entries")
            }
        };
        let slots = &self.slots;
        self.table
            .insert_unique(hash, id, |&id| slots[id as usize].hash);
        (id, true)
    }

    fn remove(&mut self, id: u32) {
        let hash = self.slots[id as usize].hash;
        if let Ok(e) = self.table.find_entry(hash, |&x| x == id) {
            e.remove();
        }
        self.slots[id as usize].name = Box::default();
        self.free.push(id);
    }

    fn name(&self, id: u32) -> &str {
        &self.slots[id as usize].name
    }

    fn get(&self, id: u32) -> &V {
        &self.slots[id as usize].value
    }

    fn get_mut(&mut self, id: u32) -> &mut V {
        &mut self.slots[id as usize].value
    }

    fn len(&self) -> usize {
        self.table.len()
    }
}

fn utf8(b: &[u8]) -> &str {
    // Only `&str`s are interned by the streaming detectors.
    std::str::from_utf8(b).unwrap_or("")
}

/// Per-window pair budget of one object (or key).
#[derive(Clone, Copy, Debug, Default)]
struct Budget {
    bucket: i64,
    emitted: u64,
    dropped: u64,
}

/// One object window in which `max_pairs_per_object` was reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CappedWindow {
    /// The object (or key, for [`StreamingDirected`]).
    pub object: String,
    /// Start of the tumbling window, in the stream's time unit.
    pub window_start: i64,
    /// Pairs emitted in it (the cap).
    pub emitted: u64,
    /// Candidate pairs not examined once the cap was reached (an upper
    /// bound of the pairs lost).
    pub dropped: u64,
}

impl Budget {
    /// Rolls to the window of `t`; returns the finished capped window, if any.
    fn roll(&mut self, t: i64, span: i64) -> Option<(i64, u64, u64)> {
        let bucket = t.div_euclid(span);
        if bucket == self.bucket {
            return None;
        }
        let done = (self.dropped > 0).then_some((self.bucket * span, self.emitted, self.dropped));
        *self = Budget {
            bucket,
            emitted: 0,
            dropped: 0,
        };
        done
    }
}

// ---------------------------------------------------------------------------
// CooRTweet pairs

/// Parameters of [`StreamingCoordinator`]; times in seconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamParams {
    /// Two shares of one object at most this far apart pair up (inclusive).
    pub time_window: i64,
    /// How far behind the latest time seen an input may still arrive.
    pub allowed_lateness: i64,
    /// Most pairs one object may emit per window (`None`: no cap, exact).
    pub max_pairs_per_object: Option<u64>,
}

impl Default for StreamParams {
    /// 60 s window, no lateness, no cap.
    fn default() -> Self {
        StreamParams {
            time_window: 60,
            allowed_lateness: 0,
            max_pairs_per_object: None,
        }
    }
}

/// One co-share pair, as a row of CooRTweet's pairs (names, not ids).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamPair<'a> {
    pub object: &'a str,
    /// The older share (see the module notes for equal times).
    pub content: &'a str,
    pub content_y: &'a str,
    pub account: &'a str,
    pub account_y: &'a str,
    /// Event time of `content`, seconds.
    pub time: i64,
    /// Event time of `content_y`, seconds.
    pub time_y: i64,
    /// `time_y − time`, never negative.
    pub time_delta: i64,
    /// Rows (shares) with the content id `content` (several when one post
    /// shares several objects): what step 4 counts.
    pub content_rows: u32,
    pub content_y_rows: u32,
}

impl StreamPair<'_> {
    pub fn to_owned(&self) -> OwnedPair {
        OwnedPair {
            object: self.object.to_string(),
            content: self.content.to_string(),
            content_y: self.content_y.to_string(),
            account: self.account.to_string(),
            account_y: self.account_y.to_string(),
            time: self.time,
            time_y: self.time_y,
            time_delta: self.time_delta,
            content_rows: self.content_rows,
            content_y_rows: self.content_y_rows,
        }
    }
}

/// A [`StreamPair`] that owns its strings.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OwnedPair {
    pub object: String,
    pub content: String,
    pub content_y: String,
    pub account: String,
    pub account_y: String,
    pub time: i64,
    pub time_y: i64,
    pub time_delta: i64,
    pub content_rows: u32,
    pub content_y_rows: u32,
}

/// Running counts of one account over the whole stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AccountCounts {
    /// Its shares (rows), step 1's count.
    pub rows: u64,
    /// Its rows whose content id is in some emitted pair, step 4's count
    /// (before step 1 removes anyone).
    pub rows_in_pairs: u64,
}

/// What a streaming detector has done so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamStats {
    /// Inputs accepted (shares, or messages for [`StreamingDirected`]).
    pub accepted: u64,
    /// Inputs released from the reorder buffer and processed.
    pub processed: u64,
    /// Inputs that arrived before the watermark: not paired, handed back.
    pub late: u64,
    /// Shares whose content id is their object (CooRTweet's loops): counted
    /// as rows, never paired.
    pub loops: u64,
    /// Pairs emitted.
    pub pairs: u64,
    /// Candidate pairs not examined because their object reached the cap.
    pub pairs_dropped: u64,
    /// Object windows that reached the cap.
    pub capped_windows: u64,
    /// Rows whose content id was already live under another account or
    /// time (the exact participation rule assumes there are none).
    pub content_conflicts: u64,
}

/// Live state, for tests and monitoring.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StateSize {
    /// Inputs in the reorder buffer.
    pub buffered: usize,
    /// Shares (messages × keys) kept for pairing.
    pub live_shares: usize,
    /// Objects (keys) with a live share.
    pub live_objects: usize,
    /// Distinct live content (message) ids.
    pub live_contents: usize,
    /// Accounts ever seen (this part grows with the stream).
    pub accounts: usize,
}

/// What happened to one input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pushed {
    Accepted,
    /// Before the watermark: counted in [`StreamStats::late`], not paired.
    Late,
}

/// A share in the reorder buffer: `object`, `account`, `content` in one string.
struct ShareItem {
    text: Box<str>,
    object_len: u32,
    account_len: u32,
}

impl ShareItem {
    fn new(object: &str, account: &str, content: &str) -> Self {
        let mut s = String::with_capacity(object.len() + account.len() + content.len());
        s.push_str(object);
        s.push_str(account);
        s.push_str(content);
        ShareItem {
            text: s.into_boxed_str(),
            object_len: object.len() as u32,
            account_len: account.len() as u32,
        }
    }
    fn object(&self) -> &str {
        &self.text[..self.object_len as usize]
    }
    fn account(&self) -> &str {
        let o = self.object_len as usize;
        &self.text[o..o + self.account_len as usize]
    }
    fn content(&self) -> &str {
        &self.text[(self.object_len + self.account_len) as usize..]
    }
}

#[derive(Clone, Copy, Debug)]
struct LiveShare {
    time: i64,
    account: u32,
    content: u32,
}

#[derive(Default)]
struct ObjectState {
    live: VecDeque<LiveShare>,
    budget: Budget,
}

#[derive(Clone, Copy, Debug)]
struct ContentState {
    /// Live shares with this content id.
    refs: u32,
    /// Rows with this content id while it has been live.
    rows: u32,
    account: u32,
    time: i64,
    in_pair: bool,
}

const NO_OBJECT: u32 = u32::MAX;

#[derive(Clone, Copy, Debug)]
struct Expiry {
    time: i64,
    object: u32,
    content: u32,
}

/// CooRTweet's pairs over a stream of shares (see the module notes).
///
/// ```
/// use pharos_analysis::coordination::stream::{StreamParams, StreamingCoordinator};
/// let mut s = StreamingCoordinator::new(StreamParams { time_window: 10, ..Default::default() }).unwrap();
/// let mut pairs = Vec::new();
/// let mut sink = |p: &pharos_analysis::coordination::stream::StreamPair| pairs.push(p.to_owned());
/// s.push("o1", "alice", "c1", 100, &mut sink);
/// s.push("o1", "bob", "c2", 105, &mut sink);
/// s.push("o1", "carol", "c3", 200, &mut sink); // the watermark passes 105
/// assert_eq!(pairs.len(), 1);
/// assert_eq!((pairs[0].content.as_str(), pairs[0].content_y.as_str(), pairs[0].time_delta), ("c1", "c2", 5));
/// ```
pub struct StreamingCoordinator {
    params: StreamParams,
    buffer: Reorder<ShareItem>,
    ready: Vec<(i64, ShareItem)>,
    accounts: Interner,
    counts: Vec<AccountCounts>,
    objects: LiveMap<ObjectState>,
    contents: LiveMap<ContentState>,
    expiry: VecDeque<Expiry>,
    capped: Vec<CappedWindow>,
    stats: StreamStats,
    touched: Vec<u32>,
    order: Vec<(u32, usize)>,
    placed: Vec<(u32, u32, u32)>,
}

impl std::fmt::Debug for StreamingCoordinator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamingCoordinator")
            .field("params", &self.params)
            .field("stats", &self.stats)
            .field("state", &self.state_size())
            .finish()
    }
}

impl StreamingCoordinator {
    pub fn new(params: StreamParams) -> Result<Self, StreamError> {
        if params.time_window < 0 {
            return Err(StreamError::BadWindow(params.time_window));
        }
        if params.allowed_lateness < 0 {
            return Err(StreamError::BadLateness(params.allowed_lateness));
        }
        Ok(StreamingCoordinator {
            buffer: Reorder::new(params.allowed_lateness),
            params,
            ready: Vec::new(),
            accounts: Interner::new(),
            counts: Vec::new(),
            objects: LiveMap::new(),
            contents: LiveMap::new(),
            expiry: VecDeque::new(),
            capped: Vec::new(),
            stats: StreamStats::default(),
            touched: Vec::new(),
            order: Vec::new(),
            placed: Vec::new(),
        })
    }

    pub fn params(&self) -> &StreamParams {
        &self.params
    }

    /// Adds one share; pairs that become certain go to `sink`.
    pub fn push(
        &mut self,
        object: &str,
        account: &str,
        content: &str,
        time_secs: i64,
        sink: &mut impl FnMut(&StreamPair<'_>),
    ) -> Pushed {
        let item = ShareItem::new(object, account, content);
        if self.buffer.push(time_secs, item).is_err() {
            self.stats.late += 1;
            return Pushed::Late;
        }
        self.stats.accepted += 1;
        self.release(sink);
        Pushed::Accepted
    }

    /// Adds the shares of a post under `rule` (the objects
    /// [`ShareTable::push_post`](super::ShareTable::push_post) would make);
    /// returns `(accepted, late)` share counts.
    pub fn push_post(
        &mut self,
        post: &Post,
        rule: ObjectRule,
        sink: &mut impl FnMut(&StreamPair<'_>),
    ) -> (usize, usize) {
        let (mut ok, mut late) = (0, 0);
        let time = post.time.secs();
        for o in post_objects(post, rule) {
            match self.push(o, &post.actor.id, &post.id, time, sink) {
                Pushed::Accepted => ok += 1,
                Pushed::Late => late += 1,
            }
        }
        (ok, late)
    }

    /// Moves the watermark to at least `time_secs` (a wall clock minus the
    /// lateness, when the input is quiet), releasing what it passes.
    pub fn advance_watermark(&mut self, time_secs: i64, sink: &mut impl FnMut(&StreamPair<'_>)) {
        self.buffer.advance(time_secs);
        self.release(sink);
    }

    /// End of input: releases everything buffered. Inputs pushed afterwards
    /// at or before the latest time seen are late.
    pub fn flush(&mut self, sink: &mut impl FnMut(&StreamPair<'_>)) {
        self.buffer.flush();
        self.release(sink);
    }

    /// The current watermark (`None` before the first input).
    pub fn watermark(&self) -> Option<i64> {
        (self.buffer.watermark != i64::MIN).then_some(self.buffer.watermark)
    }

    pub fn stats(&self) -> &StreamStats {
        &self.stats
    }

    pub fn state_size(&self) -> StateSize {
        StateSize {
            buffered: self.buffer.len(),
            live_shares: self.expiry.len(),
            live_objects: self.objects.len(),
            live_contents: self.contents.len(),
            accounts: self.accounts.len(),
        }
    }

    /// Object windows that reached `max_pairs_per_object` and are finished
    /// (their object moved on to a new window or left the state).
    pub fn take_capped(&mut self) -> Vec<CappedWindow> {
        std::mem::take(&mut self.capped)
    }

    /// The running counts of `account`.
    pub fn account_counts(&self, account: &str) -> AccountCounts {
        self.accounts
            .get(account.as_bytes())
            .map(|a| self.counts[a as usize])
            .unwrap_or_default()
    }

    /// The incremental participation rule (see the module notes): both
    /// accounts have `min_participation` rows and either has
    /// `min_participation` rows in pairs, so far.
    pub fn is_coordinated(&self, account: &str, account_y: &str, min_participation: u32) -> bool {
        let mp = u64::from(min_participation);
        let (a, b) = (self.account_counts(account), self.account_counts(account_y));
        a.rows >= mp && b.rows >= mp && (a.rows_in_pairs >= mp || b.rows_in_pairs >= mp)
    }

    /// CooRTweet's steps 1 and 4 on the accumulated raw pairs, with this
    /// stream's row counts: which of `pairs` batch keeps at
    /// `min_participation`. Exact at the end of the stream (after
    /// [`flush`](Self::flush)) when `pairs` are all the pairs emitted.
    pub fn participation_mask(&self, pairs: &[OwnedPair], min_participation: u32) -> Vec<bool> {
        participation_mask(pairs, |a| self.account_counts(a).rows, min_participation)
    }

    fn release(&mut self, sink: &mut impl FnMut(&StreamPair<'_>)) {
        let mut ready = std::mem::take(&mut self.ready);
        while let Some(x) = self.buffer.pop_ready() {
            ready.push(x);
        }
        if ready.is_empty() {
            self.ready = ready;
            return;
        }
        let mut i = 0;
        while i < ready.len() {
            let t = ready[i].0;
            let mut j = i + 1;
            while j < ready.len() && ready[j].0 == t {
                j += 1;
            }
            self.process_group(t, &mut ready[i..j], sink);
            i = j;
        }
        ready.clear();
        self.ready = ready;
        self.expire();
    }

    /// All shares of time `t` (none can arrive any more).
    fn process_group(
        &mut self,
        t: i64,
        group: &mut [(i64, ShareItem)],
        sink: &mut impl FnMut(&StreamPair<'_>),
    ) {
        // Canonical order: accounts are numbered in (account, content,
        // object) order, then shares go by (account number, content, object).
        if group.len() > 1 {
            group.sort_unstable_by(|(_, a), (_, b)| {
                (a.account(), a.content(), a.object()).cmp(&(b.account(), b.content(), b.object()))
            });
        }
        let mut order = std::mem::take(&mut self.order);
        order.clear();
        for (k, (_, s)) in group.iter().enumerate() {
            let a = self.accounts.intern(s.account().as_bytes());
            if a as usize >= self.counts.len() {
                self.counts.push(AccountCounts::default());
            }
            order.push((a, k));
        }
        if group.len() > 1 {
            order.sort_by_key(|&(a, _)| a);
        }
        // Rows first (so the pairs of this time carry final row counts) ...
        let mut placed = std::mem::take(&mut self.placed);
        placed.clear();
        for &(a, k) in &order {
            let s = &group[k].1;
            let (c, new) = self.contents.intern(s.content(), || ContentState {
                refs: 0,
                rows: 0,
                account: a,
                time: t,
                in_pair: false,
            });
            let cs = self.contents.get_mut(c);
            cs.refs += 1;
            cs.rows += 1;
            if !new && (cs.account != a || cs.time != t) {
                self.stats.content_conflicts += 1;
            }
            let in_pair = cs.in_pair;
            let counts = &mut self.counts[a as usize];
            counts.rows += 1;
            if in_pair {
                counts.rows_in_pairs += 1;
            }
            let o = if s.object() == s.content() {
                self.stats.loops += 1;
                NO_OBJECT
            } else {
                self.objects.intern(s.object(), ObjectState::default).0
            };
            placed.push((a, o, c));
        }
        self.order = order;
        // ... then pairs, share by share.
        for &(a, o, c) in &placed {
            self.stats.processed += 1;
            if o != NO_OBJECT {
                self.pair_share(t, a, o, c, sink);
                self.objects.get_mut(o).live.push_back(LiveShare {
                    time: t,
                    account: a,
                    content: c,
                });
            }
            self.expiry.push_back(Expiry {
                time: t,
                object: o,
                content: c,
            });
        }
        self.placed = placed;
    }

    fn pair_share(
        &mut self,
        t: i64,
        account: u32,
        object: u32,
        content: u32,
        sink: &mut impl FnMut(&StreamPair<'_>),
    ) {
        let tw = self.params.time_window;
        let span = tw.saturating_add(1);
        let st = self.objects.get_mut(object);
        let lo = st.live.partition_point(|s| s.time < t.saturating_sub(tw));
        let candidates = (st.live.len() - lo) as u64;
        if candidates == 0 {
            return;
        }
        let mut budget = u64::MAX;
        if let Some(cap) = self.params.max_pairs_per_object {
            if let Some(done) = st.budget.roll(t, span) {
                let name = self.objects.name(object).to_string();
                self.close_capped(name, done);
            }
            let st = self.objects.get_mut(object);
            budget = cap.saturating_sub(st.budget.emitted);
            if budget == 0 {
                if st.budget.dropped == 0 {
                    self.stats.capped_windows += 1;
                }
                st.budget.dropped += candidates;
                self.stats.pairs_dropped += candidates;
                return;
            }
        }
        let st = self.objects.get(object);
        let name = self.objects.name(object);
        let b = self.contents.get(content);
        let content_y = self.contents.name(content);
        let account_y = utf8(self.accounts.name(account));
        let mut emitted = 0u64;
        let mut examined = 0u64;
        self.touched.clear();
        for s in st.live.range(lo..) {
            if emitted == budget {
                break;
            }
            examined += 1;
            if s.account == account || s.content == content {
                continue;
            }
            let a = self.contents.get(s.content);
            sink(&StreamPair {
                object: name,
                content: self.contents.name(s.content),
                content_y,
                account: utf8(self.accounts.name(s.account)),
                account_y,
                time: s.time,
                time_y: t,
                time_delta: t - s.time,
                content_rows: a.rows,
                content_y_rows: b.rows,
            });
            emitted += 1;
            if !a.in_pair {
                self.touched.push(s.content);
            }
        }
        if emitted > 0 {
            self.touched.push(content);
        }
        self.stats.pairs += emitted;
        let dropped = candidates - examined;
        if self.params.max_pairs_per_object.is_some() {
            let st = self.objects.get_mut(object);
            st.budget.emitted += emitted;
            st.budget.dropped += dropped;
            self.stats.pairs_dropped += dropped;
            if dropped > 0 && st.budget.dropped == dropped {
                self.stats.capped_windows += 1;
            }
        }
        for k in 0..self.touched.len() {
            let c = self.touched[k];
            let cs = self.contents.get_mut(c);
            if !cs.in_pair {
                cs.in_pair = true;
                let (acct, rows) = (cs.account, cs.rows);
                self.counts[acct as usize].rows_in_pairs += u64::from(rows);
            }
        }
    }

    fn close_capped(&mut self, object: String, (start, emitted, dropped): (i64, u64, u64)) {
        self.capped.push(CappedWindow {
            object,
            window_start: start,
            emitted,
            dropped,
        });
    }

    /// Forgets shares that no future share can pair with.
    fn expire(&mut self) {
        let horizon = self
            .buffer
            .watermark
            .saturating_sub(self.params.time_window);
        while self.expiry.front().is_some_and(|e| e.time < horizon) {
            let e = self.expiry.pop_front().expect("front");
            if e.object != NO_OBJECT {
                let st = self.objects.get_mut(e.object);
                st.live.pop_front();
                if st.live.is_empty() {
                    let budget = st.budget;
                    if budget.dropped > 0 {
                        let name = self.objects.name(e.object).to_string();
                        let span = self.params.time_window.saturating_add(1);
                        self.close_capped(
                            name,
                            (budget.bucket * span, budget.emitted, budget.dropped),
                        );
                    }
                    self.objects.remove(e.object);
                }
            }
            let cs = self.contents.get_mut(e.content);
            cs.refs -= 1;
            if cs.refs == 0 {
                self.contents.remove(e.content);
            }
        }
    }
}

/// The objects `post` shares under `rule`, as
/// [`ShareTable::push_post`](super::ShareTable::push_post) makes them:
/// non-empty, each once.
pub fn post_objects(post: &Post, rule: ObjectRule) -> Vec<&str> {
    fn non_empty(s: Option<&String>) -> Option<&str> {
        s.map(String::as_str).filter(|s| !s.trim().is_empty())
    }
    let mut objects: Vec<&str> = Vec::new();
    match rule {
        ObjectRule::Auto => {
            if let Some(r) = non_empty(post.reshare_of.as_ref()) {
                objects.push(r);
            } else if let Some(l) = post.links.iter().find(|l| !l.url.is_empty()) {
                objects.push(&l.url);
            }
        }
        ObjectRule::Reshare => objects.extend(non_empty(post.reshare_of.as_ref())),
        ObjectRule::Reply => objects.extend(non_empty(post.reply_to.as_ref())),
        ObjectRule::Quote => objects.extend(non_empty(post.quote_of.as_ref())),
        ObjectRule::Link => objects.extend(post.links.iter().map(|l| l.url.as_str())),
        ObjectRule::Domain => objects.extend(post.domains.iter().map(String::as_str)),
        ObjectRule::Hashtag => objects.extend(post.hashtags.iter().map(String::as_str)),
    }
    let mut out: Vec<&str> = Vec::with_capacity(objects.len());
    for o in objects {
        if !o.is_empty() && !out.contains(&o) {
            out.push(o);
        }
    }
    out
}

/// CooRTweet's steps 1 and 4 over raw pairs: which pairs batch keeps at
/// `min_participation`, given each account's total rows.
///
/// Step 1 keeps the pairs whose accounts both have `min_participation`
/// rows; the content ids in those pairs are "in pairs"; an account's step-4
/// count is the rows of its contents in pairs; a content qualifies when its
/// account's count reaches `min_participation`; a pair is kept when either
/// content qualifies. With 0 every pair is kept (CooRTweet skips the filter).
pub fn participation_mask(
    pairs: &[OwnedPair],
    rows: impl Fn(&str) -> u64,
    min_participation: u32,
) -> Vec<bool> {
    if min_participation == 0 {
        return vec![true; pairs.len()];
    }
    let mp = u64::from(min_participation);
    let kept: Vec<bool> = pairs
        .iter()
        .map(|p| rows(&p.account) >= mp && rows(&p.account_y) >= mp)
        .collect();
    // Contents in kept pairs, with their account and rows.
    let mut contents: HashMap<&str, (&str, u32)> = HashMap::new();
    for (p, _) in pairs.iter().zip(&kept).filter(|(_, k)| **k) {
        contents.insert(&p.content, (&p.account, p.content_rows));
        contents.insert(&p.content_y, (&p.account_y, p.content_y_rows));
    }
    let mut count: HashMap<&str, u64> = HashMap::new();
    for &(a, r) in contents.values() {
        *count.entry(a).or_default() += u64::from(r);
    }
    let ok = |c: &str| {
        contents
            .get(c)
            .is_some_and(|(a, _)| count.get(a).copied().unwrap_or(0) >= mp)
    };
    pairs
        .iter()
        .zip(kept)
        .map(|(p, k)| k && (ok(&p.content) || ok(&p.content_y)))
        .collect()
}

// ---------------------------------------------------------------------------
// Directed (QUT) networks

/// Parameters of [`StreamingDirected`]; times in milliseconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectedStreamParams {
    /// Largest time difference between matching messages (inclusive).
    pub time_window_ms: i64,
    /// How far behind the latest time seen a message may still arrive.
    pub allowed_lateness_ms: i64,
    /// Count `u → u` (a message of `u` matched by another message of `u`).
    pub self_loops: bool,
    /// Most matched pairs one key may emit per window (`None`: no cap).
    pub max_pairs_per_key: Option<u64>,
    /// `co-image`: largest PDQ distance between two hashes that count as
    /// the same picture (default 31, as
    /// [`DirectedParams::image_distance`](super::directed::DirectedParams::image_distance)).
    pub image_distance: u32,
    /// Keep the running edge weights for [`StreamingDirected::network`]
    /// and [`StreamingDirected::weight`] (default true). They grow with the
    /// distinct edges ever seen; a long-running consumer that only reads
    /// the matched pairs (the pipeline) turns them off, and the state is
    /// then bounded by the window (plus the account names).
    pub weights: bool,
}

impl Default for DirectedStreamParams {
    /// 60 s window, no lateness, no self-loops, no cap.
    fn default() -> Self {
        DirectedStreamParams {
            time_window_ms: 60_000,
            allowed_lateness_ms: 0,
            self_loops: false,
            max_pairs_per_key: None,
            image_distance: IMAGE_DISTANCE,
            weights: true,
        }
    }
}

/// Two messages with a key in common within the window: `message` (the
/// earlier, by `user`) is matched by `message_y` (by `user_y`) and the
/// other way round. One per shared key; for `co-image`, one per matched
/// message, and `key` is the earlier message's hash that matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatchedPair<'a> {
    pub key: &'a str,
    pub message: &'a str,
    pub user: &'a str,
    pub time_ms: i64,
    pub message_y: &'a str,
    pub user_y: &'a str,
    pub time_y_ms: i64,
}

struct MessageItem {
    id: Box<str>,
    user: Box<str>,
    keys: Vec<Box<str>>,
}

struct KeyState {
    live: VecDeque<LiveMessage>,
    budget: Budget,
    /// `co-image`: the key's id in the live index ([`NO_IMAGE`]: not a
    /// PDQ hash, matched exactly).
    image: u32,
}

const NO_IMAGE: u32 = u32::MAX;

impl Default for KeyState {
    fn default() -> Self {
        KeyState {
            live: VecDeque::new(),
            budget: Budget::default(),
            image: NO_IMAGE,
        }
    }
}

/// `co-image`: the live window's distinct hashes.
#[derive(Default)]
struct LiveImages {
    index: pharos_media::Index,
    /// Index id → key slot.
    key_of: Vec<u32>,
    hits: Vec<pharos_media::Hit>,
    /// Messages already matched by the message being processed.
    emitted: HashSet<u32, ahash::RandomState>,
}

#[derive(Clone, Copy, Debug)]
struct LiveMessage {
    time: i64,
    user: u32,
    message: u32,
}

struct MessageState {
    id: Box<str>,
    /// Live (message, key) entries.
    refs: u32,
    /// Users that matched it (edges `user → them` counted once each).
    matched_by: Vec<u32>,
}

/// The QUT directed network over a stream of messages: emits matched
/// message pairs and keeps `weight(u → v)` = distinct messages of `u`
/// matched by `v`; [`network`](Self::network) at the end equals
/// [`directed_network`](super::directed::directed_network) on the same
/// messages (minus late ones).
///
/// Message ids are taken as unique (a post is pushed once, with all its
/// keys); the batch table merges the keys of a repeated id instead.
pub struct StreamingDirected {
    kind: Kind,
    params: DirectedStreamParams,
    buffer: Reorder<MessageItem>,
    users: Interner,
    keys: LiveMap<KeyState>,
    messages: Vec<MessageState>,
    free_messages: Vec<u32>,
    matched: HashSet<(u32, u32), ahash::RandomState>,
    weights: HashMap<(u32, u32), u32, ahash::RandomState>,
    expiry: VecDeque<(i64, u32, u32)>,
    capped: Vec<CappedWindow>,
    stats: StreamStats,
    scratch: Vec<(u32, u32)>,
    /// Key slots the message being processed probes, and its own.
    probes: Vec<u32>,
    own: Vec<u32>,
    images: Option<LiveImages>,
}

impl std::fmt::Debug for StreamingDirected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamingDirected")
            .field("kind", &self.kind)
            .field("params", &self.params)
            .field("stats", &self.stats)
            .finish()
    }
}

impl StreamingDirected {
    /// A stream for `kind`: every kind but `co-similar-text` (its near
    /// keys are token sets, matched by MinHash LSH over the whole input).
    pub fn new(kind: Kind, params: DirectedStreamParams) -> Result<Self, StreamError> {
        if kind == Kind::CoSimilarText {
            return Err(StreamError::UnsupportedKind(kind));
        }
        if params.time_window_ms < 0 {
            return Err(StreamError::BadWindow(params.time_window_ms));
        }
        if params.allowed_lateness_ms < 0 {
            return Err(StreamError::BadLateness(params.allowed_lateness_ms));
        }
        Ok(StreamingDirected {
            kind,
            buffer: Reorder::new(params.allowed_lateness_ms),
            params,
            users: Interner::new(),
            keys: LiveMap::new(),
            messages: Vec::new(),
            free_messages: Vec::new(),
            matched: HashSet::default(),
            weights: HashMap::default(),
            expiry: VecDeque::new(),
            capped: Vec::new(),
            stats: StreamStats::default(),
            scratch: Vec::new(),
            probes: Vec::new(),
            own: Vec::new(),
            images: (kind == Kind::CoImage).then(LiveImages::default),
        })
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Adds a message with its keys (in compared form, as
    /// [`MessageTable::push_keys`](super::directed::MessageTable::push_keys)
    /// takes them; empty ones are skipped). A message without keys is
    /// ignored and reported as accepted.
    pub fn push_keys<K: AsRef<str>>(
        &mut self,
        message_id: &str,
        user_id: &str,
        time_ms: i64,
        keys: impl IntoIterator<Item = K>,
        sink: &mut impl FnMut(&MatchedPair<'_>),
    ) -> Pushed {
        let mut ks: Vec<Box<str>> = Vec::new();
        for k in keys {
            let k = k.as_ref();
            if !k.is_empty() && !ks.iter().any(|x| &**x == k) {
                ks.push(k.into());
            }
        }
        if ks.is_empty() {
            return Pushed::Accepted;
        }
        let item = MessageItem {
            id: message_id.into(),
            user: user_id.into(),
            keys: ks,
        };
        if self.buffer.push(time_ms, item).is_err() {
            self.stats.late += 1;
            return Pushed::Late;
        }
        self.stats.accepted += 1;
        self.release(sink);
        Pushed::Accepted
    }

    /// Adds a post's keys for this stream's kind, as
    /// [`MessageTable::push_post`](super::directed::MessageTable::push_post)
    /// reads them (message id `platform:id`, post-id keys platform-scoped).
    pub fn push_post(&mut self, post: &Post, sink: &mut impl FnMut(&MatchedPair<'_>)) -> Pushed {
        let reshare = post.reshare_of.as_deref().is_some_and(|r| !r.is_empty());
        if reshare && self.kind != Kind::CoRetweet {
            return Pushed::Accepted;
        }
        let id = format!("{}:{}", post.platform, post.id);
        let (user, time) = (post.actor.id.as_str(), post.time.millis());
        let scoped = |other: &Option<String>| -> Vec<String> {
            match other.as_deref() {
                Some(r) if !r.is_empty() => vec![format!("{}:{}", post.platform, r)],
                _ => Vec::new(),
            }
        };
        let keys: Vec<String> = match self.kind {
            Kind::CoRetweet => scoped(&post.reshare_of),
            Kind::CoReply => scoped(&post.reply_to),
            Kind::CoTweet => vec![similarity::normalize_cotweet(&post.text)],
            Kind::CoLink => post.links.iter().map(|l| l.url.clone()).collect(),
            Kind::CoDomain => post
                .links
                .iter()
                .map(|l| l.domain.clone())
                .chain(post.domains.iter().cloned())
                .collect(),
            Kind::CoHashtag => post.hashtags.clone(),
            Kind::CoMedia => post.media.iter().filter_map(|m| m.hash.clone()).collect(),
            Kind::CoImage => image_keys(post),
            Kind::CoSimilarText => Vec::new(),
        };
        self.push_keys(&id, user, time, keys, sink)
    }

    /// See [`StreamingCoordinator::advance_watermark`].
    pub fn advance_watermark(&mut self, time_ms: i64, sink: &mut impl FnMut(&MatchedPair<'_>)) {
        self.buffer.advance(time_ms);
        self.release(sink);
    }

    /// End of input: releases everything buffered.
    pub fn flush(&mut self, sink: &mut impl FnMut(&MatchedPair<'_>)) {
        self.buffer.flush();
        self.release(sink);
    }

    pub fn stats(&self) -> &StreamStats {
        &self.stats
    }

    pub fn state_size(&self) -> StateSize {
        StateSize {
            buffered: self.buffer.len(),
            live_shares: self.expiry.len(),
            live_objects: self.keys.len(),
            live_contents: self.messages.len() - self.free_messages.len(),
            accounts: self.users.len(),
        }
    }

    /// See [`StreamingCoordinator::take_capped`].
    pub fn take_capped(&mut self) -> Vec<CappedWindow> {
        std::mem::take(&mut self.capped)
    }

    /// `co-image`: distinct hashes in the live index (0 for other kinds).
    pub fn live_images(&self) -> usize {
        self.images.as_ref().map_or(0, |i| i.index.len())
    }

    /// The current weight of `user_1 → user_2` (0 when
    /// [`DirectedStreamParams::weights`] is off).
    pub fn weight(&self, user_1: &str, user_2: &str) -> u32 {
        match (
            self.users.get(user_1.as_bytes()),
            self.users.get(user_2.as_bytes()),
        ) {
            (Some(a), Some(b)) => self.weights.get(&(a, b)).copied().unwrap_or(0),
            _ => 0,
        }
    }

    /// The network so far: edges with weight ≥ `min_edge_weight`.
    pub fn network(&self, min_edge_weight: f64) -> DirectedNetwork {
        DirectedNetwork::from_named(
            self.weights
                .iter()
                .filter(|&(_, &w)| f64::from(w) >= min_edge_weight)
                .map(|(&(a, b), &w)| {
                    (
                        utf8(self.users.name(a)),
                        utf8(self.users.name(b)),
                        f64::from(w),
                    )
                }),
        )
    }

    fn release(&mut self, sink: &mut impl FnMut(&MatchedPair<'_>)) {
        let mut any = false;
        while let Some((t, m)) = self.buffer.pop_ready() {
            self.process(t, m, sink);
            any = true;
        }
        if any {
            self.expire();
        }
    }

    fn process(&mut self, t: i64, item: MessageItem, sink: &mut impl FnMut(&MatchedPair<'_>)) {
        self.stats.processed += 1;
        let v = self.users.intern(item.user.as_bytes());
        let m = match self.free_messages.pop() {
            Some(m) => m,
            None => {
                self.messages.push(MessageState {
                    id: Box::default(),
                    refs: 0,
                    matched_by: Vec::new(),
                });
                (self.messages.len() - 1) as u32
            }
        };
        self.messages[m as usize] = MessageState {
            id: item.id,
            refs: item.keys.len() as u32,
            matched_by: Vec::new(),
        };
        // The message's own keys, and the keys it probes: its own, or for
        // co-image every live hash within the distance of one of them.
        self.own.clear();
        self.probes.clear();
        for key in &item.keys {
            let (k, new) = self.keys.intern(key, KeyState::default);
            self.own.push(k);
            let Some(images) = self.images.as_mut() else {
                self.probes.push(k);
                continue;
            };
            if new && let Ok(h) = key.parse::<pharos_media::PdqHash>() {
                let id = images.index.insert(h);
                if images.key_of.len() <= id as usize {
                    images.key_of.resize(id as usize + 1, 0);
                }
                images.key_of[id as usize] = k;
                self.keys.get_mut(k).image = id;
            }
            let id = self.keys.get(k).image;
            match images.index.get(id) {
                Some(h) => {
                    images
                        .index
                        .query_into(&h, self.params.image_distance, &mut images.hits);
                    let key_of = &images.key_of;
                    self.probes
                        .extend(images.hits.iter().map(|hit| key_of[hit.id as usize]));
                }
                None => self.probes.push(k),
            }
        }
        if self.images.is_some() {
            self.probes.sort_unstable();
            self.probes.dedup();
        }
        if let Some(images) = self.images.as_mut() {
            images.emitted.clear();
        }
        let w = self.params.time_window_ms;
        let span = w.saturating_add(1);
        for p in 0..self.probes.len() {
            let k = self.probes[p];
            let st = self.keys.get_mut(k);
            let lo = st.live.partition_point(|s| s.time < t.saturating_sub(w));
            let candidates = (st.live.len() - lo) as u64;
            let mut budget = u64::MAX;
            if candidates > 0
                && let Some(cap) = self.params.max_pairs_per_key
            {
                if let Some((start, e, d)) = st.budget.roll(t, span) {
                    let object = self.keys.name(k).to_string();
                    self.capped.push(CappedWindow {
                        object,
                        window_start: start,
                        emitted: e,
                        dropped: d,
                    });
                }
                budget = cap.saturating_sub(self.keys.get(k).budget.emitted);
            }
            let st = self.keys.get(k);
            let key_name = self.keys.name(k);
            let user_y = utf8(self.users.name(v));
            let message_y = &*self.messages[m as usize].id;
            let (mut emitted, mut examined) = (0u64, 0u64);
            self.scratch.clear();
            for s in st.live.range(lo..) {
                if emitted == budget {
                    break;
                }
                examined += 1;
                if s.user == v && !self.params.self_loops {
                    continue;
                }
                // Co-image: a message reached through several hashes is
                // matched once.
                if let Some(images) = self.images.as_mut()
                    && !images.emitted.insert(s.message)
                {
                    continue;
                }
                sink(&MatchedPair {
                    key: key_name,
                    message: &self.messages[s.message as usize].id,
                    user: utf8(self.users.name(s.user)),
                    time_ms: s.time,
                    message_y,
                    user_y,
                    time_y_ms: t,
                });
                emitted += 1;
                self.scratch.push((s.message, s.user));
            }
            self.stats.pairs += emitted;
            if self.params.max_pairs_per_key.is_some() && candidates > 0 {
                let dropped = candidates - examined;
                let st = self.keys.get_mut(k);
                st.budget.emitted += emitted;
                st.budget.dropped += dropped;
                self.stats.pairs_dropped += dropped;
                if dropped > 0 && st.budget.dropped == dropped {
                    self.stats.capped_windows += 1;
                }
            }
            for i in 0..self.scratch.len() {
                let (other, u) = self.scratch[i];
                // `other` (of u) is matched by v; m (of v) is matched by u.
                if self.matched.insert((other, v)) {
                    self.messages[other as usize].matched_by.push(v);
                    if self.params.weights {
                        *self.weights.entry((u, v)).or_default() += 1;
                    }
                }
                if self.matched.insert((m, u)) {
                    self.messages[m as usize].matched_by.push(u);
                    if self.params.weights {
                        *self.weights.entry((v, u)).or_default() += 1;
                    }
                }
            }
        }
        // Then the message goes live under its own keys.
        for i in 0..self.own.len() {
            let k = self.own[i];
            self.keys.get_mut(k).live.push_back(LiveMessage {
                time: t,
                user: v,
                message: m,
            });
            self.expiry.push_back((t, k, m));
        }
    }

    fn expire(&mut self) {
        let horizon = self
            .buffer
            .watermark
            .saturating_sub(self.params.time_window_ms);
        while self.expiry.front().is_some_and(|e| e.0 < horizon) {
            let (_, k, m) = self.expiry.pop_front().expect("front");
            let st = self.keys.get_mut(k);
            st.live.pop_front();
            if st.live.is_empty() {
                let (b, image) = (st.budget, st.image);
                if b.dropped > 0 {
                    let span = self.params.time_window_ms.saturating_add(1);
                    self.capped.push(CappedWindow {
                        object: self.keys.name(k).to_string(),
                        window_start: b.bucket * span,
                        emitted: b.emitted,
                        dropped: b.dropped,
                    });
                }
                if let Some(images) = self.images.as_mut() {
                    images.index.remove(image);
                }
                self.keys.remove(k);
            }
            let ms = &mut self.messages[m as usize];
            ms.refs -= 1;
            if ms.refs == 0 {
                for u in std::mem::take(&mut ms.matched_by) {
                    self.matched.remove(&(m, u));
                }
                ms.id = Box::default();
                self.free_messages.push(m);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reorder_releases_in_time_order_and_refuses_late_input() {
        let mut r = Reorder::new(10);
        for (t, x) in [(100, 'a'), (95, 'b'), (91, 'd'), (105, 'c')] {
            r.push(t, x).unwrap();
        }
        // Watermark 95: only 91 is before it.
        assert_eq!(r.pop_ready(), Some((91, 'd')));
        assert_eq!(r.pop_ready(), None);
        assert_eq!(r.push(94, 'e'), Err('e'));
        r.flush();
        let rest: Vec<_> = std::iter::from_fn(|| r.pop_ready()).collect();
        assert_eq!(rest, vec![(95, 'b'), (100, 'a'), (105, 'c')]);
        assert_eq!(r.push(105, 'f'), Err('f'));
    }

    #[test]
    fn cap_counts_what_it_drops() {
        let mut s = StreamingCoordinator::new(StreamParams {
            time_window: 60,
            allowed_lateness: 0,
            max_pairs_per_object: Some(10),
        })
        .unwrap();
        let mut n = 0u64;
        let mut sink = |_: &StreamPair| n += 1;
        for k in 0..100 {
            s.push(
                "viral",
                &format!("u{k}"),
                &format!("c{k}"),
                1_000,
                &mut sink,
            );
        }
        s.push("other", "x", "y", 10_000, &mut sink);
        s.flush(&mut sink);
        assert_eq!(n, 10);
        let st = s.stats().clone();
        assert_eq!(st.pairs, 10);
        // 100 shares at one time make 4950 candidate pairs.
        assert_eq!(st.pairs + st.pairs_dropped, 4950);
        assert_eq!(st.capped_windows, 1);
        let capped = s.take_capped();
        assert_eq!(capped.len(), 1);
        assert_eq!(capped[0].object, "viral");
        assert_eq!(capped[0].emitted, 10);
        assert_eq!(s.state_size().live_objects, 1);
    }
}

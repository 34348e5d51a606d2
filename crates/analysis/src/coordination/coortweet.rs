//! CooRTweet's `detect_groups` (and `flag_speed_share`), to the letter.
//!
//! # What CooRTweet 2.1.3 computes
//!
//! 1. Accounts with fewer than `min_participation` rows in the whole input
//!    are dropped. The remaining rows are regrouped *by account*, accounts
//!    in order of first appearance (data.table's `by`); this order ("x
//!    order") decides ties below.
//! 2. Per object, every two shares whose times differ by at most
//!    `time_window` seconds (inclusive) form a pair.
//! 3. Loops are dropped: pairs whose object equals either content, pairs of
//!    one content with itself, pairs of one account with itself.
//! 4. Min participation, by *content*: take every content id that appears
//!    in a remaining pair; per account, count its rows (in the prefiltered
//!    input) whose content is one of those; the contents of accounts with
//!    at least `min_participation` such rows qualify; a pair survives if
//!    either of its contents qualifies.
//! 5. Each pair is oriented so `content_id` is the older share; on equal
//!    times the share that comes first in x order is `content_id`.
//!    `time_delta` is the absolute difference.
//!
//! `flag_speed_share(S)` marks the pairs with `time_delta <= S` that pass
//! step 4 again, computed on those fast pairs alone; marks are joined back
//! on `(content_id, content_id_y)`.
//!
//! # How Pharos computes it
//!
//! Ids are `u32`s ([`ShareTable`]). Shares are bucketed by object (counting
//! sort, objects in x order), each bucket sorted by `(time, x position)`, so
//! in a bucket the earlier share of a pair is always its `content_id`, and
//! the pairs of a share are a window found with two pointers.
//!
//! Step 4 needs, before any pair is kept, to know which contents appear in
//! some loop-free pair. That is answered per share in O(1) — a share is in a
//! loop-free pair iff the nearest share of another account before or after
//! it lies in the window (a content id that occurs in several rows is
//! checked by a scan) — so the pairs themselves are enumerated once, in the
//! final pass, and streamed: to the pairs sink in object order, and into
//! per-thread edge accumulators. Memory is O(rows + edges), never O(pairs).
//!
//! Pairs are quadratic in the size of an object's window: an object shared
//! by 50 000 accounts in one minute gives up to 1.25e9 pairs. They are never
//! held: large buckets stream pair by pair, small ones are buffered per
//! batch of about two million pairs to keep the output in order while rayon
//! spreads buckets over cores. Time stays proportional to the pairs; to bound
//! it too, [`CoortweetParams::max_pairs_per_object`] sets aside the objects
//! whose window holds more candidate pairs and reports them in [`Stats`].
//!
//! # Cost
//!
//! Time: O(rows log rows) to bucket and sort, O(candidate pairs) to check
//! them (about a nanosecond each: 1.25e9 candidates rejected in 1 s), and a
//! hash-map update per kept pair. Memory: about 60 bytes a row (table,
//! positions, buckets) plus about 60 bytes a distinct account pair while
//! aggregating and 100 more while the network is built — the edges, not the
//! pairs, are what grows. A viral object whose k shares fall in one window
//! makes up to k²/2 edges by itself: 50 000 shares spread over an hour with a
//! 60 s window are 41.6M edges (about 7 GB); set such objects aside with
//! `max_pairs_per_object`. Measured figures are in the final report of
//! issue 3 and docs/BENCHMARKS.md.

use super::network::{EdgeAcc, EdgeTable};
use super::shares::ShareTable;
use rayon::prelude::*;
use std::collections::HashMap;
use std::io;

/// Parameters of `detect_groups` (and `flag_speed_share`).
#[derive(Clone, Debug, PartialEq)]
pub struct CoortweetParams {
    /// Seconds; two shares of one object at most this far apart pair up.
    pub time_window: i64,
    /// CooRTweet's `min_participation` (prefilter and pair filter).
    pub min_participation: u32,
    /// `flag_speed_share`'s narrower window: marks pairs in it and adds the
    /// fast network (`fast_net = TRUE`).
    pub fast_window: Option<i64>,
    /// Not in CooRTweet: set aside objects whose window holds more candidate
    /// pairs than this (reported in [`Stats::skipped_objects`]). `None`
    /// (the default) keeps every object, for exact parity.
    pub max_pairs_per_object: Option<u64>,
}

impl Default for CoortweetParams {
    /// CooRTweet's defaults: 10 s, min participation 2.
    fn default() -> Self {
        CoortweetParams {
            time_window: 10,
            min_participation: 2,
            fast_window: None,
            max_pairs_per_object: None,
        }
    }
}

/// Why detection could not run.
#[derive(Debug, thiserror::Error)]
pub enum CoordinationError {
    #[error("the time window must be 0 seconds or more (got {0})")]
    BadWindow(i64),
    #[error("the fast window must be 0 seconds or more (got {0})")]
    BadFastWindow(i64),
    #[error("more than 4 294 967 294 shares: split the input by time")]
    TooManyShares,
}

/// One coordinated pair, as a row of CooRTweet's `detect_groups` output
/// (ids are [`ShareTable`] ids; accounts are account ids).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pair {
    pub object: u32,
    /// The older share.
    pub content: u32,
    pub content_y: u32,
    /// Seconds, never negative.
    pub time_delta: i64,
    pub account: u32,
    pub account_y: u32,
    /// `time_window_S` of `flag_speed_share`, when a fast window was given.
    pub fast: Option<bool>,
}

/// Where [`Coordination::run`] hands the pairs (an error stops the run).
pub type PairSink<'a> = dyn FnMut(&Pair) -> io::Result<()> + 'a;

/// What detection did, for logs and reports.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    pub shares: usize,
    /// Shares left after dropping accounts under `min_participation`.
    pub shares_after_prefilter: usize,
    /// Objects shared at least twice (after the prefilter).
    pub objects_with_candidates: usize,
    /// Candidate pairs: shares of one object within the window, before loops
    /// and min participation are removed.
    pub candidate_pairs: u64,
    /// Accounts whose contents qualified in step 4.
    pub qualified_accounts: usize,
    /// Pairs in the output.
    pub pairs: u64,
    /// Objects set aside by `max_pairs_per_object`: (object id, candidate pairs).
    pub skipped_objects: Vec<(u32, u64)>,
}

// A share inside its object bucket. `bits` holds the bucket-local account
// number (low 28 bits) and flags.
#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    ts: i64,
    /// Position in x order (CooRTweet's row order after the prefilter).
    pos: u32,
    /// Account, as its rank in byte order of names (so `min` is R's `pmin`).
    acct: u32,
    content: u32,
    bits: u32,
}

/// `pos` of a share dropped by step 1.
const NOT_KEPT: u32 = u32::MAX;

const LOCAL: u32 = (1 << 28) - 1;
/// The content id occurs in more than one share.
const DUP: u32 = 1 << 28;
/// The share is in some loop-free pair.
const IN_PAIR: u32 = 1 << 29;
/// The content qualifies in step 4.
const OK: u32 = 1 << 30;
/// The content qualifies in step 4 of `flag_speed_share`.
const OK_FAST: u32 = 1 << 31;

#[derive(Clone, Debug)]
struct Group {
    object: u32,
    /// Where the object first appears in x order (orders buckets as
    /// CooRTweet orders its groups).
    rank: u32,
    start: usize,
    len: usize,
    /// Some account shares the object more than once.
    repeats: bool,
    /// Some content id of the bucket occurs in more than one share.
    has_dup: bool,
    /// Number of distinct accounts in the bucket.
    locals: u32,
    /// Candidate pairs in the window.
    est: u64,
    skipped: bool,
}

/// Detection prepared on one table: the buckets, the filters of steps 1–4
/// and of `flag_speed_share`. [`Coordination::run`] then enumerates the
/// pairs once, streaming them and building the edge table.
pub struct Coordination<'t> {
    table: &'t ShareTable,
    params: CoortweetParams,
    /// `min(fast_window, time_window)`.
    fast: Option<i64>,
    slots: Vec<Slot>,
    groups: Vec<Group>,
    rank_to_account: Vec<u32>,
    /// `(content, content_y)` of fast pairs that involve a duplicated content id.
    fast_dup: ahash::HashSet<(u32, u32)>,
    stats: Stats,
}

impl<'t> Coordination<'t> {
    /// Runs steps 1–4 (and the fast marks) on `table`.
    pub fn new(
        table: &'t ShareTable,
        params: &CoortweetParams,
    ) -> Result<Coordination<'t>, CoordinationError> {
        let tw = params.time_window;
        if tw < 0 {
            return Err(CoordinationError::BadWindow(tw));
        }
        if let Some(f) = params.fast_window
            && f < 0
        {
            return Err(CoordinationError::BadFastWindow(f));
        }
        let shares = table.shares();
        if shares.len() >= u32::MAX as usize {
            return Err(CoordinationError::TooManyShares);
        }
        let mp = params.min_participation;
        let n_acc = table.account_count();
        let n_obj = table.object_count();
        // Content ids as CooRTweet compares them (equal strings, one id).
        let canon = table.canonical_contents();

        // Step 1 and x order: a share's position is its rank among the kept
        // shares grouped by account (account ids are first-appearance ranks,
        // which is data.table's group order). One sequential pass.
        let mut count = vec![0u32; n_acc];
        for s in shares {
            count[s.account as usize] += 1;
        }
        let mut fill = vec![0u32; n_acc];
        let mut kept = 0u32;
        for a in 0..n_acc {
            fill[a] = kept;
            if count[a] >= mp {
                kept += count[a];
            }
        }
        let mut pos = vec![NOT_KEPT; shares.len()];
        for (r, s) in shares.iter().enumerate() {
            let a = s.account as usize;
            if count[a] >= mp {
                pos[r] = fill[a];
                fill[a] += 1;
            }
        }
        drop((count, fill));

        // Accounts ranked by name, so comparing ranks is comparing names.
        let rank_to_account = sort_by_name(n_acc, |a| table.account_name(a));
        let mut rank = vec![0u32; n_acc];
        for (k, &a) in rank_to_account.iter().enumerate() {
            rank[a as usize] = k as u32;
        }

        // Buckets by object, objects in x order (by their first position);
        // shares whose content is the object never pair (step 3) and stay out.
        let mut obj_first = vec![NOT_KEPT; n_obj];
        let mut obj_len = vec![0u32; n_obj];
        for (r, s) in shares.iter().enumerate() {
            let p = pos[r];
            if p == NOT_KEPT {
                continue;
            }
            let o = s.object as usize;
            obj_first[o] = obj_first[o].min(p);
            if !s.content_is_object {
                obj_len[o] += 1;
            }
        }
        let mut order: Vec<(u32, u32)> = (0..n_obj as u32)
            .filter(|&o| obj_len[o as usize] >= 2)
            .map(|o| (obj_first[o as usize], o))
            .collect();
        order.par_sort_unstable();
        let mut obj_fill = vec![usize::MAX; n_obj];
        let mut groups = Vec::with_capacity(order.len());
        let mut total = 0usize;
        for &(first, o) in &order {
            let len = obj_len[o as usize] as usize;
            obj_fill[o as usize] = total;
            groups.push(Group {
                object: o,
                rank: first,
                start: total,
                len,
                repeats: false,
                has_dup: false,
                locals: 0,
                est: 0,
                skipped: false,
            });
            total += len;
        }
        drop((order, obj_first, obj_len));
        let mut slots = vec![Slot::default(); total];
        for (r, s) in shares.iter().enumerate() {
            let p = pos[r];
            if p == NOT_KEPT || s.content_is_object {
                continue;
            }
            let at = obj_fill[s.object as usize];
            if at == usize::MAX {
                continue;
            }
            slots[at] = Slot {
                ts: s.time_secs,
                pos: p,
                acct: rank[s.account as usize],
                content: canon[r],
                bits: 0,
            };
            obj_fill[s.object as usize] = at + 1;
        }
        drop(obj_fill);
        {
            let mut parts = split_groups(&mut slots, &groups);
            parts
                .par_iter_mut()
                .for_each(|s| s.sort_unstable_by_key(|s| (s.ts, s.pos)));
        }

        // Duplicated content ids, and bucket-local account numbers.
        let mut seen_content = vec![0u8; shares.len()];
        for s in &slots {
            let c = &mut seen_content[s.content as usize];
            *c = c.saturating_add(1);
        }
        let mut seen_group = vec![u32::MAX; n_acc];
        let mut local = vec![0u32; n_acc];
        for (gi, g) in groups.iter_mut().enumerate() {
            let mut k = 0u32;
            for s in &mut slots[g.start..g.start + g.len] {
                let a = s.acct as usize;
                if seen_group[a] != gi as u32 {
                    seen_group[a] = gi as u32;
                    local[a] = k;
                    k += 1;
                } else {
                    g.repeats = true;
                }
                assert!(k <= LOCAL, "an object shared by more than 2^28 accounts");
                s.bits = local[a];
                if seen_content[s.content as usize] > 1 {
                    s.bits |= DUP;
                    g.has_dup = true;
                }
            }
            g.locals = k;
        }
        drop((seen_content, seen_group, local));

        // Loop-free pairs (before step 4): which shares are in one, and how
        // many candidate pairs each bucket holds.
        let cap = params.max_pairs_per_object;
        {
            let mut parts = split_groups(&mut slots, &groups);
            let ests: Vec<(u64, bool)> = parts
                .par_iter_mut()
                .map(|s| {
                    let est = count_candidates(s, tw);
                    let skip = cap.is_some_and(|c| est > c);
                    if !skip {
                        mark_partners(s, tw, false, IN_PAIR);
                    }
                    (est, skip)
                })
                .collect();
            for (g, (est, skip)) in groups.iter_mut().zip(ests) {
                g.est = est;
                g.skipped = skip;
            }
        }

        let mut stats = Stats {
            shares: shares.len(),
            shares_after_prefilter: kept as usize,
            objects_with_candidates: groups.len(),
            candidate_pairs: groups.iter().map(|g| g.est).sum(),
            skipped_objects: groups
                .iter()
                .filter(|g| g.skipped)
                .map(|g| (g.object, g.est))
                .collect(),
            ..Stats::default()
        };

        // Step 4.
        stats.qualified_accounts = participation(
            table, &canon, &pos, &mut slots, &groups, mp, true, IN_PAIR, OK,
        );

        // flag_speed_share: fast pairs, and step 4 on them alone.
        let fast = params.fast_window.map(|f| f.min(tw));
        let mut fast_dup = ahash::HashSet::default();
        if let Some(fw) = fast {
            {
                let mut parts = split_groups(&mut slots, &groups);
                parts
                    .par_iter_mut()
                    .zip(groups.par_iter())
                    .for_each(|(s, g)| {
                        if !g.skipped {
                            mark_partners(s, fw, true, IN_PAIR_FAST_TMP);
                        }
                    });
            }
            participation(
                table,
                &canon,
                &pos,
                &mut slots,
                &groups,
                mp,
                false,
                IN_PAIR_FAST_TMP,
                OK_FAST,
            );
            // The scratch mark shares a bit with IN_PAIR, no longer needed.
            for g in groups.iter().filter(|g| g.has_dup && !g.skipped) {
                let s = &slots[g.start..g.start + g.len];
                let mut lo = 0;
                for j in 0..s.len() {
                    while s[j].ts - s[lo].ts > fw {
                        lo += 1;
                    }
                    for i in lo..j {
                        let (a, b) = (s[i], s[j]);
                        let bits = a.bits | b.bits;
                        if bits & DUP != 0 && valid(a, b) && bits & OK != 0 && bits & OK_FAST != 0 {
                            fast_dup.insert((a.content, b.content));
                        }
                    }
                }
            }
        }

        Ok(Coordination {
            table,
            params: params.clone(),
            fast,
            slots,
            groups,
            rank_to_account,
            fast_dup,
            stats,
        })
    }

    /// What steps 1–4 found so far (pairs are counted by [`Coordination::run`]).
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    pub fn params(&self) -> &CoortweetParams {
        &self.params
    }

    pub fn table(&self) -> &'t ShareTable {
        self.table
    }

    /// Enumerates the pairs once: hands them to `sink` (object buckets in
    /// CooRTweet's group order, pairs by time inside a bucket) and returns
    /// the aggregated edges. Pass `None` when only the network is wanted.
    pub fn run(&mut self, mut sink: Option<&mut PairSink<'_>>) -> io::Result<EdgeTable> {
        let keep_pairs = sink.is_some();
        let threads = rayon::current_num_threads().max(1);
        let with_fast = self.fast.is_some();
        let mut total = Worker::new(with_fast);
        let mut pairs_out = 0u64;
        let mut gi = 0;
        let groups = &self.groups;
        while gi < groups.len() {
            if groups[gi].skipped {
                gi += 1;
                continue;
            }
            if keep_pairs && groups[gi].est > BIG_GROUP {
                // One huge bucket: stream its pairs in slices.
                let mut buf: Vec<PairRec> = Vec::with_capacity(STREAM_SLICE);
                let mut err: Option<io::Error> = None;
                let sink = sink.as_mut().expect("sink");
                let mut n = 0u64;
                {
                    let mut flush = |buf: &mut Vec<PairRec>, err: &mut Option<io::Error>| {
                        if err.is_none() {
                            for p in buf.iter() {
                                if let Err(e) = sink(&self.resolve(p)) {
                                    *err = Some(e);
                                    break;
                                }
                            }
                        }
                        n += buf.len() as u64;
                        buf.clear();
                    };
                    self.process_group(gi, &mut total, &mut |p| {
                        buf.push(p);
                        if buf.len() == STREAM_SLICE {
                            flush(&mut buf, &mut err);
                        }
                    });
                    flush(&mut buf, &mut err);
                }
                if let Some(e) = err {
                    return Err(e);
                }
                pairs_out += n;
                gi += 1;
                continue;
            }
            // A batch of buckets, split into chunks of similar work.
            let budget = if keep_pairs { BATCH_PAIRS } else { u64::MAX };
            let mut gj = gi;
            let mut work = 0u64;
            while gj < groups.len() && (gj == gi || work < budget) {
                if keep_pairs && groups[gj].est > BIG_GROUP {
                    break;
                }
                work += groups[gj].est + groups[gj].len as u64;
                gj += 1;
            }
            let chunks = chunk_by_work(&groups[gi..gj], gi, work, threads * 8);
            let workers: Vec<Worker> = chunks
                .par_iter()
                .map(|&(a, b)| {
                    let mut w = Worker::new(with_fast);
                    let mut out = Vec::new();
                    let mut n = 0u64;
                    for (g, group) in groups.iter().enumerate().take(b).skip(a) {
                        if !group.skipped {
                            self.process_group(g, &mut w, &mut |p| {
                                n += 1;
                                if keep_pairs {
                                    out.push(p)
                                }
                            });
                        }
                    }
                    w.n_pairs = n;
                    w.pairs = out;
                    w
                })
                .collect();
            for mut w in workers {
                if let Some(sink) = sink.as_mut() {
                    for p in &w.pairs {
                        sink(&self.resolve(p))?;
                    }
                }
                pairs_out += w.n_pairs;
                w.pairs = Vec::new();
                total.merge(w);
            }
            gi = gj;
        }
        let (full, fast, dup) = total.finish();
        let edges = EdgeTable::new(
            full,
            fast,
            dup,
            self.rank_to_account.clone(),
            self.params.fast_window,
        );
        self.stats.pairs = pairs_out;
        Ok(edges)
    }

    /// All pairs, in [`Coordination::run`]'s order (convenience for tests and
    /// small inputs: the pairs of a large input do not fit in memory).
    pub fn pairs(&mut self) -> (Vec<Pair>, EdgeTable) {
        let mut v = Vec::new();
        let edges = self
            .run(Some(&mut |p: &Pair| {
                v.push(*p);
                Ok(())
            }))
            .expect("collecting into memory does not fail");
        (v, edges)
    }

    fn resolve(&self, p: &PairRec) -> Pair {
        let g = &self.groups[p.g as usize];
        let a = self.slots[p.i as usize];
        let b = self.slots[p.j as usize];
        Pair {
            object: g.object,
            content: a.content,
            content_y: b.content,
            time_delta: b.ts - a.ts,
            account: self.rank_to_account[a.acct as usize],
            account_y: self.rank_to_account[b.acct as usize],
            fast: self.fast.map(|_| p.fast),
        }
    }

    #[inline]
    fn is_fast(&self, a: Slot, b: Slot, td: i64) -> bool {
        match self.fast {
            None => false,
            // flag_speed_share joins its marks back on (content_id,
            // content_id_y): with duplicated content ids another row with
            // the same two ids may carry the mark.
            Some(_) if (a.bits | b.bits) & DUP != 0 => {
                self.fast_dup.contains(&(a.content, b.content))
            }
            Some(fw) => td <= fw && (a.bits | b.bits) & OK_FAST != 0,
        }
    }

    /// Enumerates the final pairs of one bucket into `w`'s accumulators.
    fn process_group(&self, gi: usize, w: &mut Worker, emit: &mut impl FnMut(PairRec)) {
        let g = &self.groups[gi];
        let s = &self.slots[g.start..g.start + g.len];
        let tw = self.params.time_window;
        // Without repeated accounts or duplicated contents every pair is a
        // distinct (content, edge) on both sides: n_content_id(_y) are the
        // pair counts. Otherwise distinct ones are found with stamps.
        let simple = !g.repeats && !g.has_dup;
        let Worker {
            full,
            fast,
            dup,
            stamp_a,
            stamp_b,
            ..
        } = w;
        if !simple {
            reset(stamp_a, g.locals as usize);
            reset(stamp_b, g.locals as usize);
        }
        let mut lo = 0;
        for j in 0..s.len() {
            let b = s[j];
            while b.ts - s[lo].ts > tw {
                lo += 1;
            }
            for (i, &a) in s.iter().enumerate().take(j).skip(lo) {
                if !valid(a, b) || (a.bits | b.bits) & OK == 0 {
                    continue;
                }
                let td = b.ts - a.ts;
                let key = edge_key(a.acct, b.acct);
                let first = (g.rank, a.pos.max(b.pos), a.pos.min(b.pos));
                let is_fast = self.is_fast(a, b, td);
                let e = bump(full, key, td, first);
                if simple {
                    e.n_c += 1;
                    e.n_cy += 1;
                } else if b.bits & DUP != 0 {
                    dup.push(DupTuple::new(key, b.content, NEWER, false));
                } else if stamp_a[(a.bits & LOCAL) as usize] != j as u32 {
                    stamp_a[(a.bits & LOCAL) as usize] = j as u32;
                    e.n_cy += 1;
                }
                if is_fast {
                    let f = fast.as_mut().expect("fast map");
                    let e = bump(f, key, td, first);
                    if simple {
                        e.n_c += 1;
                        e.n_cy += 1;
                    } else if b.bits & DUP != 0 {
                        dup.push(DupTuple::new(key, b.content, NEWER, true));
                    } else if stamp_b[(a.bits & LOCAL) as usize] != j as u32 {
                        stamp_b[(a.bits & LOCAL) as usize] = j as u32;
                        e.n_cy += 1;
                    }
                }
                emit(PairRec {
                    g: gi as u32,
                    i: (g.start + i) as u32,
                    j: (g.start + j) as u32,
                    fast: is_fast,
                });
            }
        }
        if simple {
            return;
        }
        // Older side: distinct (content_id, edge), shares in outer loop.
        reset(stamp_a, g.locals as usize);
        reset(stamp_b, g.locals as usize);
        let mut hi = 0;
        for i in 0..s.len() {
            let a = s[i];
            hi = hi.max(i + 1);
            while hi < s.len() && s[hi].ts - a.ts <= tw {
                hi += 1;
            }
            for &b in &s[i + 1..hi] {
                if !valid(a, b) || (a.bits | b.bits) & OK == 0 {
                    continue;
                }
                let key = edge_key(a.acct, b.acct);
                let loc = (b.bits & LOCAL) as usize;
                if a.bits & DUP != 0 {
                    dup.push(DupTuple::new(key, a.content, OLDER, false));
                } else if stamp_a[loc] != i as u32 {
                    stamp_a[loc] = i as u32;
                    full.get_mut(&key).expect("edge seen").n_c += 1;
                }
                if self.is_fast(a, b, b.ts - a.ts) {
                    if a.bits & DUP != 0 {
                        dup.push(DupTuple::new(key, a.content, OLDER, true));
                    } else if stamp_b[loc] != i as u32 {
                        stamp_b[loc] = i as u32;
                        let f = fast.as_mut().expect("fast map");
                        f.get_mut(&key).expect("edge seen").n_c += 1;
                    }
                }
            }
        }
    }
}

// Scratch mark for the fast window; reuses IN_PAIR's bit after step 4.
const IN_PAIR_FAST_TMP: u32 = IN_PAIR;

/// Ids `0..n` in byte order of their names. Sorts 8-byte name prefixes
/// (cache-friendly integer compares), then orders each run of equal prefixes
/// by the full names.
fn sort_by_name<'a>(n: usize, name: impl Fn(u32) -> &'a [u8] + Sync) -> Vec<u32> {
    let mut keys: Vec<(u64, u32)> = (0..n as u32)
        .into_par_iter()
        .map(|id| {
            let mut p = [0u8; 8];
            let b = name(id);
            let k = b.len().min(8);
            p[..k].copy_from_slice(&b[..k]);
            (u64::from_be_bytes(p), id)
        })
        .collect();
    keys.par_sort_unstable();
    let mut i = 0;
    while i < keys.len() {
        let mut j = i + 1;
        while j < keys.len() && keys[j].0 == keys[i].0 {
            j += 1;
        }
        if j - i > 1 {
            keys[i..j].sort_unstable_by(|a, b| name(a.1).cmp(name(b.1)));
        }
        i = j;
    }
    keys.into_iter().map(|(_, id)| id).collect()
}

#[cfg(test)]
pub(crate) fn sort_by_name_for_tests<'a>(
    n: usize,
    name: impl Fn(u32) -> &'a [u8] + Sync,
) -> Vec<u32> {
    sort_by_name(n, name)
}

/// Buckets above this many candidate pairs stream their pairs (when pairs
/// are written) instead of being buffered with others.
const BIG_GROUP: u64 = 1 << 21;
/// Pairs buffered per batch of buckets (16 bytes each).
const BATCH_PAIRS: u64 = 1 << 21;
const STREAM_SLICE: usize = 1 << 16;

#[derive(Clone, Copy, Debug)]
struct PairRec {
    g: u32,
    i: u32,
    j: u32,
    fast: bool,
}

const OLDER: u8 = 0;
const NEWER: u8 = 1;

/// A (content, edge) contribution of a duplicated content id, deduplicated
/// globally at the end (such ids are rare; CooRTweet counts content *ids*).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct DupTuple {
    pub(crate) fast: bool,
    pub(crate) key: u64,
    pub(crate) side: u8,
    pub(crate) content: u32,
}

impl DupTuple {
    fn new(key: u64, content: u32, side: u8, fast: bool) -> Self {
        DupTuple {
            fast,
            key,
            side,
            content,
        }
    }
    pub(crate) fn is_newer(&self) -> bool {
        self.side == NEWER
    }
}

pub(crate) type EdgeMap = HashMap<u64, EdgeAcc, ahash::RandomState>;

struct Worker {
    full: EdgeMap,
    fast: Option<EdgeMap>,
    dup: Vec<DupTuple>,
    stamp_a: Vec<u32>,
    stamp_b: Vec<u32>,
    pairs: Vec<PairRec>,
    n_pairs: u64,
}

impl Worker {
    fn new(with_fast: bool) -> Self {
        Worker {
            full: EdgeMap::default(),
            fast: with_fast.then(EdgeMap::default),
            dup: Vec::new(),
            stamp_a: Vec::new(),
            stamp_b: Vec::new(),
            pairs: Vec::new(),
            n_pairs: 0,
        }
    }

    fn merge(&mut self, other: Worker) {
        merge_maps(&mut self.full, other.full);
        if let (Some(a), Some(b)) = (self.fast.as_mut(), other.fast) {
            merge_maps(a, b);
        }
        self.dup.extend(other.dup);
    }

    fn finish(self) -> (EdgeMap, Option<EdgeMap>, Vec<DupTuple>) {
        (self.full, self.fast, self.dup)
    }
}

fn merge_maps(into: &mut EdgeMap, from: EdgeMap) {
    if into.is_empty() {
        *into = from;
        return;
    }
    into.reserve(from.len());
    for (k, v) in from {
        into.entry(k).and_modify(|e| e.merge(&v)).or_insert(v);
    }
}

#[inline]
fn bump(map: &mut EdgeMap, key: u64, td: i64, first: (u32, u32, u32)) -> &mut EdgeAcc {
    let e = map.entry(key).or_insert(EdgeAcc {
        weight: 0,
        sum_td: 0,
        n_c: 0,
        n_cy: 0,
        first,
    });
    e.weight += 1;
    e.sum_td += td;
    if first < e.first {
        e.first = first;
    }
    e
}

fn reset(stamp: &mut Vec<u32>, n: usize) {
    stamp.clear();
    stamp.resize(n, u32::MAX);
}

/// Undirected edge key: smaller account rank in the high half.
#[inline]
fn edge_key(a: u32, b: u32) -> u64 {
    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
    (u64::from(lo) << 32) | u64::from(hi)
}

/// Step 3 between two shares of one bucket (object ≠ content is ensured
/// when buckets are built).
#[inline]
fn valid(a: Slot, b: Slot) -> bool {
    a.acct != b.acct && a.content != b.content
}

/// Candidate pairs of a sorted bucket: shares within the window.
fn count_candidates(s: &[Slot], tw: i64) -> u64 {
    let mut lo = 0;
    let mut n = 0u64;
    for j in 0..s.len() {
        while s[j].ts - s[lo].ts > tw {
            lo += 1;
        }
        n += (j - lo) as u64;
    }
    n
}

/// Sets `bit` on every share that has a partner within `w` seconds: another
/// account, another content id and, when `need_ok`, either side qualified.
///
/// For a share whose content id is unique (and, with `need_ok`, qualified)
/// a partner exists iff the nearest share of another account on either side
/// is within the window; other shares scan their window.
fn mark_partners(s: &mut [Slot], w: i64, need_ok: bool, bit: u32) {
    let n = s.len();
    let easy = |x: Slot| x.bits & DUP == 0 && (!need_ok || x.bits & OK != 0);
    let mut prev: Option<usize> = None;
    for j in 0..n {
        if j > 0 && s[j - 1].acct != s[j].acct {
            prev = Some(j - 1);
        }
        if easy(s[j]) && prev.is_some_and(|p| s[j].ts - s[p].ts <= w) {
            s[j].bits |= bit;
        }
    }
    let mut next: Option<usize> = None;
    for j in (0..n).rev() {
        if j + 1 < n && s[j + 1].acct != s[j].acct {
            next = Some(j + 1);
        }
        if easy(s[j]) && next.is_some_and(|q| s[q].ts - s[j].ts <= w) {
            s[j].bits |= bit;
        }
    }
    for j in 0..n {
        let x = s[j];
        if easy(x) || x.bits & bit != 0 {
            continue;
        }
        let ok = |y: Slot| valid(x, y) && (!need_ok || (x.bits | y.bits) & OK != 0);
        let mut found = false;
        for i in (0..j).rev() {
            if x.ts - s[i].ts > w {
                break;
            }
            if ok(s[i]) {
                found = true;
                break;
            }
        }
        if !found {
            for y in &s[j + 1..] {
                if y.ts - x.ts > w {
                    break;
                }
                if ok(*y) {
                    found = true;
                    break;
                }
            }
        }
        if found {
            s[j].bits |= bit;
        }
    }
}

/// Step 4 (CooRTweet's `filter_min_participation`): from the shares marked
/// `bit_in`, sets `bit_out` on the shares whose content qualifies. Returns
/// the number of qualified accounts.
#[allow(clippy::too_many_arguments)]
fn participation(
    table: &ShareTable,
    canon: &[u32],
    pos: &[u32],
    slots: &mut [Slot],
    groups: &[Group],
    mp: u32,
    skip_when_zero: bool,
    bit_in: u32,
    bit_out: u32,
) -> usize {
    let shares = table.shares();
    let mut in_pair = BitSet::new(shares.len());
    for g in groups.iter().filter(|g| !g.skipped) {
        for s in &slots[g.start..g.start + g.len] {
            if s.bits & bit_in != 0 {
                in_pair.set(s.content);
            }
        }
    }
    // detect_groups applies the filter only when min_participation >= 1;
    // flag_speed_share always does, and with 0 every content qualifies.
    let everyone = mp == 0;
    if everyone && skip_when_zero {
        slots
            .par_iter_mut()
            .for_each(|s| s.bits = (s.bits & !bit_in) | bit_out);
        return table.account_count();
    }
    let mut per_account = vec![0u32; table.account_count()];
    // Rows of x: the shares kept by step 1.
    for (r, s) in shares.iter().enumerate() {
        if pos[r] != NOT_KEPT && in_pair.get(canon[r]) {
            per_account[s.account as usize] += 1;
        }
    }
    let mut ok = BitSet::new(shares.len());
    for (r, s) in shares.iter().enumerate() {
        let c = canon[r];
        if pos[r] != NOT_KEPT && per_account[s.account as usize] >= mp && in_pair.get(c) {
            ok.set(c);
        }
    }
    slots.par_iter_mut().for_each(|s| {
        s.bits &= !bit_in;
        if ok.get(s.content) {
            s.bits |= bit_out;
        }
    });
    per_account.iter().filter(|&&c| c > 0 && c >= mp).count()
}

struct BitSet(Vec<u64>);

impl BitSet {
    fn new(n: usize) -> Self {
        BitSet(vec![0; n.div_ceil(64)])
    }
    #[inline]
    fn set(&mut self, i: u32) {
        self.0[(i >> 6) as usize] |= 1 << (i & 63);
    }
    #[inline]
    fn get(&self, i: u32) -> bool {
        self.0[(i >> 6) as usize] >> (i & 63) & 1 == 1
    }
}

/// The slots of each bucket as its own mutable slice (buckets are
/// contiguous and in order).
fn split_groups<'a>(slots: &'a mut [Slot], groups: &[Group]) -> Vec<&'a mut [Slot]> {
    let mut out = Vec::with_capacity(groups.len());
    let mut rest = slots;
    let mut at = 0;
    for g in groups {
        let (_, tail) = std::mem::take(&mut rest).split_at_mut(g.start - at);
        let (part, tail) = tail.split_at_mut(g.len);
        out.push(part);
        rest = tail;
        at = g.start + g.len;
    }
    out
}

/// Splits buckets `offset..offset + groups.len()` into about `parts`
/// contiguous ranges of similar work.
fn chunk_by_work(groups: &[Group], offset: usize, work: u64, parts: usize) -> Vec<(usize, usize)> {
    let per = (work / parts as u64).max(1);
    let mut out = Vec::new();
    let mut a = 0;
    let mut acc = 0u64;
    for (k, g) in groups.iter().enumerate() {
        acc += g.est + g.len as u64;
        if acc >= per {
            out.push((offset + a, offset + k + 1));
            a = k + 1;
            acc = 0;
        }
    }
    if a < groups.len() {
        out.push((offset + a, offset + groups.len()));
    }
    out
}

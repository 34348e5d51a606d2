//! CooRTweet's `generate_coordinated_network`: the undirected account
//! network of the pairs, with its edge-weight threshold and subgraphs.
//!
//! Per account pair: `weight` = pair rows, `avg_time_delta` = their mean
//! `time_delta`, `n_content_id` / `n_content_id_y` = distinct `content_id`
//! / `content_id_y`, `edge_symmetry_score` = min/max of those two, and
//! `weight_threshold` = 1 when `weight` is strictly greater than the
//! `edge_weight` quantile (R's default, type 7) of all edge weights.
//!
//! Two quirks of CooRTweet's output are reproduced on purpose:
//!
//! - **Which side the content counts are on.** CooRTweet puts the two
//!   accounts in `pmin`/`pmax` order but leaves the contents alone, so
//!   `n_content_id` counts the *older* shares of the edge and
//!   `n_content_id_y` the newer ones, whichever account made them — not
//!   the shares of `from` and of `to`.
//! - **Which account is `from`.** igraph numbers the vertices in order of
//!   first appearance in the aggregated table's `pmin` column, then its
//!   `pmax` column (rows in order of each edge's first pair row), and lists
//!   an undirected edge from its lower-numbered vertex. So `from` is not
//!   always the smaller name. Pharos keeps, per edge, the position of its
//!   first pair row in CooRTweet's row order, and numbers vertices the same
//!   way.
//!
//! `pmin` compares names in R's collation; Pharos compares bytes. They
//! agree on ids of digits and lowercase letters of one length (hashes,
//! numeric platform ids), which is what CooRTweet is fed in practice.

use super::coortweet::{DupTuple, EdgeMap};
use rayon::prelude::*;

/// Per-edge accumulator of the pair pass.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct EdgeAcc {
    pub(crate) weight: u64,
    pub(crate) sum_td: i64,
    /// Distinct contents are rows, so they fit in 32 bits (keeps the
    /// accumulator at 40 bytes: edges are most of the memory).
    pub(crate) n_c: u32,
    pub(crate) n_cy: u32,
    /// Position of the edge's first pair in CooRTweet's row order:
    /// (object rank, later x position, earlier x position).
    pub(crate) first: (u32, u32, u32),
}

impl EdgeAcc {
    pub(crate) fn merge(&mut self, o: &EdgeAcc) {
        self.weight += o.weight;
        self.sum_td += o.sum_td;
        self.n_c += o.n_c;
        self.n_cy += o.n_cy;
        if o.first < self.first {
            self.first = o.first;
        }
    }

    fn stats(&self) -> EdgeStats {
        let (a, b) = (u64::from(self.n_c), u64::from(self.n_cy));
        EdgeStats {
            weight: self.weight,
            avg_time_delta: self.sum_td as f64 / self.weight as f64,
            n_content_id: a,
            n_content_id_y: b,
            edge_symmetry_score: a.min(b) as f64 / a.max(b) as f64,
        }
    }
}

/// Aggregated edges of one run, before thresholds and subgraphs.
#[derive(Debug)]
pub struct EdgeTable {
    full: Vec<(u64, EdgeAcc)>,
    fast: Option<EdgeMap>,
    rank_to_account: Vec<u32>,
    fast_window: Option<i64>,
}

/// The subgraphs of `generate_coordinated_network(subgraph = ...)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Subgraph {
    /// 0: the whole network.
    #[default]
    Full,
    /// 1: edges above the weight threshold (weighted subgraph).
    Weighted,
    /// 2: edges above the fast network's weight threshold (fast weighted
    /// subgraph); needs a fast window.
    FastWeighted,
    /// 3: the accounts of (2) and all their neighbours, with every edge
    /// among them; nodes carry `color_v` = 1 for the accounts of (2) and 0
    /// for their neighbours. Needs a fast window.
    FastContext,
}

impl Subgraph {
    pub fn from_number(n: u8) -> Option<Subgraph> {
        Some(match n {
            0 => Subgraph::Full,
            1 => Subgraph::Weighted,
            2 => Subgraph::FastWeighted,
            3 => Subgraph::FastContext,
            _ => return None,
        })
    }
}

/// Why a network could not be built with these options.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum NetworkError {
    #[error("edge_weight must be a number between 0 and 1 (got {0})")]
    BadEdgeWeight(f64),
    #[error(
        "subgraph {0} needs the fast network: give a fast window (CooRTweet's flag_speed_share)"
    )]
    NeedsFastWindow(u8),
    #[error(
        "subgraph 1 uses the full network's threshold, which CooRTweet does not compute \
         when the fast network is on: drop the fast window, or use subgraph 2"
    )]
    WeightedWithFast,
}

/// The statistics of one edge in one network.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EdgeStats {
    pub weight: u64,
    pub avg_time_delta: f64,
    pub n_content_id: u64,
    pub n_content_id_y: u64,
    pub edge_symmetry_score: f64,
}

/// One edge of the coordinated network (accounts are [`ShareTable`] ids).
///
/// [`ShareTable`]: super::ShareTable
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Edge {
    pub from: u32,
    pub to: u32,
    /// The edge in the full network (`weight`, ... or `weight_full`, ...).
    pub full: EdgeStats,
    /// `weight_threshold` (or `weight_threshold_full` with a fast network).
    pub weight_threshold: bool,
    /// The edge in the fast network, when there is one and it has the edge.
    pub fast: Option<EdgeStats>,
    /// `weight_threshold_fast`: `None` when the edge is not in the fast network.
    pub weight_threshold_fast: Option<bool>,
}

/// A node of subgraph 3.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Node {
    pub account: u32,
    /// 1 for accounts of the fast weighted subgraph, 0 for their neighbours.
    pub color_v: u8,
}

/// The coordinated network as CooRTweet returns it (edges sorted by
/// `from`, `to` names).
#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    pub edges: Vec<Edge>,
    /// `fast_net = TRUE`: the edges carry `_full` and `_fast` statistics.
    pub fast_net: bool,
    pub fast_window: Option<i64>,
    /// The `edge_weight` quantile of the full network's weights.
    pub threshold: f64,
    /// The same quantile over the fast network's weights.
    pub threshold_fast: Option<f64>,
    /// Subgraph 3 only: its accounts, sorted by name.
    pub nodes: Option<Vec<Node>>,
}

impl EdgeTable {
    pub(crate) fn new(
        full: EdgeMap,
        mut fast: Option<EdgeMap>,
        mut dup: Vec<DupTuple>,
        rank_to_account: Vec<u32>,
        fast_window: Option<i64>,
    ) -> EdgeTable {
        let mut full: Vec<(u64, EdgeAcc)> = full.into_iter().collect();
        full.sort_unstable_by_key(|(_, e)| e.first);
        if !dup.is_empty() {
            dup.sort_unstable();
            dup.dedup();
            let mut index: EdgeMap = EdgeMap::default();
            for &(k, e) in &full {
                index.insert(k, e);
            }
            for t in &dup {
                let map = if t.fast {
                    fast.as_mut().expect("fast map")
                } else {
                    &mut index
                };
                let e = map.get_mut(&t.key).expect("edge of a pair");
                if t.is_newer() {
                    e.n_cy += 1;
                } else {
                    e.n_c += 1;
                }
            }
            for (k, e) in &mut full {
                *e = index[k];
            }
        }
        EdgeTable {
            full,
            fast,
            rank_to_account,
            fast_window,
        }
    }

    /// Number of edges of the full network.
    pub fn len(&self) -> usize {
        self.full.len()
    }

    pub fn is_empty(&self) -> bool {
        self.full.is_empty()
    }

    /// Sum of the full network's weights (= number of pairs).
    pub fn full_weight(&self) -> u64 {
        self.full.iter().map(|(_, e)| e.weight).sum()
    }

    /// `generate_coordinated_network(x, fast_net, edge_weight, subgraph)`;
    /// `fast_net` is on when the run had a fast window.
    pub fn network(&self, edge_weight: f64, subgraph: Subgraph) -> Result<Network, NetworkError> {
        if !(0.0..=1.0).contains(&edge_weight) {
            return Err(NetworkError::BadEdgeWeight(edge_weight));
        }
        let fast_net = self.fast.is_some();
        match subgraph {
            Subgraph::FastWeighted if !fast_net => return Err(NetworkError::NeedsFastWindow(2)),
            Subgraph::FastContext if !fast_net => return Err(NetworkError::NeedsFastWindow(3)),
            Subgraph::Weighted if fast_net => return Err(NetworkError::WeightedWithFast),
            _ => {}
        }

        // igraph's vertex numbering: first appearance in the pmin column,
        // then in the pmax column, edges in order of their first pair row
        // (self.full is sorted so).
        let n_acc = self.rank_to_account.len();
        let mut vid = vec![u32::MAX; n_acc];
        let mut next = 0u32;
        for half in [32u32, 0] {
            for (k, _) in &self.full {
                let v = ((k >> half) & 0xffff_ffff) as usize;
                if vid[v] == u32::MAX {
                    vid[v] = next;
                    next += 1;
                }
            }
        }

        let mut weights: Vec<f64> = self.full.iter().map(|(_, e)| e.weight as f64).collect();
        let threshold = quantile_type7(&mut weights, edge_weight);
        let threshold_fast = self.fast.as_ref().map(|f| {
            let mut w: Vec<f64> = f.values().map(|e| e.weight as f64).collect();
            quantile_type7(&mut w, edge_weight)
        });

        // Orientation and order (by from, to names) first, on 12-byte keys;
        // the edges are built once, in their final order.
        let mut order: Vec<(u32, u32, u32)> = self
            .full
            .iter()
            .enumerate()
            .map(|(i, (k, _))| {
                let (a, b) = ((k >> 32) as u32, *k as u32);
                if vid[a as usize] < vid[b as usize] {
                    (a, b, i as u32)
                } else {
                    (b, a, i as u32)
                }
            })
            .collect();
        drop(vid);
        let edge = |&(from, to, i): &(u32, u32, u32)| {
            let (k, e) = &self.full[i as usize];
            let full = e.stats();
            let fast = self
                .fast
                .as_ref()
                .and_then(|f| f.get(k))
                .map(EdgeAcc::stats);
            Edge {
                from: self.rank_to_account[from as usize],
                to: self.rank_to_account[to as usize],
                full,
                weight_threshold: full.weight as f64 > threshold,
                fast,
                weight_threshold_fast: match (fast, threshold_fast) {
                    (Some(f), Some(t)) => Some(f.weight as f64 > t),
                    _ => None,
                },
            }
        };

        let mut nodes = None;
        match subgraph {
            Subgraph::Full => {}
            Subgraph::Weighted => order.retain(|o| edge(o).weight_threshold),
            Subgraph::FastWeighted => order.retain(|o| edge(o).weight_threshold_fast == Some(true)),
            Subgraph::FastContext => {
                // Coordinated: ends of fast edges above threshold. Kept: their
                // neighbours (which include them) and every edge among those.
                let mut coordinated = vec![false; n_acc];
                for o in &order {
                    if edge(o).weight_threshold_fast == Some(true) {
                        coordinated[o.0 as usize] = true;
                        coordinated[o.1 as usize] = true;
                    }
                }
                let mut kept = vec![false; n_acc];
                for &(a, b, _) in &order {
                    if coordinated[a as usize] {
                        kept[b as usize] = true;
                    }
                    if coordinated[b as usize] {
                        kept[a as usize] = true;
                    }
                }
                order.retain(|&(a, b, _)| kept[a as usize] && kept[b as usize]);
                nodes = Some(
                    (0..n_acc)
                        .filter(|&r| kept[r])
                        .map(|r| Node {
                            account: self.rank_to_account[r],
                            color_v: u8::from(coordinated[r]),
                        })
                        .collect(),
                );
            }
        }
        order.par_sort_unstable();
        let edges: Vec<Edge> = order.par_iter().map(edge).collect();
        Ok(Network {
            edges,
            fast_net,
            fast_window: self.fast_window,
            threshold,
            threshold_fast,
            nodes,
        })
    }
}

/// R's `quantile(x, p)` with its default type 7 (sorts `x`). NaN when `x`
/// is empty.
pub fn quantile_type7(x: &mut [f64], p: f64) -> f64 {
    let n = x.len();
    if n == 0 {
        return f64::NAN;
    }
    x.sort_unstable_by(f64::total_cmp);
    // As R computes it: index <- 1 + (n - 1) * p; lo <- floor(index);
    // hi <- ceiling(index); qs <- x[lo]; interpolate when index > lo and
    // x[hi] != qs, as (1 - h) * qs + h * x[hi].
    let index = 1.0 + (n as f64 - 1.0) * p;
    let lo = index.floor();
    let hi = index.ceil();
    let qs = x[lo as usize - 1];
    let xhi = x[(hi as usize - 1).min(n - 1)];
    if index > lo && xhi != qs {
        let h = index - lo;
        (1.0 - h) * qs + h * xhi
    } else {
        qs
    }
}

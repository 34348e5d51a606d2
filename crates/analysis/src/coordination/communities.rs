//! Communities of a coordination network: Leiden and connected components.
//!
//! A coordination network is usually a few tight groups of accounts that
//! act together plus loose bridges between them. Connected components keep
//! the bridges (one big component can hold several campaigns); communities
//! cut them where the weight says the groups are separate.
//!
//! # Leiden
//! The method is Traag, Waltman & van Eck (2019), "From Louvain to Leiden",
//! with modularity as the quality and a resolution γ:
//!
//! ```text
//! Q = 1/2m · Σ_c ( Σ_{i,j ∈ c} A_ij  −  γ · K_c² / 2m )
//! ```
//!
//! where `A` is the symmetric weight matrix, `K_c` the summed strength of
//! community `c` and `2m` the summed strength of all nodes. Each round:
//!
//! 1. **local moving** — nodes, visited from a queue in a seeded random
//!    order, move to the neighbouring community (or an empty one) with the
//!    largest gain; the neighbours of a moved node are queued again;
//! 2. **refinement** — inside each community, starting from singletons,
//!    nodes that are well connected to their community merge greedily into
//!    well-connected sub-communities (the Leiden step that guarantees every
//!    community is connected; the greedy choice is the θ → 0 limit of the
//!    paper's randomised choice, so the result depends only on the seed);
//! 3. **aggregation** — the refined sub-communities become the nodes of the
//!    next graph, starting in the community of step 1.
//!
//! Rounds repeat until local moving changes nothing; then the whole run is
//! repeated from its own result while modularity improves (at most
//! [`LeidenParams::max_iterations`] times). The same graph, resolution and
//! seed always give the same communities, numbered by size (largest first,
//! ties by their smallest node).
//!
//! Cost: each round is linear in the edges; rounds shrink the graph
//! geometrically, so a run is a few passes over the edges.
//!
//! Directed networks are made undirected first by adding the two directions'
//! weights (`w(u,v) + w(v,u)`); self-loops are left out.

use std::collections::HashMap;

/// An undirected weighted graph in compressed adjacency form, built from an
/// edge list of node indices `0..n`.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    n: usize,
    /// `starts[v]..starts[v + 1]` index `targets` / `weights`.
    starts: Vec<usize>,
    targets: Vec<u32>,
    weights: Vec<f64>,
    /// Σ_{i,j inside node v} A_ij (twice the internal weight; aggregates only).
    self_w: Vec<f64>,
    /// Strength: `self_w[v] + Σ_u A_vu`.
    strength: Vec<f64>,
    total: f64,
}

impl Graph {
    /// A graph on `n` nodes from undirected edges `(a, b, w)`; repeated
    /// edges (in either order) add up, self-loops and weights ≤ 0 (or NaN)
    /// are left out.
    pub fn from_edges(n: usize, edges: impl IntoIterator<Item = (u32, u32, f64)>) -> Graph {
        let mut list: Vec<(u32, u32, f64)> = Vec::new();
        for (a, b, w) in edges {
            assert!((a as usize) < n && (b as usize) < n, "edge outside 0..n");
            if a == b || w.is_nan() || w <= 0.0 {
                continue;
            }
            list.push((a, b, w));
            list.push((b, a, w));
        }
        Graph::from_directed_list(n, list, vec![0.0; n])
    }

    /// From both directions of every edge (`(a, b, w)` and `(b, a, w)`),
    /// merging repeats; `self_w` per node.
    fn from_directed_list(n: usize, mut list: Vec<(u32, u32, f64)>, self_w: Vec<f64>) -> Graph {
        list.sort_unstable_by_key(|a| (a.0, a.1));
        let mut starts = vec![0usize; n + 1];
        let mut targets = Vec::with_capacity(list.len());
        let mut weights: Vec<f64> = Vec::with_capacity(list.len());
        let mut last: Option<(u32, u32)> = None;
        for (a, b, w) in list {
            if last == Some((a, b)) {
                *weights.last_mut().expect("previous") += w;
                continue;
            }
            last = Some((a, b));
            starts[a as usize + 1] += 1;
            targets.push(b);
            weights.push(w);
        }
        for v in 0..n {
            starts[v + 1] += starts[v];
        }
        let strength: Vec<f64> = (0..n)
            .map(|v| self_w[v] + weights[starts[v]..starts[v + 1]].iter().sum::<f64>())
            .collect();
        let total = strength.iter().sum();
        Graph {
            n,
            starts,
            targets,
            weights,
            self_w,
            strength,
            total,
        }
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Neighbours of `v` with the edge weights.
    pub fn neighbours(&self, v: u32) -> impl Iterator<Item = (u32, f64)> + '_ {
        let r = self.starts[v as usize]..self.starts[v as usize + 1];
        self.targets[r.clone()]
            .iter()
            .copied()
            .zip(self.weights[r].iter().copied())
    }

    /// Strength (weighted degree) of `v`.
    pub fn strength(&self, v: u32) -> f64 {
        self.strength[v as usize]
    }

    /// Number of neighbours of `v`.
    pub fn degree(&self, v: u32) -> usize {
        self.starts[v as usize + 1] - self.starts[v as usize]
    }

    /// Σ of all strengths (2m).
    pub fn total_strength(&self) -> f64 {
        self.total
    }
}

/// Parameters of [`leiden`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LeidenParams {
    /// γ: 1 is classic modularity; larger gives smaller communities.
    pub resolution: f64,
    /// Seeds the node visiting order.
    pub seed: u64,
    /// Whole runs repeated while modularity improves.
    pub max_iterations: usize,
}

impl Default for LeidenParams {
    fn default() -> Self {
        LeidenParams {
            resolution: 1.0,
            seed: 42,
            max_iterations: 10,
        }
    }
}

/// Communities found by [`leiden`] or [`connected_components`].
#[derive(Clone, Debug, PartialEq)]
pub struct Partition {
    /// Community of each node, numbered `0..count` by size (largest first,
    /// ties by smallest node).
    pub membership: Vec<u32>,
    pub count: usize,
}

impl Partition {
    /// Nodes of each community, ascending.
    pub fn members(&self) -> Vec<Vec<u32>> {
        let mut out = vec![Vec::new(); self.count];
        for (v, &c) in self.membership.iter().enumerate() {
            out[c as usize].push(v as u32);
        }
        out
    }

    /// Renumbers arbitrary labels by size, largest first, ties by smallest node.
    fn canonical(labels: &[u32]) -> Partition {
        let mut first: HashMap<u32, (usize, u32)> = HashMap::new();
        for (v, &l) in labels.iter().enumerate() {
            let e = first.entry(l).or_insert((0, v as u32));
            e.0 += 1;
        }
        let mut order: Vec<(u32, usize, u32)> =
            first.iter().map(|(&l, &(size, v))| (l, size, v)).collect();
        order.sort_unstable_by_key(|&(_, size, v)| (std::cmp::Reverse(size), v));
        let map: HashMap<u32, u32> = order
            .iter()
            .enumerate()
            .map(|(k, &(l, _, _))| (l, k as u32))
            .collect();
        Partition {
            membership: labels.iter().map(|l| map[l]).collect(),
            count: order.len(),
        }
    }
}

/// Connected components (every node, isolated ones included, is in one).
pub fn connected_components(g: &Graph) -> Partition {
    let mut parent: Vec<u32> = (0..g.n as u32).collect();
    fn find(p: &mut [u32], mut x: u32) -> u32 {
        while p[x as usize] != x {
            p[x as usize] = p[p[x as usize] as usize];
            x = p[x as usize];
        }
        x
    }
    for v in 0..g.n as u32 {
        for (u, _) in g.neighbours(v) {
            let (a, b) = (find(&mut parent, v), find(&mut parent, u));
            if a != b {
                parent[a.max(b) as usize] = a.min(b);
            }
        }
    }
    let labels: Vec<u32> = (0..g.n as u32).map(|v| find(&mut parent, v)).collect();
    Partition::canonical(&labels)
}

/// Modularity of `membership` on `g` with resolution γ (NaN for a graph
/// without weight).
pub fn modularity(g: &Graph, membership: &[u32], resolution: f64) -> f64 {
    let two_m = g.total;
    if two_m <= 0.0 {
        return f64::NAN;
    }
    let k = membership
        .iter()
        .map(|&c| c as usize + 1)
        .max()
        .unwrap_or(0);
    let mut inside = vec![0.0; k];
    let mut strength = vec![0.0; k];
    for v in 0..g.n as u32 {
        let c = membership[v as usize] as usize;
        strength[c] += g.strength(v);
        inside[c] += g.self_w[v as usize];
        for (u, w) in g.neighbours(v) {
            if membership[u as usize] as usize == c {
                inside[c] += w;
            }
        }
    }
    (0..k)
        .map(|c| inside[c] / two_m - resolution * (strength[c] / two_m).powi(2))
        .sum()
}

/// Communities by the Leiden algorithm (see the module documentation).
pub fn leiden(g: &Graph, params: &LeidenParams) -> Partition {
    let mut rng = SplitMix(params.seed);
    let mut best: Vec<u32> = (0..g.n as u32).collect();
    let mut best_q = f64::NEG_INFINITY;
    for _ in 0..params.max_iterations.max(1) {
        let labels = leiden_run(g, &best, params.resolution, &mut rng);
        let q = modularity(
            g,
            &Partition::canonical(&labels).membership,
            params.resolution,
        );
        if q.is_nan() || q <= best_q + 1e-12 {
            if best_q == f64::NEG_INFINITY {
                best = labels;
            }
            break;
        }
        best_q = q;
        best = labels;
    }
    Partition::canonical(&best)
}

/// One Leiden run from an initial partition of `g`; returns labels.
fn leiden_run(g: &Graph, initial: &[u32], gamma: f64, rng: &mut SplitMix) -> Vec<u32> {
    // `node_of[v]`: the aggregate node holding original node v.
    let mut node_of: Vec<u32> = (0..g.n as u32).collect();
    let mut level = g.clone();
    let mut part: Vec<u32> = initial.to_vec();
    loop {
        move_nodes(&level, &mut part, gamma, rng);
        let n_comm = count_labels(&part);
        if n_comm == level.n {
            // Every community is one node: done.
            return node_of.iter().map(|&a| part[a as usize]).collect();
        }
        let refined = refine(&level, &part, gamma, rng);
        // Aggregate on the refined partition; its nodes start in their
        // (unrefined) community. When refinement merged nothing, aggregate
        // on the communities themselves (otherwise the level would repeat).
        let (mut ids, mut n_new) = dense(&refined);
        if n_new == level.n {
            (ids, n_new) = dense(&part);
        }
        let mut next_part = vec![0u32; n_new];
        for v in 0..level.n {
            next_part[ids[v] as usize] = part[v];
        }
        let mut self_w = vec![0.0; n_new];
        let mut list = Vec::with_capacity(level.targets.len());
        for v in 0..level.n as u32 {
            let a = ids[v as usize];
            self_w[a as usize] += level.self_w[v as usize];
            for (u, w) in level.neighbours(v) {
                let b = ids[u as usize];
                if a == b {
                    self_w[a as usize] += w;
                } else {
                    list.push((a, b, w));
                }
            }
        }
        for x in node_of.iter_mut() {
            *x = ids[*x as usize];
        }
        level = Graph::from_directed_list(n_new, list, self_w);
        part = next_part;
    }
}

fn count_labels(labels: &[u32]) -> usize {
    let mut seen: Vec<u32> = labels.to_vec();
    seen.sort_unstable();
    seen.dedup();
    seen.len()
}

/// Labels renumbered densely `0..k` in order of first appearance.
fn dense(labels: &[u32]) -> (Vec<u32>, usize) {
    let mut map: HashMap<u32, u32> = HashMap::new();
    let ids = labels
        .iter()
        .map(|l| {
            let k = map.len() as u32;
            *map.entry(*l).or_insert(k)
        })
        .collect();
    (ids, map.len())
}

/// Fast local moving (queue based). Labels in `part` are in `0..n`.
/// Returns whether any node moved.
fn move_nodes(g: &Graph, part: &mut [u32], gamma: f64, rng: &mut SplitMix) -> bool {
    let n = g.n;
    let two_m = g.total;
    if two_m <= 0.0 {
        return false;
    }
    // Labels may come from a previous level; make them dense in 0..n.
    let (ids, _) = dense(part);
    part.copy_from_slice(&ids);
    let mut comm_strength = vec![0.0; n];
    let mut comm_size = vec![0usize; n];
    for v in 0..n {
        comm_strength[part[v] as usize] += g.strength[v];
        comm_size[part[v] as usize] += 1;
    }
    let mut empty: Vec<u32> = (0..n as u32)
        .filter(|&c| comm_size[c as usize] == 0)
        .collect();
    let mut order: Vec<u32> = (0..n as u32).collect();
    rng.shuffle(&mut order);
    let mut queue: std::collections::VecDeque<u32> = order.into_iter().collect();
    let mut queued = vec![true; n];
    let mut w_to = vec![0.0; n];
    let mut touched: Vec<u32> = Vec::new();
    let mut changed = false;
    while let Some(v) = queue.pop_front() {
        queued[v as usize] = false;
        let kv = g.strength[v as usize];
        let old = part[v as usize];
        for (u, w) in g.neighbours(v) {
            let c = part[u as usize];
            if w_to[c as usize] == 0.0 {
                touched.push(c);
            }
            w_to[c as usize] += w;
        }
        comm_strength[old as usize] -= kv;
        comm_size[old as usize] -= 1;
        let gain = |c: u32, w: f64| w - gamma * kv * comm_strength[c as usize] / two_m;
        let mut best = old;
        let mut best_gain = gain(old, w_to[old as usize]);
        for &c in &touched {
            let q = gain(c, w_to[c as usize]);
            if q > best_gain + 1e-12 {
                best = c;
                best_gain = q;
            }
        }
        if best_gain < -1e-12 {
            // An empty community is better than any (gain 0).
            if comm_size[old as usize] == 0 {
                best = old;
            } else if let Some(e) = empty.pop() {
                best = e;
            }
        }
        for &c in &touched {
            w_to[c as usize] = 0.0;
        }
        touched.clear();
        comm_strength[best as usize] += kv;
        comm_size[best as usize] += 1;
        if best != old {
            if comm_size[old as usize] == 0 {
                empty.push(old);
            }
            part[v as usize] = best;
            changed = true;
            for (u, _) in g.neighbours(v) {
                if !queued[u as usize] && part[u as usize] != best {
                    queued[u as usize] = true;
                    queue.push_back(u);
                }
            }
        }
    }
    changed
}

/// Leiden refinement: inside each community of `part`, merge singletons
/// into well-connected sub-communities. Returns sub-community labels
/// (node ids of a member).
fn refine(g: &Graph, part: &[u32], gamma: f64, rng: &mut SplitMix) -> Vec<u32> {
    let n = g.n;
    let two_m = g.total;
    let mut comm_strength = vec![0.0; n];
    for v in 0..n {
        comm_strength[part[v] as usize] += g.strength[v];
    }
    let mut sub: Vec<u32> = (0..n as u32).collect();
    let mut sub_strength: Vec<f64> = g.strength.clone();
    let mut sub_size = vec![1usize; n];
    // Weight from each sub-community to the rest of its community.
    let mut ext: Vec<f64> = (0..n as u32)
        .map(|v| {
            g.neighbours(v)
                .filter(|&(u, _)| part[u as usize] == part[v as usize])
                .map(|(_, w)| w)
                .sum()
        })
        .collect();
    let mut order: Vec<u32> = (0..n as u32).collect();
    rng.shuffle(&mut order);
    let mut w_to = vec![0.0; n];
    let mut touched: Vec<u32> = Vec::new();
    for v in order {
        let vi = v as usize;
        if sub_size[sub[vi] as usize] != 1 {
            continue;
        }
        let kv = g.strength[vi];
        let ks = comm_strength[part[vi] as usize];
        // v must be well connected to its community.
        if ext[vi] < gamma * kv * (ks - kv) / two_m - 1e-12 {
            continue;
        }
        for (u, w) in g.neighbours(v) {
            if part[u as usize] != part[vi] {
                continue;
            }
            let c = sub[u as usize];
            if w_to[c as usize] == 0.0 {
                touched.push(c);
            }
            w_to[c as usize] += w;
        }
        let mut best = sub[vi];
        let mut best_gain = 0.0;
        for &c in &touched {
            if c == sub[vi] {
                continue;
            }
            let kc = sub_strength[c as usize];
            let well = ext[c as usize] >= gamma * kc * (ks - kc) / two_m - 1e-12;
            if !well {
                continue;
            }
            let q = w_to[c as usize] - gamma * kv * kc / two_m;
            if q >= -1e-12 && (best == sub[vi] || q > best_gain + 1e-12) {
                best = c;
                best_gain = q;
            }
        }
        if best != sub[vi] {
            let own = sub[vi] as usize;
            let b = best as usize;
            ext[b] = ext[b] + ext[own] - 2.0 * w_to[b];
            sub_strength[b] += kv;
            sub_size[b] += 1;
            sub_strength[own] = 0.0;
            sub_size[own] = 0;
            sub[vi] = best;
        }
        for &c in &touched {
            w_to[c as usize] = 0.0;
        }
        touched.clear();
    }
    sub
}

/// A small seeded generator (SplitMix64): the node orders depend on the
/// seed only.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clique(nodes: std::ops::Range<u32>, w: f64) -> Vec<(u32, u32, f64)> {
        let v: Vec<u32> = nodes.collect();
        let mut e = Vec::new();
        for i in 0..v.len() {
            for j in i + 1..v.len() {
                e.push((v[i], v[j], w));
            }
        }
        e
    }

    #[test]
    fn two_triangles_joined_by_one_edge() {
        let mut e = clique(0..3, 1.0);
        e.extend(clique(3..6, 1.0));
        e.push((2, 3, 1.0));
        let g = Graph::from_edges(6, e);
        let p = leiden(&g, &LeidenParams::default());
        assert_eq!(p.count, 2);
        assert_eq!(p.membership, vec![0, 0, 0, 1, 1, 1]);
        // By hand: m = 7, each side has 3 internal edges and strength 7:
        // Q = 2 · (3/7 − (7/14)²) = 6/7 − 1/2 = 5/14.
        assert!((modularity(&g, &p.membership, 1.0) - 5.0 / 14.0).abs() < 1e-12);
        assert_eq!(connected_components(&g).count, 1);
    }

    #[test]
    fn ring_of_cliques_is_cut_at_the_ring() {
        // 8 cliques of 5 nodes, neighbours joined by one edge.
        let (k, s) = (8u32, 5u32);
        let mut e = Vec::new();
        for c in 0..k {
            e.extend(clique(c * s..c * s + s, 1.0));
            e.push((c * s, ((c + 1) % k) * s + 1, 1.0));
        }
        let g = Graph::from_edges((k * s) as usize, e);
        for seed in [1, 2, 3, 99] {
            let p = leiden(
                &g,
                &LeidenParams {
                    seed,
                    ..Default::default()
                },
            );
            assert_eq!(p.count, k as usize, "seed {seed}");
            for c in 0..k {
                let m = p.membership[(c * s) as usize];
                assert!((c * s..c * s + s).all(|v| p.membership[v as usize] == m));
            }
            // By hand: m = 8·10 + 8 = 88; each clique has 10 internal edges
            // and strength 22: Q = 8 · (10/88 − (22/176)²) = 10/11 − 1/8.
            let q = modularity(&g, &p.membership, 1.0);
            assert!((q - (10.0 / 11.0 - 0.125)).abs() < 1e-12, "{q}");
        }
    }

    #[test]
    fn deterministic_for_a_seed_and_resolution_changes_granularity() {
        let mut e = Vec::new();
        for c in 0..6u32 {
            e.extend(clique(c * 4..c * 4 + 4, 2.0));
            e.push((c * 4, ((c + 1) % 6) * 4 + 1, 0.5));
            e.push((c * 4 + 2, ((c + 2) % 6) * 4 + 3, 0.25));
        }
        let g = Graph::from_edges(24, e);
        let p = LeidenParams {
            seed: 7,
            ..Default::default()
        };
        assert_eq!(leiden(&g, &p), leiden(&g, &p));
        let coarse = leiden(
            &g,
            &LeidenParams {
                resolution: 0.05,
                ..p
            },
        );
        let fine = leiden(&g, &p);
        assert!(coarse.count < fine.count, "{} {}", coarse.count, fine.count);
        let q_fine = modularity(&g, &fine.membership, 1.0);
        let singletons: Vec<u32> = (0..24).collect();
        assert!(q_fine > modularity(&g, &singletons, 1.0));
    }

    #[test]
    fn components_and_isolated_nodes() {
        let g = Graph::from_edges(6, [(0, 1, 1.0), (1, 2, 3.0), (4, 5, 1.0), (3, 3, 9.0)]);
        let c = connected_components(&g);
        assert_eq!(c.count, 3);
        assert_eq!(c.membership, vec![0, 0, 0, 2, 1, 1]);
        let l = leiden(&g, &LeidenParams::default());
        // Node 3 has no edge: its own community.
        assert_eq!(l.membership[3], 2);
        assert!(modularity(&Graph::from_edges(2, []), &[0, 1], 1.0).is_nan());
        assert_eq!(
            leiden(&Graph::from_edges(0, []), &LeidenParams::default()).count,
            0
        );
    }

    #[test]
    fn communities_are_connected() {
        // A star of two groups that only touch through a hub: refinement
        // must not leave a community split in two pieces.
        let mut e = clique(0..4, 1.0);
        e.extend(clique(4..8, 1.0));
        e.extend((0..8).map(|v| (8, v, 0.2)));
        let g = Graph::from_edges(9, e);
        let p = leiden(&g, &LeidenParams::default());
        for members in p.members() {
            let set: std::collections::HashSet<u32> = members.iter().copied().collect();
            let mut seen = std::collections::HashSet::from([members[0]]);
            let mut stack = vec![members[0]];
            while let Some(v) = stack.pop() {
                for (u, _) in g.neighbours(v) {
                    if set.contains(&u) && seen.insert(u) {
                        stack.push(u);
                    }
                }
            }
            assert_eq!(seen.len(), members.len());
        }
    }
}

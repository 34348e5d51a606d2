//! Coordination networks: accounts that share the same thing within seconds
//! of each other, again and again.
//!
//! The spine is CooRTweet's (R) two steps, reproduced exactly:
//!
//! - [`shares`]: the input, a compact [`ShareTable`] of
//!   `object, account, content, time` with ids interned to `u32`; built
//!   from canonical posts ([`ShareTable::push_post`], [`ObjectRule`]) or
//! - [`read`]: read straight from a CooRTweet CSV table.
//! - [`coortweet`]: `detect_groups` and `flag_speed_share` — the pairs of
//!   shares of one object within the time window ([`Coordination`]).
//! - [`network`]: `generate_coordinated_network` — the account network,
//!   its weight threshold and subgraphs ([`EdgeTable`], [`Network`]).
//! - [`write`]: the pairs and edges as CSV in CooRTweet's columns.
//! - [`synthetic`]: generated co-retweet shares for benchmarks.
//!
//! ```
//! use pharos_analysis::coordination::{Coordination, CoortweetParams, ShareTable, Subgraph};
//! let mut t = ShareTable::new();
//! for (o, a, c, s) in [("o1", "a", "c1", 0), ("o1", "b", "c2", 5), ("o2", "a", "c3", 100), ("o2", "b", "c4", 101)] {
//!     t.push(o, a, c, s);
//! }
//! let mut run = Coordination::new(&t, &CoortweetParams { time_window: 10, min_participation: 2, ..Default::default() }).unwrap();
//! let (pairs, edges) = run.pairs();
//! assert_eq!(pairs.len(), 2);
//! let net = edges.network(0.5, Subgraph::Full).unwrap();
//! assert_eq!(net.edges[0].full.weight, 2);
//! ```

pub mod communities;
pub mod coortweet;
pub mod directed;
pub mod graphml;
pub mod network;
pub mod read;
pub mod report;
pub mod shares;
pub mod stream;
pub mod synthetic;
pub mod write;

#[cfg(test)]
mod tests;

pub use coortweet::{Coordination, CoordinationError, CoortweetParams, Pair, PairSink, Stats};
pub use network::{
    Edge, EdgeStats, EdgeTable, Network, NetworkError, Node, Subgraph, quantile_type7,
};
pub use read::{ReadError, read_coortweet, read_coortweet_csv};
pub use shares::{Interner, ObjectRule, Share, ShareTable};
pub use write::{PairWriter, format_real, write_edges, write_nodes};

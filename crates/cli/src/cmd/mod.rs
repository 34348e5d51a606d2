//! One module per subcommand: its arguments (clap) and its `run`.

pub mod assess;
pub mod assessment;
pub mod audit;
pub mod claims;
pub mod claims_match;
pub mod coordination;
pub mod demo;
pub mod disarm;
pub mod export;
pub mod import;
pub mod ingest;
pub mod media;
pub mod model;
pub mod narratives;
pub mod prebunk;
pub mod respond;
pub mod serve;
pub mod share;
pub mod simulate;
pub mod stats;
pub mod token;
pub mod watch;
pub mod worker;

pub use pharos_store::Location;

/// Options every command sees.
#[derive(Debug, Clone)]
pub struct Global {
    pub quiet: bool,
    /// No downloads (models): `--offline` or PHAROS_OFFLINE=1.
    pub offline: bool,
}

/// The default store location.
pub const DEFAULT_STORE: &str = "pharos.db";

/// `--store PATH|URL`, shared by commands that use the store.
#[derive(clap::Args, Debug, Clone)]
pub struct StoreArg {
    /// The store: an SQLite file (created when absent by commands that
    /// write), or a PostgreSQL database `postgres://USER@HOST:PORT/DB`
    /// (which must exist; Pharos creates and migrates its tables).
    #[arg(long, value_name = "PATH|URL", default_value = DEFAULT_STORE, env = "PHAROS_STORE")]
    pub store: Location,
}

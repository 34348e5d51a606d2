//! `pharos serve --config FILE`: a TOML file; every key is optional.
//!
//! ```toml
//! listen = "127.0.0.1:8080"        # --listen wins
//! library = "cases/x.library"      # fact-check library (default: beside the store, `pharos claims import`)
//!
//! [ingest]
//! max_body_bytes = 33554432        # larger POST /api/ingest bodies: 413
//! queue = 4                        # batches waiting for the writer; more: 503 + Retry-After
//!
//! [tlp]
//! default = "amber"                # marking of the store's data (posts, narratives, networks, actors, alerts, incidents)
//! orgs = ["acme"]                  # organisations cleared for the default AMBER / AMBER+STRICT
//! people = []                      # people (token ids) cleared for a default RED
//! community = []                   # GREEN community (empty: every partner organisation)
//!
//! [alerts]
//! rules = "rules.toml"             # alert rules (crates/alerts/rules.example.toml); default: the built-in rule
//! webhooks = ["https://hooks.example/pharos"]   # every notification is POSTed to each
//! redirect_allow = []              # internal hosts a webhook redirect may reach (docs/limits.md)
//!
//! [watch]
//! feeds = ["https://example.org/rss"]           # polled inside the server
//! redirect_allow = []              # internal hosts a feed redirect may reach (docs/limits.md)
//! every_s = 300
//!
//! [taxii]                          # the TAXII 2.1 server under /taxii2/ (docs/sharing.md)
//! public_url = "https://pharos.example.org"    # how partners reach this server (default: the request's Host)
//! [[taxii.collections]]            # a collection for partner organisations: the findings they are cleared for
//! title = "Findings for ACME"
//! orgs = ["acme"]
//! max_tlp = "amber"                # at most this TLP (default amber+strict: whatever their clearance allows)
//! id = "a2e4...-uuid"              # optional: default derived from the title
//! [[taxii.pull]]                   # pulled on a schedule, as `pharos share pull` does
//! taxii = "https://partner.example/taxii2/pharos/"
//! collection = "0f3a7c1e-5d2b-4e8a-9c6f-1b4d7e2a9c01"
//! token = "pharos_..."             # or user = "..." and password = "..."
//! every_s = 3600
//! redirect_allow = []              # internal hosts its redirects may reach (docs/limits.md)
//!
//! [bus]                            # replicas of one deployment (docs/deploy.md); `pharos serve --bus` wins
//! url = "nats://127.0.0.1:4222/team"  # live alerts and incidents reach every replica's SSE clients
//! ingest = "bus"                   # POST /api/ingest publishes to the bus for `pharos worker` ("store": this replica stores)
//!
//! [media]
//! root = "exports/telegram"        # the dashboard's thumbnails: the folder `pharos media scan --root` read
//!
//! [incidents]
//! every_s = 30                     # live incidents (and coordination networks) reassessed at most this often when posts arrived
//! window_h = 48                    # each pass reads the posts of this many hours before the newest (docs/server.md)
//! max_span_h = 168                 # … back to the first post of open incidents, at most this far; older incidents freeze
//! prebunk_every_s = 3600           # storylines (prebunk) from a pass over the whole store at most this often
//! prebunk_calendar = "events.csv"  # dated events that can trigger a storyline (`pharos prebunk --calendar`'s format)
//! prebunk_horizon_days = 30        # storylines forecast this many days ahead
//!
//! [analysis]                       # what the live analysis keeps of an unbounded stream (docs/limits.md)
//! members_per_narrative = 50000    # newest posts of a narrative its routes read (packs, matches, clearance)
//! closed_alerts_h = 168            # a closed alert stays listed this many hours of event time
//!
//! [coordination]                   # read but no longer used (2026-12): networks come from the
//!                                  # live incidents' pass, with `pharos assess`'s settings
//! ```

use crate::tlp::{Marking, Tlp};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub listen: Option<String>,
    /// The fact-check library directory (default: `<store dir>/<store stem>.library`).
    pub library: Option<PathBuf>,
    pub ingest: IngestConfig,
    pub tlp: TlpConfig,
    pub alerts: AlertsConfig,
    pub watch: WatchConfig,
    pub coordination: CoordinationConfig,
    pub incidents: IncidentsConfig,
    pub analysis: AnalysisConfig,
    pub taxii: TaxiiConfig,
    pub bus: BusConfig,
    pub media: MediaConfig,
}

/// `[media]`: where the files posts reference live, for the dashboard's
/// thumbnails (the folder `pharos media scan --root` read).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MediaConfig {
    /// References resolve under this folder with the scan's checks (no
    /// absolute paths, no `..`, nothing that resolves outside it); without
    /// it the dashboard shows no thumbnails.
    pub root: Option<PathBuf>,
}

/// The bus between replicas (`pharos serve --bus`, crate `pharos-bus`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BusConfig {
    /// `nats://HOST:PORT[/NAMESPACE]`: what this replica's analysis raises
    /// goes to every replica's SSE clients, and theirs (and the workers'
    /// pipeline leader's alerts) to this one's.
    pub url: Option<String>,
    /// Where `POST /api/ingest` puts posts when there is a bus: `"bus"`
    /// (the default: published to the namespace's stream for `pharos
    /// worker` to store; 503 only when the bus refuses) or `"store"` (this
    /// replica's writer stores them, as without a bus).
    pub ingest: BusIngest,
}

/// `[bus] ingest`: where HTTP ingest goes when there is a bus.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BusIngest {
    #[default]
    Bus,
    Store,
}

/// The live incidents (`crate::incidents::start_live`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IncidentsConfig {
    /// Reassess at most this often while posts arrive (and no more than a
    /// fifth of the time: a pass that takes 20 s waits 100 s for the next).
    pub every_s: u64,
    /// Each pass reads the posts of this many hours before the newest post
    /// (a backlog: passes step half a window at a time until they reach it).
    pub window_h: u64,
    /// A pass reaches back to the first post of the incidents still open,
    /// at most this many hours; an incident with no post in the last
    /// `window_h`, or whose first post is older than this, is frozen: kept
    /// as stored, never recomputed.
    pub max_span_h: u64,
    /// Storylines likely to come back (prebunk, `/prebunk`) need months of
    /// history: a separate pass over the whole store (holding no post)
    /// at start, then at most this often, and no more than a tenth of the time.
    pub prebunk_every_s: u64,
    /// Dated events that can trigger a storyline (elections, summits,
    /// anniversaries): a `pharos prebunk --calendar` file, read at start
    /// (an error stops the server, naming the line) and again before each
    /// storyline pass (an error then keeps the last good calendar).
    pub prebunk_calendar: Option<PathBuf>,
    /// Storylines are forecast this many days ahead.
    pub prebunk_horizon_days: f64,
}

impl Default for IncidentsConfig {
    fn default() -> Self {
        IncidentsConfig {
            every_s: 30,
            window_h: 48,
            max_span_h: 168,
            prebunk_every_s: 3600,
            prebunk_calendar: None,
            prebunk_horizon_days: 30.0,
        }
    }
}

/// `[analysis]`: what the live analysis (`crate::analyst`) keeps, so its
/// memory stays bounded over an unbounded stream (docs/limits.md).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnalysisConfig {
    /// A narrative's routes (its posts, fact-check matches, response pack)
    /// and the clearance filter read its newest this many posts; older
    /// posts still count in its summary (at least 1).
    pub members_per_narrative: usize,
    /// A closed alert stays in the alert list this many hours of event
    /// time after it closed (open alerts always stay).
    pub closed_alerts_h: u64,
}

impl Default for AnalysisConfig {
    fn default() -> Self {
        AnalysisConfig {
            members_per_narrative: 50_000,
            closed_alerts_h: 168,
        }
    }
}

/// `[taxii]`: the TAXII 2.1 server's public address, partner collections and scheduled pulls.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TaxiiConfig {
    pub public_url: Option<String>,
    pub collections: Vec<TaxiiCollection>,
    pub pull: Vec<TaxiiPull>,
}

/// A per-partner collection: the findings the named organisations are
/// cleared for, at most `max_tlp`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaxiiCollection {
    #[serde(default)]
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    pub orgs: Vec<String>,
    #[serde(default = "strictest_shared")]
    pub max_tlp: Tlp,
}

fn strictest_shared() -> Tlp {
    Tlp::AmberStrict
}

/// A remote TAXII collection pulled on a schedule inside `pharos serve`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaxiiPull {
    /// The remote's API root (or discovery) URL.
    pub taxii: String,
    pub collection: String,
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default = "hourly")]
    pub every_s: u64,
    /// Internal hosts a redirect of the remote may lead to (docs/limits.md).
    #[serde(default)]
    pub redirect_allow: Vec<String>,
}

fn hourly() -> u64 {
    3600
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestConfig {
    pub max_body_bytes: usize,
    pub queue: usize,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            max_body_bytes: 32 << 20,
            queue: 4,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlpConfig {
    pub default: Tlp,
    pub orgs: Vec<String>,
    pub people: Vec<String>,
    pub community: Vec<String>,
}

impl Default for TlpConfig {
    fn default() -> Self {
        TlpConfig {
            default: Tlp::Amber,
            orgs: Vec::new(),
            people: Vec::new(),
            community: Vec::new(),
        }
    }
}

impl TlpConfig {
    /// The marking of data that has none of its own.
    pub fn default_marking(&self) -> Marking {
        Marking {
            tlp: self.default,
            orgs: self.orgs.clone(),
            people: self.people.clone(),
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertsConfig {
    pub rules: Option<PathBuf>,
    pub webhooks: Vec<String>,
    /// Internal hosts a webhook's redirect may reach (docs/limits.md).
    pub redirect_allow: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WatchConfig {
    pub feeds: Vec<String>,
    pub every_s: u64,
    /// Internal hosts a feed's redirect may reach (docs/limits.md).
    pub redirect_allow: Vec<String>,
}

impl Default for WatchConfig {
    fn default() -> Self {
        WatchConfig {
            feeds: Vec::new(),
            every_s: 300,
            redirect_allow: Vec::new(),
        }
    }
}

/// `[coordination]`: read so that configurations written before 2026-12
/// still load, and otherwise unused. The server's coordination networks
/// are those of its live incidents (`pharos assess`'s directed + Leiden
/// networks and settings), so the dashboard, the API, incidents and STIX
/// number networks alike; `pharos coordination --method coortweet` still
/// computes CooRTweet networks.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CoordinationConfig {
    pub time_window: i64,
    pub min_participation: u32,
    pub edge_weight: f64,
    pub every_s: u64,
}

impl Default for CoordinationConfig {
    fn default() -> Self {
        CoordinationConfig {
            time_window: 60,
            min_participation: 2,
            edge_weight: 0.5,
            every_s: 60,
        }
    }
}

impl Config {
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read config {}: {e}", path.display()))?;
        Self::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, origin: &str) -> anyhow::Result<Config> {
        let c: Config = toml::from_str(text)
            .map_err(|e| anyhow::anyhow!("config {origin} is not valid: {e}"))?;
        if c.ingest.queue == 0 || c.ingest.max_body_bytes == 0 {
            anyhow::bail!("config {origin}: [ingest] queue and max_body_bytes must be above 0");
        }
        let h = c.incidents.prebunk_horizon_days;
        if !(h.is_finite() && h > 0.0 && h <= 3650.0) {
            anyhow::bail!(
                "config {origin}: [incidents] prebunk_horizon_days takes a number of days above 0 and at most 3650, not {h}"
            );
        }
        let mut c = c;
        for (i, t) in c.taxii.collections.iter_mut().enumerate() {
            if t.orgs.is_empty() {
                anyhow::bail!(
                    "config {origin}: [[taxii.collections]] #{} ({:?}) names no organisation (orgs = [\"acme\"])",
                    i + 1,
                    t.title
                );
            }
            if t.id.trim().is_empty() {
                t.id = pharos_share::stix::ids::stable_uuid("taxii-collection", &t.title);
            }
        }
        for p in &c.taxii.pull {
            if p.every_s == 0 {
                anyhow::bail!("config {origin}: [[taxii.pull]] every_s must be above 0");
            }
        }
        if c.incidents.window_h == 0 {
            anyhow::bail!("config {origin}: [incidents] window_h must be above 0");
        }
        if c.incidents.max_span_h < c.incidents.window_h {
            anyhow::bail!("config {origin}: [incidents] max_span_h must be at least window_h");
        }
        if c.watch.every_s == 0 {
            anyhow::bail!("config {origin}: [watch] every_s must be above 0");
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_storyline_settings_are_read_and_checked() {
        let c = Config::parse(
            "[incidents]\nprebunk_calendar = \"events.csv\"\nprebunk_horizon_days = 90\n",
            "t.toml",
        )
        .unwrap();
        assert_eq!(
            c.incidents.prebunk_calendar,
            Some(PathBuf::from("events.csv"))
        );
        assert_eq!(c.incidents.prebunk_horizon_days, 90.0);
        assert_eq!(Config::default().incidents.prebunk_horizon_days, 30.0);
        for bad in ["0", "-3", "1e9", "nan"] {
            let e = Config::parse(
                &format!("[incidents]\nprebunk_horizon_days = {bad}\n"),
                "t.toml",
            )
            .unwrap_err()
            .to_string();
            assert!(e.contains("prebunk_horizon_days"), "{e}");
        }
    }

    #[test]
    fn a_broken_calendar_stops_the_server_naming_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let cal = dir.path().join("events.csv");
        std::fs::write(&cal, "2026-05-09,Victory Day,yearly\nnot a date,Summit\n").unwrap();
        let e = crate::incidents::read_calendar(&cal)
            .unwrap_err()
            .to_string();
        assert!(e.contains("prebunk_calendar") && e.contains(":2"), "{e}");
        let e = crate::incidents::read_calendar(&dir.path().join("none.csv"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("none.csv"), "{e}");
    }
}

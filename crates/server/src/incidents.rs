//! Incidents: built live ([`start_live`]) and kept in the store as `pharos
//! assess` keeps them (`pharos_assess::load_incidents`): summaries, one
//! incident, its STIX bundle (`pharos_share`) and its Markdown briefing
//! (`pharos_assess::report::md`, the one briefing writer).

use crate::error::{ApiError, ApiResult};
use crate::tlp::Tlp;
use pharos_analysis::coordination::report::CoordinationReport;
use pharos_assess::Incident;
use pharos_store::{AnyStore, Incidents, Location};
use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;

/// An incident in a list.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct IncidentSummary {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub first_seen: String,
    pub last_seen: String,
    pub severity: f64,
    pub confidence: f64,
    pub posts: usize,
    pub accounts: usize,
    /// DISARM T-numbers.
    pub techniques: Vec<String>,
    pub platforms: Vec<String>,
}

impl IncidentSummary {
    pub fn of(i: &Incident) -> Self {
        IncidentSummary {
            id: i.id.clone(),
            title: i.title.clone(),
            summary: i.summary.clone(),
            first_seen: i.first_seen.to_rfc3339(),
            last_seen: i.last_seen.to_rfc3339(),
            severity: i.severity.value,
            confidence: i.confidence.value,
            posts: i.post_count(),
            accounts: i.actors.len(),
            techniques: i.techniques.iter().map(|t| t.t_id.clone()).collect(),
            platforms: i.platforms.keys().cloned().collect(),
        }
    }
}

fn summary_json(i: &Incident) -> String {
    serde_json::to_string(&IncidentSummary::of(i)).unwrap_or_default()
}

/// Sends an `incident` event for each incident new or changed since `known`.
fn announce(
    events: &tokio::sync::broadcast::Sender<crate::analyst::LiveEvent>,
    known: &mut HashMap<String, String>,
    found: &[IncidentSummary],
) {
    for i in found {
        let json = serde_json::to_string(i).unwrap_or_default();
        let change = match known.get(&i.id) {
            None => "new",
            Some(j) if *j != json => "updated",
            Some(_) => continue,
        };
        known.insert(i.id.clone(), json);
        let data = serde_json::json!({"change": change, "incident": i}).to_string();
        // No subscriber is not an error.
        let _ = events.send(crate::analyst::LiveEvent {
            kind: "incident",
            data: data.into(),
        });
    }
}

/// Every stored incident, newest first.
pub fn load<S: Incidents + ?Sized>(store: &S) -> ApiResult<Vec<Incident>> {
    let mut v = pharos_assess::load_incidents(store).map_err(ApiError::internal)?;
    v.sort_by(|a, b| {
        b.first_seen
            .cmp(&a.first_seen)
            .then_with(|| a.id.cmp(&b.id))
    });
    Ok(v)
}

pub fn find<S: Incidents + ?Sized>(store: &S, id: &str) -> ApiResult<Incident> {
    load(store)?
        .into_iter()
        .find(|i| i.id == id)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "no incident {id:?}: the server assesses incidents as posts arrive (and `pharos assess --store ...` finds them too); see GET /api/incidents"
            ))
        })
}

/// The STIX 2.1 bundle of one incident (pharos-share), marked `tlp`.
pub fn stix(i: &Incident, tlp: Tlp) -> serde_json::Value {
    let opts = pharos_share::stix::export::ExportOptions {
        tlp,
        ..Default::default()
    };
    pharos_share::stix::export::export_bundle(std::slice::from_ref(i), &opts).0
}

/// The one-page Markdown briefing of one incident (the briefing writer of
/// `pharos assess`, `pharos_assess::report::md`), headed by its TLP label.
pub fn briefing(i: &Incident, tlp: Tlp) -> String {
    format!(
        "**{}**\n\n{}",
        tlp.label(),
        pharos_assess::report::md::incident_briefing(i)
    )
}

/// How long the live assessment waits between looks at the analysis.
const LOOK_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// Starts the live incidents: a thread that, once the live analysis has
/// read the store and whenever it has analysed new posts since, assesses
/// the store as `pharos assess` does (`pharos_assess::assess_store`, the
/// same stages and settings, claim matches from the store's
/// `claim_matches`, claims named from the fact-check library when there is
/// one) and makes the incidents found the store's incidents
/// (`pharos_assess::replace_incidents`), so `/api/incidents`, the
/// dashboard and exports show them as posts arrive. The same pass gives
/// the coordination networks the dashboard and `/api/networks` show
/// (`Snapshot::coordination`), so their ids are the incidents' `network:<id>`. It runs at most every
/// `[incidents] every_s`, and no more than a fifth of the time (a pass over
/// the whole store grows with it).
///
/// Each incident that a pass finds new, or changed (its summary differs),
/// goes out as an `incident` event on `events` (`/api/alerts/stream`);
/// those already stored when the server started are not announced again.
pub fn start_live(
    store_path: Location,
    config: &crate::config::Config,
    snapshot: std::sync::Arc<std::sync::RwLock<crate::analyst::Snapshot>>,
    events: tokio::sync::broadcast::Sender<crate::analyst::LiveEvent>,
) -> anyhow::Result<()> {
    let every = std::time::Duration::from_secs(config.incidents.every_s);
    let library = config
        .library
        .clone()
        .unwrap_or_else(|| store_path.beside("library"));
    let rules = match &config.alerts.rules {
        Some(p) => pharos_alerts::Rules::load(p)?,
        None => pharos_alerts::Rules::default(),
    };
    // What was announced (or stored before the start): id → summary JSON.
    let mut known: HashMap<String, String> = load(&AnyStore::open_existing(&store_path)?)
        .map_err(|e| anyhow::anyhow!("reading the stored incidents: {}", e.message))?
        .iter()
        .map(|i| (i.id.clone(), summary_json(i)))
        .collect();
    std::thread::Builder::new()
        .name("pharos-incidents".into())
        .spawn(move || {
            let mut done_rowid = 0i64;
            let mut wait = std::time::Duration::ZERO;
            let mut last = std::time::Instant::now();
            loop {
                std::thread::sleep(LOOK_EVERY);
                let analysed = {
                    let s = snapshot.read().unwrap_or_else(|p| p.into_inner());
                    if !s.ready {
                        continue;
                    }
                    s.members.analysed_rowid
                };
                // A first pass once the start-up read is done, even over an
                // empty store (so callers see the live incidents are on).
                if (analysed <= done_rowid && done_rowid > 0) || last.elapsed() < wait {
                    continue;
                }
                let t = std::time::Instant::now();
                let result = assess_live(&store_path, &library, &rules);
                let took = t.elapsed();
                wait = every.max(took * 5);
                last = std::time::Instant::now();
                let now = pharos_core::EventTime(pharos_core::now_ms()).to_rfc3339();
                let mut s = snapshot.write().unwrap_or_else(|p| p.into_inner());
                s.incidents_at = Some(now.clone());
                match result {
                    Ok(live) => {
                        announce(&events, &mut known, &live.found);
                        done_rowid = analysed.max(1);
                        s.incidents_rowid = analysed;
                        s.incidents = live.incidents;
                        s.incidents_error = None;
                        s.prebunk = std::sync::Arc::new(live.prebunk);
                        tracing::info!(
                            "incidents: {} from the posts up to row {analysed} in {:.1} s",
                            live.incidents,
                            took.as_secs_f64()
                        );
                        s.set_networks(live.networks, now);
                    }
                    Err(e) => {
                        tracing::warn!("incidents: {e:#}");
                        s.incidents_error = Some(format!("{e:#}"));
                        s.coordination_error = Some(format!("{e:#}"));
                    }
                }
            }
        })?;
    Ok(())
}

/// What one live assessment found.
struct Live {
    /// Incidents kept.
    incidents: usize,
    /// Their summaries.
    found: Vec<IncidentSummary>,
    /// Its coordination networks, numbered as its incidents name them.
    networks: CoordinationReport,
    /// Its storylines likely to come back, with their briefs.
    prebunk: pharos_assess::prebunk::brief::Prebunk,
}

/// One live assessment of the store.
fn assess_live(
    store_path: &Location,
    library: &std::path::Path,
    rules: &pharos_alerts::Rules,
) -> anyhow::Result<Live> {
    let mut store = AnyStore::open_existing(store_path)?;
    let mut opts = pharos_assess::AssessOptions {
        rules: rules.clone(),
        network_report: true,
        ..Default::default()
    };
    if library.join("claims.jsonl").exists() {
        let lib = pharos_claims::library::Library::open(library)?;
        opts.claims = lib
            .claims()
            .iter()
            .map(pharos_assess::signals::ClaimInfo::of)
            .collect();
    }
    let mut a = pharos_assess::assess_store(&store, &opts)?;
    pharos_assess::replace_incidents(&mut store, &a.incidents)?;
    Ok(Live {
        incidents: a.incidents.len(),
        found: a.incidents.iter().map(IncidentSummary::of).collect(),
        networks: a
            .networks
            .ok_or_else(|| anyhow::anyhow!("the assessment made no network report"))?,
        prebunk: {
            // The storylines themselves are for evaluation: not kept.
            let mut p = std::mem::take(&mut a.prebunk);
            p.lines = Vec::new();
            p
        },
    })
}

//! Incidents: built live ([`start_live`]) and kept in the store as `pharos
//! assess` keeps them (`pharos_assess::load_incidents`): summaries, one
//! incident, its STIX bundle (`pharos_share`) and its Markdown briefing
//! (`pharos_assess::report::md`, the one briefing writer).

use crate::error::{ApiError, ApiResult};
use crate::tlp::Tlp;
use pharos_analysis::coordination::report::CoordinationReport;
use pharos_assess::Incident;
use pharos_core::EventTime;
use pharos_store::{AnyStore, Incidents, Location, PostLog};
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
/// a bounded window of event time as `pharos assess` does
/// (`pharos_assess::live::pass`: the same stages and settings, claim
/// matches from the store's `claim_matches`, claims named from the
/// fact-check library when there is one) and saves the incidents found,
/// so `/api/incidents`, the dashboard and exports show them as posts
/// arrive.
///
/// - Each pass reads the posts of `[incidents] window_h` before its end,
///   back to the first post of the incidents still open (at most
///   `max_span_h`); the others are frozen, kept as stored. A found incident
///   continuing an open one keeps its id; an open one nothing continues is
///   deleted (`pharos_assess::live::reconcile`), in one transaction
///   (`update_incidents`).
/// - Passes end half a window after the previous one until they reach the
///   newest post: a backlog stored faster than passes run is read window
///   by window (the first pass reads the whole window after the oldest post,
///   or ends half a window before the latest stored incident ends).
/// - The same pass gives the coordination networks the dashboard and
///   `/api/networks` show (`Snapshot::coordination`); their ids carry on
///   from pass to pass and are never reused
///   (`pharos_assess::live::NetworkIds`), so they are the incidents'
///   `network:<id>`.
/// - Storylines likely to come back (`/prebunk`) come from a separate pass
///   over the whole store holding no post
///   (`pharos_assess::live::prebunk_store`): at start, then at most every
///   `prebunk_every_s` and no more than a tenth of the time.
///
/// It runs at most every `[incidents] every_s`, and no more than a fifth of
/// the time (measured on the last pass). Each incident that a pass finds new,
/// or changed (its summary differs), goes out as an `incident` event on
/// `events` (`/api/alerts/stream`); those already stored when the server
/// started are not announced again. A backlog read window by window is
/// announced by the pass that reaches its newest post: what stands then,
/// including incidents its earlier passes froze.
pub fn start_live(
    store_path: Location,
    config: &crate::config::Config,
    snapshot: std::sync::Arc<std::sync::RwLock<crate::analyst::Snapshot>>,
    events: tokio::sync::broadcast::Sender<crate::analyst::LiveEvent>,
) -> anyhow::Result<()> {
    let every = std::time::Duration::from_secs(config.incidents.every_s);
    let prebunk_every = std::time::Duration::from_secs(config.incidents.prebunk_every_s);
    let library = config
        .library
        .clone()
        .unwrap_or_else(|| store_path.beside("library"));
    let rules = match &config.alerts.rules {
        Some(p) => pharos_alerts::Rules::load(p)?,
        None => pharos_alerts::Rules::default(),
    };
    let window = pharos_assess::live::LiveOptions::hours(
        config.incidents.window_h,
        config.incidents.max_span_h,
    );
    let prebunk = PrebunkSettings {
        calendar_path: config.incidents.prebunk_calendar.clone(),
        calendar: match &config.incidents.prebunk_calendar {
            Some(p) => read_calendar(p)?,
            None => Default::default(),
        },
        horizon_days: config.incidents.prebunk_horizon_days,
    };
    let store = AnyStore::open_existing(&store_path)?;
    let stored =
        load(&store).map_err(|e| anyhow::anyhow!("reading the stored incidents: {}", e.message))?;
    // What was announced (or stored before the start): id → summary JSON.
    let known: HashMap<String, String> = stored
        .iter()
        .map(|i| (i.id.clone(), summary_json(i)))
        .collect();
    let latest = stored.iter().map(|i| i.last_seen).max();
    let ids = pharos_assess::live::NetworkIds::resume(&stored, &stored);
    let done = latest.map(|t| EventTime(t.millis().saturating_sub(window.window_ms)));
    let mut live = LiveIncidents {
        store,
        library,
        rules,
        prebunk,
        window,
        ids,
        done,
        oldest: None,
        total: stored.len(),
        stored: Vec::new(),
        known,
        unannounced: HashMap::new(),
        events,
        snapshot: snapshot.clone(),
    };
    live.keep(stored);
    std::thread::Builder::new()
        .name("pharos-incidents".into())
        .spawn(move || {
            let mut done_rowid = 0i64;
            let mut wait = std::time::Duration::ZERO;
            let mut last = std::time::Instant::now();
            let mut prebunk_at: Option<(std::time::Instant, std::time::Duration)> = None;
            loop {
                std::thread::sleep(LOOK_EVERY);
                let analysed = {
                    let s = snapshot.read().unwrap_or_else(|p| p.into_inner());
                    if !s.ready {
                        continue;
                    }
                    s.members.analysed_rowid
                };
                let prebunk_due = prebunk_at
                    .is_none_or(|(at, took)| at.elapsed() >= prebunk_every.max(took * 10));
                if prebunk_due {
                    let t = std::time::Instant::now();
                    live.prebunk();
                    prebunk_at = Some((std::time::Instant::now(), t.elapsed()));
                }
                // A first pass once the start-up read is done, even over an
                // empty store (so callers see the live incidents are on).
                if (analysed <= done_rowid && done_rowid > 0) || last.elapsed() < wait {
                    continue;
                }
                let took = live.catch_up(analysed);
                wait = every.max(took * 5);
                last = std::time::Instant::now();
                done_rowid = analysed.max(1);
            }
        })?;
    Ok(())
}

/// The live incidents' state between passes.
struct LiveIncidents {
    /// Opened once, at start.
    store: AnyStore,
    library: std::path::PathBuf,
    rules: pharos_alerts::Rules,
    prebunk: PrebunkSettings,
    window: pharos_assess::live::LiveOptions,
    ids: pharos_assess::live::NetworkIds,
    /// The end of the last pass (event time, exclusive).
    done: Option<EventTime>,
    /// The oldest post, read once for the first pass.
    oldest: Option<EventTime>,
    /// The stored incidents a pass can still reconcile with: those whose
    /// last post is within `max_span` of the last pass's end (older ones
    /// share no post with any later window). Read from the store at start,
    /// then kept up to date with what each pass saves and deletes.
    stored: Vec<Incident>,
    /// Incidents stored (all of them).
    total: usize,
    /// What was announced: id → summary JSON (the open incidents').
    known: HashMap<String, String>,
    /// Incidents a catch-up pass saved and no pass has announced yet.
    unannounced: HashMap<String, IncidentSummary>,
    events: tokio::sync::broadcast::Sender<crate::analyst::LiveEvent>,
    snapshot: std::sync::Arc<std::sync::RwLock<crate::analyst::Snapshot>>,
}

/// What the storyline pass forecasts with (`[incidents] prebunk_*`).
struct PrebunkSettings {
    calendar_path: Option<std::path::PathBuf>,
    /// The last calendar read without error.
    calendar: pharos_assess::prebunk::Calendar,
    horizon_days: f64,
}

/// A calendar file (`pharos prebunk --calendar`'s format); errors name the
/// file and line.
pub(crate) fn read_calendar(
    path: &std::path::Path,
) -> anyhow::Result<pharos_assess::prebunk::Calendar> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("[incidents] prebunk_calendar {}: {e}", path.display()))?;
    pharos_assess::prebunk::Calendar::parse(&text, &path.display().to_string())
        .map_err(|e| anyhow::anyhow!("[incidents] prebunk_calendar: {e}"))
}

/// Hands the memory the allocator holds free back to the system (glibc
/// keeps what a pass freed in its per-thread arenas, and process RSS grew
/// pass after pass while the bytes in use stayed flat: docs/BENCHMARKS.md).
fn return_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free pages of the allocator's own
    // arenas; it reads no pointer of ours.
    unsafe {
        libc::malloc_trim(0);
    }
}

impl LiveIncidents {
    fn options(&self) -> anyhow::Result<pharos_assess::AssessOptions> {
        let mut opts = pharos_assess::AssessOptions {
            rules: self.rules.clone(),
            network_report: true,
            ..Default::default()
        };
        if self.library.join("claims.jsonl").exists() {
            let lib = pharos_claims::library::Library::open(&self.library)?;
            opts.claims = lib
                .claims()
                .iter()
                .map(pharos_assess::signals::ClaimInfo::of)
                .collect();
        }
        Ok(opts)
    }

    /// Passes until the newest post (analysed up to row `analysed`) is
    /// read; returns how long the last one took.
    fn catch_up(&mut self, analysed: i64) -> std::time::Duration {
        loop {
            let t = std::time::Instant::now();
            let result = self.step();
            return_free_memory();
            let took = t.elapsed();
            let now = EventTime(pharos_core::now_ms()).to_rfc3339();
            let mut s = self.snapshot.write().unwrap_or_else(|p| p.into_inner());
            s.incidents_at = Some(now.clone());
            match result {
                Ok(step) => {
                    s.incidents = step.stored;
                    s.incidents_error = None;
                    if let Some(n) = step.networks {
                        s.set_networks(n, now);
                    }
                    if let Some((since, end)) = step.window {
                        tracing::info!(
                            "incidents: {} found in [{}, {}), {} deleted (open, not continued), {} stored, in {:.1} s",
                            step.found,
                            since.to_rfc3339(),
                            end.to_rfc3339(),
                            step.deleted,
                            step.stored,
                            took.as_secs_f64()
                        );
                    }
                    if step.reached {
                        s.incidents_rowid = analysed;
                        return took;
                    }
                }
                Err(e) => {
                    tracing::warn!("incidents: {e:#}");
                    s.incidents_error = Some(format!("{e:#}"));
                    s.coordination_error = Some(format!("{e:#}"));
                    return took;
                }
            }
        }
    }

    /// Keeps of `stored` those a later pass can reconcile with (see
    /// [`LiveIncidents::stored`]).
    fn keep(&mut self, stored: Vec<Incident>) {
        let floor = self.done.map_or(i64::MIN, |d| {
            d.millis().saturating_sub(self.window.max_span_ms)
        });
        self.stored = stored
            .into_iter()
            .filter(|i| i.last_seen.millis() >= floor)
            .collect();
    }

    /// One pass: the window ending half a window after the last one (or at
    /// the newest post), saved and announced.
    fn step(&mut self) -> anyhow::Result<Step> {
        // The newest post up to the clock's horizon: one dated later would
        // move every window past the other posts (and delete the open
        // incidents nothing continued).
        let horizon = pharos_core::live_horizon_ms();
        let Some(newest) = self.store.newest_time_ms(horizon)?.map(EventTime) else {
            return Ok(Step {
                stored: self.total,
                reached: true,
                ..Default::default()
            });
        };
        if self.done.is_none() && self.oldest.is_none() {
            self.oldest = self
                .store
                .posts_in_time_order(i64::MAX, (i64::MIN, i64::MIN), 1)?
                .first()
                .map(|(_, p)| p.time);
        }
        let end = self
            .window
            .next_end(self.done, self.oldest.unwrap_or(newest), newest);
        let opts = self.options()?;
        let pass = pharos_assess::live::pass(
            &self.store,
            &opts,
            &self.window,
            &self.stored,
            &mut self.ids,
            end,
        )?;
        let r = &pass.reconciled;
        pharos_assess::update_incidents(&mut self.store, &r.save, &r.delete)?;
        self.done = Some(end);
        let reached = end.millis() > newest.millis();
        // A backlog is read window by window, and the incidents of its
        // first windows can change or go when the next pass reads more:
        // only the pass that reaches the newest post announces (what
        // stands then); the passes of a stream as it arrives all do.
        for d in &r.delete {
            self.unannounced.remove(d);
        }
        if reached {
            let mut found: Vec<IncidentSummary> = r.save.iter().map(IncidentSummary::of).collect();
            // Those a catch-up pass saved and a later one froze stand too.
            for i in r.save.iter() {
                self.unannounced.remove(&i.id);
            }
            found.extend(self.unannounced.drain().map(|(_, i)| i));
            announce(&self.events, &mut self.known, &found);
        } else {
            self.unannounced.extend(
                r.save
                    .iter()
                    .map(|i| (i.id.clone(), IncidentSummary::of(i))),
            );
        }
        // Only open incidents change: the others are never announced again.
        let open: std::collections::HashSet<&str> = r.save.iter().map(|i| i.id.as_str()).collect();
        self.known.retain(|id, _| open.contains(id.as_str()));
        // The stored incidents after the update: those deleted go (all were
        // open, so kept here), those saved replace or join them.
        let kept: std::collections::HashSet<&str> =
            self.stored.iter().map(|i| i.id.as_str()).collect();
        let deleted = r
            .delete
            .iter()
            .filter(|d| kept.contains(d.as_str()))
            .count();
        let new = r
            .save
            .iter()
            .filter(|i| !kept.contains(i.id.as_str()))
            .count();
        self.total = (self.total + new).saturating_sub(deleted);
        let gone: std::collections::HashSet<&str> = r
            .delete
            .iter()
            .map(String::as_str)
            .chain(open.iter().copied())
            .collect();
        let mut stored: Vec<Incident> = std::mem::take(&mut self.stored)
            .into_iter()
            .filter(|i| !gone.contains(i.id.as_str()))
            .collect();
        stored.extend(r.save.iter().cloned());
        self.keep(stored);
        Ok(Step {
            found: r.save.len(),
            deleted: r.delete.len(),
            stored: self.total,
            networks: Some(
                pass.assessment
                    .networks
                    .ok_or_else(|| anyhow::anyhow!("the assessment made no network report"))?,
            ),
            window: Some((pass.since, pass.end)),
            reached,
        })
    }

    /// Storylines likely to come back, from the whole store (holding no
    /// post), linked to the stored incidents.
    fn prebunk(&mut self) {
        if let Some(p) = &self.prebunk.calendar_path {
            // Edits apply at the next pass; a broken file keeps the last
            // good calendar.
            match read_calendar(p) {
                Ok(c) => self.prebunk.calendar = c,
                Err(e) => tracing::warn!("{e:#}; the last calendar read is used"),
            }
        }
        let result = (|| -> anyhow::Result<pharos_assess::prebunk::brief::Prebunk> {
            // Every stored incident (the briefs link to them): read for this
            // pass only, at most every `prebunk_every_s`.
            let stored = pharos_assess::load_incidents(&self.store)?;
            let mut opts = self.options()?;
            opts.prebunk.calendar = self.prebunk.calendar.clone();
            opts.prebunk.horizon_days = self.prebunk.horizon_days;
            Ok(pharos_assess::live::prebunk_store(
                &self.store,
                &stored,
                &opts.claims,
                &opts,
            )?)
        })();
        return_free_memory();
        match result {
            Ok(mut p) => {
                // The storylines themselves are for evaluation: not kept.
                p.lines = Vec::new();
                let mut s = self.snapshot.write().unwrap_or_else(|p| p.into_inner());
                s.prebunk = std::sync::Arc::new(p);
            }
            Err(e) => tracing::warn!("prebunk: {e:#}"),
        }
    }
}

/// What one live pass did.
#[derive(Default)]
struct Step {
    /// Incidents it found (saved).
    found: usize,
    /// Open incidents it deleted (nothing it found continues them).
    deleted: usize,
    /// Incidents stored after it.
    stored: usize,
    /// Its coordination networks, numbered as its incidents name them.
    networks: Option<CoordinationReport>,
    /// The event time it read.
    window: Option<(EventTime, EventTime)>,
    /// It read up to the newest post.
    reached: bool,
}

//! The streaming burst detector: one baseline and one automaton per entity.

use super::alert::{Alert, SeverityTerms, SeverityWeights, explain};
use super::baseline::{Level, Profiles};
use super::kleinberg::{Automaton, KleinbergParams};
use super::{EntityKind, Observation};
use ahash::{AHashMap, AHashSet};
use pharos_core::EventTime;

/// Most empty bins stepped through when an entity comes back after a gap;
/// after that many the automaton is settled in state 0 anyway.
pub const MAX_GAP_STEPS: i64 = 64;

const HOUR_MS: f64 = 3_600_000.0;
/// Observations of the current and previous bin kept per entity, so that a
/// burst's first posts count in its actors and evidence.
const RECENT_CAP: usize = 16;
/// Platform and language names interned (beyond this they are "other").
const MAX_NAMES: usize = 1024;

/// Detector settings. Every default is documented in `docs/early-warning.md`.
#[derive(Clone, Debug, PartialEq)]
pub struct BurstConfig {
    /// Bin length in seconds (default 120).
    pub bin_s: u32,
    pub kleinberg: KleinbergParams,
    /// Automaton state at which a burst starts (default 2: nine times the baseline).
    pub open_level: u8,
    /// Posts a burst needs before its alert opens (default 8).
    pub min_volume: u64,
    /// Distinct actors a burst needs before its alert opens (default 5).
    pub min_actors: u64,
    /// Lowest expected rate, posts an hour (default 2): a new or sparse
    /// entity needs several posts within minutes to burst.
    pub floor_per_hour: f64,
    /// Time constant of the entity's baseline rate, hours (default 12).
    pub tau_h: f64,
    /// Hours of pseudo-evidence at the floor rate a new entity starts with
    /// (default 2): its baseline moves from the floor to its own rate as
    /// it ages, instead of chasing its first minutes.
    pub prior_h: f64,
    /// Weight of observations inside a burst in the baseline (default
    /// 0.25), so that a burst does not raise its own bar at once but a
    /// lasting new level is learnt.
    pub burst_adaptation: f64,
    /// Calm bins (state 0) after which an open burst closes (default 5). A
    /// burst opens at `open_level` and lasts while the state is above 0.
    pub close_after_bins: u32,
    /// An entity idle this long (hours of event time) is forgotten (default 48).
    pub horizon_h: f64,
    /// Most live entities (default 250,000); see the module docs for eviction.
    pub max_entities: usize,
    /// Post ids kept as evidence per burst (default 50).
    pub evidence_posts: usize,
    /// Distinct actors tracked exactly per burst (default 100,000); beyond, counts saturate.
    pub max_burst_actors: usize,
    pub weights: SeverityWeights,
}

impl Default for BurstConfig {
    fn default() -> Self {
        BurstConfig {
            bin_s: 120,
            kleinberg: KleinbergParams::default(),
            open_level: 2,
            min_volume: 8,
            min_actors: 5,
            floor_per_hour: 2.0,
            tau_h: 12.0,
            prior_h: 2.0,
            burst_adaptation: 0.25,
            close_after_bins: 5,
            horizon_h: 48.0,
            max_entities: 250_000,
            evidence_posts: 50,
            max_burst_actors: 100_000,
            weights: SeverityWeights::default(),
        }
    }
}

/// What the detector reports.
#[derive(Clone, Debug, PartialEq)]
pub enum AlertEvent {
    /// A burst met the minimum volume and actors: a new alert.
    Opened(Alert),
    /// The burst went on for another bin (new volume, severity, ...).
    Updated(Alert),
    /// The burst is over; `closed_at` is set.
    Closed(Alert),
}

impl AlertEvent {
    pub fn alert(&self) -> &Alert {
        match self {
            AlertEvent::Opened(a) | AlertEvent::Updated(a) | AlertEvent::Closed(a) => a,
        }
    }
}

/// Counters for monitoring.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DetectorStats {
    pub observations: u64,
    pub live_entities: usize,
    pub open_bursts: usize,
    pub alerts_opened: u64,
    pub expired: u64,
    pub evicted: u64,
    /// Observations older than their entity's current bin (counted in the
    /// current bin, never dropped).
    pub late: u64,
}

#[derive(Clone, Debug)]
struct Recent {
    ms: i64,
    actor: u64,
    flags: u8,
    platform: u16,
    lang: u16,
    post: Box<str>,
}

#[derive(Debug)]
struct Burst {
    start_ms: i64,
    baseline_per_hour: f64,
    opened: Option<(i64, String)>,
    volume: u64,
    last_ms: i64,
    actors: AHashMap<u64, u8>,
    flagged: u64,
    coordinated: u64,
    suspicious: u64,
    platforms: Vec<u16>,
    langs: Vec<u16>,
    evidence: Vec<Box<str>>,
    max_level: u8,
    emitted_volume: u64,
    calm: u32,
}

#[derive(Debug)]
struct Entity {
    kind: EntityKind,
    key: Box<str>,
    profile: u16,
    first_seen: i64,
    last_seen: i64,
    level: Level,
    /// Deseasonalised baseline (posts an hour) at the start of the current
    /// bin: the bin is judged against what was known before it.
    base: f32,
    bin: i64,
    count: u32,
    auto: Automaton,
    recent: Vec<Recent>,
    burst: Option<Box<Burst>>,
}

/// The streaming detector. See the module docs.
pub struct BurstDetector {
    cfg: BurstConfig,
    bin_ms: i64,
    tau_ms: f64,
    index: Vec<AHashMap<Box<str>, u32>>,
    slots: Vec<Option<Entity>>,
    free: Vec<u32>,
    open: AHashSet<u32>,
    profiles: Profiles,
    names: Vec<Box<str>>,
    name_ids: AHashMap<Box<str>, u16>,
    now: i64,
    next_advance_bin: i64,
    next_sweep: i64,
    stats: DetectorStats,
}

/// FNV-1a, 64 bits: stable across runs (alert ids) and cheap (actor sets).
fn fnv(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl BurstDetector {
    pub fn new(cfg: BurstConfig) -> BurstDetector {
        let bin_ms = cfg.bin_s.max(1) as i64 * 1000;
        let tau_ms = cfg.tau_h.max(1e-3) * HOUR_MS;
        BurstDetector {
            bin_ms,
            tau_ms,
            index: (0..EntityKind::ALL.len())
                .map(|_| AHashMap::new())
                .collect(),
            slots: Vec::new(),
            free: Vec::new(),
            open: AHashSet::new(),
            profiles: Profiles::default(),
            names: vec!["other".into()],
            name_ids: AHashMap::new(),
            now: i64::MIN,
            next_advance_bin: i64::MIN,
            next_sweep: i64::MIN,
            stats: DetectorStats::default(),
            cfg,
        }
    }

    pub fn config(&self) -> &BurstConfig {
        &self.cfg
    }

    pub fn stats(&self) -> DetectorStats {
        DetectorStats {
            live_entities: self.slots.len() - self.free.len(),
            open_bursts: self.open.len(),
            ..self.stats
        }
    }

    fn name_id(&mut self, s: &str) -> u16 {
        if let Some(&i) = self.name_ids.get(s) {
            return i;
        }
        if self.names.len() >= MAX_NAMES {
            return 0;
        }
        let i = self.names.len() as u16;
        self.names.push(s.into());
        self.name_ids.insert(s.into(), i);
        i
    }

    /// Expected posts an hour for an entity at `ms` in its current bin (floored).
    fn expected_per_hour(&self, e: &Entity, ms: i64) -> f64 {
        let f = self.profiles.factor(e.profile, ms);
        (e.base as f64 * f).max(self.cfg.floor_per_hour)
    }

    /// The entity's deseasonalised rate at `ms`. An exponentially weighted
    /// rate started at zero underestimates for about `tau`; dividing by
    /// `1 − exp(−age/tau)` removes that bias but would make a young entity's
    /// baseline chase its own burst. So the estimate is shrunk towards the
    /// floor with `prior_h` hours of pseudo-evidence:
    /// `(events_eff + floor · prior) / (hours_eff + prior)`.
    fn base_at(&self, e: &Entity, ms: i64) -> f32 {
        let age = (ms - e.first_seen).max(0) as f64;
        let tau_h = self.tau_ms / HOUR_MS;
        let hours_eff = tau_h * (1.0 - (-age / self.tau_ms).exp());
        let events_eff = e.level.at(ms, self.tau_ms) * tau_h;
        let prior = self.cfg.prior_h.max(0.0);
        ((events_eff + self.cfg.floor_per_hour * prior) / (hours_eff + prior).max(1e-9)) as f32
    }

    /// Feeds one observation; alert events are appended to `out`.
    pub fn observe(&mut self, obs: &Observation<'_>, out: &mut Vec<AlertEvent>) {
        let ms = obs.time.millis();
        self.stats.observations += 1;
        if ms > self.now {
            self.now = ms;
            let b = ms.div_euclid(self.bin_ms);
            if b >= self.next_advance_bin {
                // Close silent bursts up to the previous bin.
                if self.next_advance_bin != i64::MIN {
                    self.advance_to_bin(b, out);
                }
                self.next_advance_bin = b + 1;
            }
            if ms >= self.next_sweep {
                if self.next_sweep != i64::MIN {
                    self.expire(ms);
                }
                self.next_sweep = ms + HOUR_MS as i64;
            }
        }
        let profile = self.profiles.id(obs.lang);
        self.profiles.observe(profile, ms);
        let platform = self.name_id(obs.platform);
        let lang = match obs.lang {
            Some(l) if !l.is_empty() => self.name_id(l),
            _ => 0,
        };
        let slot = self.slot_for(obs.kind, &obs.key, ms, profile);
        let bin = ms.div_euclid(self.bin_ms);

        // Close the bins before this one.
        let mut e = self.slots[slot as usize].take().expect("live slot");
        if bin > e.bin {
            self.roll(&mut e, slot, bin, out);
        } else if bin < e.bin {
            self.stats.late += 1;
        }
        e.profile = profile;
        e.last_seen = e.last_seen.max(ms);
        e.count += 1;
        // The post id is copied only where it is kept (the entity's
        // recent posts, a burst's evidence): most observations keep it
        // nowhere.
        let mut recent = Recent {
            ms,
            actor: fnv(obs.actor),
            flags: obs.flags.0,
            platform,
            lang,
            post: Box::default(),
        };
        let factor = self.profiles.factor(profile, ms);
        let w = if e.burst.as_ref().is_some_and(|b| b.opened.is_some()) {
            self.cfg.burst_adaptation
        } else {
            1.0
        } / factor;
        e.level.add(ms, w, self.tau_ms);

        if let Some(b) = e.burst.as_mut() {
            add_to_burst(&self.cfg, b, &recent, obs.post);
        } else {
            // Would this bin, as it stands, put the entity in a burst?
            let mid = e.bin * self.bin_ms + self.bin_ms / 2;
            let rate0 = self.expected_per_hour(&e, mid) * self.bin_ms as f64 / HOUR_MS;
            let peek = e.auto.peek(&self.cfg.kleinberg, rate0, e.count, e.bin);
            if peek.state() >= self.cfg.open_level.max(1) as usize {
                let start_bin = peek.run_start().unwrap_or(e.bin);
                let mut b = self.new_burst(&e, start_bin, ms, peek.state());
                for r in &e.recent {
                    if r.ms >= start_bin * self.bin_ms {
                        add_to_burst(&self.cfg, &mut b, r, &r.post);
                    }
                }
                add_to_burst(&self.cfg, &mut b, &recent, obs.post);
                e.burst = Some(b);
                self.open.insert(slot);
            }
        }
        if e.recent.len() < RECENT_CAP {
            recent.post = obs.post.into();
            e.recent.push(recent);
        }
        // Open the alert once the burst is big enough.
        if let Some(mut b) = e.burst.take() {
            if b.opened.is_none()
                && b.volume >= self.cfg.min_volume
                && b.actors.len() as u64 >= self.cfg.min_actors
            {
                let id = format!("{}:{:016x}:{}", e.kind.as_str(), fnv(&e.key), ms);
                b.opened = Some((ms, id));
                b.emitted_volume = b.volume;
                self.stats.alerts_opened += 1;
                let a = self.make_alert(&e, &b, ms, None);
                out.push(AlertEvent::Opened(a));
            }
            e.burst = Some(b);
        }
        self.slots[slot as usize] = Some(e);
    }

    fn new_burst(&self, e: &Entity, start_bin: i64, ms: i64, level: usize) -> Box<Burst> {
        let start_ms = e
            .recent
            .iter()
            .map(|r| r.ms)
            .filter(|&t| t >= start_bin * self.bin_ms)
            .min()
            .unwrap_or(ms)
            .min(ms);
        Box::new(Burst {
            start_ms,
            baseline_per_hour: self.expected_per_hour(e, start_ms),
            opened: None,
            volume: 0,
            last_ms: ms,
            actors: AHashMap::new(),
            flagged: 0,
            coordinated: 0,
            suspicious: 0,
            platforms: Vec::new(),
            langs: Vec::new(),
            evidence: Vec::new(),
            max_level: level as u8,
            emitted_volume: 0,
            calm: 0,
        })
    }

    /// Finds or creates the entity's slot.
    fn slot_for(&mut self, kind: EntityKind, key: &str, ms: i64, profile: u16) -> u32 {
        if let Some(&s) = self.index[kind.index()].get(key) {
            return s;
        }
        if self.slots.len() - self.free.len() >= self.cfg.max_entities.max(1) {
            self.evict(ms);
        }
        let e = Entity {
            kind,
            key: key.into(),
            profile,
            first_seen: ms,
            last_seen: ms,
            level: Level::default(),
            base: 0.0,
            bin: ms.div_euclid(self.bin_ms),
            count: 0,
            auto: Automaton::new(),
            recent: Vec::new(),
            burst: None,
        };
        let s = match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = Some(e);
                s
            }
            None => {
                self.slots.push(Some(e));
                (self.slots.len() - 1) as u32
            }
        };
        self.index[kind.index()].insert(key.into(), s);
        s
    }

    /// Closes the entity's bins up to (not including) `bin`.
    fn roll(&mut self, e: &mut Entity, slot: u32, bin: i64, out: &mut Vec<AlertEvent>) {
        let p = self.cfg.kleinberg;
        let mut b = e.bin;
        let mut n = e.count;
        let mut steps = 0;
        while b < bin {
            let bin_start = b * self.bin_ms;
            if b != e.bin {
                e.base = self.base_at(e, bin_start);
            }
            let rate0 = self.expected_per_hour(e, bin_start + self.bin_ms / 2) * self.bin_ms as f64
                / HOUR_MS;
            e.auto.step(&p, rate0, n, b);
            n = 0;
            let state = e.auto.state();
            self.after_bin(e, slot, b, state, out);
            b += 1;
            steps += 1;
            if (steps >= MAX_GAP_STEPS || e.auto.is_settled(&p)) && e.burst.is_none() {
                break;
            }
        }
        e.bin = bin;
        e.count = 0;
        e.base = self.base_at(e, bin * self.bin_ms);
        let keep_from = (bin - 1) * self.bin_ms;
        e.recent.retain(|r| r.ms >= keep_from);
    }

    /// Burst bookkeeping after bin `b` closed in `state`.
    fn after_bin(
        &mut self,
        e: &mut Entity,
        slot: u32,
        b: i64,
        state: usize,
        out: &mut Vec<AlertEvent>,
    ) {
        let open_level = self.cfg.open_level.max(1) as usize;
        if state >= open_level {
            if e.burst.is_none() {
                let start_bin = e.auto.run_start().unwrap_or(b);
                let mut burst = self.new_burst(e, start_bin, (b + 1) * self.bin_ms - 1, state);
                for r in &e.recent {
                    if r.ms >= start_bin * self.bin_ms {
                        add_to_burst(&self.cfg, &mut burst, r, &r.post);
                    }
                }
                e.burst = Some(burst);
                self.open.insert(slot);
            }
            let burst = e.burst.as_mut().unwrap();
            burst.calm = 0;
            burst.max_level = burst.max_level.max(state as u8);
            if burst.opened.is_some() && burst.volume > burst.emitted_volume {
                burst.emitted_volume = burst.volume;
                let burst = e.burst.take().unwrap();
                let a = self.make_alert(e, &burst, (b + 1) * self.bin_ms - 1, None);
                e.burst = Some(burst);
                out.push(AlertEvent::Updated(a));
            }
        } else if state >= 1 && e.burst.is_some() {
            // Still above normal: the burst goes on at a lower level
            // (Kleinberg's hierarchy: the level-1 run contains the level-2
            // one), so one surge is one alert.
            let burst = e.burst.as_mut().unwrap();
            burst.calm = 0;
        } else if let Some(burst) = e.burst.as_mut() {
            burst.calm += 1;
            if burst.opened.is_none() || burst.calm >= self.cfg.close_after_bins.max(1) {
                let burst = e.burst.take().unwrap();
                self.open.remove(&slot);
                if burst.opened.is_some() {
                    // Ended where the calm began.
                    let end = (b + 1 - burst.calm as i64) * self.bin_ms;
                    let end = end.max(burst.start_ms);
                    let a = self.make_alert(e, &burst, end, Some(EventTime(end)));
                    out.push(AlertEvent::Closed(a));
                }
            }
        }
    }

    fn make_alert(&self, e: &Entity, b: &Burst, updated: i64, closed: Option<EventTime>) -> Alert {
        let (opened_ms, id) = b.opened.clone().unwrap_or((updated, String::new()));
        let dur = (b.last_ms - b.start_ms).max(self.bin_ms) as f64;
        let rate = b.volume as f64 * HOUR_MS / dur;
        let growth = rate / b.baseline_per_hour.max(1e-9);
        let actors = b.actors.len() as u64;
        let share = |n: u64| {
            if actors == 0 {
                0.0
            } else {
                n as f64 / actors as f64
            }
        };
        let name = |i: &u16| self.names[*i as usize].to_string();
        let platforms: Vec<String> = b.platforms.iter().map(name).collect();
        let languages: Vec<String> = b.langs.iter().filter(|&&l| l != 0).map(name).collect();
        let terms = SeverityTerms::compute(
            &self.cfg.weights,
            growth,
            b.volume,
            actors,
            share(b.flagged),
            platforms.len(),
            languages.len(),
        );
        let mut a = Alert {
            id,
            entity_kind: e.kind,
            entity: e.key.to_string(),
            opened_at: EventTime(opened_ms),
            closed_at: closed,
            lead_time_s: (opened_ms - b.start_ms).max(0) as f64 / 1000.0,
            severity: terms.severity(&self.cfg.weights),
            explanation: String::new(),
            burst_start: EventTime(b.start_ms),
            first_seen: EventTime(e.first_seen),
            since_first_seen_s: (opened_ms - e.first_seen).max(0) as f64 / 1000.0,
            updated_at: EventTime(updated.max(b.last_ms)),
            volume: b.volume,
            rate_per_hour: rate,
            baseline_per_hour: b.baseline_per_hour,
            growth_rate: growth,
            level: b.max_level,
            distinct_actors: actors,
            flagged_actor_share: share(b.flagged),
            coordinated_actor_share: share(b.coordinated),
            suspicious_actor_share: share(b.suspicious),
            platforms,
            languages,
            severity_terms: terms,
            evidence_posts: b.evidence.iter().map(|s| s.to_string()).collect(),
            claim: None,
        };
        a.explanation = explain(&a, &self.cfg.weights);
        a
    }

    /// Steps entities with open bursts through the bins before `bin`.
    fn advance_to_bin(&mut self, bin: i64, out: &mut Vec<AlertEvent>) {
        let mut slots: Vec<u32> = self.open.iter().copied().collect();
        slots.sort_unstable();
        for s in slots {
            let Some(mut e) = self.slots[s as usize].take() else {
                continue;
            };
            if e.bin < bin {
                self.roll(&mut e, s, bin, out);
            }
            self.slots[s as usize] = Some(e);
        }
    }

    /// Tells the detector that event time has reached `watermark` (no more
    /// observations before it): bursts that went quiet are closed. The
    /// detector does this by itself as observations arrive; call it when
    /// the input pauses.
    pub fn advance(&mut self, watermark: EventTime, out: &mut Vec<AlertEvent>) {
        let b = watermark.millis().div_euclid(self.bin_ms);
        self.advance_to_bin(b, out);
        self.now = self.now.max(watermark.millis());
        self.next_advance_bin = self.next_advance_bin.max(b + 1);
    }

    /// End of input: closes every open burst (at its last post).
    pub fn finish(&mut self, out: &mut Vec<AlertEvent>) {
        let mut slots: Vec<u32> = self.open.drain().collect();
        slots.sort_unstable();
        for s in slots {
            let Some(e) = self.slots[s as usize].as_mut() else {
                continue;
            };
            let Some(b) = e.burst.take() else {
                continue;
            };
            if b.opened.is_none() {
                continue;
            }
            let end = b.last_ms;
            let e = self.slots[s as usize].as_ref().unwrap();
            let a = self.make_alert(e, &b, end, Some(EventTime(end)));
            out.push(AlertEvent::Closed(a));
        }
    }

    /// Drops entities idle beyond the horizon.
    fn expire(&mut self, now: i64) {
        let cutoff = now - (self.cfg.horizon_h * HOUR_MS) as i64;
        for s in 0..self.slots.len() {
            let drop =
                matches!(&self.slots[s], Some(e) if e.burst.is_none() && e.last_seen < cutoff);
            if drop {
                self.remove(s as u32);
                self.stats.expired += 1;
            }
        }
    }

    /// Evicts the least active tenth of the live entities without a burst.
    fn evict(&mut self, now: i64) {
        let mut cand: Vec<(f64, u32)> = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, e)| match e {
                Some(e) if e.burst.is_none() => Some((e.level.at(now, self.tau_ms), i as u32)),
                _ => None,
            })
            .collect();
        let n = (self.cfg.max_entities / 10).max(1).min(cand.len());
        if n == 0 {
            return;
        }
        if n < cand.len() {
            cand.select_nth_unstable_by(n, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        }
        for &(_, s) in &cand[..n] {
            self.remove(s);
            self.stats.evicted += 1;
        }
    }

    fn remove(&mut self, s: u32) {
        if let Some(e) = self.slots[s as usize].take() {
            self.index[e.kind.index()].remove(&*e.key);
            self.free.push(s);
        }
    }
}

/// Counts `r` (of post `post`) into the burst.
fn add_to_burst(cfg: &BurstConfig, b: &mut Burst, r: &Recent, post: &str) {
    b.volume += 1;
    b.last_ms = b.last_ms.max(r.ms);
    b.start_ms = b.start_ms.min(r.ms);
    if b.actors.len() < cfg.max_burst_actors || b.actors.contains_key(&r.actor) {
        let f = b.actors.entry(r.actor).or_insert(0);
        let old = *f;
        *f |= r.flags;
        let new = *f;
        if old & 3 == 0 && new & 3 != 0 {
            b.flagged += 1;
        }
        if old & 1 == 0 && new & 1 != 0 {
            b.coordinated += 1;
        }
        if old & 2 == 0 && new & 2 != 0 {
            b.suspicious += 1;
        }
    }
    if !b.platforms.contains(&r.platform) {
        b.platforms.push(r.platform);
    }
    if r.lang != 0 && !b.langs.contains(&r.lang) {
        b.langs.push(r.lang);
    }
    if b.evidence.len() < cfg.evidence_posts {
        b.evidence.push(post.into());
    }
}

//! Who may see what: the one clearance filter (issue 14, finding 2).
//!
//! Every list, search, stream, page, report, export and TAXII route asks a
//! [`Clearance`] made for the request's principal; no route reads markings
//! or decides on its own. The rule, for a partner:
//!
//! - an object is seen when its own marking (else the store's default;
//!   CLEAR for fact-checked claims) clears the partner
//!   ([`Marking::allows`]);
//! - **and** when everything it names is seen too. A post names its
//!   account and the posts it replies to, reshares or quotes; a narrative
//!   its representative post, that post's account and
//!   its listed accounts; a coordination network its member accounts and
//!   the posts of its evidence pairs; an
//!   alert its entity (narrative, network, reshared post, claim) and its
//!   evidence posts; an incident its posts, accounts, narratives and
//!   networks; a
//!   network's evidence pair both posts and both accounts. An object that
//!   names something hidden is hidden whole (never shown with a hole), so
//!   no id, label or text of a hidden object reaches the partner through
//!   another one.
//!
//! Admins and analysts are the owning team: they see everything (their
//! clearance still reads the markings, which their exports carry).

use crate::auth::{Principal, Role};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::tlp::{Marking, Tlp};
use pharos_alerts::Notification;
use pharos_analysis::coordination::report::{EvidencePost, NetworkReport};
use pharos_analysis::narratives::NarrativeSummary;
use pharos_core::Post;
use pharos_store::Markings;
use std::collections::{HashMap, HashSet};

/// The kinds of objects a marking can be set on (`PUT /api/markings/{kind}/{id}`).
pub const MARKABLE: &[&str] = &["post", "narrative", "network", "actor", "incident", "claim"];

/// What one principal may see. Made per request ([`Clearance::load`]).
pub struct Clearance {
    who: Principal,
    community: Vec<String>,
    default: Marking,
    /// Objects' own markings, by kind then id (partners only).
    marks: HashMap<&'static str, HashMap<String, Marking>>,
    hidden: Hidden,
}

/// What a partner may not see, by the keys other objects name it with.
#[derive(Default)]
struct Hidden {
    /// `platform:id`.
    posts: HashSet<String>,
    /// Bare post ids (alerts name evidence posts by id alone).
    post_ids: HashSet<String>,
    /// `platform:id`.
    actors: HashSet<String>,
    /// Bare account ids (actor lists and networks name accounts by id alone).
    actor_ids: HashSet<String>,
    narratives: HashSet<u64>,
    networks: HashSet<u32>,
    incidents: HashSet<String>,
    claims: HashSet<String>,
    /// What the posts hidden from the reader hide in the live analysis
    /// (kept per set of markings, [`HiddenPostsCache::holders`]).
    holders: std::sync::Arc<Holders>,
}

fn split_key(key: &str) -> (&str, &str) {
    key.split_once(':').unwrap_or(("", key))
}

impl Clearance {
    /// The clearance of `who`: for a partner, the store's markings and what
    /// they hide, including narratives, networks and incidents that name a
    /// hidden object.
    pub fn load(st: &AppState, s: &pharos_store::AnyStore, who: &Principal) -> ApiResult<Self> {
        let mut c = Clearance {
            who: who.clone(),
            community: st.config.tlp.community.clone(),
            default: st.config.tlp.default_marking(),
            marks: HashMap::new(),
            hidden: Hidden::default(),
        };
        // The markings, which exports and answers carry, for everyone.
        for kind in MARKABLE {
            let m: HashMap<String, Marking> = s
                .markings_of_kind(kind)?
                .into_iter()
                .map(|(id, m)| (id, crate::state::marking(m)))
                .collect();
            c.marks.insert(kind, m);
        }
        if c.team() {
            return Ok(c);
        }
        c.hide_own();
        // Composite objects that name a hidden one.
        if !c.nothing_hidden() {
            // The posts hidden from this reader, by rowid (one pass over
            // the store per set of markings, then only new posts).
            let hidden_posts = if c.hides_posts_or_actors() {
                let key = c.hidden_key();
                Some((st.hidden_posts.of(s, &c, &key)?, key))
            } else {
                None
            };
            let snap = st.snapshot.read().map_err(ApiError::internal)?;
            if let Some((hp, key)) = &hidden_posts {
                // Brought up to date with what changed since the last
                // request under these markings, not recomputed.
                let h = st.hidden_posts.holders(&c, key, &snap, hp)?;
                c.hidden.narratives.extend(h.narratives.iter().copied());
                c.hidden.networks.extend(h.networks.iter().copied());
                c.hidden.holders = h;
            } else {
                for n in snap.narratives.iter() {
                    if !c.narrative_names_only_seen(n) {
                        c.hidden.narratives.insert(n.id);
                    }
                }
                if let Some(r) = &snap.coordination {
                    for n in &r.communities {
                        if !c.network_names_only_seen(n) {
                            c.hidden.networks.insert(n.id);
                        }
                    }
                }
            }
            drop(snap);
            for i in crate::incidents::load(s)? {
                if !c.incident_names_only_seen(&i) {
                    c.hidden.incidents.insert(i.id.clone());
                }
            }
        }
        Ok(c)
    }

    /// The clearance of `who` as far as the default marking goes, when no
    /// store is at hand: [`Clearance::collection`] only, as every object
    /// reads as unmarked.
    pub fn without_markings(st: &AppState, who: &Principal) -> Self {
        Clearance {
            who: who.clone(),
            community: st.config.tlp.community.clone(),
            default: st.config.tlp.default_marking(),
            marks: HashMap::new(),
            hidden: Hidden::default(),
        }
    }

    fn hide_own(&mut self) {
        let mut h = Hidden::default();
        for (kind, by_id) in &self.marks {
            for (id, m) in by_id {
                if m.allows(&self.who, &self.community) {
                    continue;
                }
                match *kind {
                    "post" => {
                        h.post_ids.insert(split_key(id).1.to_string());
                        h.posts.insert(id.clone());
                    }
                    "actor" => {
                        h.actor_ids.insert(split_key(id).1.to_string());
                        h.actors.insert(id.clone());
                    }
                    "narrative" => {
                        if let Ok(n) = id.parse() {
                            h.narratives.insert(n);
                        }
                    }
                    "network" => {
                        if let Ok(n) = id.parse() {
                            h.networks.insert(n);
                        }
                    }
                    "incident" => {
                        h.incidents.insert(id.clone());
                    }
                    "claim" => {
                        h.claims.insert(id.clone());
                    }
                    _ => {}
                }
            }
        }
        self.hidden = h;
    }

    /// Whether account `key` (`platform:id`, or a bare id) wrote a post
    /// hidden from this reader (accounts are matched by their bare id, as
    /// actor lists name them).
    fn wrote_hidden(&self, key: &str) -> bool {
        self.hidden.holders.author_ids.contains(split_key(key).1)
    }

    /// An account's signals (its row in the actors list: posts, rate,
    /// burstiness, first and last seen, all counted over its posts): seen
    /// when the account is, and none of its posts is hidden from the
    /// reader. `key` is `platform:id` or a bare id.
    pub fn sees_signals(&self, key: &str) -> bool {
        self.team() || (self.sees_actor_key(key) && !self.wrote_hidden(key))
    }

    fn nothing_hidden(&self) -> bool {
        let h = &self.hidden;
        h.posts.is_empty()
            && h.actors.is_empty()
            && h.narratives.is_empty()
            && h.networks.is_empty()
            && h.claims.is_empty()
    }

    /// Whether the principal is of the owning team (sees everything).
    pub fn team(&self) -> bool {
        self.who.role != Role::Partner
    }

    pub fn principal(&self) -> &Principal {
        &self.who
    }

    /// The marking an object is served under: its own, else the default
    /// (CLEAR for claims: fact-checks are public material).
    pub fn marking(&self, kind: &str, id: &str) -> Marking {
        if let Some(m) = self.marks.get(kind).and_then(|k| k.get(id)) {
            return m.clone();
        }
        if kind == "claim" {
            return Marking::new(Tlp::Clear);
        }
        self.default.clone()
    }

    /// Refuses (403) a principal not cleared for the store's default
    /// marking: the collections (posts, narratives, networks, actors,
    /// alerts, incidents) carry it.
    pub fn collection(&self) -> ApiResult<Marking> {
        if !self.default.allows(&self.who, &self.community) {
            return Err(refused(&self.who, &self.default));
        }
        Ok(self.default.clone())
    }

    /// The marking of one object, or 403 when the principal may not see it
    /// or something it names.
    pub fn check(&self, kind: &str, id: &str) -> ApiResult<Marking> {
        let m = self.marking(kind, id);
        if !m.allows(&self.who, &self.community) {
            return Err(refused(&self.who, &m));
        }
        if !self.sees(kind, id) {
            return Err(ApiError::forbidden(format!(
                "this {kind} names data {} is not cleared for",
                describe(&self.who)
            )));
        }
        Ok(m)
    }

    /// Whether the principal sees object `kind`/`id` (its own marking and
    /// what it names, as far as the id tells).
    pub fn sees(&self, kind: &str, id: &str) -> bool {
        if self.team() {
            return true;
        }
        if !self.marking(kind, id).allows(&self.who, &self.community) {
            return false;
        }
        let h = &self.hidden;
        match kind {
            "post" => !h.posts.contains(id),
            "actor" => !h.actors.contains(id),
            "narrative" => id.parse().is_ok_and(|n| !h.narratives.contains(&n)),
            "network" => id.parse().is_ok_and(|n| !h.networks.contains(&n)),
            "incident" => !h.incidents.contains(id),
            "claim" => !h.claims.contains(id),
            _ => true,
        }
    }

    /// A stored post: its own marking, its account's, and the posts it
    /// replies to, reshares or quotes (it names them by id).
    pub fn sees_post(&self, p: &Post) -> bool {
        self.team()
            || (self.sees_post_key(&p.platform, &p.id)
                && self.sees_actor(&p.platform, &p.actor.id)
                && [&p.reply_to, &p.reshare_of, &p.quote_of]
                    .into_iter()
                    .flatten()
                    .all(|id| {
                        let (pl, bare) = split_key(id);
                        self.sees_post_id(bare) && (pl.is_empty() || self.sees_post_key(pl, bare))
                    }))
    }

    pub fn sees_post_key(&self, platform: &str, id: &str) -> bool {
        self.team() || self.sees("post", &format!("{platform}:{id}"))
    }

    /// A post named by its id alone (an alert's evidence).
    pub fn sees_post_id(&self, id: &str) -> bool {
        self.team() || !self.hidden.post_ids.contains(id)
    }

    pub fn sees_actor(&self, platform: &str, id: &str) -> bool {
        self.team() || (self.sees("actor", &format!("{platform}:{id}")) && self.sees_actor_id(id))
    }

    /// An account named by its id alone (hidden when hidden on any platform).
    pub fn sees_actor_id(&self, id: &str) -> bool {
        self.team() || !self.hidden.actor_ids.contains(id)
    }

    /// An account named `platform:id` (or by id alone).
    pub fn sees_actor_key(&self, key: &str) -> bool {
        match key.split_once(':') {
            Some((p, id)) => self.sees_actor(p, id),
            None => self.sees_actor_id(key),
        }
    }

    fn narrative_names_only_seen(&self, n: &NarrativeSummary) -> bool {
        if let Some(r) = &n.label.representative
            && !(self.sees_post_key(&r.platform, &r.id)
                && self.sees_post_id(&r.id)
                && self.sees_actor(&r.platform, &r.actor))
        {
            return false;
        }
        n.actors.iter().all(|a| self.sees_actor_key(&a.key))
    }

    pub fn sees_narrative(&self, n: &NarrativeSummary) -> bool {
        self.team()
            || (self.sees("narrative", &n.id.to_string()) && self.narrative_names_only_seen(n))
    }

    fn network_names_only_seen(&self, n: &NetworkReport) -> bool {
        // Members are `platform:actor_id` (the networks of the assessment).
        n.members.iter().all(|m| self.sees_actor_key(m))
            && n.evidence.iter().all(|e| {
                self.sees_evidence_post(&e.post)
                    && self.sees_evidence_post(&e.post_y)
                    && e.object.as_deref().is_none_or(|o| self.sees_object(o))
            })
    }

    /// What a coordination pair shared: a post (`platform:id` or an id) or
    /// a link.
    fn sees_object(&self, o: &str) -> bool {
        let (p, id) = split_key(o);
        self.sees_post_id(id) && (p.is_empty() || o.contains("://") || self.sees_post_key(p, id))
    }

    pub fn sees_network(&self, n: &NetworkReport) -> bool {
        self.team() || (self.sees("network", &n.id.to_string()) && self.network_names_only_seen(n))
    }

    /// One side of a network's evidence pair.
    pub fn sees_evidence_post(&self, p: &EvidencePost) -> bool {
        self.team()
            || (self.sees_post_id(&p.id)
                && self.sees_actor_key(&p.account)
                && p.platform
                    .as_deref()
                    .is_none_or(|pl| self.sees_post_key(pl, &p.id)))
    }

    fn incident_names_only_seen(&self, i: &pharos_assess::Incident) -> bool {
        self.incident_networks_seen(i)
            && i.posts.iter().all(|k| {
                let (p, id) = split_key(k);
                self.sees_post_key(p, id)
                    && self.sees_post_id(id)
                    && !self.hidden.holders.held.contains(k)
            })
            && i.actors
                .iter()
                .all(|a| self.sees_actor(&a.platform, &a.actor_id))
            && i.narratives.iter().all(|n| {
                if let Some(r) = &n.representative {
                    let (p, id) = split_key(r);
                    if !(self.sees_post_key(p, id) && self.sees_post_id(id)) {
                        return false;
                    }
                }
                let id = n.id.to_string();
                let id = id.rsplit(':').next().unwrap_or(&id);
                self.sees("narrative", id) || id.parse::<u64>().is_err()
            })
    }

    /// An incident's networks (`network:N`): until networks are numbered
    /// once (issue 13), an incident's network N may be another than the
    /// server's network N; a marked network N hides both.
    fn incident_networks_seen(&self, i: &pharos_assess::Incident) -> bool {
        i.networks.iter().all(|n| {
            let id = n.id.rsplit(':').next().unwrap_or(&n.id);
            id.parse::<u32>().is_err() || self.sees("network", id)
        }) && i
            .networks
            .iter()
            .all(|n| n.accounts.iter().all(|a| self.sees_actor_key(a)))
    }

    pub fn sees_incident(&self, i: &pharos_assess::Incident) -> bool {
        self.team() || (self.sees("incident", &i.id) && self.incident_names_only_seen(i))
    }

    /// The stored incidents this principal sees, newest first.
    pub fn incidents(&self, s: &pharos_store::AnyStore) -> ApiResult<Vec<pharos_assess::Incident>> {
        let mut all = crate::incidents::load(s)?;
        all.retain(|i| self.sees_incident(i));
        Ok(all)
    }

    /// An alert: its entity and its evidence posts.
    pub fn sees_alert(&self, n: &Notification) -> bool {
        if self.team() {
            return true;
        }
        let a = &n.alert;
        let entity = match a.entity_kind.as_str() {
            "narrative" => self.sees("narrative", &a.entity),
            "network" => self.sees("network", &a.entity),
            "claim" => self.sees("claim", &a.entity),
            "reshare_target" | "conversation" => {
                let (p, id) = split_key(&a.entity);
                self.sees_post_key(p, id) && self.sees_post_id(id)
            }
            _ => true,
        };
        entity && a.evidence_posts.iter().all(|p| self.sees_post_id(p))
    }

    /// Whether some post or account is hidden from this reader.
    pub fn hides_posts_or_actors(&self) -> bool {
        !(self.hidden.posts.is_empty() && self.hidden.actors.is_empty())
    }

    /// Whether this reader sees every stored post: the team, or a partner
    /// cleared for the default marking from whom no post or account is
    /// hidden (a post is hidden only by its own marking, its account's, or
    /// one of the posts it names). Only such a reader is told a count over
    /// the whole store or a whole object (posts stored and indexed, store
    /// statistics, a network's evidence pairs, an account's posts): a
    /// partner never learns how many there are of what it is not cleared
    /// for (issue 14, finding 2).
    pub fn sees_every_post(&self) -> bool {
        self.team() || !self.hides_posts_or_actors()
    }

    /// Whether this reader sees every object (posts, accounts, narratives,
    /// networks, incidents, claims): only such a reader is told summaries
    /// counted over all of them (a coordination run's accounts, edges and
    /// networks).
    pub fn sees_everything(&self) -> bool {
        self.team() || (self.nothing_hidden() && self.hidden.incidents.is_empty())
    }

    /// A count taken over everything (the store, an object's posts), as
    /// this reader may be told it: whole for a reader who sees every post
    /// ([`Clearance::sees_every_post`]), else `None` (the route leaves it
    /// out, or counts only what the reader sees).
    pub fn whole_count<T>(&self, n: T) -> Option<T> {
        self.sees_every_post().then_some(n)
    }

    /// An account's posts summarised (count, first and last time,
    /// languages) over the posts this reader sees: the store's summary for
    /// a reader who sees every post, else its posts read through the
    /// reader's filter ([`crate::api::posts::search`], pages of 500; time
    /// linear in the account's posts).
    pub fn actor_summary(
        &self,
        s: &pharos_store::AnyStore,
        platform: &str,
        id: &str,
    ) -> ApiResult<pharos_store::ActorSummary> {
        use pharos_store::Actors;
        if self.sees_every_post() {
            return Ok(s.actor_summary(platform, id)?);
        }
        let mut sum = pharos_store::ActorSummary::default();
        let mut langs: HashMap<String, u64> = HashMap::new();
        let mut q = crate::api::posts::PostQuery {
            actor: Some(format!("{platform}:{id}")),
            limit: Some(500),
            ..Default::default()
        };
        loop {
            let page = crate::api::posts::search(s, &q, |p| self.sees_post(p))?;
            for p in &page.posts {
                sum.posts += 1;
                let t = p.time.millis();
                sum.first_ms = Some(sum.first_ms.map_or(t, |f| f.min(t)));
                sum.last_ms = Some(sum.last_ms.map_or(t, |l| l.max(t)));
                let lang = p.lang.clone().unwrap_or_else(|| "und".into());
                *langs.entry(lang).or_default() += 1;
            }
            match page.next {
                Some(c) => q.cursor = Some(c),
                None => break,
            }
        }
        sum.languages = langs.into_iter().collect();
        sum.languages
            .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(sum)
    }

    /// The claims marked for others.
    pub fn hidden_claims(&self) -> impl Iterator<Item = &String> {
        self.hidden.claims.iter()
    }

    /// A fact-checked claim.
    pub fn sees_claim(&self, id: &str) -> bool {
        self.sees("claim", id)
    }

    /// The marking a TAXII row of `scope` is served under: its incident's
    /// (`incident:ID`), TLP:CLEAR for `public`, the TLP a posted object
    /// carries (`tlp:LEVEL`), else the store's default.
    pub fn scope_marking(&self, scope: &str) -> Marking {
        if let Some(id) = scope.strip_prefix("incident:") {
            return self.marking("incident", id);
        }
        if scope == "public" {
            return Marking::new(Tlp::Clear);
        }
        if let Some(t) = scope.strip_prefix("tlp:").and_then(|t| Tlp::parse(t).ok()) {
            return Marking::new(t);
        }
        self.default.clone()
    }

    /// Whether a TAXII row of `scope` is seen.
    pub fn sees_scope(&self, scope: &str) -> bool {
        if self.team() {
            return true;
        }
        if let Some(id) = scope.strip_prefix("incident:") {
            return self.sees("incident", id);
        }
        self.scope_marking(scope).allows(&self.who, &self.community)
    }
}

/// A post hidden from a reader ([`Clearance::sees_post`] says no).
#[derive(Clone, Debug)]
pub struct HiddenPost {
    pub rowid: i64,
    pub platform: String,
    pub id: String,
    pub actor_id: String,
}

/// The posts hidden from readers, by what hides them (the posts and
/// accounts the markings hide from a reader): found by one pass over the
/// store, then kept up to date with the posts stored since (rowids only
/// grow). At most [`HiddenPostsCache::KEPT`] sets are kept, the least
/// recently used dropped.
#[derive(Default)]
pub struct HiddenPostsCache {
    entries: std::sync::Mutex<Vec<HiddenEntry>>,
}

struct HiddenEntry {
    key: String,
    /// Every post up to this rowid was looked at.
    upto: i64,
    posts: std::sync::Arc<Vec<HiddenPost>>,
    /// What they hide in the live analysis, as of the last request.
    holders: Option<std::sync::Arc<Holders>>,
    used: std::time::Instant,
}

impl HiddenPostsCache {
    /// Sets of markings kept at once.
    pub const KEPT: usize = 8;
    /// Posts read a page at a time.
    const PAGE: usize = 2_000;

    /// The posts hidden from `c`'s reader, up to the store's newest.
    pub fn of(
        &self,
        s: &pharos_store::AnyStore,
        c: &Clearance,
        key: &str,
    ) -> ApiResult<std::sync::Arc<Vec<HiddenPost>>> {
        use pharos_store::PostLog;
        let (mut upto, mut posts) = {
            let e = self.entries.lock().map_err(ApiError::internal)?;
            match e.iter().find(|e| e.key == key) {
                Some(e) => (e.upto, e.posts.clone()),
                None => (0, Default::default()),
            }
        };
        let newest = s.max_rowid()?;
        let mut restarted = false;
        if newest < upto {
            // Another store behind the same name: start again.
            upto = 0;
            posts = Default::default();
            restarted = true;
        }
        if newest > upto {
            let mut more: Vec<HiddenPost> = Vec::new();
            loop {
                let page = s.posts_after_rowid(upto, Self::PAGE)?;
                for (rowid, p) in &page {
                    upto = upto.max(*rowid);
                    if !c.sees_post(p) {
                        more.push(HiddenPost {
                            rowid: *rowid,
                            platform: p.platform.clone(),
                            id: p.id.clone(),
                            actor_id: p.actor.id.clone(),
                        });
                    }
                }
                if page.len() < Self::PAGE || upto >= newest {
                    break;
                }
            }
            upto = upto.max(newest);
            if !more.is_empty() {
                let mut all = (*posts).clone();
                all.extend(more);
                posts = std::sync::Arc::new(all);
            }
        }
        let mut e = self.entries.lock().map_err(ApiError::internal)?;
        let holders = e
            .iter()
            .find(|e| e.key == key && !restarted)
            .and_then(|e| e.holders.clone());
        e.retain(|e| e.key != key);
        e.push(HiddenEntry {
            key: key.to_string(),
            upto,
            posts: posts.clone(),
            holders,
            used: std::time::Instant::now(),
        });
        if e.len() > Self::KEPT {
            e.sort_by_key(|e| std::cmp::Reverse(e.used));
            e.truncate(Self::KEPT);
        }
        Ok(posts)
    }
}

impl HiddenPostsCache {
    /// What the posts hidden from `c`'s reader ([`HiddenPostsCache::of`],
    /// `posts`) hide in the live analysis `snap`: the entry's last answer
    /// brought up to date with the posts, members and networks that
    /// changed since (time linear in what changed, not in the posts
    /// analysed).
    pub fn holders(
        &self,
        c: &Clearance,
        key: &str,
        snap: &crate::analyst::Snapshot,
        posts: &std::sync::Arc<Vec<HiddenPost>>,
    ) -> ApiResult<std::sync::Arc<Holders>> {
        // Taken out of the entry while it is brought up to date, so that
        // (once the last request's clearance is dropped) it is not shared
        // and `make_mut` updates it in place instead of copying it.
        let (upto, kept) = {
            let mut e = self.entries.lock().map_err(ApiError::internal)?;
            match e.iter_mut().find(|e| e.key == key) {
                Some(e) => (e.upto, e.holders.take()),
                None => (0, None),
            }
        };
        let mut h = kept.unwrap_or_default();
        if h.counted > posts.len() {
            h = Default::default();
        }
        std::sync::Arc::make_mut(&mut h).update(c, snap, posts, upto);
        let mut e = self.entries.lock().map_err(ApiError::internal)?;
        if let Some(e) = e.iter_mut().find(|e| e.key == key) {
            e.holders = Some(h.clone());
        }
        Ok(h)
    }
}

/// What the posts hidden from a reader hide in the live analysis (issue
/// 14, finding 2: a partner does not learn of a hidden post even by a
/// count): a narrative that holds one (its `total_posts`, platform,
/// language and timeline counts include it), a network with an account
/// that wrote one (its `member_posts`, platform and language counts), that
/// account's signals ([`Clearance::sees_signals`]) and an incident that
/// lists one (its post, platform and language counts). Also the
/// narratives and networks that name a hidden post or account. Kept per
/// set of markings and brought up to date ([`Holders::update`]).
#[derive(Clone, Default)]
pub struct Holders {
    /// The hidden posts taken in (a prefix of the cache's list, which only
    /// grows).
    counted: usize,
    rowids: HashSet<i64>,
    /// Bare ids of the accounts that wrote a hidden post.
    author_ids: HashSet<String>,
    /// Every hidden post (`platform:id`), whatever hides it (its own
    /// marking, its account's, a post it names).
    held: HashSet<String>,
    /// Per narrative, how many of its members were looked at and the last
    /// of them (members are only appended; another last one means the list
    /// was cut, and it is looked at again).
    examined: HashMap<u64, (usize, crate::analyst::Member)>,
    /// Per narrative, its posts cut from the member list when last looked
    /// at ([`crate::analyst::Members::trimmed`]).
    cut_seen: HashMap<u64, u64>,
    /// Members analysed after the hidden posts were listed (rowid above
    /// the list's): looked at again once the list reaches them.
    pending: Vec<(u64, i64)>,
    /// Narratives that held a hidden post (never forgotten: a cut member
    /// list does not unhide one).
    holding: HashSet<u64>,
    /// The published narratives and networks the sets below are of.
    narratives_of: Option<std::sync::Arc<Vec<NarrativeSummary>>>,
    networks_of: Option<std::sync::Arc<pharos_analysis::coordination::report::CoordinationReport>>,
    authors_at: usize,
    /// Hidden narratives: holding a hidden post, or naming one or a hidden
    /// account.
    narratives: HashSet<u64>,
    /// Hidden networks: with an account that wrote a hidden post, or
    /// naming a hidden post or account.
    networks: HashSet<u32>,
}

impl Holders {
    fn update(
        &mut self,
        c: &Clearance,
        snap: &crate::analyst::Snapshot,
        posts: &[HiddenPost],
        upto: i64,
    ) {
        use std::sync::Arc;
        let mut holding_changed = false;
        // Posts cut from a member list: new hidden posts against every
        // narrative's cut rowids, and every hidden post against the cut
        // rowids of a narrative that lost more posts since.
        for (n, cut) in &snap.members.cut {
            let trimmed = snap.members.trimmed.get(n).copied().unwrap_or(0);
            let from = if self.cut_seen.get(n) == Some(&trimmed) {
                self.counted
            } else {
                0
            };
            if posts[from..].iter().any(|p| cut.may_hold(p.rowid)) {
                holding_changed |= self.holding.insert(*n);
            }
            self.cut_seen.insert(*n, trimmed);
        }
        for p in &posts[self.counted..] {
            self.rowids.insert(p.rowid);
            self.author_ids.insert(p.actor_id.clone());
            self.held.insert(format!("{}:{}", p.platform, p.id));
        }
        let new_posts = self.counted != posts.len();
        self.counted = posts.len();
        let mut later = Vec::new();
        for (n, rowid) in std::mem::take(&mut self.pending) {
            if rowid > upto {
                later.push((n, rowid));
            } else if self.rowids.contains(&rowid) {
                holding_changed |= self.holding.insert(n);
            }
        }
        for (n, members) in &snap.members.posts {
            let from = match self.examined.get(n) {
                Some((len, last))
                    if *len >= 1 && *len <= members.len() && members[*len - 1] == *last =>
                {
                    *len
                }
                _ => 0,
            };
            for m in &members[from..] {
                if m.rowid > upto {
                    later.push((*n, m.rowid));
                } else if self.rowids.contains(&m.rowid) {
                    holding_changed |= self.holding.insert(*n);
                }
            }
            if let Some(last) = members.last() {
                self.examined.insert(*n, (members.len(), *last));
            }
        }
        self.pending = later;
        // Narratives the analysis no longer holds (expired) are no longer
        // listed: what was kept of them goes.
        let held = |n: &u64| snap.members.posts.contains_key(n);
        self.examined.retain(|n, _| held(n));
        self.cut_seen.retain(|n, _| held(n));
        self.pending.retain(|(n, _)| held(n));
        let before = self.holding.len();
        self.holding.retain(|n| held(n));
        holding_changed |= self.holding.len() != before;
        let narratives_new = !matches!(
            (&self.narratives_of, Some(&snap.narratives)),
            (Some(a), Some(b)) if Arc::ptr_eq(a, b)
        );
        if narratives_new || holding_changed {
            self.narratives = self.holding.clone();
            for n in snap.narratives.iter() {
                if !c.narrative_names_only_seen(n) {
                    self.narratives.insert(n.id);
                }
            }
            self.narratives_of = Some(snap.narratives.clone());
        }
        let networks_new = match (&self.networks_of, &snap.coordination) {
            (Some(a), Some(b)) => !Arc::ptr_eq(a, b),
            (None, None) => false,
            _ => true,
        };
        if networks_new || new_posts || self.authors_at != self.author_ids.len() {
            self.networks.clear();
            if let Some(r) = &snap.coordination {
                for n in &r.communities {
                    if !c.network_names_only_seen(n)
                        || n.members
                            .iter()
                            .any(|m| self.author_ids.contains(split_key(m).1))
                    {
                        self.networks.insert(n.id);
                    }
                }
            }
            self.networks_of = snap.coordination.clone();
            self.authors_at = self.author_ids.len();
        }
    }
}

impl Clearance {
    /// What decides which posts are hidden from this reader: the hidden
    /// posts and accounts, sorted.
    fn hidden_key(&self) -> String {
        let h = &self.hidden;
        let mut parts: Vec<String> = vec![format!(
            "d{}",
            self.default.allows(&self.who, &self.community)
        )];
        for (tag, set) in [
            ("p", &h.posts),
            ("i", &h.post_ids),
            ("a", &h.actors),
            ("b", &h.actor_ids),
        ] {
            let mut v: Vec<&String> = set.iter().collect();
            v.sort();
            parts.extend(v.into_iter().map(|x| format!("{tag}{x}")));
        }
        parts.join("\n")
    }
}

fn describe(who: &Principal) -> String {
    match &who.org {
        Some(o) => format!("organisation {o:?}"),
        None => format!("{:?}", who.name),
    }
}

/// The 403 of a marking that does not clear `who`.
pub fn refused(who: &Principal, m: &Marking) -> ApiError {
    ApiError::forbidden(format!(
        "this data is marked {}; {} is not cleared for it",
        m.tlp.label(),
        describe(who)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyst::{Member, Snapshot};

    fn partner_hiding_nothing() -> Clearance {
        Clearance {
            who: Principal {
                token_id: "t".into(),
                name: "p".into(),
                role: Role::Partner,
                org: Some("o".into()),
            },
            community: Vec::new(),
            default: Marking::new(Tlp::Clear),
            marks: HashMap::new(),
            hidden: Hidden::default(),
        }
    }

    fn hidden(rowids: &[i64]) -> Vec<HiddenPost> {
        rowids
            .iter()
            .map(|r| HiddenPost {
                rowid: *r,
                platform: "x".into(),
                id: format!("p{r}"),
                actor_id: format!("a{r}"),
            })
            .collect()
    }

    fn members(snap: &mut Snapshot, n: u64, rowids: &[i64]) {
        snap.members
            .posts
            .insert(n, rowids.iter().map(|r| Member::new(*r, None)).collect());
    }

    /// Each step brought up to date gives what a fresh computation gives.
    fn step(h: &mut Holders, c: &Clearance, snap: &Snapshot, posts: &[HiddenPost], upto: i64) {
        h.update(c, snap, posts, upto);
        let mut fresh = Holders::default();
        fresh.update(c, snap, posts, upto);
        assert_eq!(h.narratives, fresh.narratives, "narratives at upto {upto}");
        assert_eq!(h.held, fresh.held);
        assert_eq!(h.author_ids, fresh.author_ids);
    }

    #[test]
    fn holders_brought_up_to_date_hide_what_a_fresh_look_hides() {
        let c = partner_hiding_nothing();
        let mut snap = Snapshot::default();
        let mut h = Holders::default();
        members(&mut snap, 1, &[1, 3]);
        step(&mut h, &c, &snap, &hidden(&[]), 5);
        assert!(h.narratives.is_empty());

        // A hidden post joins narrative 1; narrative 2 is new.
        members(&mut snap, 1, &[1, 3, 7]);
        members(&mut snap, 2, &[8]);
        step(&mut h, &c, &snap, &hidden(&[7]), 10);
        assert_eq!(h.narratives, HashSet::from([1]));
        assert!(h.held.contains("x:p7") && h.author_ids.contains("a7"));

        // A member analysed before the hidden posts were listed up to it
        // is looked at again once they are.
        members(&mut snap, 2, &[8, 12]);
        step(&mut h, &c, &snap, &hidden(&[7]), 10);
        assert_eq!(h.narratives, HashSet::from([1]));
        h.update(&c, &snap, &hidden(&[7, 12]), 15);
        assert_eq!(h.narratives, HashSet::from([1, 2]));

        // A member list cut at its front is looked at again whole.
        members(&mut snap, 3, &[20, 21]);
        h.update(&c, &snap, &hidden(&[7, 12]), 25);
        assert!(!h.narratives.contains(&3));
        members(&mut snap, 3, &[21, 26]);
        h.update(&c, &snap, &hidden(&[7, 12, 26]), 30);
        assert!(h.narratives.contains(&3));

        // An expired narrative (the analysis dropped its members) is
        // forgotten.
        snap.members.posts.remove(&3);
        h.update(&c, &snap, &hidden(&[7, 12, 26]), 30);
        assert!(!h.narratives.contains(&3) && !h.examined.contains_key(&3));
        assert_eq!(h.narratives, HashSet::from([1, 2]));
    }

    #[test]
    fn a_post_cut_from_a_narratives_list_still_hides_it_when_marked_later() {
        let c = partner_hiding_nothing();
        let mut snap = Snapshot::default();
        // 40 posts, 10 kept: rowids 1..=30 cut (through the analyst's own
        // bounded push).
        for r in 1..=40 {
            snap.members.push(r, Some(9), None, 10);
        }
        members_of(&snap, 9);
        // A fresh look, with rowid 5 hidden (marked after it was cut).
        let mut h = Holders::default();
        h.update(&c, &snap, &hidden(&[5]), 50);
        assert!(h.narratives.contains(&9), "a cut post hides its narrative");
        // Hidden posts that were never in it leave it shown (the filter's
        // false positives aside: 30 rowids in 1,024 bits).
        let mut h = Holders::default();
        h.update(&c, &snap, &hidden(&[45]), 50);
        assert!(!h.narratives.contains(&9));
        // Brought up to date: a cut post hidden later.
        h.update(&c, &snap, &hidden(&[45, 12]), 50);
        assert!(h.narratives.contains(&9));
    }

    fn members_of(snap: &Snapshot, n: u64) {
        let kept = &snap.members.posts[&n];
        assert!(
            kept.len() < 20 && snap.members.trimmed[&n] > 20,
            "the list was cut"
        );
    }

    #[test]
    fn a_narrative_that_held_a_hidden_post_stays_hidden_when_its_list_is_cut() {
        let c = partner_hiding_nothing();
        let mut snap = Snapshot::default();
        let mut h = Holders::default();
        members(&mut snap, 4, &[2, 3]);
        h.update(&c, &snap, &hidden(&[2]), 5);
        assert!(h.narratives.contains(&4));
        members(&mut snap, 4, &[3, 6]);
        h.update(&c, &snap, &hidden(&[2]), 10);
        assert!(h.narratives.contains(&4));
    }
}

//! Incidents → one STIX 2.1 bundle.
//!
//! Per incident (see docs/sharing.md for the full table):
//! - `incident`: title, summary, confidence (0–100), DISARM kill-chain
//!   phases; the richer Pharos fields (severity and confidence with their
//!   terms, ABCDE facets, timeline, platforms, languages, techniques with
//!   their evidence) under the Pharos property extension, which the bundle
//!   defines with an `extension-definition` object.
//! - `campaign` (the incident `attributed-to` it) that `uses` one
//!   `attack-pattern` per DISARM technique (external references under both
//!   `DISARM` and `mitre-attack`, kill chain `disarm`), the narratives and
//!   the channels (OpenCTI's objects, ids as OpenCTI makes them).
//! - `user-account`, `url` and `domain-name` observables inside one
//!   `observed-data`; `sighting`s of the campaign and of each technique by
//!   the producer; a `note` with the assessment; a `report` holding it all.
//!
//! Every object but the TLP marking-definition carries the chosen TLP 2.0
//! marking. Ids and timestamps come from the incidents only (never the
//! clock), so the same incidents give the same bundle byte for byte.

use crate::pseudonym::Pseudonymiser;
use crate::stix::ids::{opencti_name_id, sco_id, sdo_id};
use crate::stix::tlp::Tlp;
use pharos_assess::disarm::{self, Catalogue};
use pharos_assess::incident::{Incident, Score, Statement};
use pharos_core::EventTime;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// OpenCTI's extension-definition, which its `narrative` and `channel`
/// objects name with `extension_type: "new-sdo"`.
pub const OPENCTI_EXTENSION: &str = "extension-definition--ea279b3e-5c71-4632-ac08-831c66a786ba";

/// Creation time of the long-lived objects (producer identity, the Pharos
/// extension-definition, DISARM attack-patterns, narratives, channels):
/// fixed, so that every export describes them identically.
pub const FIXED_CREATED: &str = "2025-01-01T00:00:00.000Z";

/// Version of the Pharos incident extension.
pub const EXTENSION_VERSION: &str = "1.0.0";

/// Where the Pharos incident extension's properties are described.
pub const EXTENSION_SCHEMA: &str = "https://github.com/pharos-osint/pharos/blob/main/docs/sharing.md#the-pharos-incident-extension";

/// The Pharos incident extension's id.
pub fn extension_id() -> String {
    sdo_id("extension-definition", "pharos-incident-extension")
}

/// Which type names the OpenCTI narrative and channel objects get.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OpenCtiTypes {
    /// `x-opencti-narrative` / `x-opencti-channel`: OpenCTI reads both
    /// names, and these pass the OASIS validator's custom-type naming check
    /// (`stix2_validator --strict -d 302,202,401` requires custom object
    /// types to start with `x-`).
    #[default]
    Prefixed,
    /// `narrative` / `channel`, the names OpenCTI itself exports today.
    Native,
}

impl OpenCtiTypes {
    fn narrative(self) -> &'static str {
        match self {
            OpenCtiTypes::Prefixed => "x-opencti-narrative",
            OpenCtiTypes::Native => "narrative",
        }
    }
    fn channel(self) -> &'static str {
        match self {
            OpenCtiTypes::Prefixed => "x-opencti-channel",
            OpenCtiTypes::Native => "channel",
        }
    }
}

/// How to export.
#[derive(Clone, Debug)]
pub struct ExportOptions<'a> {
    /// The TLP marking every object carries.
    pub tlp: Tlp,
    /// Replace account identifiers with keyed pseudonyms.
    pub pseudonymiser: Option<&'a Pseudonymiser>,
    /// The DISARM catalogue (descriptions and tactics of techniques); the
    /// built-in table is used without it.
    pub catalogue: Option<&'a Catalogue>,
    /// The producer's name (the `identity` everything is `created_by`).
    pub producer: String,
    pub opencti_types: OpenCtiTypes,
    /// At most this many channel objects per incident (most active accounts first).
    pub max_channels: usize,
}

impl Default for ExportOptions<'_> {
    fn default() -> Self {
        ExportOptions {
            tlp: Tlp::Amber,
            pseudonymiser: None,
            catalogue: None,
            producer: "Pharos".into(),
            opencti_types: OpenCtiTypes::default(),
            max_channels: 25,
        }
    }
}

/// What an export holds, for the command's summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExportSummary {
    pub incidents: usize,
    pub objects: usize,
    pub by_type: BTreeMap<String, usize>,
}

/// Objects in insertion order, each id once.
struct Objects {
    list: Vec<Value>,
    seen: HashSet<String>,
}

impl Objects {
    fn push(&mut self, o: Value) -> String {
        let id = o["id"].as_str().unwrap_or_default().to_string();
        if self.seen.insert(id.clone()) {
            self.list.push(o);
        }
        id
    }
}

fn ts(t: EventTime) -> String {
    t.to_rfc3339()
}

/// Bounds STIX puts on counts (`number_observed`, sighting `count`).
fn stix_count(n: usize) -> u64 {
    (n as u64).clamp(1, 999_999_999)
}

fn pct(v: f64) -> i64 {
    if v.is_finite() {
        (v * 100.0).round().clamp(0.0, 100.0) as i64
    } else {
        0
    }
}

fn round3(v: f64) -> Value {
    if v.is_finite() {
        json!((v * 1000.0).round() / 1000.0)
    } else {
        Value::Null
    }
}

/// Rewrites free text and evidence ids so no account identifier leaves
/// when pseudonymising; passes them through otherwise.
struct Scrubber<'a> {
    p: Option<&'a Pseudonymiser>,
    /// lower-cased handle → pseudonym
    handles: HashMap<String, String>,
    /// `platform:actor_id` → pseudonym
    keys: Vec<(String, String)>,
}

impl<'a> Scrubber<'a> {
    fn new(p: Option<&'a Pseudonymiser>, inc: &Incident) -> Self {
        let mut handles = HashMap::new();
        let mut keys = Vec::new();
        if let Some(p) = p {
            for a in &inc.actors {
                let ps = p.account(&a.platform, &a.actor_id);
                if let Some(h) = &a.handle {
                    handles.insert(h.trim_start_matches('@').to_lowercase(), ps.clone());
                }
                keys.push((a.key(), ps));
            }
            keys.sort();
        }
        Scrubber { p, handles, keys }
    }

    fn text(&self, s: &str) -> String {
        if self.p.is_none() {
            return s.to_string();
        }
        let mut s = s.to_string();
        for (k, ps) in &self.keys {
            if s.contains(k.as_str()) {
                s = replace_whole(&s, k, ps);
            }
        }
        // @mentions: known accounts become their pseudonym, others `@[account]`.
        let mut out = String::with_capacity(s.len());
        let mut chars = s.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c == '@' {
                let rest = &s[i + 1..];
                let len = rest
                    .char_indices()
                    .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
                    .map_or(rest.len(), |(j, _)| j);
                if len > 0 {
                    let h = rest[..len].to_lowercase();
                    match self.handles.get(&h) {
                        Some(ps) => out.push_str(ps),
                        None => out.push_str("@[account]"),
                    }
                    while chars.peek().is_some_and(|(j, _)| *j < i + 1 + len) {
                        chars.next();
                    }
                    continue;
                }
            }
            out.push(c);
        }
        out
    }

    /// An evidence id as it may be shared: accounts and posts pseudonymised.
    fn evidence(&self, id: &str) -> String {
        let Some(p) = self.p else {
            return id.to_string();
        };
        if let Some(rest) = id.strip_prefix("account:") {
            let (platform, actor) = rest.split_once(':').unwrap_or(("", rest));
            return format!("account:{}", p.account(platform, actor));
        }
        if let Some(rest) = id.strip_prefix("post:") {
            return format!("post:{}", p.token(rest));
        }
        self.text(id)
    }

    fn evidence_list(&self, ids: &[String], max: usize) -> Vec<String> {
        ids.iter().take(max).map(|e| self.evidence(e)).collect()
    }
}

fn statement_json(s: &Statement, sc: &Scrubber) -> Value {
    json!({
        "statement": sc.text(&s.statement),
        "evidence": sc.evidence_list(&s.evidence, 50),
    })
}

fn score_terms(s: &Score, sc: &Scrubber) -> Value {
    Value::Array(
        s.terms
            .iter()
            .map(|t| {
                json!({
                    "name": t.name,
                    "value": round3(t.value),
                    "weight": round3(t.weight),
                    "contribution": round3(t.contribution),
                    "explanation": sc.text(&t.explanation),
                    "evidence": sc.evidence_list(&t.evidence, 50),
                })
            })
            .collect(),
    )
}

/// The technique's tactic and its kill-chain phase name: from the incident's
/// tag, else the catalogue, else Pharos's own table.
fn technique_phase(
    t_id: &str,
    tag_tactic: Option<&str>,
    cat: Option<&Catalogue>,
) -> Option<String> {
    let ta = tag_tactic
        .map(str::to_string)
        .or_else(|| {
            cat.and_then(|c| c.get(t_id))
                .and_then(|t| t.tactic_ids.first().cloned())
        })
        .or_else(|| disarm::observable_technique(t_id).map(|o| o.tactic_id.to_string()))?;
    if let Some(t) = cat.and_then(|c| c.tactic(&ta)) {
        return Some(t.shortname.clone());
    }
    disarm::tactic_info(&ta).map(|(_, phase)| phase.to_string())
}

/// The ordered list of DISARM kill-chain phases.
fn kill_chain(phases: &BTreeSet<String>) -> Value {
    Value::Array(
        phases
            .iter()
            .map(|p| json!({"kill_chain_name": "disarm", "phase_name": p}))
            .collect(),
    )
}

/// Account types STIX's `account-type-ov` has for the platforms Pharos reads.
fn account_type(platform: &str) -> Option<&'static str> {
    match platform {
        "twitter" | "x" => Some("twitter"),
        "facebook" => Some("facebook"),
        _ => None,
    }
}

struct Ctx<'a> {
    opts: &'a ExportOptions<'a>,
    producer: String,
    marking: Value,
    ext: String,
}

impl Ctx<'_> {
    /// Common properties of an SDO/SRO.
    fn base(&self, ty: &str, id: &str, created: &str, modified: &str) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("type".into(), json!(ty));
        m.insert("spec_version".into(), json!("2.1"));
        m.insert("id".into(), json!(id));
        m.insert("created".into(), json!(created));
        m.insert("modified".into(), json!(modified));
        m.insert("created_by_ref".into(), json!(self.producer));
        m.insert("object_marking_refs".into(), self.marking.clone());
        m
    }

    fn relationship(
        &self,
        kind: &str,
        src: &str,
        dst: &str,
        created: &str,
        modified: &str,
        desc: Option<String>,
    ) -> Value {
        let id = sdo_id("relationship", &format!("{src}|{kind}|{dst}"));
        let mut m = self.base("relationship", &id, created, modified);
        m.insert("relationship_type".into(), json!(kind));
        m.insert("source_ref".into(), json!(src));
        m.insert("target_ref".into(), json!(dst));
        if let Some(d) = desc.filter(|d| !d.is_empty()) {
            m.insert("description".into(), json!(d));
        }
        Value::Object(m)
    }

    fn sco(&self, ty: &str, contributing: Value, extra: &[(&str, Value)]) -> Value {
        let id = sco_id(ty, &contributing);
        let mut m = Map::new();
        m.insert("type".into(), json!(ty));
        m.insert("spec_version".into(), json!("2.1"));
        m.insert("id".into(), json!(id));
        if let Value::Object(c) = contributing {
            m.extend(c);
        }
        for (k, v) in extra {
            m.insert((*k).into(), v.clone());
        }
        m.insert("object_marking_refs".into(), self.marking.clone());
        Value::Object(m)
    }
}

impl<'a> Ctx<'a> {
    fn new(opts: &'a ExportOptions<'a>) -> Ctx<'a> {
        Ctx {
            opts,
            producer: producer_id(&opts.producer),
            marking: json!([opts.tlp.marking_id()]),
            ext: extension_id(),
        }
    }

    /// The objects every bundle starts with: the TLP marking-definition and
    /// the producer's identity (and the Pharos incident extension's
    /// definition when `with_extension`).
    fn preamble(&self, objs: &mut Objects, with_extension: bool) {
        let opts = self.opts;
        objs.push(opts.tlp.marking_definition());
        let mut ident = self.base("identity", &self.producer, FIXED_CREATED, FIXED_CREATED);
        ident.remove("created_by_ref");
        ident.insert("name".into(), json!(opts.producer));
        ident.insert("identity_class".into(), json!("organization"));
        ident.insert(
            "description".into(),
            json!(
                "Producer of these findings, assessed with Pharos (information-environment assessment)."
            ),
        );
        objs.push(Value::Object(ident));
        if !with_extension {
            return;
        }
        let mut ext = self.base(
            "extension-definition",
            &self.ext,
            FIXED_CREATED,
            FIXED_CREATED,
        );
        ext.insert("name".into(), json!("Pharos incident assessment"));
        ext.insert(
            "description".into(),
            json!("Pharos's assessment of an incident: severity and confidence with their terms, ABCDE facets, timeline, platforms, languages, and DISARM techniques with the evidence behind each."),
        );
        ext.insert("schema".into(), json!(EXTENSION_SCHEMA));
        ext.insert("version".into(), json!(EXTENSION_VERSION));
        ext.insert("extension_types".into(), json!(["property-extension"]));
        objs.push(Value::Object(ext));
    }

    /// The `user-account` of an account (pseudonymised when asked): the
    /// same account gives the same object in every bundle.
    fn account(&self, platform: &str, actor_id: &str, handle: Option<&str>) -> Value {
        let mut c = Map::new();
        let at = account_type(platform);
        if let Some(t) = at {
            c.insert("account_type".into(), json!(t));
        }
        match self.opts.pseudonymiser {
            Some(p) => {
                c.insert("user_id".into(), json!(p.account(platform, actor_id)));
            }
            None => {
                let uid = if at.is_some() {
                    actor_id.to_string()
                } else {
                    format!("{platform}:{actor_id}")
                };
                c.insert("user_id".into(), json!(uid));
                if let Some(h) = handle
                    .map(|h| h.trim_start_matches('@'))
                    .filter(|h| !h.is_empty())
                {
                    c.insert("account_login".into(), json!(h));
                }
            }
        }
        self.sco("user-account", Value::Object(c), &[])
    }
}

/// The producer's `identity` id.
pub fn producer_id(producer: &str) -> String {
    sdo_id("identity", &format!("producer:{producer}"))
}

fn summarise(objs: &[Value], incidents: usize) -> ExportSummary {
    let mut summary = ExportSummary {
        incidents,
        objects: objs.len(),
        by_type: BTreeMap::new(),
    };
    for o in objs {
        *summary
            .by_type
            .entry(o["type"].as_str().unwrap_or_default().to_string())
            .or_default() += 1;
    }
    summary
}

/// Exports `incidents` as one STIX 2.1 bundle (a JSON object).
pub fn export_bundle(incidents: &[Incident], opts: &ExportOptions) -> (Value, ExportSummary) {
    let tlp = opts.tlp;
    let ctx = Ctx::new(opts);
    let mut objs = Objects {
        list: Vec::new(),
        seen: HashSet::new(),
    };
    ctx.preamble(&mut objs, true);

    for inc in incidents {
        export_incident(inc, &ctx, &mut objs);
    }

    let mut key = format!("{}|{}|{}", opts.producer, tlp, opts.pseudonymiser.is_some());
    for inc in incidents {
        key.push('|');
        key.push_str(&inc.id);
        key.push('@');
        key.push_str(&inc.last_seen.millis().to_string());
    }
    let summary = summarise(&objs.list, incidents.len());
    for o in &mut objs.list {
        prune_empty(o);
    }
    let bundle = json!({
        "type": "bundle",
        "id": sdo_id("bundle", &key),
        "objects": objs.list,
    });
    (bundle, summary)
}

/// Exports `incidents` to a bundle file (pretty JSON, trailing newline),
/// creating its directory: what `pharos export stix` and `pharos assess`
/// (`stix.json`) write.
pub fn write_bundle_file(
    path: &std::path::Path,
    incidents: &[Incident],
    opts: &ExportOptions,
) -> std::io::Result<ExportSummary> {
    let (bundle, summary) = export_bundle(incidents, opts);
    let mut bytes = serde_json::to_vec_pretty(&bundle).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, bytes)?;
    Ok(summary)
}

fn export_incident(inc: &Incident, ctx: &Ctx, objs: &mut Objects) {
    let opts = ctx.opts;
    let sc = Scrubber::new(opts.pseudonymiser, inc);
    let created = ts(inc.first_seen);
    let modified = ts(inc.last_seen.max(inc.first_seen));
    let mut members: Vec<String> = vec![ctx.producer.clone()];
    let title = sc.text(&inc.title);
    let summary = sc.text(&inc.summary);
    let pharos_ref = json!([{"source_name": "pharos", "external_id": inc.id, "description": "Pharos incident id"}]);

    // DISARM techniques: phases, attack-patterns.
    let mut phases = BTreeSet::new();
    let mut techniques: Vec<(String, &pharos_assess::incident::TechniqueTag)> = Vec::new();
    for tag in &inc.techniques {
        if !disarm::is_t_number(&tag.t_id) {
            continue;
        }
        let phase = technique_phase(&tag.t_id, tag.tactic_id.as_deref(), opts.catalogue);
        if let Some(p) = &phase {
            phases.insert(p.clone());
        }
        let ap_id = sdo_id("attack-pattern", &format!("disarm:{}", tag.t_id));
        let mut ap = ctx.base("attack-pattern", &ap_id, FIXED_CREATED, FIXED_CREATED);
        let known = opts.catalogue.and_then(|c| c.get(&tag.t_id));
        let name = known.map_or(tag.name.as_str(), |t| t.name.as_str());
        ap.insert("name".into(), json!(name));
        if let Some(d) = known.and_then(|t| t.description.as_deref()) {
            ap.insert("description".into(), json!(d));
        }
        let url = disarm::technique_url(&tag.t_id);
        ap.insert(
            "external_references".into(),
            json!([
                {"source_name": "DISARM", "external_id": tag.t_id, "url": url},
                {"source_name": "mitre-attack", "external_id": tag.t_id, "url": url},
            ]),
        );
        if let Some(p) = &phase {
            ap.insert(
                "kill_chain_phases".into(),
                json!([{"kill_chain_name": "disarm", "phase_name": p}]),
            );
        }
        // OpenCTI and MISP key attack-patterns on this too.
        ap.insert("x_mitre_id".into(), json!(tag.t_id));
        members.push(objs.push(Value::Object(ap)));
        techniques.push((ap_id, tag));
    }

    // The incident, with the Pharos extension.
    let inc_id = sdo_id("incident", &inc.id);
    let camp_id = sdo_id("campaign", &inc.id);
    let coordinated = inc.actors.iter().filter(|a| a.coordinated).count();
    let counted = |v: &[pharos_assess::incident::Counted], n: usize, scrub: bool| -> Value {
        Value::Array(
            v.iter()
                .take(n)
                .map(|c| {
                    let key = if scrub {
                        sc.text(&c.key)
                    } else {
                        c.key.clone()
                    };
                    json!({"key": key, "posts": c.posts})
                })
                .collect(),
        )
    };
    let map_counts = |m: &BTreeMap<String, u64>| -> Value {
        Value::Array(
            m.iter()
                .map(|(k, v)| json!({"key": k, "posts": v}))
                .collect(),
        )
    };
    let ext_props = json!({
        "extension_type": "property-extension",
        "pharos_incident_id": inc.id,
        "first_seen": created,
        "last_seen": modified,
        "severity": round3(inc.severity.value),
        "severity_terms": score_terms(&inc.severity, &sc),
        "confidence_score": round3(inc.confidence.value),
        "confidence_terms": score_terms(&inc.confidence, &sc),
        "abcde": {
            "actor": statement_json(&inc.abcde.actor, &sc),
            "behaviour": statement_json(&inc.abcde.behaviour, &sc),
            "content": statement_json(&inc.abcde.content, &sc),
            "degree": statement_json(&inc.abcde.degree, &sc),
            "effect": statement_json(&inc.abcde.effect, &sc),
        },
        "techniques": techniques.iter().map(|(_, t)| json!({
            "t_id": t.t_id,
            "name": t.name,
            "signal": t.signal,
            "shown_by": sc.text(&t.shown_by),
            "evidence_count": t.evidence.len(),
            "evidence": sc.evidence_list(&t.evidence, 50),
        })).collect::<Vec<_>>(),
        "post_count": inc.posts.len(),
        "account_count": inc.actors.len(),
        "coordinated_account_count": coordinated,
        "platforms": map_counts(&inc.platforms),
        "languages": map_counts(&inc.languages),
        "hashtags": counted(&inc.hashtags, 50, false),
        "domains": counted(&inc.domains, 50, false),
        "timeline": {
            "bucket_s": inc.timeline.bucket_s,
            "start": ts(inc.timeline.start),
            "posts": inc.timeline.totals(),
        },
        "pseudonymised": opts.pseudonymiser.is_some(),
    });
    let mut incident = ctx.base("incident", &inc_id, &created, &modified);
    incident.insert("name".into(), json!(title));
    incident.insert("description".into(), json!(summary));
    incident.insert("confidence".into(), json!(pct(inc.confidence.value)));
    incident.insert("labels".into(), json!(["information-manipulation"]));
    incident.insert("external_references".into(), pharos_ref.clone());
    // STIX 2.1 gives incidents no kill chain: the DISARM phases go in the extension.
    let mut ext_props = ext_props;
    ext_props["kill_chain_phases"] = kill_chain(&phases);
    incident.insert("extensions".into(), json!({ (ctx.ext.clone()): ext_props }));
    members.push(objs.push(Value::Object(incident)));

    let mut campaign = ctx.base("campaign", &camp_id, &created, &modified);
    campaign.insert("name".into(), json!(title));
    campaign.insert("description".into(), json!(summary));
    campaign.insert("first_seen".into(), json!(created));
    campaign.insert("last_seen".into(), json!(modified));
    campaign.insert("confidence".into(), json!(pct(inc.confidence.value)));
    campaign.insert("external_references".into(), pharos_ref);
    members.push(objs.push(Value::Object(campaign)));
    members.push(objs.push(ctx.relationship(
        "attributed-to",
        &inc_id,
        &camp_id,
        &created,
        &modified,
        None,
    )));

    for (ap_id, tag) in &techniques {
        let why = Some(sc.text(&tag.shown_by));
        members.push(objs.push(ctx.relationship(
            "uses",
            &camp_id,
            ap_id,
            &created,
            &modified,
            why.clone(),
        )));
        members.push(objs.push(ctx.relationship("uses", &inc_id, ap_id, &created, &modified, why)));
    }

    // Narratives (OpenCTI objects, ids over the lower-cased name).
    let oc = opts.opencti_types;
    for n in &inc.narratives {
        let name = sc.text(n.name().trim());
        if name.is_empty() {
            continue;
        }
        let id = opencti_name_id(oc.narrative(), &name);
        let mut o = ctx.base(oc.narrative(), &id, FIXED_CREATED, FIXED_CREATED);
        o.insert("name".into(), json!(name));
        let mut desc = format!(
            "Narrative seen by Pharos ({} posts in incident {}).",
            n.posts, inc.id
        );
        if !n.title.trim().is_empty() && !n.label.trim().is_empty() {
            desc.push_str(" Terms: ");
            desc.push_str(&sc.text(n.label.trim()));
            desc.push('.');
        }
        if !n.representative_text.is_empty() {
            desc.push_str(" Representative post: ");
            desc.push_str(&sc.text(&n.representative_text));
        }
        o.insert("description".into(), json!(desc));
        o.insert(
            "extensions".into(),
            json!({ OPENCTI_EXTENSION: {"extension_type": "new-sdo"} }),
        );
        members.push(objs.push(Value::Object(o)));
        members.push(objs.push(ctx.relationship("uses", &camp_id, &id, &created, &modified, None)));
    }

    // Channels: the accounts that pushed it, coordinated and most active first.
    let mut actors: Vec<&pharos_assess::incident::ActorRef> = inc.actors.iter().collect();
    actors.sort_by(|a, b| {
        b.coordinated
            .cmp(&a.coordinated)
            .then(b.posts.cmp(&a.posts))
            .then(a.key().cmp(&b.key()))
    });
    for a in actors.iter().take(opts.max_channels) {
        let name = match opts.pseudonymiser {
            Some(p) => format!(
                "{} account {}",
                a.platform,
                p.account(&a.platform, &a.actor_id)
            ),
            None => format!("{} account {}", a.platform, a.display()),
        };
        let id = opencti_name_id(oc.channel(), &name);
        let mut o = ctx.base(oc.channel(), &id, FIXED_CREATED, FIXED_CREATED);
        o.insert("name".into(), json!(name));
        o.insert("channel_types".into(), json!([a.platform]));
        o.insert(
            "description".into(),
            json!(format!(
                "{} posts in incident {}{}.",
                a.posts,
                inc.id,
                if a.coordinated {
                    "; member of a coordination network"
                } else {
                    ""
                }
            )),
        );
        o.insert(
            "extensions".into(),
            json!({ OPENCTI_EXTENSION: {"extension_type": "new-sdo"} }),
        );
        members.push(objs.push(Value::Object(o)));
        members.push(objs.push(ctx.relationship("uses", &camp_id, &id, &created, &modified, None)));
    }

    // Observables inside one observed-data.
    let mut observed: Vec<String> = Vec::new();
    for a in &inc.actors {
        observed.push(objs.push(ctx.account(&a.platform, &a.actor_id, a.handle.as_deref())));
    }
    for l in &inc.links {
        if l.key.is_empty() {
            continue;
        }
        observed.push(objs.push(ctx.sco("url", json!({"value": l.key}), &[])));
    }
    for d in &inc.domains {
        if d.key.is_empty() {
            continue;
        }
        observed.push(objs.push(ctx.sco("domain-name", json!({"value": d.key}), &[])));
    }
    // Media files (`pharos media scan`): a `file` with its SHA-256 and PDQ
    // hash (custom hash name `x_pdq`), related to the incident; a `note`
    // for what its provenance says (C2PA, XMP).
    let mut media_notes: Vec<(String, &pharos_assess::incident::MediaRef)> = Vec::new();
    for m in &inc.media {
        let Some(file_id) = media_file(ctx, m, &sc) else {
            continue;
        };
        let file_id = objs.push(file_id);
        observed.push(file_id.clone());
        media_notes.push((file_id, m));
    }
    members.extend(observed.iter().cloned());
    for (file_id, m) in &media_notes {
        let why = format!(
            "{} ({}×{}, PDQ quality {}) in {} posts of incident {}{}: {}",
            m.kind,
            m.width,
            m.height,
            m.quality,
            m.post_count,
            inc.id,
            m.technique
                .as_deref()
                .map(|t| format!(" (DISARM {t})"))
                .unwrap_or_default(),
            m.provenance()
        );
        members.push(objs.push(ctx.relationship(
            "related-to",
            &inc_id,
            file_id,
            &created,
            &modified,
            Some(sc.text(&why)),
        )));
        if m.c2pa.is_none() && m.xmp_source_type.is_none() {
            continue;
        }
        let note_id = sdo_id("note", &format!("{}|media|{}", inc.id, m.sha256));
        let mut note = ctx.base("note", &note_id, &created, &modified);
        note.insert(
            "abstract".into(),
            json!(format!(
                "Provenance of {}: {}",
                sc.text(&m.display()),
                match m.ai {
                    Some(pharos_assess::incident::AiDeclaration::SignedC2pa) =>
                        "declared AI-generated (valid C2PA manifest)",
                    Some(pharos_assess::incident::AiDeclaration::BrokenC2pa) =>
                        "declared AI-generated (C2PA manifest present, signature does not verify)",
                    Some(pharos_assess::incident::AiDeclaration::Xmp) =>
                        "declared AI-generated (unsigned XMP only)",
                    None if m.c2pa.as_ref().is_some_and(|c| !c.valid) =>
                        "C2PA manifest present, signature does not verify",
                    None => "provenance metadata",
                }
            )),
        );
        note.insert("content".into(), json!(sc.text(&why)));
        note.insert("authors".into(), json!([opts.producer]));
        note.insert("object_refs".into(), json!([file_id, inc_id]));
        members.push(objs.push(Value::Object(note)));
    }
    let mut od_ref = None;
    if !observed.is_empty() {
        let od_id = sdo_id("observed-data", &inc.id);
        let mut od = ctx.base("observed-data", &od_id, &created, &modified);
        od.insert("first_observed".into(), json!(created));
        od.insert("last_observed".into(), json!(modified));
        od.insert("number_observed".into(), json!(stix_count(inc.posts.len())));
        od.insert("object_refs".into(), json!(observed));
        members.push(objs.push(Value::Object(od)));
        od_ref = Some(od_id);
    }

    // Sightings by the producer: the campaign, and each technique.
    let sighting = |of: &str, count: usize, desc: String| -> Value {
        let id = sdo_id("sighting", &format!("{}|{of}", inc.id));
        let mut s = ctx.base("sighting", &id, &created, &modified);
        s.insert("sighting_of_ref".into(), json!(of));
        s.insert("where_sighted_refs".into(), json!([ctx.producer]));
        s.insert("first_seen".into(), json!(created));
        s.insert("last_seen".into(), json!(modified));
        s.insert("count".into(), json!(stix_count(count)));
        s.insert("description".into(), json!(desc));
        if let Some(od) = &od_ref {
            s.insert("observed_data_refs".into(), json!([od]));
        }
        Value::Object(s)
    };
    members.push(objs.push(sighting(
        &camp_id,
        inc.posts.len(),
        format!(
            "{} posts by {} accounts.",
            inc.posts.len(),
            inc.actors.len()
        ),
    )));
    for (ap_id, tag) in &techniques {
        members.push(objs.push(sighting(
            ap_id,
            tag.evidence.len(),
            format!("{} {}: {}", tag.t_id, tag.name, sc.text(&tag.shown_by)),
        )));
    }

    // Shared-template networks (DISARM T0092 Build Network): the line the
    // accounts sign their posts with is the evidence, as a note on the
    // incident and its campaign.
    for n in &inc.networks {
        let Some(line) = n.template.as_deref() else {
            continue;
        };
        let note_id = sdo_id("note", &format!("{}|template|{}", inc.id, n.id));
        let mut note = ctx.base("note", &note_id, &created, &modified);
        note.insert(
            "abstract".into(),
            json!(format!(
                "Shared template (DISARM T0092 Build Network): {} accounts sign their posts alike",
                n.accounts.len()
            )),
        );
        let accounts: Vec<String> = n
            .accounts
            .iter()
            .map(|a| match opts.pseudonymiser {
                Some(p) => {
                    let (platform, actor) = a.split_once(':').unwrap_or(("", a));
                    format!("{platform}:{}", p.account(platform, actor))
                }
                None => a.clone(),
            })
            .collect();
        note.insert(
            "content".into(),
            json!(format!(
                "{} accounts that look independent sign {} posts with the same line: «{}». Accounts: {}. Evidence {} of incident {}.",
                n.accounts.len(),
                n.coordinated_posts,
                sc.text(line),
                accounts.join(", "),
                sc.evidence(&n.id),
                inc.id
            )),
        );
        note.insert("authors".into(), json!([opts.producer]));
        note.insert("object_refs".into(), json!([inc_id, camp_id]));
        members.push(objs.push(Value::Object(note)));
    }

    // The assessment as a note, for people.
    let note_id = sdo_id("note", &inc.id);
    let mut note = ctx.base("note", &note_id, &created, &modified);
    note.insert(
        "abstract".into(),
        json!(format!("Pharos assessment: {title}")),
    );
    note.insert(
        "content".into(),
        json!(note_text(inc, &sc, &title, &summary)),
    );
    note.insert("authors".into(), json!([opts.producer]));
    note.insert("object_refs".into(), json!([inc_id, camp_id]));
    members.push(objs.push(Value::Object(note)));

    let report_id = sdo_id("report", &inc.id);
    let mut report = ctx.base("report", &report_id, &created, &modified);
    report.insert("name".into(), json!(format!("Pharos incident: {title}")));
    report.insert("description".into(), json!(summary));
    report.insert("report_types".into(), json!(["campaign"]));
    report.insert("published".into(), json!(modified));
    report.insert("confidence".into(), json!(pct(inc.confidence.value)));
    let mut refs: Vec<String> = Vec::new();
    let mut seen = HashSet::new();
    for m in members {
        if seen.insert(m.clone()) {
            refs.push(m);
        }
    }
    report.insert("object_refs".into(), json!(refs));
    objs.push(Value::Object(report));
}

/// The `file` observable of a scanned media file: `hashes` with its
/// SHA-256 (the id's contributing property, so the same bytes are one
/// object in every bundle) and its PDQ hash under the custom hash name
/// `x_pdq` (STIX 2.1 allows hash names outside the vocabulary when they
/// start with `x_`) and its file name. `None` for a
/// hash that is not 64 hex digits (never exported as a broken object).
fn media_file(ctx: &Ctx, m: &pharos_assess::incident::MediaRef, sc: &Scrubber) -> Option<Value> {
    let hex64 = |h: &str| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit());
    if !hex64(&m.sha256) {
        return None;
    }
    let sha = m.sha256.to_ascii_lowercase();
    let mut hashes = json!({"SHA-256": sha});
    if hex64(&m.pdq) {
        hashes["x_pdq"] = json!(m.pdq.to_ascii_lowercase());
    }
    let name = m
        .file
        .rsplit(['/', '\\'])
        .next()
        .map(|n| sc.text(n))
        .filter(|n| !n.trim().is_empty());
    let mut extra: Vec<(&str, Value)> = vec![("hashes", hashes)];
    if let Some(n) = name {
        extra.push(("name", json!(n)));
    }
    Some(ctx.sco("file", json!({"hashes": {"SHA-256": sha}}), &extra))
}

/// What a live finding is: the server shares narratives and coordination
/// networks before `pharos assess` makes an incident of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindingKind {
    Narrative,
    Network,
}

/// A narrative or a coordination network, as the server knows it.
#[derive(Clone, Debug)]
pub struct Finding {
    pub kind: FindingKind,
    /// Stable key: `narrative:12`, `network:3`.
    pub key: String,
    /// The narrative's label, or the network's name.
    pub name: String,
    pub description: String,
    /// `(platform, account id, handle)`.
    pub accounts: Vec<(String, String, Option<String>)>,
    pub links: Vec<String>,
    pub first_seen: EventTime,
    pub last_seen: EventTime,
}

/// One live finding as a STIX 2.1 bundle, built as [`export_bundle`] builds
/// incidents (same producer identity, marking, account, URL and narrative
/// objects and ids): a `grouping` (context `suspicious-activity`) of the
/// finding's narrative (an OpenCTI narrative object), accounts and links.
pub fn finding_bundle(f: &Finding, opts: &ExportOptions) -> (Value, ExportSummary) {
    let ctx = Ctx::new(opts);
    let mut objs = Objects {
        list: Vec::new(),
        seen: HashSet::new(),
    };
    ctx.preamble(&mut objs, false);
    let created = ts(f.first_seen);
    let modified = ts(f.last_seen.max(f.first_seen));
    let mut refs: Vec<String> = Vec::new();
    let oc = opts.opencti_types;
    let title = match f.kind {
        FindingKind::Narrative => {
            let name = f.name.trim();
            if !name.is_empty() {
                let id = opencti_name_id(oc.narrative(), name);
                let mut o = ctx.base(oc.narrative(), &id, FIXED_CREATED, FIXED_CREATED);
                o.insert("name".into(), json!(name));
                o.insert("description".into(), json!(f.description));
                o.insert(
                    "extensions".into(),
                    json!({ OPENCTI_EXTENSION: {"extension_type": "new-sdo"} }),
                );
                refs.push(objs.push(Value::Object(o)));
            }
            format!("Narrative: {name}")
        }
        FindingKind::Network => f.name.clone(),
    };
    for (platform, id, handle) in &f.accounts {
        refs.push(objs.push(ctx.account(platform, id, handle.as_deref())));
    }
    for l in f.links.iter().filter(|l| !l.is_empty()) {
        refs.push(objs.push(ctx.sco("url", json!({"value": l}), &[])));
    }
    if refs.is_empty() {
        refs.push(ctx.producer.clone());
    }
    let gid = sdo_id("grouping", &f.key);
    let mut g = ctx.base("grouping", &gid, &created, &modified);
    g.insert("name".into(), json!(title));
    g.insert("description".into(), json!(f.description));
    g.insert("context".into(), json!("suspicious-activity"));
    g.insert("object_refs".into(), json!(refs));
    g.insert(
        "external_references".into(),
        json!([{"source_name": "pharos", "external_id": f.key}]),
    );
    objs.push(Value::Object(g));
    let summary = summarise(&objs.list, 0);
    for o in &mut objs.list {
        prune_empty(o);
    }
    let key = format!(
        "{}|{}|{}@{}",
        opts.producer,
        opts.tlp,
        f.key,
        f.last_seen.millis()
    );
    let bundle = json!({"type": "bundle", "id": sdo_id("bundle", &key), "objects": objs.list});
    (bundle, summary)
}

/// Replaces `key` in `s` where it is not part of a longer identifier
/// (`twitter:1` is not replaced inside `twitter:10`).
fn replace_whole(s: &str, key: &str, by: &str) -> String {
    let is_id = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(key) {
        let before = rest[..i].chars().next_back();
        let after = rest[i + key.len()..].chars().next();
        out.push_str(&rest[..i]);
        if before.is_some_and(is_id) || after.is_some_and(is_id) {
            out.push_str(key);
        } else {
            out.push_str(by);
        }
        rest = &rest[i + key.len()..];
    }
    out.push_str(rest);
    out
}

/// STIX forbids empty lists (and an empty object says nothing): drops both,
/// at every depth.
fn prune_empty(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for x in m.values_mut() {
                prune_empty(x);
            }
            m.retain(|_, x| match x {
                Value::Array(a) => !a.is_empty(),
                Value::Object(o) => !o.is_empty(),
                _ => true,
            });
        }
        Value::Array(a) => {
            for x in a.iter_mut() {
                prune_empty(x);
            }
        }
        _ => {}
    }
}

fn note_text(inc: &Incident, sc: &Scrubber, title: &str, summary: &str) -> String {
    let mut s = format!("# {title}\n\n{summary}\n\n");
    s.push_str(&format!(
        "Severity {:.2}, confidence {:.2}; {} posts by {} accounts, {} to {}.\n\n",
        inc.severity.value,
        inc.confidence.value,
        inc.posts.len(),
        inc.actors.len(),
        ts(inc.first_seen),
        ts(inc.last_seen)
    ));
    s.push_str("## ABCDE\n\n");
    for (name, st) in [
        ("Actor", &inc.abcde.actor),
        ("Behaviour", &inc.abcde.behaviour),
        ("Content", &inc.abcde.content),
        ("Degree", &inc.abcde.degree),
        ("Effect", &inc.abcde.effect),
    ] {
        if !st.statement.is_empty() {
            s.push_str(&format!("- **{name}**: {}\n", sc.text(&st.statement)));
        }
    }
    if !inc.techniques.is_empty() {
        s.push_str("\n## DISARM techniques\n\n");
        for t in &inc.techniques {
            s.push_str(&format!(
                "- {} {}: {} ({} pieces of evidence)\n",
                t.t_id,
                t.name,
                sc.text(&t.shown_by),
                t.evidence.len()
            ));
        }
    }
    if !inc.media.is_empty() {
        s.push_str("\n## Media\n\n");
        for m in inc.media.iter().take(20) {
            s.push_str(&format!(
                "- {} {} (PDQ {}), {} posts: {}\n",
                m.kind,
                sc.text(&m.display()),
                m.pdq,
                m.post_count,
                sc.text(&m.provenance())
            ));
        }
    }
    for (name, score) in [("Severity", &inc.severity), ("Confidence", &inc.confidence)] {
        if !score.terms.is_empty() {
            s.push_str(&format!("\n## {name} terms\n\n"));
            for t in &score.terms {
                s.push_str(&format!(
                    "- {} {:.2} × {:.2}: {}\n",
                    t.name,
                    t.value,
                    t.weight,
                    sc.text(&t.explanation)
                ));
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finding_is_built_like_an_incident_export() {
        let f = Finding {
            kind: FindingKind::Narrative,
            key: "narrative:7".into(),
            name: "The dam was sabotaged".into(),
            description: "12 posts".into(),
            accounts: vec![("twitter".into(), "42".into(), None)],
            links: vec!["https://x.example/a".into()],
            first_seen: EventTime(1_700_000_000_000),
            last_seen: EventTime(1_700_000_060_000),
        };
        let opts = ExportOptions {
            tlp: Tlp::Red,
            ..Default::default()
        };
        let (b, summary) = finding_bundle(&f, &opts);
        assert_eq!(crate::stix::check::check_bundle(&b), Vec::<String>::new());
        let objs = b["objects"].as_array().unwrap();
        assert_eq!(summary.objects, objs.len());
        let ctx = Ctx::new(&opts);
        let find = |ty: &str| objs.iter().find(|o| o["type"] == ty).unwrap().clone();
        // The same ids as an incident export gives the same things.
        assert_eq!(find("identity")["id"], json!(producer_id("Pharos")));
        assert_eq!(find("user-account"), ctx.account("twitter", "42", None));
        assert_eq!(
            find("x-opencti-narrative")["id"],
            json!(opencti_name_id(
                "x-opencti-narrative",
                "the dam was sabotaged"
            ))
        );
        for o in objs.iter().filter(|o| o["type"] != "marking-definition") {
            assert_eq!(
                o["object_marking_refs"],
                json!([Tlp::Red.marking_id()]),
                "{o}"
            );
        }
        assert_eq!(find("grouping")["object_refs"].as_array().unwrap().len(), 3);
        assert_eq!(
            b,
            finding_bundle(&f, &opts).0,
            "the same finding gives the same bundle"
        );
    }

    #[test]
    fn whole_identifiers_only_are_replaced() {
        assert_eq!(
            replace_whole("twitter:1 and twitter:10, (twitter:1)", "twitter:1", "P"),
            "P and twitter:10, (P)"
        );
        assert_eq!(replace_whole("xtwitter:1", "twitter:1", "P"), "xtwitter:1");
    }

    #[test]
    fn empty_lists_and_objects_are_pruned_at_every_depth() {
        let mut v = json!({"a": [], "b": {"c": [], "d": {}}, "e": [1, {"f": []}], "g": ""});
        prune_empty(&mut v);
        assert_eq!(v, json!({"e": [1, {}], "g": ""}));
    }
}

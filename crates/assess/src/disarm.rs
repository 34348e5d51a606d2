//! The DISARM framework: its techniques and tactics, keyed on their T- and
//! TA-numbers, and the table of techniques Pharos can itself observe.
//!
//! - [`Catalogue`]: DISARM read from its STIX 2.1 bundle (the DISARM
//!   Foundation publishes one per release, e.g. v1.6 with 391 techniques and
//!   16 tactics). Techniques are keyed on the T-number (`T0049.002`), never
//!   on the STIX id: the ids change between releases, the T-numbers do not.
//! - [`OBSERVABLE`] / [`observable`]: which techniques each signal Pharos
//!   computes can show, with the evidence that shows it. The T-numbers and
//!   names are checked against the v1.6 bundle by the `disarm_real_data`
//!   test (`cargo test -p pharos-assess --features real-data`).
//! - [`save_to_store`] / [`load_from_store`]: the catalogue kept in the store
//!   (component `disarm`), so incidents and exports can name techniques
//!   without the bundle at hand.

use pharos_store::{DisarmCatalogue, DisarmTactic, DisarmTechnique};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// A DISARM technique (or sub-technique, whose T-number has a dot).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Technique {
    /// `T0049` or `T0049.002`.
    pub t_id: String,
    pub name: String,
    /// The tactics (TA-numbers) the technique serves, in bundle order.
    pub tactic_ids: Vec<String>,
    /// Their names, in the same order.
    pub tactic_names: Vec<String>,
    pub description: Option<String>,
}

impl Technique {
    /// The parent technique of a sub-technique (`T0049` for `T0049.002`).
    pub fn parent_id(&self) -> Option<&str> {
        self.t_id.split_once('.').map(|(p, _)| p)
    }

    /// The technique's page on the DISARM Foundation's site.
    pub fn url(&self) -> String {
        technique_url(&self.t_id)
    }
}

/// The DISARM page of a technique.
pub fn technique_url(t_id: &str) -> String {
    format!(
        "https://github.com/DISARMFoundation/DISARMframeworks/blob/main/generated_pages/techniques/{t_id}.md"
    )
}

/// A DISARM tactic (a phase of an influence operation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tactic {
    /// `TA17`.
    pub ta_id: String,
    pub name: String,
    /// The kill-chain phase name techniques use to point at it (`maximise-exposure`).
    pub shortname: String,
    pub description: Option<String>,
}

/// Why a DISARM bundle could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DisarmError {
    #[error("cannot read DISARM bundle {path}: {reason}")]
    Io { path: String, reason: String },
    #[error("{what} is not JSON: {reason}")]
    Json { what: String, reason: String },
    #[error("{what} is not a STIX bundle: {reason}")]
    NotABundle { what: String, reason: String },
    #[error(
        "{what} holds no DISARM techniques (no attack-pattern with a T-number under source_name \"mitre-attack\" or \"DISARM\")"
    )]
    Empty { what: String },
    #[error("store: {0}")]
    Store(#[from] pharos_store::StoreError),
}

/// The DISARM framework as read from its STIX bundle.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Catalogue {
    techniques: BTreeMap<String, Technique>,
    tactics: BTreeMap<String, Tactic>,
    skipped: Vec<String>,
}

/// Is `s` a DISARM technique number (`T0049`, `T0049.002`)?
pub fn is_t_number(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: &[u8]| !r.is_empty() && r.iter().all(u8::is_ascii_digit);
    match b {
        [b'T', rest @ ..] => match rest.iter().position(|&c| c == b'.') {
            None => rest.len() == 4 && digits(rest),
            Some(4) => digits(&rest[..4]) && rest.len() == 8 && digits(&rest[5..]),
            Some(_) => false,
        },
        _ => false,
    }
}

fn is_ta_number(s: &str) -> bool {
    s.len() >= 3 && s.starts_with("TA") && s[2..].bytes().all(|c| c.is_ascii_digit())
}

/// The first external id of `o` that `pred` accepts, from the DISARM or
/// mitre-attack references (DISARM's own bundles use `mitre-attack` for
/// techniques and `DISARM` for tactics).
fn external_id(o: &Value, pred: fn(&str) -> bool) -> Option<String> {
    o.get("external_references")?
        .as_array()?
        .iter()
        .filter(|r| {
            matches!(
                r.get("source_name").and_then(Value::as_str),
                Some("mitre-attack" | "DISARM" | "disarm")
            )
        })
        .filter_map(|r| r.get("external_id").and_then(Value::as_str))
        .find(|id| pred(id))
        .map(str::to_string)
}

fn str_field(o: &Value, k: &str) -> Option<String> {
    o.get(k)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn is_withdrawn(o: &Value) -> bool {
    o.get("revoked").and_then(Value::as_bool) == Some(true)
        || o.get("x_mitre_deprecated").and_then(Value::as_bool) == Some(true)
}

fn slug(name: &str) -> String {
    name.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

impl Catalogue {
    /// Reads the DISARM framework from a STIX 2.1 bundle.
    ///
    /// Techniques are `attack-pattern`s with a T-number external id; tactics
    /// are `x-mitre-tactic`s with a TA-number, linked to techniques through
    /// the techniques' `kill_chain_phases` (phase name = the tactic's
    /// `x_mitre_shortname`). Revoked or deprecated objects and
    /// attack-patterns without a T-number are left out and listed in
    /// [`Catalogue::skipped`]; so are techniques naming an unknown phase
    /// (kept, without that tactic).
    pub fn from_bundle_json(bytes: &[u8]) -> Result<Catalogue, DisarmError> {
        Self::parse(bytes, "DISARM bundle")
    }

    /// Reads the bundle at `path` ([`Catalogue::from_bundle_json`]).
    pub fn load(path: impl AsRef<Path>) -> Result<Catalogue, DisarmError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| DisarmError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::parse(&bytes, &path.display().to_string())
    }

    fn parse(bytes: &[u8], what: &str) -> Result<Catalogue, DisarmError> {
        let v: Value = serde_json::from_slice(bytes).map_err(|e| DisarmError::Json {
            what: what.to_string(),
            reason: e.to_string(),
        })?;
        let not_bundle = |reason: &str| DisarmError::NotABundle {
            what: what.to_string(),
            reason: reason.to_string(),
        };
        if v.get("type").and_then(Value::as_str) != Some("bundle") {
            return Err(not_bundle("its \"type\" is not \"bundle\""));
        }
        let objects = v
            .get("objects")
            .and_then(Value::as_array)
            .ok_or_else(|| not_bundle("it has no \"objects\" array"))?;

        let mut cat = Catalogue::default();
        let mut by_phase: HashMap<String, String> = HashMap::new();
        for (i, o) in objects.iter().enumerate() {
            if o.get("type").and_then(Value::as_str) != Some("x-mitre-tactic") {
                continue;
            }
            let sid = str_field(o, "id").unwrap_or_else(|| format!("object {}", i + 1));
            if is_withdrawn(o) {
                cat.skipped
                    .push(format!("{sid}: revoked or deprecated tactic"));
                continue;
            }
            let Some(ta_id) = external_id(o, is_ta_number) else {
                cat.skipped
                    .push(format!("{sid}: tactic without a TA-number"));
                continue;
            };
            let name = str_field(o, "name").unwrap_or_else(|| ta_id.clone());
            let shortname = str_field(o, "x_mitre_shortname").unwrap_or_else(|| slug(&name));
            by_phase.insert(shortname.clone(), ta_id.clone());
            cat.tactics.insert(
                ta_id.clone(),
                Tactic {
                    ta_id,
                    name,
                    shortname,
                    description: str_field(o, "description"),
                },
            );
        }
        for (i, o) in objects.iter().enumerate() {
            if o.get("type").and_then(Value::as_str) != Some("attack-pattern") {
                continue;
            }
            let sid = str_field(o, "id").unwrap_or_else(|| format!("object {}", i + 1));
            if is_withdrawn(o) {
                cat.skipped
                    .push(format!("{sid}: revoked or deprecated technique"));
                continue;
            }
            let Some(t_id) = external_id(o, is_t_number) else {
                cat.skipped
                    .push(format!("{sid}: attack-pattern without a T-number"));
                continue;
            };
            let Some(name) = str_field(o, "name") else {
                cat.skipped.push(format!("{sid} ({t_id}): no name"));
                continue;
            };
            let mut tactic_ids: Vec<String> = Vec::new();
            let phases = o.get("kill_chain_phases").and_then(Value::as_array);
            for p in phases.into_iter().flatten() {
                let Some(phase) = p.get("phase_name").and_then(Value::as_str) else {
                    continue;
                };
                match by_phase.get(phase) {
                    Some(ta) if !tactic_ids.contains(ta) => tactic_ids.push(ta.clone()),
                    Some(_) => {}
                    None => cat
                        .skipped
                        .push(format!("{t_id}: unknown kill-chain phase {phase:?}")),
                }
            }
            let tactic_names = tactic_ids
                .iter()
                .map(|ta| cat.tactics[ta].name.clone())
                .collect();
            let tech = Technique {
                t_id: t_id.clone(),
                name,
                tactic_ids,
                tactic_names,
                description: str_field(o, "description"),
            };
            if cat.techniques.insert(t_id.clone(), tech).is_some() {
                cat.skipped.push(format!(
                    "{sid}: {t_id} appears more than once; the later object is kept"
                ));
            }
        }
        if cat.techniques.is_empty() {
            return Err(DisarmError::Empty {
                what: what.to_string(),
            });
        }
        Ok(cat)
    }

    /// The technique with this T-number.
    pub fn get(&self, t_id: &str) -> Option<&Technique> {
        self.techniques.get(t_id)
    }

    /// The tactic with this TA-number.
    pub fn tactic(&self, ta_id: &str) -> Option<&Tactic> {
        self.tactics.get(ta_id)
    }

    /// All techniques, in T-number order.
    pub fn techniques(&self) -> impl ExactSizeIterator<Item = &Technique> + DoubleEndedIterator {
        self.techniques.values()
    }

    /// All tactics, in TA-number order.
    pub fn tactics(&self) -> impl ExactSizeIterator<Item = &Tactic> + DoubleEndedIterator {
        self.tactics.values()
    }

    /// Objects of the bundle left out, each with the reason.
    pub fn skipped(&self) -> &[String] {
        &self.skipped
    }
}

/// A signal Pharos computes that can show a DISARM technique.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Signal {
    /// Accounts acting together within seconds, again and again (coordination networks).
    CoordinatedNetwork,
    /// Accounts resharing the same posts together (co-retweet / forward rings).
    ReshareRing,
    /// Many accounts posting the same or nearly the same text (near-duplicate families).
    CopyPasteFlood,
    /// A burst of a hashtag carried by flagged accounts.
    HashtagFlood,
    /// The same link pushed across platforms or through many domains.
    LinkLaundering,
    /// Posts matching a claim fact-checkers have already debunked.
    RecycledDebunkedClaim,
    /// Accounts whose behaviour is unlike people's (inauthenticity score, account age).
    InauthenticAccounts,
    /// A burst of a narrative, link or network far above its baseline.
    Burst,
    /// A burst of replies in one conversation, carried by flagged accounts.
    ReplyFlood,
    /// Pictures or videos that declare themselves made by generative AI
    /// (C2PA or the IPTC digital source type; `pharos media scan`).
    AiGeneratedMedia,
    /// Accounts whose profile pictures are near-identical (PDQ ≤ 31) to
    /// other accounts' (`pharos media scan` hashed local avatars).
    CopiedAccountImagery,
}

impl Signal {
    /// Every signal, in declaration order.
    pub const ALL: &'static [Signal] = &[
        Signal::CoordinatedNetwork,
        Signal::ReshareRing,
        Signal::CopyPasteFlood,
        Signal::HashtagFlood,
        Signal::LinkLaundering,
        Signal::RecycledDebunkedClaim,
        Signal::InauthenticAccounts,
        Signal::Burst,
        Signal::ReplyFlood,
        Signal::AiGeneratedMedia,
        Signal::CopiedAccountImagery,
    ];

    /// The signal's name in files and command lines (`coordinated-network`),
    /// as [`crate::incident::TechniqueTag::signal`] holds it.
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::CoordinatedNetwork => "coordinated-network",
            Signal::ReshareRing => "reshare-ring",
            Signal::CopyPasteFlood => "copy-paste-flood",
            Signal::HashtagFlood => "hashtag-flood",
            Signal::LinkLaundering => "link-laundering",
            Signal::RecycledDebunkedClaim => "recycled-debunked-claim",
            Signal::InauthenticAccounts => "inauthentic-accounts",
            Signal::Burst => "burst",
            Signal::ReplyFlood => "reply-flood",
            Signal::AiGeneratedMedia => "ai-generated-media",
            Signal::CopiedAccountImagery => "copied-account-imagery",
        }
    }
}

impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Signal {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Signal::ALL
            .iter()
            .copied()
            .find(|sig| sig.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = Signal::ALL.iter().map(|s| s.as_str()).collect();
                format!("unknown signal {s:?}; known: {}", known.join(", "))
            })
    }
}

/// A technique Pharos can observe, and the signal and evidence that show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Observable {
    pub signal: Signal,
    /// DISARM T-number (checked against the v1.6 bundle).
    pub t_id: &'static str,
    /// DISARM name of the technique (as in the v1.6 bundle).
    pub name: &'static str,
    /// The tactic (TA-number) the technique belongs to.
    pub tactic_id: &'static str,
    /// The evidence that shows it, in the analyst's words.
    pub shown_by: &'static str,
}

/// The techniques Pharos can observe, grouped by signal (in [`Signal::ALL`]
/// order). A signal may show more than one technique; the first of each
/// signal is its main one.
pub const OBSERVABLE: &[Observable] = &[
    Observable {
        signal: Signal::CoordinatedNetwork,
        t_id: "T0049.005",
        name: "Conduct Swarming",
        tactic_id: "TA17",
        shown_by: "a coordination network: accounts posting or sharing the same items within seconds of each other, repeatedly",
    },
    Observable {
        signal: Signal::CoordinatedNetwork,
        t_id: "T0092",
        name: "Build Network",
        tactic_id: "TA15",
        shown_by: "a coordination network whose accounts keep acting together across items and days",
    },
    Observable {
        signal: Signal::ReshareRing,
        t_id: "T0049.003",
        name: "Bots Amplify via Automated Forwarding and Reposting",
        tactic_id: "TA17",
        shown_by: "a reshare ring: accounts resharing (retweeting, forwarding) the same posts within seconds of each other",
    },
    Observable {
        signal: Signal::ReshareRing,
        t_id: "T0118",
        name: "Amplify Existing Narrative",
        tactic_id: "TA17",
        shown_by: "a reshare ring amplifying posts of a narrative that accounts outside the ring started",
    },
    Observable {
        signal: Signal::CopyPasteFlood,
        t_id: "T0084.001",
        name: "Use Copypasta",
        tactic_id: "TA06",
        shown_by: "a near-duplicate family: the same text, lightly edited, posted by many accounts",
    },
    Observable {
        signal: Signal::CopyPasteFlood,
        t_id: "T0049",
        name: "Flood Information Space",
        tactic_id: "TA17",
        shown_by: "a near-duplicate family posted in volume within a short time",
    },
    Observable {
        signal: Signal::HashtagFlood,
        t_id: "T0049.002",
        name: "Flood Existing Hashtag",
        tactic_id: "TA17",
        shown_by: "a burst of an existing hashtag carried by coordinated or suspicious accounts",
    },
    Observable {
        signal: Signal::LinkLaundering,
        t_id: "T0119.002",
        name: "Post across Platform",
        tactic_id: "TA17",
        shown_by: "the same link or text pushed on several platforms within a short time",
    },
    Observable {
        signal: Signal::LinkLaundering,
        t_id: "T0122",
        name: "Direct Users to Alternative Platforms",
        tactic_id: "TA17",
        shown_by: "posts pushing links to other channels and sites, bursting together",
    },
    Observable {
        signal: Signal::RecycledDebunkedClaim,
        t_id: "T0084",
        name: "Reuse Existing Content",
        tactic_id: "TA06",
        shown_by: "posts matching a claim that fact-checkers have already debunked",
    },
    Observable {
        signal: Signal::InauthenticAccounts,
        t_id: "T0146.007",
        name: "Automated Account Asset",
        tactic_id: "TA15",
        shown_by: "accounts with a high inauthenticity score: metronome-like timing, round-the-clock posting, mostly reshares or duplicates",
    },
    Observable {
        signal: Signal::InauthenticAccounts,
        t_id: "T0150.001",
        name: "Newly Created Asset",
        tactic_id: "TA15",
        shown_by: "accounts created shortly before they joined the incident",
    },
    Observable {
        signal: Signal::Burst,
        t_id: "T0049",
        name: "Flood Information Space",
        tactic_id: "TA17",
        shown_by: "a burst: a narrative, link or network posting far above its baseline",
    },
    Observable {
        signal: Signal::ReplyFlood,
        t_id: "T0116.001",
        name: "Post Inauthentic Social Media Comment",
        tactic_id: "TA09",
        shown_by: "a burst of replies in one conversation carried by coordinated or suspicious accounts",
    },
    Observable {
        signal: Signal::AiGeneratedMedia,
        t_id: "T0086.002",
        name: "Develop AI-Generated Images (Deepfakes)",
        tactic_id: "TA06",
        shown_by: "pictures whose C2PA manifest (strong when it verifies) or XMP metadata (weaker: unsigned) declares the IPTC source type trainedAlgorithmicMedia or compositeWithTrainedAlgorithmicMedia",
    },
    Observable {
        signal: Signal::AiGeneratedMedia,
        t_id: "T0087.001",
        name: "Develop AI-Generated Videos (Deepfakes)",
        tactic_id: "TA06",
        shown_by: "videos (or their preview images) whose C2PA manifest or XMP metadata declares a generative-AI source type",
    },
    Observable {
        signal: Signal::CopiedAccountImagery,
        t_id: "T0145.001",
        name: "Copy Account Imagery",
        tactic_id: "TA15",
        shown_by: "accounts whose profile pictures are near-identical (PDQ distance 31 or less) to other accounts'",
    },
];

/// The techniques a signal can show (the main one first).
pub fn observable(signal: Signal) -> &'static [Observable] {
    let start = OBSERVABLE.iter().position(|o| o.signal == signal);
    match start {
        None => &[],
        Some(s) => {
            let len = OBSERVABLE[s..]
                .iter()
                .take_while(|o| o.signal == signal)
                .count();
            &OBSERVABLE[s..s + len]
        }
    }
}

/// The DISARM v1.6 tactics: TA-number, name and the kill-chain phase name
/// techniques use for it (checked against the bundle by the real-data test),
/// so exports can name a technique's phase without the bundle at hand.
pub const TACTICS: &[(&str, &str, &str)] = &[
    ("TA01", "Plan Strategy", "plan-strategy"),
    ("TA02", "Plan Objectives", "plan-objectives"),
    ("TA05", "Microtarget", "microtarget"),
    ("TA06", "Develop Content", "develop-content"),
    (
        "TA07",
        "Select Channels and Affordances",
        "select-channels-and-affordances",
    ),
    ("TA08", "Conduct Pump Priming", "conduct-pump-priming"),
    ("TA09", "Deliver Content", "deliver-content"),
    ("TA10", "Drive Offline Activity", "drive-offline-activity"),
    (
        "TA11",
        "Persist in the Information Environment",
        "persist-in-the-information-environment",
    ),
    ("TA12", "Assess Effectiveness", "assess-effectiveness"),
    (
        "TA13",
        "Target Audience Analysis",
        "target-audience-analysis",
    ),
    ("TA14", "Develop Narratives", "develop-narratives"),
    ("TA15", "Establish Assets", "establish-assets"),
    ("TA16", "Establish Legitimacy", "establish-legitimacy"),
    ("TA17", "Maximise Exposure", "maximise-exposure"),
    ("TA18", "Drive Online Harms", "drive-online-harms"),
];

/// Name and kill-chain phase name of a tactic, from [`TACTICS`].
pub fn tactic_info(ta_id: &str) -> Option<(&'static str, &'static str)> {
    TACTICS
        .iter()
        .find(|(id, _, _)| *id == ta_id)
        .map(|&(_, name, phase)| (name, phase))
}

/// The observable entry for a T-number, if Pharos can observe it.
pub fn observable_technique(t_id: &str) -> Option<&'static Observable> {
    OBSERVABLE.iter().find(|o| o.t_id == t_id)
}

/// What [`save_to_store`] did, by T-number.
pub type SaveCounts = pharos_store::DisarmSaved;

/// Keeps the catalogue in the store: each technique and tactic replaces the
/// stored one with the same T- or TA-number (others are kept). One transaction.
pub fn save_to_store<S: DisarmCatalogue + ?Sized>(
    store: &mut S,
    cat: &Catalogue,
    source: &str,
) -> Result<SaveCounts, DisarmError> {
    let tactics: Vec<DisarmTactic> = cat
        .tactics()
        .map(|t| DisarmTactic {
            ta_id: t.ta_id.clone(),
            name: t.name.clone(),
            shortname: t.shortname.clone(),
            description: t.description.clone(),
        })
        .collect();
    let techniques: Vec<DisarmTechnique> = cat
        .techniques()
        .map(|t| DisarmTechnique {
            t_id: t.t_id.clone(),
            name: t.name.clone(),
            tactic_ids: t.tactic_ids.clone(),
            description: t.description.clone(),
        })
        .collect();
    Ok(store.save_disarm(&tactics, &techniques, source, pharos_core::now_ms())?)
}

/// The catalogue kept in the store by `pharos disarm import`, or `None` when
/// none was imported into this store.
pub fn load_from_store<S: DisarmCatalogue + ?Sized>(
    store: &S,
) -> Result<Option<Catalogue>, DisarmError> {
    let (tactics, techniques) = store.disarm()?;
    let mut cat = Catalogue::default();
    for t in tactics {
        cat.tactics.insert(
            t.ta_id.clone(),
            Tactic {
                ta_id: t.ta_id,
                name: t.name,
                shortname: t.shortname,
                description: t.description,
            },
        );
    }
    for t in techniques {
        let tactic_names = t
            .tactic_ids
            .iter()
            .map(|ta| {
                cat.tactics
                    .get(ta)
                    .map_or_else(|| ta.clone(), |t| t.name.clone())
            })
            .collect();
        cat.techniques.insert(
            t.t_id.clone(),
            Technique {
                t_id: t.t_id,
                name: t.name,
                tactic_ids: t.tactic_ids,
                tactic_names,
                description: t.description,
            },
        );
    }
    if cat.techniques.is_empty() {
        return Ok(None);
    }
    Ok(Some(cat))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pharos_store::SqliteStore;

    /// A small bundle in the shape of DISARM's own: tactics under `DISARM`,
    /// techniques under `mitre-attack`, linked by kill-chain phase.
    fn bundle(extra: &str) -> String {
        format!(
            r#"{{"type":"bundle","id":"bundle--1","objects":[
  {{"type":"x-mitre-tactic","id":"x-mitre-tactic--a","name":"Maximise Exposure","x_mitre_shortname":"maximise-exposure",
    "external_references":[{{"source_name":"DISARM","external_id":"TA17"}}]}},
  {{"type":"x-mitre-tactic","id":"x-mitre-tactic--b","name":"Develop Content",
    "external_references":[{{"source_name":"DISARM","external_id":"TA06"}}]}},
  {{"type":"attack-pattern","id":"attack-pattern--1","name":"Flood Information Space","description":"Flooding sources.",
    "kill_chain_phases":[{{"kill_chain_name":"mitre-attack","phase_name":"maximise-exposure"}}],
    "external_references":[{{"source_name":"mitre-attack","external_id":"T0049"}}]}},
  {{"type":"attack-pattern","id":"attack-pattern--2","name":"Flood Existing Hashtag",
    "kill_chain_phases":[{{"kill_chain_name":"mitre-attack","phase_name":"maximise-exposure"}},{{"kill_chain_name":"mitre-attack","phase_name":"develop-content"}}],
    "external_references":[{{"source_name":"mitre-attack","external_id":"T0049.002"}}]}},
  {{"type":"attack-pattern","id":"attack-pattern--3","name":"No number",
    "external_references":[{{"source_name":"capec","external_id":"CAPEC-1"}}]}},
  {{"type":"relationship","id":"relationship--1","relationship_type":"subtechnique-of","source_ref":"attack-pattern--2","target_ref":"attack-pattern--1"}}
  {extra}
]}}"#
        )
    }

    #[test]
    fn techniques_are_keyed_on_t_numbers_with_their_tactics() {
        let cat = Catalogue::from_bundle_json(bundle("").as_bytes()).unwrap();
        assert_eq!(cat.techniques().len(), 2);
        assert_eq!(cat.tactics().len(), 2);
        let t = cat.get("T0049.002").unwrap();
        assert_eq!(t.name, "Flood Existing Hashtag");
        assert_eq!(t.tactic_ids, ["TA17", "TA06"]);
        assert_eq!(t.tactic_names, ["Maximise Exposure", "Develop Content"]);
        assert_eq!(t.parent_id(), Some("T0049"));
        assert_eq!(
            cat.get("T0049").unwrap().description.as_deref(),
            Some("Flooding sources.")
        );
        // The tactic without x_mitre_shortname is found through its name's slug.
        assert_eq!(cat.tactic("TA06").unwrap().shortname, "develop-content");
        assert!(cat.get("attack-pattern--1").is_none());
        assert_eq!(cat.skipped().len(), 1, "{:?}", cat.skipped());
        assert!(cat.skipped()[0].contains("attack-pattern--3"));
    }

    #[test]
    fn revoked_and_unknown_phases_are_reported_not_fatal() {
        let extra = r#",{"type":"attack-pattern","id":"attack-pattern--9","name":"Old","revoked":true,
            "external_references":[{"source_name":"mitre-attack","external_id":"T0001"}]},
          {"type":"attack-pattern","id":"attack-pattern--8","name":"Odd phase",
            "kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":"nowhere"}],
            "external_references":[{"source_name":"DISARM","external_id":"T0118"}]}"#;
        let cat = Catalogue::from_bundle_json(bundle(extra).as_bytes()).unwrap();
        assert!(cat.get("T0001").is_none());
        let t = cat.get("T0118").unwrap();
        assert!(t.tactic_ids.is_empty());
        assert!(cat.skipped().iter().any(|s| s.contains("\"nowhere\"")));
        assert!(
            cat.skipped()
                .iter()
                .any(|s| s.contains("attack-pattern--9"))
        );
    }

    #[test]
    fn bad_bundles_say_what_is_wrong() {
        let e = Catalogue::from_bundle_json(b"{not json").unwrap_err();
        assert!(matches!(e, DisarmError::Json { .. }), "{e}");
        let e = Catalogue::from_bundle_json(br#"{"type":"indicator"}"#).unwrap_err();
        assert!(e.to_string().contains("not a STIX bundle"), "{e}");
        let e = Catalogue::from_bundle_json(br#"{"type":"bundle","objects":[]}"#).unwrap_err();
        assert!(e.to_string().contains("no DISARM techniques"), "{e}");
        let e = Catalogue::load("/nonexistent/DISARM.json").unwrap_err();
        assert!(e.to_string().contains("/nonexistent/DISARM.json"), "{e}");
    }

    #[test]
    fn t_numbers() {
        for ok in ["T0049", "T0049.002", "T0097.100"] {
            assert!(is_t_number(ok), "{ok}");
        }
        for bad in [
            "TA17",
            "T49",
            "T0049.",
            "T0049.02",
            "t0049",
            "T0049.0020",
            "X0049",
        ] {
            assert!(!is_t_number(bad), "{bad}");
        }
    }

    #[test]
    fn observable_groups_each_signal_and_covers_all() {
        for &s in Signal::ALL {
            let obs = observable(s);
            assert!(!obs.is_empty(), "{s} shows no technique");
            assert!(obs.iter().all(|o| o.signal == s));
            let total = OBSERVABLE.iter().filter(|o| o.signal == s).count();
            assert_eq!(
                obs.len(),
                total,
                "{s}: entries not contiguous in OBSERVABLE"
            );
            assert_eq!(s.as_str().parse::<Signal>().unwrap(), s);
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        assert!(OBSERVABLE.iter().all(|o| is_t_number(o.t_id)));
        assert!("nope".parse::<Signal>().is_err());
    }

    #[test]
    fn store_round_trip_and_reimport_replaces_by_t_number() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path().join("p.db")).unwrap();
        assert_eq!(load_from_store(&store).unwrap(), None);
        let cat = Catalogue::from_bundle_json(bundle("").as_bytes()).unwrap();
        let c = save_to_store(&mut store, &cat, "a.json").unwrap();
        assert_eq!((c.added, c.updated, c.unchanged, c.stored), (2, 0, 0, 2));
        let back = load_from_store(&store).unwrap().unwrap();
        assert_eq!(
            back.techniques().collect::<Vec<_>>(),
            cat.techniques().collect::<Vec<_>>()
        );
        assert_eq!(
            back.tactics().collect::<Vec<_>>(),
            cat.tactics().collect::<Vec<_>>()
        );

        // A later release renames T0049 under a new STIX id: the stored T0049 is replaced.
        let renamed = bundle("").replace(
            "\"attack-pattern--1\",\"name\":\"Flood Information Space\"",
            "\"attack-pattern--99\",\"name\":\"Flood the Information Space\"",
        );
        let cat2 = Catalogue::from_bundle_json(renamed.as_bytes()).unwrap();
        let c = save_to_store(&mut store, &cat2, "b.json").unwrap();
        assert_eq!((c.added, c.updated, c.unchanged, c.stored), (0, 1, 1, 2));
        let back = load_from_store(&store).unwrap().unwrap();
        assert_eq!(
            back.get("T0049").unwrap().name,
            "Flood the Information Space"
        );
    }
}

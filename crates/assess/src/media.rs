//! Pictures as evidence: the files posts reference, as `pharos media scan`
//! hashed them (SHA-256, PDQ, C2PA findings, XMP `DigitalSourceType`), and
//! the generative-AI declarations among them (DISARM T0086.002 Develop
//! AI-Generated Images, T0087.001 Develop AI-Generated Videos).
//!
//! How strong a declaration is: a valid C2PA manifest that declares
//! `trainedAlgorithmicMedia` or `compositeWithTrainedAlgorithmicMedia` is
//! strong (nobody gains by falsely signing that); a manifest that declares
//! it but does not verify, and the unsigned XMP field, are weaker (anyone
//! can write them), and the incident says which one it saw.
//!
//! AI media alone never makes an incident: generators label their output,
//! and honest posters share labelled pictures. Posts with AI-declared media
//! are listed in [`crate::Assessment::ai_media`] (with their technique); an
//! incident (coordination, copy-paste, claims, bursts) whose posts carry
//! such media gets the technique and the files as evidence. A campaign of
//! accounts posting the same generated picture together is found by the
//! `co-image` coordination layer, like any shared picture.

use crate::incident::{Evidence, MediaRef};
use crate::signals::{Signals, account_key};
use pharos_core::{MediaKind, Post};
use pharos_media::{AiDeclaration, C2pa};
use pharos_store::MediaRecord;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Posts listed per media file.
const MAX_POSTS: usize = 50;

/// One scanned file a post references, with its C2PA findings read.
#[derive(Clone, Debug, PartialEq)]
pub struct ScannedFile {
    pub record: MediaRecord,
    pub c2pa: Option<C2pa>,
    pub ai: Option<AiDeclaration>,
}

/// The scanned files of the assessed posts, by post (`platform:id`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MediaFiles {
    by_post: HashMap<String, Vec<ScannedFile>>,
    /// PDQ hash and quality by platform and reference (profile pictures
    /// are looked up this way: the same reference is the same file).
    by_ref: HashMap<(String, String), (String, u8)>,
}

impl MediaFiles {
    /// Reads the records `pharos media scan` stored. A record whose C2PA
    /// findings cannot be read (written by another version) keeps its
    /// hashes and is named in a warning; its provenance counts as unknown.
    pub fn new(records: Vec<MediaRecord>) -> MediaFiles {
        let mut by_post: HashMap<String, Vec<ScannedFile>> = HashMap::new();
        let mut by_ref = HashMap::new();
        for record in records {
            let c2pa = record.c2pa.as_deref().and_then(|j| {
                serde_json::from_str::<C2pa>(j)
                    .map_err(|e| {
                        tracing::warn!(
                            "media record {}/{} {:?}: unreadable C2PA findings: {e}",
                            record.platform,
                            record.post_id,
                            record.url
                        )
                    })
                    .ok()
            });
            let ai = pharos_media::ai_declaration(c2pa.as_ref(), record.xmp_source_type.as_deref());
            by_ref
                .entry((record.platform.clone(), record.url.clone()))
                .or_insert_with(|| (record.pdq.clone(), record.quality));
            by_post
                .entry(format!("{}:{}", record.platform, record.post_id))
                .or_default()
                .push(ScannedFile { record, c2pa, ai });
        }
        MediaFiles { by_post, by_ref }
    }

    /// The PDQ hash and quality stored for a reference on a platform.
    pub fn hash_of(&self, platform: &str, reference: &str) -> Option<(&str, u8)> {
        self.by_ref
            .get(&(platform.to_string(), reference.to_string()))
            .map(|(h, q)| (h.as_str(), *q))
    }

    /// The scanned files of a post (`platform:id`).
    pub fn of_post(&self, key: &str) -> &[ScannedFile] {
        self.by_post.get(key).map(Vec::as_slice).unwrap_or(&[])
    }

    /// No file was scanned.
    pub fn is_empty(&self) -> bool {
        self.by_post.is_empty()
    }
}

/// The kind the post gives the media item with this reference.
fn kind_of(post: &Post, url: &str) -> MediaKind {
    post.media
        .iter()
        .find(|m| m.url == url)
        .map(|m| m.kind)
        .unwrap_or_default()
}

/// Videos and animations show T0087.001, everything else T0086.002.
pub fn technique_for(kind: &str) -> &'static str {
    if kind == MediaKind::Video.as_str() || kind == MediaKind::Animation.as_str() {
        "T0087.001"
    } else {
        "T0086.002"
    }
}

/// One [`MediaRef`] per distinct file (by SHA-256) among `posts` (indices
/// into [`Signals::posts`], event-time order): AI-declared first (strongest
/// declaration first), then most posts, then by hash.
pub fn media_refs(sig: &Signals, posts: &[usize]) -> Vec<MediaRef> {
    if sig.media.is_empty() {
        return Vec::new();
    }
    struct Acc<'a> {
        file: &'a ScannedFile,
        kind: MediaKind,
        posts: Vec<String>,
        post_count: u64,
        accounts: HashSet<String>,
    }
    let mut by_hash: BTreeMap<&str, Acc> = BTreeMap::new();
    for &i in posts {
        let p = &sig.posts[i];
        let key = format!("{}:{}", p.platform, p.id);
        let mut seen_here = HashSet::new();
        for f in sig.media.of_post(&key) {
            if !seen_here.insert(f.record.sha256.as_str()) {
                continue;
            }
            let acc = by_hash.entry(&f.record.sha256).or_insert_with(|| Acc {
                file: f,
                kind: kind_of(p, &f.record.url),
                posts: Vec::new(),
                post_count: 0,
                accounts: HashSet::new(),
            });
            acc.post_count += 1;
            if acc.posts.len() < MAX_POSTS {
                acc.posts.push(key.clone());
            }
            acc.accounts.insert(account_key(p));
            // The strongest kind wins (a video's preview is still a video).
            if acc.kind != MediaKind::Video {
                let k = kind_of(p, &f.record.url);
                if matches!(k, MediaKind::Video | MediaKind::Animation) {
                    acc.kind = k;
                }
            }
        }
    }
    let mut out: Vec<MediaRef> = by_hash
        .into_values()
        .map(|a| {
            let r = &a.file.record;
            let kind = a.kind.as_str().to_string();
            MediaRef {
                id: Evidence::media_id(&r.sha256),
                file: r.url.clone(),
                sha256: r.sha256.clone(),
                pdq: r.pdq.clone(),
                quality: r.quality,
                width: r.width,
                height: r.height,
                technique: a.file.ai.map(|_| technique_for(&kind).to_string()),
                kind,
                posts: a.posts,
                post_count: a.post_count,
                accounts: a.accounts.len() as u64,
                ai: a.file.ai,
                c2pa: a.file.c2pa.clone(),
                c2pa_failures: a
                    .file
                    .c2pa
                    .as_ref()
                    .map(|c| c.failures.clone())
                    .unwrap_or_default(),
                xmp_source_type: r.xmp_source_type.clone(),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        let ai = |m: &MediaRef| m.ai.map_or(3, |d| d as u8);
        ai(a)
            .cmp(&ai(b))
            .then_with(|| b.post_count.cmp(&a.post_count))
            .then_with(|| a.sha256.cmp(&b.sha256))
    });
    out
}

/// Every AI-declared file among all the assessed posts (posts outside
/// incidents included): what [`crate::Assessment::ai_media`] lists.
pub fn ai_media(sig: &Signals) -> Vec<MediaRef> {
    let with_ai: Vec<usize> = (0..sig.posts.len())
        .filter(|&i| {
            let p = &sig.posts[i];
            sig.media
                .of_post(&format!("{}:{}", p.platform, p.id))
                .iter()
                .any(|f| f.ai.is_some())
        })
        .collect();
    let mut refs = media_refs(sig, &with_ai);
    refs.retain(|m| m.ai.is_some());
    refs
}

/// How an AI declaration reads in a technique's "shown by" sentence.
pub fn declaration_text(d: AiDeclaration) -> &'static str {
    match d {
        AiDeclaration::SignedC2pa => "in a valid C2PA manifest (strong)",
        AiDeclaration::BrokenC2pa => {
            "in a C2PA manifest whose signature does not verify (an unverified claim)"
        }
        AiDeclaration::Xmp => "only in the unsigned XMP DigitalSourceType (weaker)",
    }
}

/// An account whose profile picture is near-identical to other accounts'.
#[derive(Clone, Debug, PartialEq)]
pub struct AvatarShare {
    /// The account's picture reference (its latest).
    pub file: String,
    /// The PDQ hash of the group's first picture (the key of the reuse).
    pub pdq: String,
    /// The other accounts (`platform:actor_id`) with a picture of the group, sorted.
    pub others: Vec<String>,
}

/// Profile-picture reuse (DISARM T0145.001 Copy Account Imagery): each
/// account's latest avatar reference, its stored PDQ hash (quality at least
/// `min_quality`: flat default pictures collide), grouped at PDQ distance
/// ≤ [`crate::signals::IMAGE_DISTANCE`] (chains of copies are one group);
/// the accounts of groups holding two or more, by `platform:actor_id`.
pub fn avatar_reuse(
    posts: &[Post],
    files: &MediaFiles,
    min_quality: u8,
) -> HashMap<String, AvatarShare> {
    let mut latest: BTreeMap<String, (&str, &str)> = BTreeMap::new();
    for p in posts {
        if let Some(a) = p.actor.avatar.as_deref().filter(|a| !a.is_empty()) {
            latest.insert(account_key(p), (p.platform.as_str(), a));
        }
    }
    let mut hex: Vec<&str> = Vec::new();
    let mut of_account: Vec<(String, &str, usize)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (account, (platform, file)) in &latest {
        let Some((h, q)) = files.hash_of(platform, file) else {
            continue;
        };
        if q < min_quality || h.parse::<pharos_media::PdqHash>().is_err() {
            continue;
        }
        let k = *index.entry(h).or_insert_with(|| {
            hex.push(h);
            hex.len() - 1
        });
        of_account.push((account.clone(), file, k));
    }
    if of_account.len() < 2 {
        return HashMap::new();
    }
    let hashes: Vec<pharos_media::PdqHash> = hex.iter().filter_map(|h| h.parse().ok()).collect();
    let groups = pharos_media::groups(&hashes, crate::signals::IMAGE_DISTANCE);
    let mut members: HashMap<u32, Vec<&str>> = HashMap::new();
    for (account, _, k) in &of_account {
        members.entry(groups[*k]).or_default().push(account);
    }
    let mut out = HashMap::new();
    for (account, file, k) in &of_account {
        let g = groups[*k];
        let all = &members[&g];
        if all.len() < 2 {
            continue;
        }
        let mut others: Vec<String> = all
            .iter()
            .filter(|a| **a != account.as_str())
            .map(|a| a.to_string())
            .collect();
        others.sort();
        out.insert(
            account.clone(),
            AvatarShare {
                file: file.to_string(),
                pdq: hex[g as usize].to_string(),
                others,
            },
        );
    }
    out
}

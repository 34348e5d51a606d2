//! The generator loop: organic stream and campaign events merged by time,
//! written as canonical JSONL.

use crate::SimError;
use crate::actors::{self, Platform};
use crate::campaigns::{self, Action, Plan};
use crate::clock::OrganicClock;
use crate::config::SimConfig;
use crate::content::CONTENT;
use crate::factcheck;
use crate::lexicon::{EMOJI, LANGS};
use crate::rng::{SimRng, chance, exp, pick};
use crate::text::{article_url, organic_text, push_hashtags, video_url};
use crate::truth::{CampaignTruth, ClaimPostTruth, Summary, TemplateNetworkTruth, Truth};
use pharos_core::{Actor, Engagement, EventTime, Link, Media, MediaKind, Post, Provenance};
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Zipf};
use std::collections::HashMap;
use std::io::{BufWriter, Write};

/// Posts between progress reports.
const PROGRESS_EVERY: u64 = 1 << 16;
/// Recent posts kept per (platform, language) as reply and reshare targets.
const RING: usize = 256;
const TWEPOCH: i64 = 1_288_834_974_657;
/// Zipf exponent of organic activity over accounts: the top 1 % of accounts
/// write about a third of organic posts.
const ZIPF_S: f64 = 0.8;

/// A recently written post, kept as a target for replies and reshares.
#[derive(Clone, Debug)]
struct Recent {
    id: String,
    handle: String,
    text: String,
    links: Vec<Link>,
}

/// Bounded ring of recent posts.
struct Ring {
    buf: Vec<Recent>,
    head: usize,
    hot: Option<Recent>,
}

impl Ring {
    fn new() -> Ring {
        Ring {
            buf: Vec::with_capacity(RING),
            head: 0,
            hot: None,
        }
    }
    fn push(&mut self, r: Recent) {
        if self.buf.len() < RING {
            self.buf.push(r);
        } else {
            self.buf[self.head] = r;
            self.head = (self.head + 1) % RING;
        }
    }
    /// A target: the current viral post 35 % of the time, else a recent one (recency-biased).
    fn pick(&self, rng: &mut SimRng) -> Option<&Recent> {
        if self.buf.is_empty() {
            return None;
        }
        if self.hot.is_some() && chance(rng, 0.35) {
            return self.hot.as_ref();
        }
        let n = self.buf.len();
        let back = (exp(rng, 40.0) as usize).min(n - 1);
        // Newest is at head - 1 (once full) or at n - 1.
        let newest = if n < RING {
            n - 1
        } else {
            (self.head + RING - 1) % RING
        };
        Some(&self.buf[(newest + RING - back) % RING % n.max(1)])
    }
}

/// Per-campaign state while writing.
struct Running {
    slots: Vec<Option<Recent>>,
    posts: Vec<String>,
    /// Pictures its posts carry, and which are declared AI-generated.
    media: Vec<String>,
    ai_media: Vec<String>,
    cover: Vec<String>,
    first: Option<i64>,
    last: i64,
    platforms: [bool; 3],
}

struct Engine<'a> {
    cfg: &'a SimConfig,
    rng: SimRng,
    population: u32,
    zipf: Zipf<f64>,
    rings: Vec<Ring>,
    last_id: u64,
    counter: u64,
    seen: Vec<u64>,
    summary: Summary,
    langs: [u64; 6],
    platforms: [u64; 3],
    line: u64,
    network: crate::boilerplate::TemplateNetwork,
    /// The review URLs of the older debunked claims, by language and claim.
    debunked_urls: Vec<Vec<String>>,
    /// Posts that repeat a claim, and the reviews of each (truth).
    claim_posts: Vec<ClaimPostTruth>,
    /// Post id → its index in `claim_posts`.
    claim_of: HashMap<String, usize>,
}

impl Engine<'_> {
    /// Records that `post` repeats the claim reviewed at `factchecks`.
    fn repeats(&mut self, post: &str, factchecks: Vec<String>) {
        self.claim_of
            .insert(post.to_string(), self.claim_posts.len());
        self.claim_posts.push(ClaimPostTruth {
            post: post.to_string(),
            factchecks,
        });
    }

    /// Records a reshare of a post that repeats a claim as repeating it too.
    fn reshared(&mut self, reshare: &str, original: &str) {
        if let Some(&i) = self.claim_of.get(original) {
            let factchecks = self.claim_posts[i].factchecks.clone();
            self.repeats(reshare, factchecks);
        }
    }
}

fn ring_index(p: Platform, lang: usize) -> usize {
    p.index() * LANGS.len() + lang
}

impl Engine<'_> {
    fn next_id(&mut self, platform: Platform, actor: &Actor, handle: &str, t: i64) -> String {
        let snow = (((t - TWEPOCH).max(0) as u64) << 22).max(self.last_id + 1);
        self.last_id = snow;
        self.counter += 1;
        match platform {
            Platform::Twitter => snow.to_string(),
            Platform::Telegram => format!("{handle}/{}", 1000 + self.counter),
            Platform::Facebook => format!("{}_{}", actor.id, snow),
        }
    }

    fn engagement(&mut self, followers: u64, platform: Platform, reshare: bool) -> Engagement {
        if reshare {
            return Engagement {
                likes: Some(0),
                reshares: Some(0),
                replies: Some(0),
                views: None,
            };
        }
        let base = 1.0 + followers as f64 * 0.01;
        let likes = (base * (1.1 * crate::rng::normal(self.rng.random())).exp()) as u64;
        let reshares = (likes as f64 * self.rng.random_range(0.03..0.3)) as u64;
        let replies = (likes as f64 * self.rng.random_range(0.02..0.2)) as u64;
        let views = match platform {
            Platform::Telegram => {
                Some((followers as f64 * self.rng.random_range(0.15..1.3)) as u64)
            }
            Platform::Twitter => {
                Some((likes as f64 * self.rng.random_range(20.0..90.0)) as u64 + 3)
            }
            Platform::Facebook => None,
        };
        Engagement {
            likes: Some(likes),
            reshares: Some(reshares),
            replies: Some(replies),
            views,
        }
    }

    /// Builds the post; `text` and `links` are final, entities are read from the text.
    #[allow(clippy::too_many_arguments)]
    fn build(
        &mut self,
        platform: Platform,
        lang: usize,
        actor: Actor,
        t: i64,
        text: String,
        links: Vec<Link>,
        reply_to: Option<String>,
        reshare_of: Option<String>,
    ) -> Post {
        let handle = actor.handle.clone().unwrap_or_default();
        let id = self.next_id(platform, &actor, &handle, t);
        let followers = actor.followers.unwrap_or(0);
        let reshare = reshare_of.is_some();
        let engagement = self.engagement(followers, platform, reshare);
        let mut media = Vec::new();
        if !reshare
            && chance(
                &mut self.rng,
                if platform == Platform::Telegram {
                    0.2
                } else {
                    0.08
                },
            )
        {
            let kind = if chance(&mut self.rng, 0.8) {
                MediaKind::Photo
            } else {
                MediaKind::Video
            };
            let ext = if kind == MediaKind::Photo {
                "jpg"
            } else {
                "mp4"
            };
            let url = match platform {
                Platform::Telegram => format!("photos/file_{}.{ext}", self.counter),
                Platform::Twitter => format!(
                    "https://pbs.twimg.com/media/{:x}.{ext}",
                    self.rng.random::<u64>()
                ),
                Platform::Facebook => format!(
                    "https://scontent.xx.fbcdn.net/v/{:x}.{ext}",
                    self.rng.random::<u64>()
                ),
            };
            media.push(Media {
                url,
                kind,
                hash: None,
                key: None,
            });
        }
        let mut post = Post {
            platform: platform.as_str().to_string(),
            id,
            actor,
            time: EventTime(t),
            hashtags: pharos_core::text::hashtags(&text),
            mentions: pharos_core::text::mentions(&text),
            text,
            lang: Some(LANGS[lang].code.to_string()),
            links,
            domains: Vec::new(),
            reply_to,
            reshare_of,
            quote_of: None,
            media,
            engagement,
            provenance: Provenance {
                source: format!("pharos-sim:seed={}", self.cfg.seed),
                line: Some(self.line + 1),
                record: None,
            },
        };
        post.refresh_domains();
        self.langs[lang] += 1;
        self.platforms[platform.index()] += 1;
        if post.reshare_of.is_some() {
            self.summary.reshares += 1;
        }
        if post.reply_to.is_some() {
            self.summary.replies += 1;
        }
        post
    }

    fn reshare_text(platform: Platform, target: &Recent) -> String {
        match platform {
            Platform::Twitter => format!("RT @{}: {}", target.handle, target.text),
            _ => target.text.clone(),
        }
    }

    fn organic(&mut self, t: i64) -> Post {
        let rank = (self.zipf.sample(&mut self.rng) as u32).clamp(1, self.population) - 1;
        self.seen[rank as usize / 64] |= 1 << (rank % 64);
        let prof = actors::organic(self.cfg.seed, rank, self.population, self.cfg.start);
        let lang = &LANGS[prof.lang];
        let ri = ring_index(prof.platform, prof.lang);
        let (p_reshare, p_reply) = match prof.platform {
            Platform::Twitter => (0.28, 0.14),
            Platform::Telegram => (0.16, 0.05),
            Platform::Facebook => (0.22, 0.12),
        };
        let u: f64 = self.rng.random();
        if u < p_reshare + p_reply {
            let reshare = u < p_reshare;
            let target = self.rings[ri].pick(&mut self.rng).cloned();
            if let Some(target) = target {
                if reshare {
                    let text = Self::reshare_text(prof.platform, &target);
                    let post = self.build(
                        prof.platform,
                        prof.lang,
                        prof.actor,
                        t,
                        text,
                        target.links,
                        None,
                        Some(target.id.clone()),
                    );
                    self.reshared(&post.id, &target.id);
                    return post;
                }
                let mut text = String::new();
                if prof.platform == Platform::Twitter {
                    text.push('@');
                    text.push_str(&target.handle);
                    text.push(' ');
                }
                crate::text::fill(
                    &mut text,
                    pick(&mut self.rng, lang.replies),
                    lang,
                    &mut self.rng,
                );
                if chance(&mut self.rng, 0.15) {
                    text.push(' ');
                    text.push_str(pick(&mut self.rng, EMOJI));
                }
                return self.build(
                    prof.platform,
                    prof.lang,
                    prof.actor,
                    t,
                    text,
                    Vec::new(),
                    Some(target.id),
                    None,
                );
            }
        }
        // An original post.
        let mut text = String::with_capacity(200);
        let mut links = Vec::new();
        let mut recycled = None;
        if chance(&mut self.rng, 0.0015) {
            // An old debunked claim resurfaces.
            let c = &CONTENT[prof.lang];
            text.push_str(pick(&mut self.rng, lang.claim_leads));
            text.push(' ');
            let j = self.rng.random_range(0..c.debunked.len());
            text.push_str(c.debunked[j].text);
            text.push('.');
            self.summary.recycled_claim_posts += 1;
            recycled = Some(j);
        } else {
            let topic_i = if chance(&mut self.rng, 0.6) {
                prof.topic
            } else {
                self.rng.random_range(0..6)
            };
            let topic = &lang.topics[topic_i];
            let mention = if prof.platform == Platform::Twitter && chance(&mut self.rng, 0.04) {
                self.rings[ri].pick(&mut self.rng)
            } else {
                None
            };
            if let Some(r) = mention {
                text.push('@');
                text.push_str(&r.handle);
                text.push(' ');
            }
            organic_text(&mut text, lang, topic, &mut self.rng);
            let p_link = match prof.platform {
                Platform::Twitter => 0.2,
                Platform::Telegram => 0.4,
                Platform::Facebook => 0.35,
            };
            if chance(&mut self.rng, p_link) {
                let raw = if chance(&mut self.rng, 0.1) {
                    video_url(&mut self.rng)
                } else {
                    let tracking = if chance(&mut self.rng, 0.25) {
                        Some(prof.platform.as_str())
                    } else {
                        None
                    };
                    let domain = pick(&mut self.rng, lang.domains);
                    let slug = pick(&mut self.rng, topic.slugs);
                    article_url(
                        &mut self.rng,
                        domain,
                        topic.section,
                        slug,
                        EventTime(t),
                        tracking,
                    )
                };
                text.push(' ');
                text.push_str(&raw);
                links.push(Link::new(&raw));
            }
            if chance(&mut self.rng, 0.3) {
                let a = pick(&mut self.rng, topic.hashtags);
                let b = pick(&mut self.rng, topic.hashtags);
                if a != b && chance(&mut self.rng, 0.25) {
                    push_hashtags(&mut text, &[a, b]);
                } else {
                    push_hashtags(&mut text, &[a]);
                }
            }
        }
        crate::boilerplate::sign(
            &mut text,
            self.cfg.seed,
            rank,
            &prof,
            self.counter,
            !links.is_empty(),
            &self.network,
        );
        let followers = prof.actor.followers.unwrap_or(0);
        let post = self.build(
            prof.platform,
            prof.lang,
            prof.actor,
            t,
            text,
            links,
            None,
            None,
        );
        if self.network.ranks.contains(&rank) {
            self.network.posts.push(post.id.clone());
        }
        if let Some(j) = recycled {
            let url = self.debunked_urls[prof.lang][j].clone();
            self.repeats(&post.id, vec![url]);
        }
        if followers > 20_000 && chance(&mut self.rng, 0.25) || chance(&mut self.rng, 0.005) {
            self.rings[ri].hot = Some(recent(&post));
        }
        post
    }
}

fn recent(p: &Post) -> Recent {
    Recent {
        id: p.id.clone(),
        handle: p.actor.handle.clone().unwrap_or_default(),
        text: p.text.clone(),
        links: p.links.clone(),
    }
}

fn into_recent(p: Post) -> Recent {
    Recent {
        id: p.id,
        handle: p.actor.handle.unwrap_or_default(),
        text: p.text,
        links: p.links,
    }
}

fn check(cfg: &SimConfig) -> Result<(), SimError> {
    let days = cfg.span_days();
    if !(days > 0.0 && days <= 3650.0) {
        return Err(SimError::Config(format!(
            "days must be in (0, 3650], got {days}"
        )));
    }
    if cfg.population == Some(0) {
        return Err(SimError::Config("population must be at least 1".into()));
    }
    Ok(())
}

/// Writes `cfg.posts` posts as canonical JSONL to `out` in event-time order
/// and returns the ground truth. `progress` is called with the number of
/// posts written so far every 65,536 posts and once at the end.
///
/// Memory stays bounded whatever `cfg.posts` is: campaign plans are capped,
/// accounts are derived on demand, and only a ring of recent posts per
/// platform and language is kept (plus one bit per organic account, to
/// count the accounts that posted).
pub fn simulate(
    cfg: &SimConfig,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> Result<Truth, SimError> {
    check(cfg)?;
    let Plan {
        campaigns,
        mut events,
        reviews,
    } = campaigns::plan(cfg)?;
    let planted = events.len() as u64;
    let organic_n = cfg.posts - planted.min(cfg.posts);
    let start = cfg.start.0;
    let end = cfg.end().0;
    let population = cfg.population();
    let mut engine = Engine {
        cfg,
        rng: SimRng::seed_from_u64(cfg.seed),
        population,
        zipf: Zipf::new(population as f64, ZIPF_S)
            .map_err(|e| SimError::Config(format!("activity distribution: {e}")))?,
        rings: (0..3 * LANGS.len()).map(|_| Ring::new()).collect(),
        last_id: 0,
        counter: 0,
        seen: vec![0; population as usize / 64 + 1],
        summary: Summary::default(),
        langs: [0; 6],
        platforms: [0; 3],
        line: 0,
        network: crate::boilerplate::TemplateNetwork::new(cfg.seed, population, cfg.start),
        debunked_urls: factcheck::organic_urls(cfg.start),
        claim_posts: Vec::new(),
        claim_of: HashMap::new(),
    };
    // The reviews of each campaign's planted claim.
    let planted_reviews: Vec<Vec<String>> = campaigns
        .iter()
        .map(|c| {
            reviews
                .iter()
                .filter(|r| r.campaign.as_deref() == Some(c.id.as_str()))
                .map(|r| r.url.clone())
                .collect()
        })
        .collect();
    let mut clock = OrganicClock::new(start, end, organic_n, cfg.seed);
    let mut running: Vec<Running> = campaigns
        .iter()
        .map(|c| Running {
            slots: vec![None; c.slots],
            posts: Vec::new(),
            media: Vec::new(),
            ai_media: Vec::new(),
            cover: Vec::new(),
            first: None,
            last: 0,
            platforms: [false; 3],
        })
        .collect();
    let mut w = BufWriter::with_capacity(1 << 20, out);
    let mut next_organic = clock.next(&mut engine.rng);
    let mut ev = 0usize;
    let total = organic_n + planted;
    for line in 0..total {
        engine.line = line;
        let campaign_next = match (events.get(ev), next_organic) {
            (Some(e), Some(t)) => e.time <= t,
            (Some(_), None) => true,
            _ => false,
        };
        let mut slot_of: Option<(usize, u32)> = None;
        let post = if campaign_next {
            let e = &mut events[ev];
            ev += 1;
            let ci = e.campaign as usize;
            let plan = &campaigns[ci];
            let prof = &plan.accounts[e.member as usize];
            let platform = prof.platform;
            let lang = plan.lang;
            let text = std::mem::take(&mut e.text);
            let links: Vec<Link> = e.links.iter().map(|l| Link::new(l)).collect();
            let actor = prof.actor.clone();
            let post = match e.action {
                Action::Reshare(s) => match running[ci].slots.get(s as usize).cloned().flatten() {
                    Some(target) => {
                        let text = Engine::reshare_text(platform, &target);
                        let post = engine.build(
                            platform,
                            lang,
                            actor,
                            e.time,
                            text,
                            target.links,
                            None,
                            Some(target.id.clone()),
                        );
                        engine.reshared(&post.id, &target.id);
                        post
                    }
                    None => engine.build(platform, lang, actor, e.time, text, links, None, None),
                },
                Action::ReplyRecent => {
                    let target = engine.rings[ring_index(platform, lang)]
                        .pick(&mut engine.rng)
                        .map(|r| (r.id.clone(), r.handle.clone()));
                    let text = match (&target, platform) {
                        (Some((_, handle)), Platform::Twitter) => format!("@{handle} {text}"),
                        _ => text,
                    };
                    let reply_to = target.map(|t| t.0);
                    engine.build(platform, lang, actor, e.time, text, links, reply_to, None)
                }
                Action::Original => {
                    engine.build(platform, lang, actor, e.time, text, links, None, None)
                }
            };
            let mut post = post;
            let r = &mut running[ci];
            if let Some(m) = e.media {
                let url = crate::images::image_path(&plan.id, m.image, m.variant);
                if m.ai {
                    r.ai_media.push(url.clone());
                }
                r.media.push(url.clone());
                post.media = vec![Media {
                    url,
                    kind: MediaKind::Photo,
                    hash: None,
                    key: None,
                }];
            }
            if e.cover {
                r.cover.push(post.id.clone());
            } else {
                if !planted_reviews[ci].is_empty() && !engine.claim_of.contains_key(&post.id) {
                    engine.repeats(&post.id, planted_reviews[ci].clone());
                }
                r.posts.push(post.id.clone());
                r.first.get_or_insert(e.time);
                r.last = e.time;
                r.platforms[platform.index()] = true;
            }
            if let Some(s) = e.slot {
                slot_of = Some((ci, s));
            }
            post
        } else {
            let t = next_organic.expect("an organic post is due");
            let post = engine.organic(t);
            next_organic = clock.next(&mut engine.rng);
            post
        };
        serde_json::to_writer(&mut w, &post)?;
        w.write_all(b"\n")?;
        if let Some((ci, s)) = slot_of {
            running[ci].slots[s as usize] = Some(recent(&post));
        }
        let platform = match post.platform.as_str() {
            "twitter" => Platform::Twitter,
            "telegram" => Platform::Telegram,
            _ => Platform::Facebook,
        };
        let lang = crate::lexicon::lang_index(post.lang.as_deref().unwrap_or("en")).unwrap_or(0);
        // Reshares are not targets themselves: resharing a reshare reshares the original.
        if post.reshare_of.is_none() {
            engine.rings[ring_index(platform, lang)].push(into_recent(post));
        }
        if (line + 1) % PROGRESS_EVERY == 0 {
            progress(line + 1);
        }
    }
    w.flush()?;
    drop(w);
    progress(total);

    // Ground truth.
    let mut summary = std::mem::take(&mut engine.summary);
    let organic_actors: u64 = engine.seen.iter().map(|b| b.count_ones() as u64).sum();
    let campaign_actors: u64 = campaigns.iter().map(|c| c.accounts.len() as u64).sum();
    summary.cover_posts = running.iter().map(|r| r.cover.len() as u64).sum();
    summary.campaign_posts = running.iter().map(|r| r.posts.len() as u64).sum();
    summary.organic_posts = organic_n;
    summary.organic_actors = organic_actors;
    summary.campaign_actors = campaign_actors;
    summary.actors = organic_actors + campaign_actors;
    for (l, n) in LANGS.iter().zip(engine.langs) {
        if n > 0 {
            summary.languages.insert(l.code.to_string(), n);
        }
    }
    for (p, n) in Platform::ALL.iter().zip(engine.platforms) {
        if n > 0 {
            summary.platforms.insert(p.as_str().to_string(), n);
        }
    }
    let campaign_truth = campaigns
        .into_iter()
        .zip(running)
        .map(|(c, r)| CampaignTruth {
            id: c.id,
            kind: c.kind.as_str().to_string(),
            description: c.description,
            start: EventTime(r.first.unwrap_or(start)),
            end: EventTime(r.last),
            language: LANGS[c.lang].code.to_string(),
            platforms: Platform::ALL
                .iter()
                .filter(|p| r.platforms[p.index()])
                .map(|p| p.as_str().to_string())
                .collect(),
            accounts: c.accounts.into_iter().map(|a| a.actor.id).collect(),
            posts: r.posts,
            cover_posts: r.cover,
            hashtags: c.hashtags,
            urls: c.urls,
            claim: c.claim,
            factcheck_url: c.factcheck_url,
            media: r.media,
            ai_media: r.ai_media,
        })
        .collect();
    let template_networks = vec![TemplateNetworkTruth {
        footer: crate::boilerplate::NETWORK_FOOTER.to_string(),
        platform: "telegram".into(),
        language: "ru".into(),
        accounts: std::mem::take(&mut engine.network.actors),
        posts: std::mem::take(&mut engine.network.posts),
    }];
    let mut factchecks = factcheck::organic_library(cfg.start);
    factchecks.extend(reviews);
    Ok(Truth {
        generator: format!("pharos-sim {}", env!("CARGO_PKG_VERSION")),
        seed: cfg.seed,
        posts: total,
        start: cfg.start,
        end: cfg.end(),
        days: cfg.span_days(),
        population,
        summary,
        campaigns: campaign_truth,
        template_networks,
        factchecks,
        claim_posts: std::mem::take(&mut engine.claim_posts),
    })
}

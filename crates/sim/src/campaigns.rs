//! Planted campaigns, planned up front as small sorted event lists.
//!
//! Each campaign's accounts, times and texts are decided before the first
//! post is written (its own ChaCha stream, so adding a campaign does not
//! change the others). The engine merges the events with the organic
//! stream by time. Only reshare targets and reply targets are resolved while
//! writing, because post ids are handed out in output order.
//!
//! # Sizes
//! Sizes grow with the square root of the scenario (`g = sqrt(posts /
//! 20 000)`, between 0.2 and 6, times the spec's `scale`) and every count
//! is capped, so a campaign never has more than a few thousand posts
//! however large the scenario: at 20 k posts the five default campaigns
//! write about 4 % of the posts, at 1 M about 1.5 %, at 10 M about 0.2 %.
//! When the planted posts would exceed a quarter of the scenario (tiny
//! scenarios) campaigns are dropped from the end of the list.

use crate::actors::{self, Cover, Platform, Profile};
use crate::config::{CampaignKind, SimConfig};
use crate::content::{CampaignContent, content};
use crate::factcheck;
use crate::images::ImageRef;
use crate::lexicon::{EMOJI, LANGS, Lang, lang_index};
use crate::rng::{SimRng, chance, exp, pick};
use crate::text::{article_url, copy_paste_variant, fill, organic_text, push_hashtags};
use crate::{SimError, truth::FactCheckTruth};
use pharos_core::{EventTime, Link};
use rand::{Rng, SeedableRng};

const SEC: i64 = 1000;
const MIN: i64 = 60 * SEC;
const HOUR: i64 = 60 * MIN;

/// What a planned post does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    Original,
    /// Reshares the campaign post recorded in this slot.
    Reshare(u32),
    /// Replies to a recent post on the same platform and language.
    ReplyRecent,
}

#[derive(Debug)]
pub(crate) struct Planned {
    pub time: i64,
    pub campaign: u16,
    pub seq: u32,
    /// Index into the campaign's `accounts`.
    pub member: u32,
    pub action: Action,
    pub text: String,
    pub links: Vec<String>,
    /// Remember this post's id in this slot (for later reshares).
    pub slot: Option<u32>,
    /// An ordinary-looking post by a campaign account.
    pub cover: bool,
    /// The picture it carries (image-reuse campaign).
    pub media: Option<ImageRef>,
}

pub(crate) struct CampaignPlan {
    pub id: String,
    pub kind: CampaignKind,
    pub description: String,
    pub lang: usize,
    pub accounts: Vec<Profile>,
    pub hashtags: Vec<String>,
    pub urls: Vec<String>,
    pub claim: Option<String>,
    pub factcheck_url: Option<String>,
    pub slots: usize,
}

pub(crate) struct Plan {
    pub campaigns: Vec<CampaignPlan>,
    /// All campaign events, sorted by (time, campaign, seq).
    pub events: Vec<Planned>,
    /// Reviews of the planted claims.
    pub reviews: Vec<FactCheckTruth>,
}

struct Ctx<'a> {
    seed: u64,
    rng: SimRng,
    begin: i64,
    end: i64,
    span: i64,
    g: f64,
    campaign: u16,
    start: i64,
    lang: usize,
    l: &'static Lang,
    c: &'static CampaignContent,
    next_key: &'a mut u32,
    accounts: Vec<Profile>,
    events: Vec<Planned>,
}

impl Ctx<'_> {
    fn size(&self, base: f64, min: usize, max: usize) -> usize {
        ((base * self.g).round() as usize).clamp(min, max)
    }
    fn window(&self, preferred: i64, share: f64) -> i64 {
        preferred.min((self.span as f64 * share) as i64).max(MIN)
    }
    fn clamp_time(&self, t: i64) -> i64 {
        t.clamp(self.begin, self.end - 1)
    }
    fn account(&mut self, platform: Platform, cover: Cover) -> u32 {
        let p = actors::campaign(
            self.seed,
            *self.next_key,
            platform,
            self.lang,
            self.start,
            cover,
        );
        *self.next_key += 1;
        self.accounts.push(p);
        (self.accounts.len() - 1) as u32
    }
    /// A member's cover: fresh 70 %, aged 30 %.
    fn cover(&mut self) -> Cover {
        if chance(&mut self.rng, 0.3) {
            Cover::Aged
        } else {
            Cover::Fresh
        }
    }
    fn push(&mut self, time: i64, member: u32, action: Action, text: String, links: Vec<String>) {
        self.push_slot(time, member, action, text, links, None);
    }
    fn push_slot(
        &mut self,
        time: i64,
        member: u32,
        action: Action,
        text: String,
        links: Vec<String>,
        slot: Option<u32>,
    ) {
        let seq = self.events.len() as u32;
        let time = self.clamp_time(time);
        self.events.push(Planned {
            time,
            campaign: self.campaign,
            seq,
            member,
            action,
            text,
            links,
            slot,
            cover: false,
            media: None,
        });
    }
    /// Ordinary posts by about half of the accounts, anywhere before the campaign ends.
    fn add_cover_posts(&mut self, campaign_end: i64) {
        for m in 0..self.accounts.len() as u32 {
            if !chance(&mut self.rng, 0.5) {
                continue;
            }
            let n = self.rng.random_range(1..=3);
            let created = self.accounts[m as usize]
                .actor
                .created
                .map_or(self.begin, |c| c.0);
            let lo = created.max(self.begin);
            let hi = campaign_end.max(lo + 1);
            for _ in 0..n {
                let t = self.rng.random_range(lo..hi);
                let topic = &self.l.topics[self.rng.random_range(0..6)];
                let mut text = String::new();
                organic_text(&mut text, self.l, topic, &mut self.rng);
                let seq = self.events.len() as u32;
                let time = self.clamp_time(t);
                self.events.push(Planned {
                    time,
                    campaign: self.campaign,
                    seq,
                    member: m,
                    action: Action::Original,
                    text,
                    links: Vec::new(),
                    slot: None,
                    cover: true,
                    media: None,
                });
            }
        }
    }
    /// Attaches a picture to the event pushed last.
    fn last_media(&mut self, r: ImageRef) {
        if let Some(e) = self.events.last_mut() {
            e.media = Some(r);
        }
    }
    fn headline(&mut self) -> String {
        let topic = &self.l.topics[self.rng.random_range(0..2)];
        let mut s = String::new();
        fill(
            &mut s,
            pick(&mut self.rng, topic.templates),
            self.l,
            &mut self.rng,
        );
        s
    }
}

/// Plans every campaign of `cfg`.
pub(crate) fn plan(cfg: &SimConfig) -> Result<Plan, SimError> {
    let begin = cfg.start.0;
    let end = cfg.end().0;
    let g = (cfg.posts as f64 / 20_000.0).sqrt().clamp(0.2, 6.0);
    let mut next_key = 0u32;
    let mut campaigns = Vec::new();
    let mut lists: Vec<Vec<Planned>> = Vec::new();
    let mut reviews = Vec::new();
    for (i, spec) in cfg.campaigns.iter().enumerate() {
        let lang = lang_index(&spec.lang).ok_or_else(|| {
            SimError::Config(format!(
                "campaign {}: language {:?} has no word lists; use one of en, ru, uk, de, fr, pl",
                i + 1,
                spec.lang
            ))
        })?;
        if !((0.0..1.0).contains(&spec.at) && spec.scale > 0.0 && spec.scale <= 100.0) {
            return Err(SimError::Config(format!(
                "campaign {}: `at` must be in [0, 1) and `scale` in (0, 100]",
                i + 1
            )));
        }
        let start = begin + ((end - begin) as f64 * spec.at) as i64;
        let mut ctx = Ctx {
            seed: cfg.seed,
            rng: SimRng::seed_from_u64(
                cfg.seed ^ (0xCA4A_1600 + i as u64).wrapping_mul(0x9E37_79B9),
            ),
            begin,
            end,
            span: end - begin,
            g: g * spec.scale,
            campaign: i as u16,
            start,
            lang,
            l: &LANGS[lang],
            c: content(&spec.lang),
            next_key: &mut next_key,
            accounts: Vec::new(),
            events: Vec::new(),
        };
        let id = format!("c{}-{}", i + 1, spec.kind.as_str().replace('_', "-"));
        let mut plan = CampaignPlan {
            id,
            kind: spec.kind,
            description: String::new(),
            lang,
            accounts: Vec::new(),
            hashtags: Vec::new(),
            urls: Vec::new(),
            claim: None,
            factcheck_url: None,
            slots: 0,
        };
        match spec.kind {
            CampaignKind::ReshareRing => reshare_ring(&mut ctx, &mut plan),
            CampaignKind::CopyPaste => copy_paste(&mut ctx, &mut plan),
            CampaignKind::LinkNetwork => link_network(&mut ctx, &mut plan),
            CampaignKind::HashtagFlood => hashtag_flood(&mut ctx, &mut plan),
            CampaignKind::FalseNarrative => false_narrative(&mut ctx, &mut plan, &mut reviews),
            CampaignKind::ImageReuse => image_reuse(&mut ctx, &mut plan),
        }
        let last = ctx.events.iter().map(|e| e.time).max().unwrap_or(start);
        ctx.add_cover_posts(last);
        plan.accounts = std::mem::take(&mut ctx.accounts);
        lists.push(std::mem::take(&mut ctx.events));
        campaigns.push(plan);
    }
    // Tiny scenarios: keep planted posts to a quarter of the total.
    while !lists.is_empty() && lists.iter().map(Vec::len).sum::<usize>() as u64 * 4 > cfg.posts {
        let gone = campaigns.pop().expect("same length as lists");
        lists.pop();
        reviews.retain(|r: &FactCheckTruth| r.campaign.as_deref() != Some(gone.id.as_str()));
    }
    let mut events: Vec<Planned> = lists.into_iter().flatten().collect();
    events.sort_by_key(|e| (e.time, e.campaign, e.seq));
    Ok(Plan {
        campaigns,
        events,
        reviews,
    })
}

fn reshare_ring(ctx: &mut Ctx, plan: &mut CampaignPlan) {
    let k = ctx.size(18.0, 4, 400);
    let seeds = ((8.0 * ctx.g.sqrt()).round() as usize).clamp(3, 40);
    let span = ctx.window(36 * HOUR, 0.25);
    let sources = [
        ctx.account(Platform::Twitter, Cover::Lead),
        ctx.account(Platform::Twitter, Cover::Aged),
    ];
    let members: Vec<u32> = (2..k)
        .map(|_| {
            let c = ctx.cover();
            ctx.account(Platform::Twitter, c)
        })
        .collect();
    let mut reshares = 0;
    for j in 0..seeds {
        let t = ctx.start
            + (span as f64 * (j as f64 + 0.4 * ctx.rng.random::<f64>()) / seeds as f64) as i64;
        let topic = &ctx.l.topics[ctx.rng.random_range(0..2)];
        let mut text = String::new();
        organic_text(&mut text, ctx.l, topic, &mut ctx.rng);
        let mut links = Vec::new();
        if chance(&mut ctx.rng, 0.4) {
            let domain = pick(&mut ctx.rng, ctx.l.domains);
            let slug = pick(&mut ctx.rng, topic.slugs);
            let url = article_url(
                &mut ctx.rng,
                domain,
                topic.section,
                slug,
                EventTime(t),
                None,
            );
            text.push(' ');
            text.push_str(&url);
            links.push(url);
        }
        if chance(&mut ctx.rng, 0.5) {
            push_hashtags(&mut text, &[pick(&mut ctx.rng, topic.hashtags)]);
        }
        ctx.push_slot(
            t,
            sources[j % 2],
            Action::Original,
            text,
            links,
            Some(j as u32),
        );
        for &m in &members {
            if chance(&mut ctx.rng, 0.85) {
                let delay = SEC + (exp(&mut ctx.rng, 5.0 * SEC as f64) as i64).min(40 * SEC);
                ctx.push(
                    t + delay,
                    m,
                    Action::Reshare(j as u32),
                    String::new(),
                    Vec::new(),
                );
                reshares += 1;
            }
        }
    }
    plan.slots = seeds;
    plan.description = format!(
        "{} accounts reshare {seeds} posts of two source accounts within seconds of each other ({reshares} reshares)",
        k - 2
    );
}

fn copy_paste(ctx: &mut Ctx, plan: &mut CampaignPlan) {
    let k = ctx.size(30.0, 5, 600);
    let w = ctx.window(8 * HOUR, 0.2);
    let base = ctx.c.copy_paste;
    let tags = ctx.c.copy_paste_tags;
    let mut posts = 0;
    for m in 0..k {
        let platform = if chance(&mut ctx.rng, 0.15) {
            Platform::Telegram
        } else {
            Platform::Twitter
        };
        let cover = if m == 0 { Cover::Aged } else { ctx.cover() };
        let member = ctx.account(platform, cover);
        let n = 1 + chance(&mut ctx.rng, 0.5) as usize + chance(&mut ctx.rng, 0.2) as usize;
        for i in 0..n {
            let (t, text) = if m == 0 && i == 0 {
                (ctx.start, base.to_string())
            } else {
                let u: f64 = ctx.rng.random();
                (
                    ctx.start + MIN + (w as f64 * u.powf(1.5)) as i64,
                    copy_paste_variant(base, tags, &mut ctx.rng),
                )
            };
            ctx.push(t, member, Action::Original, text, Vec::new());
            posts += 1;
        }
    }
    plan.hashtags = tags.iter().map(|t| t.to_lowercase()).collect();
    plan.description = format!(
        "{k} accounts post {posts} copies of one message with small edits (word order, punctuation, emoji, hashtags)"
    );
}

fn link_network(ctx: &mut Ctx, plan: &mut CampaignPlan) {
    let k = ctx.size(12.0, 3, 300);
    let n_urls = ((10.0 * ctx.g.sqrt()).round() as usize).clamp(3, 30);
    let span = ctx.window(48 * HOUR, 0.25);
    // Member i has a Twitter account (2i) and a Facebook page or profile (2i + 1).
    let mut members = Vec::with_capacity(k);
    for i in 0..k {
        let cover = if i == 0 { Cover::Lead } else { ctx.cover() };
        let tw = ctx.account(Platform::Twitter, cover);
        let fb = ctx.account(Platform::Facebook, cover);
        members.push((tw, fb));
    }
    let mut posts = 0;
    for j in 0..n_urls {
        let t0 = ctx.start
            + (span as f64 * (j as f64 + 0.5 * ctx.rng.random::<f64>()) / n_urls as f64) as i64;
        let topic = &ctx.l.topics[ctx.rng.random_range(0..2)];
        let domain = ctx.c.fake_domains[j % ctx.c.fake_domains.len()];
        let slug = pick(&mut ctx.rng, topic.slugs);
        let base = article_url(
            &mut ctx.rng,
            domain,
            topic.section,
            slug,
            EventTime(t0),
            None,
        );
        plan.urls.push(Link::new(&base).url);
        for (i, &(tw, fb)) in members.iter().enumerate() {
            let (on_tw, on_fb) = if i == 0 {
                (true, true)
            } else {
                (chance(&mut ctx.rng, 0.8), chance(&mut ctx.rng, 0.75))
            };
            for (platform, member, on) in [
                (Platform::Twitter, tw, on_tw),
                (Platform::Facebook, fb, on_fb),
            ] {
                if !on {
                    continue;
                }
                let delay = if i == 0 {
                    if platform == Platform::Twitter {
                        0
                    } else {
                        ctx.rng.random_range(30 * SEC..180 * SEC)
                    }
                } else {
                    let mean = if platform == Platform::Twitter {
                        3 * MIN
                    } else {
                        4 * MIN
                    };
                    5 * SEC + (exp(&mut ctx.rng, mean as f64) as i64).min(15 * MIN)
                };
                let raw = match platform {
                    Platform::Facebook if chance(&mut ctx.rng, 0.6) => {
                        format!("{base}?fbclid=IwAR{:x}", ctx.rng.random::<u64>())
                    }
                    Platform::Twitter if chance(&mut ctx.rng, 0.5) => {
                        format!("{base}?utm_source=twitter&utm_medium=social")
                    }
                    _ => base.clone(),
                };
                let mut text = String::new();
                if chance(&mut ctx.rng, 0.6) {
                    let leads = if chance(&mut ctx.rng, 0.5) {
                        ctx.l.openers
                    } else {
                        ctx.l.claim_leads
                    };
                    text.push_str(pick(&mut ctx.rng, leads));
                    text.push(' ');
                }
                let h = ctx.headline();
                text.push_str(&h);
                text.push(' ');
                text.push_str(&raw);
                ctx.push(t0 + delay, member, Action::Original, text, vec![raw]);
                posts += 1;
            }
        }
    }
    plan.description = format!(
        "{k} people post the same {n_urls} links from {} on Twitter and Facebook within minutes ({posts} posts)",
        ctx.c.fake_domains.join(", ")
    );
}

fn hashtag_flood(ctx: &mut Ctx, plan: &mut CampaignPlan) {
    let k = ctx.size(50.0, 8, 1000);
    let w = ctx.window(3 * HOUR, 0.1);
    let tag = ctx.c.flood_tag;
    let mut posts = 0;
    for _ in 0..k {
        let c = ctx.cover();
        let member = ctx.account(Platform::Twitter, c);
        let mut n = 1;
        while n < 4 && chance(&mut ctx.rng, 0.5) {
            n += 1;
        }
        for _ in 0..n {
            let u: f64 = ctx.rng.random();
            let t = ctx.start + (w as f64 * u * u) as i64;
            let mut text = String::new();
            if chance(&mut ctx.rng, 0.5) {
                let topic = &ctx.l.topics[ctx.rng.random_range(0..2)];
                organic_text(&mut text, ctx.l, topic, &mut ctx.rng);
                push_hashtags(&mut text, &[tag]);
                if chance(&mut ctx.rng, 0.3) {
                    push_hashtags(&mut text, &[pick(&mut ctx.rng, topic.hashtags)]);
                }
            } else if chance(&mut ctx.rng, 0.3) {
                text.push('#');
                text.push_str(tag);
                text.push(' ');
                text.push_str(pick(&mut ctx.rng, ctx.c.flood_slogans));
            } else {
                text.push_str(pick(&mut ctx.rng, ctx.c.flood_slogans));
                push_hashtags(&mut text, &[tag]);
                if chance(&mut ctx.rng, 0.4) {
                    text.push(' ');
                    text.push_str(pick(&mut ctx.rng, EMOJI));
                }
            }
            ctx.push(t, member, Action::Original, text, Vec::new());
            posts += 1;
        }
    }
    plan.hashtags = vec![tag.to_lowercase()];
    plan.description =
        format!("{k} accounts push the new hashtag #{tag} in a burst ({posts} posts)");
}

fn false_narrative(ctx: &mut Ctx, plan: &mut CampaignPlan, reviews: &mut Vec<FactCheckTruth>) {
    let k = ctx.size(40.0, 6, 800);
    let w = ctx.window(12 * HOUR, 0.3);
    let c = ctx.c;
    let tag = c.narrative_tag;
    let origin = ctx.account(Platform::Telegram, Cover::Lead);
    if let Some(name) = ctx.accounts[origin as usize].actor.name.as_mut() {
        *name = c.origin_channel.to_string();
    }
    let tw1 = ctx.account(Platform::Twitter, Cover::Lead);
    let tw2 = ctx.account(Platform::Twitter, Cover::Aged);
    let article = format!(
        "https://{}/{}/eu-power-rationing-{}",
        c.fake_domains[0],
        ctx.l.topics[1].section,
        ctx.rng.random_range(100_000..999_999)
    );
    plan.urls.push(Link::new(&article).url);
    // The origin: a channel post with the article.
    let mut text = format!(
        "{} {} {article} #{tag}",
        pick(&mut ctx.rng, ctx.l.claim_leads),
        c.claim_variants[1 % c.claim_variants.len()]
    );
    ctx.push_slot(
        ctx.start,
        origin,
        Action::Original,
        text,
        vec![article.clone()],
        Some(0),
    );
    let t1 = ctx.start + ctx.rng.random_range(20 * MIN..60 * MIN);
    text = format!("{} {article}", c.claim_variants[0]);
    ctx.push_slot(
        t1,
        tw1,
        Action::Original,
        text,
        vec![article.clone()],
        Some(1),
    );
    let t2 = ctx.start + ctx.rng.random_range(40 * MIN..120 * MIN);
    text = format!("{} #{tag}", c.claim_variants[2 % c.claim_variants.len()]);
    ctx.push_slot(t2, tw2, Action::Original, text, Vec::new(), Some(2));
    let slot_time = [ctx.start, t1, t2];
    let mut posts = 3;
    for _ in 3..k {
        let platform = if chance(&mut ctx.rng, 0.2) {
            Platform::Telegram
        } else {
            Platform::Twitter
        };
        let cover = ctx.cover();
        let member = ctx.account(platform, cover);
        let n = 1 + chance(&mut ctx.rng, 0.5) as usize + chance(&mut ctx.rng, 0.25) as usize;
        for _ in 0..n {
            // Rising volume: density grows with time since the start.
            let u: f64 = ctx.rng.random();
            let t = ctx.start + 30 * MIN + ((w - 30 * MIN).max(MIN) as f64 * u.sqrt()) as i64;
            let r: f64 = ctx.rng.random();
            if r < 0.35 {
                let slot = match platform {
                    Platform::Telegram => 0,
                    _ => 1 + ctx.rng.random_range(0..2u32),
                };
                let t = t.max(slot_time[slot as usize] + 5 * SEC);
                ctx.push(t, member, Action::Reshare(slot), String::new(), Vec::new());
            } else {
                let mut text = String::new();
                if chance(&mut ctx.rng, 0.3) {
                    text.push_str(pick(&mut ctx.rng, ctx.l.claim_leads));
                    text.push(' ');
                }
                text.push_str(pick(&mut ctx.rng, c.claim_variants));
                let mut links = Vec::new();
                if r < 0.75 && chance(&mut ctx.rng, 0.4) {
                    let raw = if chance(&mut ctx.rng, 0.5) {
                        format!("{article}?utm_source={}", platform.as_str())
                    } else {
                        article.clone()
                    };
                    text.push(' ');
                    text.push_str(&raw);
                    links.push(raw);
                }
                if chance(&mut ctx.rng, 0.5) {
                    push_hashtags(&mut text, &[tag]);
                }
                if chance(&mut ctx.rng, 0.4) {
                    text.push(' ');
                    text.push_str(pick(&mut ctx.rng, EMOJI));
                }
                let action = if r < 0.75 {
                    Action::Original
                } else {
                    Action::ReplyRecent
                };
                ctx.push(t, member, action, text, links);
            }
            posts += 1;
        }
    }
    plan.slots = 3;
    plan.hashtags = vec![tag.to_lowercase()];
    plan.claim = Some(c.claim.to_string());
    // Fact-checkers answer about eight hours in, in the campaign's language
    // and in one more (English, or German for an English campaign).
    let published = EventTime(ctx.start + 8 * HOUR);
    let other = if c.code == "en" { "de" } else { "en" };
    for code in [c.code, other] {
        let cc = content(code);
        let url = factcheck::planted_url(code, &plan.id, published);
        if code == c.code {
            plan.factcheck_url = Some(url.clone());
        }
        reviews.push(FactCheckTruth {
            claim: cc.claim.to_string(),
            lang: code.to_string(),
            url,
            rating: "False".into(),
            organisation: cc.checker.0.to_string(),
            published,
            claim_author: c.origin_channel.to_string(),
            claim_published: EventTime(ctx.start),
            appearances: vec![article.clone()],
            campaign: Some(plan.id.clone()),
        });
    }
    plan.description = format!(
        "a channel launches the false claim \"{}\" with an article on {}; {} accounts amplify it with paraphrases, reshares and replies ({posts} posts)",
        c.claim,
        c.fake_domains[0],
        k - 3
    );
}

fn image_reuse(ctx: &mut Ctx, plan: &mut CampaignPlan) {
    let k = ctx.size(16.0, 4, 300);
    let n_images = ((6.0 * ctx.g.sqrt()).round() as usize).clamp(3, 24);
    let span = ctx.window(24 * HOUR, 0.2);
    let lead = ctx.account(Platform::Telegram, Cover::Lead);
    let members: Vec<u32> = (1..k)
        .map(|_| {
            let platform = if chance(&mut ctx.rng, 0.3) {
                Platform::Telegram
            } else {
                Platform::Twitter
            };
            let c = ctx.cover();
            ctx.account(platform, c)
        })
        .collect();
    let mut posts = 0;
    for j in 0..n_images {
        let image = j as u16;
        let t0 = ctx.start
            + (span as f64 * (j as f64 + 0.5 * ctx.rng.random::<f64>()) / n_images as f64) as i64;
        // The lead posts the original (the first one declared AI-generated) ...
        let mut variant = 0u32;
        let text = ctx.headline();
        ctx.push(t0, lead, Action::Original, text, Vec::new());
        ctx.last_media(ImageRef {
            image,
            variant,
            ai: j == 0,
        });
        posts += 1;
        // ... and members re-post copies within minutes.
        for &m in &members {
            if !chance(&mut ctx.rng, 0.8) {
                continue;
            }
            variant += 1;
            let delay = 10 * SEC + (exp(&mut ctx.rng, 3.0 * MIN as f64) as i64).min(13 * MIN);
            // Captions of their own: the pictures are what they share.
            let topic = &ctx.l.topics[ctx.rng.random_range(0..6)];
            let mut text = String::new();
            organic_text(&mut text, ctx.l, topic, &mut ctx.rng);
            if chance(&mut ctx.rng, 0.3) {
                text.push(' ');
                text.push_str(pick(&mut ctx.rng, EMOJI));
            }
            ctx.push(t0 + delay, m, Action::Original, text, Vec::new());
            ctx.last_media(ImageRef {
                image,
                variant,
                ai: false,
            });
            posts += 1;
        }
    }
    plan.description = format!(
        "{k} accounts post copies of the same {n_images} pictures (cropped, resized, re-encoded) within minutes of each other ({posts} posts); the first picture is declared AI-generated (XMP DigitalSourceType trainedAlgorithmicMedia)"
    );
}

//! Accounts: organic ones derived on demand from `(seed, index)`, campaign
//! ones from `(seed, campaign account key)`.
//!
//! Nothing is stored per account: the same index always gives the same
//! profile, so the generator's memory does not grow with the population.
//! Organic activity is Zipf-distributed over the index (index 0 posts most);
//! followers and post counts grow with activity rank.

use crate::lexicon::{LANGS, Lang};
use crate::rng::{hash, mix, normal, pick_h, unit};
use pharos_core::{Actor, EventTime};
use std::borrow::Cow;
use std::fmt::Write;

/// Where a post is published.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Platform {
    Twitter,
    Telegram,
    Facebook,
}

impl Platform {
    pub const ALL: [Platform; 3] = [Platform::Twitter, Platform::Telegram, Platform::Facebook];
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Twitter => "twitter",
            Platform::Telegram => "telegram",
            Platform::Facebook => "facebook",
        }
    }
    pub fn index(self) -> usize {
        self as usize
    }
}

/// An account with what the generator needs to write its posts.
#[derive(Clone, Debug)]
pub(crate) struct Profile {
    pub platform: Platform,
    /// Index into [`LANGS`].
    pub lang: usize,
    /// Favourite topic (index into the language's topics).
    pub topic: usize,
    pub actor: Actor,
}

/// Share of organic accounts per language (en, ru, uk, de, fr, pl).
const LANG_WEIGHTS: [f64; 6] = [0.30, 0.20, 0.16, 0.13, 0.11, 0.10];
/// Chance that an account of that language is on Telegram.
const TELEGRAM_SHARE: [f64; 6] = [0.12, 0.50, 0.45, 0.18, 0.14, 0.14];
const FACEBOOK_SHARE: f64 = 0.06;
/// Twitter's snowflake epoch (ms).
const TWEPOCH: i64 = 1_288_834_974_657;
const DAY_MS: i64 = 86_400_000;
/// Campaign accounts use indices from here (organic ones stay below [`crate::config::MAX_POPULATION`]).
pub(crate) const CAMPAIGN_INDEX_BASE: u32 = 3_500_000;

fn lognormal(h: u64, mu: f64, sigma: f64) -> u64 {
    (mu + sigma * normal(h)).exp().round() as u64
}

/// The organic account with activity rank `index` among `population`.
pub(crate) fn organic(seed: u64, index: u32, population: u32, start: EventTime) -> Profile {
    let h = hash(seed, 0xAC7, index as u64);
    let u = unit(h);
    let mut lang = LANGS.len() - 1;
    let mut acc = 0.0;
    for (i, w) in LANG_WEIGHTS.iter().enumerate() {
        acc += w;
        if u < acc {
            lang = i;
            break;
        }
    }
    let h1 = mix(h ^ 1);
    let p = unit(h1);
    let platform = if p < FACEBOOK_SHARE {
        Platform::Facebook
    } else if p < FACEBOOK_SHARE + TELEGRAM_SHARE[lang] {
        Platform::Telegram
    } else {
        Platform::Twitter
    };
    // 1 for the most active account, towards 0 for the least.
    let rank = 1.0 - ((index as f64) + 1.0).ln() / ((population as f64) + 2.0).ln();
    let h2 = mix(h ^ 2);
    let channel = match platform {
        Platform::Telegram => unit(h2) < 0.75,
        Platform::Facebook => unit(h2) < 0.2,
        Platform::Twitter => false,
    };
    let age_days = (lognormal(mix(h ^ 3), (3.0 * 365.0f64).ln(), 0.8) as i64).clamp(20, 13 * 365);
    let created = start.0 - age_days * DAY_MS - (mix(h ^ 4) % DAY_MS as u64) as i64;
    let followers = lognormal(
        mix(h ^ 5),
        2.5 + 5.0 * rank + if channel { 1.5 } else { 0.0 },
        1.2,
    );
    let following = lognormal(mix(h ^ 6), 5.3, 0.9);
    let rate = (1.5f64.ln() + 3.0 * rank + 0.7 * normal(mix(h ^ 7))).exp();
    let posts = (age_days as f64 * rate) as u64;
    let hv = unit(mix(h ^ 8));
    let verified = (followers > 30_000 && hv < 0.4) || hv < 0.004;
    let l = &LANGS[lang];
    let topic = (mix(h ^ 9) % 6) as usize;
    let actor = make_actor(
        platform, index, h, l, channel, false, created, followers, following, posts, verified,
    );
    Profile {
        platform,
        lang,
        topic,
        actor,
    }
}

/// How a campaign account is made up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cover {
    /// Created weeks before the campaign, few followers, posts a lot.
    Fresh,
    /// An old account (bought or reactivated): looks ordinary.
    Aged,
    /// The account that starts things: a sizeable audience.
    Lead,
}

/// A campaign account; `key` is unique across all campaign accounts of a scenario.
pub(crate) fn campaign(
    seed: u64,
    key: u32,
    platform: Platform,
    lang: usize,
    campaign_start: i64,
    cover: Cover,
) -> Profile {
    let index = CAMPAIGN_INDEX_BASE + key;
    let h = hash(seed, 0xCA3, index as u64);
    let channel = platform == Platform::Telegram && (cover == Cover::Lead || unit(h) < 0.4);
    let (age_days, followers, following, rate) = match cover {
        Cover::Fresh => (
            3 + (mix(h ^ 3) % 118) as i64,
            lognormal(mix(h ^ 5), 2.8, 0.9),
            lognormal(mix(h ^ 6), 6.0, 0.6),
            (60f64.ln() + 0.5 * normal(mix(h ^ 7))).exp(),
        ),
        Cover::Aged => (
            (2 * 365 + (mix(h ^ 3) % (7 * 365)) as i64).min(13 * 365),
            lognormal(mix(h ^ 5), 5.0, 1.0),
            lognormal(mix(h ^ 6), 5.8, 0.7),
            (8f64.ln() + 0.6 * normal(mix(h ^ 7))).exp(),
        ),
        Cover::Lead => (
            (300 + (mix(h ^ 3) % (4 * 365)) as i64).min(13 * 365),
            lognormal(mix(h ^ 5), 8.5, 0.7),
            lognormal(mix(h ^ 6), 4.5, 0.7),
            (20f64.ln() + 0.5 * normal(mix(h ^ 7))).exp(),
        ),
    };
    let created = campaign_start - age_days * DAY_MS - (mix(h ^ 4) % DAY_MS as u64) as i64;
    let posts = (age_days as f64 * rate) as u64;
    let l = &LANGS[lang];
    let actor = make_actor(
        platform,
        index,
        h,
        l,
        channel,
        cover == Cover::Fresh && unit(mix(h ^ 10)) < 0.5,
        created,
        followers,
        following,
        posts,
        false,
    );
    Profile {
        platform,
        lang,
        topic: (mix(h ^ 9) % 2) as usize,
        actor,
    }
}

#[allow(clippy::too_many_arguments)]
fn make_actor(
    platform: Platform,
    index: u32,
    h: u64,
    l: &Lang,
    channel: bool,
    default_handle: bool,
    created: i64,
    followers: u64,
    following: u64,
    posts: u64,
    verified: bool,
) -> Actor {
    let created = match platform {
        // Snowflake ids need a creation time after Twitter's epoch.
        Platform::Twitter => created.max(TWEPOCH + DAY_MS),
        _ => created,
    };
    let id = match platform {
        Platform::Twitter => (((created - TWEPOCH) as u64) << 22 | index as u64).to_string(),
        Platform::Telegram => {
            let n = 1_000_000_000u64 + index as u64 * 10 + mix(h ^ 11) % 10;
            if channel {
                format!("channel{n}")
            } else {
                format!("user{n}")
            }
        }
        Platform::Facebook => {
            (100_000_000_000_000u64 + index as u64 * 1000 + mix(h ^ 11) % 1000).to_string()
        }
    };
    let (first, first_h) = *pick_h(mix(h ^ 12), l.first_names);
    let (last, last_h) = *pick_h(mix(h ^ 13), l.last_names);
    let last = surname_for(l.code, first, last);
    let last_h = surname_for(l.code, first, last_h);
    let digits = mix(h ^ 14);
    let mut handle = String::with_capacity(24);
    let name = if channel {
        let (cname, stem) = *pick_h(mix(h ^ 15), l.channels);
        let _ = write!(handle, "{stem}{}", digits % 1000);
        match digits % 3 {
            0 => cname.to_string(),
            1 => format!("{cname} ⚡"),
            _ => format!("{cname} 🔔"),
        }
    } else {
        if default_handle {
            let _ = write!(handle, "{first_h}{:08}", digits % 100_000_000);
        } else {
            match digits % 5 {
                0 => {
                    let _ = write!(handle, "{first_h}_{last_h}");
                }
                1 => {
                    let _ = write!(handle, "{first_h}{last_h}{}", (digits >> 8) % 100);
                }
                2 if platform == Platform::Facebook => {
                    let _ = write!(handle, "{first_h}.{last_h}.{}", (digits >> 8) % 1000);
                }
                3 => {
                    let _ = write!(handle, "{last_h}_{first_h}{}", 60 + (digits >> 8) % 45);
                }
                _ => {
                    let _ = write!(handle, "{first_h}_{}", (digits >> 8) % 10_000);
                }
            }
        }
        format!("{first} {last}")
    };
    Actor {
        id,
        handle: Some(handle),
        name: Some(name),
        created: Some(EventTime(created)),
        followers: Some(followers),
        following: if platform == Platform::Telegram {
            None
        } else {
            Some(following)
        },
        posts: Some(posts),
        verified: Some(verified),
        avatar: None,
    }
}

/// Surnames agree with the first name's gender where the language marks it
/// (Russian -ов/-ев/-ин + а, Polish -ski/-cki → -ska/-cka), in both the
/// display and the ASCII (handle) form. Female first names in these word
/// lists end in -а/-я (ru, uk) or -a (pl).
fn surname_for(code: &str, first: &str, last: &'static str) -> Cow<'static, str> {
    let female = match code {
        "ru" | "uk" => first.ends_with(['а', 'я']),
        "pl" => first.ends_with('a'),
        _ => false,
    };
    if !female {
        return Cow::Borrowed(last);
    }
    if code == "ru" {
        if ["ов", "ев", "ин"].iter().any(|s| last.ends_with(s)) {
            return Cow::Owned(format!("{last}а"));
        }
        if ["ov", "ev", "in"].iter().any(|s| last.ends_with(s)) {
            return Cow::Owned(format!("{last}a"));
        }
    }
    if code == "pl" {
        if let Some(stem) = last.strip_suffix("ski") {
            return Cow::Owned(format!("{stem}ska"));
        }
        if let Some(stem) = last.strip_suffix("cki") {
            return Cow::Owned(format!("{stem}cka"));
        }
    }
    Cow::Borrowed(last)
}

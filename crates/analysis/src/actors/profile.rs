//! Profile-only features and the profile-only score.
//!
//! When all an analyst has is the account's profile (a Twitter v1.1 user
//! object, or the [`Actor`] on a canonical post), the score falls back to
//! what the profile says: age, posting and following rates, follower and
//! favourite ratios, the screen name's shape, and the defaults left
//! untouched. Same model ([`Model`]), same explanations; the behavioural
//! terms of [`StreamModel`](super::StreamModel) are simply absent.

use super::score::{InauthenticityScore, Model, Term, words};
use pharos_core::{Actor, EventTime};
use serde_json::Value;

/// Number of profile terms.
pub const PROFILE_TERMS: usize = 16;

/// Profile facts, each `None` when the source does not say.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProfileFeatures {
    pub account_age_days: Option<f64>,
    pub statuses_per_day: Option<f64>,
    /// `(followers + 1) / (friends + 1)`.
    pub follower_ratio: Option<f64>,
    pub followers: Option<f64>,
    pub friends_per_day: Option<f64>,
    /// `(favourites + 1) / (statuses + 1)`.
    pub favourites_per_status: Option<f64>,
    /// Lists the account is on, per 1,000 followers.
    pub listed_per_1k_followers: Option<f64>,
    /// Share of the screen name's characters that are digits.
    pub screen_name_digit_share: Option<f64>,
    pub screen_name_length: Option<f64>,
    pub empty_description: Option<bool>,
    pub default_profile: Option<bool>,
    pub default_profile_image: Option<bool>,
    pub has_banner: Option<bool>,
    pub has_url: Option<bool>,
    pub has_location: Option<bool>,
    pub verified: Option<bool>,
}

/// Reads Twitter's `Wed May 15 16:00:19 +0000 2019` (and RFC 3339 / other
/// forms via [`EventTime::parse`]).
pub fn parse_twitter_time(s: &str) -> Option<EventTime> {
    let p: Vec<&str> = s.split_whitespace().collect();
    if p.len() == 6 {
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let month = MONTHS.iter().position(|m| *m == p[1])? as i64 + 1;
        let day: i64 = p[2].parse().ok()?;
        let hms: Vec<i64> = p[3]
            .split(':')
            .map(|x| x.parse().ok())
            .collect::<Option<_>>()?;
        if hms.len() != 3 {
            return None;
        }
        let off = p[4];
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let digits = off.trim_start_matches(['+', '-']);
        if digits.len() != 4 {
            return None;
        }
        let oh: i64 = digits[..2].parse().ok()?;
        let om: i64 = digits[2..].parse().ok()?;
        let year: i64 = p[5].parse().ok()?;
        let days = days_from_civil(year, month, day);
        let secs =
            days * 86_400 + hms[0] * 3600 + hms[1] * 60 + hms[2] - sign * (oh * 3600 + om * 60);
        return Some(EventTime::from_secs(secs));
    }
    EventTime::parse(s).ok()
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn digit_share(s: &str) -> f64 {
    let n = s.chars().count();
    if n == 0 {
        return 0.0;
    }
    s.chars().filter(char::is_ascii_digit).count() as f64 / n as f64
}

const MS_PER_DAY: f64 = 86_400_000.0;

fn age_days(created: EventTime, at: EventTime) -> f64 {
    // At least one day, so that rates stay finite for brand-new accounts.
    ((at.millis() - created.millis()) as f64 / MS_PER_DAY).max(1.0)
}

impl ProfileFeatures {
    /// From a Twitter v1.1 user object, as of `collected` (the time the
    /// object was fetched; the account's age and rates are measured to it).
    pub fn from_twitter_v1(user: &Value, collected: EventTime) -> ProfileFeatures {
        let num = |k: &str| user.get(k).and_then(Value::as_f64);
        let flag = |k: &str| user.get(k).and_then(Value::as_bool);
        let text = |k: &str| user.get(k).and_then(Value::as_str);
        let age = text("created_at")
            .and_then(parse_twitter_time)
            .map(|c| age_days(c, collected));
        let statuses = num("statuses_count");
        let followers = num("followers_count");
        let friends = num("friends_count");
        let favourites = num("favourites_count");
        let listed = num("listed_count");
        let per_day = |x: Option<f64>| match (x, age) {
            (Some(x), Some(a)) => Some(x / a),
            _ => None,
        };
        let screen = text("screen_name");
        ProfileFeatures {
            account_age_days: age,
            statuses_per_day: per_day(statuses),
            follower_ratio: match (followers, friends) {
                (Some(f), Some(g)) => Some((f + 1.0) / (g + 1.0)),
                _ => None,
            },
            followers,
            friends_per_day: per_day(friends),
            favourites_per_status: match (favourites, statuses) {
                (Some(f), Some(s)) => Some((f + 1.0) / (s + 1.0)),
                _ => None,
            },
            listed_per_1k_followers: match (listed, followers) {
                (Some(l), Some(f)) => Some(1000.0 * l / (f + 1.0)),
                _ => None,
            },
            screen_name_digit_share: screen.map(digit_share),
            screen_name_length: screen.map(|s| s.chars().count() as f64),
            empty_description: user
                .get("description")
                .map(|d| d.as_str().is_none_or(|s| s.trim().is_empty())),
            default_profile: flag("default_profile"),
            default_profile_image: flag("default_profile_image"),
            has_banner: Some(
                user.get("profile_banner_url")
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.is_empty()),
            ),
            has_url: user
                .get("url")
                .map(|u| u.as_str().is_some_and(|s| !s.is_empty())),
            has_location: user
                .get("location")
                .map(|u| u.as_str().is_some_and(|s| !s.trim().is_empty())),
            verified: flag("verified"),
        }
    }

    /// From a canonical [`Actor`], as of `at` (e.g. the post's time).
    /// Fields the canonical record lacks stay unknown.
    pub fn from_actor(a: &Actor, at: EventTime) -> ProfileFeatures {
        let age = a.created.map(|c| age_days(c, at));
        let per_day = |x: Option<u64>| match (x, age) {
            (Some(x), Some(d)) => Some(x as f64 / d),
            _ => None,
        };
        ProfileFeatures {
            account_age_days: age,
            statuses_per_day: per_day(a.posts),
            follower_ratio: match (a.followers, a.following) {
                (Some(f), Some(g)) => Some((f as f64 + 1.0) / (g as f64 + 1.0)),
                _ => None,
            },
            followers: a.followers.map(|f| f as f64),
            friends_per_day: per_day(a.following),
            screen_name_digit_share: a.handle.as_deref().map(digit_share),
            screen_name_length: a.handle.as_deref().map(|s| s.chars().count() as f64),
            verified: a.verified,
            ..Default::default()
        }
    }

    /// The raw values in [`ProfileModel`] term order.
    pub fn values(&self) -> [Option<f64>; PROFILE_TERMS] {
        let b = |x: Option<bool>| x.map(|v| v as u8 as f64);
        [
            self.account_age_days,
            self.statuses_per_day,
            self.follower_ratio,
            self.followers,
            self.friends_per_day,
            self.favourites_per_status,
            self.listed_per_1k_followers,
            self.screen_name_digit_share,
            self.screen_name_length,
            b(self.empty_description),
            b(self.default_profile),
            b(self.default_profile_image),
            b(self.has_banner),
            b(self.has_url),
            b(self.has_location),
            b(self.verified),
        ]
    }

    /// A simple rule count in the spirit of early bot-flagging tools such
    /// as BotSlayer's heuristics (our approximation, not their code): the
    /// share of six red flags that hold — default profile image, a screen
    /// name at least a quarter digits, more than 50 posts a day, fewer than
    /// one follower per ten followees, an empty description, an account
    /// younger than 90 days. Unknown flags do not fire.
    pub fn red_flag_share(&self) -> f64 {
        let flags = [
            self.default_profile_image == Some(true),
            self.screen_name_digit_share.is_some_and(|d| d >= 0.25),
            self.statuses_per_day.is_some_and(|r| r > 50.0),
            self.follower_ratio.is_some_and(|r| r < 0.1),
            self.empty_description == Some(true),
            self.account_age_days.is_some_and(|a| a < 90.0),
        ];
        flags.iter().filter(|&&f| f).count() as f64 / flags.len() as f64
    }
}

/// A yes/no term: "{yes} (as do {t} of typical accounts)" or "{no} (as do {1 - t} ...)".
macro_rules! flag_term {
    ($name:expr, $yes:expr, $no:expr, $centre:expr, $weight:expr) => {
        Term {
            name: $name,
            explain: |v, t| {
                if v > 0.5 {
                    format!("{} (as do {} of typical accounts)", $yes, words::pct(t))
                } else {
                    format!(
                        "{} (as do {} of typical accounts)",
                        $no,
                        words::pct(1.0 - t)
                    )
                }
            },
            transform: words::ident,
            inverse: words::ident,
            centre: $centre,
            scale: (($centre) * (1.0 - ($centre)) as f64).sqrt(),
            weight: $weight,
        }
    };
}

/// The profile-only score.
#[derive(Clone, Debug)]
pub struct ProfileModel {
    pub model: Model,
}

impl ProfileModel {
    /// Hand-set default weights (documented in `docs/actors.md`), fixed
    /// before any evaluation and never fitted.
    pub fn default_model() -> ProfileModel {
        use words::*;
        let terms = vec![
            Term {
                name: "account_age_days",
                explain: |v, t| {
                    format!(
                        "The account is {} days old, against {} for a typical account",
                        num(v),
                        num(t)
                    )
                },
                transform: log10_1p,
                inverse: exp10_m1,
                centre: 1001f64.log10(),
                scale: 0.6,
                weight: -0.5,
            },
            Term {
                name: "statuses_per_day",
                explain: |v, t| {
                    format!(
                        "It has posted {} times a day over its life, against {} for a typical account",
                        num(v),
                        num(t)
                    )
                },
                transform: log10_1p,
                inverse: exp10_m1,
                centre: 0.7,
                scale: 0.6,
                weight: 0.6,
            },
            Term {
                name: "follower_ratio",
                explain: |v, t| {
                    format!(
                        "It has {} followers per account it follows, against {} for a typical account",
                        num(v),
                        num(t)
                    )
                },
                transform: log10,
                inverse: exp10,
                centre: 0.0,
                scale: 0.6,
                weight: -0.6,
            },
            Term {
                name: "followers",
                explain: |v, t| {
                    format!(
                        "It has {} followers, against {} for a typical account",
                        num(v),
                        num(t)
                    )
                },
                transform: log10_1p,
                inverse: exp10_m1,
                centre: 2.5,
                scale: 1.0,
                weight: -0.2,
            },
            Term {
                name: "friends_per_day",
                explain: |v, t| {
                    format!(
                        "It has followed {} accounts a day over its life, against {} for a typical account",
                        num(v),
                        num(t)
                    )
                },
                transform: log10_1p,
                inverse: exp10_m1,
                centre: 0.2,
                scale: 0.4,
                weight: 0.3,
            },
            Term {
                name: "favourites_per_status",
                explain: |v, t| {
                    format!(
                        "It has liked {} posts for each post it made, against {} for a typical account",
                        num(v),
                        num(t)
                    )
                },
                transform: log10,
                inverse: exp10,
                centre: -0.3,
                scale: 0.7,
                weight: -0.6,
            },
            Term {
                name: "listed_per_1k_followers",
                explain: |v, t| {
                    format!(
                        "It is on {} lists per 1,000 followers, against {} for a typical account",
                        num(v),
                        num(t)
                    )
                },
                transform: log10_1p,
                inverse: exp10_m1,
                centre: 0.8,
                scale: 0.5,
                weight: -0.3,
            },
            Term {
                name: "screen_name_digit_share",
                explain: |v, t| {
                    format!(
                        "Its screen name is {} digits, against {} for a typical account",
                        pct(v),
                        pct(t)
                    )
                },
                transform: ident,
                inverse: ident,
                centre: 0.05,
                scale: 0.15,
                weight: 0.4,
            },
            Term {
                name: "screen_name_length",
                explain: |v, t| {
                    format!(
                        "Its screen name is {} characters long, against {} for a typical account",
                        num(v),
                        num(t)
                    )
                },
                transform: ident,
                inverse: ident,
                centre: 11.0,
                scale: 3.0,
                weight: 0.2,
            },
            flag_term!(
                "empty_description",
                "The profile has no description",
                "The profile has a description",
                0.2,
                0.3
            ),
            flag_term!(
                "default_profile",
                "The profile keeps the default theme",
                "The profile has a customised theme",
                0.4,
                0.3
            ),
            flag_term!(
                "default_profile_image",
                "The profile keeps the default picture",
                "The profile has its own picture",
                0.03,
                0.5
            ),
            flag_term!(
                "has_banner",
                "The profile has a banner image",
                "The profile has no banner image",
                0.8,
                -0.2
            ),
            flag_term!(
                "has_url",
                "The profile links to a website",
                "The profile links to no website",
                0.4,
                -0.2
            ),
            flag_term!(
                "has_location",
                "The profile states a location",
                "The profile states no location",
                0.6,
                -0.1
            ),
            flag_term!(
                "verified",
                "The account is verified",
                "The account is not verified",
                0.02,
                -0.6
            ),
        ];
        debug_assert_eq!(terms.len(), PROFILE_TERMS);
        ProfileModel {
            model: Model {
                name: "profile-default",
                intercept: -1.0,
                terms,
            },
        }
    }

    pub fn score(&self, f: &ProfileFeatures) -> InauthenticityScore {
        self.model.score(&f.values())
    }

    pub fn logit(&self, f: &ProfileFeatures) -> f64 {
        self.model.logit(&f.values())
    }
}

impl Default for ProfileModel {
    fn default() -> Self {
        ProfileModel::default_model()
    }
}

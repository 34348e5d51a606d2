//! The seasonal baseline: how many observations an entity should get in a
//! bin if nothing unusual happens.
//!
//! Expected count = entity level × seasonal factor × bin length, floored.
//!
//! - **Seasonal factor** (hour of day × day of week) is learnt per language
//!   from *all* observations in that language, not per entity: a hashtag
//!   with ten posts a day cannot teach a 168-slot profile, but the Polish
//!   stream as a whole can, and a Polish hashtag follows Polish waking
//!   hours. Hour-of-day slots are exponentially weighted day over day
//!   (weight [`HOUR_ALPHA`]), day-of-week slots week over week
//!   ([`DAY_ALPHA`]); a factor is 1 until its profile has seen a full day
//!   (hours) or a full week (days), and is kept within
//!   [`MIN_FACTOR`]–[`MAX_FACTOR`].
//! - **Entity level** is a continuous-time exponentially weighted rate of
//!   the entity's *deseasonalised* observations (each counts `1/factor`),
//!   with time constant `tau`: after a quiet night the level still says
//!   what the entity does at noon.
//! - **Floor**: the expected count is never below `floor_per_hour` (scaled
//!   to the bin), so a brand-new or sparse entity needs several posts in a
//!   few minutes, not one, to look like a burst.

use ahash::AHashMap;

/// Weight of the newest day in an hour-of-day slot.
pub const HOUR_ALPHA: f64 = 0.3;
/// Weight of the newest week in a day-of-week slot.
pub const DAY_ALPHA: f64 = 0.5;
/// Bounds of the seasonal factor.
pub const MIN_FACTOR: f64 = 0.2;
pub const MAX_FACTOR: f64 = 5.0;
/// Most languages given their own profile; the rest share the global one.
pub const MAX_PROFILES: usize = 64;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// Hour-of-day and day-of-week volume profile of one stream.
#[derive(Clone, Debug)]
pub struct SeasonalProfile {
    hour: [f64; 24],
    hour_seen: [bool; 24],
    day: [f64; 7],
    day_seen: [bool; 7],
    cur_hour: i64,
    cur_hour_count: f64,
    cur_day: i64,
    cur_day_count: f64,
    /// Cached factor per hour-of-week slot, refreshed when an hour closes.
    factors: [f32; 168],
}

impl Default for SeasonalProfile {
    fn default() -> Self {
        SeasonalProfile {
            hour: [0.0; 24],
            hour_seen: [false; 24],
            day: [0.0; 7],
            day_seen: [false; 7],
            cur_hour: i64::MIN,
            cur_hour_count: 0.0,
            cur_day: i64::MIN,
            cur_day_count: 0.0,
            factors: [1.0; 168],
        }
    }
}

/// Hour of week (0 = Monday 00:00 UTC) of an instant.
fn hour_of_week(ms: i64) -> usize {
    // 1970-01-01 was a Thursday: day 0 → weekday 3 (Monday = 0).
    let day = ms.div_euclid(DAY_MS);
    let wd = (day + 3).rem_euclid(7) as usize;
    let h = (ms.rem_euclid(DAY_MS) / HOUR_MS) as usize;
    wd * 24 + h
}

impl SeasonalProfile {
    /// Counts one observation at `ms`.
    pub fn observe(&mut self, ms: i64) {
        let h = ms.div_euclid(HOUR_MS);
        if h != self.cur_hour {
            self.roll(h);
        }
        self.cur_hour_count += 1.0;
        self.cur_day_count += 1.0;
    }

    /// Closes the hours (and days) before hour `h`; hours in between had no
    /// observations. Out-of-order observations (an earlier hour) are
    /// counted in the current hour.
    fn roll(&mut self, h: i64) {
        if self.cur_hour == i64::MIN {
            self.cur_hour = h;
            self.cur_day = h.div_euclid(24);
            return;
        }
        if h < self.cur_hour {
            return;
        }
        // Close the current hour, then at most a week of empty hours.
        let mut hh = self.cur_hour;
        let mut count = self.cur_hour_count;
        let last = h.min(self.cur_hour + 168);
        while hh < last {
            let slot = hh.rem_euclid(24) as usize;
            if self.hour_seen[slot] {
                self.hour[slot] = (1.0 - HOUR_ALPHA) * self.hour[slot] + HOUR_ALPHA * count;
            } else {
                self.hour[slot] = count;
                self.hour_seen[slot] = true;
            }
            let day = hh.div_euclid(24);
            if (hh + 1).div_euclid(24) != day {
                let wd = (day + 3).rem_euclid(7) as usize;
                if self.day_seen[wd] {
                    self.day[wd] =
                        (1.0 - DAY_ALPHA) * self.day[wd] + DAY_ALPHA * self.cur_day_count;
                } else {
                    self.day[wd] = self.cur_day_count;
                    self.day_seen[wd] = true;
                }
                self.cur_day_count = 0.0;
            }
            count = 0.0;
            hh += 1;
        }
        self.cur_hour = h;
        self.cur_hour_count = 0.0;
        self.cur_day = h.div_euclid(24);
        self.refresh();
    }

    fn refresh(&mut self) {
        let hours_ready = self.hour_seen.iter().all(|&s| s);
        let days_ready = self.day_seen.iter().all(|&s| s);
        let hmean = self.hour.iter().sum::<f64>() / 24.0;
        let dmean = self.day.iter().sum::<f64>() / 7.0;
        for wd in 0..7 {
            for h in 0..24 {
                let mut f = 1.0;
                if hours_ready && hmean > 0.0 {
                    f *= self.hour[h] / hmean;
                }
                if days_ready && dmean > 0.0 {
                    f *= self.day[wd] / dmean;
                }
                self.factors[wd * 24 + h] = f.clamp(MIN_FACTOR, MAX_FACTOR) as f32;
            }
        }
    }

    /// Seasonal factor at `ms` (1 = an average hour).
    pub fn factor(&self, ms: i64) -> f64 {
        self.factors[hour_of_week(ms)] as f64
    }
}

/// Seasonal profiles per language, plus a global one for the rest.
#[derive(Clone, Debug)]
pub struct Profiles {
    index: AHashMap<Box<str>, u16>,
    profiles: Vec<SeasonalProfile>,
}

impl Default for Profiles {
    fn default() -> Self {
        Profiles {
            index: AHashMap::new(),
            profiles: vec![SeasonalProfile::default()],
        }
    }
}

impl Profiles {
    /// Profile id of a language (0 = global, for unknown or overflow).
    pub fn id(&mut self, lang: Option<&str>) -> u16 {
        let Some(l) = lang.filter(|l| !l.is_empty()) else {
            return 0;
        };
        if let Some(&i) = self.index.get(l) {
            return i;
        }
        if self.profiles.len() > MAX_PROFILES {
            return 0;
        }
        let i = self.profiles.len() as u16;
        self.profiles.push(SeasonalProfile::default());
        self.index.insert(l.into(), i);
        i
    }

    /// Counts one observation in its language's profile and the global one.
    pub fn observe(&mut self, id: u16, ms: i64) {
        self.profiles[0].observe(ms);
        if id != 0 {
            self.profiles[id as usize].observe(ms);
        }
    }

    pub fn factor(&self, id: u16, ms: i64) -> f64 {
        self.profiles[id as usize].factor(ms)
    }
}

/// Continuous-time exponentially weighted rate (events per hour).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Level {
    per_hour: f32,
    at: i64,
}

impl Level {
    /// The rate at `ms` (decayed since the last update).
    pub fn at(&self, ms: i64, tau_ms: f64) -> f64 {
        let dt = (ms - self.at).max(0) as f64;
        self.per_hour as f64 * (-dt / tau_ms).exp()
    }

    /// Adds an event of weight `w` at `ms`.
    pub fn add(&mut self, ms: i64, w: f64, tau_ms: f64) {
        let r = self.at(ms, tau_ms) + w * HOUR_MS as f64 / tau_ms;
        self.per_hour = r as f32;
        self.at = self.at.max(ms);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hour_of_week_starts_monday() {
        // 2025-03-03T00:00:00Z is a Monday.
        assert_eq!(hour_of_week(1_740_960_000_000), 0);
        assert_eq!(hour_of_week(1_740_960_000_000 + 7 * DAY_MS - 1), 167);
    }

    #[test]
    fn level_tracks_a_steady_rate() {
        let tau = 6.0 * HOUR_MS as f64;
        let mut l = Level::default();
        // 10 an hour for two days.
        for i in 0..480 {
            l.add(i * 360_000, 1.0, tau);
        }
        let r = l.at(480 * 360_000, tau);
        assert!((r - 10.0).abs() < 1.0, "{r}");
    }
}

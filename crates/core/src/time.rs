//! Event time: when a post was published, as a UTC instant in milliseconds.
//!
//! Sources write time in many ways (epoch seconds or milliseconds, ISO 8601
//! with or without a zone, `YYYY-MM-DD HH:MM:SS`, RFC 2822 in feeds, US zone
//! abbreviations in CrowdTangle exports). [`EventTime::parse`] accepts all of
//! them and treats a time without a zone as UTC.
//!
//! Only instants from `0000-01-01T00:00:00.000Z` to
//! `9999-12-31T23:59:59.999Z` ([`EventTime::MIN`], [`EventTime::MAX`]) are
//! times: RFC 3339, which Pharos writes and reads back, has four-digit years.
//! [`EventTime::parse`] and the serde reader refuse anything outside, so a
//! record with such a time is quarantined instead of stored.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A UTC instant with millisecond precision (milliseconds since the Unix epoch).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EventTime(pub i64);

/// Why a timestamp could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad timestamp {value:?}: {reason}")]
pub struct TimeError {
    pub value: String,
    pub reason: &'static str,
}

/// Epoch values above this are taken as milliseconds (1e11 s is the year 5138).
const MS_THRESHOLD: f64 = 1e11;

impl EventTime {
    /// The earliest time Pharos stores: `0000-01-01T00:00:00.000Z`.
    pub const MIN: EventTime = EventTime(-62_167_219_200_000);
    /// The latest time Pharos stores: `9999-12-31T23:59:59.999Z`.
    pub const MAX: EventTime = EventTime(253_402_300_799_999);

    /// `ms` as a time when it lies in [`EventTime::MIN`]..=[`EventTime::MAX`].
    pub fn checked(ms: i64) -> Option<EventTime> {
        let t = EventTime(ms);
        t.is_valid().then_some(t)
    }

    /// Whether this time can be written as RFC 3339 and read back (years 0000 to 9999).
    pub fn is_valid(self) -> bool {
        (EventTime::MIN..=EventTime::MAX).contains(&self)
    }

    pub fn from_millis(ms: i64) -> Self {
        EventTime(ms)
    }
    pub fn from_secs(s: i64) -> Self {
        EventTime(s * 1000)
    }
    pub fn millis(self) -> i64 {
        self.0
    }
    /// Whole seconds since the epoch (floor).
    pub fn secs(self) -> i64 {
        self.0.div_euclid(1000)
    }
    pub fn to_datetime(self) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(self.0)
            .single()
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }
    pub fn from_datetime<Tz: TimeZone>(dt: &DateTime<Tz>) -> Self {
        EventTime(dt.timestamp_millis())
    }
    /// RFC 3339 in UTC with milliseconds: `2021-09-22T16:37:29.000Z`.
    pub fn to_rfc3339(self) -> String {
        self.to_datetime()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }
    /// The UTC day, `YYYY-MM-DD`.
    pub fn day(self) -> String {
        self.to_datetime().format("%Y-%m-%d").to_string()
    }

    /// Reads a timestamp in any of the forms sources use.
    ///
    /// Accepted: epoch seconds or milliseconds (integer or decimal; values
    /// above 1e11 are milliseconds), RFC 3339 / ISO 8601 (zone optional, `T`
    /// or space between date and time, fractional seconds), `YYYY-MM-DD`
    /// alone (midnight UTC), `YYYY-MM-DD HH:MM[:SS]` followed by an optional
    /// offset (`+02:00`, `+0200`, `Z`) or zone abbreviation (`UTC`, `GMT`,
    /// `EST`, `EDT`, `CST`, `CDT`, `MST`, `MDT`, `PST`, `PDT`, `CET`, `CEST`,
    /// `BST`, `MSK`), and RFC 2822 (`Tue, 01 Jun 2021 10:00:00 +0000`).
    /// Without a zone the time is UTC.
    ///
    /// Times outside [`EventTime::MIN`]..=[`EventTime::MAX`] are refused
    /// ("out of range"), so are inputs longer than 256 bytes.
    pub fn parse(input: &str) -> Result<Self, TimeError> {
        let t = Self::parse_unchecked(input)?;
        if t.is_valid() {
            Ok(t)
        } else {
            Err(TimeError {
                value: input.to_string(),
                reason: OUT_OF_RANGE,
            })
        }
    }

    fn parse_unchecked(input: &str) -> Result<Self, TimeError> {
        let s = input.trim();
        let err = |reason| TimeError {
            value: if input.len() > 256 {
                format!("{}…", cut(input, 256))
            } else {
                input.to_string()
            },
            reason,
        };
        if s.len() > 256 {
            return Err(err("longer than 256 bytes"));
        }
        if s.is_empty() {
            return Err(err("empty"));
        }
        let b = s.as_bytes();
        // Epoch number.
        if b.iter()
            .all(|c| c.is_ascii_digit() || *c == b'.' || *c == b'-' || *c == b'+')
            && b.iter().any(|c| c.is_ascii_digit())
            && !(b.len() >= 8 && b[4] == b'-')
        {
            let v: f64 = s.parse().map_err(|_| err("not a number"))?;
            if !v.is_finite() {
                return Err(err("not a finite number"));
            }
            let ms = if v.abs() >= MS_THRESHOLD {
                v
            } else {
                v * 1000.0
            };
            if ms.abs() > 1e16 {
                return Err(err(OUT_OF_RANGE));
            }
            return Ok(EventTime(ms.round() as i64));
        }
        // Fast path for RFC 3339 as most JSON sources write it.
        if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
            return Ok(EventTime(dt.timestamp_millis()));
        }
        if b.len() >= 10 && b[4] == b'-' && b[7] == b'-' {
            return parse_iso_like(s).ok_or_else(|| err("not a recognised date-time"));
        }
        if let Ok(dt) = DateTime::parse_from_rfc2822(s) {
            return Ok(EventTime(dt.timestamp_millis()));
        }
        Err(err("not a recognised date-time"))
    }
}

/// The reason given for a time outside the range Pharos stores.
const OUT_OF_RANGE: &str = "out of range (Pharos stores times from year 0000 to 9999)";

/// `s` cut to at most `max` bytes at a character boundary.
fn cut(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn zone_offset(z: &str) -> Option<i32> {
    let z = z.trim();
    let hours = match z.to_ascii_uppercase().as_str() {
        "Z" | "UTC" | "GMT" | "UT" => 0,
        "EST" => -5,
        "EDT" => -4,
        "CST" => -6,
        "CDT" => -5,
        "MST" => -7,
        "MDT" => -6,
        "PST" => -8,
        "PDT" => -7,
        "CET" => 1,
        "CEST" => 2,
        "BST" => 1,
        "EET" => 2,
        "EEST" => 3,
        "MSK" => 3,
        _ => {
            // +02:00, +0200, +02, -05:30
            let (sign, rest) = match z.as_bytes().first()? {
                b'+' => (1, &z[1..]),
                b'-' => (-1, &z[1..]),
                _ => return None,
            };
            let digits: String = rest.chars().filter(|c| *c != ':').collect();
            if !digits.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let (h, m) = match digits.len() {
                2 => (digits.parse::<i32>().ok()?, 0),
                4 => (
                    digits[..2].parse::<i32>().ok()?,
                    digits[2..].parse::<i32>().ok()?,
                ),
                _ => return None,
            };
            if h > 18 || m > 59 {
                return None;
            }
            return Some(sign * (h * 3600 + m * 60));
        }
    };
    Some(hours * 3600)
}

fn parse_iso_like(s: &str) -> Option<EventTime> {
    // Split date-time from an optional zone part.
    let s = s.trim();
    if s.len() == 10 {
        let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
        return Some(EventTime(
            d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis(),
        ));
    }
    // Find where the time part ends: after the date (10 chars) and a separator,
    // digits, ':' and '.' belong to the time.
    let sep = s.as_bytes().get(10)?;
    if *sep != b'T' && *sep != b' ' && *sep != b't' {
        return None;
    }
    let rest = &s[11..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == ':' || c == '.' || c == ','))
        .unwrap_or(rest.len());
    let time_part = rest[..end].replace(',', ".");
    let zone = rest[end..].trim();
    let date = NaiveDate::parse_from_str(&s[..10], "%Y-%m-%d").ok()?;
    let fmt = match time_part.matches(':').count() {
        1 => "%H:%M",
        2 => "%H:%M:%S%.f",
        _ => return None,
    };
    let t = chrono::NaiveTime::parse_from_str(&time_part, fmt).ok()?;
    let naive = NaiveDateTime::new(date, t);
    let offset = if zone.is_empty() {
        0
    } else {
        zone_offset(zone)?
    };
    let fixed = FixedOffset::east_opt(offset)?;
    let dt = fixed.from_local_datetime(&naive).single()?;
    Some(EventTime(dt.timestamp_millis()))
}

impl fmt::Display for EventTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for EventTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for EventTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = EventTime;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an RFC 3339 timestamp or epoch milliseconds")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<EventTime, E> {
                EventTime::parse(v).map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<EventTime, E> {
                EventTime::checked(v).ok_or_else(|| {
                    E::custom(format_args!(
                        "bad timestamp {v}: epoch milliseconds {OUT_OF_RANGE}"
                    ))
                })
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<EventTime, E> {
                i64::try_from(v)
                    .ok()
                    .and_then(EventTime::checked)
                    .ok_or_else(|| {
                        E::custom(format_args!(
                            "bad timestamp {v}: epoch milliseconds {OUT_OF_RANGE}"
                        ))
                    })
            }
        }
        d.deserialize_any(V)
    }
}

/// The wall clock in epoch milliseconds (0 before 1970): the one clock
/// helper of Pharos (runs, logs, audit rows, imports).
pub fn now_ms() -> i64 {
    now_us() / 1000
}

/// How far after the clock a post's event time may be and still move a
/// live analysis (the server's, `pharos watch`'s, a bus worker's): clock
/// skew between sources. A post dated later is stored but not analysed
/// live: one hostile post dated 9999 would otherwise move the live clock
/// past every other post and expire every narrative, burst and alert.
pub const FUTURE_TOLERANCE_MS: i64 = 24 * 3_600_000;

/// The latest event time a live analysis reads when the clock reads
/// `now_ms`: `now_ms` plus [`FUTURE_TOLERANCE_MS`].
pub fn live_horizon_at(now_ms: i64) -> i64 {
    now_ms.saturating_add(FUTURE_TOLERANCE_MS)
}

/// [`live_horizon_at`] the wall clock.
pub fn live_horizon_ms() -> i64 {
    live_horizon_at(now_ms())
}

/// Drops from `items` those whose event time (`time_ms`) is after
/// `horizon_ms`, keeping the order of the rest; returns how many went.
pub fn drop_after_horizon<T>(
    items: &mut Vec<T>,
    horizon_ms: i64,
    time_ms: impl Fn(&T) -> i64,
) -> usize {
    let before = items.len();
    items.retain(|x| time_ms(x) <= horizon_ms);
    before - items.len()
}

/// The wall clock in epoch microseconds (0 before 1970): TAXII's
/// `date_added`, which orders object versions, needs them.
pub fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_posts_dated_after_the_horizon_are_dropped() {
        let now = p("2026-12-08T00:00:00Z");
        let h = live_horizon_at(now);
        assert_eq!(h - now, 24 * 3_600_000);
        let mut t = vec![now, h, h + 1, i64::MAX, now - 1];
        assert_eq!(drop_after_horizon(&mut t, h, |x| *x), 2);
        assert_eq!(t, vec![now, h, now - 1]);
        // No overflow at the end of time.
        assert_eq!(live_horizon_at(i64::MAX), i64::MAX);
    }

    fn p(s: &str) -> i64 {
        EventTime::parse(s).unwrap().0
    }

    #[test]
    fn epoch_seconds_and_millis() {
        assert_eq!(p("1623881091"), 1_623_881_091_000);
        assert_eq!(p("1623881091123"), 1_623_881_091_123);
        assert_eq!(p("1623881091.5"), 1_623_881_091_500);
    }

    #[test]
    fn iso_forms() {
        let base = 1_632_328_649_000; // 2021-09-22T16:37:29Z
        assert_eq!(p("2021-09-22T16:37:29.000Z"), base);
        assert_eq!(p("2021-09-22T16:37:29Z"), base);
        assert_eq!(p("2021-09-22T16:37:29"), base);
        assert_eq!(p("2021-09-22 16:37:29"), base);
        assert_eq!(p("2021-09-22T18:37:29+02:00"), base);
        assert_eq!(p("2021-09-22 18:37:29 +0200"), base);
        assert_eq!(p("2021-09-22 12:37:29 EDT"), base);
        assert_eq!(p("2021-09-22 16:37:29 UTC"), base);
        assert_eq!(p("2021-09-22T16:37:29.250Z"), base + 250);
        assert_eq!(p("Wed, 22 Sep 2021 16:37:29 +0000"), base);
        assert_eq!(p("2021-09-22"), 1_632_268_800_000);
    }

    #[test]
    fn rejects_garbage() {
        assert!(EventTime::parse("").is_err());
        assert!(EventTime::parse("yesterday").is_err());
        assert!(EventTime::parse("2021-13-45 10:00:00").is_err());
        assert!(EventTime::parse("2021-09-22 10:00:00 XYZ").is_err());
    }

    #[test]
    fn refuses_times_it_cannot_store() {
        // Finding 1 of issue 14: these were stored as -262143-01-01.
        for bad in [
            "9000000000000000",
            "5000000000000000000",
            "-9000000000000000",
            "10000-01-01T00:00:00Z",
            "+10000-01-01T00:00:00Z",
            "1e300",
        ] {
            let e = EventTime::parse(bad).unwrap_err();
            assert!(e.to_string().contains("bad timestamp"), "{bad}: {e}");
        }
        let long = "1".repeat(10_000);
        let e = EventTime::parse(&long).unwrap_err();
        assert!(
            e.to_string().len() < 400,
            "the message quotes a bounded part"
        );
        for bad in [
            "5000000000000000000",
            "9000000000000000",
            "18446744073709551615",
            "-62167219200001",
        ] {
            let r: Result<EventTime, _> = serde_json::from_str(bad);
            assert!(r.is_err(), "{bad} read as {:?}", r);
        }
        let r: Result<EventTime, _> = serde_json::from_str("\"9000000000000000\"");
        assert!(r.is_err());
    }

    #[test]
    fn the_range_ends_round_trip() {
        for t in [EventTime::MIN, EventTime::MAX, EventTime(0), EventTime(-1)] {
            assert!(t.is_valid());
            let s = t.to_rfc3339();
            assert_eq!(EventTime::parse(&s).unwrap(), t, "{s}");
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(serde_json::from_str::<EventTime>(&json).unwrap(), t);
            assert_eq!(
                serde_json::from_str::<EventTime>(&t.0.to_string()).unwrap(),
                t
            );
        }
        assert_eq!(EventTime::MIN.to_rfc3339(), "0000-01-01T00:00:00.000Z");
        assert_eq!(EventTime::MAX.to_rfc3339(), "9999-12-31T23:59:59.999Z");
        assert!(!EventTime(EventTime::MAX.0 + 1).is_valid());
        assert!(!EventTime(EventTime::MIN.0 - 1).is_valid());
        assert_eq!(EventTime::checked(i64::MAX), None);
    }

    #[test]
    fn rfc3339_round_trip() {
        let t = EventTime(1_632_328_649_123);
        assert_eq!(t.to_rfc3339(), "2021-09-22T16:37:29.123Z");
        assert_eq!(EventTime::parse(&t.to_rfc3339()).unwrap(), t);
    }
}

//! The normaliser: every post passes here between its format reader and the store.
//!
//! It rejects posts without the fields that make a record usable (platform,
//! id, actor id) and fills what can be derived: trimmed ids, lowercase
//! platform, normalised links and their domains, lowercase hashtags and
//! mentions without sigils, ISO 639-1 language codes, and a detected
//! language when the source gives none.
//!
//! It also refuses what Pharos cannot store and read back, or what would
//! make later stages slow: a time outside years 0000–9999, and a post over
//! one of the caps of [`crate::limits`] (text length, links, hashtags,
//! mentions, media, id lengths). Every step is linear in the size of the
//! post: duplicates are found with hash sets, not by scanning.

use crate::limits::{
    MAX_HASHTAGS, MAX_ID_BYTES, MAX_LINKS, MAX_MEDIA, MAX_MENTIONS, MAX_TEXT_BYTES,
};
use pharos_core::lang::normalize_lang;
use pharos_core::{EventTime, Link, Post};
use std::collections::HashSet;

/// Normalises `post` in place; `Err(reason)` when it cannot be stored.
pub fn normalize(post: &mut Post, detect_language: bool) -> Result<(), String> {
    trim_in_place(&mut post.platform);
    if post.platform.bytes().any(|b| b.is_ascii_uppercase()) {
        post.platform = post.platform.to_ascii_lowercase();
    }
    trim_in_place(&mut post.id);
    trim_in_place(&mut post.actor.id);
    if post.platform.is_empty() {
        return Err("missing required field: platform".into());
    }
    if post.id.is_empty() {
        return Err("missing required field: id".into());
    }
    if post.actor.id.is_empty() {
        match post.actor.handle.as_deref().map(str::trim) {
            Some(h) if !h.is_empty() => post.actor.id = h.trim_start_matches('@').to_string(),
            _ => return Err("missing required field: actor id".into()),
        }
    }
    if let Some(h) = &mut post.actor.handle
        && (h.starts_with('@') || h.trim().len() != h.len())
    {
        *h = h.trim().trim_start_matches('@').to_string();
    }
    empty_to_none(&mut post.actor.handle);
    empty_to_none(&mut post.actor.name);
    empty_to_none(&mut post.reply_to);
    empty_to_none(&mut post.reshare_of);
    empty_to_none(&mut post.quote_of);
    check_time("time", post.time)?;
    if let Some(t) = post.actor.created {
        check_time("actor created", t)?;
    }
    check_lengths(post)?;

    tidy_tags(&mut post.hashtags, '#');
    tidy_tags(&mut post.mentions, '@');
    over_cap("hashtags", post.hashtags.len(), MAX_HASHTAGS)?;
    over_cap("mentions", post.mentions.len(), MAX_MENTIONS)?;
    over_cap("media", post.media.len(), MAX_MEDIA)?;

    // Links: keep given normal forms when consistent, (re)normalise otherwise.
    let mut seen: HashSet<String> = HashSet::with_capacity(post.links.len());
    let links = std::mem::take(&mut post.links);
    for mut l in links {
        if l.raw.trim().is_empty() {
            continue;
        }
        if l.url.is_empty() {
            l = Link::new(&l.raw);
        }
        if seen.insert(l.url.clone()) {
            post.links.push(l);
        }
    }
    over_cap("links", post.links.len(), MAX_LINKS)?;
    post.refresh_domains();

    post.lang = match post.lang.as_deref() {
        Some(l) => normalize_lang(l),
        None => None,
    };
    if post.lang.is_none() && detect_language {
        post.lang = pharos_core::lang::detect(&post.text).map(str::to_string);
    }
    Ok(())
}

/// `Err` naming the field when `t` is not a time Pharos can store.
fn check_time(field: &str, t: EventTime) -> Result<(), String> {
    if t.is_valid() {
        Ok(())
    } else {
        Err(format!(
            "bad timestamp: {field} {} ms is out of range (Pharos stores times from year 0000 to 9999)",
            t.0
        ))
    }
}

fn over_cap(what: &str, n: usize, cap: usize) -> Result<(), String> {
    if n > cap {
        Err(format!(
            "over a cap: {n} {what}, at most {cap} per post (docs/limits.md)"
        ))
    } else {
        Ok(())
    }
}

fn check_lengths(post: &Post) -> Result<(), String> {
    if post.text.len() > MAX_TEXT_BYTES {
        return Err(format!(
            "over a cap: text of {} bytes, at most {MAX_TEXT_BYTES} (docs/limits.md)",
            post.text.len()
        ));
    }
    let fields = [
        ("platform", Some(&post.platform)),
        ("id", Some(&post.id)),
        ("actor id", Some(&post.actor.id)),
        ("actor handle", post.actor.handle.as_ref()),
        ("actor name", post.actor.name.as_ref()),
        ("reply_to", post.reply_to.as_ref()),
        ("reshare_of", post.reshare_of.as_ref()),
        ("quote_of", post.quote_of.as_ref()),
        ("lang", post.lang.as_ref()),
    ];
    for (name, v) in fields {
        if let Some(v) = v
            && v.len() > MAX_ID_BYTES
        {
            return Err(format!(
                "over a cap: {name} of {} bytes, at most {MAX_ID_BYTES} (docs/limits.md)",
                v.len()
            ));
        }
    }
    Ok(())
}

fn trim_in_place(s: &mut String) {
    let t = s.trim();
    if t.len() != s.len() {
        *s = t.to_string();
    }
}

fn empty_to_none(v: &mut Option<String>) {
    if let Some(s) = v {
        trim_in_place(s);
        if s.is_empty() {
            *v = None;
        }
    }
}

fn tidy_tags(tags: &mut Vec<String>, sigil: char) {
    let clean = tags.iter().all(|t| {
        !t.is_empty()
            && !t.starts_with(sigil)
            && !t.chars().any(|c| c.is_uppercase() || c.is_whitespace())
    });
    if clean && tags.len() < 2 {
        return;
    }
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    let mut seen: HashSet<String> = HashSet::with_capacity(tags.len());
    for t in tags.drain(..) {
        let t = t.trim().trim_start_matches(sigil).to_lowercase();
        if !t.is_empty() && seen.insert(t.clone()) {
            out.push(t);
        }
    }
    *tags = out;
}

#[cfg(test)]
mod tests {
    use super::*;
    use pharos_core::{Actor, EventTime};

    fn post() -> Post {
        Post {
            platform: " Twitter ".into(),
            id: " 1 ".into(),
            actor: Actor {
                id: "a".into(),
                handle: Some("@Alice".into()),
                ..Default::default()
            },
            time: EventTime(0),
            text: "Това е".into(),
            hashtags: vec!["#Brexit".into(), "brexit".into()],
            mentions: vec!["@Bob".into()],
            ..Default::default()
        }
    }

    #[test]
    fn fills_and_tidies() {
        let mut p = post();
        p.links.push(Link {
            raw: "https://EXAMPLE.com/x?utm_source=a".into(),
            url: String::new(),
            domain: String::new(),
        });
        p.links.push(Link::new("https://example.com/x"));
        normalize(&mut p, false).unwrap();
        assert_eq!(p.platform, "twitter");
        assert_eq!(p.id, "1");
        assert_eq!(p.actor.handle.as_deref(), Some("Alice"));
        assert_eq!(p.hashtags, vec!["brexit"]);
        assert_eq!(p.mentions, vec!["bob"]);
        assert_eq!(p.links.len(), 1, "same normal form counted once");
        assert_eq!(p.domains, vec!["example.com"]);
    }

    #[test]
    fn rejects_missing_required() {
        let mut p = post();
        p.id = "  ".into();
        assert_eq!(
            normalize(&mut p, false).unwrap_err(),
            "missing required field: id"
        );
        let mut p = post();
        p.actor = Actor::default();
        assert!(normalize(&mut p, false).unwrap_err().contains("actor id"));
    }

    #[test]
    fn detects_main_languages() {
        let cases = [
            (
                "en",
                "The government announced new measures against the spread of false information today",
            ),
            (
                "ru",
                "Правительство объявило сегодня о новых мерах против распространения ложной информации",
            ),
            (
                "uk",
                "Уряд оголосив сьогодні про нові заходи проти поширення неправдивої інформації",
            ),
            (
                "de",
                "Die Regierung hat heute neue Maßnahmen gegen die Verbreitung falscher Informationen angekündigt",
            ),
            (
                "fr",
                "Le gouvernement a annoncé aujourd'hui de nouvelles mesures contre la diffusion de fausses informations",
            ),
            (
                "pl",
                "Rząd ogłosił dzisiaj nowe środki przeciwko rozpowszechnianiu fałszywych informacji",
            ),
            (
                "ar",
                "أعلنت الحكومة اليوم عن إجراءات جديدة ضد انتشار المعلومات الكاذبة",
            ),
            (
                "es",
                "El gobierno anunció hoy nuevas medidas contra la difusión de información falsa",
            ),
            (
                "it",
                "Il governo ha annunciato oggi nuove misure contro la diffusione di informazioni false",
            ),
        ];
        for (want, text) in cases {
            assert_eq!(pharos_core::lang::detect(text), Some(want), "{text}");
        }
        assert_eq!(pharos_core::lang::detect("ok lol"), None);
    }
}

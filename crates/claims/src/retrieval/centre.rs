//! Per-language centring of the encoder's vectors, for candidates in
//! another language than the post's.
//!
//! multilingual-e5-small puts every text of a language near a common point
//! of its own: the cosine of two unrelated English texts is about 0.8, and
//! a Russian post sits closer to unrelated Russian texts than to the English
//! fact-check that answers it. Taking each side's language mean away before
//! the cosine (the post minus the mean of its language's posts, the claim
//! minus the mean of its language's claims, both back to unit length)
//! leaves what the texts say rather than which language they say it in.
//!
//! The post means are **running means** kept by the matcher: every post of
//! a known language that the encoder embeds updates its language's mean
//! *after* its batch was matched (a batch is never centred on itself), and
//! the means are kept beside the library (`index/lang-means.json`) so that a
//! new process starts where the last one stopped. A language's mean is used
//! once it has [`MIN_POSTS`] posts; until then its posts are matched as
//! without centring. The claim means come from the library's own claim
//! vectors. Posts and claims in one language are never centred: same-language
//! matching is what it was.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Posts of a language seen before its mean is used.
pub const MIN_POSTS: u64 = 20;

/// The running mean's memory: past this many posts a language's mean is an
/// exponential average (weight 1/`HORIZON` per new post), so that it follows
/// a stream whose topics drift.
pub const HORIZON: u64 = 10_000;

/// File name of the post means in a library's index directory.
pub const FILE: &str = "lang-means.json";

/// The running mean of one language's post vectors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Running {
    /// Posts seen (the weight of the mean, at most [`HORIZON`]).
    pub n: u64,
    /// Kept as the values' bits: read back exactly as written.
    #[serde(with = "bits")]
    pub mean: Vec<f64>,
}

mod bits {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        v.iter()
            .map(|x| x.to_bits())
            .collect::<Vec<u64>>()
            .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        Ok(Vec::<u64>::deserialize(d)?
            .into_iter()
            .map(f64::from_bits)
            .collect())
    }
}

/// Running means of post vectors per language (ISO 639-1), for one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LangMeans {
    /// The model and encoder the vectors come from: means of another model
    /// are not used.
    pub model: String,
    pub dim: usize,
    pub langs: BTreeMap<String, Running>,
    /// Vectors added since the means were last written.
    #[serde(skip)]
    pub unsaved: u64,
}

impl LangMeans {
    pub fn new(model: &str, dim: usize) -> Self {
        LangMeans {
            model: model.to_string(),
            dim,
            langs: BTreeMap::new(),
            unsaved: 0,
        }
    }

    /// Adds one post vector of language `lang`.
    pub fn add(&mut self, lang: &str, v: &[f32]) {
        if v.len() != self.dim || v.iter().any(|x| !x.is_finite()) {
            return;
        }
        let r = self
            .langs
            .entry(lang.to_string())
            .or_insert_with(|| Running {
                n: 0,
                mean: vec![0.0; self.dim],
            });
        r.n = (r.n + 1).min(HORIZON);
        let w = 1.0 / r.n as f64;
        for (m, &x) in r.mean.iter_mut().zip(v) {
            *m += (x as f64 - *m) * w;
        }
        self.unsaved += 1;
    }

    /// The mean of `lang`'s posts when it has [`MIN_POSTS`] of them.
    pub fn mean(&self, lang: &str) -> Option<Vec<f32>> {
        self.langs
            .get(lang)
            .filter(|r| r.n >= MIN_POSTS)
            .map(|r| r.mean.iter().map(|&x| x as f32).collect())
    }

    /// The means kept in `path` for this model, or empty ones (no file,
    /// another model, or a file that does not read: a warning, and the
    /// means start again).
    pub fn load(path: &Path, model: &str, dim: usize) -> Self {
        let fresh = || LangMeans::new(model, dim);
        let Ok(bytes) = std::fs::read(path) else {
            return fresh();
        };
        match serde_json::from_slice::<LangMeans>(&bytes) {
            Ok(m)
                if m.model == model
                    && m.dim == dim
                    && m.langs
                        .values()
                        .all(|r| r.mean.len() == dim && r.mean.iter().all(|x| x.is_finite())) =>
            {
                m
            }
            Ok(_) => fresh(),
            Err(e) => {
                tracing::warn!(
                    "{}: unreadable language means, starting again: {e}",
                    path.display()
                );
                fresh()
            }
        }
    }

    /// Writes the means to `path` (a temporary file, then renamed: a reader
    /// sees the old file or the new one).
    pub fn save(&mut self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        static WRITER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = WRITER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = path.with_extension(format!("tmp-{}-{n}", std::process::id()));
        std::fs::write(
            &tmp,
            serde_json::to_vec(self).map_err(std::io::Error::other)?,
        )?;
        std::fs::rename(&tmp, path)?;
        self.unsaved = 0;
        Ok(())
    }
}

/// `v - mean`, scaled to unit length (`v` itself when the difference is
/// zero).
pub fn centred(v: &[f32], mean: &[f32]) -> Vec<f32> {
    let mut out: Vec<f32> = v.iter().zip(mean).map(|(a, b)| a - b).collect();
    let norm = out.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 1e-12 {
        out.iter_mut().for_each(|x| *x /= norm);
        out
    } else {
        v.to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mean_is_used_from_min_posts_and_follows_the_posts() {
        let mut m = LangMeans::new("m", 2);
        for i in 0..MIN_POSTS - 1 {
            m.add("ru", &[1.0, i as f32]);
        }
        assert_eq!(m.mean("ru"), None);
        m.add("ru", &[1.0, 0.0]);
        let mean = m.mean("ru").expect("20 posts");
        assert!((mean[0] - 1.0).abs() < 1e-6);
        let want = (0..MIN_POSTS - 1).sum::<u64>() as f32 / MIN_POSTS as f32;
        assert!((mean[1] - want).abs() < 1e-4, "{mean:?}");
        assert_eq!(m.mean("uk"), None);
        // Vectors of the wrong length or with NaN are ignored.
        m.add("ru", &[1.0]);
        m.add("ru", &[f32::NAN, 0.0]);
        assert_eq!(m.langs["ru"].n, MIN_POSTS);
    }

    #[test]
    fn centring_removes_the_shared_part() {
        // Two texts of one language: mostly the language's point, a little
        // of what they say. Raw, they look alike; centred, they are apart.
        let lang = [0.9f32, 0.0, 0.0];
        let a = [0.9f32, 0.3, 0.0];
        let b = [0.9f32, 0.0, 0.3];
        let raw = pharos_embed::cosine(&centred(&a, &[0.0; 3]), &centred(&b, &[0.0; 3]));
        assert!(raw > 0.8, "{raw}");
        let c = pharos_embed::cosine(&centred(&a, &lang), &centred(&b, &lang));
        assert!(c.abs() < 1e-6, "{c}");
        assert_eq!(centred(&a, &a), a.to_vec());
    }
}

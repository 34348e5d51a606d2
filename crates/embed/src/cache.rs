//! The vectors of texts already encoded, by the token ids the encoder
//! read: a stream's retweets and copies are encoded once.
//!
//! The key is the whole input of the forward pass (a text's ids, framed,
//! prefixed by role and cut to the token cap), and a text's vector does not
//! depend on its batch, so a vector from the cache has the same bits as one
//! computed again. The cache holds at most `capacity` vectors and drops the
//! least recently used first; [`crate::Embedder::set_kernel`] empties it
//! (another kernel rounds differently).

use lru::LruCache;
use std::num::NonZeroUsize;

/// Vectors a new encoder keeps: 4,096 × (384 f32 + a tweet's ~50 ids)
/// ≈ 7 MB for e5-small and MiniLM (at most 15 MB, every text at 512 ids).
pub const DEFAULT_CAPACITY: usize = 4096;

/// What the cache has saved since the encoder opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Texts asked for (every call, every text).
    pub texts: u64,
    /// Texts run through the encoder (the rest came from the cache, or
    /// repeated a text of the same call).
    pub encoded: u64,
    /// Vectors held now.
    pub entries: usize,
    /// The most vectors held.
    pub capacity: usize,
}

/// Vectors by token ids, least recently used first out.
type Vectors = LruCache<Box<[u32]>, Box<[f32]>>;

/// The cache itself: [`crate::Embedder`] holds one; a benchmark may hold
/// its own to replay a stream's token ids without encoding them.
pub struct Cache {
    map: Option<Vectors>,
    texts: u64,
    encoded: u64,
}

impl Cache {
    /// A cache of at most `capacity` vectors (0: none).
    pub fn new(capacity: usize) -> Self {
        Cache {
            map: NonZeroUsize::new(capacity).map(LruCache::new),
            texts: 0,
            encoded: 0,
        }
    }

    /// Keeps at most `capacity` vectors (0: none), dropping the least
    /// recently used.
    pub fn resize(&mut self, capacity: usize) {
        match (NonZeroUsize::new(capacity), &mut self.map) {
            (None, map) => *map = None,
            (Some(c), Some(map)) => map.resize(c),
            (Some(c), map) => *map = Some(LruCache::new(c)),
        }
    }

    /// Drops every vector (the counts stay).
    pub fn clear(&mut self) {
        if let Some(map) = &mut self.map {
            map.clear();
        }
    }

    /// The vector of `ids`, if held (it becomes the most recently used).
    fn get(&mut self, ids: &[u32]) -> Option<Vec<f32>> {
        self.map.as_mut()?.get(ids).map(|v| v.to_vec())
    }

    /// Keeps the vector `v` of `ids` (dropping the least recently used
    /// when full).
    pub fn put(&mut self, ids: &[u32], v: &[f32]) {
        if let Some(map) = &mut self.map {
            map.put(ids.into(), v.into());
        }
    }

    /// One call's texts (their token ids): the vectors held (marked used),
    /// the first text of each other distinct id sequence (to encode), and
    /// the texts that repeat one of those. Counted in [`Cache::stats`].
    pub fn lookup<'a>(&mut self, ids: &'a [Vec<u32>]) -> Lookup {
        let mut found = Vec::new();
        let mut todo = Vec::new();
        let mut copies = Vec::new();
        let mut first: std::collections::HashMap<&'a [u32], usize> = Default::default();
        for (i, ids) in ids.iter().enumerate() {
            if let Some(v) = self.get(ids) {
                found.push((i, v));
            } else if let Some(&j) = first.get(ids.as_slice()) {
                copies.push((i, j));
            } else {
                first.insert(ids, i);
                todo.push(i);
            }
        }
        self.texts += ids.len() as u64;
        self.encoded += todo.len() as u64;
        Lookup {
            found,
            todo,
            copies,
        }
    }

    /// Texts asked for and encoded so far, vectors held and capacity.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            texts: self.texts,
            encoded: self.encoded,
            entries: self.map.as_ref().map_or(0, |m| m.len()),
            capacity: self.map.as_ref().map_or(0, |m| m.cap().get()),
        }
    }
}

/// What [`Cache::lookup`] found for a call's texts (by index).
#[derive(Debug, Default)]
pub struct Lookup {
    /// Texts whose vector the cache held, with it.
    pub found: Vec<(usize, Vec<f32>)>,
    /// Texts to encode: the first of each distinct id sequence not held.
    pub todo: Vec<usize>,
    /// `(i, j)`: text `i` repeats text `j` of `todo`.
    pub copies: Vec<(usize, usize)>,
}

//! A SentencePiece unigram tokenizer (XLM-R's), written from the model's
//! description: pieces with log-probabilities, a per-character
//! normalisation table, and the most probable segmentation (Viterbi).
//!
//! The steps, in the order the packed multilingual-e5 file expects them:
//! 1. each character is replaced by its normalisation (possibly nothing:
//!    control characters vanish; compatibility forms become their plain
//!    letters);
//! 2. runs of spaces become one space;
//! 3. a space is put in front unless the text starts with one, and every
//!    space becomes the metaspace `▁` (U+2581), which starts a word;
//! 4. the segmentation into known pieces with the highest summed score is
//!    chosen; a character no piece covers becomes `<unk>`, scored ten below
//!    the rarest piece, so that it is only used when nothing else fits.
//!
//! Control pieces (`<s>`, `</s>`, `<pad>`, `<mask>`) are never produced
//! from text: a post that contains the string `<s>` gets the pieces of
//! those characters. Work is linear in the text (each character tries at
//! most as many pieces as the longest piece has bytes).

use std::collections::HashMap;

/// The metaspace marker that starts each word.
const META: char = '\u{2581}';

/// A unigram model: pieces, their scores, and the normalisation table.
pub(crate) struct Unigram {
    pieces: HashMap<Box<str>, u32>,
    scores: Vec<f32>,
    unk: u32,
    unk_score: f32,
    /// Longest piece, in bytes: the Viterbi search looks no further.
    max_piece_bytes: usize,
    normalise: HashMap<char, Box<[char]>>,
}

impl Unigram {
    /// Builds the model from its pieces (in id order) and scores; `unk` is
    /// the id of `<unk>`, `control` the ids that text never produces.
    pub(crate) fn new(
        pieces: Vec<String>,
        scores: Vec<f32>,
        unk: u32,
        control: &[u32],
        normalise: HashMap<char, Box<[char]>>,
    ) -> Result<Self, String> {
        if pieces.len() != scores.len() {
            return Err(format!(
                "{} pieces but {} scores",
                pieces.len(),
                scores.len()
            ));
        }
        if unk as usize >= pieces.len() {
            return Err(format!("<unk> id {unk} outside {} pieces", pieces.len()));
        }
        let min = scores.iter().copied().fold(f32::INFINITY, f32::min);
        let mut map = HashMap::with_capacity(pieces.len());
        let mut max_piece_bytes = 1;
        for (id, p) in pieces.into_iter().enumerate() {
            let id = id as u32;
            if p.is_empty() || id == unk || control.contains(&id) {
                continue;
            }
            max_piece_bytes = max_piece_bytes.max(p.len());
            // A duplicate piece keeps its first id.
            map.entry(p.into_boxed_str()).or_insert(id);
        }
        Ok(Unigram {
            pieces: map,
            scores,
            unk,
            unk_score: if min.is_finite() { min - 10.0 } else { -10.0 },
            max_piece_bytes,
            normalise,
        })
    }

    /// Number of pieces (the vocabulary the model's ids index).
    pub(crate) fn len(&self) -> usize {
        self.scores.len()
    }

    /// The ids of `text`'s pieces, without `<s>` and `</s>`; at most `max`
    /// of them (the first ones).
    pub(crate) fn encode(&self, text: &str, max: usize) -> Vec<u32> {
        // 1 and 2: normalise, one space for many.
        let mut chars: Vec<char> = Vec::with_capacity(text.len() + 1);
        for c in text.chars() {
            let mut push = |c: char| {
                if !(c == ' ' && chars.last() == Some(&' ')) {
                    chars.push(c);
                }
            };
            match self.normalise.get(&c) {
                Some(out) => out.iter().for_each(|&c| push(c)),
                None => push(c),
            }
        }
        // 3: a leading metaspace, then every space is one.
        let mut s = String::with_capacity(chars.len() * 2 + 3);
        if chars.first() != Some(&' ') {
            s.push(META);
        }
        for &c in &chars {
            s.push(if c == ' ' { META } else { c });
        }
        // Byte offset of each character, and of the end.
        let starts: Vec<usize> = s
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(s.len()))
            .collect();
        let n = starts.len() - 1;

        // 4: Viterbi. best[e] is the best score of a segmentation of the
        // first e characters, back[e] its last piece (id, first char).
        let mut best = vec![f32::NEG_INFINITY; n + 1];
        let mut back = vec![(self.unk, 0usize); n + 1];
        best[0] = 0.0;
        for i in 0..n {
            if best[i] == f32::NEG_INFINITY {
                continue;
            }
            let from = starts[i];
            for e in i + 1..=n {
                if starts[e] - from > self.max_piece_bytes {
                    break;
                }
                if let Some(&id) = self.pieces.get(&s[from..starts[e]]) {
                    let score = best[i] + self.scores[id as usize];
                    if score > best[e] {
                        best[e] = score;
                        back[e] = (id, i);
                    }
                }
            }
            let score = best[i] + self.unk_score;
            if score > best[i + 1] {
                best[i + 1] = score;
                back[i + 1] = (self.unk, i);
            }
        }
        let mut ids = Vec::new();
        let mut e = n;
        while e > 0 {
            let (id, from) = back[e];
            ids.push(id);
            e = from;
        }
        ids.reverse();
        ids.truncate(max);
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> Unigram {
        let pieces = [
            "<s>", "<pad>", "</s>", "<unk>", "▁", "▁the", "▁t", "he", "h", "e", "▁fact", "s", "▁c",
            "heck", "a", "b", "▁ab", "▁a", "<mask>",
        ];
        let scores = [
            0.0, 0.0, 0.0, 0.0, -3.0, -2.0, -4.0, -4.0, -6.0, -6.0, -3.0, -5.0, -5.0, -4.0, -6.0,
            -6.0, -9.0, -5.0, 0.0,
        ];
        let mut norm = HashMap::new();
        norm.insert('\u{1}', Box::from([]));
        norm.insert('Ａ', Box::from(['a']));
        norm.insert('\u{a0}', Box::from([' ']));
        Unigram::new(
            pieces.iter().map(|s| s.to_string()).collect(),
            scores.to_vec(),
            3,
            &[0, 1, 2, 18],
            norm,
        )
        .unwrap()
    }

    #[test]
    fn picks_the_most_probable_segmentation() {
        let m = model();
        // "▁the" (-2) beats "▁t"+"he" (-8).
        assert_eq!(m.encode("the", 99), vec![5]);
        // "▁fact"+"s", then "▁c"+"heck".
        assert_eq!(m.encode("facts check", 99), vec![10, 11, 12, 13]);
        // "▁ab" (-9) beats "▁a"+"b" (-11).
        assert_eq!(m.encode("ab", 99), vec![16]);
    }

    #[test]
    fn normalises_spaces_and_compatibility_forms() {
        let m = model();
        assert_eq!(m.encode("the   facts", 99), m.encode("the facts", 99));
        // U+00A0 becomes a space, then joins the run.
        assert_eq!(m.encode("the \u{a0}facts", 99), m.encode("the facts", 99));
        assert_eq!(m.encode("Ａb", 99), m.encode("ab", 99));
        assert_eq!(m.encode("\u{1}the", 99), m.encode("the", 99));
        // A leading space is the word's metaspace, not a second one.
        assert_eq!(m.encode(" the", 99), m.encode("the", 99));
        // Trailing space: a lone metaspace piece.
        assert_eq!(m.encode("the ", 99), vec![5, 4]);
    }

    #[test]
    fn unknown_characters_are_unk_and_control_pieces_never_come_from_text() {
        let m = model();
        assert_eq!(m.encode("the ж", 99), vec![5, 4, 3]);
        // "▁", then "<" unknown, "s", ">" unknown: never the control piece 0.
        assert_eq!(m.encode("<s>", 99), vec![4, 3, 11, 3]);
        assert_eq!(
            m.encode("<mask>", 99).iter().filter(|&&i| i == 18).count(),
            0
        );
        assert_eq!(m.encode("", 99), vec![4]);
        assert_eq!(m.encode("facts check", 2), vec![10, 11]);
    }

    #[test]
    fn long_hostile_text_is_linear() {
        let m = model();
        let text = "ж".repeat(200_000);
        let ids = m.encode(&text, 510);
        assert_eq!(ids.len(), 510);
    }
}

//! The BM25 index of the library's claims (tantivy).
//!
//! One document per claim: its text and title in the fields of its
//! language (`text_en`, `title_en`, `text_ru` ..., or the generic `xx`),
//! both again in the transliterated `key` field, and its position in the
//! library (`ord`, a fast field). A query is analysed once per language the
//! library holds, so each claim is scored against the post analysed the way
//! the claim was (English stems for English claims, Russian for Russian),
//! plus the key field, where `Зеленский` meets `Zelensky`.
//!
//! The index lives in memory ([`ClaimIndex::build_in_ram`]) or under a
//! directory ([`ClaimIndex::open_or_build`]); a directory index records the
//! library generation it was built from and is rebuilt when it changes.

use super::text::{GENERIC, STEMMED, analyser, analyser_code, key_analyser, key_text, terms};
use crate::Claim;
use pharos_analysis::similarity::translit::detect_language;
use std::collections::HashSet;
use std::path::Path;
use tantivy::collector::TopDocs;
use tantivy::columnar::Column;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    FAST, Field, IndexRecordOption, STORED, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Index, IndexReader, ReloadPolicy, Searcher, TantivyDocument, Term};

/// Field weights of the BM25 query, chosen on the CheckThat! 2021 train
/// queries (see docs/claim-retrieval.md).
#[derive(Debug, Clone, Copy)]
pub struct FieldWeights {
    pub text: f32,
    pub title: f32,
    pub key: f32,
}

impl Default for FieldWeights {
    fn default() -> Self {
        FieldWeights {
            text: 1.0,
            title: 0.6,
            key: 0.2,
        }
    }
}

/// Index format version: bump when the schema or analysis changes so that
/// stored indexes are rebuilt.
pub(crate) const FORMAT: u32 = 1;

struct LangFields {
    code: &'static str,
    text: Field,
    title: Field,
    analyser: TextAnalyzer,
}

/// A claim found by BM25: its position in the library and its score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub ord: u32,
    pub score: f32,
}

/// The BM25 index.
pub struct ClaimIndex {
    #[allow(dead_code)]
    index: Index,
    reader: IndexReader,
    langs: Vec<LangFields>,
    key: Field,
    key_analyser: TextAnalyzer,
    /// Per segment, the `ord` column (claims' positions in the library).
    ords: Vec<Column<u64>>,
    searcher: Searcher,
    /// Languages present in the library: only their fields are queried.
    present: Vec<usize>,
    pub weights: FieldWeights,
}

impl std::fmt::Debug for ClaimIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClaimIndex")
            .field("docs", &self.searcher.num_docs())
            .finish()
    }
}

fn schema() -> (Schema, Vec<(&'static str, Field, Field)>, Field, Field) {
    let mut b = Schema::builder();
    let mut langs = Vec::new();
    let codes = STEMMED
        .iter()
        .map(|(c, _)| *c)
        .chain(std::iter::once(GENERIC));
    for code in codes {
        let opts = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(&format!("pharos_{code}"))
                .set_index_option(IndexRecordOption::WithFreqs),
        );
        let text = b.add_text_field(&format!("text_{code}"), opts.clone());
        let title = b.add_text_field(&format!("title_{code}"), opts);
        langs.push((code, text, title));
    }
    let key = b.add_text_field(
        "key",
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer("pharos_key")
                .set_index_option(IndexRecordOption::WithFreqs),
        ),
    );
    let ord = b.add_u64_field("ord", FAST | STORED);
    (b.build(), langs, key, ord)
}

fn register(index: &Index) {
    let t = index.tokenizers();
    for (code, _) in STEMMED {
        t.register(&format!("pharos_{code}"), analyser(code));
    }
    t.register(&format!("pharos_{GENERIC}"), analyser(GENERIC));
    t.register("pharos_key", key_analyser());
}

/// The analyser code a claim is indexed under: its language, or the one
/// detected from its text.
pub fn claim_code(claim: &Claim) -> &'static str {
    match claim.lang.as_deref() {
        Some(l) => analyser_code(Some(l)),
        None => analyser_code(detect_language(&claim.text)),
    }
}

impl ClaimIndex {
    /// Builds an index of `claims` in memory.
    pub fn build_in_ram(claims: &[Claim]) -> tantivy::Result<Self> {
        let (schema, ..) = schema();
        let index = Index::create_in_ram(schema);
        Self::fill(index, claims)
    }

    /// Opens the index under `dir` when it was built from `generation` of
    /// the library, else (re)builds it there.
    pub fn open_or_build(dir: &Path, claims: &[Claim], generation: &str) -> tantivy::Result<Self> {
        let stamp_path = dir.join("generation");
        let stamp = format!("{FORMAT}:{}:{generation}", claims.len());
        if let Ok(found) = std::fs::read_to_string(&stamp_path)
            && found == stamp
            && let Ok(index) = Index::open_in_dir(dir)
        {
            register(&index);
            if let Ok(me) = Self::from_index(index, claims) {
                return Ok(me);
            }
        }
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
        std::fs::create_dir_all(dir)?;
        let (schema, ..) = schema();
        let index = Index::create_in_dir(dir, schema)?;
        let me = Self::fill(index, claims)?;
        std::fs::write(&stamp_path, stamp)?;
        Ok(me)
    }

    fn fill(index: Index, claims: &[Claim]) -> tantivy::Result<Self> {
        register(&index);
        let (_, langs, key, ord) = schema();
        let mut writer = index.writer::<TantivyDocument>(200_000_000)?;
        for (i, claim) in claims.iter().enumerate() {
            let code = claim_code(claim);
            let (_, text_f, title_f) = langs.iter().find(|(c, ..)| *c == code).expect("known code");
            let mut doc = TantivyDocument::default();
            doc.add_text(*text_f, &claim.text);
            let mut keyed = key_text(&claim.text);
            if let Some(title) = claim.title.as_deref() {
                doc.add_text(*title_f, title);
                keyed.push(' ');
                keyed.push_str(&key_text(title));
            }
            doc.add_text(key, &keyed);
            doc.add_u64(ord, i as u64);
            writer.add_document(doc)?;
        }
        writer.commit()?;
        writer.wait_merging_threads()?;
        Self::from_index(index, claims)
    }

    fn from_index(index: Index, claims: &[Claim]) -> tantivy::Result<Self> {
        let schema = index.schema();
        let mut langs = Vec::new();
        for code in STEMMED
            .iter()
            .map(|(c, _)| *c)
            .chain(std::iter::once(GENERIC))
        {
            langs.push(LangFields {
                code,
                text: schema.get_field(&format!("text_{code}"))?,
                title: schema.get_field(&format!("title_{code}"))?,
                analyser: analyser(code),
            });
        }
        let key = schema.get_field("key")?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let searcher = reader.searcher();
        if searcher.num_docs() as usize != claims.len() {
            return Err(tantivy::TantivyError::InvalidArgument(format!(
                "index holds {} claims, library {}",
                searcher.num_docs(),
                claims.len()
            )));
        }
        let mut ords = Vec::new();
        for seg in searcher.segment_readers() {
            ords.push(seg.fast_fields().u64("ord")?);
        }
        let codes: HashSet<&str> = claims.iter().map(claim_code).collect();
        let present = langs
            .iter()
            .enumerate()
            .filter(|(_, l)| codes.contains(l.code))
            .map(|(i, _)| i)
            .collect();
        Ok(ClaimIndex {
            index,
            reader,
            langs,
            key,
            key_analyser: key_analyser(),
            ords,
            searcher,
            present,
            weights: FieldWeights::default(),
        })
    }

    /// Number of claims indexed.
    pub fn len(&self) -> usize {
        self.searcher.num_docs() as usize
    }

    /// True when no claim is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Analyses `text` with the analyser of `code` (`en`, `ru`, `xx` ...).
    pub fn analyse(&self, code: &str, text: &str) -> Vec<String> {
        match self.langs.iter().find(|l| l.code == code) {
            Some(l) => terms(&mut l.analyser.clone(), text),
            None => Vec::new(),
        }
    }

    fn query(&self, text: &str) -> Option<BooleanQuery> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let w = self.weights;
        for &i in &self.present {
            let l = &self.langs[i];
            let mut seen = HashSet::new();
            for t in terms(&mut l.analyser.clone(), text) {
                if !seen.insert(t.clone()) {
                    continue;
                }
                for (field, boost) in [(l.text, w.text), (l.title, w.title)] {
                    if boost > 0.0 {
                        let q = TermQuery::new(
                            Term::from_field_text(field, &t),
                            IndexRecordOption::WithFreqs,
                        );
                        clauses
                            .push((Occur::Should, Box::new(BoostQuery::new(Box::new(q), boost))));
                    }
                }
            }
        }
        if w.key > 0.0 {
            let mut seen = HashSet::new();
            for t in terms(&mut self.key_analyser.clone(), &key_text(text)) {
                if seen.insert(t.clone()) {
                    let q = TermQuery::new(
                        Term::from_field_text(self.key, &t),
                        IndexRecordOption::WithFreqs,
                    );
                    clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(q), w.key))));
                }
            }
        }
        if clauses.is_empty() {
            None
        } else {
            Some(BooleanQuery::new(clauses))
        }
    }

    /// The `k` best claims for `text` by BM25, best first.
    pub fn search(&self, text: &str, k: usize) -> tantivy::Result<Vec<Candidate>> {
        let Some(query) = self.query(text) else {
            return Ok(Vec::new());
        };
        if k == 0 {
            return Ok(Vec::new());
        }
        let hits = self
            .searcher
            .search(&query, &TopDocs::with_limit(k).order_by_score())?;
        let mut out = Vec::with_capacity(hits.len());
        for (score, addr) in hits {
            if let Some(ord) = self.ords[addr.segment_ord as usize].first(addr.doc_id) {
                out.push(Candidate {
                    ord: ord as u32,
                    score,
                });
            }
        }
        Ok(out)
    }

    /// Reloads the searcher (after the files under the directory changed).
    pub fn reload(&mut self) -> tantivy::Result<()> {
        self.reader.reload()?;
        self.searcher = self.reader.searcher();
        Ok(())
    }
}

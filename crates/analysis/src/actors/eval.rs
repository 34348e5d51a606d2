//! Evaluation: ROC AUC, stratified k-fold cross-validation, and the
//! cresci-rtbust-2019 protocol.
//!
//! The protocol (see `docs/actors.md`): stratified k-fold splits with a
//! fixed seed; on each split, the standardiser and the logistic weights are
//! fitted on the training folds only and the held-out fold is scored with
//! the refitted [`Model`] (the same code path as production scoring). The
//! report gives each held-out fold's AUC (mean ± sd) and the pooled AUC
//! over all held-out scores. Fixed scorers (the hand-set default weights,
//! the red-flag rule count) have nothing to fit; they are reported on the
//! same folds and pooled over all accounts.

use super::fit::{DEFAULT_L2, FittedLogistic, fit_logistic};
use super::profile::{ProfileFeatures, ProfileModel, parse_twitter_time};
use super::score::Model;
use std::io::Read;
use std::path::{Path, PathBuf};

/// ROC AUC as the Mann–Whitney U statistic over `n_pos · n_neg`, tied
/// scores counting one half (midranks). `None` when either class is empty
/// or a score is NaN.
pub fn roc_auc(scores: &[f64], positive: &[bool]) -> Option<f64> {
    assert_eq!(scores.len(), positive.len());
    if scores.iter().any(|s| s.is_nan()) {
        return None;
    }
    let n_pos = positive.iter().filter(|&&p| p).count();
    let n_neg = positive.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return None;
    }
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum_pos = 0.0;
    let mut i = 0;
    while i < idx.len() {
        let mut j = i + 1;
        while j < idx.len() && scores[idx[j]] == scores[idx[i]] {
            j += 1;
        }
        // Ranks i+1 ..= j share their mean.
        let midrank = (i + 1 + j) as f64 / 2.0;
        let pos_here = idx[i..j].iter().filter(|&&k| positive[k]).count();
        rank_sum_pos += midrank * pos_here as f64;
        i = j;
    }
    let u = rank_sum_pos - (n_pos * (n_pos + 1)) as f64 / 2.0;
    Some(u / (n_pos as f64 * n_neg as f64))
}

/// A small deterministic generator (SplitMix64), so folds are the same on every machine.
#[derive(Clone, Debug)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }
}

/// Fold (`0..k`) of each item: each class shuffled with `seed` and dealt
/// round-robin, so every fold has the class balance of the whole.
pub fn stratified_folds(labels: &[bool], k: usize, seed: u64) -> Vec<usize> {
    assert!(k >= 2, "k-fold needs k >= 2");
    let mut rng = SplitMix64(seed);
    let mut fold = vec![0; labels.len()];
    for class in [true, false] {
        let mut members: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        for i in (1..members.len()).rev() {
            let j = rng.below(i + 1);
            members.swap(i, j);
        }
        for (pos, &i) in members.iter().enumerate() {
            fold[i] = pos % k;
        }
    }
    fold
}

/// AUC of one scorer over the folds.
#[derive(Clone, Debug, PartialEq)]
pub struct AucSummary {
    pub name: String,
    pub fold_aucs: Vec<f64>,
    pub mean: f64,
    /// Sample standard deviation over folds.
    pub sd: f64,
    /// AUC over all held-out scores together.
    pub pooled: f64,
}

impl AucSummary {
    /// From per-item held-out scores.
    pub fn from_scores(
        name: &str,
        scores: &[f64],
        labels: &[bool],
        folds: &[usize],
        k: usize,
    ) -> AucSummary {
        let fold_aucs: Vec<f64> = (0..k)
            .map(|f| {
                let (s, l): (Vec<f64>, Vec<bool>) = folds
                    .iter()
                    .enumerate()
                    .filter(|&(_, &g)| g == f)
                    .map(|(i, _)| (scores[i], labels[i]))
                    .unzip();
                roc_auc(&s, &l).unwrap_or(f64::NAN)
            })
            .collect();
        let mean = fold_aucs.iter().sum::<f64>() / k as f64;
        let sd = if k > 1 {
            (fold_aucs
                .iter()
                .map(|a| (a - mean) * (a - mean))
                .sum::<f64>()
                / (k - 1) as f64)
                .sqrt()
        } else {
            0.0
        };
        AucSummary {
            name: name.to_string(),
            fold_aucs,
            mean,
            sd,
            pooled: roc_auc(scores, labels).unwrap_or(f64::NAN),
        }
    }
}

/// Held-out cross-validation of a [`Model`]'s terms refitted by logistic regression.
#[derive(Clone, Debug)]
pub struct CvReport {
    pub auc: AucSummary,
    /// Held-out logit of each item.
    pub held_out: Vec<f64>,
    /// The model fitted on each split's training folds.
    pub fits: Vec<FittedLogistic>,
}

/// Cross-validates `model`'s terms: on each split, fits standardisation
/// and weights on the training folds ([`fit_logistic`]) and scores the
/// held-out fold with [`Model::refitted`].
pub fn cross_validate(
    name: &str,
    model: &Model,
    raw: &[Vec<Option<f64>>],
    labels: &[bool],
    folds: &[usize],
    k: usize,
    l2: f64,
) -> CvReport {
    let transformed: Vec<Vec<Option<f64>>> = raw.iter().map(|r| model.transformed(r)).collect();
    let mut held_out = vec![f64::NAN; raw.len()];
    let mut fits = Vec::with_capacity(k);
    for f in 0..k {
        let (train_x, train_y): (Vec<Vec<Option<f64>>>, Vec<bool>) = (0..raw.len())
            .filter(|&i| folds[i] != f)
            .map(|i| (transformed[i].clone(), labels[i]))
            .unzip();
        let fit = fit_logistic(&train_x, &train_y, l2);
        let refitted = model.refitted(&fit);
        for i in (0..raw.len()).filter(|&i| folds[i] == f) {
            held_out[i] = refitted.logit(&raw[i]);
        }
        fits.push(fit);
    }
    CvReport {
        auc: AucSummary::from_scores(name, &held_out, labels, folds, k),
        held_out,
        fits,
    }
}

/// One labelled account of cresci-rtbust-2019.
#[derive(Clone, Debug)]
pub struct LabelledProfile {
    pub id: String,
    pub bot: bool,
    pub profile: ProfileFeatures,
}

/// Why the data set could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("cannot read {path}: {source} (set PHAROS_DATA to the shared data directory)")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Format { path: PathBuf, reason: String },
}

/// The two cresci-rtbust-2019 files in `bots_dir`.
pub fn rtbust_paths(bots_dir: &Path) -> (PathBuf, PathBuf) {
    (
        bots_dir.join("cresci-rtbust-2019_users.json.gz"),
        bots_dir.join("cresci-rtbust-2019_labels.tsv"),
    )
}

/// Reads cresci-rtbust-2019: a gzip JSON array of `{created_at, user}`
/// (the outer `created_at` is when the user object was collected) and a
/// TSV of `id<TAB>bot|human`. Users without a label are skipped.
pub fn load_cresci_rtbust(bots_dir: &Path) -> Result<Vec<LabelledProfile>, DataError> {
    let (users_path, labels_path) = rtbust_paths(bots_dir);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DataError::Io { path, source }
    };
    let fmt = |path: &Path, reason: String| DataError::Format {
        path: path.to_path_buf(),
        reason,
    };
    let labels_text = std::fs::read_to_string(&labels_path).map_err(io(&labels_path))?;
    let mut labels = ahash::AHashMap::new();
    for (n, line) in labels_text.lines().enumerate() {
        let mut it = line.split('\t');
        let (Some(id), Some(label)) = (it.next(), it.next()) else {
            if line.trim().is_empty() {
                continue;
            }
            return Err(fmt(
                &labels_path,
                format!("line {}: expected id<TAB>label", n + 1),
            ));
        };
        let bot = match label.trim() {
            "bot" => true,
            "human" => false,
            other => {
                return Err(fmt(
                    &labels_path,
                    format!("line {}: unknown label {other:?}", n + 1),
                ));
            }
        };
        labels.insert(id.trim().to_string(), bot);
    }
    let file = std::fs::File::open(&users_path).map_err(io(&users_path))?;
    let mut json = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut json)
        .map_err(io(&users_path))?;
    let records: Vec<serde_json::Value> =
        serde_json::from_str(&json).map_err(|e| fmt(&users_path, e.to_string()))?;
    let mut out = Vec::with_capacity(records.len());
    for (n, r) in records.iter().enumerate() {
        let user = r
            .get("user")
            .ok_or_else(|| fmt(&users_path, format!("record {}: no `user`", n + 1)))?;
        let id = user
            .get("id_str")
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .or_else(|| user.get("id").map(|v| v.to_string()))
            .ok_or_else(|| fmt(&users_path, format!("record {}: no user id", n + 1)))?;
        let collected = r
            .get("created_at")
            .and_then(|v| v.as_str())
            .and_then(parse_twitter_time)
            .ok_or_else(|| fmt(&users_path, format!("record {}: no collection time", n + 1)))?;
        let Some(&bot) = labels.get(&id) else {
            continue;
        };
        out.push(LabelledProfile {
            id,
            bot,
            profile: ProfileFeatures::from_twitter_v1(user, collected),
        });
    }
    Ok(out)
}

/// The protocol's fixed settings.
#[derive(Clone, Copy, Debug)]
pub struct Protocol {
    pub k: usize,
    pub seed: u64,
    pub l2: f64,
}

impl Default for Protocol {
    /// 5 folds, seed 2019, L2 penalty 1.
    fn default() -> Self {
        Protocol {
            k: 5,
            seed: 2019,
            l2: DEFAULT_L2,
        }
    }
}

/// The cresci-rtbust-2019 results.
#[derive(Clone, Debug)]
pub struct ProtocolReport {
    pub protocol: Protocol,
    pub accounts: usize,
    pub bots: usize,
    /// Cross-validated fitted profile model first, then fixed scorers.
    pub rows: Vec<AucSummary>,
    /// Held-out logits of the fitted model, one per account.
    pub held_out: Vec<f64>,
    /// Weights fitted on each split's training folds.
    pub fits: Vec<FittedLogistic>,
}

impl ProtocolReport {
    /// The cross-validated fitted model's row.
    pub fn fitted(&self) -> &AucSummary {
        &self.rows[0]
    }

    /// A Markdown table.
    pub fn table(&self) -> String {
        let mut s = format!(
            "cresci-rtbust-2019: {} accounts ({} bots, {} humans); stratified {}-fold CV, seed {}, L2 {}\n\n",
            self.accounts,
            self.bots,
            self.accounts - self.bots,
            self.protocol.k,
            self.protocol.seed,
            self.protocol.l2
        );
        s.push_str("| scorer | fold AUC mean ± sd | pooled AUC | per fold |\n|---|---|---|---|\n");
        for r in &self.rows {
            let folds: Vec<String> = r.fold_aucs.iter().map(|a| format!("{a:.3}")).collect();
            s.push_str(&format!(
                "| {} | {:.3} ± {:.3} | {:.3} | {} |\n",
                r.name,
                r.mean,
                r.sd,
                r.pooled,
                folds.join(" ")
            ));
        }
        s
    }
}

/// Runs the protocol on loaded accounts.
pub fn run_rtbust_protocol(data: &[LabelledProfile], protocol: Protocol) -> ProtocolReport {
    let labels: Vec<bool> = data.iter().map(|a| a.bot).collect();
    let folds = stratified_folds(&labels, protocol.k, protocol.seed);
    let model = ProfileModel::default_model();
    let raw: Vec<Vec<Option<f64>>> = data.iter().map(|a| a.profile.values().to_vec()).collect();
    let cv = cross_validate(
        "profile logistic, fitted on training folds",
        &model.model,
        &raw,
        &labels,
        &folds,
        protocol.k,
        protocol.l2,
    );
    let default_scores: Vec<f64> = data.iter().map(|a| model.logit(&a.profile)).collect();
    let flag_scores: Vec<f64> = data.iter().map(|a| a.profile.red_flag_share()).collect();
    let k = protocol.k;
    ProtocolReport {
        protocol,
        accounts: data.len(),
        bots: labels.iter().filter(|&&b| b).count(),
        rows: vec![
            cv.auc,
            AucSummary::from_scores(
                "profile default weights (no fitting)",
                &default_scores,
                &labels,
                &folds,
                k,
            ),
            AucSummary::from_scores(
                "red-flag rule count (BotSlayer-like)",
                &flag_scores,
                &labels,
                &folds,
                k,
            ),
        ],
        held_out: cv.held_out,
        fits: cv.fits,
    }
}

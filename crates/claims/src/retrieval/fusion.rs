//! Fusion: one calibrated match confidence from the lexical and semantic
//! evidence about a (post, claim) pair.
//!
//! A logistic regression over standardised features ([`Features`]): its
//! output is the probability that the claim is one the post repeats. It is
//! fitted on the CheckThat! 2021 Task 2A English **train** queries (dev for
//! the choices, test never), with each train query seen twice: against the
//! whole library, and against the library without its true claims, so that
//! the model also learns what "nothing here" looks like (a stream's posts
//! mostly match no claim). `examples/checkthat.rs --fit` refits it and prints
//! the constants below.

// Parallel arrays indexed by feature (clearer than zipped iterators here),
// and fitted constants printed with more digits than f32 keeps.
#![allow(clippy::needless_range_loop, clippy::excessive_precision)]

/// Number of lexical features (BM25 and term overlap).
pub const LEXICAL: usize = 6;
/// Number of features with the semantic ones (cosines).
pub const FULL: usize = 10;

/// Feature names, in order.
pub const NAMES: [&str; FULL] = [
    "bm25_rel",
    "bm25_log",
    "bm25_rr",
    "cover_claim",
    "cover_post",
    "bm25_gap",
    "cos_text",
    "cos_title",
    "cos_rel",
    "cos_rr",
];

/// Features of one candidate.
pub type Features = [f32; FULL];

/// A fitted logistic model over the first `n` features.
#[derive(Debug, Clone, PartialEq)]
pub struct Fusion {
    pub n: usize,
    pub mean: Vec<f32>,
    pub scale: Vec<f32>,
    pub weights: Vec<f32>,
    pub bias: f32,
}

impl Fusion {
    fn from_consts(n: usize, mean: &[f32], scale: &[f32], weights: &[f32], bias: f32) -> Self {
        Fusion {
            n,
            mean: mean.to_vec(),
            scale: scale.to_vec(),
            weights: weights.to_vec(),
            bias,
        }
    }

    /// The model used without embeddings.
    pub fn lexical() -> Self {
        Self::from_consts(LEXICAL, &LEX_MEAN, &LEX_SCALE, &LEX_W, LEX_B)
    }

    /// The model used with all-MiniLM-L6-v2's embeddings.
    pub fn full() -> Self {
        Self::from_consts(FULL, &FULL_MEAN, &FULL_SCALE, &FULL_W, FULL_B)
    }

    /// The model for a candidate in another language than the post's:
    /// the cosine features only (words shared across languages are names,
    /// numbers and loanwords: the fitted word-level weights do not carry
    /// over). Fitted on the English train queries with the word-level
    /// features left out, multilingual-e5-small, dense stage on.
    pub fn cross_e5() -> Self {
        Self::from_consts(FULL, &CROSS_MEAN, &CROSS_SCALE, &CROSS_W, CROSS_B)
    }

    /// The model for a candidate in another language than the post's whose
    /// cosines are those of the language-centred vectors
    /// ([`super::centre`]): the cosine features only, fitted on the English
    /// train queries with every candidate centred (post on the running mean
    /// of the train posts, claims on the library's mean).
    pub fn cross_centred_e5() -> Self {
        Self::from_consts(FULL, &XC_MEAN, &XC_SCALE, &XC_W, XC_B)
    }

    /// The model used with multilingual-e5-small's embeddings (the
    /// default model), fitted with the dense candidate stage on.
    pub fn full_e5() -> Self {
        Self::from_consts(FULL, &E5_MEAN, &E5_SCALE, &E5_W, E5_B)
    }

    /// The log-odds of a match.
    pub fn logit(&self, f: &Features) -> f32 {
        let mut z = self.bias;
        for i in 0..self.n {
            z += self.weights[i] * (f[i] - self.mean[i]) / self.scale[i];
        }
        z
    }

    /// The probability of a match (0–1).
    pub fn confidence(&self, f: &Features) -> f32 {
        sigmoid(self.logit(f))
    }

    /// Fits the model on labelled examples (`n` first features) by
    /// gradient descent on the L2-regularised log loss.
    pub fn fit(n: usize, xs: &[Features], ys: &[bool], l2: f32, epochs: usize) -> Self {
        let m = xs.len().max(1) as f32;
        let mut mean = vec![0f32; n];
        let mut scale = vec![0f32; n];
        for x in xs {
            for i in 0..n {
                mean[i] += x[i] / m;
            }
        }
        for x in xs {
            for i in 0..n {
                scale[i] += (x[i] - mean[i]).powi(2) / m;
            }
        }
        for s in &mut scale {
            *s = s.sqrt().max(1e-6);
        }
        let z: Vec<Vec<f32>> = xs
            .iter()
            .map(|x| (0..n).map(|i| (x[i] - mean[i]) / scale[i]).collect())
            .collect();
        let mut w = vec![0f32; n];
        let mut b = 0f32;
        // Adam: plain gradient descent is slow on these skewed classes.
        let (mut mw, mut vw) = (vec![0f32; n], vec![0f32; n]);
        let (mut mb, mut vb) = (0f32, 0f32);
        let (b1, b2, lr, eps) = (0.9f32, 0.999f32, 0.05f32, 1e-8f32);
        for t in 1..=epochs {
            let mut gw = vec![0f32; n];
            let mut gb = 0f32;
            for (x, &y) in z.iter().zip(ys) {
                let mut s = b;
                for i in 0..n {
                    s += w[i] * x[i];
                }
                let err = sigmoid(s) - if y { 1.0 } else { 0.0 };
                for i in 0..n {
                    gw[i] += err * x[i] / m;
                }
                gb += err / m;
            }
            for i in 0..n {
                gw[i] += l2 * w[i];
                mw[i] = b1 * mw[i] + (1.0 - b1) * gw[i];
                vw[i] = b2 * vw[i] + (1.0 - b2) * gw[i] * gw[i];
                let mh = mw[i] / (1.0 - b1.powi(t as i32));
                let vh = vw[i] / (1.0 - b2.powi(t as i32));
                w[i] -= lr * mh / (vh.sqrt() + eps);
            }
            mb = b1 * mb + (1.0 - b1) * gb;
            vb = b2 * vb + (1.0 - b2) * gb * gb;
            let mh = mb / (1.0 - b1.powi(t as i32));
            let vh = vb / (1.0 - b2.powi(t as i32));
            b -= lr * mh / (vh.sqrt() + eps);
        }
        Fusion {
            n,
            mean,
            scale,
            weights: w,
            bias: b,
        }
    }

    /// The model as Rust constants (what `--fit` prints).
    pub fn to_rust(&self, prefix: &str) -> String {
        let list = |v: &[f32]| {
            v.iter()
                .map(|x| format!("{x:.6}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "const {prefix}_MEAN: [f32; {n}] = [{}];\nconst {prefix}_SCALE: [f32; {n}] = [{}];\nconst {prefix}_W: [f32; {n}] = [{}];\nconst {prefix}_B: f32 = {:.6};\n",
            list(&self.mean),
            list(&self.scale),
            list(&self.weights),
            self.bias,
            n = self.n
        )
    }
}

pub(crate) fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

// Fitted by `cargo run --release -p pharos-claims --example checkthat -- --fit`
// on the CheckThat! 2021 Task 2A English train queries: the lexical model
// over 50 BM25 candidates, the full one (`--model
// target/models/all-MiniLM-L6-v2 --fit`) over 100, the candidate count
// chosen on dev (0.9535 against 0.9472 with 50).
const LEX_MEAN: [f32; 6] = [0.518375, 2.919143, 0.089979, 0.178054, 0.132319, 0.020000];
const LEX_SCALE: [f32; 6] = [0.189578, 0.267679, 0.156226, 0.079058, 0.063565, 0.074686];
const LEX_W: [f32; 6] = [0.058321, 0.372199, 0.363317, -0.069661, 0.212617, 0.324081];
const LEX_B: f32 = -4.903060;
const FULL_MEAN: [f32; 10] = [
    0.452222, 2.784739, 0.051863, 0.160583, 0.120053, 0.010000, 0.218098, 0.228933, -0.347166,
    0.051863,
];
const FULL_SCALE: [f32; 10] = [
    0.175065, 0.275701, 0.116865, 0.073935, 0.058688, 0.048581, 0.129744, 0.132073, 0.162159,
    0.116865,
];
const FULL_W: [f32; 10] = [
    0.024962, 0.043825, 0.193799, 0.004289, 0.074058, 0.193063, 0.090573, 0.019283, -0.116971,
    0.322677,
];
const FULL_B: f32 = -4.937161;

// Fitted the same way with `--model` the multilingual-e5-small file and the
// dense stage on (20 claims a post), 100 BM25 candidates.
const E5_MEAN: [f32; 10] = [
    0.400054, 2.463486, 0.045890, 0.149914, 0.112634, 0.008846, 0.813119, 0.812046, -0.061861,
    0.046966,
];
const E5_SCALE: [f32; 10] = [
    0.219074, 0.926716, 0.111163, 0.078462, 0.061532, 0.045801, 0.028064, 0.026131, 0.032684,
    0.110762,
];
const E5_W: [f32; 10] = [
    0.044644, 0.065927, 0.194863, 0.010837, 0.034784, 0.179898, 0.084460, 0.068093, -0.057365,
    0.294578,
];
const E5_B: f32 = -4.931005;

// The cross-language model: fitted in the same run on the cosine features
// only (`--fit` prints it); the word-level weights are zero.
const CROSS_MEAN: [f32; 10] = [
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.813119, 0.812046, -0.061861, 0.046966,
];
const CROSS_SCALE: [f32; 10] = [
    1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.028064, 0.026131, 0.032684, 0.110762,
];
const CROSS_W: [f32; 10] = [
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.204910, 0.252768, -0.174646, 0.433311,
];
const CROSS_B: f32 = -4.918456;

// The centred cross-language model: fitted in the same run with every
// candidate centred (`--fit` prints it as XC), the train posts' mean learnt
// from the train posts.
const XC_MEAN: [f32; 10] = [
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.129727, 0.112795, -0.292158, 0.046949,
];
const XC_SCALE: [f32; 10] = [
    1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.106351, 0.103499, 0.147413, 0.110743,
];
const XC_W: [f32; 10] = [
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.237627, 0.200566, -0.152849, 0.420476,
];
const XC_B: f32 = -4.933135;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_separates_and_calibrates() {
        // One informative feature: label true when x0 > 0.5.
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        for i in 0..200 {
            let v = i as f32 / 200.0;
            let mut f = [0f32; FULL];
            f[0] = v;
            f[1] = 1.0; // constant: its scale is clamped, not NaN
            xs.push(f);
            ys.push(v > 0.5);
        }
        let m = Fusion::fit(2, &xs, &ys, 0.0, 500);
        let mut hi = [0f32; FULL];
        hi[0] = 0.9;
        hi[1] = 1.0;
        let mut lo = hi;
        lo[0] = 0.1;
        assert!(m.confidence(&hi) > 0.9, "{}", m.confidence(&hi));
        assert!(m.confidence(&lo) < 0.1, "{}", m.confidence(&lo));
        assert!(m.to_rust("X").contains("const X_W: [f32; 2]"));
    }
}

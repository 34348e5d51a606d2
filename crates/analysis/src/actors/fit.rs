//! Fitting a [`Model`](super::Model)'s centres, scales and weights on labelled accounts.
//!
//! Standardisation (mean and standard deviation of each transformed
//! feature) and an L2-penalised logistic regression fitted by Newton's
//! method (iteratively reweighted least squares, solved with a Cholesky
//! factorisation). Unknown values are read as the mean (z = 0), as in
//! scoring. The penalty is fixed ([`DEFAULT_L2`]), not tuned: with ~20
//! standardised features and hundreds of accounts it only keeps the weights
//! finite when classes separate on one feature.

use super::score::{Z_CLIP, sigmoid};

/// L2 penalty on the weights (not on the intercept).
pub const DEFAULT_L2: f64 = 1.0;

/// Per-feature mean and standard deviation.
#[derive(Clone, Debug, PartialEq)]
pub struct Standardiser {
    pub mean: Vec<f64>,
    pub sd: Vec<f64>,
}

impl Standardiser {
    /// Fitted on rows of (transformed) features; unknown values are skipped.
    /// A constant feature gets sd 1 so it standardises to 0.
    pub fn fit(rows: &[Vec<Option<f64>>]) -> Standardiser {
        let d = rows.first().map_or(0, Vec::len);
        let mut mean = vec![0.0; d];
        let mut sd = vec![1.0; d];
        for j in 0..d {
            let vals: Vec<f64> = rows.iter().filter_map(|r| r[j]).collect();
            if vals.is_empty() {
                continue;
            }
            let m = vals.iter().sum::<f64>() / vals.len() as f64;
            let v = vals.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / vals.len() as f64;
            mean[j] = m;
            sd[j] = if v.sqrt() > 1e-12 { v.sqrt() } else { 1.0 };
        }
        Standardiser { mean, sd }
    }

    /// Standardised, clipped row; unknown is 0.
    pub fn z(&self, row: &[Option<f64>]) -> Vec<f64> {
        row.iter()
            .enumerate()
            .map(|(j, v)| {
                v.map_or(0.0, |x| {
                    ((x - self.mean[j]) / self.sd[j]).clamp(-Z_CLIP, Z_CLIP)
                })
            })
            .collect()
    }
}

/// A fitted logistic regression on standardised features.
#[derive(Clone, Debug, PartialEq)]
pub struct FittedLogistic {
    pub standardiser: Standardiser,
    pub intercept: f64,
    pub weights: Vec<f64>,
    /// Newton iterations used.
    pub iterations: usize,
}

impl FittedLogistic {
    pub fn logit(&self, row: &[Option<f64>]) -> f64 {
        self.intercept
            + self
                .standardiser
                .z(row)
                .iter()
                .zip(&self.weights)
                .map(|(z, w)| z * w)
                .sum::<f64>()
    }
}

/// Fits `P(y) = σ(b + w·z)` by penalised Newton steps until the largest
/// step is below 1e-9 (at most 100 iterations).
pub fn fit_logistic(rows: &[Vec<Option<f64>>], labels: &[bool], l2: f64) -> FittedLogistic {
    assert_eq!(rows.len(), labels.len());
    let standardiser = Standardiser::fit(rows);
    let d = standardiser.mean.len();
    let p = d + 1; // intercept last
    let zs: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| {
            let mut z = standardiser.z(r);
            z.push(1.0);
            z
        })
        .collect();
    let mut beta = vec![0.0; p];
    let mut iterations = 0;
    for it in 0..100 {
        iterations = it + 1;
        let mut grad = vec![0.0; p];
        let mut hess = vec![0.0; p * p];
        for (z, &y) in zs.iter().zip(labels) {
            let eta: f64 = z.iter().zip(&beta).map(|(a, b)| a * b).sum();
            let mu = sigmoid(eta);
            let r = mu - y as u8 as f64;
            let w = (mu * (1.0 - mu)).max(1e-12);
            for i in 0..p {
                grad[i] += r * z[i];
                let wz = w * z[i];
                for k in 0..=i {
                    hess[i * p + k] += wz * z[k];
                }
            }
        }
        for i in 0..d {
            grad[i] += l2 * beta[i];
            hess[i * p + i] += l2;
        }
        hess[(p - 1) * p + (p - 1)] += 1e-9;
        for i in 0..p {
            for k in 0..i {
                hess[k * p + i] = hess[i * p + k];
            }
        }
        let step = cholesky_solve(&mut hess, &grad, p);
        let mut biggest = 0f64;
        for i in 0..p {
            beta[i] -= step[i];
            biggest = biggest.max(step[i].abs());
        }
        if biggest < 1e-9 {
            break;
        }
    }
    FittedLogistic {
        standardiser,
        intercept: beta[d],
        weights: beta[..d].to_vec(),
        iterations,
    }
}

/// Solves `A x = b` for a symmetric positive definite `A` (row-major, overwritten).
fn cholesky_solve(a: &mut [f64], b: &[f64], n: usize) -> Vec<f64> {
    // A = L Lᵀ, L stored in the lower triangle of `a`.
    for j in 0..n {
        let mut s = a[j * n + j];
        for k in 0..j {
            s -= a[j * n + k] * a[j * n + k];
        }
        let l = s.max(1e-12).sqrt();
        a[j * n + j] = l;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = s / l;
        }
    }
    let mut y = vec![0.0; n];
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= a[i * n + k] * y[k];
        }
        y[i] = s / a[i * n + i];
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let mut s = y[i];
        for k in i + 1..n {
            s -= a[k * n + i] * x[k];
        }
        x[i] = s / a[i * n + i];
    }
    x
}

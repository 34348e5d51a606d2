//! CSV output in CooRTweet's column layout.
//!
//! Reals are written in the shortest form that reads back to the same
//! double (`16.333333333333332`, `0.5`, `35`): R's `write.csv` keeps 15
//! significant digits, which does not always round-trip. Missing values
//! (edges absent from the fast network) are written `NA`, as R does.
//! Fields are quoted only when they must be.

use super::coortweet::Pair;
use super::network::Network;
use super::shares::ShareTable;
use std::io::{self, Write};

/// A real as R would read it back: shortest round-trip digits, no `.0` on
/// whole numbers, `NA` for NaN, `Inf` / `-Inf`.
pub fn format_real(x: f64) -> String {
    let mut s = String::new();
    push_real(&mut s, x);
    s
}

fn push_real(s: &mut String, x: f64) {
    use std::fmt::Write as _;
    if x.is_nan() {
        s.push_str("NA");
    } else if x.is_infinite() {
        s.push_str(if x > 0.0 { "Inf" } else { "-Inf" });
    } else {
        // Rust's Display is the shortest representation that round-trips.
        let _ = write!(s, "{x}");
    }
}

fn csv_err(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

/// Writes pairs as `object_id,content_id,content_id_y,time_delta,account_id,account_id_y`
/// (and `time_window_S` with a fast window).
pub struct PairWriter<'t, W: Write> {
    out: csv::Writer<W>,
    table: &'t ShareTable,
    num: itoa_buf::Buf,
}

impl<'t, W: Write> PairWriter<'t, W> {
    /// Writes the header.
    pub fn new(out: W, table: &'t ShareTable, fast_window: Option<i64>) -> io::Result<Self> {
        let mut out = csv::WriterBuilder::new()
            .buffer_capacity(1 << 16)
            .from_writer(out);
        let mut header = vec![
            "object_id".to_string(),
            "content_id".into(),
            "content_id_y".into(),
            "time_delta".into(),
            "account_id".into(),
            "account_id_y".into(),
        ];
        if let Some(s) = fast_window {
            header.push(format!("time_window_{s}"));
        }
        out.write_record(&header).map_err(csv_err)?;
        Ok(PairWriter {
            out,
            table,
            num: itoa_buf::Buf::default(),
        })
    }

    pub fn write(&mut self, p: &Pair) -> io::Result<()> {
        let t = self.table;
        self.out
            .write_field(t.object_name(p.object))
            .map_err(csv_err)?;
        self.out
            .write_field(t.content_name(p.content))
            .map_err(csv_err)?;
        self.out
            .write_field(t.content_name(p.content_y))
            .map_err(csv_err)?;
        self.out
            .write_field(self.num.format(p.time_delta))
            .map_err(csv_err)?;
        self.out
            .write_field(t.account_name(p.account))
            .map_err(csv_err)?;
        self.out
            .write_field(t.account_name(p.account_y))
            .map_err(csv_err)?;
        if let Some(f) = p.fast {
            self.out
                .write_field(if f { "1" } else { "0" })
                .map_err(csv_err)?;
        }
        self.out.write_record(None::<&[u8]>).map_err(csv_err)
    }

    /// Flushes and returns the inner writer.
    pub fn finish(self) -> io::Result<W> {
        self.out
            .into_inner()
            .map_err(|e| io::Error::other(e.to_string()))
    }
}

/// Writes the network's edges: `from,to,weight,avg_time_delta,n_content_id,
/// n_content_id_y,edge_symmetry_score,weight_threshold`, or with a fast
/// network CooRTweet's `_full` / `_fast` columns.
pub fn write_edges<W: Write>(out: W, table: &ShareTable, net: &Network) -> io::Result<()> {
    let mut w = csv::WriterBuilder::new().from_writer(out);
    let header: &[&str] = if net.fast_net {
        &[
            "from",
            "to",
            "weight_full",
            "weight_fast",
            "avg_time_delta_full",
            "avg_time_delta_fast",
            "n_content_id_full",
            "n_content_id_y_full",
            "n_content_id_fast",
            "n_content_id_y_fast",
            "edge_symmetry_score_full",
            "edge_symmetry_score_fast",
            "weight_threshold_full",
            "weight_threshold_fast",
        ]
    } else {
        &[
            "from",
            "to",
            "weight",
            "avg_time_delta",
            "n_content_id",
            "n_content_id_y",
            "edge_symmetry_score",
            "weight_threshold",
        ]
    };
    w.write_record(header).map_err(csv_err)?;
    // One reusable buffer per field kind: no allocation per row.
    let mut num = itoa_buf::Buf::default();
    let mut real = String::new();
    let mut put_real = |w: &mut csv::Writer<W>, x: f64| {
        real.clear();
        push_real(&mut real, x);
        w.write_field(real.as_bytes())
    };
    for e in &net.edges {
        w.write_field(table.account_name(e.from)).map_err(csv_err)?;
        w.write_field(table.account_name(e.to)).map_err(csv_err)?;
        let f = &e.full;
        let flag = |b: bool| if b { "1" } else { "0" };
        if net.fast_net {
            let g = e.fast.as_ref();
            w.write_field(num.format(f.weight as i64))
                .map_err(csv_err)?;
            match g {
                Some(g) => w.write_field(num.format(g.weight as i64)),
                None => w.write_field("NA"),
            }
            .map_err(csv_err)?;
            put_real(&mut w, f.avg_time_delta).map_err(csv_err)?;
            put_real(&mut w, g.map_or(f64::NAN, |g| g.avg_time_delta)).map_err(csv_err)?;
            w.write_field(num.format(f.n_content_id as i64))
                .map_err(csv_err)?;
            w.write_field(num.format(f.n_content_id_y as i64))
                .map_err(csv_err)?;
            for v in [g.map(|g| g.n_content_id), g.map(|g| g.n_content_id_y)] {
                match v {
                    Some(v) => w.write_field(num.format(v as i64)),
                    None => w.write_field("NA"),
                }
                .map_err(csv_err)?;
            }
            put_real(&mut w, f.edge_symmetry_score).map_err(csv_err)?;
            put_real(&mut w, g.map_or(f64::NAN, |g| g.edge_symmetry_score)).map_err(csv_err)?;
            w.write_field(flag(e.weight_threshold)).map_err(csv_err)?;
            w.write_field(e.weight_threshold_fast.map_or("NA", flag))
                .map_err(csv_err)?;
        } else {
            w.write_field(num.format(f.weight as i64))
                .map_err(csv_err)?;
            put_real(&mut w, f.avg_time_delta).map_err(csv_err)?;
            w.write_field(num.format(f.n_content_id as i64))
                .map_err(csv_err)?;
            w.write_field(num.format(f.n_content_id_y as i64))
                .map_err(csv_err)?;
            put_real(&mut w, f.edge_symmetry_score).map_err(csv_err)?;
            w.write_field(flag(e.weight_threshold)).map_err(csv_err)?;
        }
        w.write_record(None::<&[u8]>).map_err(csv_err)?;
    }
    w.flush()
}

/// Writes subgraph 3's nodes as `name,color_v` (nothing for other subgraphs).
pub fn write_nodes<W: Write>(out: W, table: &ShareTable, net: &Network) -> io::Result<()> {
    let mut w = csv::WriterBuilder::new().from_writer(out);
    w.write_record(["name", "color_v"]).map_err(csv_err)?;
    for n in net.nodes.iter().flatten() {
        w.write_record([
            table.account_name(n.account),
            n.color_v.to_string().as_bytes(),
        ])
        .map_err(csv_err)?;
    }
    w.flush()
}

mod itoa_buf {
    /// Formats integers without allocating.
    #[derive(Default)]
    pub struct Buf([u8; 24]);

    impl Buf {
        pub fn format(&mut self, v: i64) -> &[u8] {
            let mut n = v.unsigned_abs();
            let mut i = self.0.len();
            loop {
                i -= 1;
                self.0[i] = b'0' + (n % 10) as u8;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
            if v < 0 {
                i -= 1;
                self.0[i] = b'-';
            }
            &self.0[i..]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reals_round_trip_like_r_reads_them() {
        assert_eq!(format_real(35.0), "35");
        assert_eq!(format_real(0.5), "0.5");
        assert_eq!(format_real(49.0 / 3.0), "16.333333333333332");
        assert_eq!("16.333333333333332".parse::<f64>().unwrap(), 49.0 / 3.0);
        assert_eq!(format_real(f64::NAN), "NA");
        assert_eq!(format_real(f64::NEG_INFINITY), "-Inf");
    }

    #[test]
    fn integers_format_without_allocating() {
        let mut b = itoa_buf::Buf::default();
        assert_eq!(b.format(0), b"0");
        assert_eq!(b.format(-12), b"-12");
        assert_eq!(b.format(i64::MIN), i64::MIN.to_string().as_bytes());
    }
}

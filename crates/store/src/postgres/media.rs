//! [`MediaHashes`] on PostgreSQL: the `media_files` table of
//! [`super::schema`], rows keyed on a hash of their identity.

use super::{PgStore, column, post_key};
use crate::StoreError;
use crate::repo::{MediaHashes, MediaRecord};
use ::postgres::Row;

/// A row's identity: SHA-256 of platform, NUL, post id, NUL and reference
/// (as stored: no NUL in any).
fn row_key(platform: &str, post_id: &str, url: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for (i, part) in [platform, post_id, url].into_iter().enumerate() {
        if i > 0 {
            h.update([0u8]);
        }
        h.update(part.as_bytes());
    }
    h.finalize().into()
}

const COLUMNS: &str = "platform, post_id, url, sha256, pdq, quality, width, height, c2pa, xmp_source_type, scanned_ms";

fn media_row(r: &Row) -> MediaRecord {
    let small = |i: usize| -> i64 { r.get(i) };
    MediaRecord {
        platform: r.get(0),
        post_id: r.get(1),
        url: r.get(2),
        sha256: r.get(3),
        pdq: r.get(4),
        quality: small(5).clamp(0, 255) as u8,
        width: small(6).clamp(0, u32::MAX as i64) as u32,
        height: small(7).clamp(0, u32::MAX as i64) as u32,
        c2pa: r.get(8),
        xmp_source_type: r.get(9),
        scanned_ms: r.get(10),
    }
}

impl MediaHashes for PgStore {
    fn save_media(&self, records: &[MediaRecord]) -> Result<u64, StoreError> {
        let mut c = self.conn();
        let e = |err| self.err(err);
        let mut tx = c.client.transaction().map_err(e)?;
        let ins = tx
            .prepare(&format!(
                "INSERT INTO media_files (key, post_key, {COLUMNS})
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                 ON CONFLICT (key) DO UPDATE SET sha256 = excluded.sha256, pdq = excluded.pdq,
                    quality = excluded.quality, width = excluded.width, height = excluded.height,
                    c2pa = excluded.c2pa, xmp_source_type = excluded.xmp_source_type,
                    scanned_ms = excluded.scanned_ms"
            ))
            .map_err(e)?;
        for r in records {
            let (pl, id, url) = (column(&r.platform), column(&r.post_id), column(&r.url));
            let key = row_key(&pl, &id, &url);
            let pkey = post_key(&pl, &id);
            tx.execute(
                &ins,
                &[
                    &&key[..],
                    &&pkey[..],
                    &pl,
                    &id,
                    &url,
                    &column(&r.sha256),
                    &column(&r.pdq),
                    &i64::from(r.quality),
                    &i64::from(r.width),
                    &i64::from(r.height),
                    &r.c2pa.as_deref().map(column),
                    &r.xmp_source_type.as_deref().map(column),
                    &r.scanned_ms,
                ],
            )
            .map_err(e)?;
        }
        tx.commit().map_err(e)?;
        Ok(records.len() as u64)
    }

    fn media_of_post(&self, platform: &str, post_id: &str) -> Result<Vec<MediaRecord>, StoreError> {
        let pkey = post_key(&column(platform), &column(post_id));
        let rows = self.query(
            &format!(
                "SELECT {COLUMNS} FROM media_files WHERE post_key = $1 AND platform = $2
                 AND post_id = $3 ORDER BY url"
            ),
            &[&&pkey[..], &column(platform), &column(post_id)],
        )?;
        Ok(rows.iter().map(media_row).collect())
    }

    fn media_records(&self) -> Result<Vec<MediaRecord>, StoreError> {
        let rows = self.query(
            &format!("SELECT {COLUMNS} FROM media_files ORDER BY platform, post_id, url"),
            &[],
        )?;
        Ok(rows.iter().map(media_row).collect())
    }
}

//! Media hashing and provenance for Pharos: PDQ perceptual hashes (written
//! here, parity-tested against Meta's reference), a near-duplicate index, and
//! C2PA provenance with the IPTC digital source type.

pub mod decode;
pub mod fetch;
pub mod index;
pub mod pdq;
pub mod provenance;
pub mod scan;
pub mod xmp;

use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

pub use decode::{DecodeError, is_image_path};
pub use index::{Hit, Index, groups};
pub use pdq::{Dihedral, Pdq, PdqHash};
pub use provenance::C2pa;

/// The largest file `inspect` reads, in bytes.
pub const MAX_FILE_BYTES: u64 = 256 << 20;

/// What `pharos media inspect` reports about one file (the JSON fields are
/// fixed by the interface).
#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    /// The path as given.
    pub file: String,
    pub sha256: String,
    pub width: u32,
    pub height: u32,
    pub pdq: PdqHash,
    pub quality: u8,
    pub c2pa: Option<C2pa>,
    /// The IPTC `DigitalSourceType` of the XMP packet (unsigned, so weaker).
    #[serde(skip)]
    pub xmp_digital_source_type: Option<String>,
}

impl Inspection {
    /// Generative-AI media: declared in a valid C2PA manifest (strong), or
    /// only in the unsigned XMP field or a manifest that does not verify (weak).
    pub fn ai_declaration(&self) -> Option<AiDeclaration> {
        ai_declaration(self.c2pa.as_ref(), self.xmp_digital_source_type.as_deref())
    }
}

/// How a file with these C2PA findings and XMP `DigitalSourceType`
/// declares itself AI-generated: a C2PA declaration first (valid or
/// broken), else the XMP field.
pub fn ai_declaration(c2pa: Option<&C2pa>, xmp_source_type: Option<&str>) -> Option<AiDeclaration> {
    if let Some(c) = c2pa
        && c.ai_generated
    {
        return Some(if c.valid {
            AiDeclaration::SignedC2pa
        } else {
            AiDeclaration::BrokenC2pa
        });
    }
    xmp_source_type
        .filter(|t| xmp::is_ai_source_type(t))
        .map(|_| AiDeclaration::Xmp)
}

/// How a file declares itself AI-generated.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum AiDeclaration {
    /// A C2PA manifest whose signature and content binding verify.
    SignedC2pa,
    /// A C2PA manifest that says so but does not verify.
    BrokenC2pa,
    /// Only the XMP `DigitalSourceType` field (anyone can write it).
    Xmp,
}

/// Why a file could not be inspected.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: file is {size} bytes, over the {MAX_FILE_BYTES}-byte limit")]
    TooBig { path: PathBuf, size: u64 },
    #[error("{path}: {source}")]
    Decode { path: PathBuf, source: DecodeError },
}

/// PDQ of decoded RGB.
pub fn pdq_of(rgb: &decode::Rgb) -> Pdq {
    pdq::hash_rgb(&rgb.pixels, rgb.width as usize, rgb.height as usize)
}

/// The PDQ hashes of all eight rotations and mirrors of decoded RGB.
pub fn pdq_dihedral_of(rgb: &decode::Rgb) -> ([PdqHash; 8], u8) {
    let mut luma = Vec::new();
    pdq::luma_from_rgb(&rgb.pixels, &mut luma);
    pdq::hash_luma_dihedral(&mut luma, rgb.height as usize, rgb.width as usize)
}

fn read_limited(path: &Path) -> Result<Vec<u8>, InspectError> {
    let io = |source| InspectError::Io {
        path: path.to_path_buf(),
        source,
    };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > MAX_FILE_BYTES {
        return Err(InspectError::TooBig {
            path: path.to_path_buf(),
            size,
        });
    }
    std::fs::read(path).map_err(io)
}

/// The MIME type C2PA needs, from the bytes' signature.
fn mime_of(bytes: &[u8]) -> Option<&'static str> {
    Some(match image::guess_format(bytes).ok()? {
        image::ImageFormat::Jpeg => "image/jpeg",
        image::ImageFormat::Png => "image/png",
        image::ImageFormat::WebP => "image/webp",
        image::ImageFormat::Gif => "image/gif",
        _ => return None,
    })
}

/// Hash only (no provenance): SHA-256, size and PDQ of a file's bytes.
pub fn hash_bytes(bytes: &[u8]) -> Result<(String, u32, u32, Pdq), DecodeError> {
    let rgb = decode::decode_bytes(bytes)?;
    let p = pdq_of(&rgb);
    Ok((hex::encode(Sha256::digest(bytes)), rgb.width, rgb.height, p))
}

/// Everything `inspect` reports about a file.
pub fn inspect(path: &Path) -> Result<Inspection, InspectError> {
    let bytes = read_limited(path)?;
    inspect_bytes(&path.display().to_string(), &bytes).map_err(|source| InspectError::Decode {
        path: path.to_path_buf(),
        source,
    })
}

/// [`inspect`] on bytes already read; `name` is reported as `file`.
pub fn inspect_bytes(name: &str, bytes: &[u8]) -> Result<Inspection, DecodeError> {
    let (sha256, width, height, p) = hash_bytes(bytes)?;
    let c2pa = mime_of(bytes).and_then(|m| provenance::read_bytes(m, bytes));
    Ok(Inspection {
        file: name.to_string(),
        sha256,
        width,
        height,
        pdq: p.hash,
        quality: p.quality,
        c2pa,
        xmp_digital_source_type: xmp::digital_source_type(bytes),
    })
}

/// Encode packed 8-bit RGB as PNG (for thumbnails and test pictures).
/// Fails when `rgb` is not `width × height × 3` bytes.
pub fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, image::ImageError> {
    use image::ImageEncoder;
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out).write_image(
        rgb,
        width,
        height,
        image::ExtendedColorType::Rgb8,
    )?;
    Ok(out)
}

/// A PNG thumbnail of image bytes: decoded as [`inspect`] decodes them
/// (formats, pixel and allocation limits, EXIF orientation), shrunk so its
/// longer side is at most `max_side` pixels (never enlarged).
pub fn thumbnail_png(bytes: &[u8], max_side: u32) -> Result<Vec<u8>, DecodeError> {
    let rgb = decode::decode_bytes(bytes)?;
    let (w, h) = (rgb.width, rgb.height);
    let img = image::RgbImage::from_raw(w, h, rgb.pixels)
        .ok_or_else(|| DecodeError::Decode("decoded pixels do not fill the picture".into()))?;
    let longer = w.max(h).max(1);
    let img = if longer > max_side.max(1) {
        let scale = max_side.max(1) as f64 / longer as f64;
        let tw = ((w as f64 * scale).round() as u32).max(1);
        let th = ((h as f64 * scale).round() as u32).max(1);
        image::imageops::thumbnail(&img, tw, th)
    } else {
        img
    };
    encode_png(img.as_raw(), img.width(), img.height())
        .map_err(|e| DecodeError::Decode(e.to_string()))
}

//! Reading images: the formats the issue names (JPEG, PNG, WebP, GIF's first
//! frame), EXIF orientation applied, within size limits.

use std::io::{BufRead, Cursor, Seek};
use std::path::Path;

use image::{DynamicImage, ImageDecoder, ImageReader, Limits};

/// The largest image we decode, in pixels (width × height). Hashing holds
/// two `f32` copies of the luma, so 64 MP costs about 0.75 GiB at the peak.
pub const MAX_PIXELS: u64 = 64_000_000;

/// The extensions `pharos media match` and `scan` look at.
pub const EXTENSIONS: [&str; 5] = ["jpg", "jpeg", "png", "webp", "gif"];

/// Whether a path has one of [`EXTENSIONS`] (any case).
pub fn is_image_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// Why an image could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("not an image in a format Pharos reads (JPEG, PNG, WebP, GIF): {0}")]
    Format(String),
    #[error("image is {width}×{height}, over the {MAX_PIXELS}-pixel limit")]
    TooLarge { width: u32, height: u32 },
    #[error("cannot decode: {0}")]
    Decode(String),
}

/// A decoded image as packed 8-bit RGB, upright.
pub struct Rgb {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

fn limits() -> Limits {
    let mut l = Limits::default();
    l.max_image_width = Some(60_000);
    l.max_image_height = Some(60_000);
    // Room for the decoded pixels (RGBA16 at the pixel limit) and no more.
    l.max_alloc = Some(MAX_PIXELS * 8 + (64 << 20));
    l
}

fn decode_reader<R: BufRead + Seek>(reader: ImageReader<R>) -> Result<Rgb, DecodeError> {
    let mut reader = reader
        .with_guessed_format()
        .map_err(|e| DecodeError::Decode(e.to_string()))?;
    if reader.format().is_none() {
        return Err(DecodeError::Format("unknown signature".into()));
    }
    reader.limits(limits());
    let mut decoder = reader.into_decoder().map_err(|e| match e {
        image::ImageError::Unsupported(u) => DecodeError::Format(u.to_string()),
        other => DecodeError::Decode(other.to_string()),
    })?;
    let (width, height) = decoder.dimensions();
    if width as u64 * height as u64 > MAX_PIXELS {
        return Err(DecodeError::TooLarge { width, height });
    }
    // A broken EXIF block must not lose the picture: treat it as upright.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img =
        DynamicImage::from_decoder(decoder).map_err(|e| DecodeError::Decode(e.to_string()))?;
    img.apply_orientation(orientation);
    let rgb = img.into_rgb8();
    Ok(Rgb {
        width: rgb.width(),
        height: rgb.height(),
        pixels: rgb.into_raw(),
    })
}

/// Decode image bytes.
pub fn decode_bytes(bytes: &[u8]) -> Result<Rgb, DecodeError> {
    decode_reader(ImageReader::new(Cursor::new(bytes)))
}

/// Decode an image file.
pub fn decode_file(path: &Path) -> Result<Rgb, DecodeError> {
    let reader = ImageReader::open(path).map_err(|e| DecodeError::Decode(e.to_string()))?;
    decode_reader(reader)
}

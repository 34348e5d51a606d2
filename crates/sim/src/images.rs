//! The pictures of the image-reuse campaign: generated from the seed, then
//! varied the way re-posting varies them (a crop of a few pixels, a resize,
//! a JPEG re-encode), so byte hashes differ and perceptual hashes stay near.
//!
//! Posts name the files by relative path ([`image_path`]); nothing is
//! written while the posts are simulated. [`write_images`] writes the files
//! of a scenario into a folder on request, so `pharos media scan --root
//! DIR` finds them; plain text scenarios never pay for pixels.
//!
//! One picture (the campaign's first, in its first post) is declared
//! AI-generated the way generators and editing tools declare it: an XMP
//! packet with the IPTC `DigitalSourceType`
//! `trainedAlgorithmicMedia`. Its re-posted copies are re-encoded and carry
//! no metadata, as platforms strip it.

use crate::rng::{hash, mix, unit};
use image::imageops::FilterType;
use image::{ImageEncoder, RgbImage};
use std::path::Path;

/// Width and height of a generated picture before variation.
pub(crate) const WIDTH: u32 = 320;
pub(crate) const HEIGHT: u32 = 240;

/// The IPTC digital source type the AI-declared picture carries.
pub const AI_SOURCE_TYPE: &str =
    "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia";

/// One picture a post carries: the campaign's picture `image`, in the
/// variant `variant` (0: the original, as first posted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ImageRef {
    pub image: u16,
    pub variant: u32,
    /// The original carries the AI declaration.
    pub ai: bool,
}

/// Where a picture lives, relative to the media folder.
pub fn image_path(campaign_id: &str, image: u16, variant: u32) -> String {
    format!("media/{campaign_id}/img{image:02}-v{variant:03}.jpg")
}

/// The picture `image` of a campaign, generated from the seed: smooth
/// colour fields (a few low-frequency waves a channel) under sharp-edged
/// shapes, so PDQ sees texture (quality well above 50) and a small crop or
/// a resize moves few bits.
pub(crate) fn generate(seed: u64, campaign: u16, image: u16) -> RgbImage {
    let key = hash(seed, 0x1_4A6E ^ u64::from(campaign), u64::from(image));
    let r = |i: u64| unit(mix(key ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15)));
    // Per channel: four waves (frequency in cycles across the picture,
    // angle, phase, amplitude).
    let waves: Vec<[f32; 4]> = (0..12)
        .map(|i| {
            let i = i as u64 * 8;
            [
                (0.5 + 3.0 * r(i)) as f32,
                (std::f64::consts::TAU * r(i + 1)) as f32,
                (std::f64::consts::TAU * r(i + 2)) as f32,
                (25.0 + 35.0 * r(i + 3)) as f32,
            ]
        })
        .collect();
    // Shapes: ellipses and rectangles with a solid colour.
    let shapes: Vec<[f32; 8]> = (0..9)
        .map(|i| {
            let i = 1000 + i as u64 * 16;
            [
                r(i) as f32,                    // centre x (fraction)
                r(i + 1) as f32,                // centre y
                (0.06 + 0.2 * r(i + 2)) as f32, // half width
                (0.06 + 0.2 * r(i + 3)) as f32, // half height
                (255.0 * r(i + 4)) as f32,      // colour
                (255.0 * r(i + 5)) as f32,
                (255.0 * r(i + 6)) as f32,
                if r(i + 7) < 0.5 { 0.0 } else { 1.0 }, // ellipse or rectangle
            ]
        })
        .collect();
    RgbImage::from_fn(WIDTH, HEIGHT, |x, y| {
        let (u, v) = (x as f32 / WIDTH as f32, y as f32 / HEIGHT as f32);
        let mut px = [0f32; 3];
        for (c, p) in px.iter_mut().enumerate() {
            let mut s = 128.0;
            for w in &waves[c * 4..c * 4 + 4] {
                let (f, a, ph, amp) = (w[0], w[1], w[2], w[3]);
                let t = (u * a.cos() + v * a.sin()) * f * std::f32::consts::TAU + ph;
                s += amp * t.sin();
            }
            *p = s;
        }
        for sh in &shapes {
            let (dx, dy) = ((u - sh[0]) / sh[2], (v - sh[1]) / sh[3]);
            let inside = if sh[7] == 0.0 {
                dx * dx + dy * dy <= 1.0
            } else {
                dx.abs() <= 1.0 && dy.abs() <= 1.0
            };
            if inside {
                px = [
                    0.35 * px[0] + 0.65 * sh[4],
                    0.35 * px[1] + 0.65 * sh[5],
                    0.35 * px[2] + 0.65 * sh[6],
                ];
            }
        }
        image::Rgb(px.map(|p| p.clamp(0.0, 255.0) as u8))
    })
}

/// A re-posted copy: up to 1 % cropped off each edge, resized to 55–100 %
/// and re-encoded at JPEG quality 50–90. Variant 0 is the original at
/// quality 92.
pub(crate) fn variant(
    base: &RgbImage,
    seed: u64,
    r: ImageRef,
) -> Result<Vec<u8>, image::ImageError> {
    if r.variant == 0 {
        let jpeg = encode_jpeg(base, 92)?;
        return Ok(if r.ai {
            with_xmp(&jpeg, AI_SOURCE_TYPE)
        } else {
            jpeg
        });
    }
    let h = hash(seed, 0x7A41 ^ u64::from(r.image), u64::from(r.variant));
    let f = |i: u64| unit(mix(h ^ i));
    let (w, ht) = (base.width(), base.height());
    let cut = |frac: f64, side: u32| (frac * 0.01 * f64::from(side)) as u32;
    let (left, right) = (cut(f(1), w), cut(f(2), w));
    let (top, bottom) = (cut(f(3), ht), cut(f(4), ht));
    let cropped =
        image::imageops::crop_imm(base, left, top, w - left - right, ht - top - bottom).to_image();
    let scale = 0.55 + 0.45 * f(5);
    let (nw, nh) = (
        ((f64::from(cropped.width()) * scale) as u32).max(16),
        ((f64::from(cropped.height()) * scale) as u32).max(16),
    );
    let resized = image::imageops::resize(&cropped, nw, nh, FilterType::Triangle);
    encode_jpeg(&resized, 50 + (f(6) * 40.0) as u8)
}

fn encode_jpeg(img: &RgbImage, quality: u8) -> Result<Vec<u8>, image::ImageError> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality).write_image(
        img.as_raw(),
        img.width(),
        img.height(),
        image::ExtendedColorType::Rgb8,
    )?;
    Ok(out)
}

/// `jpeg` with an XMP packet (an APP1 segment after the start of image)
/// declaring the IPTC digital source type `source_type`.
pub(crate) fn with_xmp(jpeg: &[u8], source_type: &str) -> Vec<u8> {
    let packet = format!(
        "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\
<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\
<rdf:Description rdf:about=\"\" xmlns:Iptc4xmpExt=\"http://iptc.org/std/Iptc4xmpExt/2008-02-29/\" \
Iptc4xmpExt:DigitalSourceType=\"{source_type}\"/></rdf:RDF></x:xmpmeta><?xpacket end=\"r\"?>"
    );
    let mut body = b"http://ns.adobe.com/xap/1.0/\0".to_vec();
    body.extend_from_slice(packet.as_bytes());
    let len = u16::try_from(body.len() + 2).expect("a short packet");
    let mut out = Vec::with_capacity(jpeg.len() + body.len() + 4);
    out.extend_from_slice(&jpeg[..2]); // SOI
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&body);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// Writes `bytes` at `dir/rel`, creating folders.
pub(crate) fn write_file(dir: &Path, rel: &str, bytes: &[u8]) -> std::io::Result<()> {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", parent.display())))?;
    }
    std::fs::write(&path, bytes)
        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

//! The IPTC `DigitalSourceType` written in a file's XMP packet: a weaker
//! signal than a signed C2PA declaration, as anyone can write it (or strip it).

use memchr::memmem;

/// The IPTC vocabulary's prefix for digital source types.
pub const IPTC_PREFIX: &str = "http://cv.iptc.org/newscodes/digitalsourcetype/";

/// The source types that mean "made by a generative model".
pub const AI_TYPES: [&str; 2] = [
    "trainedAlgorithmicMedia",
    "compositeWithTrainedAlgorithmicMedia",
];

/// Whether an IPTC digital source type URI (or bare code) declares
/// generative-AI media.
pub fn is_ai_source_type(uri: &str) -> bool {
    let code = uri.rsplit('/').next().unwrap_or(uri);
    AI_TYPES.contains(&code)
}

/// The `Iptc4xmpExt:DigitalSourceType` value from the first XMP packet in
/// `bytes`, as an attribute (`DigitalSourceType="…"`) or an element
/// (`<Iptc4xmpExt:DigitalSourceType>…<`). Only the first 16 MiB are searched.
pub fn digital_source_type(bytes: &[u8]) -> Option<String> {
    let hay = &bytes[..bytes.len().min(16 << 20)];
    let start = memmem::find(hay, b"<x:xmpmeta").or_else(|| memmem::find(hay, b"<rdf:RDF"))?;
    let packet = &hay[start..];
    let end = memmem::find(packet, b"</x:xmpmeta>")
        .or_else(|| memmem::find(packet, b"</rdf:RDF>"))
        .unwrap_or(packet.len().min(1 << 20));
    let packet = &packet[..end];
    let key = b"DigitalSourceType";
    for at in memmem::find_iter(packet, key) {
        let rest = &packet[at + key.len()..];
        let value = match rest.first() {
            Some(b'=') => {
                let q = *rest.get(1)?;
                if q != b'"' && q != b'\'' {
                    continue;
                }
                let body = &rest[2..];
                &body[..memchr::memchr(q, body)?]
            }
            Some(b'>') => {
                let body = &rest[1..];
                &body[..memchr::memchr(b'<', body)?]
            }
            _ => continue,
        };
        let v = std::str::from_utf8(value).ok()?.trim();
        if !v.is_empty() && v.len() < 512 {
            return Some(v.to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_attribute_and_element_forms() {
        let attr = br#"junk<x:xmpmeta><rdf:Description Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"/></x:xmpmeta>"#;
        let v = digital_source_type(attr).unwrap();
        assert!(is_ai_source_type(&v));
        let elem = b"<x:xmpmeta><Iptc4xmpExt:DigitalSourceType>http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture</Iptc4xmpExt:DigitalSourceType></x:xmpmeta>";
        let v = digital_source_type(elem).unwrap();
        assert!(v.ends_with("digitalCapture"));
        assert!(!is_ai_source_type(&v));
    }

    #[test]
    fn no_packet_or_unterminated_value_is_none() {
        assert_eq!(digital_source_type(b"DigitalSourceType=\"x\""), None);
        assert_eq!(
            digital_source_type(b"<x:xmpmeta>DigitalSourceType=\"unterminated"),
            None
        );
        assert_eq!(digital_source_type(b""), None);
    }
}

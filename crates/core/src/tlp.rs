//! Traffic Light Protocol levels: TLP 2.0, how they are written (on the
//! command line, in configuration, in JSON), and how STIX 2.1 marks them
//! (the OASIS TLP 2.0 marking-definitions, and the TLP 1.0 ids partners may
//! still send). The one `Tlp` of Pharos: sharing, the server's markings and
//! its clearance filter all use it.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The OASIS extension-definition that TLP 2.0 marking-definitions carry.
pub const TLP2_EXTENSION: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// A TLP 2.0 level, least to most restrictive. In JSON and TOML it is
/// written `clear`, `green`, `amber`, `amber+strict` or `red` (upper case
/// and TLP 1.0's `white` are read too).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
pub enum Tlp {
    #[serde(rename = "clear", alias = "CLEAR", alias = "white", alias = "WHITE")]
    Clear,
    #[serde(rename = "green", alias = "GREEN")]
    Green,
    #[serde(rename = "amber", alias = "AMBER")]
    Amber,
    #[serde(rename = "amber+strict", alias = "AMBER+STRICT")]
    AmberStrict,
    #[serde(rename = "red", alias = "RED")]
    Red,
}

impl Tlp {
    pub const ALL: [Tlp; 5] = [
        Tlp::Clear,
        Tlp::Green,
        Tlp::Amber,
        Tlp::AmberStrict,
        Tlp::Red,
    ];

    /// The TLP 2.0 value (`clear`, `amber+strict`, ...), as on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Tlp::Clear => "clear",
            Tlp::Green => "green",
            Tlp::Amber => "amber",
            Tlp::AmberStrict => "amber+strict",
            Tlp::Red => "red",
        }
    }

    /// `TLP:CLEAR`, ...
    pub fn label(self) -> &'static str {
        match self {
            Tlp::Clear => "TLP:CLEAR",
            Tlp::Green => "TLP:GREEN",
            Tlp::Amber => "TLP:AMBER",
            Tlp::AmberStrict => "TLP:AMBER+STRICT",
            Tlp::Red => "TLP:RED",
        }
    }

    /// The STIX 2.1 marking-definition id of this level (the same as
    /// [`Tlp::marking_id`]).
    pub fn stix_id(self) -> &'static str {
        self.marking_id()
    }

    /// The TLP 2.0 marking-definition id published by OASIS.
    pub fn marking_id(self) -> &'static str {
        match self {
            Tlp::Clear => "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
            Tlp::Green => "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
            Tlp::Amber => "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
            Tlp::AmberStrict => "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
            Tlp::Red => "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
        }
    }

    /// The marking-definition object, exactly as the TLP 2.0 extension's
    /// examples show it.
    pub fn marking_definition(self) -> Value {
        json!({
            "type": "marking-definition",
            "spec_version": "2.1",
            "id": self.marking_id(),
            "created": "2022-10-01T00:00:00.000Z",
            "name": self.label(),
            "extensions": {
                TLP2_EXTENSION: {
                    "extension_type": "property-extension",
                    "tlp_2_0": self.as_str(),
                }
            }
        })
    }

    /// Reads a level: `clear`, `green`, `amber`, `amber+strict`, `red`
    /// (any case, with or without `TLP:`; `white` is read as `clear`).
    pub fn parse(s: &str) -> Result<Tlp, String> {
        let l = s.trim().to_ascii_lowercase();
        let l = l.strip_prefix("tlp:").unwrap_or(&l);
        Ok(match l {
            "clear" | "white" => Tlp::Clear,
            "green" => Tlp::Green,
            "amber" => Tlp::Amber,
            "amber+strict" | "amber-strict" | "amber_strict" => Tlp::AmberStrict,
            "red" => Tlp::Red,
            _ => {
                return Err(format!(
                    "unknown TLP level {s:?}; use clear, green, amber, amber+strict or red"
                ));
            }
        })
    }

    /// The level a marking-definition id stands for: the TLP 2.0 ids, and the
    /// TLP 1.0 ids of STIX 2.1 §7.2.1.4 (WHITE read as CLEAR).
    pub fn from_marking_id(id: &str) -> Option<Tlp> {
        Some(match id {
            "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9" => Tlp::Clear,
            "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da" => Tlp::Green,
            "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82" => Tlp::Amber,
            "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed" => Tlp::Red,
            _ => return Tlp::ALL.into_iter().find(|t| t.marking_id() == id),
        })
    }

    /// The level a marking-definition object declares, if it is a TLP
    /// marking (TLP 2.0 extension, or TLP 1.0 `definition_type: "tlp"`).
    pub fn from_marking_definition(o: &Value) -> Option<Result<Tlp, String>> {
        if let Some(ext) = o.get("extensions").and_then(|e| e.get(TLP2_EXTENSION)) {
            let v = ext.get("tlp_2_0").and_then(Value::as_str).unwrap_or("");
            return Some(Tlp::parse(v));
        }
        if o.get("definition_type").and_then(Value::as_str) == Some("tlp") {
            let v = o
                .get("definition")
                .and_then(|d| d.get("tlp"))
                .and_then(Value::as_str)
                .unwrap_or("");
            return Some(Tlp::parse(v));
        }
        None
    }
}

impl std::fmt::Display for Tlp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Tlp {
    type Err = String;
    fn from_str(s: &str) -> Result<Tlp, String> {
        Tlp::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_and_order() {
        assert_eq!(Tlp::parse("AMBER+STRICT").unwrap(), Tlp::AmberStrict);
        assert_eq!(Tlp::parse("TLP:WHITE").unwrap(), Tlp::Clear);
        assert!(Tlp::parse("purple").unwrap_err().contains("purple"));
        assert!(Tlp::Red > Tlp::AmberStrict && Tlp::AmberStrict > Tlp::Amber);
        for t in Tlp::ALL {
            assert_eq!(Tlp::parse(t.as_str()).unwrap(), t);
            assert_eq!(Tlp::from_marking_id(t.marking_id()), Some(t));
            let md = t.marking_definition();
            assert_eq!(Tlp::from_marking_definition(&md).unwrap().unwrap(), t);
            assert_eq!(md["name"], t.label());
        }
    }

    #[test]
    fn json_names_are_the_tlp2_values() {
        for t in Tlp::ALL {
            let j = serde_json::to_string(&t).unwrap();
            assert_eq!(j, format!("\"{}\"", t.as_str()));
            assert_eq!(serde_json::from_str::<Tlp>(&j).unwrap(), t);
        }
        assert_eq!(
            serde_json::from_str::<Tlp>("\"WHITE\"").unwrap(),
            Tlp::Clear
        );
        assert_eq!(
            serde_json::from_str::<Tlp>("\"AMBER+STRICT\"").unwrap(),
            Tlp::AmberStrict
        );
        assert!(serde_json::from_str::<Tlp>("\"purple\"").is_err());
    }

    #[test]
    fn tlp1_ids_are_read_with_white_as_clear() {
        let white = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9";
        assert_eq!(Tlp::from_marking_id(white), Some(Tlp::Clear));
        assert_eq!(
            Tlp::from_marking_id("marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"),
            Some(Tlp::Red)
        );
        let v1 = json!({"type":"marking-definition","id":white,"definition_type":"tlp","definition":{"tlp":"white"}});
        assert_eq!(
            Tlp::from_marking_definition(&v1).unwrap().unwrap(),
            Tlp::Clear
        );
        assert_eq!(
            Tlp::from_marking_id("marking-definition--00000000-0000-4000-8000-000000000000"),
            None
        );
    }
}

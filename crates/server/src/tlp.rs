//! TLP 2.0 markings and who they let see what.
//!
//! - CLEAR: everyone with a token.
//! - GREEN: the community: partner organisations listed in `[tlp] community`
//!   (every partner when the list is empty).
//! - AMBER and AMBER+STRICT: the organisations the marking names.
//! - RED: the people the marking names, by token id (`pharos token list`):
//!   ids are unique, names are not, so a second token named like a cleared
//!   person is not cleared (issue 14, finding 7).
//!
//! Admins and analysts are the owning team: they see everything. Partners
//! see what their organisation (or, for RED, their own token) is cleared for.

use crate::auth::{Principal, Role};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A TLP 2.0 level: the one `Tlp` of Pharos (`pharos_core::tlp`).
pub use pharos_core::Tlp;

/// A marking: a TLP level and whom it names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Marking {
    pub tlp: Tlp,
    /// Organisations cleared for AMBER and AMBER+STRICT.
    #[serde(default)]
    pub orgs: Vec<String>,
    /// People cleared for RED, by token id.
    #[serde(default)]
    pub people: Vec<String>,
}

impl Marking {
    pub fn new(tlp: Tlp) -> Marking {
        Marking {
            tlp,
            orgs: Vec::new(),
            people: Vec::new(),
        }
    }

    /// Whether `who` may see what carries this marking. `community` is the
    /// GREEN community (empty: every partner organisation).
    pub fn allows(&self, who: &Principal, community: &[String]) -> bool {
        if who.role != Role::Partner {
            return true;
        }
        let org = who.org.as_deref().unwrap_or("");
        match self.tlp {
            Tlp::Clear => true,
            Tlp::Green => {
                !org.is_empty() && (community.is_empty() || community.iter().any(|c| c == org))
            }
            Tlp::Amber | Tlp::AmberStrict => !org.is_empty() && self.orgs.iter().any(|o| o == org),
            Tlp::Red => self.people.iter().any(|p| p == &who.token_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partner(org: &str, name: &str) -> Principal {
        Principal {
            token_id: format!("id-{name}"),
            name: name.into(),
            role: Role::Partner,
            org: Some(org.into()),
        }
    }

    #[test]
    fn each_level_admits_whom_it_names() {
        let a = partner("acme", "ann");
        let b = partner("bravo", "bob");
        let community = vec!["acme".to_string()];
        assert!(Marking::new(Tlp::Clear).allows(&b, &community));
        assert!(Marking::new(Tlp::Green).allows(&a, &community));
        assert!(!Marking::new(Tlp::Green).allows(&b, &community));
        assert!(Marking::new(Tlp::Green).allows(&b, &[]));
        let amber = Marking {
            tlp: Tlp::Amber,
            orgs: vec!["bravo".into()],
            people: vec![],
        };
        assert!(!amber.allows(&a, &community));
        assert!(amber.allows(&b, &community));
        let red = Marking {
            tlp: Tlp::Red,
            orgs: vec!["acme".into()],
            people: vec!["id-bob".into()],
        };
        assert!(
            !red.allows(&a, &community),
            "RED names people, not organisations"
        );
        assert!(red.allows(&b, &community));
        // A second token with the same name is another person.
        let namesake = Principal {
            token_id: "id-other".into(),
            ..partner("bravo", "bob")
        };
        assert!(!red.allows(&namesake, &community));
        let by_name = Marking {
            people: vec!["bob".into()],
            ..red.clone()
        };
        assert!(
            !by_name.allows(&b, &community),
            "a name clears no one for RED"
        );
        let analyst = Principal {
            role: Role::Analyst,
            org: None,
            ..partner("", "x")
        };
        assert!(red.allows(&analyst, &community));
    }

    #[test]
    fn names_parse_both_ways() {
        for t in [
            Tlp::Clear,
            Tlp::Green,
            Tlp::Amber,
            Tlp::AmberStrict,
            Tlp::Red,
        ] {
            assert_eq!(Tlp::parse(t.as_str()), Ok(t));
            assert_eq!(Tlp::parse(t.label()), Ok(t));
        }
        assert!(Tlp::parse("purple").is_err());
    }
}

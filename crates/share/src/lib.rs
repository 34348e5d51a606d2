//! Pharos sharing: DISARM framework import, STIX 2.1 export and import with TLP 2.0 markings.

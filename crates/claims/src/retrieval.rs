//! Claim retrieval: candidates by BM25, re-ranked by semantic similarity.

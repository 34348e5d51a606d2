//! One module per source format. Each `read` function reads records from a
//! reader, hands draft posts (provenance set) or rejections to the sink, and
//! never stops on a bad record; only the sink can stop it.

pub mod canonical;
pub mod csv;
pub mod rss;
pub mod telegram;
pub mod telegram_dump;
pub mod twitter_v2;

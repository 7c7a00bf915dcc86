//! Fuzz harnesses for cra-tui's network-facing decoders. The harness code lives in `harness.rs` so the
//! main crate's `tests/fuzz_corpus.rs` runs the saved corpus through exactly the same functions on stable.

#[path = "harness.rs"]
mod harness;

pub use harness::{Venue, capture, seeds, venue_frames};

//! The saved fuzz corpus (`fuzz/corpus/<target>/*`, including every minimised crash as a regression
//! input) replayed on stable through the very harness the cargo-fuzz targets call
//! (`fuzz/src/harness.rs`): no input may panic or break the harness's invariants (a malformed frame
//! leaves the book untouched; a book side never exceeds its bound).
//!
//! Crashes the fuzzers found are kept in `fuzz/regressions/<target>/` and replayed here as regressions.
//!
//! `cargo test --test fuzz_corpus -- --ignored write_seed_corpus` rewrites the generated seed inputs.

#[path = "../fuzz/src/harness.rs"]
#[allow(dead_code, reason = "shared with the fuzz crate")]
mod harness;

use std::path::{Path, PathBuf};

use harness::Venue;

fn corpus_dir(target: &str) -> PathBuf {
    fuzz_dir("corpus", target)
}

fn fuzz_dir(kind: &str, target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind)
        .join(target)
}

/// Every file of `target`'s corpus, sorted; at least `min` of them.
fn inputs(target: &str, min: usize) -> Vec<(PathBuf, Vec<u8>)> {
    files(&corpus_dir(target), target, min)
}

/// Every file of `dir`, sorted; at least `min` of them.
fn files(dir: &Path, target: &str, min: usize) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, bytes)
        })
        .collect();
    out.sort();
    assert!(
        out.len() >= min,
        "{target}: {} inputs, expected at least {min}",
        out.len()
    );
    out
}

fn run_venue(target: &str, venue: Venue) {
    for (path, data) in inputs(target, 4) {
        let r = std::panic::catch_unwind(|| harness::venue_frames(venue, &data));
        assert!(r.is_ok(), "{} broke the harness", path.display());
    }
}

#[test]
fn kraken_corpus() {
    run_venue("kraken", Venue::Kraken);
}

#[test]
fn coinbase_corpus() {
    run_venue("coinbase", Venue::Coinbase);
}

#[test]
fn gemini_corpus() {
    run_venue("gemini", Venue::Gemini);
}

#[test]
fn capture_corpus() {
    for (path, data) in inputs("capture", 2) {
        let r = std::panic::catch_unwind(|| harness::capture(&data));
        assert!(r.is_ok(), "{} broke the harness", path.display());
    }
}

/// The harness itself can fail: a frame that changes the book while being refused would be caught.
#[test]
fn the_harness_primes_a_book_and_applies_updates() {
    // Flag 1 primes with a snapshot; a valid update must then apply without tripping an assertion,
    // and an obviously bad one must be refused without touching the book.
    for venue in [Venue::Kraken, Venue::Coinbase, Venue::Gemini] {
        let seeds = harness::seeds(venue.name());
        assert!(seeds.iter().any(|(n, _)| n == "updates"));
        for (_, data) in seeds {
            harness::venue_frames(venue, &data);
        }
    }
}

/// Found by the `capture` fuzzer: a capture whose first frame has `ts_ns` = i64::MIN and a later one a
/// normal time overflows `(ts - start)` in `replay_headless` (src/replay.rs, "Skip the boundaries a
/// quiet stretch jumped over"): a panic in debug builds, a flood of output lines in release. Fixed
/// there with `ts.saturating_sub(start)`.
#[test]
fn capture_regressions() {
    for (path, data) in files(&fuzz_dir("regressions", "capture"), "capture", 1) {
        let r = std::panic::catch_unwind(|| harness::capture(&data));
        assert!(r.is_ok(), "{} still breaks the replay", path.display());
    }
}

#[test]
#[ignore = "writes the generated seed inputs into fuzz/corpus"]
fn write_seed_corpus() {
    for target in ["kraken", "coinbase", "gemini", "capture"] {
        let dir = corpus_dir(target);
        std::fs::create_dir_all(&dir).expect("corpus dir");
        for (name, bytes) in harness::seeds(target) {
            std::fs::write(dir.join(format!("seed-{name}")), bytes).expect("write seed");
        }
    }
}

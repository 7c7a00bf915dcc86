//! Real Kraken v2 traffic through the `kraken-v2` adapter (opt-in).
//!
//! Reads the recorded fixtures in the shared folder next to the repository at run time (never copied
//! into the repository) and skips with a note when they are absent:
//! - the DepthCharge capture (BTC/USD, depth 10): every received frame must decode, and all 118 book
//!   messages (1 snapshot + 117 updates) must pass the CRC32 check; one altered quantity digit must not;
//! - Kraken's documented checksum example (3310070434).

use std::path::PathBuf;

use cra_tui::config::Config;
use cra_tui::feed::kraken::{KrakenV2, checksum};
use cra_tui::feed::{Adapter, FrameError, FrameOutcome, Limits};
use cra_tui::market::{Decimal, OrderBook, Side};

const CAPTURE: &str =
    "fixtures/kraken/kraken_v2_btcusd_depth10_20260816_depthcharge_first130lines.ndjson";
const DOCS_EXAMPLE: &str = "fixtures/kraken/kraken_v2_docs_checksum_example.json";

/// The shared folder sits next to the main checkout (`../shared`); from a worktree under `wt/` it is
/// one level further up.
fn fixture(rel: &str) -> Option<String> {
    let base = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for shared in [base.join("../shared"), base.join("../../shared")] {
        if let Ok(text) = std::fs::read_to_string(shared.join(rel)) {
            return Some(text);
        }
    }
    eprintln!("note: shared fixture {rel} not found; skipping");
    None
}

fn kraken_venue() -> cra_tui::config::VenueConfig {
    let config = Config::default_config().expect("default config");
    let venue = config
        .venues
        .into_iter()
        .find(|v| v.adapter == "kraken-v2")
        .expect("kraken venue");
    // The default config subscribes at depth 1000; the capture's ack says 10.
    assert_eq!(venue.depth, Some(1000));
    venue
}

/// The received frames, verbatim: everything after `"frame": ` minus the line's final `}`.
fn received_frames(capture: &str) -> Vec<String> {
    capture
        .lines()
        .skip(1) // metadata header
        .filter(|l| !l.contains(r#""dir": "tx""#))
        .map(|l| {
            let start = l.find(r#""frame": "#).expect("frame key") + r#""frame": "#.len();
            let rest = l[start..].trim_end();
            rest.strip_suffix('}').expect("closing brace").to_owned()
        })
        .collect()
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Tally {
    snapshots: usize,
    updates: usize,
    heartbeats: usize,
    acks: usize,
    ignored: usize,
    other: usize,
    checksum_errors: usize,
    other_errors: usize,
}

fn run(adapter: &mut KrakenV2, frames: &[String], book: &mut OrderBook) -> Tally {
    let mut t = Tally::default();
    for f in frames {
        match adapter.on_frame(f, book) {
            Ok(FrameOutcome::Snapshot) => t.snapshots += 1,
            Ok(FrameOutcome::Update) => t.updates += 1,
            Ok(FrameOutcome::Heartbeat) => t.heartbeats += 1,
            Ok(FrameOutcome::Ack) => t.acks += 1,
            Ok(FrameOutcome::Ignored) => t.ignored += 1,
            Ok(_) => t.other += 1,
            Err(FrameError::Checksum { .. }) => t.checksum_errors += 1,
            Err(e) => {
                eprintln!("error: {e}");
                t.other_errors += 1;
            }
        }
    }
    t
}

#[test]
fn depthcharge_capture_verifies_every_checksum() {
    let Some(capture) = fixture(CAPTURE) else {
        return;
    };
    let frames = received_frames(&capture);
    assert_eq!(frames.len(), 128);
    let venue = kraken_venue();
    let mut adapter = KrakenV2::new(&venue, Limits::default());
    let mut book = OrderBook::new();
    let tally = run(&mut adapter, &frames, &mut book);
    assert_eq!(
        tally,
        Tally {
            snapshots: 1,
            updates: 117,
            heartbeats: 8,
            acks: 1,
            ignored: 1, // status
            ..Tally::default()
        }
    );
    assert_eq!(adapter.window_depth(), 10);
    assert_eq!(book.depth(Side::Bid), 10);
    assert_eq!(book.depth(Side::Ask), 10);
    assert!(!book.is_crossed());
    println!(
        "kraken capture: {} snapshot + {} updates verified, {} heartbeats",
        tally.snapshots, tally.updates, tally.heartbeats
    );
}

#[test]
fn depthcharge_capture_without_the_ack_fails_for_lack_of_truncation() {
    let Some(capture) = fixture(CAPTURE) else {
        return;
    };
    let frames: Vec<String> = received_frames(&capture)
        .into_iter()
        .filter(|f| !f.starts_with(r#"{"method":"subscribe""#))
        .collect();
    let mut adapter = KrakenV2::new(&kraken_venue(), Limits::default());
    let mut book = OrderBook::new();
    let tally = run(&mut adapter, &frames, &mut book);
    assert_eq!(adapter.window_depth(), 1000);
    assert!(tally.checksum_errors >= 1, "{tally:?}");
    assert_eq!(tally.other_errors, 0, "{tally:?}");
}

#[test]
fn one_altered_quantity_digit_is_a_checksum_error() {
    let Some(capture) = fixture(CAPTURE) else {
        return;
    };
    let mut frames = received_frames(&capture);
    // The first update carrying a non-zero quantity: bump the last digit of that quantity.
    let (index, altered) = frames
        .iter()
        .enumerate()
        .filter(|(_, f)| f.contains(r#""type":"update""#))
        .find_map(|(i, f)| alter_first_nonzero_qty(f).map(|a| (i, a)))
        .expect("an update with a quantity");
    assert_ne!(frames[index], altered);
    frames[index] = altered;

    let mut adapter = KrakenV2::new(&kraken_venue(), Limits::default());
    let mut book = OrderBook::new();
    for (i, f) in frames.iter().enumerate() {
        let r = adapter.on_frame(f, &mut book);
        if i == index {
            assert!(
                matches!(r, Err(FrameError::Checksum { .. })),
                "altered frame: {r:?}"
            );
            return;
        }
        assert!(r.is_ok(), "frame {i}: {r:?}");
    }
    unreachable!("altered frame not reached");
}

fn alter_first_nonzero_qty(frame: &str) -> Option<String> {
    let key = r#""qty":"#;
    let mut from = 0;
    while let Some(pos) = frame[from..].find(key) {
        let start = from + pos + key.len();
        let len = frame[start..]
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(frame.len() - start);
        let token = &frame[start..start + len];
        if token.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
            let last = start + len - 1;
            let digit = frame.as_bytes()[last] - b'0';
            let mut out = frame.to_owned();
            out.replace_range(last..=last, &((digit + 1) % 10).to_string());
            return Some(out);
        }
        from = start + len;
    }
    None
}

#[test]
fn docs_example_fixture_matches_its_published_checksum() {
    let Some(text) = fixture(DOCS_EXAMPLE) else {
        return;
    };
    let doc: serde_json::Value = serde_json::from_str(&text).expect("docs example json");
    let expected = u32::try_from(doc["expected_checksum"].as_u64().expect("checksum")).unwrap();
    assert_eq!(expected, 3_310_070_434);
    let levels = |key: &str| -> Vec<(String, String)> {
        doc[key]
            .as_array()
            .expect("levels")
            .iter()
            .map(|l| {
                (
                    l[0].as_str().expect("price").to_owned(),
                    l[1].as_str().expect("qty").to_owned(),
                )
            })
            .collect()
    };
    let (bids, asks) = (levels("bids"), levels("asks"));

    // Through `checksum()` on a book built from the decimal strings.
    let mut book = OrderBook::new();
    for (side, levels) in [(Side::Bid, &bids), (Side::Ask, &asks)] {
        for (p, q) in levels {
            book.apply(side, p.parse::<Decimal>().unwrap(), q.parse().unwrap());
        }
    }
    assert_eq!(checksum(&book, 1, 8), expected);
    let input = doc["expected_checksum_string"].as_str().expect("string");
    assert_eq!(crc32fast::hash(input.as_bytes()), expected);

    // Through the adapter, as a v2 snapshot frame with bare number tokens.
    let json = |levels: &[(String, String)]| {
        levels
            .iter()
            .map(|(p, q)| format!(r#"{{"price":{p},"qty":{q}}}"#))
            .collect::<Vec<_>>()
            .join(",")
    };
    let frame = format!(
        r#"{{"channel":"book","type":"snapshot","data":[{{"symbol":"BTC/USD","bids":[{}],"asks":[{}],"checksum":{expected},"timestamp":"2026-01-01T00:00:00.000000Z"}}]}}"#,
        json(&bids),
        json(&asks)
    );
    let mut adapter = KrakenV2::new(&kraken_venue(), Limits::default());
    let mut book2 = OrderBook::new();
    assert_eq!(
        adapter.on_frame(&frame, &mut book2),
        Ok(FrameOutcome::Snapshot)
    );
    assert_eq!(book2, book);
}

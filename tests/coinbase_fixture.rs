//! Replays the real Coinbase Advanced Trade capture (shared/fixtures, read at run time, never copied)
//! through the `coinbase-advanced` adapter built from the shipped config.
//!
//! Checks: every frame decodes without error, the BTC-USD book is never crossed, the book right after
//! the snapshot matches the snapshot frame read independently (`serde_json::Value`), and the final book
//! equals a naive reference rebuild. Prints level counts and how long the ~5 MB snapshot frame takes.
//! Skips with a note when the fixture is absent.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use cra_tui::config::{Config, VenueConfig};
use cra_tui::feed::{Adapter, FrameOutcome, Limits, coinbase::CoinbaseAdvanced};
use cra_tui::market::{Decimal, OrderBook, Side};
use serde::Deserialize;
use serde_json::Value;

const FIXTURE: &str = "fixtures/coinbase/coinbase_advanced_trade_level2_20260809_cryptofeed.jsonl";

/// The shared folder next to the repository (or next to the worktrees folder, for a git worktree).
fn fixture_text() -> Option<String> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    [manifest.join("../shared"), manifest.join("../../shared")]
        .iter()
        .map(|dir| dir.join(FIXTURE))
        .find(|p| p.is_file())
        .and_then(|p| std::fs::read_to_string(p).ok())
}

/// One line of a cryptofeed v3 JSONL capture.
#[derive(Deserialize)]
struct Line {
    t: String,
    conn: Option<String>,
    data: Option<String>,
}

/// Received frames with the connection each came on, in file order.
fn received(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<Line>(l).expect("capture line"))
        .filter(|l| l.t == "recv")
        .map(|l| {
            (
                l.conn.expect("recv line has conn"),
                l.data.expect("recv line has data"),
            )
        })
        .collect()
}

fn venue() -> VenueConfig {
    let config = Config::default_config().expect("default config");
    config
        .venues
        .into_iter()
        .find(|v| v.adapter == "coinbase-advanced")
        .expect("coinbase venue in the default config")
}

type RefBook = [BTreeMap<Decimal, Decimal>; 2];

fn dec(v: &Value) -> Decimal {
    v.as_str().expect("string number").parse().expect("decimal")
}

/// Applies one frame to the reference book the naive way; true when it held a snapshot of `product`.
fn reference_apply(frame: &Value, product: &str, book: &mut RefBook) -> bool {
    let mut snapshot = false;
    if frame["channel"] != "l2_data" {
        return false;
    }
    for event in frame["events"].as_array().expect("events") {
        if event["product_id"] != product {
            continue;
        }
        if event["type"] == "snapshot" {
            snapshot = true;
            book[0].clear();
            book[1].clear();
        }
        for u in event["updates"].as_array().expect("updates") {
            let side = usize::from(u["side"] == "offer");
            let (price, qty) = (dec(&u["price_level"]), dec(&u["new_quantity"]));
            if qty.is_zero() {
                book[side].remove(&price);
            } else {
                book[side].insert(price, qty);
            }
        }
    }
    snapshot
}

fn assert_same(book: &OrderBook, reference: &RefBook, when: &str) {
    let bids: Vec<_> = book.levels(Side::Bid).collect();
    let asks: Vec<_> = book.levels(Side::Ask).collect();
    let ref_bids: Vec<_> = reference[0].iter().rev().map(|(p, q)| (*p, *q)).collect();
    let ref_asks: Vec<_> = reference[1].iter().map(|(p, q)| (*p, *q)).collect();
    assert_eq!(bids.len(), ref_bids.len(), "{when}: bid count");
    assert_eq!(asks.len(), ref_asks.len(), "{when}: ask count");
    assert!(bids == ref_bids, "{when}: bids differ from the reference");
    assert!(asks == ref_asks, "{when}: asks differ from the reference");
}

#[test]
fn coinbase_capture_replays_cleanly() {
    let Some(text) = fixture_text() else {
        eprintln!("note: skipping, shared/{FIXTURE} not found");
        return;
    };
    let venue = venue();
    let frames = received(&text);
    let mut adapter = CoinbaseAdvanced::new(&venue, Limits::default());
    let mut book = OrderBook::new();
    let mut reference: RefBook = Default::default();
    let mut conn: Option<&str> = None;
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut errors = Vec::new();
    let mut snapshot_frame: Option<&str> = None;
    let mut checked_frames = 0;

    for (c, frame) in &frames {
        if conn != Some(c.as_str()) {
            adapter.reset();
            conn = Some(c.as_str());
        }
        match adapter.on_frame(frame, &mut book) {
            Ok(outcome) => {
                let key = match &outcome {
                    FrameOutcome::ServerError(t) => format!("ServerError({t})"),
                    other => format!("{other:?}"),
                };
                *counts.entry(key).or_default() += 1;
                let value: Value = serde_json::from_str(frame).expect("capture frame is JSON");
                let was_snapshot = reference_apply(&value, &venue.symbol, &mut reference);
                if was_snapshot {
                    assert_eq!(outcome, FrameOutcome::Snapshot);
                    snapshot_frame = Some(frame);
                    assert_same(&book, &reference, "after the snapshot");
                    println!(
                        "coinbase {}: snapshot frame {} bytes -> {} bids, {} asks",
                        venue.symbol,
                        frame.len(),
                        book.depth(Side::Bid),
                        book.depth(Side::Ask)
                    );
                }
            }
            Err(e) => errors.push(e),
        }
        if snapshot_frame.is_some() {
            assert!(!book.is_crossed(), "book crossed after {frame:.200}");
            checked_frames += 1;
        }
    }

    println!("coinbase: {} frames, outcomes {counts:?}", frames.len());
    assert!(errors.is_empty(), "errors: {errors:?}");
    assert_eq!(frames.len(), 1030, "frames in the capture");
    assert_eq!(counts.get("Snapshot"), Some(&1), "one BTC-USD snapshot");
    assert!(counts.get("Update").copied().unwrap_or(0) > 100);
    assert!(counts.get("Heartbeat").copied().unwrap_or(0) > 10);
    assert!(counts.get("Ack").copied().unwrap_or(0) > 0);
    assert_same(&book, &reference, "at the end");
    println!(
        "coinbase {}: final book {} bids, {} asks, best bid {:?}, best ask {:?}; \
         never crossed over {checked_frames} frames",
        venue.symbol,
        book.depth(Side::Bid),
        book.depth(Side::Ask),
        book.best(Side::Bid),
        book.best(Side::Ask)
    );

    // Timing of the big snapshot frame alone (decode + fill an empty book), a few runs.
    let snapshot = snapshot_frame.expect("snapshot seen");
    let mut times: Vec<Duration> = (0..5)
        .map(|_| {
            let mut a = CoinbaseAdvanced::new(&venue, Limits::default());
            let mut b = OrderBook::new();
            let start = Instant::now();
            let outcome = a.on_frame(snapshot, &mut b);
            let took = start.elapsed();
            assert_eq!(outcome, Ok(FrameOutcome::Snapshot));
            took
        })
        .collect();
    times.sort();
    println!(
        "coinbase snapshot frame ({} bytes): min {:?}, median {:?} per on_frame ({} build)",
        snapshot.len(),
        times[0],
        times[2],
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
}

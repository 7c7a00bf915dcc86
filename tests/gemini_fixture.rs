//! Replays the real Gemini v2 `l2` capture (shared/fixtures, read at run time, never copied) through
//! the `gemini-v2` adapter built from the shipped config.
//!
//! Checks: every frame decodes without error, the BTCUSD book is never crossed, and after every
//! BTCUSD message the book equals a naive reference rebuild from `serde_json::Value` (first message per
//! connection or any message with `trades` replaces the book). Prints level counts. Skips with a note
//! when the fixture is absent.

use std::collections::BTreeMap;
use std::path::PathBuf;

use cra_tui::config::{Config, VenueConfig};
use cra_tui::feed::{Adapter, FrameOutcome, Limits, gemini::GeminiV2};
use cra_tui::market::{Decimal, OrderBook, Side};
use serde::Deserialize;
use serde_json::Value;

const FIXTURE: &str = "fixtures/gemini/gemini_v2_l2_20260809_cryptofeed.jsonl";

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
        .find(|v| v.adapter == "gemini-v2")
        .expect("gemini venue in the default config")
}

type RefBook = [BTreeMap<Decimal, Decimal>; 2];

fn dec(v: &Value) -> Decimal {
    v.as_str().expect("string number").parse().expect("decimal")
}

#[test]
fn gemini_capture_replays_cleanly() {
    let Some(text) = fixture_text() else {
        eprintln!("note: skipping, shared/{FIXTURE} not found");
        return;
    };
    let venue = venue();
    let frames = received(&text);
    let mut adapter = GeminiV2::new(&venue, Limits::default());
    let mut book = OrderBook::new();
    let mut reference: RefBook = Default::default();
    let mut conn: Option<&str> = None;
    let mut fresh_connection = true;
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut errors = Vec::new();
    let mut ours = 0;

    for (c, frame) in &frames {
        if conn != Some(c.as_str()) {
            adapter.reset();
            conn = Some(c.as_str());
            fresh_connection = true;
        }
        let outcome = match adapter.on_frame(frame, &mut book) {
            Ok(o) => o,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        *counts.entry(format!("{outcome:?}")).or_default() += 1;

        let value: Value = serde_json::from_str(frame).expect("capture frame is JSON");
        if value["type"] != "l2_updates" || value["symbol"] != venue.symbol.as_str() {
            continue;
        }
        ours += 1;
        let replaces = fresh_connection || value.get("trades").is_some();
        fresh_connection = false;
        assert_eq!(
            outcome,
            if replaces {
                FrameOutcome::Snapshot
            } else {
                FrameOutcome::Update
            }
        );
        if replaces {
            reference[0].clear();
            reference[1].clear();
        }
        for change in value["changes"].as_array().expect("changes") {
            let side = usize::from(change[0] == "sell");
            let (price, qty) = (dec(&change[1]), dec(&change[2]));
            if qty.is_zero() {
                reference[side].remove(&price);
            } else {
                reference[side].insert(price, qty);
            }
        }
        let bids: Vec<_> = book.levels(Side::Bid).collect();
        let asks: Vec<_> = book.levels(Side::Ask).collect();
        let ref_bids: Vec<_> = reference[0].iter().rev().map(|(p, q)| (*p, *q)).collect();
        let ref_asks: Vec<_> = reference[1].iter().map(|(p, q)| (*p, *q)).collect();
        assert!(bids == ref_bids, "bids differ from the reference");
        assert!(asks == ref_asks, "asks differ from the reference");
        assert!(!book.is_crossed(), "book crossed after {frame:.200}");
        if replaces {
            println!(
                "gemini {}: snapshot {} bytes -> {} bids, {} asks",
                venue.symbol,
                frame.len(),
                book.depth(Side::Bid),
                book.depth(Side::Ask)
            );
        }
    }

    println!("gemini: {} frames, outcomes {counts:?}", frames.len());
    assert!(errors.is_empty(), "errors: {errors:?}");
    assert_eq!(counts.get("Snapshot"), Some(&1), "one BTCUSD snapshot");
    assert!(ours > 10, "BTCUSD messages: {ours}");
    assert!(counts.get("Heartbeat").copied().unwrap_or(0) > 0);
    assert!(!book.side(Side::Bid).is_empty() && !book.side(Side::Ask).is_empty());
    println!(
        "gemini {}: {ours} messages for us; final book {} bids, {} asks, best bid {:?}, best ask {:?}",
        venue.symbol,
        book.depth(Side::Bid),
        book.depth(Side::Ask),
        book.best(Side::Bid),
        book.best(Side::Ask)
    );
}

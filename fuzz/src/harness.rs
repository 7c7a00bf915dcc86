//! Shared fuzz harness: the functions each fuzz target calls, also compiled into the main crate's
//! `tests/fuzz_corpus.rs` (which replays `fuzz/corpus/<target>/*` on stable, in CI).
//!
//! Input layout for the venue targets: byte 0 is a flag byte (bit 0: first feed the adapter a valid
//! acknowledgement + snapshot written by the simulator's encoder, so the fuzz frames hit a held book);
//! the rest is split on `\n` into at most [`MAX_FRAMES`] frames fed in order (invalid UTF-8 is decoded
//! lossily, as the feed task does for binary frames). Invariants checked after every frame:
//! - no panic (the fuzzer's own check);
//! - `Err(FrameError::Malformed)` leaves the book exactly as it was;
//! - a usable book never holds more than the configured levels per side.
//!
//! Integrity failures and crossed books are handled as the engine does (drop the book, invalidate).

use std::io::Cursor;
use std::sync::OnceLock;

use cra_tui::config::{Config, VenueConfig};
use cra_tui::feed::capture::parse_line;
use cra_tui::feed::{FrameError, FrameOutcome, Limits, build_adapter};
use cra_tui::market::{Action, Decimal, OrderBook, Side};
use cra_tui::replay::{Speed, replay_headless};
use cra_tui::sim::SimMarket;
use cra_tui::sim::coinbase::CoinbaseEncoder;
use cra_tui::sim::gemini::GeminiEncoder;
use cra_tui::sim::kraken::{KrakenEncoder, subscribe_ack};
use cra_tui::state::engine::{Engine, Ticket};
use cra_tui::state::view::Source;

/// Most frames taken from one input.
pub const MAX_FRAMES: usize = 64;
/// Levels per side the fuzzed adapters accept (small, so the bound is actually reached).
pub const MAX_LEVELS: usize = 120;
/// Kraken depth the priming acknowledgement grants.
const KRAKEN_DEPTH: usize = 25;

/// A venue adapter under fuzz.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Venue {
    /// `kraken-v2`.
    Kraken,
    /// `coinbase-advanced`.
    Coinbase,
    /// `gemini-v2`.
    Gemini,
}

impl Venue {
    /// The default config's venue name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Venue::Kraken => "kraken",
            Venue::Coinbase => "coinbase",
            Venue::Gemini => "gemini",
        }
    }
}

struct Fixture {
    config: Config,
    /// Priming frames per venue: what a real session starts with.
    priming: [Vec<String>; 3],
    /// Update frames that follow the priming snapshot (seeds for the corpus).
    updates: [Vec<String>; 3],
}

fn venue_cfg(config: &Config, v: Venue) -> VenueConfig {
    config
        .venues
        .iter()
        .find(|c| c.name == v.name())
        .cloned()
        .unwrap_or_else(|| panic!("default config lacks {}", v.name()))
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let config = Config::default_config().expect("default config");
        let t = "2026-08-09T21:05:48.170326Z";
        let ns = 1_786_309_548_170_326_000;
        let cent = Decimal::new(1, 2);
        // Kraken.
        let k = venue_cfg(&config, Venue::Kraken);
        let mut km = SimMarket::new(1, Decimal::new(1, 1), 60);
        let mut ke = KrakenEncoder::new(
            &k.symbol,
            KRAKEN_DEPTH,
            k.price_precision.unwrap_or(1),
            k.qty_precision.unwrap_or(8),
        );
        let kp = vec![
            subscribe_ack(&k.symbol, KRAKEN_DEPTH, true, None, t, t),
            ke.snapshot(km.book(), t),
        ];
        let ku = (0..40).filter_map(|_| ke.update(&km.step(), t)).collect();
        // Coinbase.
        let c = venue_cfg(&config, Venue::Coinbase);
        let mut cm = SimMarket::new(2, cent, 60);
        let mut ce = CoinbaseEncoder::new(&c.symbol);
        let cp = vec![ce.snapshot(cm.book(), ns)];
        let cu = (0..40).filter_map(|_| ce.update(&cm.step(), ns)).collect();
        // Gemini.
        let g = venue_cfg(&config, Venue::Gemini);
        let mut gm = SimMarket::new(3, cent, 60);
        let ge = GeminiEncoder::new(&g.symbol);
        let gp = vec![ge.snapshot(gm.book())];
        let gu = (0..40).filter_map(|_| ge.update(&gm.step())).collect();
        Fixture {
            config,
            priming: [kp, cp, gp],
            updates: [ku, cu, gu],
        }
    })
}

fn idx(v: Venue) -> usize {
    match v {
        Venue::Kraken => 0,
        Venue::Coinbase => 1,
        Venue::Gemini => 2,
    }
}

/// Feeds `data` (flag byte, then `\n`-separated frames) to a fresh adapter of `venue`, checking the
/// invariants above. Panics (the fuzzer's finding) when one is broken.
pub fn venue_frames(venue: Venue, data: &[u8]) {
    let f = fixture();
    let cfg = venue_cfg(&f.config, venue);
    let limits = Limits {
        max_levels_per_side: MAX_LEVELS,
    };
    let Ok(mut adapter) = build_adapter(&cfg, limits) else {
        panic!("no adapter for {}", cfg.adapter);
    };
    let mut book = OrderBook::new();
    let (flags, rest) = data.split_first().map_or((0, &[][..]), |(f, r)| (*f, r));
    if flags & 1 == 1 {
        for frame in &f.priming[idx(venue)] {
            let r = adapter.on_frame(frame, &mut book);
            assert!(
                matches!(
                    r,
                    Ok(FrameOutcome::Ack | FrameOutcome::Snapshot | FrameOutcome::Ignored)
                ),
                "priming frame refused: {r:?}"
            );
        }
        assert!(book.depth(Side::Bid) > 0, "priming gave no book");
    }
    for raw in rest.split(|b| *b == b'\n').take(MAX_FRAMES) {
        let text = String::from_utf8_lossy(raw);
        let before = book.clone();
        match adapter.on_frame(&text, &mut book) {
            Err(FrameError::Malformed(_)) => {
                assert_eq!(book, before, "a malformed frame changed the book");
            }
            Err(_) => {
                book.clear();
                adapter.invalidate();
            }
            Ok(FrameOutcome::Snapshot | FrameOutcome::Update) => {
                for side in [Side::Bid, Side::Ask] {
                    assert!(
                        book.depth(side) <= MAX_LEVELS,
                        "{side:?} holds {} levels",
                        book.depth(side)
                    );
                }
                if book.is_crossed() {
                    book.clear();
                    adapter.invalidate();
                }
            }
            Ok(_) => {}
        }
    }
}

/// Parses every line of `data` as a capture line, then replays the whole input through an engine (the
/// `--replay --headless` path). Neither may panic.
pub fn capture(data: &[u8]) {
    for line in data.split(|b| *b == b'\n').take(256) {
        if let Ok(s) = std::str::from_utf8(line) {
            let _ = parse_line(s);
        }
    }
    let f = fixture();
    let ticket = Ticket {
        action: Action::Sell,
        quantity: Decimal::ONE,
        step: Decimal::ONE,
    };
    let Ok(mut engine) = Engine::new(&f.config, ticket, Source::Replay) else {
        panic!("engine");
    };
    let mut out = Vec::new();
    let _ = replay_headless(&mut engine, Cursor::new(data), 1, Speed::Max, &mut out);
}

/// Seed inputs (name, bytes) for each target's corpus, written from the simulator's encoders: valid
/// sessions, and the garbage shapes the reliability tests use.
#[must_use]
pub fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let f = fixture();
    let join = |flag: u8, frames: &[String]| {
        let mut v = vec![flag];
        v.extend_from_slice(frames.join("\n").as_bytes());
        v
    };
    let garbage: Vec<String> = [
        "not json",
        "{\"channel\":",
        "[]",
        "{}",
        "null",
        "123456789012345678901234567890123456789",
        "1e400",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let mut out = Vec::new();
    let venue = match target {
        "kraken" => Some(Venue::Kraken),
        "coinbase" => Some(Venue::Coinbase),
        "gemini" => Some(Venue::Gemini),
        _ => None,
    };
    if let Some(v) = venue {
        let i = idx(v);
        let mut session = f.priming[i].clone();
        session.extend(f.updates[i].iter().take(8).cloned());
        out.push(("session".to_owned(), join(0, &session)));
        out.push((
            "updates".to_owned(),
            join(1, &f.updates[i][..8.min(f.updates[i].len())]),
        ));
        out.push(("garbage".to_owned(), join(1, &garbage)));
        // A valid update with its numbers swapped for hostile ones.
        if let Some(u) = f.updates[i].first() {
            let hostile: Vec<String> = ["NaN", "-1", "1e400", "0.0000000000000000000000000001"]
                .iter()
                .map(|bad| match v {
                    Venue::Kraken => u.replacen("\"qty\":", &format!("\"qty\":{bad},\"x\":"), 1),
                    _ => u.replacen("\"1", &format!("\"{bad}"), 1),
                })
                .collect();
            out.push(("hostile-numbers".to_owned(), join(1, &hostile)));
        }
    } else {
        let mut cap =
            String::from("{\"format\":\"cra-tui-capture\",\"version\":1,\"symbol\":\"BTC-USD\"}\n");
        let mut ts = 1_786_309_548_000_000_000_i64;
        for (vi, name) in ["kraken", "coinbase", "gemini"].iter().enumerate() {
            for frame in f.priming[vi].iter().chain(f.updates[vi].iter().take(4)) {
                ts += 1_000_000;
                let line = serde_json_line(ts, name, frame);
                cap.push_str(&line);
                cap.push('\n');
            }
        }
        out.push(("capture".to_owned(), cap.into_bytes()));
        out.push((
            "bad-lines".to_owned(),
            b"{\"ts_ns\":1,\"venue\":\"kraken\"}\n{\"ts_ns\":-9223372036854775808,\"venue\":\"x\",\"frame\":\"\"}\nnot json\n\xff\xfe\n".to_vec(),
        ));
    }
    out
}

/// One capture line (`frame` escaped as a JSON string by hand: the harness has no serde_json).
fn serde_json_line(ts: i64, venue: &str, frame: &str) -> String {
    let mut esc = String::with_capacity(frame.len() + 8);
    for ch in frame.chars() {
        match ch {
            '"' => esc.push_str("\\\""),
            '\\' => esc.push_str("\\\\"),
            '\n' => esc.push_str("\\n"),
            c if (c as u32) < 0x20 => esc.push_str(&format!("\\u{:04x}", c as u32)),
            c => esc.push(c),
        }
    }
    format!("{{\"ts_ns\":{ts},\"venue\":\"{venue}\",\"dir\":\"in\",\"frame\":\"{esc}\"}}")
}

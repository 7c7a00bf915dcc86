//! Hand-built, realistic Views for the UI tests and the render benchmark.
//!
//! Books are generated deterministically with exact decimals (BTC-USD-like prices and sizes), then
//! walked with the library's own `walk` / `walk_merged`, so every View is internally consistent
//! (fills, VWAP, split, depth). Nothing here comes from recorded exchange traffic.
#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::str::FromStr;

use cra_tui::market::{Action, Depletion, OrderBook, Side, WalkResult, walk, walk_merged};
use cra_tui::state::view::{Counters, DepthPoint, MergedView, Source, Status, VenueView, View};
use rust_decimal::Decimal;

/// A decimal literal.
pub fn d(s: &str) -> Decimal {
    Decimal::from_str(s).expect("decimal literal")
}

/// Gaps between consecutive levels (price units), cycled.
const GAPS: [&str; 7] = ["0.3", "0.2", "0.5", "0.1", "0.4", "0.2", "0.3"];
/// Level sizes (BTC), cycled.
const SIZES: [&str; 10] = [
    "0.00369474",
    "0.46",
    "1.2",
    "0.85",
    "2.1",
    "0.0512",
    "0.75",
    "3.3",
    "0.2",
    "1.05",
];

/// One venue of a fixture.
#[derive(Debug, Clone)]
pub struct VenueSpec {
    pub name: &'static str,
    pub status: Status,
    pub included: bool,
    /// Best bid; asks start at best bid + spread.
    pub best_bid: &'static str,
    pub spread: &'static str,
    /// Multiplier of the gaps (0.01-tick venues get finer prices).
    pub gap_scale: &'static str,
    /// Levels per side.
    pub levels: usize,
    /// Offset into SIZES so venues differ.
    pub size_offset: usize,
    pub detail: Option<&'static str>,
    pub age_ms: Option<u64>,
    pub rate: f64,
    pub counters: Counters,
}

impl VenueSpec {
    pub fn kraken() -> VenueSpec {
        VenueSpec {
            name: "kraken",
            status: Status::Live,
            included: true,
            best_bid: "46547.1",
            spread: "0.1",
            gap_scale: "1",
            levels: 40,
            size_offset: 0,
            detail: None,
            age_ms: Some(210),
            rate: 18.4,
            counters: Counters {
                messages: 5120,
                ..Counters::default()
            },
        }
    }

    pub fn coinbase() -> VenueSpec {
        VenueSpec {
            name: "coinbase",
            status: Status::Live,
            included: true,
            best_bid: "46547.02",
            spread: "0.03",
            gap_scale: "0.9",
            levels: 50,
            size_offset: 3,
            detail: None,
            age_ms: Some(95),
            rate: 61.0,
            counters: Counters {
                messages: 20431,
                reconnects: 1,
                ..Counters::default()
            },
        }
    }

    pub fn gemini() -> VenueSpec {
        VenueSpec {
            name: "gemini",
            status: Status::Live,
            included: true,
            best_bid: "46546.6",
            spread: "0.4",
            gap_scale: "1.1",
            levels: 30,
            size_offset: 6,
            detail: None,
            age_ms: Some(1450),
            rate: 4.2,
            counters: Counters {
                messages: 902,
                ..Counters::default()
            },
        }
    }

    fn book(&self) -> OrderBook {
        let mut book = OrderBook::new();
        let scale = d(self.gap_scale);
        let mut bid = d(self.best_bid);
        let mut ask = bid + d(self.spread);
        for i in 0..self.levels {
            let q = d(SIZES[(i + self.size_offset) % SIZES.len()]);
            book.apply(Side::Bid, bid, q);
            book.apply(Side::Ask, ask, q);
            let gap = (d(GAPS[i % GAPS.len()]) * scale).round_dp(2);
            bid -= gap;
            ask += gap;
        }
        book
    }
}

/// Cumulative depth from best-first `(price, qty)` levels, up to `extra` levels past `quantity`.
fn depth(
    levels: impl IntoIterator<Item = (Decimal, Decimal)>,
    quantity: Decimal,
) -> Vec<DepthPoint> {
    const EXTRA_LEVELS: usize = 6;
    let mut out = Vec::new();
    let mut cum = Decimal::ZERO;
    let mut past = 0;
    for (price, qty) in levels {
        cum += qty;
        out.push(DepthPoint {
            price,
            cum_qty: cum,
        });
        if cum >= quantity {
            past += 1;
            if past > EXTRA_LEVELS {
                break;
            }
        }
    }
    out
}

fn has_book(status: Status) -> bool {
    matches!(status, Status::Live | Status::Stale)
}

/// Builds a View: books from the specs, walks, merged walk over live & included venues, depth,
/// and the comparison with the best single venue.
pub fn build(
    action: Action,
    quantity: &str,
    step: &str,
    source: Source,
    specs: &[VenueSpec],
) -> View {
    let quantity = d(quantity);
    let side = action.walked_side();
    let books: Vec<OrderBook> = specs.iter().map(VenueSpec::book).collect();
    let mut venues = Vec::new();
    for (spec, book) in specs.iter().zip(&books) {
        let usable = has_book(spec.status);
        let merged = spec.status == Status::Live && spec.included;
        let walk_result = if usable {
            walk(book.levels(side), quantity)
        } else {
            WalkResult::default()
        };
        venues.push(VenueView {
            name: spec.name.to_owned(),
            quote: "USD".to_owned(),
            status: spec.status,
            detail: spec.detail.map(str::to_owned),
            included: spec.included,
            merged,
            counters: spec.counters,
            last_frame_age_ms: spec.age_ms,
            msgs_per_sec: spec.rate,
            best_bid: usable.then(|| book.best(Side::Bid)).flatten().map(|l| l.0),
            best_ask: usable.then(|| book.best(Side::Ask)).flatten().map(|l| l.0),
            book_levels: if usable {
                (spec.levels, spec.levels)
            } else {
                (0, 0)
            },
            walk: walk_result,
            depth: if usable {
                depth(book.levels(side), quantity)
            } else {
                Vec::new()
            },
            taker_fee_bps: d("40"),
            latency_us: usable.then_some((180, 950)),
        });
    }
    let merged_books: Vec<Option<&OrderBook>> = venues
        .iter()
        .zip(&books)
        .map(|(v, b)| v.merged.then_some(b))
        .collect();
    let m = walk_merged(&merged_books, side, quantity);
    let everything: Decimal = books
        .iter()
        .flat_map(|b| b.levels(side).map(|(_, q)| q))
        .sum();
    let all = walk_merged(&merged_books, side, everything);
    let merged_depth = depth(all.fills.iter().map(|f| (f.price, f.qty)), quantity);
    let vs_best_single = venues
        .iter()
        .filter(|v| v.merged && !v.walk.is_partial() && !v.walk.fills.is_empty())
        .map(|v| {
            let diff = match side {
                Side::Bid => m.notional - v.walk.notional,
                Side::Ask => v.walk.notional - m.notional,
            };
            (v.name.clone(), diff)
        })
        .min_by_key(|(_, diff)| *diff)
        .filter(|_| m.unfilled.is_zero());
    let merged = MergedView {
        venues: venues
            .iter()
            .filter(|v| v.merged)
            .map(|v| v.name.clone())
            .collect(),
        excluded: venues
            .iter()
            .filter(|v| !v.merged)
            .map(|v| v.name.clone())
            .collect(),
        walk: m,
        depth: merged_depth,
        vs_best_single,
    };
    let msgs_per_sec = venues.iter().map(|v| v.msgs_per_sec).sum();
    View {
        ts_ns: 1_764_158_400_000_000_000,
        symbol: "BTC-USD".to_owned(),
        action,
        quantity,
        step: d(step),
        source,
        venues,
        merged,
        msgs_per_sec,
        seq: 0,
        first_received: None,
    }
}

/// The three default venues, all live.
pub fn three() -> Vec<VenueSpec> {
    vec![
        VenueSpec::kraken(),
        VenueSpec::coinbase(),
        VenueSpec::gemini(),
    ]
}

/// All live, `action` `quantity` BTC.
pub fn live(action: Action, quantity: &str) -> View {
    build(action, quantity, "1", Source::Live, &three())
}

/// Gemini stale (not merged), with a checksum failure on kraken.
pub fn stale_gemini() -> View {
    let mut specs = three();
    specs[0].counters.checksum_failures = 2;
    specs[0].counters.resyncs = 2;
    specs[2].status = Status::Stale;
    specs[2].age_ms = Some(7_000);
    specs[2].rate = 0.0;
    specs[2].detail = Some("no frame for 7.0s");
    build(Action::Sell, "15", "1", Source::Live, &specs)
}

/// Gemini's visible book is too thin for the order: a partial fill with an unfilled rest.
pub fn thin_gemini() -> View {
    let mut specs = three();
    specs[2].levels = 8;
    build(Action::Sell, "15", "1", Source::Demo, &specs)
}

/// Coinbase live but excluded by the user.
pub fn coinbase_excluded() -> View {
    let mut specs = three();
    specs[1].included = false;
    build(Action::Buy, "2.5", "0.1", Source::Replay, &specs)
}

/// Nothing live yet: connecting, syncing, down.
pub fn connecting() -> View {
    let mut specs = three();
    specs[0].status = Status::Connecting;
    specs[0].detail = Some("retry in 3s (connection refused)");
    specs[0].age_ms = None;
    specs[0].counters.reconnects = 2;
    specs[0].rate = 0.0;
    specs[2].rate = 0.0;
    specs[1].status = Status::Syncing;
    specs[1].age_ms = Some(300);
    specs[2].status = Status::Down;
    specs[2].detail = Some("HTTP 403 Forbidden");
    specs[2].age_ms = None;
    build(Action::Sell, "15", "1", Source::Live, &specs)
}

/// A tiny exact View: one venue with bids 100 × 1 and 99 × 2, selling 2 (VWAP 99.5, slippage 50 bps).
pub fn tiny() -> View {
    let mut book = OrderBook::new();
    book.apply(Side::Bid, d("100"), d("1"));
    book.apply(Side::Bid, d("99"), d("2"));
    book.apply(Side::Ask, d("101"), d("1"));
    let w = walk(book.levels(Side::Bid), d("2"));
    let m = walk_merged(&[Some(&book)], Side::Bid, d("2"));
    View {
        ts_ns: 0,
        symbol: "BTC-USD".to_owned(),
        action: Action::Sell,
        quantity: d("2"),
        step: d("1"),
        source: Source::Demo,
        venues: vec![VenueView {
            name: "solo".to_owned(),
            quote: "USD".to_owned(),
            status: Status::Live,
            detail: None,
            included: true,
            merged: true,
            counters: Counters::default(),
            last_frame_age_ms: Some(100),
            msgs_per_sec: 1.0,
            best_bid: Some(d("100")),
            best_ask: Some(d("101")),
            book_levels: (2, 1),
            walk: w,
            depth: vec![
                DepthPoint {
                    price: d("100"),
                    cum_qty: d("1"),
                },
                DepthPoint {
                    price: d("99"),
                    cum_qty: d("3"),
                },
            ],
            taker_fee_bps: d("40"),
            latency_us: None,
        }],
        merged: MergedView {
            venues: vec!["solo".to_owned()],
            excluded: vec![],
            walk: m,
            depth: vec![],
            vs_best_single: None,
        },
        msgs_per_sec: 1.0,
        seq: 0,
        first_received: None,
    }
}

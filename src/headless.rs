//! The headless writer: one NDJSON object per emission on stdout (design.md §2, "Headless output").
//!
//! A pure function of the [`View`]: quantities and prices are exact decimal strings, `vwap` keeps at
//! least 8 decimals, `vwap`/`worst` are `null` when nothing filled.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::market::{Depletion, WalkResult};
use crate::state::view::View;

#[derive(Serialize)]
struct Line<'a> {
    ts_ns: i64,
    symbol: &'a str,
    action: &'static str,
    side: &'static str,
    quantity: String,
    venues: Vec<VenueLine<'a>>,
    merged: MergedLine<'a>,
}

/// The figures every walk has, in output order (flattened into the venue and merged objects).
#[derive(Serialize)]
struct Figures {
    best: Option<String>,
    levels: usize,
    filled: String,
    unfilled: String,
    notional: String,
    vwap: Option<String>,
    worst: Option<String>,
    slippage_bps: Option<String>,
}

impl Figures {
    fn of(w: &impl Depletion) -> Self {
        Figures {
            best: w.best().map(|b| b.to_string()),
            levels: w.levels(),
            filled: w.filled().to_string(),
            unfilled: w.unfilled().to_string(),
            notional: w.notional().to_string(),
            vwap: w.vwap().map(fmt_vwap),
            worst: w.worst().map(|p| p.to_string()),
            slippage_bps: w.slippage_bps().map(fmt_bps),
        }
    }
}

#[derive(Serialize)]
struct VenueLine<'a> {
    venue: &'a str,
    status: &'static str,
    #[serde(flatten)]
    figures: Figures,
    fills: Vec<[String; 2]>,
    messages: u64,
    bad_frames: u64,
    checksum_failures: u64,
    sequence_gaps: u64,
    crossed_books: u64,
    resyncs: u64,
    reconnects: u64,
}

#[derive(Serialize)]
struct MergedLine<'a> {
    venues: &'a [String],
    excluded: &'a [String],
    #[serde(flatten)]
    figures: Figures,
    fills: Vec<[String; 3]>,
    by_venue: BTreeMap<&'a str, Split>,
    vs_best_single: Option<VsBest<'a>>,
}

#[derive(Serialize)]
struct Split {
    filled: String,
    notional: String,
}

#[derive(Serialize)]
struct VsBest<'a> {
    venue: &'a str,
    saving: String,
}

/// VWAP as a string with at least 8 and at most 12 decimals.
#[must_use]
pub fn fmt_vwap(v: Decimal) -> String {
    let mut v = v.round_dp(12);
    if v.scale() < 8 {
        v.rescale(8);
    }
    v.to_string()
}

/// Slippage in bps, 4 decimals.
#[must_use]
pub fn fmt_bps(v: Decimal) -> String {
    let mut v = v.round_dp(4);
    v.rescale(4);
    v.to_string()
}

fn venue_line<'a>(
    name: &'a str,
    status: &'static str,
    w: &WalkResult,
    c: &crate::state::view::Counters,
) -> VenueLine<'a> {
    VenueLine {
        venue: name,
        status,
        figures: Figures::of(w),
        fills: w
            .fills
            .iter()
            .map(|f| [f.price.to_string(), f.qty.to_string()])
            .collect(),
        messages: c.messages,
        bad_frames: c.bad_frames,
        checksum_failures: c.checksum_failures,
        sequence_gaps: c.sequence_gaps,
        crossed_books: c.crossed_books,
        resyncs: c.resyncs,
        reconnects: c.reconnects,
    }
}

/// The NDJSON line (without the newline) for `view`.
#[must_use]
pub fn line(view: &View) -> String {
    let name = |i: usize| view.venues.get(i).map_or("?", |v| v.name.as_str());
    let m = &view.merged;
    let w = &m.walk;
    let out = Line {
        ts_ns: view.ts_ns,
        symbol: &view.symbol,
        action: view.action.as_str(),
        side: view.side().as_str(),
        quantity: view.quantity.to_string(),
        venues: view
            .venues
            .iter()
            .map(|v| venue_line(&v.name, v.status.as_str(), &v.walk, &v.counters))
            .collect(),
        merged: MergedLine {
            venues: &m.venues,
            excluded: &m.excluded,
            figures: Figures::of(w),
            fills: w
                .fills
                .iter()
                .map(|f| {
                    [
                        f.price.to_string(),
                        f.qty.to_string(),
                        name(f.venue).to_owned(),
                    ]
                })
                .collect(),
            by_venue: w
                .by_venue
                .iter()
                .enumerate()
                .filter(|(i, _)| view.venues.get(*i).is_some_and(|v| v.merged))
                .map(|(i, s)| {
                    (
                        name(i),
                        Split {
                            filled: s.filled.to_string(),
                            notional: s.notional.to_string(),
                        },
                    )
                })
                .collect(),
            vs_best_single: m.vs_best_single.as_ref().map(|(v, s)| VsBest {
                venue: v,
                saving: s.to_string(),
            }),
        },
    };
    serde_json::to_string(&out).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vwap_keeps_at_least_eight_decimals() {
        assert_eq!(fmt_vwap("46538.5".parse().unwrap()), "46538.50000000");
        assert_eq!(
            fmt_vwap("1.1234567891234567".parse().unwrap()),
            "1.123456789123"
        );
        assert_eq!(fmt_bps("2.3".parse().unwrap()), "2.3000");
    }
}

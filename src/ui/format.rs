//! Number formatting for the screen: straight from `Decimal`, never through `f64`.
//!
//! Prices are shown with one fixed number of decimals per screen (the finest tick among the venues'
//! best prices, at least 2, at most 8), so columns line up; quantities keep their exact digits.

use rust_decimal::{Decimal, RoundingStrategy};

use crate::state::view::View;

/// Largest number of decimals shown for a price.
const MAX_PRICE_DP: u32 = 8;
/// Smallest number of decimals shown for a price (VWAPs need a few).
const MIN_PRICE_DP: u32 = 2;

/// `d` rounded half away from zero to `dp` decimals and padded with zeros to exactly `dp` decimals.
#[must_use]
pub fn fixed(d: Decimal, dp: u32) -> String {
    let r = d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
    format!("{r:.prec$}", prec = dp as usize)
}

/// A quantity with its exact digits and no trailing zeros (`9.41`, `15`, `0.00369474`).
#[must_use]
pub fn qty(d: Decimal) -> String {
    d.normalize().to_string()
}

/// A quantity rounded to at most `dp` decimals, trailing zeros dropped (compact places).
#[must_use]
pub fn qty_short(d: Decimal, dp: u32) -> String {
    d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
        .to_string()
}

/// A quantity with its exact digits if that fits in `max_chars`, otherwise rounded to the most
/// decimals that fit (never fewer than 0: an integer part wider than the room is shown whole).
#[must_use]
pub fn qty_fit(d: Decimal, max_chars: usize) -> String {
    let exact = qty(d);
    if exact.chars().count() <= max_chars {
        return exact;
    }
    let scale = d.normalize().scale();
    (0..scale)
        .rev()
        .map(|dp| qty_short(d, dp))
        .find(|s| s.chars().count() <= max_chars)
        .unwrap_or_else(|| qty_short(d, 0))
}

/// Decimals used for every price on this screen.
#[must_use]
pub fn price_dp(view: &View) -> u32 {
    let scale = view
        .venues
        .iter()
        .flat_map(|v| [v.best_bid, v.best_ask])
        .flatten()
        .map(|p| p.normalize().scale())
        .max()
        .unwrap_or(0);
    scale.clamp(MIN_PRICE_DP, MAX_PRICE_DP)
}

/// A money amount in quote currency (2 decimals).
#[must_use]
pub fn money(d: Decimal) -> String {
    fixed(d, 2)
}

/// Basis points with 2 decimals.
#[must_use]
pub fn bps(d: Decimal) -> String {
    fixed(d, 2)
}

/// Age of the last frame: `0.2s`, `12s`, `3m`, `—` before the first frame.
#[must_use]
pub fn age(ms: Option<u64>) -> String {
    match ms {
        None => "—".to_owned(),
        Some(ms) if ms < 10_000 => format!("{}.{}s", ms / 1000, (ms % 1000) / 100),
        Some(ms) if ms < 120_000 => format!("{}s", ms / 1000),
        Some(ms) if ms < 7_200_000 => format!("{}m", ms / 60_000),
        Some(ms) => format!("{}h", ms / 3_600_000),
    }
}

/// A short duration given in microseconds: `180µs`, `1.2ms`, `35ms`, `2.5s`.
#[must_use]
pub fn micros(us: u64) -> String {
    match us {
        0..1_000 => format!("{us}µs"),
        1_000..10_000 => format!("{}.{}ms", us / 1_000, (us % 1_000) / 100),
        10_000..1_000_000 => format!("{}ms", us / 1_000),
        _ => format!("{}.{}s", us / 1_000_000, (us % 1_000_000) / 100_000),
    }
}

/// A display-only rate (`12/s`, `1.5/s`).
#[must_use]
pub fn rate(per_sec: f64) -> String {
    if !per_sec.is_finite() || per_sec <= 0.0 {
        "0/s".to_owned()
    } else if per_sec < 10.0 {
        format!("{per_sec:.1}/s")
    } else {
        format!("{per_sec:.0}/s")
    }
}

/// The base currency of a symbol (`BTC` of `BTC-USD`, `BTC/USD`).
#[must_use]
pub fn base_currency(symbol: &str) -> &str {
    symbol.split(['-', '/', '_']).next().unwrap_or(symbol)
}

/// Short unique labels for venue names: the shortest common prefix length (up to 3) that tells them
/// apart, first letter upper-case (`K`, `C`, `G`).
#[must_use]
pub fn short_names(names: &[&str]) -> Vec<String> {
    let prefix = |n: &str, len: usize| -> String {
        let mut s: String = n.chars().take(len).collect();
        if let Some(first) = s.get(..1) {
            let up = first.to_ascii_uppercase();
            s.replace_range(..1, &up);
        }
        s
    };
    let len = (1..=3)
        .find(|&len| {
            let mut all: Vec<String> = names.iter().map(|n| prefix(n, len)).collect();
            all.sort();
            all.dedup();
            all.len() == names.len()
        })
        .unwrap_or(3);
    names.iter().map(|n| prefix(n, len)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn fixed_rounds_half_away_and_pads() {
        assert_eq!(fixed(d("46547.1"), 2), "46547.10");
        assert_eq!(fixed(d("46538.665"), 2), "46538.67");
        assert_eq!(fixed(d("-1.005"), 2), "-1.01");
        assert_eq!(fixed(d("3"), 0), "3");
        assert_eq!(fixed(d("0.000000015"), 8), "0.00000002");
    }

    #[test]
    fn quantities_keep_exact_digits() {
        assert_eq!(qty(d("15.000")), "15");
        assert_eq!(qty(d("0.00369474")), "0.00369474");
        assert_eq!(qty_short(d("10.91234"), 4), "10.9123");
        assert_eq!(qty_short(d("4.10000"), 4), "4.1");
        assert_eq!(qty_fit(d("9.41369474"), 10), "9.41369474");
        assert_eq!(qty_fit(d("9.41369474"), 6), "9.4137");
        assert_eq!(qty_fit(d("123456.5"), 3), "123457");
    }

    #[test]
    fn short_durations() {
        assert_eq!(micros(0), "0µs");
        assert_eq!(micros(180), "180µs");
        assert_eq!(micros(999), "999µs");
        assert_eq!(micros(1_000), "1.0ms");
        assert_eq!(micros(1_250), "1.2ms");
        assert_eq!(micros(35_900), "35ms");
        assert_eq!(micros(2_500_000), "2.5s");
    }

    #[test]
    fn ages_and_rates() {
        assert_eq!(age(None), "—");
        assert_eq!(age(Some(250)), "0.2s");
        assert_eq!(age(Some(7_000)), "7.0s");
        assert_eq!(age(Some(12_345)), "12s");
        assert_eq!(age(Some(180_000)), "3m");
        assert_eq!(rate(412.4), "412/s");
        assert_eq!(rate(1.54), "1.5/s");
        assert_eq!(rate(f64::NAN), "0/s");
    }

    #[test]
    fn short_names_are_unique() {
        assert_eq!(
            short_names(&["kraken", "coinbase", "gemini"]),
            ["K", "C", "G"]
        );
        assert_eq!(short_names(&["kraken", "kucoin"]), ["Kr", "Ku"]);
        assert_eq!(base_currency("BTC-USD"), "BTC");
        assert_eq!(base_currency("ETH/EUR"), "ETH");
    }
}

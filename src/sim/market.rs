//! `SimMarket`: a seeded, evolving BTC-USD order book on a venue's tick.
//!
//! Internally prices are integer ticks and quantities integer lots of 10^-8 BTC, so every level is exact;
//! the changes it reports and the [`OrderBook`] it keeps are exact `Decimal`s (`tick × ticks`,
//! `lots × 10^-8`). Each [`SimMarket::step`] applies a few events (a burst of dozens now and then):
//! - size changes, inserts and deletions at a distance from the touch drawn from a geometric
//!   distribution (most activity near the top; a few anywhere in the book);
//! - inserts inside the spread and trades that eat the touch (partially or a few levels deep);
//! - a "fair value" random walk, slowly pulled back to the start mid, biases which side trades and
//!   which side improves, so the mid follows a random walk and different venues stay near each other;
//! - the far end of each side is trimmed or extended to keep about `levels_per_side` levels.
//!
//! The book is never crossed and no side ever drops below [`MIN_LEVELS`] levels.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::market::{Action, OrderBook, Side};

/// No side is ever thinned below this many levels by deletions or trades.
pub const MIN_LEVELS: usize = 25;

/// One level change: the new absolute quantity at `price` (`qty == 0` deletes the level).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// The book side.
    pub side: Side,
    /// The level's price (a multiple of the tick).
    pub price: Decimal,
    /// The new quantity; zero deletes.
    pub qty: Decimal,
}

/// A trade at the touch (the level changes it caused are in the same [`Step`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trade {
    /// Increasing per market, from 1.
    pub id: u64,
    /// The price of the eaten level.
    pub price: Decimal,
    /// The quantity traded at that price.
    pub qty: Decimal,
    /// The taker: `Buy` ate asks, `Sell` ate bids.
    pub taker: Action,
}

/// Everything one market step did, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Step {
    /// Level changes in the order they were applied (the same price may appear more than once).
    pub changes: Vec<Change>,
    /// Trades, in order.
    pub trades: Vec<Trade>,
}

/// How a [`SimMarket`] is shaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketParams {
    /// The price tick (positive; a non-positive tick is replaced by 0.01).
    pub tick: Decimal,
    /// Target levels per side (at least [`MIN_LEVELS`] × 2).
    pub levels_per_side: usize,
    /// The start mid (and the fair value's anchor).
    pub mid: Decimal,
    /// Quantities get between this many and 8 decimals (e.g. 2 → `0.25`, `0.02987767`).
    pub min_qty_decimals: u32,
    /// Chance per step of a burst of 15–60 events, in parts per million.
    pub burst_ppm: u32,
}

impl Default for MarketParams {
    fn default() -> Self {
        Self {
            tick: Decimal::new(1, 2),
            levels_per_side: 1000,
            mid: Decimal::new(65_000, 0),
            min_qty_decimals: 2,
            burst_ppm: 10_000,
        }
    }
}

/// A seeded evolving book. Same seed and parameters → same book and same steps.
#[derive(Debug, Clone)]
pub struct SimMarket {
    rng: StdRng,
    tick: Decimal,
    target: usize,
    min_dec: u32,
    burst_ppm: u32,
    /// Mean distance between levels, in ticks.
    gap: i64,
    anchor: i64,
    fair: i64,
    band: i64,
    bids: BTreeMap<i64, u64>,
    asks: BTreeMap<i64, u64>,
    book: OrderBook,
    steps: u64,
    next_trade_id: u64,
}

/// Lots (10^-8) per BTC.
const LOTS: u64 = 100_000_000;

impl SimMarket {
    /// A market around 65000 with `levels_per_side` levels on `tick`.
    #[must_use]
    pub fn new(seed: u64, tick: Decimal, levels_per_side: usize) -> Self {
        Self::with_params(
            seed,
            MarketParams {
                tick,
                levels_per_side,
                ..MarketParams::default()
            },
        )
    }

    /// A market shaped by `params`.
    #[must_use]
    pub fn with_params(seed: u64, params: MarketParams) -> Self {
        let tick = if params.tick > Decimal::ZERO {
            params.tick
        } else {
            Decimal::new(1, 2)
        };
        let target = params.levels_per_side.max(2 * MIN_LEVELS);
        let anchor = (params.mid / tick)
            .trunc()
            .to_i64()
            .unwrap_or(6_500_000)
            .max(10 * target as i64 + 1000);
        // 1000 levels span about 0.6 % of the price on each side.
        let gap = ((anchor * 6 / 1000) / target as i64).max(1);
        let band = (anchor / 500).max(gap * 20);
        let mut m = SimMarket {
            rng: StdRng::seed_from_u64(seed),
            tick,
            target,
            min_dec: params.min_qty_decimals.min(8),
            burst_ppm: params.burst_ppm.min(1_000_000),
            gap,
            anchor,
            fair: anchor,
            band,
            bids: BTreeMap::new(),
            asks: BTreeMap::new(),
            book: OrderBook::new(),
            steps: 0,
            next_trade_id: 1,
        };
        m.build();
        m
    }

    fn build(&mut self) {
        let spread = self.rng.random_range(1..=2);
        let mut bid = self.anchor - 1;
        let mut ask = bid + spread;
        let mut sink = Vec::new();
        for rank in 0..self.target {
            let q = self.draw_lots();
            self.set(Side::Bid, bid, q, &mut sink);
            let q = self.draw_lots();
            self.set(Side::Ask, ask, q, &mut sink);
            bid -= self.draw_gap(rank);
            ask += self.draw_gap(rank);
        }
    }

    /// The current book (exact).
    #[must_use]
    pub fn book(&self) -> &OrderBook {
        &self.book
    }

    /// The price tick.
    #[must_use]
    pub fn tick(&self) -> Decimal {
        self.tick
    }

    /// Steps taken so far.
    #[must_use]
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// `(best bid + best ask) / 2`.
    #[must_use]
    pub fn mid(&self) -> Option<Decimal> {
        let (b, _) = self.book.best(Side::Bid)?;
        let (a, _) = self.book.best(Side::Ask)?;
        Some((b + a) / Decimal::TWO)
    }

    /// Advances the market by one step and returns the level changes in order.
    pub fn step(&mut self) -> Vec<Change> {
        self.step_full().changes
    }

    /// Advances the market by one step: level changes and trades.
    pub fn step_full(&mut self) -> Step {
        let mut step = Step::default();
        self.steps += 1;
        self.walk_fair();
        let events = if self.rng.random_ratio(self.burst_ppm, 1_000_000) {
            self.rng.random_range(15..=60)
        } else {
            1 + self.geometric(0.5).min(4)
        };
        for _ in 0..events {
            self.event(&mut step);
        }
        self.keep_size(Side::Bid, &mut step.changes);
        self.keep_size(Side::Ask, &mut step.changes);
        step
    }

    fn walk_fair(&mut self) {
        if !self.rng.random_bool(0.35) {
            return;
        }
        let mag = self.rng.random_range(1..=self.gap);
        let off = self.fair - self.anchor;
        let toward = if off > 0 { -1 } else { 1 };
        let pull = (off.abs() as f64 / self.band as f64).min(1.0);
        let dir = if self.rng.random_bool(0.5 + 0.35 * pull) {
            toward
        } else {
            -toward
        };
        self.fair += dir * mag;
    }

    fn event(&mut self, step: &mut Step) {
        let (Some(bb), Some(ba)) = (self.best(Side::Bid), self.best(Side::Ask)) else {
            return;
        };
        let spread = ba - bb;
        let pressure = self.fair - (bb + ba) / 2;
        let push = (pressure as f64 / (4 * self.gap) as f64).clamp(-1.0, 1.0);
        let r: f64 = self.rng.random();
        let wide = (spread - 1) as f64 / ((spread - 1 + self.gap) as f64);
        let p_inside = 0.05 + 0.25 * wide + 0.1 * push.abs();
        if r < 0.07 {
            let taker = if self.rng.random_bool(0.5 + 0.4 * push) {
                Action::Buy
            } else {
                Action::Sell
            };
            self.trade(taker, step);
        } else if spread > 1 && r < 0.07 + p_inside {
            let side = if self.rng.random_bool(0.5 + 0.4 * push) {
                Side::Bid
            } else {
                Side::Ask
            };
            let room = (spread - 1).min(self.gap.max(1));
            let off = self.rng.random_range(1..=room);
            let price = match side {
                Side::Bid => bb + off,
                Side::Ask => ba - off,
            };
            let q = self.draw_lots();
            self.set(side, price, q, &mut step.changes);
        } else {
            self.rank_event(&mut step.changes);
        }
    }

    fn trade(&mut self, taker: Action, step: &mut Step) {
        let side = taker.walked_side();
        let mut levels = 0;
        while let Some((price, lots)) = self.nth(side, 0) {
            if self.len(side) <= MIN_LEVELS || levels >= 4 {
                return;
            }
            levels += 1;
            let partial = lots > 1 && self.rng.random_bool(0.55);
            let left = if partial {
                (lots * self.rng.random_range(10..=90) / 100).clamp(1, lots - 1)
            } else {
                0
            };
            self.set(side, price, left, &mut step.changes);
            step.trades.push(Trade {
                id: self.next_trade_id,
                price: self.price(price),
                qty: Self::qty(lots - left),
                taker,
            });
            self.next_trade_id += 1;
            if partial || !self.rng.random_bool(0.35) {
                return;
            }
        }
    }

    fn rank_event(&mut self, out: &mut Vec<Change>) {
        let side = if self.rng.random_bool(0.5) {
            Side::Bid
        } else {
            Side::Ask
        };
        let len = self.len(side);
        if len == 0 {
            return;
        }
        let rank = if self.rng.random_bool(0.06) {
            self.rng.random_range(0..len)
        } else {
            self.geometric(0.12).min(len - 1)
        };
        let Some((price, lots)) = self.nth(side, rank) else {
            return;
        };
        let fill = len as f64 / self.target as f64;
        let r: f64 = self.rng.random();
        if r < 0.24 * fill && len > MIN_LEVELS {
            self.set(side, price, 0, out);
        } else if r < 0.24 * fill + 0.26 / fill {
            // Insert between this level and the next worse one.
            let next = self
                .nth(side, rank + 1)
                .map_or(self.draw_gap(rank) + 1, |(p, _)| (p - price).abs());
            if next > 1 {
                let off = self.rng.random_range(1..next);
                let p = match side {
                    Side::Bid => price - off,
                    Side::Ask => price + off,
                };
                let q = self.draw_lots();
                self.set(side, p, q, out);
            } else {
                self.resize(side, price, lots, out);
            }
        } else {
            self.resize(side, price, lots, out);
        }
    }

    fn resize(&mut self, side: Side, price: i64, lots: u64, out: &mut Vec<Change>) {
        let mut q = if self.rng.random_bool(0.5) {
            self.draw_lots()
        } else {
            let f = self.rng.random_range(30..=200);
            let unit = self.unit();
            ((lots * f / 100) / unit * unit).max(unit)
        };
        if q == lots {
            q += self.unit();
        }
        self.set(side, price, q, out);
    }

    fn keep_size(&mut self, side: Side, out: &mut Vec<Change>) {
        let slack = (self.target / 20).max(1);
        while self.len(side) > self.target + slack {
            let Some((p, _)) = self.worst(side) else {
                return;
            };
            self.set(side, p, 0, out);
        }
        while self.len(side) + slack < self.target {
            let Some((p, _)) = self.worst(side) else {
                return;
            };
            let gap = self.draw_gap(self.target);
            let p = match side {
                Side::Bid => p - gap,
                Side::Ask => p + gap,
            };
            if p <= 0 {
                return;
            }
            let q = self.draw_lots();
            self.set(side, p, q, out);
        }
    }

    fn set(&mut self, side: Side, price: i64, lots: u64, out: &mut Vec<Change>) {
        let map = match side {
            Side::Bid => &mut self.bids,
            Side::Ask => &mut self.asks,
        };
        if lots == 0 {
            map.remove(&price);
        } else {
            map.insert(price, lots);
        }
        let change = Change {
            side,
            price: self.price(price),
            qty: Self::qty(lots),
        };
        self.book.apply(side, change.price, change.qty);
        out.push(change);
    }

    fn price(&self, ticks: i64) -> Decimal {
        self.tick * Decimal::from(ticks)
    }

    fn qty(lots: u64) -> Decimal {
        Decimal::from(lots) / Decimal::from(LOTS)
    }

    fn len(&self, side: Side) -> usize {
        match side {
            Side::Bid => self.bids.len(),
            Side::Ask => self.asks.len(),
        }
    }

    fn best(&self, side: Side) -> Option<i64> {
        self.nth(side, 0).map(|l| l.0)
    }

    fn nth(&self, side: Side, rank: usize) -> Option<(i64, u64)> {
        match side {
            Side::Bid => self.bids.iter().rev().nth(rank),
            Side::Ask => self.asks.iter().nth(rank),
        }
        .map(|(p, q)| (*p, *q))
    }

    fn worst(&self, side: Side) -> Option<(i64, u64)> {
        match side {
            Side::Bid => self.bids.first_key_value(),
            Side::Ask => self.asks.last_key_value(),
        }
        .map(|(p, q)| (*p, *q))
    }

    /// Failures before the first success, success probability `p`.
    fn geometric(&mut self, p: f64) -> usize {
        let mut n = 0;
        while n < 10_000 && !self.rng.random_bool(p) {
            n += 1;
        }
        n
    }

    /// Distance to the next level in ticks: dense at the top, `gap` on average deeper.
    fn draw_gap(&mut self, rank: usize) -> i64 {
        if rank < 20 {
            self.rng.random_range(1..=(self.gap / 2).max(1))
        } else {
            self.rng.random_range(1..=(2 * self.gap - 1).max(1))
        }
    }

    /// The lot granularity of a fresh quantity with between `min_dec` and 8 decimals.
    fn unit(&mut self) -> u64 {
        let dec = self.rng.random_range(self.min_dec..=8);
        10u64.pow(8 - dec)
    }

    /// A fresh quantity in lots: log-uniform from 0.0001 to about 5 BTC, sometimes a round number.
    fn draw_lots(&mut self) -> u64 {
        if self.rng.random_bool(0.08) {
            const ROUND: [u64; 8] = [
                100_000,
                1_000_000,
                5_000_000,
                10_000_000,
                25_000_000,
                50_000_000,
                LOTS,
                2 * LOTS,
            ];
            return ROUND[self.rng.random_range(0..ROUND.len())];
        }
        let exp: f64 = self.rng.random_range(4.0..8.7);
        let lots = 10f64.powf(exp) as u64;
        let unit = self.unit();
        (lots / unit * unit).max(unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::d;

    fn scale_ok(v: Decimal, max_scale: u32) -> bool {
        v.normalize().scale() <= max_scale
    }

    #[test]
    fn initial_book_has_the_levels_and_tick_and_is_not_crossed() {
        let m = SimMarket::new(1, d("0.1"), 1000);
        let b = m.book();
        assert_eq!(b.depth(Side::Bid), 1000);
        assert_eq!(b.depth(Side::Ask), 1000);
        assert!(!b.is_crossed());
        let mid = m.mid().expect("mid");
        assert!(mid > d("64900") && mid < d("65100"), "{mid}");
        for side in [Side::Bid, Side::Ask] {
            for (p, q) in b.levels(side) {
                assert!(scale_ok(p, 1), "price {p}");
                assert!(q > Decimal::ZERO && scale_ok(q, 8), "qty {q}");
            }
        }
    }

    #[test]
    fn same_seed_same_steps_other_seed_differs() {
        let mut a = SimMarket::new(7, d("0.01"), 300);
        let mut b = SimMarket::new(7, d("0.01"), 300);
        let mut c = SimMarket::new(8, d("0.01"), 300);
        let sa: Vec<_> = (0..200).map(|_| a.step_full()).collect();
        let sb: Vec<_> = (0..200).map(|_| b.step_full()).collect();
        let sc: Vec<_> = (0..200).map(|_| c.step_full()).collect();
        assert_eq!(sa, sb);
        assert_ne!(sa, sc);
        assert_eq!(a.book(), b.book());
    }

    #[test]
    fn changes_replayed_on_a_copy_give_the_same_book_and_it_never_crosses() {
        let mut m = SimMarket::new(42, d("0.01"), 1000);
        let mut copy = m.book().clone();
        let (mut inserts, mut deletes, mut resizes, mut trades, mut near_top) = (0, 0, 0, 0, 0);
        let start_mid = m.mid().expect("mid");
        let mut mids = Vec::new();
        for _ in 0..20_000 {
            let step = m.step_full();
            trades += step.trades.len();
            for c in &step.changes {
                let before = copy.side(c.side).get(c.price);
                match (before, c.qty.is_zero()) {
                    (None, false) => inserts += 1,
                    (Some(_), true) => deletes += 1,
                    (Some(_), false) => resizes += 1,
                    (None, true) => panic!("delete of a missing level {c:?}"),
                }
                let best = copy.best(c.side).map(|l| l.0);
                if best.is_some_and(|b| (b - c.price).abs() < d("5")) {
                    near_top += 1;
                }
                assert!(c.price.scale() <= 2 && c.qty.normalize().scale() <= 8);
                copy.apply(c.side, c.price, c.qty);
            }
            assert!(!copy.is_crossed());
            for side in [Side::Bid, Side::Ask] {
                let n = copy.depth(side);
                assert!((900..=1100).contains(&n), "{n} levels");
            }
            mids.push(m.mid().expect("mid"));
        }
        assert_eq!(&copy, m.book());
        assert!(inserts > 1000 && deletes > 1000 && resizes > 1000 && trades > 500);
        let total = inserts + deletes + resizes;
        assert!(near_top * 2 > total, "{near_top} of {total} near the touch");
        let (lo, hi) = (
            mids.iter().min().expect("min"),
            mids.iter().max().expect("max"),
        );
        // The mid moves, but stays in a band around the start.
        assert!(hi - lo > d("5"), "mid stuck: {lo}..{hi}");
        assert!((*lo - start_mid).abs() < d("1000") && (*hi - start_mid).abs() < d("1000"));
    }

    #[test]
    fn every_trade_is_a_decrease_at_the_touch_it_ate() {
        let mut m = SimMarket::new(3, d("0.1"), 200);
        let mut copy = m.book().clone();
        let mut seen = 0;
        for _ in 0..3000 {
            let step = m.step_full();
            // Every decrease of an existing level in this step: (side, price, amount removed).
            let mut decreases = Vec::new();
            for c in &step.changes {
                if let Some(prev) = copy.side(c.side).get(c.price)
                    && c.qty < prev
                {
                    decreases.push((c.side, c.price, prev - c.qty));
                }
                copy.apply(c.side, c.price, c.qty);
            }
            for t in &step.trades {
                seen += 1;
                let want = (t.taker.walked_side(), t.price, t.qty);
                let i = decreases.iter().position(|x| *x == want);
                assert!(
                    i.is_some(),
                    "{t:?} has no matching decrease in {decreases:?}"
                );
                if let Some(i) = i {
                    decreases.swap_remove(i);
                }
                assert!(t.qty > Decimal::ZERO);
            }
        }
        assert!(seen > 100, "{seen} trades");
    }
}

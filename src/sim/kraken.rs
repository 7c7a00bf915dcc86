//! Kraken WebSocket v2 `book`, server side (protocols.md §1): frame encoders, the depth-window rule, the
//! CRC32 checksum, and [`KrakenSession`].
//!
//! Numbers are bare JSON numbers with fixed decimals (`62802.5`, `0.02987767`, `0.00000000`).
//!
//! The window rule: a client subscribed at depth D holds the server's top D levels per side. For each
//! step, [`KrakenEncoder::update`] sends only the levels whose value changed inside the new window, a
//! `qty 0` for window levels that were deleted, and the levels that *enter* the window from below when
//! window levels are deleted. Levels pushed out of the window by inserts are not announced: the client
//! truncates to D after applying the message. The checksum is computed here independently of the
//! client's adapter: top 10 asks ascending then top 10 bids descending, each `price` (price precision
//! decimals) and `qty` (qty precision decimals) with the `.` removed and leading zeros stripped,
//! concatenated, CRC32.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::ops::Bound;
use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::Value;

use super::market::{Change, Step};
use super::{BookRequest, Reply, Session, rfc3339, splitmix64};
use crate::market::{OrderBook, Side};

/// The depths Kraken accepts.
pub const DEPTHS: [usize; 5] = [10, 25, 100, 500, 1000];

/// The server version reported in `status`.
pub const VERSION: &str = "2.0.10";

/// `value` with exactly `dp` decimals, as Kraken prints numbers (`62802.5`, `0.00000000`).
#[must_use]
pub fn number(value: Decimal, dp: u32) -> String {
    let mut v = value;
    v.rescale(dp);
    v.to_string()
}

/// The checksum digits of one number: `dp` decimals, `.` removed, leading zeros stripped. That is the
/// integer mantissa of the value rescaled to `dp` decimals.
fn digits(value: Decimal, dp: u32, out: &mut String) {
    let mut v = value;
    v.rescale(dp);
    let _ = write!(out, "{}", v.mantissa());
}

/// CRC32 over the top 10 asks (ascending) then the top 10 bids (descending) of `book`.
#[must_use]
pub fn checksum(book: &OrderBook, price_dp: u32, qty_dp: u32) -> u32 {
    checksum_of(
        book.levels(Side::Ask).take(10),
        book.levels(Side::Bid).take(10),
        price_dp,
        qty_dp,
    )
}

fn checksum_of(
    asks: impl Iterator<Item = (Decimal, Decimal)>,
    bids: impl Iterator<Item = (Decimal, Decimal)>,
    price_dp: u32,
    qty_dp: u32,
) -> u32 {
    let mut s = String::with_capacity(400);
    for (p, q) in asks.chain(bids) {
        digits(p, price_dp, &mut s);
        digits(q, qty_dp, &mut s);
    }
    crc32fast::hash(s.as_bytes())
}

/// The `status` frame a Kraken server sends first on every connection.
#[must_use]
pub fn status_frame(connection_id: u64) -> String {
    format!(
        r#"{{"channel":"status","type":"update","data":[{{"version":"{VERSION}","system":"online","api_version":"v2","connection_id":{connection_id}}}]}}"#
    )
}

/// `{"channel":"heartbeat"}`.
#[must_use]
pub fn heartbeat_frame() -> String {
    r#"{"channel":"heartbeat"}"#.to_owned()
}

fn req_id_part(req_id: Option<&Value>) -> String {
    req_id.map_or_else(String::new, |r| format!(r#","req_id":{r}"#))
}

/// The subscribe acknowledgement for the book channel.
#[must_use]
pub fn subscribe_ack(
    symbol: &str,
    depth: usize,
    snapshot: bool,
    req_id: Option<&Value>,
    time_in: &str,
    time_out: &str,
) -> String {
    format!(
        r#"{{"method":"subscribe","result":{{"channel":"book","depth":{depth},"snapshot":{snapshot},"symbol":{sym}}}{req},"success":true,"time_in":"{time_in}","time_out":"{time_out}"}}"#,
        sym = Value::from(symbol),
        req = req_id_part(req_id),
    )
}

/// The unsubscribe acknowledgement for the book channel.
#[must_use]
pub fn unsubscribe_ack(
    symbol: &str,
    depth: usize,
    req_id: Option<&Value>,
    time_in: &str,
    time_out: &str,
) -> String {
    format!(
        r#"{{"method":"unsubscribe","result":{{"channel":"book","depth":{depth},"symbol":{sym}}}{req},"success":true,"time_in":"{time_in}","time_out":"{time_out}"}}"#,
        sym = Value::from(symbol),
        req = req_id_part(req_id),
    )
}

/// A failed request: `{"error":"…","method":"…","success":false,…}`.
#[must_use]
pub fn error_frame(
    error: &str,
    method: &str,
    symbol: Option<&str>,
    req_id: Option<&Value>,
    time_in: &str,
    time_out: &str,
) -> String {
    let sym = symbol.map_or_else(String::new, |s| format!(r#","symbol":{}"#, Value::from(s)));
    format!(
        r#"{{"error":{err},"method":{method}{req},"success":false{sym},"time_in":"{time_in}","time_out":"{time_out}"}}"#,
        err = Value::from(error),
        method = Value::from(method),
        req = req_id_part(req_id),
    )
}

/// The reply to `{"method":"ping"}`.
#[must_use]
pub fn pong_frame(req_id: Option<&Value>, time_in: &str, time_out: &str) -> String {
    format!(
        r#"{{"method":"pong"{req},"time_in":"{time_in}","time_out":"{time_out}"}}"#,
        req = req_id_part(req_id)
    )
}

/// One side of the server's book as seen by a depth-D client, with the price of the window's worst
/// level (`None` while the side has fewer than D levels: then the whole side is the window).
#[derive(Debug, Clone, Default)]
struct Ladder {
    levels: BTreeMap<Decimal, Decimal>,
    boundary: Option<Decimal>,
}

impl Ladder {
    /// True when `price` is at or better than the window boundary.
    fn inside(side: Side, boundary: Option<Decimal>, price: Decimal) -> bool {
        boundary.is_none_or(|b| price == b || side.better(price, b))
    }

    /// Levels at or better than `b`, worst first.
    fn at_or_better_worst_first(
        &self,
        side: Side,
        b: Option<Decimal>,
    ) -> Box<dyn Iterator<Item = Decimal> + '_> {
        match (side, b) {
            (Side::Bid, Some(b)) => Box::new(self.levels.range(b..).map(|l| *l.0)),
            (Side::Bid, None) => Box::new(self.levels.keys().copied()),
            (Side::Ask, Some(b)) => Box::new(self.levels.range(..=b).rev().map(|l| *l.0)),
            (Side::Ask, None) => Box::new(self.levels.keys().rev().copied()),
        }
    }

    /// Levels strictly worse than `b`, best first.
    fn worse_best_first(&self, side: Side, b: Decimal) -> Box<dyn Iterator<Item = Decimal> + '_> {
        match side {
            Side::Bid => Box::new(self.levels.range(..b).rev().map(|l| *l.0)),
            Side::Ask => Box::new(
                self.levels
                    .range((Bound::Excluded(b), Bound::Unbounded))
                    .map(|l| *l.0),
            ),
        }
    }

    fn best_first(&self, side: Side) -> Box<dyn Iterator<Item = (Decimal, Decimal)> + '_> {
        match side {
            Side::Bid => Box::new(self.levels.iter().rev().map(|(p, q)| (*p, *q))),
            Side::Ask => Box::new(self.levels.iter().map(|(p, q)| (*p, *q))),
        }
    }

    fn reset_boundary(&mut self, side: Side, depth: usize) {
        self.boundary = if self.levels.len() >= depth {
            self.best_first(side).nth(depth - 1).map(|l| l.0)
        } else {
            None
        };
    }
}

/// The encoder for one depth-D book subscription: a mirror of the server's full book plus the client's
/// window boundary.
#[derive(Debug, Clone)]
pub struct KrakenEncoder {
    symbol: String,
    symbol_json: String,
    depth: usize,
    price_dp: u32,
    qty_dp: u32,
    bids: Ladder,
    asks: Ladder,
}

impl KrakenEncoder {
    /// An encoder for `symbol` at `depth` (clamped to at least 10) with the pair's precisions.
    #[must_use]
    pub fn new(symbol: &str, depth: usize, price_dp: u32, qty_dp: u32) -> Self {
        Self {
            symbol: symbol.to_owned(),
            symbol_json: Value::from(symbol).to_string(),
            depth: depth.max(10),
            price_dp,
            qty_dp,
            bids: Ladder::default(),
            asks: Ladder::default(),
        }
    }

    /// The subscribed depth.
    #[must_use]
    pub fn depth(&self) -> usize {
        self.depth
    }

    fn ladder(&self, side: Side) -> &Ladder {
        match side {
            Side::Bid => &self.bids,
            Side::Ask => &self.asks,
        }
    }

    fn ladder_mut(&mut self, side: Side) -> &mut Ladder {
        match side {
            Side::Bid => &mut self.bids,
            Side::Ask => &mut self.asks,
        }
    }

    /// Takes `book` as the full server book and returns the snapshot frame (top D, best first).
    pub fn snapshot(&mut self, book: &OrderBook, timestamp: &str) -> String {
        for side in [Side::Bid, Side::Ask] {
            let depth = self.depth;
            let l = self.ladder_mut(side);
            l.levels = book.levels(side).collect();
            l.reset_boundary(side, depth);
        }
        let bids: Vec<_> = self.bids.best_first(Side::Bid).take(self.depth).collect();
        let asks: Vec<_> = self.asks.best_first(Side::Ask).take(self.depth).collect();
        self.frame("snapshot", &bids, &asks, timestamp)
    }

    /// Applies one step's changes to the mirror and returns the update a depth-D client needs, or
    /// `None` when nothing inside its window changed.
    pub fn update(&mut self, changes: &[Change], timestamp: &str) -> Option<String> {
        let bids = self.side_update(Side::Bid, changes);
        let asks = self.side_update(Side::Ask, changes);
        if bids.is_empty() && asks.is_empty() {
            return None;
        }
        Some(self.frame("update", &bids, &asks, timestamp))
    }

    fn side_update(&mut self, side: Side, changes: &[Change]) -> Vec<(Decimal, Decimal)> {
        let depth = self.depth;
        let ladder = self.ladder_mut(side);
        let b0 = ladder.boundary;
        // Window levels before the step, and the touched prices in first-touch order with whether
        // they were inside the old window.
        let mut n_in = ladder
            .levels
            .len()
            .min(if b0.is_some() { depth } else { usize::MAX });
        let mut touched: Vec<(Decimal, bool)> = Vec::new();
        for c in changes.iter().filter(|c| c.side == side) {
            let existed = ladder.levels.contains_key(&c.price);
            let in_w0 = Ladder::inside(side, b0, c.price);
            if !touched.iter().any(|t| t.0 == c.price) {
                touched.push((c.price, existed && in_w0));
            }
            if c.qty.is_zero() {
                if ladder.levels.remove(&c.price).is_some() && in_w0 {
                    n_in -= 1;
                }
            } else if ladder.levels.insert(c.price, c.qty).is_none() && in_w0 {
                n_in += 1;
            }
        }
        if touched.is_empty() {
            return Vec::new();
        }
        // The new boundary, and the levels that enter from below.
        let mut entering = Vec::new();
        let b1 = if n_in >= depth {
            ladder.at_or_better_worst_first(side, b0).nth(n_in - depth)
        } else if let Some(b) = b0 {
            entering.extend(ladder.worse_best_first(side, b).take(depth - n_in));
            if entering.len() == depth - n_in {
                entering.last().copied()
            } else {
                None
            }
        } else {
            None
        };
        ladder.boundary = b1;
        let mut out = Vec::new();
        for &(p, was_in_w0) in &touched {
            match ladder.levels.get(&p) {
                Some(q) if Ladder::inside(side, b1, p) => out.push((p, *q)),
                None if was_in_w0 => out.push((p, Decimal::ZERO)),
                _ => {}
            }
        }
        for p in entering {
            if !touched.iter().any(|t| t.0 == p)
                && let Some(q) = ladder.levels.get(&p)
            {
                out.push((p, *q));
            }
        }
        out
    }

    /// The client's view: the top D levels of each side.
    #[must_use]
    pub fn window(&self) -> OrderBook {
        let mut b = OrderBook::new();
        for side in [Side::Bid, Side::Ask] {
            for (p, q) in self.ladder(side).best_first(side).take(self.depth) {
                b.apply(side, p, q);
            }
        }
        b
    }

    /// The checksum of the current window.
    #[must_use]
    pub fn checksum(&self) -> u32 {
        checksum_of(
            self.asks.best_first(Side::Ask).take(10),
            self.bids.best_first(Side::Bid).take(10),
            self.price_dp,
            self.qty_dp,
        )
    }

    fn frame(
        &self,
        kind: &str,
        bids: &[(Decimal, Decimal)],
        asks: &[(Decimal, Decimal)],
        timestamp: &str,
    ) -> String {
        let mut s = String::with_capacity(128 + 48 * (bids.len() + asks.len()));
        let _ = write!(
            s,
            r#"{{"channel":"book","type":"{kind}","data":[{{"symbol":{},"bids":["#,
            self.symbol_json
        );
        self.levels_json(&mut s, bids);
        s.push_str(r#"],"asks":["#);
        self.levels_json(&mut s, asks);
        let _ = write!(
            s,
            r#"],"checksum":{},"timestamp":"{timestamp}"}}]}}"#,
            self.checksum()
        );
        s
    }

    fn levels_json(&self, s: &mut String, levels: &[(Decimal, Decimal)]) {
        for (i, (p, q)) in levels.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            let _ = write!(
                s,
                r#"{{"price":{},"qty":{}}}"#,
                number(*p, self.price_dp),
                number(*q, self.qty_dp)
            );
        }
    }

    /// The symbol.
    #[must_use]
    pub fn symbol(&self) -> &str {
        &self.symbol
    }
}

/// A subscription accepted but not yet answered (waiting for the book).
#[derive(Debug, Clone)]
struct Pending {
    depth: usize,
    snapshot: bool,
    req_id: Option<Value>,
    time_in: String,
}

/// One Kraken v2 connection: `status` on open, `book` subscribe/unsubscribe with validation, `ping` →
/// `pong`, snapshot + windowed updates with checksums, `{"channel":"heartbeat"}` after a second without
/// other frames while subscribed.
#[derive(Debug)]
pub struct KrakenSession {
    symbol: String,
    price_dp: u32,
    qty_dp: u32,
    connection_id: u64,
    pending: Option<Pending>,
    encoder: Option<KrakenEncoder>,
    last_sent_ns: u64,
}

/// Heartbeats follow a second without other frames.
const IDLE_NS: u64 = 1_000_000_000;

impl KrakenSession {
    /// A session for `symbol` with the pair's price/qty precisions; `conn_seed` picks the (large)
    /// `connection_id`.
    #[must_use]
    pub fn new(symbol: &str, price_dp: u32, qty_dp: u32, conn_seed: u64) -> Self {
        Self {
            symbol: symbol.to_owned(),
            price_dp,
            qty_dp,
            connection_id: (splitmix64(conn_seed) >> 4) | (1 << 59),
            pending: None,
            encoder: None,
            last_sent_ns: 0,
        }
    }

    fn sent(&mut self, frames: Vec<String>, now_ns: u64) -> Vec<String> {
        if !frames.is_empty() {
            self.last_sent_ns = now_ns;
        }
        frames
    }

    fn request(&mut self, text: &str, now_ns: u64) -> Reply {
        let time_in = rfc3339(now_ns, 6);
        let time_out = rfc3339(now_ns + 40_000, 6);
        let err = |e: &str, method: &str, symbol: Option<&str>, req_id: Option<&Value>| Reply {
            frames: vec![error_frame(e, method, symbol, req_id, &time_in, &time_out)],
            book: BookRequest::None,
        };
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            return err("Malformed request", "", None, None);
        };
        let req_id = v.get("req_id").filter(|r| r.is_u64());
        let Some(method) = v.get("method").and_then(Value::as_str) else {
            return err("Method field missing", "", None, req_id);
        };
        match method {
            "ping" => Reply {
                frames: vec![pong_frame(req_id, &time_in, &time_out)],
                book: BookRequest::None,
            },
            "subscribe" | "unsubscribe" => {
                let params = v.get("params");
                let channel = params
                    .and_then(|p| p.get("channel"))
                    .and_then(Value::as_str);
                if channel != Some("book") {
                    return err("Channel not supported", method, None, req_id);
                }
                let symbols = params
                    .and_then(|p| p.get("symbol"))
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>())
                    .unwrap_or_default();
                if symbols.is_empty() {
                    return err("Symbol field missing", method, None, req_id);
                }
                if let Some(bad) = symbols.iter().find(|s| **s != self.symbol) {
                    return err("Currency pair not supported", method, Some(bad), req_id);
                }
                let depth = match params.and_then(|p| p.get("depth")) {
                    None => Some(10),
                    Some(d) => d
                        .as_u64()
                        .and_then(|d| usize::try_from(d).ok())
                        .filter(|d| DEPTHS.contains(d)),
                };
                let Some(depth) = depth else {
                    return err(
                        "Subscription depth not supported",
                        method,
                        Some(&self.symbol),
                        req_id,
                    );
                };
                if method == "unsubscribe" {
                    let Some(enc) = self.encoder.take() else {
                        return err("Subscription Not Found", method, Some(&self.symbol), req_id);
                    };
                    return Reply {
                        frames: vec![unsubscribe_ack(
                            &self.symbol,
                            enc.depth(),
                            req_id,
                            &time_in,
                            &time_out,
                        )],
                        book: BookRequest::Unsubscribe,
                    };
                }
                if self.encoder.is_some() || self.pending.is_some() {
                    return err("Already subscribed", method, Some(&self.symbol), req_id);
                }
                let snapshot = params
                    .and_then(|p| p.get("snapshot"))
                    .and_then(Value::as_bool)
                    .unwrap_or(true);
                self.pending = Some(Pending {
                    depth,
                    snapshot,
                    req_id: req_id.cloned(),
                    time_in,
                });
                Reply {
                    frames: Vec::new(),
                    book: BookRequest::Subscribe,
                }
            }
            other => err(
                &format!("Method {other} not supported"),
                other,
                None,
                req_id,
            ),
        }
    }
}

impl Session for KrakenSession {
    fn open(&mut self, now_ns: u64) -> Vec<String> {
        self.sent(vec![status_frame(self.connection_id)], now_ns)
    }

    fn on_text(&mut self, text: &str, now_ns: u64) -> Reply {
        let mut r = self.request(text, now_ns);
        r.frames = self.sent(r.frames, now_ns);
        r
    }

    fn on_book(&mut self, book: &OrderBook, now_ns: u64) -> Vec<String> {
        let Some(p) = self.pending.take() else {
            return Vec::new();
        };
        let mut enc = KrakenEncoder::new(&self.symbol, p.depth, self.price_dp, self.qty_dp);
        let snap = enc.snapshot(book, &rfc3339(now_ns, 6));
        let ack = subscribe_ack(
            &self.symbol,
            p.depth,
            p.snapshot,
            p.req_id.as_ref(),
            &p.time_in,
            &rfc3339(now_ns + 45_000, 6),
        );
        self.encoder = Some(enc);
        let frames = if p.snapshot {
            vec![ack, snap]
        } else {
            vec![ack]
        };
        self.sent(frames, now_ns)
    }

    fn on_step(&mut self, step: &Step, now_ns: u64) -> Vec<String> {
        let Some(enc) = self.encoder.as_mut() else {
            return Vec::new();
        };
        let frames: Vec<String> = enc
            .update(&step.changes, &rfc3339(now_ns, 6))
            .into_iter()
            .collect();
        self.sent(frames, now_ns)
    }

    fn on_tick(&mut self, now_ns: u64) -> Vec<String> {
        if self.encoder.is_some() && now_ns.saturating_sub(self.last_sent_ns) >= IDLE_NS {
            return self.sent(vec![heartbeat_frame()], now_ns);
        }
        Vec::new()
    }

    fn tick_period(&self) -> Duration {
        Duration::from_millis(250)
    }

    fn subscribed(&self) -> bool {
        self.encoder.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::d;
    use crate::sim::market::SimMarket;

    /// Naive checksum straight from the documented recipe, on strings.
    fn naive_checksum(book: &OrderBook) -> u32 {
        let mut s = String::new();
        for side in [Side::Ask, Side::Bid] {
            for (p, q) in book.levels(side).take(10) {
                for t in [format!("{p:.1}"), format!("{q:.8}")] {
                    s.push_str(t.replace('.', "").trim_start_matches('0'));
                }
            }
        }
        crc32fast::hash(s.as_bytes())
    }

    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Msg<'a> {
        channel: &'a str,
        #[serde(rename = "type")]
        kind: &'a str,
        #[serde(borrow)]
        data: Vec<Data<'a>>,
    }

    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Data<'a> {
        symbol: &'a str,
        #[serde(borrow)]
        bids: Vec<Lvl<'a>>,
        #[serde(borrow)]
        asks: Vec<Lvl<'a>>,
        checksum: u32,
        timestamp: &'a str,
    }

    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Lvl<'a> {
        #[serde(borrow)]
        price: &'a serde_json::value::RawValue,
        #[serde(borrow)]
        qty: &'a serde_json::value::RawValue,
    }

    /// Parses a book frame strictly; checks every number token has exactly 1 / 8 decimals.
    fn parse_book(frame: &str) -> Msg<'_> {
        let m: Msg<'_> = serde_json::from_str(frame).expect("book frame shape");
        assert_eq!(m.channel, "book");
        assert_eq!(m.data.len(), 1);
        assert_eq!(m.data[0].symbol, "BTC/USD");
        assert!(!m.data[0].timestamp.is_empty());
        for l in m.data[0].bids.iter().chain(&m.data[0].asks) {
            let (p, q) = (l.price.get(), l.qty.get());
            assert_eq!(p.split('.').nth(1).map(str::len), Some(1), "{p}");
            assert_eq!(q.split('.').nth(1).map(str::len), Some(8), "{q}");
        }
        m
    }

    fn levels_of(levels: &[Lvl<'_>]) -> Vec<(Decimal, Decimal)> {
        levels
            .iter()
            .map(|l| {
                (
                    crate::feed::parse_price(l.price.get()).expect("price"),
                    crate::feed::parse_decimal(l.qty.get()).expect("qty"),
                )
            })
            .collect()
    }

    #[test]
    fn docs_example_checksum() {
        let mut b = OrderBook::new();
        let asks = "45285.2 0.00100000 45286.4 1.54571953 45286.6 1.54571109 45289.6 1.54560911 45290.2 0.15890660 45291.8 1.54553491 45294.7 0.04454749 45296.1 0.35380000 45297.5 0.09945542 45299.5 0.18772827";
        let bids = "45283.5 0.10000000 45283.4 1.54582015 45282.1 0.10000000 45281.0 0.10000000 45280.3 1.54592586 45279.0 0.07990000 45277.6 0.03310103 45277.5 0.30000000 45277.3 1.54602737 45276.6 0.15445238";
        for (side, text) in [(Side::Ask, asks), (Side::Bid, bids)] {
            let t: Vec<_> = text.split(' ').collect();
            for pq in t.chunks(2) {
                b.apply(side, d(pq[0]), d(pq[1]));
            }
        }
        assert_eq!(checksum(&b, 1, 8), 3_310_070_434);
        assert_eq!(naive_checksum(&b), 3_310_070_434);
        // A qty without trailing zeros counts as if padded.
        b.apply(Side::Ask, d("45285.2"), d("0.001"));
        assert_eq!(checksum(&b, 1, 8), 3_310_070_434);
    }

    #[test]
    fn frames_have_the_documented_shapes() {
        let v: Value = serde_json::from_str(&status_frame(769_405_522_530_892_351)).expect("json");
        assert_eq!(v["channel"], "status");
        assert_eq!(v["type"], "update");
        assert_eq!(v["data"][0]["system"], "online");
        assert_eq!(v["data"][0]["api_version"], "v2");
        assert_eq!(
            v["data"][0]["connection_id"].as_u64(),
            Some(769_405_522_530_892_351)
        );

        let ack = subscribe_ack("BTC/USD", 10, true, None, "a", "b");
        assert_eq!(
            ack,
            r#"{"method":"subscribe","result":{"channel":"book","depth":10,"snapshot":true,"symbol":"BTC/USD"},"success":true,"time_in":"a","time_out":"b"}"#
        );
        let v: Value = serde_json::from_str(&error_frame(
            "Subscription depth not supported",
            "subscribe",
            Some("BTC/USD"),
            Some(&Value::from(7)),
            "a",
            "b",
        ))
        .expect("json");
        assert_eq!(v["success"], false);
        assert_eq!(v["error"], "Subscription depth not supported");
        assert_eq!(v["method"], "subscribe");
        assert_eq!(v["req_id"], 7);
        let v: Value =
            serde_json::from_str(&pong_frame(Some(&Value::from(101)), "a", "b")).expect("json");
        assert_eq!(v["method"], "pong");
        assert_eq!(v["req_id"], 101);
        assert_eq!(heartbeat_frame(), r#"{"channel":"heartbeat"}"#);
    }

    #[test]
    fn snapshot_is_top_d_best_first_with_fixed_decimals_and_checksum() {
        let m = SimMarket::new(5, d("0.1"), 300);
        let mut enc = KrakenEncoder::new("BTC/USD", 25, 1, 8);
        let frame = enc.snapshot(m.book(), "2026-01-01T00:00:00.000000Z");
        let msg = parse_book(&frame);
        assert_eq!(msg.kind, "snapshot");
        let data = &msg.data[0];
        let want_bids: Vec<_> = m.book().levels(Side::Bid).take(25).collect();
        let want_asks: Vec<_> = m.book().levels(Side::Ask).take(25).collect();
        assert_eq!(levels_of(&data.bids), want_bids);
        assert_eq!(levels_of(&data.asks), want_asks);
        assert_eq!(data.checksum, naive_checksum(m.book()));
        assert_eq!(data.timestamp, "2026-01-01T00:00:00.000000Z");
    }

    /// True when `client` holds exactly the top `depth` levels of `full` on both sides.
    fn is_top(client: &OrderBook, full: &OrderBook, depth: usize) -> bool {
        [Side::Bid, Side::Ask]
            .into_iter()
            .all(|s| client.levels(s).eq(full.levels(s).take(depth)))
    }

    /// A client applying the stream and truncating to D always holds the server's top D, and every
    /// checksum equals a naive recomputation over the client's book.
    fn window_rule_holds(depth: usize, levels: usize, steps: usize, seed: u64) {
        let mut m = SimMarket::new(seed, d("0.1"), levels);
        let mut enc = KrakenEncoder::new("BTC/USD", depth, 1, 8);
        let snap_text = enc.snapshot(m.book(), "t");
        let snap = parse_book(&snap_text);
        let mut client = OrderBook::new();
        for (side, lv) in [
            (Side::Bid, &snap.data[0].bids),
            (Side::Ask, &snap.data[0].asks),
        ] {
            for (p, q) in levels_of(lv) {
                client.apply(side, p, q);
            }
        }
        let (mut sent, mut skipped, mut entered) = (0, 0, 0);
        for _ in 0..steps {
            let before_top: Vec<_> = client.levels(Side::Ask).map(|l| l.0).collect();
            let changes = m.step();
            let Some(frame) = enc.update(&changes, "t") else {
                skipped += 1;
                assert!(
                    is_top(&client, m.book(), depth),
                    "a skipped step changed the window"
                );
                continue;
            };
            sent += 1;
            let msg = parse_book(&frame);
            assert_eq!(msg.kind, "update");
            let data = &msg.data[0];
            for (side, lv) in [(Side::Bid, &data.bids), (Side::Ask, &data.asks)] {
                for (p, q) in levels_of(lv) {
                    if side == Side::Ask && !q.is_zero() && !before_top.contains(&p) {
                        entered += 1;
                    }
                    client.apply(side, p, q);
                }
            }
            client.truncate(depth);
            assert!(is_top(&client, m.book(), depth));
            assert_eq!(data.checksum, naive_checksum(&client));
        }
        let mut top = m.book().clone();
        top.truncate(depth);
        assert_eq!(client, top);
        assert_eq!(enc.window(), top);
        assert!(sent > steps / 10, "{sent} sent");
        assert!(entered > 0);
        if depth < levels / 2 {
            assert!(skipped > 0, "every step touched the window");
        }
    }

    #[test]
    fn window_rule_depth_10() {
        window_rule_holds(10, 1000, 4000, 11);
    }

    #[test]
    fn window_rule_depth_100() {
        window_rule_holds(100, 1000, 3000, 12);
    }

    #[test]
    fn window_rule_depth_1000_on_a_deeper_book() {
        window_rule_holds(1000, 1200, 2000, 13);
    }

    #[test]
    fn window_rule_depth_above_the_book_size() {
        // The whole book is the window: every change is sent.
        window_rule_holds(1000, 200, 1000, 14);
    }

    #[test]
    fn session_validates_subscriptions_and_answers_pings() {
        let mut s = KrakenSession::new("BTC/USD", 1, 8, 1);
        let open = s.open(0);
        assert!(open[0].starts_with(r#"{"channel":"status""#));
        let bad_depth =
            r#"{"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD"],"depth":27}}"#;
        let r = s.on_text(bad_depth, 1);
        assert_eq!(r.book, BookRequest::None);
        let v: Value = serde_json::from_str(&r.frames[0]).expect("json");
        assert_eq!(v["success"], false);
        assert_eq!(v["error"], "Subscription depth not supported");
        for bad in [
            r#"{"method":"subscribe","params":{"channel":"ticker","symbol":["BTC/USD"]}}"#,
            r#"{"method":"subscribe","params":{"channel":"book","symbol":["ETH/USD"]}}"#,
            r#"{"method":"subscribe","params":{"channel":"book"}}"#,
            "not json",
        ] {
            let r = s.on_text(bad, 1);
            assert_eq!(r.book, BookRequest::None, "{bad}");
            let v: Value = serde_json::from_str(&r.frames[0]).expect("json");
            assert_eq!(v["success"], false, "{bad}");
        }
        let r = s.on_text(r#"{"method":"ping","req_id":101}"#, 2);
        let v: Value = serde_json::from_str(&r.frames[0]).expect("json");
        assert_eq!(
            (v["method"].as_str(), v["req_id"].as_u64()),
            (Some("pong"), Some(101))
        );
        assert!(
            s.on_tick(5_000_000_000).is_empty(),
            "heartbeat before subscribing"
        );

        let ok = r#"{"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD"],"depth":25,"snapshot":true},"req_id":3}"#;
        let r = s.on_text(ok, 3);
        assert_eq!(r.book, BookRequest::Subscribe);
        assert!(r.frames.is_empty());
        let m = SimMarket::new(1, d("0.1"), 100);
        let frames = s.on_book(m.book(), 4);
        assert_eq!(frames.len(), 2);
        let ack: Value = serde_json::from_str(&frames[0]).expect("ack");
        assert_eq!(ack["success"], true);
        assert_eq!(ack["result"]["depth"], 25);
        assert_eq!(ack["req_id"], 3);
        assert!(frames[1].contains(r#""type":"snapshot""#));
        assert!(s.subscribed());
        // Heartbeat only after a second of silence.
        assert!(s.on_tick(4 + 500_000_000).is_empty());
        assert_eq!(s.on_tick(4 + 1_000_000_000), vec![heartbeat_frame()]);
        assert!(s.on_tick(4 + 1_250_000_000).is_empty());
        let r = s.on_text(ok, 5);
        assert!(r.frames[0].contains("Already subscribed"));
        let r = s.on_text(
            r#"{"method":"unsubscribe","params":{"channel":"book","symbol":["BTC/USD"],"depth":25}}"#,
            6,
        );
        assert_eq!(r.book, BookRequest::Unsubscribe);
        assert!(!s.subscribed());
    }
}

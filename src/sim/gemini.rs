//! Gemini market data v2 `l2`, server side (protocols.md §3.1): frame encoders and [`GeminiSession`].
//!
//! No ack. The first `l2_updates` after a subscription is the full book with `trades` and
//! `auction_events` (keys in alphabetical order, as on the wire); later `l2_updates` have only
//! `changes, symbol, type`. A change is `[side, price, new_quantity]` with side `buy`/`sell` and
//! string numbers (`"65317.0"`, `"0.0031"`; `"0.0"` deletes). Trades arrive as separate `trade`
//! messages; `{"timestamp":ms,"type":"heartbeat"}` every 5 seconds from the moment the socket opens.

use std::fmt::Write as _;
use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::Value;

use super::market::{Change, Step, Trade};
use super::{BookRequest, Reply, Session};
use crate::market::{Action, OrderBook, Side};

/// A number as Gemini prints it: no trailing zeros but at least one decimal (`65317.0`, `0.0031`,
/// `0.0`).
#[must_use]
pub fn number(value: Decimal) -> String {
    let s = value.normalize().to_string();
    if s.contains('.') { s } else { s + ".0" }
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Bid => "buy",
        Side::Ask => "sell",
    }
}

/// `{"timestamp":ms,"type":"heartbeat"}`.
#[must_use]
pub fn heartbeat_frame(now_ns: u64) -> String {
    format!(
        r#"{{"timestamp":{},"type":"heartbeat"}}"#,
        now_ns / 1_000_000
    )
}

/// An error reply to a bad subscription (v2 documents none; this is the simulator's choice).
#[must_use]
pub fn error_frame(reason: &str) -> String {
    format!(r#"{{"reason":{},"type":"error"}}"#, Value::from(reason))
}

/// Encodes one symbol's messages.
#[derive(Debug, Clone)]
pub struct GeminiEncoder {
    symbol_json: String,
}

impl GeminiEncoder {
    /// An encoder for `symbol` (e.g. `BTCUSD`).
    #[must_use]
    pub fn new(symbol: &str) -> Self {
        Self {
            symbol_json: Value::from(symbol).to_string(),
        }
    }

    fn changes(s: &mut String, levels: impl Iterator<Item = (Side, Decimal, Decimal)>) {
        s.push_str(r#""changes":["#);
        for (i, (side, p, q)) in levels.enumerate() {
            if i > 0 {
                s.push(',');
            }
            let _ = write!(
                s,
                r#"["{}","{}","{}"]"#,
                side_name(side),
                number(p),
                number(q)
            );
        }
        s.push(']');
    }

    /// The first `l2_updates`: the full book (buys best first, then sells best first), empty `trades`
    /// and `auction_events`.
    #[must_use]
    pub fn snapshot(&self, book: &OrderBook) -> String {
        let n = book.depth(Side::Bid) + book.depth(Side::Ask);
        let mut s = String::with_capacity(120 + 40 * n);
        s.push_str(r#"{"auction_events":[],"#);
        Self::changes(
            &mut s,
            [Side::Bid, Side::Ask]
                .into_iter()
                .flat_map(|side| book.levels(side).map(move |(p, q)| (side, p, q))),
        );
        let _ = write!(
            s,
            r#","symbol":{},"trades":[],"type":"l2_updates"}}"#,
            self.symbol_json
        );
        s
    }

    /// A later `l2_updates` with a step's changes in order; `None` for an empty step.
    #[must_use]
    pub fn update(&self, changes: &[Change]) -> Option<String> {
        if changes.is_empty() {
            return None;
        }
        let mut s = String::with_capacity(80 + 40 * changes.len());
        s.push('{');
        Self::changes(&mut s, changes.iter().map(|c| (c.side, c.price, c.qty)));
        let _ = write!(s, r#","symbol":{},"type":"l2_updates"}}"#, self.symbol_json);
        Some(s)
    }

    /// A `trade` message.
    #[must_use]
    pub fn trade(&self, t: &Trade, now_ns: u64) -> String {
        let side = match t.taker {
            Action::Buy => "buy",
            Action::Sell => "sell",
        };
        format!(
            r#"{{"event_id":{},"price":"{}","quantity":"{}","side":"{side}","symbol":{},"tid":{},"timestamp":{},"type":"trade"}}"#,
            1_764_551_000_000_000 + t.id * 7,
            number(t.price),
            number(t.qty),
            self.symbol_json,
            2_840_141_000_000_000 + t.id,
            now_ns / 1_000_000
        )
    }
}

/// One v2 connection: `l2` subscription for the configured symbol (no ack), snapshot, updates,
/// trades, heartbeats every 5 s.
#[derive(Debug)]
pub struct GeminiSession {
    symbol: String,
    enc: GeminiEncoder,
    pending: bool,
    streaming: bool,
}

impl GeminiSession {
    /// A session for `symbol`.
    #[must_use]
    pub fn new(symbol: &str) -> Self {
        Self {
            symbol: symbol.to_owned(),
            enc: GeminiEncoder::new(symbol),
            pending: false,
            streaming: false,
        }
    }
}

impl Session for GeminiSession {
    fn open(&mut self, _now_ns: u64) -> Vec<String> {
        Vec::new()
    }

    fn on_text(&mut self, text: &str, _now_ns: u64) -> Reply {
        let err = |m: &str| Reply {
            frames: vec![error_frame(m)],
            book: BookRequest::None,
        };
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            return err("InvalidJson");
        };
        let kind = v.get("type").and_then(Value::as_str);
        let subs = v.get("subscriptions").and_then(Value::as_array);
        let (Some(kind @ ("subscribe" | "unsubscribe")), Some(subs)) = (kind, subs) else {
            return err("InvalidRequest");
        };
        let mut wants_ours = false;
        for sub in subs {
            if sub.get("name").and_then(Value::as_str) != Some("l2") {
                return err("InvalidSubscriptionName");
            }
            let symbols = sub.get("symbols").and_then(Value::as_array);
            for sym in symbols.into_iter().flatten() {
                if sym.as_str() == Some(self.symbol.as_str()) {
                    wants_ours = true;
                } else {
                    return err("InvalidSymbol");
                }
            }
        }
        let book = match (kind, wants_ours) {
            ("subscribe", true) if !self.streaming && !self.pending => {
                self.pending = true;
                BookRequest::Subscribe
            }
            ("unsubscribe", true) if self.streaming => {
                self.streaming = false;
                BookRequest::Unsubscribe
            }
            _ => BookRequest::None,
        };
        Reply {
            frames: Vec::new(),
            book,
        }
    }

    fn on_book(&mut self, book: &OrderBook, _now_ns: u64) -> Vec<String> {
        if !self.pending {
            return Vec::new();
        }
        self.pending = false;
        self.streaming = true;
        vec![self.enc.snapshot(book)]
    }

    fn on_step(&mut self, step: &Step, now_ns: u64) -> Vec<String> {
        if !self.streaming {
            return Vec::new();
        }
        let mut out: Vec<String> = self.enc.update(&step.changes).into_iter().collect();
        out.extend(step.trades.iter().map(|t| self.enc.trade(t, now_ns)));
        out
    }

    fn on_tick(&mut self, now_ns: u64) -> Vec<String> {
        vec![heartbeat_frame(now_ns)]
    }

    fn tick_period(&self) -> Duration {
        Duration::from_secs(5)
    }

    fn subscribed(&self) -> bool {
        self.streaming
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::d;
    use crate::sim::market::SimMarket;

    /// The object's keys, sorted (serde_json's map order depends on its features).
    fn keys(v: &Value) -> Vec<&str> {
        let mut k: Vec<&str> = v
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        k.sort_unstable();
        k
    }

    fn apply(v: &Value, book: &mut OrderBook) {
        for c in v["changes"].as_array().expect("changes") {
            let c = c.as_array().expect("triple");
            assert_eq!(c.len(), 3);
            let side = match c[0].as_str() {
                Some("buy") => Side::Bid,
                Some("sell") => Side::Ask,
                other => panic!("{other:?}"),
            };
            let p = c[1].as_str().expect("string price");
            let q = c[2].as_str().expect("string qty");
            assert!(p.contains('.') && q.contains('.'), "{p} {q}");
            book.apply(
                side,
                crate::feed::parse_price(p).expect("price"),
                crate::feed::parse_decimal(q).expect("qty"),
            );
        }
    }

    #[test]
    fn snapshot_then_updates_rebuild_the_book_with_trades_and_heartbeats() {
        let mut m = SimMarket::new(21, d("0.01"), 400);
        let mut s = GeminiSession::new("BTCUSD");
        assert!(s.open(0).is_empty());
        let r = s.on_text(
            r#"{"type":"subscribe","subscriptions":[{"name":"l2","symbols":["BTCUSD"]}]}"#,
            1,
        );
        assert_eq!(
            r,
            Reply {
                frames: vec![],
                book: BookRequest::Subscribe
            },
            "no ack"
        );
        let snap = s.on_book(m.book(), 2);
        assert_eq!(snap.len(), 1);
        let v: Value = serde_json::from_str(&snap[0]).expect("json");
        // The wire order is checked on the text itself.
        assert!(snap[0].starts_with(r#"{"auction_events":[],"changes":[["buy","#));
        assert!(snap[0].ends_with(r#"],"symbol":"BTCUSD","trades":[],"type":"l2_updates"}"#));
        assert_eq!(
            keys(&v),
            ["auction_events", "changes", "symbol", "trades", "type"]
        );
        let mut book = OrderBook::new();
        apply(&v, &mut book);
        assert_eq!(&book, m.book());
        let mut trades = 0;
        for i in 0..2000u64 {
            for f in s.on_step(&m.step_full(), 10 + i) {
                let v: Value = serde_json::from_str(&f).expect("json");
                match v["type"].as_str() {
                    Some("l2_updates") => {
                        assert_eq!(keys(&v), ["changes", "symbol", "type"]);
                        assert_eq!(v["symbol"], "BTCUSD");
                        apply(&v, &mut book);
                    }
                    Some("trade") => {
                        trades += 1;
                        assert_eq!(
                            keys(&v),
                            [
                                "event_id",
                                "price",
                                "quantity",
                                "side",
                                "symbol",
                                "tid",
                                "timestamp",
                                "type"
                            ]
                        );
                        assert!(v["price"].is_string() && v["quantity"].is_string());
                        assert!(v["timestamp"].is_u64());
                    }
                    other => panic!("{other:?}"),
                }
            }
        }
        assert_eq!(&book, m.book());
        assert!(trades > 50, "{trades} trades");
        let hb = s.on_tick(1_786_313_195_331_000_000);
        assert_eq!(
            hb,
            vec![r#"{"timestamp":1786313195331,"type":"heartbeat"}"#.to_owned()]
        );
    }

    #[test]
    fn bad_subscriptions_are_refused() {
        let mut s = GeminiSession::new("BTCUSD");
        for bad in [
            r#"{"type":"subscribe","subscriptions":[{"name":"l2","symbols":["ETHUSD"]}]}"#,
            r#"{"type":"subscribe","subscriptions":[{"name":"candles_1m","symbols":["BTCUSD"]}]}"#,
            r#"{"type":"subscribe"}"#,
            "[]",
        ] {
            let r = s.on_text(bad, 0);
            assert_eq!(r.book, BookRequest::None, "{bad}");
            assert!(r.frames[0].contains(r#""type":"error""#));
        }
        assert!(!s.subscribed());
    }

    #[test]
    fn numbers_keep_one_decimal_at_least() {
        assert_eq!(number(d("65317.00")), "65317.0");
        assert_eq!(number(d("65217.88")), "65217.88");
        assert_eq!(number(d("0.00310000")), "0.0031");
        assert_eq!(number(Decimal::ZERO), "0.0");
    }
}

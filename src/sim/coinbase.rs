//! Coinbase Advanced Trade `level2` + `heartbeats`, server side (protocols.md §2.1): frame encoders and
//! [`CoinbaseSession`].
//!
//! Every server message carries `channel`, `timestamp` (RFC 3339, ns), a connection-wide `sequence_num`
//! (0, 1, 2, … across all channels of the connection) and `events`. Book messages use channel `l2_data`;
//! sides are `bid`/`offer`; prices and sizes are strings without fixed padding (`"65080"`, `"0.12"`);
//! `new_quantity` `"0"` deletes. Subscriptions are one channel per message; each answered with the
//! cumulative `subscriptions` list (for `level2`, after the snapshot, as observed on the wire).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::Value;

use super::market::{Change, Step};
use super::{BookRequest, Reply, Session, go_time, rfc3339};
use crate::market::{OrderBook, Side};

/// A price or size as Coinbase prints it: no trailing zeros (`65080`, `0.12`, `0`).
#[must_use]
pub fn plain(value: Decimal) -> String {
    value.normalize().to_string()
}

/// Coinbase's `event_time`: microseconds, trailing zeros dropped (`2026-08-09T21:05:48.27841Z`).
fn event_time(now_ns: u64) -> String {
    let t = rfc3339(now_ns, 6);
    let body = t
        .trim_end_matches('Z')
        .trim_end_matches('0')
        .trim_end_matches('.');
    format!("{body}Z")
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Bid => "bid",
        Side::Ask => "offer",
    }
}

/// `{"type":"error","message":…}` (carries no `sequence_num`).
#[must_use]
pub fn error_frame(message: &str) -> String {
    format!(r#"{{"type":"error","message":{}}}"#, Value::from(message))
}

/// Encodes the messages of one connection, numbering them with the connection-wide `sequence_num`.
#[derive(Debug, Clone)]
pub struct CoinbaseEncoder {
    product_json: String,
    seq: u64,
}

impl CoinbaseEncoder {
    /// An encoder for `product_id` whose first message gets `sequence_num` 0.
    #[must_use]
    pub fn new(product_id: &str) -> Self {
        Self {
            product_json: Value::from(product_id).to_string(),
            seq: 0,
        }
    }

    /// The `sequence_num` the next message will carry.
    #[must_use]
    pub fn next_sequence(&self) -> u64 {
        self.seq
    }

    fn envelope(&mut self, channel: &str, now_ns: u64, capacity: usize) -> String {
        let mut s = String::with_capacity(capacity);
        let _ = write!(
            s,
            r#"{{"channel":"{channel}","timestamp":"{}","sequence_num":{},"events":["#,
            rfc3339(now_ns, 9),
            self.seq
        );
        self.seq += 1;
        s
    }

    fn l2(&mut self, kind: &str, levels: &[(Side, Decimal, Decimal)], now_ns: u64) -> String {
        let mut s = self.envelope("l2_data", now_ns, 160 + 110 * levels.len());
        let et = event_time(now_ns.saturating_sub(200_000));
        let _ = write!(
            s,
            r#"{{"type":"{kind}","product_id":{},"updates":["#,
            self.product_json
        );
        for (i, (side, p, q)) in levels.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            let _ = write!(
                s,
                r#"{{"side":"{}","event_time":"{et}","price_level":"{}","new_quantity":"{}"}}"#,
                side_name(*side),
                plain(*p),
                plain(*q)
            );
        }
        s.push_str("]}]}");
        s
    }

    /// The full-book snapshot: bids best first, then offers best first.
    pub fn snapshot(&mut self, book: &OrderBook, now_ns: u64) -> String {
        let levels: Vec<_> = [Side::Bid, Side::Ask]
            .into_iter()
            .flat_map(|side| book.levels(side).map(move |(p, q)| (side, p, q)))
            .collect();
        self.l2("snapshot", &levels, now_ns)
    }

    /// One update with every change of a step, in order; `None` for an empty step.
    pub fn update(&mut self, changes: &[Change], now_ns: u64) -> Option<String> {
        if changes.is_empty() {
            return None;
        }
        let levels: Vec<_> = changes.iter().map(|c| (c.side, c.price, c.qty)).collect();
        Some(self.l2("update", &levels, now_ns))
    }

    /// The cumulative `subscriptions` message: channel → products.
    pub fn subscriptions(&mut self, subs: &BTreeMap<String, Vec<String>>, now_ns: u64) -> String {
        let mut s = self.envelope("subscriptions", now_ns, 200);
        let _ = write!(
            s,
            r#"{{"subscriptions":{}}}]}}"#,
            serde_json::to_string(subs).unwrap_or_else(|_| "{}".to_owned())
        );
        s
    }

    /// A `heartbeats` message; `uptime_ns` is the server's monotonic age (Go's `m=+…`).
    pub fn heartbeat(&mut self, counter: u64, now_ns: u64, uptime_ns: u64) -> String {
        let mut s = self.envelope("heartbeats", now_ns, 220);
        let _ = write!(
            s,
            r#"{{"current_time":"{}","heartbeat_counter":{counter}}}]}}"#,
            go_time(now_ns.saturating_sub(1_500_000), uptime_ns)
        );
        s
    }
}

/// One Advanced Trade connection: `level2` and `heartbeats` subscriptions (one channel per message,
/// unsubscribe supported), snapshot + updates, 1-second heartbeats, one `sequence_num` for everything.
#[derive(Debug)]
pub struct CoinbaseSession {
    product: String,
    enc: CoinbaseEncoder,
    subs: BTreeMap<String, Vec<String>>,
    level2_pending: bool,
    level2: bool,
    heartbeats: bool,
    heartbeat_counter: u64,
    server_start_ns: u64,
    ever_subscribed: bool,
}

impl CoinbaseSession {
    /// A session for `product_id`; `server_start_ns` dates the heartbeat counter (seconds of uptime).
    #[must_use]
    pub fn new(product_id: &str, server_start_ns: u64) -> Self {
        Self {
            product: product_id.to_owned(),
            enc: CoinbaseEncoder::new(product_id),
            subs: BTreeMap::new(),
            level2_pending: false,
            level2: false,
            heartbeats: false,
            heartbeat_counter: 0,
            server_start_ns,
            ever_subscribed: false,
        }
    }

    /// The `sequence_num` of the next message.
    #[must_use]
    pub fn next_sequence(&self) -> u64 {
        self.enc.next_sequence()
    }

    fn reply(frames: Vec<String>, book: BookRequest) -> Reply {
        Reply { frames, book }
    }
}

impl Session for CoinbaseSession {
    fn open(&mut self, _now_ns: u64) -> Vec<String> {
        Vec::new()
    }

    fn on_text(&mut self, text: &str, now_ns: u64) -> Reply {
        let err = |m: &str| Self::reply(vec![error_frame(m)], BookRequest::None);
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            return err("malformed message");
        };
        let kind = v.get("type").and_then(Value::as_str).unwrap_or("");
        if kind != "subscribe" && kind != "unsubscribe" {
            return err("Failed to subscribe: unknown message type");
        }
        let Some(channel) = v.get("channel").and_then(Value::as_str) else {
            return err("Failed to subscribe: channel is required (one channel per message)");
        };
        let products: Vec<&str> = v
            .get("product_ids")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let subscribe = kind == "subscribe";
        match channel {
            "level2" => {
                if products.is_empty() || products.iter().any(|p| *p != self.product) {
                    return err("Failed to subscribe: unknown product_ids");
                }
                if subscribe {
                    self.ever_subscribed = true;
                    if self.level2 || self.level2_pending {
                        return Self::reply(Vec::new(), BookRequest::None);
                    }
                    self.level2_pending = true;
                    Self::reply(Vec::new(), BookRequest::Subscribe)
                } else {
                    let was = self.level2;
                    self.level2 = false;
                    self.level2_pending = false;
                    self.subs.remove("level2");
                    let ack = self.enc.subscriptions(&self.subs, now_ns);
                    let book = if was {
                        BookRequest::Unsubscribe
                    } else {
                        BookRequest::None
                    };
                    Self::reply(vec![ack], book)
                }
            }
            "heartbeats" => {
                if subscribe {
                    self.ever_subscribed = true;
                    if !self.heartbeats {
                        self.heartbeats = true;
                        self.heartbeat_counter =
                            now_ns.saturating_sub(self.server_start_ns) / 1_000_000_000;
                    }
                    self.subs
                        .insert("heartbeats".to_owned(), vec!["heartbeats".to_owned()]);
                } else {
                    self.heartbeats = false;
                    self.subs.remove("heartbeats");
                }
                let ack = self.enc.subscriptions(&self.subs, now_ns);
                Self::reply(vec![ack], BookRequest::None)
            }
            other => err(&format!(
                "Failed to subscribe: channel {other} not supported"
            )),
        }
    }

    fn on_book(&mut self, book: &OrderBook, now_ns: u64) -> Vec<String> {
        if !self.level2_pending {
            return Vec::new();
        }
        self.level2_pending = false;
        self.level2 = true;
        let snap = self.enc.snapshot(book, now_ns);
        self.subs
            .insert("level2".to_owned(), vec![self.product.clone()]);
        let ack = self.enc.subscriptions(&self.subs, now_ns + 700_000);
        vec![snap, ack]
    }

    fn on_step(&mut self, step: &Step, now_ns: u64) -> Vec<String> {
        if !self.level2 {
            return Vec::new();
        }
        self.enc.update(&step.changes, now_ns).into_iter().collect()
    }

    fn on_tick(&mut self, now_ns: u64) -> Vec<String> {
        if !self.heartbeats {
            return Vec::new();
        }
        self.heartbeat_counter += 1;
        vec![self.enc.heartbeat(
            self.heartbeat_counter,
            now_ns,
            now_ns.saturating_sub(self.server_start_ns),
        )]
    }

    fn tick_period(&self) -> Duration {
        Duration::from_secs(1)
    }

    fn requires_prompt_subscription(&self) -> bool {
        !self.ever_subscribed
    }

    fn subscribed(&self) -> bool {
        self.level2
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::d;
    use crate::sim::market::SimMarket;

    const L2: &str = r#"{"type":"subscribe","product_ids":["BTC-USD"],"channel":"level2"}"#;
    const HB: &str = r#"{"type":"subscribe","product_ids":["BTC-USD"],"channel":"heartbeats"}"#;

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

    /// Applies an `l2_data` message's updates to `book`, checking each entry's shape strictly.
    fn apply_l2(v: &Value, book: &mut OrderBook) -> String {
        assert_eq!(v["channel"], "l2_data");
        let ev = &v["events"][0];
        assert_eq!(v["events"].as_array().map(Vec::len), Some(1));
        assert_eq!(ev["product_id"], "BTC-USD");
        for u in ev["updates"].as_array().expect("updates") {
            assert_eq!(
                keys(u),
                ["event_time", "new_quantity", "price_level", "side"]
            );
            let side = match u["side"].as_str() {
                Some("bid") => Side::Bid,
                Some("offer") => Side::Ask,
                other => panic!("side {other:?}"),
            };
            let p = u["price_level"].as_str().expect("price is a string");
            let q = u["new_quantity"].as_str().expect("qty is a string");
            assert!(!p.ends_with('0') || !p.contains('.'), "padded price {p}");
            assert!(!q.ends_with('0') || !q.contains('.'), "padded qty {q}");
            book.apply(
                side,
                crate::feed::parse_price(p).expect("price"),
                crate::feed::parse_decimal(q).expect("qty"),
            );
        }
        ev["type"].as_str().expect("type").to_owned()
    }

    #[test]
    fn subscribe_snapshot_updates_heartbeats_with_contiguous_sequence() {
        let mut m = SimMarket::new(9, d("0.01"), 500);
        let start = 1_767_225_600_000_000_000;
        let mut s = CoinbaseSession::new("BTC-USD", start - 41_000_000_000);
        assert!(s.requires_prompt_subscription());
        assert!(s.open(start).is_empty());
        let r = s.on_text(L2, start + 1);
        assert_eq!(r.book, BookRequest::Subscribe);
        assert!(!s.requires_prompt_subscription());
        let mut frames = s.on_book(m.book(), start + 2);
        frames.extend(s.on_text(HB, start + 3).frames);
        let mut book = OrderBook::new();
        for i in 0..300u64 {
            let now = start + 10 + i * 6_666_666;
            frames.extend(s.on_step(&m.step_full(), now));
            if i % 150 == 149 {
                frames.extend(s.on_tick(now));
            }
        }
        let (mut snapshots, mut updates, mut acks, mut beats) = (0, 0, Vec::new(), Vec::new());
        for (i, f) in frames.iter().enumerate() {
            let v: Value = serde_json::from_str(f).expect("json");
            assert_eq!(keys(&v), ["channel", "events", "sequence_num", "timestamp"]);
            assert!(f.starts_with(r#"{"channel":""#), "{f:.80}");
            assert_eq!(v["sequence_num"].as_u64(), Some(i as u64), "{f:.200}");
            assert!(v["timestamp"].as_str().is_some_and(|t| t.len() == 30));
            match v["channel"].as_str() {
                Some("l2_data") => match apply_l2(&v, &mut book).as_str() {
                    "snapshot" => snapshots += 1,
                    "update" => updates += 1,
                    other => panic!("{other}"),
                },
                Some("subscriptions") => acks.push(v["events"][0]["subscriptions"].clone()),
                Some("heartbeats") => {
                    let e = &v["events"][0];
                    assert!(
                        e["current_time"]
                            .as_str()
                            .is_some_and(|t| t.contains(" +0000 UTC m=+"))
                    );
                    beats.push(e["heartbeat_counter"].as_u64().expect("counter"));
                }
                other => panic!("channel {other:?}"),
            }
        }
        assert_eq!(frames.len() as u64, s.next_sequence());
        assert_eq!(snapshots, 1);
        assert_eq!(updates + 1 + acks.len() + beats.len(), frames.len());
        assert!(updates > 250, "{updates} updates");
        assert_eq!(
            &book,
            m.book(),
            "snapshot + updates rebuild the server's book"
        );
        assert_eq!(book.depth(Side::Bid), m.book().depth(Side::Bid));
        assert_eq!(acks.len(), 2);
        assert_eq!(acks[0], serde_json::json!({"level2":["BTC-USD"]}));
        assert_eq!(
            acks[1],
            serde_json::json!({"heartbeats":["heartbeats"],"level2":["BTC-USD"]})
        );
        assert_eq!(beats, vec![42, 43]);
    }

    #[test]
    fn bad_subscriptions_get_errors_and_unsubscribe_stops_the_book() {
        let mut s = CoinbaseSession::new("BTC-USD", 0);
        for bad in [
            r#"{"type":"subscribe","product_ids":["BTC-USD"],"channels":["level2"]}"#,
            r#"{"type":"subscribe","product_ids":["ETH-USD"],"channel":"level2"}"#,
            r#"{"type":"subscribe","product_ids":["BTC-USD"],"channel":"level3"}"#,
            "{",
        ] {
            let r = s.on_text(bad, 1);
            assert_eq!(r.book, BookRequest::None);
            let v: Value = serde_json::from_str(&r.frames[0]).expect("json");
            assert_eq!(v["type"], "error", "{bad}");
        }
        assert_eq!(s.next_sequence(), 0, "errors carry no sequence_num");
        s.on_text(L2, 2);
        let m = SimMarket::new(1, d("0.01"), 100);
        assert_eq!(s.on_book(m.book(), 3).len(), 2);
        assert!(s.subscribed());
        let r = s.on_text(
            r#"{"type":"unsubscribe","product_ids":["BTC-USD"],"channel":"level2"}"#,
            4,
        );
        assert_eq!(r.book, BookRequest::Unsubscribe);
        let v: Value = serde_json::from_str(&r.frames[0]).expect("json");
        assert_eq!(v["events"][0]["subscriptions"], serde_json::json!({}));
        assert!(!s.subscribed());
        assert!(s.on_tick(5).is_empty(), "no heartbeats without the channel");
    }

    #[test]
    fn numbers_are_unpadded_strings() {
        assert_eq!(plain(d("65080.00")), "65080");
        assert_eq!(plain(d("0.12000000")), "0.12");
        assert_eq!(plain(d("0.00000000")), "0");
        assert_eq!(
            event_time(1_786_313_195_331_000_000),
            "2026-08-09T22:06:35.331Z"
        );
    }
}

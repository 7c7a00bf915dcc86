//! The simulated venues on loopback: subscription handling, snapshot + update streams that rebuild the
//! server's book exactly (Kraken: its top-D window with valid checksums), Coinbase's contiguous
//! `sequence_num`, heartbeats under paused tokio time, fault injection, and `start_demo`.
//!
//! The client side here is written independently of `src/sim`: frames are parsed with serde_json
//! (numbers kept as raw tokens) and checksums recomputed from the documented recipe on strings.

use std::time::Duration;

use cra_tui::config::{Config, VenueConfig};
use cra_tui::feed::{parse_decimal, parse_price};
use cra_tui::market::{Decimal, OrderBook, Side};
use cra_tui::sim::{SimHandle, SimOptions, spawn_server, start_demo};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use serde_json::value::RawValue;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, timeout};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

fn venue(name: &str) -> VenueConfig {
    let c = Config::default_config().expect("default config");
    c.venues
        .into_iter()
        .find(|v| v.name == name)
        .expect("venue in the default config")
}

fn opts() -> SimOptions {
    SimOptions {
        updates_per_sec: 0,
        levels_per_side: 300,
        ..SimOptions::default()
    }
}

async fn serve(name: &str, o: &SimOptions) -> SimHandle {
    let l = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
    spawn_server(&venue(name), l, o).expect("server")
}

async fn connect(h: &SimHandle) -> Ws {
    connect_async(h.url()).await.expect("connect").0
}

#[derive(Debug, PartialEq)]
enum Next {
    Text(String),
    Closed,
    Silent,
}

/// The next text frame within `within` (tokio time).
async fn next(ws: &mut Ws, within: Duration) -> Next {
    let deadline = Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return Next::Silent,
            Ok(Some(Ok(Message::Text(t)))) => return Next::Text(t.to_string()),
            Ok(Some(Ok(Message::Close(_)) | Err(_)) | None) => return Next::Closed,
            Ok(Some(Ok(_))) => {}
        }
    }
}

async fn text(ws: &mut Ws) -> String {
    match next(ws, Duration::from_secs(30)).await {
        Next::Text(t) => t,
        other => panic!("expected a frame, got {other:?}"),
    }
}

async fn send(ws: &mut Ws, s: &str) {
    ws.send(Message::text(s)).await.expect("send");
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).expect("frame is JSON")
}

// ---------- Kraken ----------

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct KBook<'a> {
    channel: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(borrow)]
    data: Vec<KData<'a>>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct KData<'a> {
    symbol: &'a str,
    #[serde(borrow)]
    bids: Vec<KLevel<'a>>,
    #[serde(borrow)]
    asks: Vec<KLevel<'a>>,
    checksum: u32,
    #[allow(dead_code)]
    timestamp: &'a str,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct KLevel<'a> {
    #[serde(borrow)]
    price: &'a RawValue,
    #[serde(borrow)]
    qty: &'a RawValue,
}

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

/// Applies a Kraken book frame (snapshot replaces), truncates to `depth`, checks the checksum.
/// Returns the frame's type.
fn kraken_apply(frame: &str, book: &mut OrderBook, depth: usize) -> String {
    let m: KBook<'_> = serde_json::from_str(frame).expect("kraken book frame");
    assert_eq!(m.channel, "book");
    if m.kind == "snapshot" {
        book.clear();
    }
    for d in &m.data {
        assert_eq!(d.symbol, "BTC/USD");
        for (side, levels) in [(Side::Bid, &d.bids), (Side::Ask, &d.asks)] {
            for l in levels {
                let (p, q) = (l.price.get(), l.qty.get());
                assert!(p.len() - p.find('.').expect("decimal point") == 2, "{p}");
                assert!(q.len() - q.find('.').expect("decimal point") == 9, "{q}");
                book.apply(
                    side,
                    parse_price(p).expect("price"),
                    parse_decimal(q).expect("qty"),
                );
            }
        }
        book.truncate(depth);
        assert_eq!(d.checksum, naive_checksum(book), "checksum of {frame:.120}");
    }
    m.kind.to_owned()
}

fn top(book: &OrderBook, depth: usize) -> OrderBook {
    let mut b = book.clone();
    b.truncate(depth);
    b
}

const KRAKEN_SUB: &str = r#"{"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD"],"depth":DEPTH,"snapshot":true},"req_id":7}"#;

#[tokio::test(start_paused = true)]
async fn kraken_status_subscription_snapshot_windowed_updates_and_heartbeats() {
    let h = serve("kraken", &opts()).await;
    let mut ws = connect(&h).await;
    let status = json(&text(&mut ws).await);
    assert_eq!(status["channel"], "status");
    assert_eq!(status["data"][0]["system"], "online");
    // Nothing else (no heartbeat) until a subscription.
    assert_eq!(next(&mut ws, Duration::from_secs(3)).await, Next::Silent);

    send(&mut ws, &KRAKEN_SUB.replace("DEPTH", "27")).await;
    let err = json(&text(&mut ws).await);
    assert_eq!(err["success"], false);
    assert_eq!(err["error"], "Subscription depth not supported");
    assert_eq!(err["req_id"], 7);

    send(&mut ws, r#"{"method":"ping","req_id":101}"#).await;
    let pong = json(&text(&mut ws).await);
    assert_eq!(
        (pong["method"].as_str(), pong["req_id"].as_u64()),
        (Some("pong"), Some(101))
    );

    send(&mut ws, &KRAKEN_SUB.replace("DEPTH", "10")).await;
    let ack = json(&text(&mut ws).await);
    assert_eq!(ack["method"], "subscribe");
    assert_eq!(ack["success"], true);
    assert_eq!(
        ack["result"],
        serde_json::json!({"channel":"book","depth":10,"snapshot":true,"symbol":"BTC/USD"})
    );
    let mut book = OrderBook::new();
    assert_eq!(
        kraken_apply(&text(&mut ws).await, &mut book, 10),
        "snapshot"
    );
    assert_eq!(book, top(&h.book(), 10));

    h.step(400);
    let want = top(&h.book(), 10);
    let mut updates = 0;
    while book != want {
        let f = text(&mut ws).await;
        if f == r#"{"channel":"heartbeat"}"# {
            continue;
        }
        assert_eq!(kraken_apply(&f, &mut book, 10), "update");
        updates += 1;
    }
    assert!(updates > 40, "{updates} updates for 400 steps");

    // Idle: heartbeats about once a second.
    let mut beats = Vec::new();
    while beats.len() < 3 {
        if text(&mut ws).await == r#"{"channel":"heartbeat"}"# {
            beats.push(Instant::now());
        }
    }
    for w in beats.windows(2) {
        let gap = w[1] - w[0];
        assert!(
            gap >= Duration::from_millis(1000) && gap <= Duration::from_millis(1300),
            "{gap:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn kraken_depth_1000_window_follows_a_running_market() {
    let o = SimOptions {
        updates_per_sec: 150,
        levels_per_side: 1000,
        ..SimOptions::default()
    };
    let h = serve("kraken", &o).await;
    let mut ws = connect(&h).await;
    text(&mut ws).await; // status
    send(&mut ws, &KRAKEN_SUB.replace("DEPTH", "1000")).await;
    text(&mut ws).await; // ack
    let mut book = OrderBook::new();
    assert_eq!(
        kraken_apply(&text(&mut ws).await, &mut book, 1000),
        "snapshot"
    );
    assert_eq!(book.depth(Side::Bid), 1000);
    let start = Instant::now();
    let mut updates = 0;
    while Instant::now() - start < Duration::from_secs(5) {
        let f = text(&mut ws).await;
        if kraken_apply(&f, &mut book, 1000) == "update" {
            updates += 1;
        }
    }
    assert!(updates > 300, "{updates} updates in 5 s at 150/s");
    // Stop the market (connections keep streaming), then the client catches up with the server.
    h.freeze(true);
    let steps = h.steps();
    assert!(steps >= 700, "{steps} steps in 5 s");
    let want = top(&h.book(), 1000);
    while book != want {
        let f = text(&mut ws).await;
        assert_eq!(kraken_apply(&f, &mut book, 1000), "update");
    }
    assert_eq!(h.steps(), steps);
    assert!(book.depth(Side::Ask) == 1000 && !book.is_crossed());
}

// ---------- Coinbase ----------

const CB_L2: &str = r#"{"type":"subscribe","product_ids":["BTC-USD"],"channel":"level2"}"#;
const CB_HB: &str = r#"{"type":"subscribe","product_ids":["BTC-USD"],"channel":"heartbeats"}"#;

/// Applies an `l2_data` frame; returns the event type.
fn coinbase_apply(v: &Value, book: &mut OrderBook) -> String {
    let ev = &v["events"][0];
    let kind = ev["type"].as_str().expect("type").to_owned();
    if kind == "snapshot" {
        book.clear();
    }
    assert_eq!(ev["product_id"], "BTC-USD");
    for u in ev["updates"].as_array().expect("updates") {
        let side = match u["side"].as_str() {
            Some("bid") => Side::Bid,
            Some("offer") => Side::Ask,
            other => panic!("side {other:?}"),
        };
        book.apply(
            side,
            parse_price(u["price_level"].as_str().expect("string price")).expect("price"),
            parse_decimal(u["new_quantity"].as_str().expect("string qty")).expect("qty"),
        );
    }
    kind
}

#[tokio::test(start_paused = true)]
async fn coinbase_sequence_is_contiguous_and_the_book_rebuilds_exactly() {
    let h = serve("coinbase", &opts()).await;
    let mut ws = connect(&h).await;
    send(&mut ws, CB_L2).await;
    send(&mut ws, CB_HB).await;
    let mut book = OrderBook::new();
    let mut seq = Vec::new();
    let mut channels = Vec::new();
    // snapshot, level2 ack, heartbeats ack
    for _ in 0..3 {
        let v = json(&text(&mut ws).await);
        seq.push(v["sequence_num"].as_u64().expect("seq"));
        channels.push(v["channel"].as_str().expect("channel").to_owned());
        if v["channel"] == "l2_data" {
            assert_eq!(coinbase_apply(&v, &mut book), "snapshot");
        }
    }
    assert_eq!(channels, ["l2_data", "subscriptions", "subscriptions"]);
    assert_eq!(&book, &h.book());
    h.step(300);
    let want = h.book();
    let mut beats = Vec::new();
    while book != want {
        let v = json(&text(&mut ws).await);
        seq.push(v["sequence_num"].as_u64().expect("seq"));
        match v["channel"].as_str() {
            Some("l2_data") => assert_eq!(coinbase_apply(&v, &mut book), "update"),
            Some("heartbeats") => beats.push(v["events"][0]["heartbeat_counter"].as_u64()),
            other => panic!("{other:?}"),
        }
    }
    // Heartbeats once per second of (paused) tokio time, counters consecutive.
    let mut at = Vec::new();
    while at.len() < 4 {
        let v = json(&text(&mut ws).await);
        seq.push(v["sequence_num"].as_u64().expect("seq"));
        assert_eq!(v["channel"], "heartbeats");
        at.push(Instant::now());
        beats.push(v["events"][0]["heartbeat_counter"].as_u64());
    }
    for w in at.windows(2) {
        assert_eq!(w[1] - w[0], Duration::from_secs(1));
    }
    let beats: Vec<u64> = beats.into_iter().map(|b| b.expect("counter")).collect();
    for w in beats.windows(2) {
        assert_eq!(w[1], w[0] + 1, "{beats:?}");
    }
    let expected: Vec<u64> = (0..seq.len() as u64).collect();
    assert_eq!(
        seq, expected,
        "sequence_num is 0, 1, 2, … on the connection"
    );
}

#[tokio::test(start_paused = true)]
async fn coinbase_closes_a_connection_that_never_subscribes() {
    let h = serve("coinbase", &opts()).await;
    let mut ws = connect(&h).await;
    let t0 = Instant::now();
    assert_eq!(next(&mut ws, Duration::from_secs(30)).await, Next::Closed);
    assert!(Instant::now() - t0 >= Duration::from_secs(5));
}

#[tokio::test(start_paused = true)]
async fn a_lagging_connection_is_dropped_and_a_reconnect_gets_a_fresh_snapshot() {
    let o = SimOptions {
        lag_capacity: 8,
        ..opts()
    };
    let h = serve("coinbase", &o).await;
    let mut ws = connect(&h).await;
    send(&mut ws, CB_L2).await;
    text(&mut ws).await;
    text(&mut ws).await;
    h.step(100); // without yielding: the connection falls 100 steps behind a buffer of 8
    loop {
        match next(&mut ws, Duration::from_secs(30)).await {
            Next::Text(_) => {}
            Next::Closed => break,
            Next::Silent => panic!("lagging connection kept open"),
        }
    }
    let mut ws = connect(&h).await;
    send(&mut ws, CB_L2).await;
    let v = json(&text(&mut ws).await);
    assert_eq!(v["sequence_num"], 0);
    let mut book = OrderBook::new();
    assert_eq!(coinbase_apply(&v, &mut book), "snapshot");
    assert_eq!(book, h.book());
    assert_eq!(h.accepted(), 2);
}

// ---------- Gemini ----------

fn gemini_apply(v: &Value, book: &mut OrderBook) {
    for c in v["changes"].as_array().expect("changes") {
        let side = match c[0].as_str() {
            Some("buy") => Side::Bid,
            Some("sell") => Side::Ask,
            other => panic!("{other:?}"),
        };
        book.apply(
            side,
            parse_price(c[1].as_str().expect("string")).expect("price"),
            parse_decimal(c[2].as_str().expect("string")).expect("qty"),
        );
    }
}

#[tokio::test(start_paused = true)]
async fn gemini_snapshot_updates_trades_and_five_second_heartbeats() {
    let h = serve("gemini", &opts()).await;
    let mut ws = connect(&h).await;
    send(
        &mut ws,
        r#"{"type":"subscribe","subscriptions":[{"name":"l2","symbols":["BTCUSD"]}]}"#,
    )
    .await;
    let snap = json(&text(&mut ws).await);
    assert_eq!(snap["type"], "l2_updates");
    assert_eq!(snap["trades"], serde_json::json!([]));
    assert_eq!(snap["auction_events"], serde_json::json!([]));
    let mut book = OrderBook::new();
    gemini_apply(&snap, &mut book);
    assert_eq!(book, h.book());
    h.step(500);
    let want = h.book();
    let mut trades = 0;
    while book != want {
        let v = json(&text(&mut ws).await);
        match v["type"].as_str() {
            Some("l2_updates") => {
                assert!(v.get("trades").is_none());
                gemini_apply(&v, &mut book);
            }
            Some("trade") => trades += 1,
            Some("heartbeat") => {}
            other => panic!("{other:?}"),
        }
    }
    assert!(trades > 5, "{trades} trades");
    let mut at = Vec::new();
    while at.len() < 3 {
        let v = json(&text(&mut ws).await);
        if v["type"] == "heartbeat" {
            assert!(v["timestamp"].is_u64());
            at.push(Instant::now());
        }
    }
    assert_eq!(at[1] - at[0], Duration::from_secs(5));
    assert_eq!(at[2] - at[1], Duration::from_secs(5));
}

// ---------- Fault injection ----------

#[tokio::test(start_paused = true)]
async fn inject_drop_and_pause() {
    let h = serve("gemini", &opts()).await;
    let mut ws = connect(&h).await;
    send(
        &mut ws,
        r#"{"type":"subscribe","subscriptions":[{"name":"l2","symbols":["BTCUSD"]}]}"#,
    )
    .await;
    text(&mut ws).await;
    h.inject_frame("not json at all");
    assert_eq!(text(&mut ws).await, "not json at all");

    h.pause(true);
    assert!(h.is_paused());
    h.step(3);
    assert_eq!(next(&mut ws, Duration::from_secs(12)).await, Next::Silent);
    h.pause(false);
    // The queued steps and heartbeats resume.
    let v = json(&text(&mut ws).await);
    assert!(v["type"] == "l2_updates" || v["type"] == "heartbeat" || v["type"] == "trade");

    assert_eq!(h.connections(), 1);
    h.drop_connections();
    loop {
        match next(&mut ws, Duration::from_secs(30)).await {
            Next::Text(_) => {}
            Next::Closed => break,
            Next::Silent => panic!("not dropped"),
        }
    }
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(h.connections(), 0);
    h.shutdown();
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert!(
        timeout(Duration::from_secs(5), connect_async(h.url()))
            .await
            .map_or(true, |r| r.is_err())
    );
}

// ---------- start_demo ----------

#[tokio::test(start_paused = true)]
async fn start_demo_rewrites_urls_and_serves_every_venue() {
    let config = Config::default_config().expect("config");
    let (demo, handles) = start_demo(&config, opts()).await.expect("demo");
    assert_eq!(handles.len(), 3);
    assert_eq!(demo.venues.len(), config.venues.len());
    for ((d, c), h) in demo.venues.iter().zip(&config.venues).zip(&handles) {
        assert_eq!(d.url, format!("ws://127.0.0.1:{}/", h.addr.port()));
        assert_ne!(d.url, c.url);
        let mut same = d.clone();
        same.url = c.url.clone();
        assert_eq!(&same, c, "only the url differs");
        let mid = {
            let b = h.book();
            let (bid, _) = b.best(Side::Bid).expect("bid");
            let (ask, _) = b.best(Side::Ask).expect("ask");
            (bid + ask) / Decimal::TWO
        };
        assert!(
            (mid - Decimal::from(65_000)).abs() < Decimal::from(50),
            "{mid}"
        );
    }
    assert_ne!(handles[0].book(), handles[1].book());
    // Every venue answers its own subscription.
    for (v, h) in demo.venues.iter().zip(&handles) {
        let mut ws = connect(h).await;
        for s in &v.subscribe {
            send(&mut ws, s).await;
        }
        let mut got_book = false;
        for _ in 0..4 {
            let f = text(&mut ws).await;
            got_book |= f.contains("snapshot") || f.contains("auction_events");
            if got_book {
                break;
            }
        }
        assert!(got_book, "{}", v.name);
    }
    let mut other = config.clone();
    other.venues.truncate(1);
    let (one, hs) = start_demo(&other, opts()).await.expect("demo");
    assert_eq!((one.venues.len(), hs.len()), (1, 1));
}

#[tokio::test(start_paused = true)]
async fn a_client_close_is_answered_and_counted() {
    let h = serve("kraken", &opts()).await;
    let mut ws = connect(&h).await;
    text(&mut ws).await; // status
    assert_eq!(h.connections(), 1);
    ws.close(None).await.expect("close");
    // The server answers the close handshake: the stream ends cleanly.
    loop {
        match ws.next().await {
            Some(Ok(Message::Close(_))) | None => break,
            Some(Ok(_)) => {}
            Some(Err(e)) => panic!("close not answered: {e}"),
        }
    }
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(h.connections(), 0);
}

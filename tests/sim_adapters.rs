//! The project's adapters (`crate::feed::build_adapter`) decode the simulator's frames without a single
//! error and end with the simulator's book (Kraken: its top-D window, with every checksum verified by
//! the adapter), both from the pure frame generator and over a loopback connection.

use std::time::Duration;

use cra_tui::config::{Config, VenueConfig};
use cra_tui::feed::{FrameOutcome, Limits, build_adapter};
use cra_tui::market::{OrderBook, Side};
use cra_tui::sim::capture::{Dir, FrameGen};
use cra_tui::sim::{SimOptions, spawn_server};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;

fn venue(name: &str, kraken_depth: Option<u32>) -> VenueConfig {
    let c = match kraken_depth {
        Some(d) => Config::from_user_toml(&format!("[[venue]]\nname = \"kraken\"\ndepth = {d}\n")),
        None => Config::default_config(),
    }
    .expect("config");
    c.venues
        .into_iter()
        .find(|v| v.name == name)
        .expect("venue")
}

/// The server's book as a depth-`depth` client must hold it (`None`: the full book).
fn expected(full: &OrderBook, depth: Option<u32>) -> OrderBook {
    let mut b = full.clone();
    if let Some(d) = depth {
        b.truncate(d as usize);
    }
    b
}

/// Feeds `frames` received frames of the generator to the venue's adapter; no error allowed; the
/// adapter's book must equal the simulator's at every point where the generator is drained.
fn generated_frames_rebuild_the_book(v: &VenueConfig, frames: usize, seed: u64) {
    let opts = SimOptions {
        seed,
        levels_per_side: 1000,
        ..SimOptions::default()
    };
    let mut sim = FrameGen::new(v, &opts).expect("generator");
    let mut adapter = build_adapter(v, Limits::default()).expect("adapter");
    adapter.reset();
    let mut book = OrderBook::new();
    let (mut snapshots, mut updates, mut heartbeats, mut compared) = (0, 0, 0, 0);
    let mut seen = 0;
    while seen < frames {
        let f = sim.next_frame();
        if f.dir == Dir::Out {
            continue;
        }
        seen += 1;
        match adapter.on_frame(&f.frame, &mut book) {
            Ok(FrameOutcome::Snapshot) => snapshots += 1,
            Ok(FrameOutcome::Update) => updates += 1,
            Ok(FrameOutcome::Heartbeat) => heartbeats += 1,
            Ok(FrameOutcome::Ack | FrameOutcome::Ignored) => {}
            Ok(other) => panic!("{}: frame {seen}: {other:?} for {:.200}", v.name, f.frame),
            Err(e) => panic!("{}: frame {seen}: {e} for {:.200}", v.name, f.frame),
        }
        if sim.pending() == 0 && snapshots > 0 {
            compared += 1;
            if compared % 50 == 0 || seen >= frames {
                assert_eq!(
                    book,
                    expected(sim.book(), v.depth),
                    "{} after {seen}",
                    v.name
                );
            }
        }
    }
    assert_eq!(snapshots, 1, "{}", v.name);
    assert!(updates > frames / 2, "{}: {updates} updates", v.name);
    assert!(!book.is_crossed());
    if v.name == "gemini" {
        assert!(heartbeats > 0 || frames < 1000, "gemini heartbeats");
    }
    assert_eq!(book, expected(sim.book(), v.depth), "{} at the end", v.name);
}

#[test]
fn coinbase_adapter_rebuilds_the_simulated_book() {
    generated_frames_rebuild_the_book(&venue("coinbase", None), 20_000, 1);
}

#[test]
fn gemini_adapter_rebuilds_the_simulated_book() {
    generated_frames_rebuild_the_book(&venue("gemini", None), 20_000, 2);
}

#[test]
fn kraken_adapter_follows_the_simulated_window_at_every_depth() {
    for (depth, seed) in [(10, 3), (100, 4), (1000, 5)] {
        generated_frames_rebuild_the_book(&venue("kraken", Some(depth)), 10_000, seed);
    }
}

/// Over loopback: subscribe as configured, run a 150 steps/s market for 5 s of paused tokio time,
/// freeze it, and drain until the adapter's book equals the server's.
async fn loopback(name: &str) {
    let v = venue(name, None);
    let opts = SimOptions::default();
    let l = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
    let h = spawn_server(&v, l, &opts).expect("server");
    let (mut ws, _) = connect_async(h.url()).await.expect("connect");
    for s in &v.subscribe {
        ws.send(Message::text(s.as_str())).await.expect("send");
    }
    let mut adapter = build_adapter(&v, Limits::default()).expect("adapter");
    adapter.reset();
    let mut book = OrderBook::new();
    let start = tokio::time::Instant::now();
    let mut frozen = false;
    let mut frames = 0;
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(30), ws.next())
            .await
            .expect("a frame within 30 s");
        let Some(Ok(Message::Text(t))) = msg else {
            continue;
        };
        frames += 1;
        adapter
            .on_frame(t.as_str(), &mut book)
            .unwrap_or_else(|e| panic!("{name}: {e} for {:.200}", t.as_str()));
        if !frozen && tokio::time::Instant::now() - start >= Duration::from_secs(5) {
            h.freeze(true);
            frozen = true;
        }
        if frozen && book == expected(&h.book(), v.depth) {
            break;
        }
    }
    assert!(frames > 500, "{name}: {frames} frames");
    assert!(book.depth(Side::Bid) >= 900, "{name}");
}

#[tokio::test(start_paused = true)]
async fn coinbase_adapter_over_loopback() {
    loopback("coinbase").await;
}

#[tokio::test(start_paused = true)]
async fn gemini_adapter_over_loopback() {
    loopback("gemini").await;
}

#[tokio::test(start_paused = true)]
async fn kraken_adapter_over_loopback() {
    loopback("kraken").await;
}

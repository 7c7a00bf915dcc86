//! Benchmarks of the hot paths: frame decode + apply per adapter (Kraken: with its checksum verified),
//! Kraken's checksum alone, book apply, the walks, and the whole View build.
//! `cargo bench --bench hot_paths`.

use std::hint::black_box;

use cra_tui::config::Config;
use cra_tui::feed::kraken::checksum;
use cra_tui::feed::{Adapter, FrameOutcome, Limits, build_adapter};
use cra_tui::market::{Action, Decimal, Depletion, OrderBook, Side, walk, walk_merged};
use cra_tui::sim::SimOptions;
use cra_tui::sim::capture::{Dir, FrameGen};
use cra_tui::state::engine::{ConnectReason, Engine, Ticket, ViewOptions};
use cra_tui::state::view::Source;
use criterion::{Criterion, criterion_group, criterion_main};

/// Deterministic pseudo-random numbers (no dependency, same book every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

/// ~1000 levels a side around `mid` on a `tick` (in cents) grid, quantities with 8 decimals.
fn levels(seed: u64, mid_cents: i64, tick_cents: i64, n: usize) -> Vec<(Side, Decimal, Decimal)> {
    let mut r = Lcg(seed);
    let mut out = Vec::with_capacity(2 * n);
    for i in 0..n as i64 {
        let off = (i + 1) * tick_cents;
        for (side, price) in [(Side::Bid, mid_cents - off), (Side::Ask, mid_cents + off)] {
            let qty = Decimal::new(i64::try_from(r.next() % 300_000_000).unwrap_or(1) + 1, 8);
            out.push((side, Decimal::new(price, 2), qty));
        }
    }
    out
}

fn book(seed: u64, mid_cents: i64, tick_cents: i64) -> OrderBook {
    let mut b = OrderBook::new();
    for (s, p, q) in levels(seed, mid_cents, tick_cents, 1000) {
        b.apply(s, p, q);
    }
    b
}

fn coinbase_frames(n: u64) -> (String, Vec<String>) {
    let lv = levels(1, 6_500_000, 1, 1000);
    let ups: Vec<String> = lv
        .iter()
        .map(|(s, p, q)| {
            let side = if *s == Side::Bid { "bid" } else { "offer" };
            format!(r#"{{"side":"{side}","event_time":"2026-08-09T21:05:48.170326Z","price_level":"{p}","new_quantity":"{q}"}}"#)
        })
        .collect();
    let snap = format!(
        r#"{{"channel":"l2_data","timestamp":"2026-08-09T21:05:48.483587501Z","sequence_num":0,"events":[{{"type":"snapshot","product_id":"BTC-USD","updates":[{}]}}]}}"#,
        ups.join(",")
    );
    let mut r = Lcg(7);
    let updates = (1..=n)
        .map(|seq| {
            let off = i64::try_from(r.next() % 20).unwrap_or(0) + 1;
            let (side, price) = if seq % 2 == 0 { ("bid", 6_500_000 - off) } else { ("offer", 6_500_000 + off) };
            let qty = Decimal::new(i64::try_from(r.next() % 100_000_000).unwrap_or(0), 8);
            format!(
                r#"{{"channel":"l2_data","timestamp":"2026-08-09T21:05:48.506659391Z","sequence_num":{seq},"events":[{{"type":"update","product_id":"BTC-USD","updates":[{{"side":"{side}","event_time":"2026-08-09T21:05:48.264069Z","price_level":"{}","new_quantity":"{qty}"}}]}}]}}"#,
                Decimal::new(price, 2)
            )
        })
        .collect();
    (snap, updates)
}

fn gemini_frames(n: u64) -> (String, Vec<String>) {
    let lv = levels(2, 6_500_000, 1, 1000);
    let ch: Vec<String> = lv
        .iter()
        .map(|(s, p, q)| {
            format!(
                r#"["{}","{p}","{q}"]"#,
                if *s == Side::Bid { "buy" } else { "sell" }
            )
        })
        .collect();
    let snap = format!(
        r#"{{"auction_events":[],"changes":[{}],"symbol":"BTCUSD","trades":[],"type":"l2_updates"}}"#,
        ch.join(",")
    );
    let mut r = Lcg(9);
    let updates = (0..n)
        .map(|i| {
            let off = i64::try_from(r.next() % 20).unwrap_or(0) + 1;
            let (side, price) = if i % 2 == 0 {
                ("buy", 6_500_000 - off)
            } else {
                ("sell", 6_500_000 + off)
            };
            let qty = Decimal::new(i64::try_from(r.next() % 100_000_000).unwrap_or(0), 8);
            format!(
                r#"{{"changes":[["{side}","{}","{qty}"]],"symbol":"BTCUSD","type":"l2_updates"}}"#,
                Decimal::new(price, 2)
            )
        })
        .collect();
    (snap, updates)
}

fn bench_decode(c: &mut Criterion) {
    let config = Config::default_config().expect("default config");
    for (name, (snap, updates)) in [
        ("coinbase", coinbase_frames(10_000)),
        ("gemini", gemini_frames(10_000)),
    ] {
        let venue = config
            .venues
            .iter()
            .find(|v| v.name == name)
            .expect("venue");
        let mut adapter = build_adapter(venue, Limits::default()).expect("adapter");
        let mut book = OrderBook::new();
        adapter.on_frame(&snap, &mut book).expect("snapshot");
        let mut i = 0;
        c.bench_function(&format!("decode+apply/{name}/update"), |b| {
            b.iter(|| {
                // Coinbase's sequence must run on: keep cycling by resetting at the wrap.
                if i == updates.len() {
                    i = 0;
                    adapter.reset();
                    adapter.on_frame(&snap, &mut book).expect("snapshot");
                }
                let r = adapter.on_frame(black_box(&updates[i]), &mut book);
                i += 1;
                black_box(r)
            });
        });
        c.bench_function(&format!("decode+apply/{name}/snapshot-2000-levels"), |b| {
            b.iter(|| {
                adapter.reset();
                black_box(adapter.on_frame(black_box(&snap), &mut book))
            });
        });
    }
}

/// Kraken frames from the simulator (so every checksum is the venue's): the frames up to and including
/// the snapshot, then `n` book updates, for a subscription at `depth`.
fn kraken_frames(depth: u32, n: usize) -> (Vec<String>, Vec<String>) {
    let config =
        Config::from_user_toml(&format!("[[venue]]\nname = \"kraken\"\ndepth = {depth}\n"))
            .expect("config");
    let venue = config
        .venues
        .iter()
        .find(|v| v.name == "kraken")
        .expect("venue");
    let mut generator = FrameGen::new(venue, &SimOptions::default()).expect("generator");
    let mut start = Vec::new();
    loop {
        let f = generator.next_frame();
        if f.dir == Dir::Out {
            continue;
        }
        let snapshot = f.frame.contains(r#""type":"snapshot""#);
        start.push(f.frame);
        if snapshot {
            break;
        }
    }
    let mut updates = Vec::with_capacity(n);
    while updates.len() < n {
        let f = generator.next_frame();
        if f.dir == Dir::In && f.frame.starts_with(r#"{"channel":"book","type":"update""#) {
            updates.push(f.frame);
        }
    }
    (start, updates)
}

/// Feeds the connection's first frames (status, ack, snapshot) to a reset adapter.
fn kraken_start(adapter: &mut dyn Adapter, book: &mut OrderBook, start: &[String]) {
    adapter.reset();
    book.clear();
    for f in start {
        adapter.on_frame(f, book).expect("start frame");
    }
}

fn bench_kraken(c: &mut Criterion) {
    let config = Config::default_config().expect("default config");
    let venue = config
        .venues
        .iter()
        .find(|v| v.name == "kraken")
        .expect("venue");
    for depth in [100, 1000] {
        let (start, updates) = kraken_frames(depth, 20_000);
        let mut adapter = build_adapter(venue, Limits::default()).expect("adapter");
        let mut book = OrderBook::new();
        // Every update is accepted (its checksum verified) before anything is timed.
        kraken_start(adapter.as_mut(), &mut book, &start);
        for u in &updates {
            assert_eq!(adapter.on_frame(u, &mut book), Ok(FrameOutcome::Update));
        }
        kraken_start(adapter.as_mut(), &mut book, &start);
        let mut i = 0;
        c.bench_function(
            &format!("decode+apply+checksum/kraken-d{depth}/update"),
            |b| {
                b.iter(|| {
                    // Updates only follow their own predecessors: start over at the wrap.
                    if i == updates.len() {
                        i = 0;
                        kraken_start(adapter.as_mut(), &mut book, &start);
                    }
                    let r = adapter.on_frame(black_box(&updates[i]), &mut book);
                    i += 1;
                    black_box(r)
                });
            },
        );
        let snapshot = start.last().expect("snapshot");
        c.bench_function(
            &format!("decode+apply+checksum/kraken-d{depth}/snapshot"),
            |b| {
                b.iter(|| {
                    adapter.reset();
                    black_box(adapter.on_frame(black_box(snapshot), &mut book))
                });
            },
        );
        // The checksum formatted from scratch (what the adapter avoids for unchanged levels).
        kraken_start(adapter.as_mut(), &mut book, &start);
        c.bench_function(&format!("checksum/kraken-d{depth}/from-scratch"), |b| {
            b.iter(|| black_box(checksum(black_box(&book), 1, 8)))
        });
    }
}

fn bench_book(c: &mut Criterion) {
    let mut b = book(3, 6_500_000, 1);
    let mut r = Lcg(11);
    c.bench_function("book/apply-near-top", |bch| {
        bch.iter(|| {
            let off = i64::try_from(r.next() % 50).unwrap_or(0) + 1;
            let qty = Decimal::new(i64::try_from(r.next() % 3).unwrap_or(0) * 12_345_678, 8);
            b.apply(Side::Bid, Decimal::new(6_500_000 - off, 2), qty);
        });
    });
}

fn bench_walks(c: &mut Criterion) {
    let books = [
        book(4, 6_500_000, 10),
        book(5, 6_500_050, 1),
        book(6, 6_499_990, 1),
    ];
    let q = Decimal::from(15);
    c.bench_function("walk/one-book-15btc", |b| {
        b.iter(|| black_box(walk(books[0].levels(Side::Bid), black_box(q))))
    });
    let refs = [Some(&books[0]), Some(&books[1]), Some(&books[2])];
    c.bench_function("walk/merged-3-books-15btc", |b| {
        b.iter(|| black_box(walk_merged(&refs, Side::Bid, black_box(q))))
    });
}

fn bench_view(c: &mut Criterion) {
    let config = Config::default_config().expect("default config");
    let ticket = Ticket {
        action: Action::Sell,
        quantity: Decimal::from(15),
        step: Decimal::ONE,
    };
    let mut engine = Engine::new(&config, ticket, Source::Replay).expect("engine");
    let (cb, _) = coinbase_frames(0);
    let (ge, _) = gemini_frames(0);
    engine.on_connection(1, ConnectReason::First);
    engine.on_connection(2, ConnectReason::First);
    engine.on_frame(1, 0, &cb);
    engine.on_frame(2, 0, &ge);
    c.bench_function("view/build-headless", |b| {
        b.iter(|| black_box(engine.view(0, ViewOptions { depth: false })))
    });
    c.bench_function("view/build-with-depth", |b| {
        b.iter(|| black_box(engine.view(0, ViewOptions { depth: true })))
    });
    // The issue's case: three ~1,000-level books (Kraken at depth 1000, from the simulator).
    let (kraken_start_frames, _) = kraken_frames(1000, 0);
    let mut three = Engine::new(&config, ticket, Source::Replay).expect("engine");
    for (venue, frames) in [
        (0, kraken_start_frames),
        (1, vec![cb.clone()]),
        (2, vec![ge.clone()]),
    ] {
        three.on_connection(venue, ConnectReason::First);
        for f in &frames {
            assert_eq!(three.on_frame(venue, 0, f), None, "venue {venue}");
        }
    }
    let view = three.view(0, ViewOptions { depth: true });
    assert!(view.venues.iter().all(|v| v.merged), "all three live");
    assert!(
        view.venues.iter().all(|v| v.book_levels.0 >= 900),
        "~1,000 bid levels each"
    );
    c.bench_function("view/build-with-depth-3-books", |b| {
        b.iter(|| black_box(three.view(0, ViewOptions { depth: true })))
    });
    // A live run also reports receive→View latency: a full window of samples per venue.
    let mut r = Lcg(13);
    for _ in 0..2048 {
        for venue in 0..3 {
            engine.record_latency(venue, r.next() % 5_000);
        }
    }
    c.bench_function("view/build-with-depth-and-latency", |b| {
        b.iter(|| black_box(engine.view(0, ViewOptions { depth: true })))
    });
}

/// The dashboard's View in a live run: all three venues, each fed the simulator's own frames (its
/// snapshot, then `updates` frames), so books, level sizes and walk lengths are the demo's.
fn bench_live_view(c: &mut Criterion) {
    let config = Config::default_config().expect("default config");
    let ticket = Ticket {
        action: Action::Sell,
        quantity: Decimal::from(15),
        step: Decimal::ONE,
    };
    let mut engine = Engine::new(&config, ticket, Source::Demo).expect("engine");
    let updates = 2_000;
    for (i, venue) in config.venues.iter().enumerate() {
        let mut generator = FrameGen::new(venue, &SimOptions::default()).expect("generator");
        engine.on_connection(i, ConnectReason::First);
        let mut fed = 0;
        while fed < updates {
            let f = generator.next_frame();
            if f.dir == Dir::In {
                let ts = i64::try_from(f.ts_ns).expect("ts");
                assert_eq!(engine.on_frame(i, ts, &f.frame), None, "{}", venue.name);
                fed += 1;
            }
        }
    }
    let view = engine.view(0, ViewOptions { depth: true });
    assert!(view.venues.iter().all(|v| v.merged), "all three live");
    assert!(!view.merged.walk.is_partial());
    c.bench_function("view/live-3-sim-venues", |b| {
        b.iter(|| black_box(engine.view(0, ViewOptions { depth: true })))
    });
}

criterion_group!(
    benches,
    bench_decode,
    bench_kraken,
    bench_book,
    bench_walks,
    bench_live_view,
    bench_view
);
criterion_main!(benches);

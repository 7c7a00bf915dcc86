//! Reliability scenarios on loopback, one test per failure users meet with L2 clients: the simulated
//! venues (or a hostile raw server) misbehave on cue, and each test asserts what the user sees — the
//! View's status, detail and counters — and that the venue comes back `live` with a book equal to the
//! simulator's. Timing-dependent tests run under paused tokio time (`start_paused`), so silence limits
//! and backoff delays pass instantly and deterministically; nothing sleeps on the wall clock.
//!
//! The virtual recovery times printed (`recovered in …`) are collected in docs/reliability.md.

mod common;

use std::time::Duration;

use cra_tui::config::Config;
use cra_tui::feed::ws::{FeedEvent, FeedOptions, run_feed};
use cra_tui::market::Action;
use cra_tui::run::{Pipeline, start_live};
use cra_tui::sim::{Fault, SimHandle};
use cra_tui::state::Command;
use cra_tui::state::engine::LinkStatus;
use cra_tui::state::view::{Source, Status, View};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

use common::{
    COINBASE, GEMINI, KRAKEN, demo_with, feed_opts, matches_sim, matches_sims, quiet, rss_bytes,
    statuses, step_all, ticket, wait_for,
};

fn start(config: &Config, opts: &FeedOptions) -> Pipeline {
    start_live(config, ticket(Action::Sell), Source::Demo, None, opts).expect("pipeline")
}

/// Quiet simulators, a pipeline, every venue live and equal to its simulator after a few steps.
async fn live_setup(seed: u64, opts: &FeedOptions) -> (Config, Vec<SimHandle>, Pipeline) {
    let (config, sims) = demo_with(quiet(seed)).await;
    let p = live_with(&config, &sims, opts).await;
    (config, sims, p)
}

async fn live_with(config: &Config, sims: &[SimHandle], opts: &FeedOptions) -> Pipeline {
    let mut p = start(config, opts);
    step_all(sims, 30);
    wait_for(&mut p, "books equal to the simulators'", |v| {
        matches_sims(v, sims, config)
    })
    .await;
    p
}

fn all_live(v: &View) -> bool {
    v.venues.iter().all(|x| x.status == Status::Live)
}

fn detail(v: &View, i: usize) -> String {
    v.venues[i].detail.clone().unwrap_or_default()
}

/// Every counter of the venues other than `i` is still clean (no loss, no reconnect).
fn others_clean(v: &View, i: usize) {
    for (j, vv) in v.venues.iter().enumerate() {
        if j != i {
            let c = vv.counters;
            assert_eq!(
                (
                    c.bad_frames,
                    c.resyncs,
                    c.reconnects,
                    c.checksum_failures,
                    c.sequence_gaps
                ),
                (0, 0, 0, 0, 0),
                "{} was disturbed",
                vv.name
            );
            assert_eq!(vv.status, Status::Live, "{}", vv.name);
        }
    }
}

/// Scenario 1a: the venue closes politely mid-stream (close frame 1001).
#[tokio::test(start_paused = true)]
async fn a_clean_close_mid_stream_reconnects_to_a_fresh_book() {
    // Backoff 0.4–0.8 s: the `down` state lasts long enough for a View (10 per second) to show it.
    let (config, sims, mut p) = live_setup(1, &feed_opts(400, 800)).await;
    let t0 = Instant::now();
    sims[KRAKEN].fault(Fault::Close);
    let v = wait_for(&mut p, "kraken down", |v| {
        v.venues[KRAKEN].status == Status::Down
    })
    .await;
    let d = detail(&v, KRAKEN);
    assert!(
        d.starts_with("closed by venue: 1001 server going away · retry in "),
        "{d}"
    );
    assert_eq!(v.venues[KRAKEN].book_levels, (0, 0));
    assert_eq!(v.merged.excluded, ["kraken"]);
    step_all(&sims, 20);
    let v = wait_for(&mut p, "kraken back and equal", |v| {
        v.venues[KRAKEN].counters.reconnects == 1 && matches_sims(v, &sims, &config)
    })
    .await;
    eprintln!("clean close: recovered in {:?}", t0.elapsed());
    assert_eq!(v.venues[KRAKEN].counters.resyncs, 0);
    assert_eq!(v.venues[KRAKEN].detail, None);
    assert_eq!(sims[KRAKEN].accepted(), 2);
    others_clean(&v, KRAKEN);
    assert_eq!(v.merged.venues, ["kraken", "coinbase", "gemini"]);
}

/// Scenario 1b: the connection is reset (TCP RST, no close frame).
#[tokio::test(start_paused = true)]
async fn an_abrupt_tcp_reset_reconnects_to_a_fresh_book() {
    let (config, sims, mut p) = live_setup(2, &feed_opts(400, 800)).await;
    let t0 = Instant::now();
    sims[COINBASE].fault(Fault::Reset);
    let v = wait_for(&mut p, "coinbase down", |v| {
        v.venues[COINBASE].status == Status::Down
    })
    .await;
    let d = detail(&v, COINBASE);
    assert!(
        d.starts_with("connection lost: ") && d.contains("reset"),
        "{d}"
    );
    assert_eq!(v.venues[COINBASE].book_levels, (0, 0));
    step_all(&sims, 20);
    let v = wait_for(&mut p, "coinbase back and equal", |v| {
        v.venues[COINBASE].counters.reconnects == 1 && matches_sims(v, &sims, &config)
    })
    .await;
    eprintln!("tcp reset: recovered in {:?}", t0.elapsed());
    assert_eq!(v.venues[COINBASE].counters.resyncs, 0);
    assert_eq!(sims[COINBASE].accepted(), 2);
    others_clean(&v, COINBASE);
}

/// Scenario 2: the venue goes silent on an open connection (half-open) → `stale` after its silence
/// limit, then a reconnect; a fresh book once it talks again.
#[tokio::test(start_paused = true)]
async fn a_silent_connection_goes_stale_then_reconnects() {
    // Backoff ≥ 1 s so the `stale` state outlives a View frame.
    let (config, sims, mut p) = live_setup(3, &feed_opts(1000, 2000)).await;
    let t0 = Instant::now();
    sims[COINBASE].pause(true);
    let v = wait_for(&mut p, "coinbase stale", |v| {
        v.venues[COINBASE].status == Status::Stale
    })
    .await;
    let silent_for = t0.elapsed();
    // The last heartbeat came at most 1 s before the pause; the limit is 5 s.
    assert!(
        silent_for >= Duration::from_secs(4) && silent_for <= Duration::from_millis(5200),
        "stale after {silent_for:?}"
    );
    assert_eq!(
        detail(&v, COINBASE),
        "no data: reconnecting",
        "{:?}",
        statuses(&v)
    );
    assert_eq!(v.venues[COINBASE].book_levels, (0, 0));
    assert_eq!(v.merged.excluded, ["coinbase"]);
    // The replacement connection reaches the (still silent) server.
    wait_for(&mut p, "a reconnect", |v| {
        v.venues[COINBASE].counters.reconnects == 1
    })
    .await;
    assert_eq!(sims[COINBASE].accepted(), 2);
    sims[COINBASE].pause(false);
    step_all(&sims, 20);
    let v = wait_for(&mut p, "coinbase live and equal", |v| {
        matches_sims(v, &sims, &config)
    })
    .await;
    eprintln!(
        "half-open: stale after {silent_for:?}, recovered {:?} after the silence began",
        t0.elapsed()
    );
    assert_eq!(v.venues[COINBASE].counters.resyncs, 0);
    others_clean(&v, COINBASE);
}

/// Scenario 2 (the other half): a quiet book with heartbeats only is alive, not stale — Coinbase and
/// Kraken heartbeat every second, Gemini every 5 s against a 15 s limit.
#[tokio::test(start_paused = true)]
async fn heartbeats_alone_keep_every_venue_live() {
    let (_config, sims, mut p) = live_setup(4, &feed_opts(50, 400)).await;
    let before = p.views.borrow().clone();
    // No market steps for 40 s of (virtual) time: only heartbeats flow.
    tokio::time::sleep(Duration::from_secs(40)).await;
    let v = wait_for(&mut p, "a fresh View", |v| v.ts_ns >= before.ts_ns).await;
    assert!(all_live(&v), "{:?}", statuses(&v));
    for (i, vv) in v.venues.iter().enumerate() {
        assert_eq!(vv.counters.reconnects, 0, "{}", vv.name);
        assert_eq!(sims[i].accepted(), 1, "{}", vv.name);
        let hb = vv.counters.messages - before.venues[i].counters.messages;
        let least = if i == GEMINI { 7 } else { 35 };
        assert!(hb >= least, "{}: {hb} heartbeats in 40 s", vv.name);
    }
}

/// TCP accepted but no WebSocket handshake ever answered: the connect timeout ends each attempt.
#[tokio::test(start_paused = true)]
async fn an_accepting_server_that_never_answers_times_out_and_retries() {
    let (mut config, sims) = demo_with(quiet(5)).await;
    let hostile = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
    config.venues[GEMINI].url = format!("ws://{}/", hostile.local_addr().expect("addr"));
    let accepts = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = hostile.accept().await {
            held.push(s); // keep it open, say nothing
            if held.len() == 3 {
                return held.len();
            }
        }
        held.len()
    });
    let mut p = start(&config, &feed_opts(50, 400));
    step_all(&sims, 10);
    let v = wait_for(&mut p, "gemini down on a timeout", |v| {
        v.venues[GEMINI].status == Status::Down
    })
    .await;
    assert!(
        detail(&v, GEMINI).starts_with("connect timed out · retry in"),
        "{}",
        detail(&v, GEMINI)
    );
    assert_eq!(accepts.await.expect("acceptor"), 3);
    let v = wait_for(&mut p, "the others equal", |v| {
        matches_sim(v, KRAKEN, &sims, &config) && matches_sim(v, COINBASE, &sims, &config)
    })
    .await;
    assert_eq!(v.merged.venues, ["kraken", "coinbase"]);
}

/// Garbage frames for `venue`: (text frames, binary frames). None carries a Coinbase `sequence_num`
/// (an injected frame with one would break the sequence, which is scenario 5).
fn garbage(venue: usize) -> (Vec<String>, Vec<Vec<u8>>) {
    let forty = "1234567890123456789012345678901234567890";
    let texts: Vec<String> = match venue {
        KRAKEN => vec![
            "this is not json".into(),
            r#"{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":650"#.into(),
            r#"{"channel":"book","type":"update","data":{"symbol":"BTC/USD"}}"#.into(),
            format!(r#"{{"channel":"book","type":"update","data":[{{"symbol":"BTC/USD","bids":[{{"price":{forty},"qty":1.0}}],"asks":[],"checksum":1,"timestamp":"2026-08-09T21:05:48.170326Z"}}]}}"#),
            r#"{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":1e400,"qty":1.0}],"asks":[],"checksum":1,"timestamp":"2026-08-09T21:05:48.170326Z"}]}"#.into(),
            r#"{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":64000.1,"qty":-1.0}],"asks":[],"checksum":1,"timestamp":"2026-08-09T21:05:48.170326Z"}]}"#.into(),
            r#"{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":64000.1,"qty":NaN}],"asks":[],"checksum":1,"timestamp":"2026-08-09T21:05:48.170326Z"}]}"#.into(),
        ],
        COINBASE => vec![
            "this is not json".into(),
            r#"{"channel":"l2_data","timestamp":"2026-08-09T21:05:48.483587501Z","sequence_num":"#.into(),
            r#"{"channel":"l2_data","events":"nope"}"#.into(),
            format!(r#"{{"channel":"l2_data","timestamp":"2026-08-09T21:05:48.4Z","events":[{{"type":"update","product_id":"BTC-USD","updates":[{{"side":"bid","event_time":"2026-08-09T21:05:48.1Z","price_level":"{forty}","new_quantity":"1"}}]}}]}}"#),
            r#"{"channel":"l2_data","timestamp":"2026-08-09T21:05:48.4Z","events":[{"type":"update","product_id":"BTC-USD","updates":[{"side":"bid","event_time":"2026-08-09T21:05:48.1Z","price_level":"1e400","new_quantity":"1"}]}]}"#.into(),
            r#"{"channel":"l2_data","timestamp":"2026-08-09T21:05:48.4Z","events":[{"type":"update","product_id":"BTC-USD","updates":[{"side":"bid","event_time":"2026-08-09T21:05:48.1Z","price_level":"64000","new_quantity":"-1"}]}]}"#.into(),
            r#"{"channel":"l2_data","timestamp":"2026-08-09T21:05:48.4Z","events":[{"type":"update","product_id":"BTC-USD","updates":[{"side":"bid","event_time":"2026-08-09T21:05:48.1Z","price_level":"64000","new_quantity":"NaN"}]}]}"#.into(),
        ],
        _ => vec![
            "this is not json".into(),
            r#"{"type":"l2_updates","symbol":"BTCUSD","changes":[["buy","6400"#.into(),
            r#"{"type":"l2_updates","symbol":"BTCUSD","changes":{"buy":1}}"#.into(),
            format!(r#"{{"type":"l2_updates","symbol":"BTCUSD","changes":[["buy","{forty}","1"]]}}"#),
            r#"{"type":"l2_updates","symbol":"BTCUSD","changes":[["buy","1e400","1"]]}"#.into(),
            r#"{"type":"l2_updates","symbol":"BTCUSD","changes":[["buy","64000","-1"]]}"#.into(),
            r#"{"type":"l2_updates","symbol":"BTCUSD","changes":[["buy","64000","NaN"]]}"#.into(),
        ],
    };
    let binary = vec![
        vec![0xff, 0x00, 0xfe, 0x81],
        b"{\"channel\":\"book\"".to_vec(),
    ];
    (texts, binary)
}

/// Scenario 3: garbage of every kind at every venue → counted as bad frames, no panic, book untouched.
#[tokio::test(start_paused = true)]
async fn garbage_frames_are_counted_and_leave_the_books_untouched() {
    let (config, sims, mut p) = live_setup(6, &feed_opts(50, 400)).await;
    let mut expected = [0u64; 3];
    for (i, sim) in sims.iter().enumerate() {
        let (texts, binary) = garbage(i);
        expected[i] = (texts.len() + binary.len()) as u64;
        for t in texts {
            sim.inject_frame(t);
        }
        for b in binary {
            sim.fault(Fault::Binary(b));
        }
    }
    let v = wait_for(&mut p, "every garbage frame counted", |v| {
        v.venues
            .iter()
            .zip(expected)
            .all(|(vv, n)| vv.counters.bad_frames >= n)
    })
    .await;
    for (i, vv) in v.venues.iter().enumerate() {
        let c = vv.counters;
        assert_eq!(c.bad_frames, expected[i], "{}", vv.name);
        assert_eq!((c.resyncs, c.reconnects), (0, 0), "{}", vv.name);
    }
    // Nothing moved: the books still equal the (unchanged) simulators', and the stream goes on.
    assert!(matches_sims(&v, &sims, &config), "{:?}", statuses(&v));
    step_all(&sims, 20);
    wait_for(&mut p, "books equal after more updates", |v| {
        matches_sims(v, &sims, &config)
    })
    .await;
    for s in &sims {
        assert_eq!(s.accepted(), 1);
    }
}

/// Scenario 4: a Kraken checksum mismatch → counted, resubscribed (a new connection), live again on
/// the next snapshot.
#[tokio::test(start_paused = true)]
async fn a_kraken_checksum_mismatch_resubscribes() {
    let (config, sims, mut p) = live_setup(7, &feed_opts(50, 400)).await;
    let t0 = Instant::now();
    sims[KRAKEN].fault(Fault::CorruptChecksum);
    sims[KRAKEN].step(1);
    let v = wait_for(&mut p, "kraken resynced", |v| {
        v.venues[KRAKEN].counters.checksum_failures == 1 && matches_sims(v, &sims, &config)
    })
    .await;
    eprintln!("kraken checksum: recovered in {:?}", t0.elapsed());
    let c = v.venues[KRAKEN].counters;
    assert_eq!((c.resyncs, c.reconnects, c.bad_frames), (1, 0, 0));
    assert_eq!(sims[KRAKEN].accepted(), 2);
    others_clean(&v, KRAKEN);
}

/// Scenario 5: Coinbase `sequence_num` gap, duplicate and reordering → each one resubscribes.
#[tokio::test(start_paused = true)]
async fn coinbase_sequence_gap_duplicate_and_reorder_resubscribe() {
    let (config, sims, mut p) = live_setup(8, &feed_opts(50, 400)).await;
    for (round, fault) in [
        Fault::SkipUpdate,
        Fault::DuplicateUpdate,
        Fault::SwapUpdates,
    ]
    .into_iter()
    .enumerate()
    {
        let n = round as u64 + 1;
        let t0 = Instant::now();
        sims[COINBASE].fault(fault.clone());
        sims[COINBASE].step(2);
        let v = wait_for(&mut p, &format!("resync after {fault:?}"), |v| {
            v.venues[COINBASE].counters.resyncs == n && matches_sims(v, &sims, &config)
        })
        .await;
        eprintln!("coinbase {fault:?}: recovered in {:?}", t0.elapsed());
        let c = v.venues[COINBASE].counters;
        assert_eq!(
            (c.sequence_gaps, c.resyncs, c.reconnects),
            (n, n, 0),
            "{fault:?}"
        );
        assert_eq!(sims[COINBASE].accepted(), n + 1);
        others_clean(&v, COINBASE);
    }
}

/// Scenario 6: a crossed book at one venue → marked, out of the merged walk while it resyncs, then live.
#[tokio::test(start_paused = true)]
async fn a_crossed_book_leaves_the_merged_walk_and_resyncs() {
    let (config, sims, mut p) = live_setup(9, &feed_opts(50, 400)).await;
    // Hold the venue silent (the crossing update is still sent) so the resync waits for us.
    sims[GEMINI].pause(true);
    sims[GEMINI].fault(Fault::CrossBook);
    let v = wait_for(&mut p, "gemini crossed", |v| {
        v.venues[GEMINI].counters.crossed_books == 1
    })
    .await;
    let g = &v.venues[GEMINI];
    assert!(
        matches!(g.status, Status::Resyncing | Status::Syncing),
        "{:?}",
        g.status
    );
    assert_eq!(g.book_levels, (0, 0));
    assert_eq!(v.merged.venues, ["kraken", "coinbase"]);
    assert_eq!(v.merged.excluded, ["gemini"]);
    assert!(v.merged.walk.fills.iter().all(|f| f.venue != GEMINI));
    assert!(v.merged.walk.by_venue[GEMINI].filled.is_zero());
    let t0 = Instant::now();
    sims[GEMINI].pause(false);
    step_all(&sims, 10);
    let v = wait_for(&mut p, "gemini back", |v| matches_sims(v, &sims, &config)).await;
    eprintln!(
        "crossed book: live {:?} after the venue answered",
        t0.elapsed()
    );
    let c = v.venues[GEMINI].counters;
    assert_eq!((c.crossed_books, c.resyncs, c.reconnects), (1, 1, 0));
    assert_eq!(sims[GEMINI].accepted(), 2);
    assert_eq!(v.merged.venues, ["kraken", "coinbase", "gemini"]);
    others_clean(&v, GEMINI);
}

/// Scenario 7: a refused subscription → `down` with the venue's text; retries back off to the cap
/// (counted: no tight loop); live once the venue accepts again.
#[tokio::test(start_paused = true)]
async fn a_rejected_subscription_is_shown_and_retried_with_capped_backoff() {
    let (config, sims) = demo_with(quiet(10)).await;
    sims[COINBASE].reject_subscriptions(Some("Failed to subscribe: product not available"));
    let mut p = start(&config, &feed_opts(50, 400));
    let v = wait_for(&mut p, "coinbase down with the venue's text", |v| {
        v.venues[COINBASE].status == Status::Down && v.venues[COINBASE].detail.is_some()
    })
    .await;
    let d = detail(&v, COINBASE);
    assert!(
        d.starts_with("venue error: Failed to subscribe: product not available"),
        "{d}"
    );
    // After the ramp (25–50, 50–100, 100–200 ms, then 200–400 ms), count attempts over 10 s.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let a0 = sims[COINBASE].accepted();
    tokio::time::sleep(Duration::from_secs(10)).await;
    let attempts = sims[COINBASE].accepted() - a0;
    assert!(
        (24..=51).contains(&attempts),
        "{attempts} attempts in 10 s at a 0.4 s cap"
    );
    let v = p.views.borrow().clone();
    let d = detail(&v, COINBASE);
    let retry: f64 = d
        .rsplit("retry in ")
        .next()
        .and_then(|s| s.trim_end_matches('s').parse().ok())
        .unwrap_or(f64::NAN);
    assert!((0.2..=0.4).contains(&retry), "{d}");
    assert!(d.starts_with("venue error: Failed to subscribe"), "{d}");
    // The others never noticed.
    assert!(matches_sim(&v, KRAKEN, &sims, &config) && matches_sim(&v, GEMINI, &sims, &config));
    sims[COINBASE].reject_subscriptions(None);
    let t0 = Instant::now();
    step_all(&sims, 10);
    let v = wait_for(&mut p, "coinbase accepted again", |v| {
        matches_sims(v, &sims, &config)
    })
    .await;
    eprintln!(
        "rejected subscription: {attempts} attempts in 10 s; live {:?} after the venue accepted again",
        t0.elapsed()
    );
    assert_eq!(v.venues[COINBASE].detail, None);
    assert_eq!(v.venues[KRAKEN].counters.reconnects, 0);
}

/// Runs a bare feed against `url` for `secs` of tokio time; returns its link events.
async fn feed_events(url: String, opts: FeedOptions, secs: u64) -> Vec<LinkStatus> {
    let mut cfg = Config::default_config().expect("config").venues[COINBASE].clone();
    cfg.url = url;
    let (tx, mut rx) = mpsc::channel(64);
    let (_ctl, ctl_rx) = mpsc::channel(4);
    let feed = tokio::spawn(run_feed(0, cfg, None, opts, tx, ctl_rx));
    let end = Instant::now() + Duration::from_secs(secs);
    let mut out = Vec::new();
    loop {
        tokio::select! {
            ev = rx.recv() => match ev {
                Some(FeedEvent::Link { status, .. }) => out.push(status),
                Some(_) => {}
                None => break,
            },
            () = tokio::time::sleep_until(end) => break,
        }
    }
    feed.abort();
    out
}

/// Checks a run of failed attempts: exponential from `base`, capped, jittered, never a tight loop.
fn check_backoff(events: &[LinkStatus], secs: u64, want_reason: &str) {
    let attempts = events
        .iter()
        .filter(|e| matches!(e, LinkStatus::Connecting { .. }))
        .count() as u64;
    let delays: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            LinkStatus::Down {
                reason,
                retry_in_ms,
            } => {
                assert!(reason.contains(want_reason), "{reason}");
                Some(*retry_in_ms)
            }
            _ => None,
        })
        .collect();
    // Base 50 ms doubling to a 400 ms cap, "equal jitter": delay k ∈ [e/2, e], e = min(50·2^k, 400).
    for (k, d) in delays.iter().enumerate() {
        let e = (50u64 << k.min(4)).min(400);
        assert!(*d >= e / 2 && *d <= e, "delay {k} = {d} ms");
    }
    let capped: std::collections::BTreeSet<_> = delays.iter().skip(4).collect();
    assert!(capped.len() > 3, "no jitter: {capped:?}");
    // 10 s at 200–400 ms per attempt: about 25–50 attempts, never thousands.
    let most = secs * 1000 / 200 + 5;
    assert!(
        attempts >= secs * 1000 / 400 && attempts <= most,
        "{attempts} attempts in {secs} s"
    );
}

/// Scenario 8a: connection refused → backoff with jitter up to the cap.
#[tokio::test(start_paused = true)]
async fn connection_refused_backs_off_with_jitter_to_the_cap() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let events = feed_events(format!("ws://127.0.0.1:{port}/"), feed_opts(50, 400), 10).await;
    check_backoff(&events, 10, "Connection refused");
}

/// Scenario 8b: the host name does not resolve (a 70-character label fails inside the resolver, so
/// no DNS query leaves the machine) → the same capped, jittered backoff.
#[tokio::test(start_paused = true)]
async fn dns_failure_backs_off_with_jitter_to_the_cap() {
    let host = format!("{}.invalid", "a".repeat(70));
    let events = feed_events(format!("ws://{host}:9/"), feed_opts(50, 400), 10).await;
    check_backoff(
        &events,
        10,
        "connect failed: IO error: failed to lookup address",
    );
    assert!(
        events
            .iter()
            .all(|e| !matches!(e, LinkStatus::Down { reason, .. } if reason.contains("refused"))),
        "{events:?}"
    );
}

/// Scenario 8c, as the user sees it: a refused venue is `down` with the reason, the others live.
#[tokio::test(start_paused = true)]
async fn a_refused_venue_is_down_while_the_others_stream() {
    let (mut config, sims) = demo_with(quiet(11)).await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    config.venues[KRAKEN].url = format!("ws://127.0.0.1:{port}/");
    let mut p = start(&config, &feed_opts(50, 400));
    step_all(&sims, 30);
    let v = wait_for(&mut p, "coinbase and gemini equal, kraken down", |v| {
        v.venues[KRAKEN].status == Status::Down
            && matches_sim(v, COINBASE, &sims, &config)
            && matches_sim(v, GEMINI, &sims, &config)
    })
    .await;
    let d = detail(&v, KRAKEN);
    assert!(
        d.starts_with("connect failed: ") && d.contains("Connection refused"),
        "{d}"
    );
    assert_eq!(v.merged.venues, ["coinbase", "gemini"]);
}

/// Scenario 9a: a frame over the configured limit → connection dropped and re-established.
#[tokio::test(start_paused = true)]
async fn an_oversize_frame_drops_the_connection_and_reconnects() {
    let (mut config, sims) = demo_with(quiet(12)).await;
    config.max_frame_bytes = 64 << 10;
    let mut p = live_with(&config, &sims, &feed_opts(400, 800)).await;
    let rss0 = rss_bytes();
    let t0 = Instant::now();
    sims[GEMINI].fault(Fault::Oversize(1 << 20));
    let v = wait_for(&mut p, "gemini down", |v| {
        v.venues[GEMINI].status == Status::Down
    })
    .await;
    let d = detail(&v, GEMINI);
    assert!(
        d.starts_with("connection lost: ") && d.contains("too long"),
        "{d}"
    );
    step_all(&sims, 10);
    let v = wait_for(&mut p, "gemini back", |v| {
        v.venues[GEMINI].counters.reconnects == 1 && matches_sims(v, &sims, &config)
    })
    .await;
    eprintln!("oversize frame: recovered in {:?}", t0.elapsed());
    others_clean(&v, GEMINI);
    if let (Some(a), Some(b)) = (rss0, rss_bytes()) {
        assert!(b < a + (32 << 20), "rss {a} → {b}");
    }
}

/// Reads an HTTP upgrade request and answers it as a WebSocket server would.
async fn handshake(s: &mut TcpStream) -> Option<()> {
    let mut req = Vec::new();
    let mut buf = [0u8; 1024];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut buf).await.ok()?;
        if n == 0 || req.len() > 16 << 10 {
            return None;
        }
        req.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&req);
    let key = text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("sec-websocket-key")
            .then(|| v.trim().to_owned())
    })?;
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    let resp = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    );
    s.write_all(resp.as_bytes()).await.ok()
}

/// Scenario 9b (hostile server): a frame header claiming 1 TiB → refused from the header alone (no
/// allocation: the test process would abort), connection dropped, retried.
#[tokio::test(start_paused = true)]
async fn a_frame_header_claiming_a_terabyte_is_refused_without_allocating() {
    let (mut config, sims) = demo_with(quiet(13)).await;
    let hostile = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
    config.venues[KRAKEN].url = format!("ws://{}/", hostile.local_addr().expect("addr"));
    // Serves every attempt the same way for the rest of the test; tells us about each one.
    let (served_tx, mut served) = mpsc::unbounded_channel();
    let server = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut s, _)) = hostile.accept().await {
            if handshake(&mut s).await.is_some() {
                // FIN + 64-bit length 2^40, then a few payload bytes; keep the socket open.
                let mut frame = vec![0x81, 127];
                frame.extend_from_slice(&(1u64 << 40).to_be_bytes());
                frame.extend_from_slice(b"{\"channel\":");
                let _ = s.write_all(&frame).await;
            }
            held.push(s);
            let _ = served_tx.send(held.len());
        }
    });
    let rss0 = rss_bytes();
    let mut p = start(&config, &feed_opts(50, 400));
    step_all(&sims, 10);
    let v = wait_for(&mut p, "kraken down on the frame size", |v| {
        v.venues[KRAKEN].status == Status::Down && detail(v, KRAKEN).contains("too long")
    })
    .await;
    assert!(detail(&v, KRAKEN).starts_with("connection lost: "));
    for n in 1..=3 {
        assert_eq!(served.recv().await, Some(n), "retried");
    }
    let v = wait_for(&mut p, "the others equal", |v| {
        matches_sim(v, COINBASE, &sims, &config) && matches_sim(v, GEMINI, &sims, &config)
    })
    .await;
    assert_eq!(v.merged.venues, ["coinbase", "gemini"]);
    if let (Some(a), Some(b)) = (rss0, rss_bytes()) {
        assert!(b < a + (32 << 20), "rss {a} → {b}");
    }
    server.abort();
}

/// Scenario 11: nobody reads a View for 2 s while updates stream → nothing lost, the next View is
/// current.
#[tokio::test(start_paused = true)]
async fn a_stalled_renderer_loses_nothing_and_catches_up() {
    let (config, sims, mut p) = live_setup(14, &feed_opts(50, 400)).await;
    let before = p.views.borrow_and_update().clone();
    // 2 s without touching the View, while each venue takes 600 steps.
    for _ in 0..20 {
        step_all(&sims, 30);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let v = wait_for(&mut p, "books equal after the stall", |v| {
        matches_sims(v, &sims, &config)
    })
    .await;
    for (i, vv) in v.venues.iter().enumerate() {
        assert!(
            vv.counters.messages >= before.venues[i].counters.messages + 600,
            "{}",
            vv.name
        );
        let c = vv.counters;
        assert_eq!((c.resyncs, c.reconnects, c.bad_frames), (0, 0, 0));
    }
}

/// Scenario 12: one venue silent (half-open) never delays the others, and a ticket change still
/// reaches the View at once.
#[tokio::test(start_paused = true)]
async fn one_silent_venue_never_delays_the_others() {
    let (config, sims, mut p) = live_setup(15, &feed_opts(1000, 2000)).await;
    sims[KRAKEN].pause(true);
    let t0 = Instant::now();
    // The others keep streaming while kraken is silent: their books track every step.
    for round in 0..8 {
        sims[COINBASE].step(25);
        sims[GEMINI].step(25);
        wait_for(&mut p, &format!("round {round}"), |v| {
            matches_sim(v, COINBASE, &sims, &config) && matches_sim(v, GEMINI, &sims, &config)
        })
        .await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let v = p.views.borrow().clone();
    assert_ne!(v.venues[KRAKEN].status, Status::Live, "{:?}", statuses(&v));
    assert!(t0.elapsed() >= Duration::from_secs(8));
    p.commands.try_send(Command::SizeUp).expect("command");
    let t1 = Instant::now();
    let v = wait_for(&mut p, "the ticket change", |v| v.quantity == 16.into()).await;
    assert!(
        t1.elapsed() < Duration::from_millis(100),
        "{:?}",
        t1.elapsed()
    );
    assert_eq!(v.merged.venues, ["coinbase", "gemini"]);
    sims[KRAKEN].pause(false);
    step_all(&sims, 5);
    wait_for(&mut p, "kraken back", |v| matches_sims(v, &sims, &config)).await;
}

/// Security: TLS is always verified. A `wss://` venue on loopback presenting a self-signed certificate
/// (made for this test, `tests/common/tls/`) is refused by the handshake: the venue is `down` with the
/// certificate error, retried, and never streams; the others are unaffected. (Real time: the TLS server
/// is a plain thread.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_venue_with_an_untrusted_certificate_is_refused() {
    use std::io::Read;
    use std::sync::Arc;

    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

    let _ = rustls::crypto::ring::default_provider().install_default();
    let cert = CertificateDer::from(include_bytes!("common/tls/self-signed.der").to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        include_bytes!("common/tls/self-signed.key.der").to_vec(),
    ));
    let server_cfg = Arc::new(
        rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .expect("server config"),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    // Serves handshakes for the rest of the test (a detached thread, ended with the process) and
    // reports how each ended: the client must abort every one.
    let (ends_tx, ends_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        while let Ok((sock, _)) = listener.accept() {
            let conn = rustls::ServerConnection::new(Arc::clone(&server_cfg)).expect("conn");
            let mut tls = rustls::StreamOwned::new(conn, sock);
            let mut buf = [0u8; 64];
            let end = match tls.read(&mut buf) {
                Ok(n) => format!("read {n} bytes"),
                Err(e) => e.to_string(),
            };
            if ends_tx.send(end).is_err() {
                break;
            }
        }
    });
    let (mut config, sims) = demo_with(quiet(16)).await;
    config.venues[KRAKEN].url = format!("wss://{addr}/");
    let mut p = start(&config, &feed_opts(50, 400));
    step_all(&sims, 10);
    let v = wait_for(&mut p, "kraken refused on its certificate", |v| {
        v.venues[KRAKEN].status == Status::Down && detail(v, KRAKEN).contains("peer certificate")
    })
    .await;
    let d = detail(&v, KRAKEN);
    assert!(
        d.starts_with("connect failed: ") && d.contains("invalid peer certificate"),
        "{d}"
    );
    let ends = tokio::task::spawn_blocking(move || {
        (0..2)
            .map(|_| {
                ends_rx
                    .recv_timeout(Duration::from_secs(30))
                    .expect("a handshake")
            })
            .collect::<Vec<_>>()
    })
    .await
    .expect("join");
    for e in &ends {
        assert!(
            e.contains("alert"),
            "the client did not abort the handshake: {e}"
        );
    }
    let v = wait_for(&mut p, "the others equal", |v| {
        matches_sim(v, COINBASE, &sims, &config) && matches_sim(v, GEMINI, &sims, &config)
    })
    .await;
    assert_eq!(v.venues[KRAKEN].counters.messages, 0);
    p.shutdown().await;
}

/// A silent stall of another kind: the venue accepts the subscription and keeps the connection alive
/// (heartbeats) but never delivers a book → after twice the silence limit the venue is resynced, and
/// is live as soon as the venue serves books again. (Real time: the deadline runs on the frames'
/// wall-clock stamps; the limit is shortened to 1.5 s, so the deadline is 3 s.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_venue_that_never_sends_a_book_is_resubscribed() {
    let (mut config, sims) = demo_with(quiet(17)).await;
    config.venues[COINBASE].stale_after_ms = 1500;
    sims[COINBASE].withhold_snapshots(true);
    let t0 = std::time::Instant::now();
    let mut p = start(&config, &feed_opts(50, 400));
    step_all(&sims, 10);
    let v = wait_for(&mut p, "coinbase resyncing for want of a book", |v| {
        v.venues[COINBASE].counters.resyncs >= 1
    })
    .await;
    let waited = t0.elapsed();
    assert!(waited >= Duration::from_secs(3), "{waited:?}");
    assert_eq!(v.venues[COINBASE].counters.reconnects, 0);
    assert_ne!(v.venues[COINBASE].status, Status::Live);
    // Heartbeats flowed the whole time: this is not the silence of scenario 2.
    assert!(v.venues[COINBASE].counters.messages >= 3);
    sims[COINBASE].withhold_snapshots(false);
    let v = wait_for(&mut p, "coinbase live once books are served", |v| {
        matches_sims(v, &sims, &config)
    })
    .await;
    eprintln!(
        "no book: resynced after {waited:?}, live at {:?}",
        t0.elapsed()
    );
    assert!(sims[COINBASE].accepted() >= 2);
    others_clean(&v, COINBASE);
    p.shutdown().await;
}

//! Scenario 10, the flood: the three simulated venues push updates as fast as loopback and the client
//! take them (the simulator waits for the slowest connection instead of dropping it), while the test
//! changes the ticket again and again. Checks: no update lost (final books equal the simulators', no
//! resync or reconnect), memory bounded (bounded channels, coalesced Views), and every ticket change
//! reaches the View within 100 ms.
//!
//! Runs on real time (a multi-threaded runtime; nothing sleeps). 30,000 updates by default;
//! `CRA_TUI_FLOOD=1000000 cargo test --release --test faults_flood -- --nocapture` runs the full million.
//! Alone in its own test binary so the RSS figures are this test's.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use cra_tui::market::{Action, Decimal};
use cra_tui::run::start_live;
use cra_tui::sim::SimOptions;
use cra_tui::state::Command;
use cra_tui::state::view::Source;

use common::{demo_with, feed_opts, matches_sims, rss_bytes, step_all, ticket, wait_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_loses_nothing_stays_bounded_and_the_ticket_stays_responsive() {
    let total: u64 = std::env::var("CRA_TUI_FLOOD")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30_000);
    let per_venue = total.div_ceil(3);
    let (config, sims) = demo_with(SimOptions {
        seed: 21,
        updates_per_sec: 0,
        levels_per_side: 200,
        ..SimOptions::default()
    })
    .await;
    let mut p = start_live(
        &config,
        ticket(Action::Sell),
        Source::Demo,
        None,
        &feed_opts(50, 400),
    )
    .expect("pipeline");
    step_all(&sims, 10);
    let v0 = wait_for(&mut p, "books equal before the flood", |v| {
        matches_sims(v, &sims, &config)
    })
    .await;
    let rss0 = rss_bytes().unwrap_or(0);
    let sims = Arc::new(sims);
    let started = Instant::now();
    let flood = {
        let sims = Arc::clone(&sims);
        tokio::spawn(async move {
            tokio::join!(
                sims[0].flood(per_venue),
                sims[1].flood(per_venue),
                sims[2].flood(per_venue)
            );
        })
    };
    // While it floods: change the ticket, time how long the View takes to show it, sample memory.
    let mut latencies = Vec::new();
    let mut rss_max = rss0;
    let mut rss_samples = Vec::new();
    let mut quantity = v0.quantity;
    while !flood.is_finished() {
        p.commands.try_send(Command::SizeUp).expect("command queue");
        quantity += Decimal::ONE;
        let t = Instant::now();
        let q = quantity;
        wait_for(&mut p, "the ticket change", |v| v.quantity == q).await;
        latencies.push(t.elapsed());
        // Let a few Views go by (event-driven pacing), sampling RSS on each.
        for _ in 0..5 {
            if flood.is_finished() || p.views.changed().await.is_err() {
                break;
            }
            let r = rss_bytes().unwrap_or(0);
            rss_max = rss_max.max(r);
            rss_samples.push(r);
        }
    }
    flood.await.expect("flood");
    let flooded = started.elapsed();
    let v = wait_for(&mut p, "books equal after the flood", |v| {
        matches_sims(v, &sims, &config)
    })
    .await;
    let caught_up = started.elapsed();
    for (i, vv) in v.venues.iter().enumerate() {
        let c = vv.counters;
        assert_eq!(
            (c.resyncs, c.reconnects, c.bad_frames),
            (0, 0, 0),
            "{}",
            vv.name
        );
        // (A step may change nothing a venue shows, e.g. beyond Kraken's window: most send a frame.)
        assert!(
            c.messages >= v0.venues[i].counters.messages + per_venue * 9 / 10,
            "{}: {} messages",
            vv.name,
            c.messages
        );
        assert_eq!(sims[i].accepted(), 1, "{} reconnected", vv.name);
    }
    let worst = latencies.iter().max().copied().unwrap_or_default();
    let half = rss_samples.len() / 2;
    let first_half = rss_samples[..half].iter().max().copied().unwrap_or(rss0);
    let second_half = rss_samples[half..].iter().max().copied().unwrap_or(rss0);
    eprintln!(
        "flood: {total} updates in {flooded:?} ({:.0}/s), caught up at {caught_up:?}; \
         {} ticket changes, worst {worst:?}; RSS {} MiB → max {} MiB (first half {} MiB, second half {} MiB)",
        total as f64 / flooded.as_secs_f64(),
        latencies.len(),
        rss0 >> 20,
        rss_max >> 20,
        first_half >> 20,
        second_half >> 20,
    );
    assert!(!latencies.is_empty());
    assert!(
        worst < Duration::from_millis(100),
        "a ticket change took {worst:?}"
    );
    // Bounded: the flood's backlog is a few thousand frames, whatever its length.
    assert!(
        rss_max < rss0 + (96 << 20),
        "RSS grew from {} to {} MiB",
        rss0 >> 20,
        rss_max >> 20
    );
    assert!(
        second_half < first_half + (16 << 20),
        "RSS still growing: {} → {} MiB",
        first_half >> 20,
        second_half >> 20
    );
    p.shutdown().await;
}

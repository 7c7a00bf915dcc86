//! Helpers shared by the loopback integration tests: event-driven waits on the View, the client's
//! expected view of a simulator's book, demo servers, and fast feed timings.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::sync::Arc;
use std::time::Duration;

use cra_tui::config::{Config, VenueConfig};
use cra_tui::feed::ws::FeedOptions;
use cra_tui::market::{Action, Decimal, OrderBook, Side, walk};
use cra_tui::run::Pipeline;
use cra_tui::sim::{SimHandle, SimOptions, start_demo};
use cra_tui::state::engine::Ticket;
use cra_tui::state::view::{Status, VenueView, View};
use tokio::time::timeout;

/// Venue indexes in the default config.
pub const KRAKEN: usize = 0;
/// Coinbase's index.
pub const COINBASE: usize = 1;
/// Gemini's index.
pub const GEMINI: usize = 2;

/// A ticket of 15 (the default size) on `action`.
pub fn ticket(action: Action) -> Ticket {
    Ticket {
        action,
        quantity: Decimal::from(15),
        step: Decimal::ONE,
    }
}

/// Venue name → (status, detail) of every venue, for failure messages.
pub fn statuses(v: &View) -> Vec<(String, Status, Option<String>)> {
    v.venues
        .iter()
        .map(|x| (x.name.clone(), x.status, x.detail.clone()))
        .collect()
}

/// Waits (event-driven, bounded by 60 s of tokio time) until `pred` holds for the latest View.
pub async fn wait_for(p: &mut Pipeline, what: &str, pred: impl Fn(&View) -> bool) -> Arc<View> {
    wait_for_within(p, Duration::from_secs(60), what, pred).await
}

/// [`wait_for`] with an explicit bound.
pub async fn wait_for_within(
    p: &mut Pipeline,
    within: Duration,
    what: &str,
    pred: impl Fn(&View) -> bool,
) -> Arc<View> {
    let r = timeout(within, async {
        loop {
            let v = p.views.borrow_and_update().clone();
            if pred(&v) {
                return v;
            }
            if p.views.changed().await.is_err() {
                panic!("actor ended while waiting for {what}");
            }
        }
    })
    .await;
    match r {
        Ok(v) => v,
        Err(_) => panic!(
            "timed out waiting for {what}: {:?}",
            statuses(&p.views.borrow())
        ),
    }
}

/// What the client should hold of a server book: Kraken clients see the subscribed top-`depth` window.
pub fn client_view(sim: &OrderBook, depth: Option<u32>) -> OrderBook {
    let mut b = sim.clone();
    if let Some(d) = depth {
        b.truncate(usize::try_from(d).unwrap_or(usize::MAX));
    }
    b
}

/// True when venue `vv` is live and its walk and level counts equal what `sim`'s book gives.
pub fn venue_matches(v: &View, vv: &VenueView, sim: &SimHandle, cfg: &VenueConfig) -> bool {
    let book = client_view(&sim.book(), cfg.depth);
    let expected = walk(book.levels(v.side()), v.quantity);
    vv.status == Status::Live
        && vv.walk == expected
        && vv.book_levels == (book.depth(Side::Bid), book.depth(Side::Ask))
        && vv.best_bid == book.best(Side::Bid).map(|l| l.0)
        && vv.best_ask == book.best(Side::Ask).map(|l| l.0)
}

/// True when every venue's book equals its simulator's (see [`venue_matches`]).
pub fn matches_sims(v: &View, sims: &[SimHandle], config: &Config) -> bool {
    v.venues
        .iter()
        .zip(sims)
        .zip(&config.venues)
        .all(|((vv, sim), cfg)| venue_matches(v, vv, sim, cfg))
}

/// True when venue `i`'s book equals its simulator's.
pub fn matches_sim(v: &View, i: usize, sims: &[SimHandle], config: &Config) -> bool {
    venue_matches(v, &v.venues[i], &sims[i], &config.venues[i])
}

/// Demo servers for the default config with `opts` (seeded), and the config pointing at them.
pub async fn demo_with(opts: SimOptions) -> (Config, Vec<SimHandle>) {
    let config = Config::default_config().expect("default config");
    start_demo(&config, opts).await.expect("simulators")
}

/// Demo servers at the default pace with `seed`.
pub async fn demo(seed: u64) -> (Config, Vec<SimHandle>) {
    demo_with(SimOptions {
        seed,
        ..SimOptions::default()
    })
    .await
}

/// Quiet demo servers for fault tests: no stepping of their own (the test calls `step`), small books.
pub fn quiet(seed: u64) -> SimOptions {
    SimOptions {
        seed,
        updates_per_sec: 0,
        levels_per_side: 100,
        ..SimOptions::default()
    }
}

/// Feed timings for tests: backoff `base`..`cap`, 1 s connect timeout, stable after 2 s.
pub fn feed_opts(base_ms: u64, cap_ms: u64) -> FeedOptions {
    FeedOptions {
        connect_timeout: Duration::from_secs(1),
        backoff_base: Duration::from_millis(base_ms),
        backoff_cap: Duration::from_millis(cap_ms),
        stable_after: Duration::from_secs(2),
        ..FeedOptions::default()
    }
}

/// Steps every simulator `n` times.
pub fn step_all(sims: &[SimHandle], n: usize) {
    for s in sims {
        s.step(n);
    }
}

/// This process's resident set size in bytes (Linux `/proc/self/statm`), if readable.
pub fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

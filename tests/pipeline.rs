//! End to end on loopback: simulated exchanges → feed tasks → state actor → View / headless line, and
//! a recorded session replayed through the same engine.

use std::io::BufReader;

use cra_tui::feed::capture::Recorder;
use cra_tui::feed::ws::FeedOptions;
use cra_tui::headless;
use cra_tui::market::{Action, Decimal};
use cra_tui::replay::{Speed, replay_headless};
use cra_tui::run::start_live;
use cra_tui::state::engine::{Engine, ViewOptions};
use cra_tui::state::view::{Source, Status};
mod common;

use common::{demo, matches_sims, ticket, wait_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulators_to_feeds_to_view_and_headless_line() {
    let (config, sims) = demo(11).await;
    let mut p = start_live(
        &config,
        ticket(Action::Sell),
        Source::Demo,
        None,
        &FeedOptions::default(),
    )
    .expect("pipeline");
    let v = wait_for(&mut p, "three live venues", |v| {
        v.venues.iter().all(|x| x.status == Status::Live)
    })
    .await;
    assert_eq!(v.merged.venues, ["kraken", "coinbase", "gemini"]);
    // Let updates flow, then stop the markets and wait for the client books to catch up exactly.
    wait_for(&mut p, "updates", |v| {
        v.venues.iter().all(|x| x.counters.messages > 50)
    })
    .await;
    for s in &sims {
        s.freeze(true);
    }
    let v = wait_for(&mut p, "books equal to the simulators'", |v| {
        matches_sims(v, &sims, &config)
    })
    .await;
    for vv in &v.venues {
        let c = vv.counters;
        assert_eq!(
            (
                c.bad_frames,
                c.checksum_failures,
                c.sequence_gaps,
                c.crossed_books,
                c.resyncs
            ),
            (0, 0, 0, 0, 0),
            "{}",
            vv.name
        );
    }
    // The merged walk fills the order across venues, split adds up, and fills are best-first.
    let m = &v.merged.walk;
    assert_eq!(m.filled, Decimal::from(15));
    assert_eq!(
        m.by_venue.iter().map(|s| s.filled).sum::<Decimal>(),
        m.filled
    );
    assert!(m.fills.windows(2).all(|w| w[0].price >= w[1].price));
    let line: serde_json::Value = serde_json::from_str(&headless::line(&v)).expect("json");
    assert_eq!(line["side"], "bid");
    let filled: Decimal = line["merged"]["filled"]
        .as_str()
        .expect("string")
        .parse()
        .expect("decimal");
    assert_eq!(filled, Decimal::from(15));
    assert_eq!(line["venues"].as_array().map(Vec::len), Some(3));
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_session_replays_to_the_same_final_line() {
    let dir = std::env::temp_dir().join(format!("cra-tui-pipeline-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("rec.ndjson");
    let (config, sims) = demo(12).await;
    let names: Vec<String> = config.venues.iter().map(|v| v.name.clone()).collect();
    let rec = Recorder::create(&path, &config.symbol, &names, 0).expect("recorder");
    let mut p = start_live(
        &config,
        ticket(Action::Buy),
        Source::Demo,
        Some(rec),
        &FeedOptions::default(),
    )
    .expect("pipeline");
    wait_for(&mut p, "updates", |v| {
        v.venues
            .iter()
            .all(|x| x.status == Status::Live && x.counters.messages > 100)
    })
    .await;
    for s in &sims {
        s.freeze(true);
    }
    wait_for(&mut p, "books equal to the simulators'", |v| {
        matches_sims(v, &sims, &config)
    })
    .await;
    let live: Engine = p.finish().await.expect("engine");
    let end = live.last_frame_ns().expect("frames");
    let live_line = headless::line(&live.view(end, ViewOptions { depth: false }));

    let mut replayed = Engine::new(&config, ticket(Action::Buy), Source::Replay).expect("engine");
    let mut out = Vec::new();
    let input = BufReader::new(std::fs::File::open(&path).expect("open"));
    let stats = replay_headless(&mut replayed, input, 1000, Speed::Max, &mut out).expect("replay");
    assert_eq!(stats.bad_lines, 0);
    let text = String::from_utf8(out).expect("utf8");
    let replay_line = text.lines().last().expect("a line");
    assert_eq!(replay_line, live_line);
    std::fs::remove_dir_all(&dir).ok();
}

//! Read pacing of a live feed (`FeedOptions::read_pace`), against a loopback WebSocket server under
//! paused tokio time: a steady trickle of frames is taken in batches on the pacing grid, a burst is
//! taken at once, and no frame's receive time is later than the moment it was sent (the latency the
//! dashboard shows counts the time a frame waited in the socket).

use std::time::Duration;

use cra_tui::config::Config;
use cra_tui::feed::ws::{FeedEvent, FeedOptions, run_feed};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep, sleep_until};
use tokio_tungstenite::tungstenite::Message;

/// One frame as the test saw it: its number, when the server sent it, its receive time as the feed
/// stamped it, and when it reached the actor's channel.
struct Seen {
    n: usize,
    sent: Instant,
    recv: Instant,
    delivered: Instant,
}

/// Frames sent at once before the trickle. Under paused time the client's delayed ACKs (a real-time
/// timer) never come, so a fresh connection's congestion window (10 segments) would hold the trickle
/// back; a burst read at once (an ACK per read) opens it, as a live connection's window is open.
const WARM: usize = 1_000;

/// Serves one client: after `start`, `WARM` frames at once, then `trickle` frames 1 ms apart, then a
/// pause, then `burst` frames at once. Each frame's text is its number. Returns the send instants, by
/// number.
async fn serve(
    listener: TcpListener,
    start: Instant,
    trickle: usize,
    burst: usize,
) -> Vec<Instant> {
    let (tcp, _) = listener.accept().await.expect("accept");
    // As a venue does: under paused time, Nagle's wait for the client's delayed ACK would hold every
    // frame after the first for a real-time 40 ms that virtual time never gives it.
    tcp.set_nodelay(true).expect("nodelay");
    let ws = tokio_tungstenite::accept_async(tcp)
        .await
        .expect("handshake");
    // Read (and drop) what the client sends, as a venue does.
    let (mut ws, mut incoming) = ws.split();
    tokio::spawn(async move { while let Some(Ok(_)) = incoming.next().await {} });
    let mut sent = Vec::new();
    sleep_until(start).await;
    for n in 0..WARM {
        ws.feed(Message::text(n.to_string())).await.expect("feed");
        sent.push(Instant::now());
    }
    ws.flush().await.expect("flush");
    sleep(Duration::from_millis(100)).await;
    for n in WARM..WARM + trickle {
        ws.send(Message::text(n.to_string())).await.expect("send");
        sent.push(Instant::now());
        sleep(Duration::from_millis(1)).await;
    }
    sleep(Duration::from_millis(100)).await;
    // 400 frames: more than the runtime lets one task take in a turn (its budget is 128 operations),
    // in one write of ~50 KiB that reaches the client whole. A burst larger than the socket's window
    // reaches it in pieces as the kernel moves it on (in real time): a piece of a few frames is a
    // light batch, rightly paced, and under paused time each such wait jumped the clock a tick.
    let pad = "x".repeat(100);
    for n in WARM + trickle..WARM + trickle + burst {
        ws.feed(Message::text(format!("{n} {pad}")))
            .await
            .expect("feed");
        sent.push(Instant::now());
    }
    ws.flush().await.expect("flush");
    // Stay connected until the client has read everything.
    sleep(Duration::from_secs(5)).await;
    sent
}

/// Runs a feed with `pace` against the server; returns every frame seen and the server's send times.
async fn run(pace: Duration, trickle: usize, burst: usize) -> Vec<Seen> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let start = Instant::now() + Duration::from_secs(1);
    let server = tokio::spawn(serve(listener, start, trickle, burst));
    let mut cfg = Config::default_config().expect("config").venues[1].clone();
    cfg.url = format!("ws://127.0.0.1:{port}");
    cfg.stale_after_ms = 60_000;
    let opts = FeedOptions {
        read_pace: pace,
        ..FeedOptions::default()
    };
    let (tx, mut rx) = mpsc::channel(1024);
    let (_ctl, ctl_rx) = mpsc::channel(4);
    let feed = tokio::spawn(run_feed(0, cfg, None, opts, tx, ctl_rx));
    let mut frames = Vec::new();
    while frames.len() < WARM + trickle + burst {
        match rx.recv().await.expect("feed events") {
            FeedEvent::Frame { text, recv, .. } => {
                let n = text.split(' ').next().and_then(|n| n.parse().ok());
                frames.push((n.expect("number"), recv, Instant::now()));
            }
            FeedEvent::Sent { .. } | FeedEvent::Link { .. } => {}
        }
    }
    let sent = server.await.expect("server");
    feed.abort();
    frames
        .into_iter()
        .skip(WARM)
        .map(|(n, recv, delivered)| Seen {
            n,
            sent: sent[n],
            recv,
            delivered,
        })
        .collect()
}

fn batches(seen: &[Seen]) -> usize {
    let mut at: Vec<Instant> = seen.iter().map(|s| s.delivered).collect();
    at.dedup();
    at.len()
}

#[tokio::test(start_paused = true)]
async fn a_trickle_is_read_in_batches_on_the_pacing_grid_and_a_burst_at_once() {
    let pace = Duration::from_millis(25);
    let seen = run(pace, 200, 400).await;
    // Every frame, in order.
    assert!(seen.iter().enumerate().all(|(i, s)| s.n == WARM + i));
    // 200 frames over 200 ms: about one batch per 25 ms tick, not one read per frame.
    let trickle = &seen[..200];
    let b = batches(trickle);
    assert!(
        (8..=10).contains(&b),
        "{b} batches for 200 frames over 200 ms"
    );
    // A frame waits about a tick in the socket (at most two here: under virtual time the sender's TCP
    // may hold a few frames at one tick for lack of the client's ACKs). A frame read after a pacing
    // wait is stamped with the wait's start (the earliest it can have arrived), so the latency measured
    // from the stamp includes the wait.
    for s in trickle {
        let waited = s.delivered - s.sent;
        assert!(waited <= 2 * pace, "frame {} waited {waited:?}", s.n);
        assert!(
            s.recv <= s.delivered && s.delivered - s.recv <= pace,
            "frame {}: stamped {:?} before it was taken",
            s.n,
            s.delivered.checked_duration_since(s.recv)
        );
    }
    let stamped_at_wait_start = trickle
        .iter()
        .filter(|s| s.delivered - s.recv == pace)
        .count();
    assert!(
        stamped_at_wait_start > 150,
        "{stamped_at_wait_start} of 200 stamped at a wait's start"
    );
    // After 100 ms of silence, the first frame of the burst is stamped when it came, not at the start
    // of the last pacing wait.
    assert_eq!(
        seen[200].recv, seen[200].sent,
        "first frame after a silence"
    );
    // A burst is read as it comes, all of it at once: a batch of more than HEAVY_BATCH frames is never
    // paced, even where the runtime's task budget cuts a read short.
    let burst = &seen[200..];
    let last = burst.iter().map(|s| s.delivered).max().expect("burst");
    let first_sent = burst[0].sent;
    assert!(
        last - first_sent < pace,
        "burst took {:?}",
        last - first_sent
    );
}

#[tokio::test(start_paused = true)]
async fn without_pacing_every_frame_is_read_as_it_arrives() {
    let seen = run(Duration::ZERO, 200, 0).await;
    assert_eq!(batches(&seen), 200);
    assert!(
        seen.iter()
            .all(|s| s.delivered == s.sent && s.recv == s.sent)
    );
}

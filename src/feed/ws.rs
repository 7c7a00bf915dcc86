//! The feed task: one per venue. It owns the venue's WebSocket, sends the subscription(s), forwards
//! every text frame to the state actor, watches for silence, and reconnects by itself with capped,
//! jittered exponential backoff. It never decodes: the engine does, so live, demo and replay share
//! every check.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::{FutureExt, SinkExt, StreamExt};
use rand::Rng;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior, sleep, sleep_until, timeout};
use tokio_tungstenite::MaybeTlsStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::error::UrlError;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::config::VenueConfig;
use crate::feed::tcp::ParkableTcp;
use crate::state::engine::{ConnectReason, Control, LinkStatus};

/// Something a feed (or a replay) tells the state actor.
#[derive(Debug)]
pub enum FeedEvent {
    /// A text frame received.
    Frame {
        /// Venue index (config order).
        venue: usize,
        /// Receive time, ns since the Unix epoch (the capture's `ts_ns`).
        ts_ns: i64,
        /// When it was received (for latency), in tokio time.
        recv: Instant,
        /// The frame, verbatim.
        text: String,
    },
    /// A text frame sent (subscriptions, pings): recorded in captures as `dir: out`.
    Sent {
        /// Venue index.
        venue: usize,
        /// Send time.
        ts_ns: i64,
        /// The frame.
        text: String,
    },
    /// The connection changed.
    Link {
        /// Venue index.
        venue: usize,
        /// What happened.
        status: LinkStatus,
    },
}

/// Nanoseconds since the Unix epoch, now.
#[must_use]
pub fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// Capped exponential backoff with jitter ("equal jitter": half fixed, half random).
#[derive(Debug, Clone)]
pub struct Backoff {
    attempt: u32,
    base: Duration,
    cap: Duration,
}

impl Backoff {
    /// Starts at `base`, doubles per attempt, never exceeds `cap`.
    #[must_use]
    pub fn new(base: Duration, cap: Duration) -> Self {
        Self {
            attempt: 0,
            base,
            cap,
        }
    }

    /// The next delay.
    pub fn next_delay(&mut self) -> Duration {
        let exp = self
            .base
            .saturating_mul(1u32 << self.attempt.min(16))
            .min(self.cap);
        self.attempt = self.attempt.saturating_add(1);
        let half = exp / 2;
        half + half.mul_f64(rand::rng().random::<f64>())
    }

    /// Back to the first delay (after a connection that stayed up).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// Attempts since the last reset.
    #[must_use]
    pub fn attempts(&self) -> u32 {
        self.attempt
    }
}

/// Default read pacing ([`FeedOptions::read_pace`]): a quarter of a 10 fps frame (the dashboard reads
/// once a frame instead, on the grid it draws on). A frame waits at most this long in the socket, and
/// the latency shown counts that wait (see [`session`]).
pub const READ_PACE: Duration = Duration::from_millis(25);

/// A batch of at least this many frames is heavy: the feed reads on without pacing.
pub const HEAVY_BATCH: usize = 32;

/// The first multiple of `pace` after `origin` that is later than `now`.
#[must_use]
pub fn next_pace_tick(origin: Instant, now: Instant, pace: Duration) -> Instant {
    let pace_ns = pace.as_nanos().max(1);
    let since = now.saturating_duration_since(origin).as_nanos();
    let ticks = since / pace_ns + 1;
    let offset = u64::try_from(ticks.saturating_mul(pace_ns)).unwrap_or(u64::MAX);
    origin + Duration::from_nanos(offset)
}

/// Timing and size knobs of a feed (tests shorten them).
#[derive(Debug, Clone)]
pub struct FeedOptions {
    /// Largest frame/message accepted; a larger one drops the connection.
    pub max_frame_bytes: usize,
    /// Connection attempt timeout (TCP + TLS + WebSocket handshake).
    pub connect_timeout: Duration,
    /// First retry delay.
    pub backoff_base: Duration,
    /// Largest retry delay.
    pub backoff_cap: Duration,
    /// A connection up this long resets the backoff.
    pub stable_after: Duration,
    /// How often the adapter's keep-alive (if any) is sent.
    pub keepalive_every: Duration,
    /// Read pacing: once a connection's socket is empty after a light batch (fewer than
    /// [`HEAVY_BATCH`] frames), it is not read again before the next multiple of this period after
    /// `pace_origin`, so a live feed's frames are taken in batches (one wake-up, one `recv`, one ACK
    /// for several frames) instead of one by one. Zero reads every frame as it arrives. A heavy batch
    /// (a burst, a snapshot, a flood) is never paced: the feed keeps reading.
    pub read_pace: Duration,
    /// The grid the pacing deadlines fall on, shared by every feed of a pipeline so that they all wake
    /// on the same timer tick (and the actor sees their frames together). `None`: the feed's start.
    pub pace_origin: Option<Instant>,
}

impl Default for FeedOptions {
    fn default() -> Self {
        Self {
            max_frame_bytes: 64 << 20,
            connect_timeout: Duration::from_secs(10),
            backoff_base: Duration::from_millis(500),
            backoff_cap: Duration::from_secs(30),
            stable_after: Duration::from_secs(10),
            keepalive_every: Duration::from_secs(20),
            read_pace: READ_PACE,
            pace_origin: None,
        }
    }
}

/// How one connection ended.
enum End {
    Resync,
    VenueError,
    Stale,
    Lost(String),
    Shutdown,
}

/// Runs venue `venue`'s feed until `events` is closed or `control` is dropped.
///
/// A panic inside the feed is contained here: the venue is reported `down` ("internal error: …"),
/// and after a backoff delay a fresh feed starts (the other venues never notice).
pub async fn run_feed(
    venue: usize,
    cfg: VenueConfig,
    keepalive: Option<String>,
    opts: FeedOptions,
    events: mpsc::Sender<FeedEvent>,
    control: mpsc::Receiver<Control>,
) {
    // Shared with each run so a restarted feed keeps the actor's control channel.
    let control = Arc::new(tokio::sync::Mutex::new(control));
    let name = cfg.name.clone();
    supervise(venue, &name, &events.clone(), &opts.clone(), || {
        feed_loop(
            venue,
            cfg.clone(),
            keepalive.clone(),
            opts.clone(),
            events.clone(),
            Arc::clone(&control),
        )
    })
    .await;
}

/// Runs `body()` to its end; each time it panics, reports venue `venue` down with the panic's text,
/// waits a backoff delay and runs a fresh `body()`. Returns when a run ends normally or `events`
/// is closed.
async fn supervise<F, Fut>(
    venue: usize,
    name: &str,
    events: &mpsc::Sender<FeedEvent>,
    opts: &FeedOptions,
    mut body: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut backoff = Backoff::new(opts.backoff_base, opts.backoff_cap);
    loop {
        let Err(panic) = AssertUnwindSafe(body()).catch_unwind().await else {
            return;
        };
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".to_owned());
        tracing::error!(target: "connection", venue = %name, panic = %what, "feed task panicked: restarting it");
        let delay = backoff.next_delay();
        let down = LinkStatus::Down {
            reason: format!("internal error: {}", crate::feed::truncate_for_log(&what)),
            retry_in_ms: millis(delay),
        };
        if events
            .send(FeedEvent::Link {
                venue,
                status: down,
            })
            .await
            .is_err()
        {
            return;
        }
        tokio::select! {
            () = sleep(delay) => {}
            () = events.closed() => return,
        }
    }
}

/// Bytes read from the socket at a time (tungstenite's read buffer).
const READ_BUFFER_BYTES: usize = 16 * 1024;

/// One feed's connect / session / backoff loop (see [`run_feed`]).
async fn feed_loop(
    venue: usize,
    cfg: VenueConfig,
    keepalive: Option<String>,
    opts: FeedOptions,
    events: mpsc::Sender<FeedEvent>,
    control: Arc<tokio::sync::Mutex<mpsc::Receiver<Control>>>,
) {
    let mut control = control.lock().await;
    let mut backoff = Backoff::new(opts.backoff_base, opts.backoff_cap);
    let mut reason = ConnectReason::First;
    let ws_config = WebSocketConfig::default()
        .max_message_size(Some(opts.max_frame_bytes))
        .max_frame_size(Some(opts.max_frame_bytes))
        // tungstenite zero-fills its whole read buffer before every read: at the default 128 KiB that
        // memset was the largest single cost of a live dashboard (a few hundred small frames a second).
        // 16 KiB still takes a burst in few reads; large snapshots grow the buffer as they need.
        .read_buffer_size(READ_BUFFER_BYTES)
        // Only subscriptions and pongs are written, each flushed at once.
        .write_buffer_size(0);
    let link = |status| FeedEvent::Link { venue, status };
    loop {
        // Requests made for the previous connection are void now.
        while control.try_recv().is_ok() {}
        let attempt = backoff.attempts() + 1;
        if events
            .send(link(LinkStatus::Connecting { attempt }))
            .await
            .is_err()
        {
            return;
        }
        tracing::info!(target: "connection", venue = %cfg.name, url = %cfg.url, attempt, "connecting");
        let end = match timeout(opts.connect_timeout, connect(&cfg.url, ws_config)).await {
            Err(_) => End::Lost("connect timed out".to_owned()),
            Ok(Err(e)) => End::Lost(format!("connect failed: {e}")),
            Ok(Ok(mut ws)) => {
                let started = Instant::now();
                let end = session(
                    &mut ws,
                    venue,
                    &cfg,
                    keepalive.as_deref(),
                    &opts,
                    reason,
                    &events,
                    &mut control,
                )
                .await;
                // Best effort: tell the server, but never wait long for it.
                let _ = timeout(Duration::from_millis(500), ws.close(None)).await;
                if started.elapsed() >= opts.stable_after {
                    backoff.reset();
                }
                end
            }
        };
        let delay = match end {
            End::Shutdown => return,
            End::Resync => {
                reason = ConnectReason::Resync;
                tracing::info!(target: "connection", venue = %cfg.name, "resync: reconnecting for a fresh snapshot");
                // A first resync is immediate; repeated ones back off like failures.
                if backoff.attempts() == 0 {
                    backoff.next_delay();
                    Duration::ZERO
                } else {
                    backoff.next_delay()
                }
            }
            End::Stale => {
                reason = ConnectReason::Reconnect;
                if events.send(link(LinkStatus::Stale)).await.is_err() {
                    return;
                }
                backoff.next_delay()
            }
            End::VenueError => {
                reason = ConnectReason::Reconnect;
                let delay = backoff.next_delay();
                let down = LinkStatus::Down {
                    reason: String::new(),
                    retry_in_ms: millis(delay),
                };
                if events.send(link(down)).await.is_err() {
                    return;
                }
                delay
            }
            End::Lost(why) => {
                reason = ConnectReason::Reconnect;
                let delay = backoff.next_delay();
                let down = LinkStatus::Down {
                    reason: why,
                    retry_in_ms: millis(delay),
                };
                if events.send(link(down)).await.is_err() {
                    return;
                }
                delay
            }
        };
        if !delay.is_zero() {
            tokio::select! {
                () = sleep(delay) => {}
                () = events.closed() => return,
            }
        }
    }
}

type Ws = tokio_tungstenite::WebSocketStream<MaybeTlsStream<ParkableTcp>>;

/// TCP connect (Nagle off), then TLS for `wss://`, then the WebSocket handshake: what
/// `tokio_tungstenite::connect_async_with_config` does, over a stream that can be parked.
async fn connect(url: &str, config: WebSocketConfig) -> Result<Ws, WsError> {
    let request = url.into_client_request()?;
    let uri = request.uri();
    let host = uri
        .host()
        .ok_or(WsError::Url(UrlError::NoHostName))?
        // An IPv6 literal comes in brackets.
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = uri
        .port_u16()
        .or_else(|| match uri.scheme_str() {
            Some("wss") => Some(443),
            Some("ws") => Some(80),
            _ => None,
        })
        .ok_or(WsError::Url(UrlError::UnsupportedUrlScheme))?;
    let tcp = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
    tcp.set_nodelay(true)?;
    let (ws, _) = tokio_tungstenite::client_async_tls_with_config(
        request,
        ParkableTcp::new(tcp),
        Some(config),
        None,
    )
    .await?;
    Ok(ws)
}

/// The connection's TCP stream, under TLS or not.
fn tcp(ws: &mut Ws) -> Option<&mut ParkableTcp> {
    match ws.get_mut() {
        MaybeTlsStream::Plain(s) => Some(s),
        MaybeTlsStream::Rustls(s) => Some(s.get_mut().0),
        _ => None,
    }
}

/// One connection's life: subscribe, then forward frames until it ends.
#[expect(
    clippy::too_many_arguments,
    reason = "one call site; a struct would only rename them"
)]
async fn session(
    ws: &mut Ws,
    venue: usize,
    cfg: &VenueConfig,
    keepalive: Option<&str>,
    opts: &FeedOptions,
    reason: ConnectReason,
    events: &mpsc::Sender<FeedEvent>,
    control: &mut mpsc::Receiver<Control>,
) -> End {
    for sub in &cfg.subscribe {
        if let Err(e) = ws.send(Message::text(sub.clone())).await {
            return End::Lost(format!("subscribe failed: {e}"));
        }
        let sent = FeedEvent::Sent {
            venue,
            ts_ns: now_ns(),
            text: sub.clone(),
        };
        if events.send(sent).await.is_err() {
            return End::Shutdown;
        }
    }
    let connected = FeedEvent::Link {
        venue,
        status: LinkStatus::Connected { reason },
    };
    if events.send(connected).await.is_err() {
        return End::Shutdown;
    }
    let stale_after = Duration::from_millis(cfg.stale_after_ms);
    let mut keepalive_tick =
        tokio::time::interval_at(Instant::now() + opts.keepalive_every, opts.keepalive_every);
    keepalive_tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let origin = opts.pace_origin.unwrap_or_else(Instant::now);
    // A frame found at the end of a pacing wait, and when that wait began: it may have arrived at any
    // time during the wait, so its receive time (for latency) is the wait's start, never later.
    let mut after_wait: Option<(Option<Result<Message, WsError>>, Instant)> = None;
    loop {
        let (first, waited_since) = if let Some((msg, since)) = after_wait.take() {
            (msg, Some(since))
        } else {
            let msg = tokio::select! {
                biased;
                c = control.recv() => return control_end(c),
                msg = timeout(stale_after, ws.next()) => match msg {
                    Err(_) => return End::Stale,
                    Ok(msg) => msg,
                },
                _ = keepalive_tick.tick(), if keepalive.is_some() => {
                    if let Some(k) = keepalive {
                        let _ = ws.send(Message::text(k.to_owned())).await;
                    }
                    continue;
                }
            };
            (msg, None)
        };
        // Take this frame and every one already readable without waiting.
        let mut batch = 0;
        let mut next = Some(first);
        while let Some(msg) = next {
            let text = match frame_text(msg) {
                Ok(text) => text,
                Err(end) => return end,
            };
            if let Some(text) = text {
                let ev = FeedEvent::Frame {
                    venue,
                    ts_ns: now_ns(),
                    recv: waited_since.unwrap_or_else(Instant::now),
                    text,
                };
                if events.send(ev).await.is_err() {
                    return End::Shutdown;
                }
                batch += 1;
            }
            next = ws.next().now_or_never();
        }
        if !opts.read_pace.is_zero() && batch < HEAVY_BATCH {
            let start = Instant::now();
            // Out of the reactor while waiting: frames that arrive wake nothing (see `feed::tcp`).
            if let Some(s) = tcp(ws) {
                s.park();
            }
            tokio::select! {
                biased;
                c = control.recv() => return control_end(c),
                () = sleep_until(next_pace_tick(origin, start, opts.read_pace)) => {}
            }
            // Back in, then one turn of the runtime so that it sees what is queued.
            if let Some(s) = tcp(ws)
                && let Err(e) = s.joined()
            {
                return End::Lost(format!("connection lost: {e}"));
            }
            tokio::task::yield_now().await;
            // Nothing there: the next frame is stamped when it comes.
            after_wait = ws.next().now_or_never().map(|msg| (msg, start));
        }
    }
}

/// How a session ends on a control request (`None`: the actor is gone).
fn control_end(c: Option<Control>) -> End {
    match c {
        Some(Control::Resync) => End::Resync,
        Some(Control::Reconnect) => End::VenueError,
        None => End::Shutdown,
    }
}

/// What one WebSocket read means: a text frame to forward, nothing (ping, pong), or the end of the
/// connection.
fn frame_text(msg: Option<Result<Message, WsError>>) -> Result<Option<String>, End> {
    match msg {
        None => Err(End::Lost("connection closed".to_owned())),
        Some(Err(e)) => Err(End::Lost(format!("connection lost: {e}"))),
        Some(Ok(Message::Text(t))) => Ok(Some(t.as_str().to_owned())),
        // No venue here sends binary data: let the adapter count it as a bad frame.
        Some(Ok(Message::Binary(b))) => Ok(Some(String::from_utf8_lossy(&b).into_owned())),
        Some(Ok(Message::Close(f))) => Err(End::Lost(f.map_or_else(
            || "closed by venue".to_owned(),
            |f| format!("closed by venue: {} {}", f.code, f.reason),
        ))),
        Some(Ok(_)) => Ok(None), // ping/pong: tungstenite answers pings itself
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_caps() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        let delays: Vec<_> = (0..10).map(|_| b.next_delay()).collect();
        for (i, d) in delays.iter().enumerate() {
            let exp = Duration::from_millis(100 * (1 << i)).min(Duration::from_secs(2));
            assert!(
                *d >= exp / 2 && *d <= exp,
                "attempt {i}: {d:?} not in [{:?}, {exp:?}]",
                exp / 2
            );
        }
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(100));
    }

    #[tokio::test(start_paused = true)]
    async fn a_panicking_feed_is_reported_down_and_restarted() {
        let (tx, mut rx) = mpsc::channel(8);
        let opts = FeedOptions {
            backoff_base: Duration::from_millis(100),
            backoff_cap: Duration::from_millis(400),
            ..FeedOptions::default()
        };
        let mut runs = 0;
        let t0 = Instant::now();
        supervise(3, "kraken", &tx, &opts, || {
            runs += 1;
            let n = runs;
            async move {
                assert!(n > 2, "feed bug #{n}");
            }
        })
        .await;
        assert_eq!(runs, 3);
        let mut delays = Vec::new();
        while let Ok(ev) = rx.try_recv() {
            match ev {
                FeedEvent::Link {
                    venue: 3,
                    status:
                        LinkStatus::Down {
                            reason,
                            retry_in_ms,
                        },
                } => {
                    assert!(reason.starts_with("internal error: feed bug #"), "{reason}");
                    delays.push(retry_in_ms);
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(delays.len(), 2);
        assert!((50..=100).contains(&delays[0]) && (100..=200).contains(&delays[1]));
        // It waited the delays it announced before each restart.
        assert!(t0.elapsed() >= Duration::from_millis(delays[0] + delays[1]));
    }
}

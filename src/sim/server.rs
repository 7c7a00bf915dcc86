//! Loopback WebSocket servers speaking each venue's protocol, over one shared evolving market per server.
//!
//! A server is three kinds of tasks around a [`Shared`] state:
//! - the market task steps the [`SimMarket`] on a tokio interval (`updates_per_sec`) and broadcasts each
//!   [`Step`] while holding the market lock;
//! - the accept loop turns each TCP connection into a WebSocket (`accept_async`) and spawns
//! - one connection task, which drives the venue's [`Session`]: when the client subscribes it clones the
//!   book and subscribes to the step broadcast under the same lock (so the snapshot and the update stream
//!   fit exactly), then streams; a connection that falls `lag_capacity` steps behind is dropped (the
//!   client reconnects and gets a fresh snapshot).
//!
//! Only tokio time is used, so tests can run servers under paused time. [`SimHandle`] is the control
//! surface: the current book, explicit steps, and fault injection (raw frames, dropped connections,
//! pauses).

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, watch};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::market::{SimMarket, Step};
use super::{BookRequest, SimOptions, SimVenue, new_session, wall_clock_ns};
use crate::config::{Config, VenueConfig};
use crate::market::OrderBook;

/// What the control surface tells every connection.
#[derive(Debug, Clone)]
enum Control {
    /// Send this text frame verbatim (outside any sequence numbering).
    Inject(Arc<str>),
    /// Drop the connection without a close frame.
    Drop,
    /// A scripted fault.
    Fault(Fault),
}

/// A scripted fault, applied by every connection open when [`SimHandle::fault`] is called.
///
/// Connection faults act at once (even while the venue is paused); stream faults act on the next
/// book update frame(s) the connection sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Close politely: a WebSocket close frame (1001, "going away"), then the socket.
    Close,
    /// Abort: an abrupt TCP reset (`SO_LINGER` 0, no close frame, no FIN).
    Reset,
    /// Send these bytes as a binary frame.
    Binary(Vec<u8>),
    /// Send one text frame of this many bytes (a JSON string padded with `x`).
    Oversize(usize),
    /// Leave out the next update frame (Coinbase: a `sequence_num` gap).
    SkipUpdate,
    /// Send the next update frame twice (Coinbase: a duplicate `sequence_num`).
    DuplicateUpdate,
    /// Send the next two update frames in reverse order.
    SwapUpdates,
    /// Kraken: the next update carries a wrong checksum (the real one with its low bit flipped).
    CorruptChecksum,
    /// Stream an update putting a bid at the best ask on this connection only (its encoder numbers
    /// and checksums it like any update): the client's book is crossed, the server's is not.
    CrossBook,
}

/// A stream fault waiting for the next update frame(s) of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
enum StreamFault {
    Skip,
    Duplicate,
    /// Hold the next frames, send them after the following ones.
    Swap(Option<Vec<String>>),
    Corrupt,
}

impl StreamFault {
    /// Applies the fault to one step's frames: what to send now, and what is left of the fault.
    fn apply(self, frames: Vec<String>) -> (Vec<String>, Option<StreamFault>) {
        if frames.is_empty() {
            return (frames, Some(self));
        }
        match self {
            StreamFault::Skip => (Vec::new(), None),
            StreamFault::Duplicate => {
                let mut twice = frames.clone();
                twice.extend(frames);
                (twice, None)
            }
            StreamFault::Swap(None) => (Vec::new(), Some(StreamFault::Swap(Some(frames)))),
            StreamFault::Swap(Some(held)) => {
                let mut out = frames;
                out.extend(held);
                (out, None)
            }
            StreamFault::Corrupt => (frames.into_iter().map(corrupt_checksum).collect(), None),
        }
    }
}

/// Flips the low bit of the first `"checksum":N` of a frame.
fn corrupt_checksum(frame: String) -> String {
    const KEY: &str = "\"checksum\":";
    let Some(at) = frame.find(KEY) else {
        return frame;
    };
    let start = at + KEY.len();
    let end = frame[start..]
        .find(|c: char| !c.is_ascii_digit())
        .map_or(frame.len(), |i| start + i);
    match frame[start..end].parse::<u64>() {
        Ok(n) => format!("{}{}{}", &frame[..start], n ^ 1, &frame[end..]),
        Err(_) => frame,
    }
}

/// State shared by a server's tasks and its handle.
struct Shared {
    venue: VenueConfig,
    seed: u64,
    subscribe_timeout: Duration,
    market: Mutex<SimMarket>,
    steps: broadcast::Sender<Arc<Step>>,
    control: broadcast::Sender<Control>,
    paused: watch::Sender<bool>,
    frozen: AtomicBool,
    shutdown: watch::Sender<bool>,
    connections: AtomicUsize,
    accepted: AtomicU64,
    /// While set, subscriptions are answered with the venue's error frame carrying this text.
    reject: Mutex<Option<String>>,
    /// While set, book subscriptions are silently never served (no ack, no snapshot, no updates).
    withhold: AtomicBool,
    /// Steps a connection may fall behind (the broadcast capacity).
    lag_capacity: usize,
    start: Instant,
    start_unix_ns: u64,
}

impl Shared {
    fn market(&self) -> MutexGuard<'_, SimMarket> {
        self.market.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Wall-clock-like time for frame timestamps: the start time plus tokio's elapsed time.
    fn now_ns(&self) -> u64 {
        let elapsed = u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.start_unix_ns.saturating_add(elapsed)
    }

    fn step_once(&self) {
        let mut m = self.market();
        let step = m.step_full();
        // No receiver is fine: nobody is subscribed.
        let _ = self.steps.send(Arc::new(step));
    }
}

/// A running simulated venue. Dropping the handle shuts the server down (keep it alive as long as the
/// server is needed).
pub struct SimHandle {
    /// The bound address (`127.0.0.1:PORT`).
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle")
            .field("venue", &self.shared.venue.name)
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl SimHandle {
    /// `ws://127.0.0.1:PORT/`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }

    /// The venue this server simulates (its config, with the original URL).
    #[must_use]
    pub fn venue(&self) -> &VenueConfig {
        &self.shared.venue
    }

    /// The server's current full book.
    #[must_use]
    pub fn book(&self) -> OrderBook {
        self.shared.market().book().clone()
    }

    /// Steps the market `n` times now and streams the steps (whatever the rate or pause state).
    pub fn step(&self, n: usize) {
        for _ in 0..n {
            self.shared.step_once();
        }
    }

    /// Market steps taken so far.
    #[must_use]
    pub fn steps(&self) -> u64 {
        self.shared.market().steps()
    }

    /// Sends `frame` verbatim to every open connection (it takes no sequence number).
    pub fn inject_frame(&self, frame: impl Into<String>) {
        let _ = self
            .shared
            .control
            .send(Control::Inject(Arc::from(frame.into())));
    }

    /// Drops every open connection abruptly (no close frame), like a network failure.
    pub fn drop_connections(&self) {
        let _ = self.shared.control.send(Control::Drop);
    }

    /// Applies a scripted [`Fault`] to every open connection.
    pub fn fault(&self, fault: Fault) {
        let _ = self.shared.control.send(Control::Fault(fault));
    }

    /// While `Some(text)`, every subscription request is refused with the venue's own error frame
    /// carrying `text` (Kraken `{"error":…,"success":false}`, Coinbase `{"type":"error","message":…}`,
    /// Gemini `{"type":"error","reason":…}`) and no book is streamed. `None` accepts again.
    pub fn reject_subscriptions(&self, text: Option<&str>) {
        *self
            .shared
            .reject
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = text.map(str::to_owned);
    }

    /// While `true`, book subscriptions are accepted in silence and never served: no acknowledgement,
    /// no snapshot, no updates (other traffic, like Coinbase heartbeats, goes on).
    pub fn withhold_snapshots(&self, withhold: bool) {
        self.shared.withhold.store(withhold, Ordering::SeqCst);
    }

    /// Steps the market `n` times as fast as the slowest subscribed connection takes the updates:
    /// whenever a connection is more than half the lag capacity behind, waits for it (so a flood never
    /// drops a connection as lagging). Returns when all `n` steps are taken.
    pub async fn flood(&self, n: u64) {
        let high = (self.shared.lag_capacity / 2).max(1);
        let mut done = 0;
        while done < n {
            if self.shared.steps.len() >= high {
                // Pacing only (no outcome depends on it): let the connections drain.
                tokio::time::sleep(Duration::from_millis(1)).await;
                continue;
            }
            let batch = (n - done).min(64);
            for _ in 0..batch {
                self.shared.step_once();
            }
            done += batch;
            tokio::task::yield_now().await;
        }
    }

    /// Pauses (`true`) or resumes the venue: while paused the market does not step on its own and
    /// connections send nothing and read nothing (acks, snapshots, heartbeats wait), except injected
    /// frames. Explicit [`SimHandle::step`]s are still queued for delivery after the pause.
    pub fn pause(&self, paused: bool) {
        self.shared.paused.send_replace(paused);
    }

    /// Stops (`true`) or restarts the market's own stepping; connections keep streaming what is
    /// queued, heartbeats and explicit [`SimHandle::step`]s (a quiet book, not a silent venue).
    pub fn freeze(&self, frozen: bool) {
        self.shared.frozen.store(frozen, Ordering::SeqCst);
    }

    /// True while paused.
    #[must_use]
    pub fn is_paused(&self) -> bool {
        *self.shared.paused.borrow()
    }

    /// WebSocket connections currently open.
    #[must_use]
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Connections accepted since the start (reconnects included).
    #[must_use]
    pub fn accepted(&self) -> u64 {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// Stops accepting, stops the market, and closes every connection (with a close frame).
    pub fn shutdown(&self) {
        self.shared.shutdown.send_replace(true);
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Starts a simulated `venue` (protocol chosen by its `adapter`) on `listener`, with its own market
/// (seed `opts.venue_seed(&venue.name)`). Must be called inside a tokio runtime.
///
/// # Errors
/// An adapter the simulator does not speak, or a listener without a local address.
pub fn spawn_server(
    venue: &VenueConfig,
    listener: TcpListener,
    opts: &SimOptions,
) -> io::Result<SimHandle> {
    let kind = SimVenue::from_adapter(&venue.adapter).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("no simulator for adapter '{}'", venue.adapter),
        )
    })?;
    let addr = listener.local_addr()?;
    let seed = opts.venue_seed(&venue.name);
    let market = SimMarket::with_params(seed, opts.market_params(kind, venue.price_precision));
    let (steps, _) = broadcast::channel(opts.lag_capacity.clamp(1, 1 << 20));
    let (control, _) = broadcast::channel(64);
    let shared = Arc::new(Shared {
        venue: venue.clone(),
        seed,
        subscribe_timeout: opts.subscribe_timeout,
        market: Mutex::new(market),
        steps,
        control,
        paused: watch::Sender::new(false),
        frozen: AtomicBool::new(false),
        shutdown: watch::Sender::new(false),
        connections: AtomicUsize::new(0),
        accepted: AtomicU64::new(0),
        reject: Mutex::new(None),
        withhold: AtomicBool::new(false),
        lag_capacity: opts.lag_capacity.clamp(1, 1 << 20),
        start: Instant::now(),
        start_unix_ns: wall_clock_ns(),
    });
    if opts.updates_per_sec > 0 {
        // Timers tick at most once a millisecond: faster rates take several steps per tick.
        let rate = u64::from(opts.updates_per_sec);
        let per_tick = rate.div_ceil(1000).max(1);
        let period = Duration::from_nanos(1_000_000_000 * per_tick / rate);
        tokio::spawn(run_market(Arc::clone(&shared), period, per_tick));
    }
    tokio::spawn(accept_loop(Arc::clone(&shared), listener));
    Ok(SimHandle { addr, shared })
}

/// Starts one simulated server per venue of `config` on `127.0.0.1:0` and returns a copy of the config
/// whose venue URLs point at them (`ws://127.0.0.1:PORT/`), with the handles in venue order. Keep the
/// handles: dropping one stops its server.
///
/// # Errors
/// Binding failed, or a venue's adapter has no simulator.
pub async fn start_demo(config: &Config, opts: SimOptions) -> io::Result<(Config, Vec<SimHandle>)> {
    let mut out = config.clone();
    let mut handles = Vec::with_capacity(out.venues.len());
    for venue in &mut out.venues {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let handle = spawn_server(venue, listener, &opts)?;
        venue.url = handle.url();
        handles.push(handle);
    }
    Ok((out, handles))
}

async fn run_market(shared: Arc<Shared>, period: Duration, per_tick: u64) {
    let mut shutdown = shared.shutdown.subscribe();
    let mut tick = tokio::time::interval_at(Instant::now() + period, period);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            () = stopped(&mut shutdown) => return,
            _ = tick.tick() => {
                if !*shared.paused.borrow() && !shared.frozen.load(Ordering::SeqCst) {
                    for _ in 0..per_tick {
                        shared.step_once();
                    }
                }
            }
        }
    }
}

async fn accept_loop(shared: Arc<Shared>, listener: TcpListener) {
    let mut shutdown = shared.shutdown.subscribe();
    loop {
        tokio::select! {
            () = stopped(&mut shutdown) => return,
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => {
                    tokio::spawn(connection(Arc::clone(&shared), tcp));
                }
                Err(e) => {
                    tracing::warn!(venue = %shared.venue.name, "sim accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
        }
    }
}

/// Decrements the open-connection count when a connection task ends, however it ends.
struct Open<'a>(&'a AtomicUsize);

impl Drop for Open<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Resolves once shutdown is requested (or the server state is gone).
async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}

async fn recv_step(
    rx: &mut Option<broadcast::Receiver<Arc<Step>>>,
) -> Result<Arc<Step>, broadcast::error::RecvError> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Why a connection ended.
enum End {
    /// Close politely (shutdown, subscription deadline).
    Close,
    /// Close politely with 1001 "going away" (the [`Fault::Close`] fault).
    GoingAway,
    /// Just drop the socket (fault injection, client gone, lag).
    Drop,
    /// Reset the TCP connection (the [`Fault::Reset`] fault).
    Reset,
    /// The client closed: flush the close reply tungstenite queued.
    Answered,
}

/// The venue's own error reply to a refused subscription.
fn rejection(kind: SimVenue, venue: &VenueConfig, text: &str, now_ns: u64) -> String {
    match kind {
        SimVenue::Kraken => {
            let t = super::rfc3339(now_ns, 6);
            super::kraken::error_frame(text, "subscribe", Some(&venue.symbol), None, &t, &t)
        }
        SimVenue::Coinbase => super::coinbase::error_frame(text),
        SimVenue::Gemini => super::gemini::error_frame(text),
    }
}

/// A one-change step putting a bid at the market's best ask (crosses a client's book).
fn crossing_step(shared: &Shared) -> Option<Step> {
    let m = shared.market();
    let (ask, _) = m.book().best(crate::market::Side::Ask)?;
    Some(Step {
        changes: vec![super::market::Change {
            side: crate::market::Side::Bid,
            price: ask,
            qty: rust_decimal::Decimal::ONE,
        }],
        trades: Vec::new(),
    })
}

#[expect(
    clippy::too_many_lines,
    reason = "one select loop: splitting it would scatter the connection's state"
)]
async fn connection(shared: Arc<Shared>, tcp: TcpStream) {
    let _ = tcp.set_nodelay(true);
    let Ok(ws) = tokio_tungstenite::accept_async(tcp).await else {
        return;
    };
    let conn_no = shared.accepted.fetch_add(1, Ordering::SeqCst);
    shared.connections.fetch_add(1, Ordering::SeqCst);
    let _open = Open(&shared.connections);
    let Some(kind) = SimVenue::from_adapter(&shared.venue.adapter) else {
        return;
    };
    let Some(mut session) = new_session(
        &shared.venue,
        shared.seed ^ conn_no.wrapping_mul(0x9e37_79b9),
        shared.start_unix_ns,
    ) else {
        return;
    };
    let (mut tx, mut rx) = ws.split();
    let mut control = shared.control.subscribe();
    let mut paused = shared.paused.subscribe();
    let mut shutdown = shared.shutdown.subscribe();
    let mut steps: Option<broadcast::Receiver<Arc<Step>>> = None;
    let mut stream_fault: Option<StreamFault> = None;
    let period = session.tick_period();
    let mut ticks = tokio::time::interval_at(Instant::now() + period, period);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let deadline = tokio::time::sleep(shared.subscribe_timeout);
    tokio::pin!(deadline);
    let mut deadline_armed = session.requires_prompt_subscription();
    let mut opened = false;

    macro_rules! send_all {
        ($frames:expr) => {{
            let mut ok = true;
            for f in $frames {
                if tx.send(Message::text(f)).await.is_err() {
                    ok = false;
                    break;
                }
            }
            ok
        }};
    }

    // One control message; `Some(end)` ends the connection.
    macro_rules! on_control {
        ($c:expr) => {
            match $c {
                Ok(Control::Inject(f)) => (!send_all!([f.to_string()])).then_some(End::Drop),
                Ok(Control::Drop) | Err(broadcast::error::RecvError::Closed) => Some(End::Drop),
                Err(broadcast::error::RecvError::Lagged(_)) => None,
                Ok(Control::Fault(fault)) => match fault {
                    Fault::Close => Some(End::GoingAway),
                    Fault::Reset => Some(End::Reset),
                    Fault::Binary(b) => tx
                        .send(Message::binary(b))
                        .await
                        .is_err()
                        .then_some(End::Drop),
                    Fault::Oversize(n) => {
                        let big = format!("\"{}\"", "x".repeat(n.saturating_sub(2)));
                        (!send_all!([big])).then_some(End::Drop)
                    }
                    Fault::SkipUpdate => {
                        stream_fault = Some(StreamFault::Skip);
                        None
                    }
                    Fault::DuplicateUpdate => {
                        stream_fault = Some(StreamFault::Duplicate);
                        None
                    }
                    Fault::SwapUpdates => {
                        stream_fault = Some(StreamFault::Swap(None));
                        None
                    }
                    Fault::CorruptChecksum => {
                        stream_fault = Some(StreamFault::Corrupt);
                        None
                    }
                    Fault::CrossBook => match crossing_step(&shared) {
                        Some(step) => (!send_all!(session.on_step(&step, shared.now_ns())))
                            .then_some(End::Drop),
                        None => None,
                    },
                },
            }
        };
    }

    let end = loop {
        if *paused.borrow_and_update() {
            tokio::select! {
                biased;
                () = stopped(&mut shutdown) => break End::Close,
                c = control.recv() => if let Some(end) = on_control!(c) { break end; },
                _ = paused.changed() => {}
            }
            continue;
        }
        if !opened {
            opened = true;
            if !send_all!(session.open(shared.now_ns())) {
                break End::Drop;
            }
        }
        tokio::select! {
            biased;
            () = stopped(&mut shutdown) => break End::Close,
            c = control.recv() => if let Some(end) = on_control!(c) { break end; },
            _ = paused.changed() => {}
            msg = rx.next() => match msg {
                Some(Ok(Message::Text(text))) => {
                    let mut reply = session.on_text(text.as_str(), shared.now_ns());
                    let reject = shared
                        .reject
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .clone();
                    if let (BookRequest::Subscribe, Some(why)) = (reply.book, reject) {
                        reply.frames = vec![rejection(kind, &shared.venue, &why, shared.now_ns())];
                        reply.book = BookRequest::None;
                    }
                    if reply.book == BookRequest::Subscribe && shared.withhold.load(Ordering::SeqCst) {
                        reply.book = BookRequest::None;
                    }
                    if !send_all!(reply.frames) {
                        break End::Drop;
                    }
                    match reply.book {
                        BookRequest::Subscribe => {
                            let book = {
                                let m = shared.market();
                                steps = Some(shared.steps.subscribe());
                                m.book().clone()
                            };
                            if !send_all!(session.on_book(&book, shared.now_ns())) {
                                break End::Drop;
                            }
                        }
                        BookRequest::Unsubscribe => steps = None,
                        BookRequest::None => {}
                    }
                }
                Some(Ok(Message::Close(_))) => break End::Answered,
                Some(Err(_)) | None => break End::Drop,
                Some(Ok(_)) => {} // binary, ping (answered by tungstenite), pong
            },
            step = recv_step(&mut steps) => match step {
                Ok(step) => {
                    let mut frames = session.on_step(&step, shared.now_ns());
                    if let Some(f) = stream_fault.take() {
                        let (now, left) = f.apply(frames);
                        frames = now;
                        stream_fault = left;
                    }
                    if !send_all!(frames) {
                        break End::Drop;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::info!(venue = %shared.venue.name, "sim: dropping a connection {n} steps behind");
                    break End::Drop;
                }
                Err(broadcast::error::RecvError::Closed) => break End::Close,
            },
            _ = ticks.tick() => {
                if !send_all!(session.on_tick(shared.now_ns())) {
                    break End::Drop;
                }
            }
            () = &mut deadline, if deadline_armed => {
                deadline_armed = false;
                if session.requires_prompt_subscription() {
                    break End::Close;
                }
            }
        }
    };
    match end {
        End::Close => {
            let _ = tx.send(Message::Close(None)).await;
        }
        End::GoingAway => {
            let frame = CloseFrame {
                code: CloseCode::Away,
                reason: "server going away".into(),
            };
            let _ = tx.send(Message::Close(Some(frame))).await;
        }
        End::Answered => {
            let _ = tx.flush().await;
        }
        End::Reset => {
            if let Ok(ws) = rx.reunite(tx) {
                // Dropping a socket with a zero linger sends RST instead of FIN.
                let _ = ws.get_ref().set_zero_linger();
            }
        }
        End::Drop => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unknown_adapter_is_refused() {
        let mut v = Config::default_config().expect("config").venues[0].clone();
        v.adapter = "binance".into();
        let l = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
        let e = spawn_server(&v, l, &SimOptions::default()).expect_err("refused");
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    }
}

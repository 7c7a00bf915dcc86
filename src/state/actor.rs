//! The state actor: a task that alone owns the [`Engine`], applies feed events and ticket commands in
//! order, and publishes an immutable [`View`] on a `watch` channel — at once for a ticket change, at
//! most every [`VIEW_GAP`] (less [`VIEW_SLACK`]) while frames stream in (bursts coalesce), and once a
//! second on a quiet feed so ages keep moving. Nothing changing, nothing wakes it but that refresh and
//! the log timer.
//!
//! Channel shapes (no cycle of bounded channels): feeds → actor bounded mpsc (`send().await` is the
//! backpressure); UI → actor bounded mpsc (the UI uses `try_send`); actor → feeds `try_send` on small
//! per-venue control channels; actor → UI `watch` (latest wins).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior};

use crate::feed::capture::{Dir, Recorder};
use crate::feed::ws::{FeedEvent, now_ns};
use crate::state::Command;
use crate::state::engine::{Control, Engine, ViewOptions};
use crate::state::view::View;

/// Which clock the View's `ts_ns` follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// The wall clock (live and demo).
    Wall,
    /// The `ts_ns` of the last event (replay).
    Stream,
}

/// Everything the actor talks to.
pub struct ActorIo {
    /// Feed (or replay) events.
    pub events: mpsc::Receiver<FeedEvent>,
    /// Ticket commands from the UI.
    pub commands: mpsc::Receiver<Command>,
    /// Per-venue control channels to the feeds (empty in replay).
    pub controls: Vec<mpsc::Sender<Control>>,
    /// Where Views are published.
    pub views: watch::Sender<Arc<View>>,
    /// Optional capture writer (`--record`).
    pub recorder: Option<Recorder>,
    /// Frames per second.
    pub fps: u32,
    /// View clock.
    pub clock: Clock,
}

const DRAIN_MAX: usize = 512;
const LATENCY_PENDING_MAX: usize = 4096;
const LOG_EVERY: Duration = Duration::from_secs(10);
/// Shortest time between two Views while frames stream in: a frame is in a View within this (plus the
/// time to apply what is queued), a quarter of a 10 fps dashboard frame. At most 40 Views a second: a
/// live View (walks, fills and depth curves of three ~1000-level books) costs 10–15 µs, and at a 10 ms
/// gap the Views and the wake-ups they cause measured about 0.7 % of a core more at 450 frames/s. The
/// dashboard's feeds read once a frame, all on one tick, so there it is one View a frame.
const VIEW_GAP: Duration = Duration::from_millis(25);
/// How early a View may go out when a batch of frames arrives just before it is due (see the loop).
const VIEW_SLACK: Duration = Duration::from_millis(5);
/// A View at least this often, so that ages and rates keep moving on a quiet feed.
const REFRESH: Duration = Duration::from_secs(1);

struct Actor {
    engine: Engine,
    recorder: Option<Recorder>,
    controls: Vec<mpsc::Sender<Control>>,
    clock: Clock,
    stream_ns: i64,
    /// (venue, receive instant) of frames applied since the last View.
    pending: Vec<(usize, Instant)>,
    /// Views published so far.
    published: u64,
}

impl Actor {
    fn now(&self) -> i64 {
        match self.clock {
            Clock::Wall => now_ns(),
            Clock::Stream => self.stream_ns,
        }
    }

    fn handle(&mut self, ev: FeedEvent) {
        match ev {
            FeedEvent::Frame {
                venue,
                ts_ns,
                recv,
                text,
            } => {
                self.stream_ns = self.stream_ns.max(ts_ns);
                if let Some(r) = &mut self.recorder
                    && let Some(name) = self.engine.venue_names().nth(venue)
                    && let Err(e) = r.write(ts_ns, name, Dir::In, &text)
                {
                    tracing::error!(target: "processing", error = %e, "recording failed: stopped");
                    self.recorder = None;
                }
                if let Some(ctl) = self.engine.on_frame(venue, ts_ns, &text)
                    && let Some(tx) = self.controls.get(venue)
                {
                    // Full or closed: a request is already queued, or the feed is gone.
                    let _ = tx.try_send(ctl);
                }
                if self.pending.len() < LATENCY_PENDING_MAX {
                    self.pending.push((venue, recv));
                }
            }
            FeedEvent::Sent { venue, ts_ns, text } => {
                if let Some(r) = &mut self.recorder
                    && let Some(name) = self.engine.venue_names().nth(venue)
                    && let Err(e) = r.write(ts_ns, name, Dir::Out, &text)
                {
                    tracing::error!(target: "processing", error = %e, "recording failed: stopped");
                    self.recorder = None;
                }
            }
            FeedEvent::Link { venue, status } => {
                let now = self.now();
                self.engine.on_link(venue, now, &status);
            }
        }
    }

    /// Applies what is already queued (at most [`DRAIN_MAX`] events).
    fn drain(&mut self, events: &mut mpsc::Receiver<FeedEvent>) {
        for _ in 0..DRAIN_MAX {
            match events.try_recv() {
                Ok(ev) => self.handle(ev),
                Err(_) => break,
            }
        }
    }

    /// Builds and sends a View (always `true`, for the loop's bookkeeping).
    fn publish(&mut self, views: &watch::Sender<Arc<View>>) -> bool {
        let mut view = self.engine.view(self.now(), ViewOptions { depth: true });
        view.seq = self.published;
        self.published += 1;
        view.first_received = self.pending.iter().map(|&(_, recv)| recv).min();
        let at = Instant::now();
        for (venue, recv) in self.pending.drain(..) {
            let us =
                u64::try_from(at.saturating_duration_since(recv).as_micros()).unwrap_or(u64::MAX);
            self.engine.record_latency(venue, us);
        }
        views.send_replace(Arc::new(view));
        true
    }
}

/// Runs the actor until every feed event sender is gone (then publishes a last View and returns the
/// engine, for tests and the headless writer).
pub async fn run_actor(engine: Engine, io: ActorIo) -> Engine {
    let ActorIo {
        mut events,
        mut commands,
        controls,
        views,
        recorder,
        fps,
        clock,
    } = io;
    let mut actor = Actor {
        engine,
        recorder,
        controls,
        clock,
        stream_ns: 0,
        pending: Vec::new(),
        published: 0,
    };
    let frame = Duration::from_secs(1) / fps.max(1);
    let gap = VIEW_GAP.min(frame);
    let mut dirty = false;
    let mut last_publish = Instant::now();
    // The next View: `gap` after the last one when something changed, else a refresh a second later.
    let next_view = tokio::time::sleep_until(last_publish + REFRESH);
    tokio::pin!(next_view);
    let mut log_tick = tokio::time::interval_at(last_publish + LOG_EVERY, LOG_EVERY);
    log_tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut commands_open = true;
    actor.publish(&views);
    loop {
        let published = tokio::select! {
            biased;
            cmd = commands.recv(), if commands_open => match cmd {
                // A ticket change is shown at once.
                Some(cmd) => actor.engine.command(&cmd) && actor.publish(&views),
                None => {
                    commands_open = false;
                    false
                }
            },
            ev = events.recv() => match ev {
                Some(ev) => {
                    actor.handle(ev);
                    // Coalesce a burst: apply what is already queued before the next View.
                    actor.drain(&mut events);
                    dirty = true;
                    let due = last_publish + gap;
                    // Checked here too, so that a steady flood of events cannot starve the timer.
                    // A batch that comes within VIEW_SLACK of the due time is published now rather
                    // than on a timer of its own a moment later (one wake-up instead of two).
                    if Instant::now() + VIEW_SLACK >= due {
                        // The feeds read on the same pacing tick: let the others that woke with this
                        // one queue their frames first, so that one View carries the whole tick (the
                        // multi-thread scheduler runs a task just woken, here this actor, before the
                        // tasks already queued).
                        tokio::task::yield_now().await;
                        actor.drain(&mut events);
                        actor.publish(&views)
                    } else {
                        next_view.as_mut().reset(due);
                        false
                    }
                }
                None => break,
            },
            () = &mut next_view => {
                if dirty || last_publish.elapsed() >= REFRESH {
                    actor.publish(&views)
                } else {
                    next_view.as_mut().reset(last_publish + REFRESH);
                    false
                }
            },
            _ = log_tick.tick() => {
                for s in actor.engine.latency_summary() {
                    if let Some((p50, p99)) = s.percentiles {
                        tracing::info!(
                            target: "processing",
                            venue = %s.venue,
                            frames = s.frames,
                            p50_us = p50,
                            p99_us = p99,
                            histogram = %s.histogram_text(),
                            "receive→view latency"
                        );
                    }
                }
                if let Some(r) = &mut actor.recorder {
                    let _ = r.flush();
                }
                false
            }
        };
        if published {
            last_publish = Instant::now();
            dirty = false;
            next_view.as_mut().reset(last_publish + REFRESH);
        }
    }
    actor.publish(&views);
    if let Some(r) = &mut actor.recorder
        && let Err(e) = r.flush()
    {
        tracing::error!(target: "processing", error = %e, "recording flush failed");
    }
    actor.engine
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::market::{Action, d};
    use crate::state::engine::Ticket;
    use crate::state::view::{Source, Status};

    const GEMINI: usize = 2;

    fn gemini(changes: &str, snapshot: bool) -> String {
        let trades = if snapshot { r#","trades":[]"# } else { "" };
        format!(r#"{{"changes":[{changes}],"symbol":"BTCUSD","type":"l2_updates"{trades}}}"#)
    }

    fn frame(text: String) -> FeedEvent {
        FeedEvent::Frame {
            venue: GEMINI,
            ts_ns: now_ns(),
            recv: Instant::now(),
            text,
        }
    }

    /// Views published since the last call.
    fn count(rx: &mut watch::Receiver<Arc<View>>, n: &mut usize) {
        if rx.has_changed().unwrap_or(false) {
            rx.borrow_and_update();
            *n += 1;
        }
    }

    /// An actor over the default venues (sell 1) at `fps`: its event and command senders, its Views
    /// and its task.
    fn spawn_actor(
        fps: u32,
    ) -> (
        mpsc::Sender<FeedEvent>,
        mpsc::Sender<Command>,
        watch::Receiver<Arc<View>>,
        tokio::task::JoinHandle<Engine>,
    ) {
        let config = Config::default_config().expect("config");
        let ticket = Ticket {
            action: Action::Sell,
            quantity: d("1"),
            step: d("1"),
        };
        let engine = Engine::new(&config, ticket, Source::Live).expect("engine");
        let (events_tx, events) = mpsc::channel(64);
        let (commands_tx, commands) = mpsc::channel(8);
        let (views, rx) = watch::channel(Arc::new(engine.view(0, ViewOptions { depth: false })));
        let io = ActorIo {
            events,
            commands,
            controls: Vec::new(),
            views,
            recorder: None,
            fps,
            clock: Clock::Wall,
        };
        (
            events_tx,
            commands_tx,
            rx,
            tokio::spawn(run_actor(engine, io)),
        )
    }

    /// Three feeds woken together (as by their shared pacing tick) each send a frame: the first View
    /// after that carries all three. On the multi-thread runtime the live dashboard uses, the actor,
    /// woken by the first send, runs before the other two feeds; it yields so that they go first.
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn frames_of_feeds_woken_together_are_in_one_view() {
        // A 1 ms frame: a View is always due, no clock needed.
        let (events_tx, _commands_tx, mut rx, actor) = spawn_actor(1_000);
        rx.changed().await.expect("the actor's first View");
        rx.borrow_and_update();
        let tick = Arc::new(tokio::sync::Notify::new());
        let mut feeds = Vec::new();
        for venue in 0..3 {
            let (tx, tick) = (events_tx.clone(), Arc::clone(&tick));
            let waiting = tick.notified_owned();
            feeds.push(tokio::spawn(async move {
                waiting.await;
                // An unreadable frame: every frame taken counts in `messages`.
                let text = "x".to_owned();
                let (ts_ns, recv) = (now_ns(), Instant::now());
                let ev = FeedEvent::Frame {
                    venue,
                    ts_ns,
                    recv,
                    text,
                };
                tx.send(ev).await.expect("send");
            }));
        }
        // The first View after the tick, read on the worker as soon as it is published.
        let first = tokio::spawn(async move {
            rx.changed().await.expect("a View");
            let v = rx.borrow();
            v.venues
                .iter()
                .map(|v| v.counters.messages)
                .collect::<Vec<u64>>()
        });
        // Woken from a task on the worker, as the timer driver wakes the feeds on the worker.
        tokio::spawn(async move {
            tokio::task::yield_now().await;
            tick.notify_waiters();
        });
        assert_eq!(first.await.expect("watcher"), [1, 1, 1]);
        for f in feeds {
            f.await.expect("feed");
        }
        drop(events_tx);
        actor.await.expect("actor");
    }

    #[tokio::test(start_paused = true)]
    async fn views_follow_a_stream_within_the_gap_and_a_quiet_feed_once_a_second() {
        let (events_tx, commands_tx, mut rx, actor) = spawn_actor(10);
        let snapshot = gemini(r#"["buy","100","1"],["sell","101","1"]"#, true);
        events_tx.send(frame(snapshot)).await.expect("send");
        tokio::time::sleep(VIEW_GAP + Duration::from_millis(1)).await;
        assert_eq!(rx.borrow_and_update().venues[GEMINI].status, Status::Live);
        // A frame every millisecond for one second: a View every VIEW_GAP (less the slack), not one
        // per frame nor one per 100 ms dashboard frame.
        let mut n = 0;
        for i in 0..1_000u32 {
            let q = format!("{}", 1 + i % 7);
            let update = gemini(&format!(r#"["buy","99","{q}"]"#), false);
            events_tx.send(frame(update)).await.expect("send");
            tokio::time::sleep(Duration::from_millis(1)).await;
            count(&mut rx, &mut n);
        }
        let expected = usize::try_from(1_000 / (VIEW_GAP - VIEW_SLACK).as_millis()).expect("small");
        assert!(
            (expected - 2..=expected + 1).contains(&n),
            "{n} Views in 1 s of streaming, expected about {expected}"
        );
        // The last frame is in a View within the gap.
        tokio::time::sleep(VIEW_GAP).await;
        let depth = |rx: &watch::Receiver<Arc<View>>| rx.borrow().venues[GEMINI].book_levels;
        assert_eq!(depth(&rx), (2, 1));
        // Quiet: one refresh a second.
        rx.borrow_and_update();
        let mut n = 0;
        for _ in 0..3_000 {
            tokio::time::sleep(Duration::from_millis(1)).await;
            count(&mut rx, &mut n);
        }
        assert_eq!(n, 3, "refreshes in 3 quiet seconds");
        // A ticket change is published at once.
        commands_tx.send(Command::FlipAction).await.expect("send");
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert_eq!(rx.borrow().action, Action::Buy);
        drop(events_tx);
        let engine = actor.await.expect("actor");
        // Every frame reached a View within the gap (paused time: applying takes no time).
        let s = &engine.latency_summary()[GEMINI];
        let (_, p99) = s.percentiles.expect("samples");
        assert!(u128::from(p99) <= VIEW_GAP.as_micros(), "p99 {p99} µs");
        assert_eq!(s.frames, 1_001);
    }

    #[tokio::test(start_paused = true)]
    async fn a_view_carries_its_number_and_the_receive_stamp_of_its_earliest_new_frame() {
        let (events_tx, _commands_tx, mut rx, actor) = spawn_actor(10);
        let first = rx.borrow_and_update().seq;
        let snapshot = gemini(r#"["buy","100","1"],["sell","101","1"]"#, true);
        let earliest = Instant::now();
        events_tx.send(frame(snapshot)).await.expect("send");
        tokio::time::sleep(Duration::from_millis(3)).await;
        let update = gemini(r#"["buy","99","2"]"#, false);
        events_tx.send(frame(update)).await.expect("send");
        tokio::time::sleep(VIEW_GAP * 2).await;
        let view = Arc::clone(&rx.borrow_and_update());
        assert_eq!(view.venues[GEMINI].book_levels, (2, 1));
        // Both frames came within the gap: one View, stamped with the first one's receive time.
        assert_eq!(view.seq, first + 1);
        assert_eq!(view.first_received, Some(earliest));
        // A quiet refresh brings no frame.
        tokio::time::sleep(REFRESH + Duration::from_millis(1)).await;
        let refresh = Arc::clone(&rx.borrow_and_update());
        assert_eq!(refresh.seq, view.seq + 1);
        assert_eq!(refresh.first_received, None);
        drop(events_tx);
        actor.await.expect("actor");
    }
}

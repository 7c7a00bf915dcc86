//! The state actor: a task that alone owns the [`Engine`], applies feed events and ticket commands in
//! order, and publishes an immutable [`View`] on a `watch` channel — at most once per frame, and only
//! when something changed (or once a second, so ages keep moving).
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

struct Actor {
    engine: Engine,
    recorder: Option<Recorder>,
    controls: Vec<mpsc::Sender<Control>>,
    clock: Clock,
    stream_ns: i64,
    /// (venue, receive instant) of frames applied since the last View.
    pending: Vec<(usize, Instant)>,
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

    fn publish(&mut self, views: &watch::Sender<Arc<View>>) {
        let view = self.engine.view(self.now(), ViewOptions { depth: true });
        let at = Instant::now();
        for (venue, recv) in self.pending.drain(..) {
            let us =
                u64::try_from(at.saturating_duration_since(recv).as_micros()).unwrap_or(u64::MAX);
            self.engine.record_latency(venue, us);
        }
        views.send_replace(Arc::new(view));
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
    };
    let frame = Duration::from_secs(1) / fps.max(1);
    let mut tick = tokio::time::interval(frame);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut dirty = true;
    let mut last_publish = Instant::now();
    let mut last_log = Instant::now();
    let mut commands_open = true;
    actor.publish(&views);
    loop {
        tokio::select! {
            biased;
            cmd = commands.recv(), if commands_open => match cmd {
                // A ticket change is shown at once, not at the next frame.
                Some(cmd) => if actor.engine.command(&cmd) {
                    actor.publish(&views);
                    last_publish = Instant::now();
                    dirty = false;
                },
                None => commands_open = false,
            },
            ev = events.recv() => match ev {
                Some(ev) => {
                    actor.handle(ev);
                    // Coalesce a burst: apply what is already queued before the next View.
                    for _ in 0..DRAIN_MAX {
                        match events.try_recv() {
                            Ok(ev) => actor.handle(ev),
                            Err(_) => break,
                        }
                    }
                    dirty = true;
                }
                None => break,
            },
            _ = tick.tick() => {
                if dirty || last_publish.elapsed() >= Duration::from_secs(1) {
                    actor.publish(&views);
                    last_publish = Instant::now();
                    dirty = false;
                }
                if last_log.elapsed() >= LOG_EVERY {
                    last_log = Instant::now();
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
                }
            }
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

//! The UI loop: key presses, new Views and a frame clock in one `select!`, drawing only when
//! something changed.
//!
//! ```text
//! input (keys first) ─┐
//! quit signal ────────┤  biased select!  ──► keymap ──► Command ──try_send──► state actor
//! views.changed() ────┤                  ──► UiState (help, prompt, pause, fills, demo offer)
//! offer-demo timer ───┤
//! frame deadline ─────┘  (armed only while dirty) ──► draw: ui::render(buf, view, ui)
//! ```
//! Frames are paced, not clocked: a change is drawn at most `fps` times a second (Views published
//! within a frame period of the last draw stay in the `watch` until the period ends, then the latest
//! is drawn — so the UI wakes about twice a frame however fast Views come), while a key press is drawn
//! at once, and so is the View that carries a ticket change the key asked for. In a live run the
//! period ends on the grid the feeds read on ([`UiOptions::frame_origin`]), just after each read: the
//! View of a read is drawn as it comes, and a key drawn in between does not shift the frames off the
//! reads. With nothing changing, the loop does not wake at all (the actor still publishes a View a
//! second, for the ages in the chips). Key press → frame and receive → screen latencies go to the
//! processing log.
//! Ticket changes go to the actor with `try_send`, so the UI never waits on it (the actor publishes on
//! a `watch`, which never blocks either: no cycle of bounded channels). The input stream, the screen
//! ([`crate::screen::Screen`]) and the quit future are passed in, so tests drive the real loop with
//! scripted keys, the dashboard's own screen writing to an in-memory terminal, and paused tokio time.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{Event, KeyCode, KeyEvent};
use futures_util::{Stream, StreamExt};
use ratatui::layout::{Rect, Size};
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, sleep};

use crate::feed::ws::next_pace_tick;
use crate::keymap::{Action, Key, Keymap};
use crate::market::Action as Trade;
use crate::screen::Screen;
use crate::state::Command;
use crate::state::view::{Source, View};
use crate::ui::{self, SizePrompt, UiState};

/// How long the live screen waits for a venue to become live before offering the offline demo.
pub const OFFER_DEMO_AFTER: Duration = Duration::from_secs(5);

/// Highest frame rate accepted (the config's `fps` is clamped to `1..=MAX_FPS`).
pub const MAX_FPS: u32 = 120;

/// How the UI loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UiExit {
    /// The user quit (key, end of input, or a quit signal).
    Quit,
    /// The user accepted the offer to switch to the offline demo.
    SwitchToDemo,
}

/// Why the UI loop failed.
#[derive(Debug, thiserror::Error)]
pub enum UiError<E: std::error::Error + 'static> {
    /// Drawing failed.
    #[error("terminal: {0}")]
    Terminal(#[source] E),
    /// Reading terminal events failed.
    #[error("terminal input: {0}")]
    Input(#[source] io::Error),
    /// The state actor is gone (its `watch` sender was dropped).
    #[error("the state actor stopped")]
    StateClosed,
}

/// Settings of the UI loop.
#[derive(Debug, Clone)]
pub struct UiOptions {
    /// The key table.
    pub keymap: Keymap,
    /// Frames per second at most (clamped to `1..=MAX_FPS`).
    pub fps: u32,
    /// When to offer the demo if nothing is live (live source only).
    pub offer_demo_after: Duration,
    /// The grid the live feeds pace their reads on (a read every frame period from this instant;
    /// [`crate::run::Pipeline::pace_origin`]). A frame period then ends [`DRAW_GUARD`] after the first
    /// read that follows the draw, not a period after it. `None`: a period after the last draw.
    pub frame_origin: Option<Instant>,
}

impl UiOptions {
    /// Options with the default demo-offer delay ([`OFFER_DEMO_AFTER`]).
    #[must_use]
    pub fn new(keymap: Keymap, fps: u32) -> UiOptions {
        UiOptions {
            keymap,
            fps,
            offer_demo_after: OFFER_DEMO_AFTER,
            frame_origin: None,
        }
    }
}

/// Time between frames for `fps` frames per second (clamped to `1..=MAX_FPS`).
#[must_use]
pub fn frame_period(fps: u32) -> Duration {
    Duration::from_secs(1) / fps.clamp(1, MAX_FPS)
}

/// How long after a read of the feeds (a tick of [`UiOptions::frame_origin`]'s grid) the frame period
/// ends: time for the feeds to read and the actor to publish the View of that read, so that a View
/// published between two reads (a ticket change, a burst) is not drawn in its place.
pub const DRAW_GUARD: Duration = Duration::from_millis(5);

/// When the frame period that follows a draw at `drawn` ends.
fn period_end(drawn: Instant, period: Duration, origin: Option<Instant>) -> Instant {
    match origin {
        Some(origin) => next_pace_tick(origin, drawn, period) + DRAW_GUARD,
        None => drawn + period,
    }
}

/// The UI's own state between events: what is shown, what arrived last, and the UI-only state.
struct App {
    ui: UiState,
    /// The newest View from the actor.
    latest: Arc<View>,
    /// The View on screen (frozen while paused).
    shown: Arc<View>,
    /// Screen size, for the fills page step.
    area: Rect,
    /// Something on screen changed since the last draw.
    dirty: bool,
    /// The last key sent a ticket change to the actor.
    sent_command: bool,
}

impl App {
    fn new(keymap: Keymap, view: Arc<View>, size: Size) -> App {
        App {
            ui: UiState::new(keymap),
            latest: Arc::clone(&view),
            shown: view,
            area: Rect::new(0, 0, size.width, size.height),
            dirty: true,
            sent_command: false,
        }
    }

    fn on_view(&mut self, view: Arc<View>) {
        self.latest = view;
        if !self.ui.paused {
            self.shown = Arc::clone(&self.latest);
            self.dirty = true;
        }
        if self.ui.offer_demo && self.latest.any_live() {
            self.ui.offer_demo = false;
            self.dirty = true;
        }
    }

    fn on_offer_deadline(&mut self) {
        if self.latest.source == Source::Live && !self.latest.any_live() {
            self.ui.offer_demo = true;
            self.dirty = true;
        }
    }

    /// Handles one terminal event; `Some` ends the loop.
    fn on_event(&mut self, ev: &Event, commands: &mpsc::Sender<Command>) -> Option<UiExit> {
        match ev {
            Event::Key(key) if key.is_press() => self.on_key(key, commands),
            Event::Resize(w, h) => {
                self.area = Rect::new(0, 0, *w, *h);
                self.dirty = true;
                None
            }
            _ => None,
        }
    }

    fn on_key(&mut self, key: &KeyEvent, commands: &mpsc::Sender<Command>) -> Option<UiExit> {
        self.dirty = true;
        let action = self.ui.keymap.action_for(key);
        if let Some(prompt) = self.ui.prompt.take() {
            return self.on_prompt_key(key, action, prompt, commands);
        }
        let action = action?;
        if self.ui.help_open {
            match action {
                Action::Help | Action::Back => self.ui.help_open = false,
                Action::Quit => return Some(UiExit::Quit),
                _ => {}
            }
            return None;
        }
        let mut send = |cmd: Command| {
            send(commands, cmd);
            self.sent_command = true;
        };
        match action {
            Action::Buy => send(Command::SetAction(Trade::Buy)),
            Action::Sell => send(Command::SetAction(Trade::Sell)),
            Action::Flip => send(Command::FlipAction),
            Action::SizeUp => send(Command::SizeUp),
            Action::SizeDown => send(Command::SizeDown),
            Action::StepUp => send(Command::StepUp),
            Action::StepDown => send(Command::StepDown),
            Action::ToggleVenue(i) => {
                if usize::from(i) < self.latest.venues.len() {
                    send(Command::ToggleVenue(usize::from(i)));
                }
            }
            Action::EditSize => self.ui.prompt = Some(SizePrompt::default()),
            Action::Pause => {
                self.ui.paused = !self.ui.paused;
                if !self.ui.paused {
                    self.shown = Arc::clone(&self.latest);
                }
            }
            Action::ScrollUp | Action::ScrollDown => self.scroll(action == Action::ScrollDown),
            Action::CycleFills => {
                self.ui.fills_table = self.ui.fills_table.next(self.shown.venues.len());
                self.ui.fills_scroll = 0;
            }
            Action::Help => self.ui.help_open = true,
            Action::Demo => {
                if self.ui.offer_demo {
                    return Some(UiExit::SwitchToDemo);
                }
            }
            Action::Quit | Action::Back => return Some(UiExit::Quit),
        }
        None
    }

    /// Keys while the size prompt is open: text goes into the prompt; Enter validates, Esc (or the
    /// `back` key) cancels; a non-text key bound to `quit` (Ctrl-C) still quits.
    fn on_prompt_key(
        &mut self,
        key: &KeyEvent,
        action: Option<Action>,
        mut prompt: SizePrompt,
        commands: &mpsc::Sender<Command>,
    ) -> Option<UiExit> {
        let k = Key::from_event(key);
        match key.code {
            KeyCode::Enter => {
                if let Some(size) = prompt.submit() {
                    send(commands, Command::SetSize(size));
                    self.sent_command = true;
                    self.ui.prompt = None;
                    return None;
                }
            }
            KeyCode::Esc => {
                self.ui.prompt = None;
                return None;
            }
            KeyCode::Backspace => prompt.backspace(),
            KeyCode::Char(c) if k.is_text() => prompt.push(c),
            _ => match action {
                Some(Action::Quit) => return Some(UiExit::Quit),
                Some(Action::Back) => {
                    self.ui.prompt = None;
                    return None;
                }
                _ => {}
            },
        }
        self.ui.prompt = Some(prompt);
        None
    }

    fn scroll(&mut self, down: bool) {
        let page = ui::fills_page_rows(self.area, &self.shown);
        let len = match self.ui.fills_table {
            ui::FillsTable::Merged => self.shown.merged.walk.fills.len(),
            ui::FillsTable::Venue(i) => self.shown.venues.get(i).map_or(0, |v| v.walk.fills.len()),
        };
        let max = len.saturating_sub(page);
        let cur = self.ui.fills_scroll.min(max);
        self.ui.fills_scroll = if down {
            (cur + page).min(max)
        } else {
            cur.saturating_sub(page)
        };
    }
}

/// The last [`SAMPLES`] latencies of one kind, for a p50/p99/max summary in the processing log.
#[derive(Debug, Default)]
struct Samples {
    last: std::collections::VecDeque<Duration>,
    /// Measured in all.
    count: u64,
}

/// Latencies kept for a summary.
const SAMPLES: usize = 256;

impl Samples {
    fn record(&mut self, took: Duration) {
        if self.last.len() == SAMPLES {
            self.last.pop_front();
        }
        self.last.push_back(took);
        self.count += 1;
    }

    /// (p50, p99, max) of the kept samples, in µs, and how many they are.
    fn summary(&self) -> Option<(u128, u128, u128, usize)> {
        let mut v: Vec<Duration> = self.last.iter().copied().collect();
        v.sort_unstable();
        let at = |p: usize| v.get((v.len().saturating_sub(1)) * p / 100).copied();
        let (p50, p99, max) = (at(50)?, at(99)?, *v.last()?);
        Some((p50.as_micros(), p99.as_micros(), max.as_micros(), v.len()))
    }
}

/// Key press → frame latency: when the pressed key's effect is first on screen.
#[derive(Debug, Default)]
struct KeyLatency {
    /// A key that sent a ticket change: when it was pressed and the View on screen then; its frame is
    /// the first one showing a View with another ticket.
    ticket: Option<(Instant, Arc<View>)>,
    /// A key whose effect is in the next frame.
    next_frame: Option<Instant>,
    samples: Samples,
}

/// How long a ticket key waits for a View showing its change before it is no longer measured.
const TICKET_WAIT: Duration = Duration::from_secs(1);

impl KeyLatency {
    fn pressed(&mut self, at: Instant, sent_command: bool, shown: &Arc<View>) {
        if sent_command {
            self.ticket = Some((at, Arc::clone(shown)));
            self.next_frame = None;
        } else {
            self.next_frame = Some(at);
        }
    }

    /// A new View is on screen: true when it carries the ticket change a key is waiting for. A key
    /// that changed nothing (the size already at its minimum) stops waiting after [`TICKET_WAIT`].
    fn view_shown(&mut self, view: &View) -> bool {
        match &self.ticket {
            Some((at, before)) if !same_ticket(before, view) => {
                self.next_frame = Some(*at);
                self.ticket = None;
                true
            }
            Some((at, _)) if at.elapsed() > TICKET_WAIT => {
                self.ticket = None;
                false
            }
            _ => false,
        }
    }

    fn drawn(&mut self, now: Instant) {
        if let Some(at) = self.next_frame.take() {
            let took = now.saturating_duration_since(at);
            tracing::debug!(target: "processing", micros = took.as_micros(), "key→frame");
            self.samples.record(took);
        }
    }
}

impl Drop for KeyLatency {
    /// Logs the p50/p99/max of the last keys when the loop ends, however it ends.
    fn drop(&mut self) {
        if let Some((p50_us, p99_us, max_us, n)) = self.samples.summary() {
            tracing::info!(
                target: "processing",
                keys = self.samples.count,
                p50_us,
                p99_us,
                max_us,
                "key→frame latency (last {n} keys)"
            );
        }
    }
}

/// Receive → screen: how long the frames a View brings waited for their first frame on screen —
/// from the receive stamp of the earliest (the read pacing's upper bound, see `feed::ws`) to the
/// draw. A draw after Views the UI never took (the `watch` keeps only the latest) is not measured:
/// their frames are older than the drawn View says; those draws are counted apart.
#[derive(Debug, Default)]
struct ScreenAge {
    /// `seq` of the View last drawn.
    drawn_seq: Option<u64>,
    samples: Samples,
    /// Draws of a View that came after Views not drawn.
    unmeasured: u64,
}

impl ScreenAge {
    fn drawn(&mut self, shown: &View, now: Instant) {
        if self.drawn_seq == Some(shown.seq) {
            // The same View again (a key, a resize): nothing new on screen.
            return;
        }
        let follows = self
            .drawn_seq
            .is_none_or(|seq| seq.checked_add(1) == Some(shown.seq));
        self.drawn_seq = Some(shown.seq);
        match shown.first_received {
            Some(at) if follows => self.samples.record(now.saturating_duration_since(at)),
            Some(_) => self.unmeasured += 1,
            None => {}
        }
    }
}

impl Drop for ScreenAge {
    /// Logs the p50/p99/max of the last draws when the loop ends.
    fn drop(&mut self) {
        if let Some((p50_us, p99_us, max_us, n)) = self.samples.summary() {
            tracing::info!(
                target: "processing",
                views = self.samples.count,
                unmeasured = self.unmeasured,
                p50_us,
                p99_us,
                max_us,
                "receive→screen latency (last {n} Views drawn)"
            );
        }
    }
}

/// Same action, size, step and venue selection.
fn same_ticket(a: &View, b: &View) -> bool {
    a.action == b.action
        && a.quantity == b.quantity
        && a.step == b.step
        && a.venues
            .iter()
            .map(|v| v.included)
            .eq(b.venues.iter().map(|v| v.included))
}

/// Sends a ticket change without waiting; a full queue drops it (the user can press again).
fn send(commands: &mpsc::Sender<Command>, cmd: Command) {
    if let Err(e) = commands.try_send(cmd) {
        tracing::warn!("ticket change not sent to the state actor: {e}");
    }
}

/// Runs the dashboard until the user quits, `quit` completes, or the input ends.
///
/// `input` is the terminal's event stream ([`crate::terminal::TerminalEvents`] in the binary, scripted
/// events in tests); only key presses and resizes matter. `views` is the state actor's `watch`
/// (its current value is shown at once); ticket changes go to `commands` with `try_send`.
///
/// # Errors
/// Drawing or reading the terminal failed, or the state actor stopped.
pub async fn run_ui<T, S, Q>(
    screen: &mut T,
    mut input: S,
    mut views: watch::Receiver<Arc<View>>,
    commands: mpsc::Sender<Command>,
    options: UiOptions,
    quit: Q,
) -> Result<UiExit, UiError<T::Error>>
where
    T: Screen,
    S: Stream<Item = io::Result<Event>> + Unpin,
    Q: Future<Output = ()>,
{
    let first = Arc::clone(&views.borrow_and_update());
    let size = screen.size().map_err(UiError::Terminal)?;
    let mut app = App::new(options.keymap, first, size);
    let period = frame_period(options.fps);
    let mut keys = KeyLatency::default();
    let mut age = ScreenAge::default();
    // The end of the frame period that follows a draw.
    let next_frame = sleep(Duration::ZERO);
    // The period since the last draw is over: a new View can be drawn at once. While it is not, new
    // Views are left in the `watch` (the latest is taken when the period ends), so a fast actor wakes
    // the UI at most once a frame.
    let mut cooled = true;
    let offer = sleep(options.offer_demo_after);
    tokio::pin!(offer, quit, next_frame);
    let mut offer_pending = true;
    loop {
        tokio::select! {
            // Keys first: the UI must stay responsive whatever the data rate.
            biased;
            ev = input.next() => match ev {
                None => return Ok(UiExit::Quit),
                Some(Err(e)) => return Err(UiError::Input(e)),
                Some(Ok(ev)) => {
                    let at = Instant::now();
                    if let Some(exit) = app.on_event(&ev, &commands) {
                        return Ok(exit);
                    }
                    if let Event::Resize(..) = ev {
                        // The screen does not ask the terminal for its size before each frame:
                        // the event tells it.
                        screen.resize(app.area).map_err(UiError::Terminal)?;
                    }
                    if app.dirty {
                        // A key (or a resize) is answered at once, not at the next frame.
                        if matches!(ev, Event::Key(_)) {
                            keys.pressed(at, std::mem::take(&mut app.sent_command), &app.shown);
                        }
                        next_frame.as_mut().reset(at);
                    }
                }
            },
            () = &mut quit => return Ok(UiExit::Quit),
            changed = views.changed(), if cooled || keys.ticket.is_some() => match changed {
                Ok(()) => {
                    let view = Arc::clone(&views.borrow_and_update());
                    app.on_view(view);
                    if !app.ui.paused && keys.view_shown(&app.shown) {
                        next_frame.as_mut().reset(Instant::now());
                    }
                }
                Err(_) => return Err(UiError::StateClosed),
            },
            () = &mut offer, if offer_pending => {
                offer_pending = false;
                app.on_offer_deadline();
            }
            () = &mut next_frame, if app.dirty || !cooled => {
                if app.dirty {
                    app.area = screen
                        .draw(|buf| ui::render(buf, &app.shown, &app.ui))
                        .map_err(UiError::Terminal)?;
                    app.dirty = false;
                    let now = Instant::now();
                    keys.drawn(now);
                    age.drawn(&app.shown, now);
                    next_frame
                        .as_mut()
                        .reset(period_end(now, period, options.frame_origin));
                    cooled = false;
                } else {
                    cooled = true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_period_is_one_second_over_fps_clamped() {
        assert_eq!(frame_period(10), Duration::from_millis(100));
        assert_eq!(frame_period(0), Duration::from_secs(1));
        assert_eq!(frame_period(1), Duration::from_secs(1));
        assert_eq!(frame_period(1_000), Duration::from_secs(1) / 120);
    }

    #[test]
    fn receive_to_screen_is_measured_once_per_view_and_not_after_views_never_drawn() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let view = |seq: u64, received: Option<Instant>| View {
            seq,
            first_received: received,
            ..crate::state::engine::Engine::new(
                &crate::config::Config::default_config().expect("config"),
                crate::state::engine::Ticket {
                    action: Trade::Sell,
                    quantity: rust_decimal::Decimal::ONE,
                    step: rust_decimal::Decimal::ONE,
                },
                Source::Demo,
            )
            .expect("engine")
            .view(0, crate::state::engine::ViewOptions { depth: false })
        };
        let mut age = ScreenAge::default();
        age.drawn(&view(4, Some(t0)), t0 + ms(30));
        // Drawn again (a key): nothing new on screen.
        age.drawn(&view(4, Some(t0)), t0 + ms(60));
        age.drawn(&view(5, Some(t0 + ms(100))), t0 + ms(105));
        // A View with no frame (a quiet refresh) is not a sample.
        age.drawn(&view(6, None), t0 + ms(200));
        // View 7 was never drawn: 8's stamp says nothing of 7's frames.
        age.drawn(&view(8, Some(t0 + ms(300))), t0 + ms(305));
        assert_eq!(age.samples.last, [ms(30), ms(5)]);
        assert_eq!(age.unmeasured, 1);
    }

    #[test]
    fn on_the_read_grid_a_period_ends_just_after_the_next_read() {
        let origin = Instant::now();
        let p = Duration::from_millis(100);
        let ms = Duration::from_millis;
        // Drawn after the read at 300 ms (its View, a burst, a key): the next frame may come just
        // after the read at 400 ms, whatever the phase of the draw.
        for drawn in [ms(300), ms(301), ms(350), ms(399)] {
            assert_eq!(
                period_end(origin + drawn, p, Some(origin)),
                origin + ms(405)
            );
        }
        assert_eq!(
            period_end(origin + ms(400), p, Some(origin)),
            origin + ms(505)
        );
        assert_eq!(
            period_end(origin + ms(405), p, Some(origin)),
            origin + ms(505)
        );
        assert_eq!(period_end(origin + ms(350), p, None), origin + ms(450));
    }
}

//! The real UI loop (`app::run_ui`) driven by a scripted key stream, a `watch` of Views and the
//! dashboard's own screen writing to a `vt100` terminal, under paused tokio time: keys → Commands on the actor's channel, the prompt, help,
//! pause, the demo offer, quitting.

mod ui_common;

use std::io;
use std::num::NonZeroU16;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cra_tui::app::{DRAW_GUARD, UiExit, UiOptions, run_ui};
use cra_tui::keymap::Keymap;
use cra_tui::market::Action;
use cra_tui::screen::AnsiScreen;
use cra_tui::state::Command;
use cra_tui::state::view::{Source, View};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::layout::Size;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use ui_common::*;

/// The terminal the loop draws on, as the dashboard does (its `AnsiScreen`, writing escape
/// sequences): a `vt100` terminal the test can read while the loop owns the screen; counts frames
/// (one flush each).
#[derive(Clone)]
struct Shared(Arc<Mutex<vt100::Parser>>, Arc<AtomicUsize>);

impl Shared {
    fn new(w: u16, h: u16) -> Shared {
        let parser = vt100::Parser::new(nonzero(h), nonzero(w), 0);
        Shared(Arc::new(Mutex::new(parser)), Arc::new(AtomicUsize::new(0)))
    }

    fn frames(&self) -> usize {
        self.1.load(Ordering::SeqCst)
    }

    /// The text shown, a line per row, every row as wide as the terminal.
    fn screen(&self) -> String {
        let parser = self.0.lock().unwrap();
        let screen = parser.screen();
        let (rows, cols) = screen.size();
        let (rows, cols) = (rows.get(), cols.get());
        (0..rows)
            .map(|y| {
                (0..cols)
                    .map(|x| match screen.cell(y, x).map(|c| c.contents()) {
                        Some(c) if !c.is_empty() => c,
                        _ => " ",
                    })
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The user resizes the terminal.
    fn resize(&self, w: u16, h: u16) {
        self.0.lock().unwrap().set_size(nonzero(h), nonzero(w));
    }
}

fn nonzero(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n).expect("a terminal is not empty")
}

impl io::Write for Shared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().process(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.1.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// The loop under test and its ends.
struct Harness {
    keys: mpsc::UnboundedSender<io::Result<Event>>,
    views: watch::Sender<Arc<View>>,
    commands: mpsc::Receiver<Command>,
    screen: Shared,
    quit: Option<tokio::sync::oneshot::Sender<()>>,
    task: JoinHandle<Result<UiExit, String>>,
}

fn start(view: View, w: u16, h: u16) -> Harness {
    start_at(view, w, h, 20)
}

/// [`start`] at `fps` frames per second.
fn start_at(view: View, w: u16, h: u16, fps: u32) -> Harness {
    start_with(view, w, h, UiOptions::new(Keymap::default(), fps))
}

/// [`start`] with `options`.
fn start_with(view: View, w: u16, h: u16, options: UiOptions) -> Harness {
    let (keys, mut key_rx) = mpsc::unbounded_channel::<io::Result<Event>>();
    let input = futures_util::stream::poll_fn(move |cx| key_rx.poll_recv(cx));
    let (views, view_rx) = watch::channel(Arc::new(view));
    let (cmd_tx, commands) = mpsc::channel(64);
    let screen = Shared::new(w, h);
    let (quit_tx, quit_rx) = tokio::sync::oneshot::channel::<()>();
    let mut terminal = AnsiScreen::new(screen.clone(), Size::new(w, h));
    let task = tokio::spawn(async move {
        let quit = async move {
            let _ = quit_rx.await;
        };
        run_ui(&mut terminal, input, view_rx, cmd_tx, options, quit)
            .await
            .map_err(|e| e.to_string())
    });
    Harness {
        keys,
        views,
        commands,
        screen,
        quit: Some(quit_tx),
        task,
    }
}

impl Harness {
    fn key(&self, code: KeyCode) {
        self.key_mod(code, KeyModifiers::NONE);
    }

    fn key_mod(&self, code: KeyCode, mods: KeyModifiers) {
        self.keys
            .send(Ok(Event::Key(KeyEvent::new(code, mods))))
            .unwrap();
    }

    fn typed(&self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    /// Lets the loop run (paused time: advances instantly) long enough to handle everything queued
    /// and draw a frame.
    async fn settle(&self) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    fn sent(&mut self) -> Vec<Command> {
        let mut out = Vec::new();
        while let Ok(c) = self.commands.try_recv() {
            out.push(c);
        }
        out
    }

    async fn exit(self) -> Result<UiExit, String> {
        self.task.await.unwrap()
    }
}

#[tokio::test(start_paused = true)]
async fn every_ticket_key_sends_its_command() {
    let mut h = start(live(Action::Sell, "15"), 80, 24);
    for code in [
        KeyCode::Char('b'),
        KeyCode::Char('s'),
        KeyCode::Tab,
        KeyCode::Up,
        KeyCode::Char('k'),
        KeyCode::Char('+'),
        KeyCode::Down,
        KeyCode::Char('j'),
        KeyCode::Char('-'),
        KeyCode::Char(']'),
        KeyCode::Char('['),
        KeyCode::Char('1'),
        KeyCode::Char('3'),
        // Only three venues: 4 and 9 do nothing.
        KeyCode::Char('4'),
        KeyCode::Char('9'),
        // Not a binding.
        KeyCode::Char('z'),
        // No demo offered: nothing happens.
        KeyCode::Char('d'),
    ] {
        h.key(code);
    }
    // A key release is ignored (Windows sends them).
    h.keys
        .send(Ok(Event::Key(KeyEvent::new_with_kind(
            KeyCode::Char('b'),
            KeyModifiers::NONE,
            KeyEventKind::Release,
        ))))
        .unwrap();
    h.settle().await;
    assert_eq!(
        h.sent(),
        vec![
            Command::SetAction(Action::Buy),
            Command::SetAction(Action::Sell),
            Command::FlipAction,
            Command::SizeUp,
            Command::SizeUp,
            Command::SizeUp,
            Command::SizeDown,
            Command::SizeDown,
            Command::SizeDown,
            Command::StepUp,
            Command::StepDown,
            Command::ToggleVenue(0),
            Command::ToggleVenue(2),
        ]
    );
    h.key(KeyCode::Char('q'));
    assert_eq!(h.exit().await, Ok(UiExit::Quit));
}

#[tokio::test(start_paused = true)]
async fn size_prompt_applies_a_valid_size_and_refuses_a_bad_one() {
    let mut h = start(live(Action::Sell, "15"), 80, 24);
    h.settle().await;
    h.key(KeyCode::Char('e'));
    h.typed("2.5");
    h.key(KeyCode::Enter);
    h.settle().await;
    assert_eq!(h.sent(), vec![Command::SetSize(d("2.5"))]);
    assert!(!h.screen.screen().contains("Order size"), "prompt closed");

    h.key(KeyCode::Char('e'));
    h.typed("abc");
    h.key(KeyCode::Enter);
    h.settle().await;
    assert_eq!(h.sent(), vec![]);
    let s = h.screen.screen();
    assert!(s.contains("✗ not a number: \"abc\""), "{s}");
    // Keys typed into the prompt are text, not bindings: 'q' and 's' do not quit or sell.
    h.key(KeyCode::Backspace);
    h.key(KeyCode::Backspace);
    h.key(KeyCode::Backspace);
    h.typed("-1");
    h.key(KeyCode::Enter);
    h.settle().await;
    assert_eq!(h.sent(), vec![]);
    assert!(h.screen.screen().contains("must be positive"));
    h.typed("qs");
    h.settle().await;
    assert!(h.screen.screen().contains("size: -1qs"));
    // Esc closes the prompt only; the second Esc quits.
    h.key(KeyCode::Esc);
    h.settle().await;
    assert!(!h.screen.screen().contains("Order size"));
    assert_eq!(h.sent(), vec![]);
    h.key(KeyCode::Esc);
    assert_eq!(h.exit().await, Ok(UiExit::Quit));
}

#[tokio::test(start_paused = true)]
async fn ctrl_c_quits_even_from_the_prompt() {
    let h = start(live(Action::Sell, "15"), 80, 24);
    h.key(KeyCode::Char('e'));
    h.typed("12");
    h.key_mod(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(h.exit().await, Ok(UiExit::Quit));
}

#[tokio::test(start_paused = true)]
async fn help_is_modal_and_esc_closes_it_first() {
    let mut h = start(live(Action::Sell, "15"), 80, 24);
    h.key(KeyCode::Char('?'));
    h.key(KeyCode::Char('b'));
    h.settle().await;
    assert!(h.screen.screen().contains("Keys · 3 venues"));
    assert_eq!(h.sent(), vec![], "ticket keys do nothing under the help");
    h.key(KeyCode::Esc);
    h.settle().await;
    assert!(!h.screen.screen().contains("Keys · 3 venues"));
    h.key(KeyCode::Char('b'));
    h.settle().await;
    assert_eq!(h.sent(), vec![Command::SetAction(Action::Buy)]);
    h.key(KeyCode::Char('?'));
    h.key(KeyCode::Char('q'));
    assert_eq!(h.exit().await, Ok(UiExit::Quit));
}

#[tokio::test(start_paused = true)]
async fn new_views_are_drawn_and_pause_freezes_the_screen() {
    let h = start(live(Action::Sell, "15"), 80, 24);
    h.settle().await;
    assert!(h.screen.screen().contains("SELL 15 BTC"));
    h.views.send(Arc::new(live(Action::Buy, "2.5"))).unwrap();
    h.settle().await;
    assert!(h.screen.screen().contains("BUY 2.5 BTC → walking ASKS"));
    h.key(KeyCode::Char('p'));
    h.views.send(Arc::new(live(Action::Sell, "7"))).unwrap();
    h.settle().await;
    let s = h.screen.screen();
    assert!(s.contains("BUY 2.5 BTC") && s.contains("PAUSED"), "{s}");
    h.key(KeyCode::Char('p'));
    h.settle().await;
    let s = h.screen.screen();
    assert!(s.contains("SELL 7 BTC") && !s.contains("PAUSED"), "{s}");
    drop(h.quit);
    // The quit future completing (a signal) ends the loop.
    assert_eq!(h.task.await.unwrap(), Ok(UiExit::Quit));
}

#[tokio::test(start_paused = true)]
async fn demo_is_offered_after_five_seconds_without_a_live_venue() {
    let mut h = start(connecting(), 80, 24);
    tokio::time::sleep(Duration::from_millis(4_900)).await;
    assert!(!h.screen.screen().contains("No venue is reachable"));
    h.key(KeyCode::Char('d'));
    h.settle().await;
    assert!(!h.task.is_finished(), "d does nothing before the offer");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let s = h.screen.screen();
    assert!(s.contains("No venue is reachable."), "{s}");
    // A venue coming up withdraws the offer.
    h.views.send(Arc::new(live(Action::Sell, "15"))).unwrap();
    h.settle().await;
    assert!(!h.screen.screen().contains("No venue is reachable"));
    h.key(KeyCode::Char('d'));
    h.settle().await;
    assert!(!h.task.is_finished());
    assert_eq!(h.sent(), vec![]);
    if let Some(q) = h.quit.take() {
        let _ = q.send(());
    }
    assert_eq!(h.exit().await, Ok(UiExit::Quit));
}

#[tokio::test(start_paused = true)]
async fn d_switches_to_the_demo_when_offered() {
    let h = start(connecting(), 80, 24);
    tokio::time::sleep(Duration::from_secs(6)).await;
    h.key(KeyCode::Char('d'));
    assert_eq!(h.exit().await, Ok(UiExit::SwitchToDemo));
}

#[tokio::test(start_paused = true)]
async fn no_demo_offer_outside_live_mode() {
    let mut view = connecting();
    view.source = Source::Replay;
    let h = start(view, 80, 24);
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert!(!h.screen.screen().contains("No venue is reachable"));
    h.key(KeyCode::Char('d'));
    h.key(KeyCode::Char('q'));
    assert_eq!(h.exit().await, Ok(UiExit::Quit));
}

#[tokio::test(start_paused = true)]
async fn fills_scroll_by_pages_and_cycle_tables() {
    // 80×24: the merged fills panel shows 10 rows of the 13 merged fills.
    let h = start(live(Action::Sell, "15"), 80, 24);
    h.settle().await;
    let first = h.screen.screen();
    assert!(first.contains("FILLS merged 1–"), "{first}");
    h.key(KeyCode::PageDown);
    h.settle().await;
    let s = h.screen.screen();
    assert!(s.contains("of 13") && !s.contains("FILLS merged 1–"), "{s}");
    h.key(KeyCode::PageUp);
    h.settle().await;
    assert!(h.screen.screen().contains("FILLS merged 1–"));
    h.key(KeyCode::Char('f'));
    h.settle().await;
    assert!(h.screen.screen().contains("FILLS kraken"));
    for _ in 0..3 {
        h.key(KeyCode::Char('f'));
    }
    h.settle().await;
    assert!(h.screen.screen().contains("FILLS merged"));
    h.key(KeyCode::Char('q'));
    assert_eq!(h.exit().await, Ok(UiExit::Quit));
}

#[tokio::test(start_paused = true)]
async fn input_end_quits_and_state_loss_is_an_error() {
    let h = start(live(Action::Sell, "15"), 80, 24);
    drop(h.keys);
    assert_eq!(h.task.await.unwrap(), Ok(UiExit::Quit));

    let h = start(live(Action::Sell, "15"), 80, 24);
    drop(h.views);
    let r = h.task.await.unwrap();
    assert_eq!(r, Err("the state actor stopped".to_owned()));
}

#[tokio::test(start_paused = true)]
async fn a_full_command_queue_never_blocks_the_ui() {
    let mut h = start(live(Action::Sell, "15"), 80, 24);
    // 64 slots; nobody reads them while 100 keys are pressed.
    for _ in 0..100 {
        h.key(KeyCode::Up);
    }
    h.key(KeyCode::Char('q'));
    let exit = tokio::time::timeout(Duration::from_secs(1), h.task).await;
    assert_eq!(exit.unwrap().unwrap(), Ok(UiExit::Quit));
    let mut n = 0;
    while h.commands.try_recv().is_ok() {
        n += 1;
    }
    assert_eq!(n, 64);
}

#[tokio::test(start_paused = true)]
async fn draws_only_when_something_changed() {
    let h = start(live(Action::Sell, "15"), 80, 24);
    h.settle().await;
    let after_first = h.screen.frames();
    assert!(after_first >= 1);
    // Idle for 2 s at 20 fps: 40 ticks, no redraw.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(h.screen.frames(), after_first);
    // A burst of Views between two ticks is drawn once, latest wins.
    for q in ["16", "17", "18"] {
        h.views.send(Arc::new(live(Action::Sell, q))).unwrap();
    }
    h.settle().await;
    assert_eq!(h.screen.frames(), after_first + 1);
    assert!(h.screen.screen().contains("SELL 18 BTC"));
    drop(h.quit);
    let _ = h.task.await;
}

#[tokio::test(start_paused = true)]
async fn keys_and_the_ticket_change_they_ask_for_are_drawn_at_once() {
    // One frame a second: anything drawn within milliseconds of a key was not waiting for the clock.
    let mut h = start_at(live(Action::Sell, "15"), 80, 24, 1);
    h.settle().await;
    let first = h.screen.frames();
    tokio::time::sleep(Duration::from_millis(100)).await;
    h.key(KeyCode::Char('?'));
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert!(h.screen.screen().contains("Keys · 3 venues"));
    assert_eq!(h.screen.frames(), first + 1);
    h.key(KeyCode::Esc);
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert!(!h.screen.screen().contains("Keys · 3 venues"));
    // A ticket key: the actor (here, the test) answers with a View carrying the change, drawn at once.
    h.key(KeyCode::Tab);
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert_eq!(h.sent(), vec![Command::FlipAction]);
    h.views.send(Arc::new(live(Action::Buy, "15"))).unwrap();
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert!(
        h.screen.screen().contains("BUY 15 BTC"),
        "{}",
        h.screen.screen()
    );
    // A View with no ticket change waits for the frame period.
    let before = h.screen.frames();
    h.views.send(Arc::new(live(Action::Buy, "15"))).unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(h.screen.frames(), before);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(h.screen.frames(), before + 1);
    drop(h.quit);
    let _ = h.task.await;
}

#[tokio::test(start_paused = true)]
async fn a_stream_of_views_is_drawn_at_most_fps_times_a_second() {
    let h = start_at(live(Action::Sell, "15"), 80, 24, 10);
    h.settle().await;
    let first = h.screen.frames();
    // 1,000 Views a second for 2 s: 20 frames (±1 for where the period boundaries fall).
    for i in 0..2_000u32 {
        let q = (16 + i % 50).to_string();
        h.views.send(Arc::new(live(Action::Sell, &q))).unwrap();
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let drawn = h.screen.frames() - first;
    assert!((19..=21).contains(&drawn), "{drawn} frames");
    // The last View is on screen one period later at most.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(h.screen.screen().contains("SELL 65 BTC"));
    drop(h.quit);
    let _ = h.task.await;
}

#[tokio::test(start_paused = true)]
async fn on_the_read_grid_each_read_is_drawn_as_it_comes_even_after_a_key() {
    // The feeds read every 100 ms from `origin`; the View of each read comes 1 ms after it.
    let origin = tokio::time::Instant::now();
    let options = UiOptions {
        frame_origin: Some(origin),
        ..UiOptions::new(Keymap::default(), 10)
    };
    let h = start_with(live(Action::Sell, "15"), 80, 24, options);
    let ms = Duration::from_millis;
    for read in 1..=8u32 {
        let tick = origin + ms(100) * read;
        if read % 2 == 0 {
            // Between two reads: keys, drawn at once, and a View (a burst) published after them.
            tokio::time::sleep_until(tick - ms(60)).await;
            h.key(KeyCode::Char('?'));
            h.key(KeyCode::Esc);
            tokio::time::sleep(ms(1)).await;
            h.views.send(Arc::new(live(Action::Sell, "99"))).unwrap();
        }
        tokio::time::sleep_until(tick + ms(1)).await;
        let q = (20 + read).to_string();
        h.views.send(Arc::new(live(Action::Sell, &q))).unwrap();
        // Drawn by the end of the guard after the read, not a period after the last draw.
        tokio::time::sleep_until(tick + DRAW_GUARD + ms(1)).await;
        let screen = h.screen.screen();
        assert!(
            screen.contains(&format!("SELL {q} BTC")),
            "read {read}:\n{screen}"
        );
    }
    drop(h.quit);
    let _ = h.task.await;
}

#[tokio::test(start_paused = true)]
async fn a_resize_event_resizes_the_frame() {
    // The terminal is not asked for its size before each frame: the event must be enough.
    let h = start(live(Action::Sell, "15"), 80, 24);
    h.settle().await;
    let width = |s: &str| s.lines().next().map_or(0, |l| l.chars().count());
    assert_eq!(width(&h.screen.screen()), 80);
    h.screen.resize(120, 30);
    h.keys.send(Ok(Event::Resize(120, 30))).unwrap();
    h.settle().await;
    let screen = h.screen.screen();
    let lines: Vec<&str> = screen.lines().collect();
    assert_eq!(lines.len(), 30);
    // The panels span the new width and the key bar sits on the new last line.
    let top = lines.iter().find(|l| l.starts_with('┌')).expect("a panel");
    assert!(top.ends_with('┐'), "{screen}");
    assert!(lines[29].contains("q quit"), "{screen}");
    drop(h.quit);
    let _ = h.task.await;
}

//! Terminal ownership: an RAII guard for raw mode + alternate screen + hidden cursor, the panic policy,
//! and the quit signals.
//!
//! # Panic policy
//! [`install_panic_hook`] (called once by the dashboard, after color-eyre's hook and BEFORE
//! [`TerminalGuard::enter`]) splits panics by where they happen:
//! - **On the main thread** — the UI loop, which owns the terminal: restore the terminal, log the
//!   panic, run the previous hook (the message is printed on the now normal screen) and exit with code
//!   101 (Rust's own panic exit code).
//! - **On a runtime worker thread** — a spawned task: the hook only logs (to the file, never to the
//!   screen the dashboard owns), and supervision decides: a feed task is restarted after a backoff delay
//!   and shown `down` ("internal error"), a decoder panic drops only that venue's book and resyncs it,
//!   and a dead state actor closes its `watch` channel, so the UI loop returns an error, the guard
//!   restores the terminal and the process exits with code 1 and the message. Nothing ever goes on
//!   drawing stale numbers as if they were live.
//!
//! The hook only writes terminal escape codes when a [`TerminalGuard`] is active, so it never corrupts
//! the NDJSON stdout of `--headless`. Caveat: `process::exit` does not drop a non-blocking log writer's
//! guard, so the last buffered log lines may be lost; the panic message itself always reaches stderr.

use std::future::Future;
use std::io::{self, Stdout};
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::cursor::{Hide, Show};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::layout::Size;

use crate::screen::AnsiScreen;

/// True while the terminal is in raw mode / the alternate screen because of a [`TerminalGuard`].
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// The process exit code after a panic.
pub const PANIC_EXIT_CODE: i32 = 101;

/// The dashboard's terminal. Entering switches to raw mode, the alternate screen and a hidden
/// cursor; dropping the guard (normal return, `?`, unwinding) switches back.
pub struct TerminalGuard {
    screen: AnsiScreen<Stdout>,
}

impl TerminalGuard {
    /// Takes over the terminal.
    ///
    /// # Errors
    /// Any terminal I/O error; the terminal is restored before returning it.
    pub fn enter() -> io::Result<TerminalGuard> {
        enable_raw_mode()?;
        ACTIVE.store(true, Ordering::SeqCst);
        let setup = || -> io::Result<AnsiScreen<Stdout>> {
            execute!(io::stdout(), EnterAlternateScreen, Hide)?;
            // Read once: from now on the resize events tell the screen (an `ioctl` on `/dev/tty`
            // before each frame, as ratatui's full-screen viewport does, was 2 % of the UI thread).
            let (width, height) = crossterm::terminal::size()?;
            Ok(AnsiScreen::new(io::stdout(), Size::new(width, height)))
        };
        match setup() {
            Ok(screen) => Ok(TerminalGuard { screen }),
            Err(e) => {
                let _ = restore();
                Err(e)
            }
        }
    }

    /// The screen to draw on.
    pub fn screen_mut(&mut self) -> &mut AnsiScreen<Stdout> {
        &mut self.screen
    }
}

/// The terminal's events (keys, resizes), read by a thread of their own and passed on a channel.
///
/// crossterm's `EventStream` polls the terminal each time it is polled, and the UI loop polls its
/// input first on every wake-up (a View, a frame deadline); the stream's reader lock is then held by
/// its helper thread, and taking it spun through about ten `sched_yield`s a poll: 3 % of the UI
/// thread at 10 frames a second. A blocking `read` on a thread of its own costs nothing between
/// key presses, and polling a channel costs no system call.
pub struct TerminalEvents {
    events: tokio::sync::mpsc::Receiver<io::Result<crossterm::event::Event>>,
}

impl TerminalEvents {
    /// Starts the reading thread. It ends after a read error (passed on first) or when the
    /// receiver is gone and an event comes; at exit it is left blocked in its read.
    ///
    /// # Errors
    /// The thread cannot be started.
    pub fn spawn() -> io::Result<TerminalEvents> {
        let (tx, events) = tokio::sync::mpsc::channel(64);
        std::thread::Builder::new()
            .name("terminal-input".to_owned())
            .spawn(move || {
                loop {
                    let event = crossterm::event::read();
                    let failed = event.is_err();
                    if tx.blocking_send(event).is_err() || failed {
                        break;
                    }
                }
            })?;
        Ok(TerminalEvents { events })
    }

    /// The events as a stream, for one run of the UI loop.
    pub fn stream(
        &mut self,
    ) -> impl futures_util::Stream<Item = io::Result<crossterm::event::Event>> + Unpin + '_ {
        futures_util::stream::poll_fn(move |cx| self.events.poll_recv(cx))
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        if let Err(e) = restore() {
            // Nothing better to do while dropping: say it where the user can see it.
            eprintln!("cra-tui: could not restore the terminal: {e}");
        }
    }
}

/// Leaves the alternate screen, shows the cursor and disables raw mode — only if a
/// [`TerminalGuard`] set them up and they were not restored yet (so it is safe to call twice, and
/// a no-op in headless mode).
///
/// # Errors
/// The first terminal I/O error (the other steps are still attempted).
pub fn restore() -> io::Result<()> {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return Ok(());
    }
    let screen = execute!(io::stdout(), LeaveAlternateScreen, Show);
    let raw = disable_raw_mode();
    screen.and(raw)
}

/// Installs the panic policy described in the module doc. Call once, before [`TerminalGuard::enter`].
pub fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let ui_thread = std::thread::current().name() == Some("main");
        if ACTIVE.load(Ordering::SeqCst) && !ui_thread {
            // A spawned task: its supervisor handles it; keep the screen intact.
            tracing::error!(target: "panic", "{info}");
            return;
        }
        let owned_terminal = ACTIVE.load(Ordering::SeqCst);
        let _ = restore();
        tracing::error!(target: "panic", "{info}");
        previous(info);
        if owned_terminal {
            std::process::exit(PANIC_EXIT_CODE);
        }
    }));
}

/// A future that completes on SIGTERM, SIGHUP or SIGINT (Ctrl-C is a key in raw mode; SIGINT
/// still arrives from `kill -INT`). The handlers are registered when this is called — so a signal
/// sent right after is not missed — which must be inside a tokio runtime. A signal that cannot be
/// registered is logged and simply never fires.
pub fn quit_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{Signal, SignalKind, signal};
        let register = |kind: SignalKind, name: &str| -> Option<Signal> {
            signal(kind)
                .inspect_err(|e| tracing::warn!("cannot listen for {name}: {e}"))
                .ok()
        };
        let mut term = register(SignalKind::terminate(), "SIGTERM");
        let mut hup = register(SignalKind::hangup(), "SIGHUP");
        let mut int = register(SignalKind::interrupt(), "SIGINT");
        async move {
            async fn recv(s: Option<&mut Signal>) {
                match s {
                    Some(s) => {
                        // `None` means the runtime is going away: treat it as a quit request.
                        let _ = s.recv().await;
                    }
                    None => std::future::pending().await,
                }
            }
            tokio::select! {
                () = recv(term.as_mut()) => tracing::info!("SIGTERM: quitting"),
                () = recv(hup.as_mut()) => tracing::info!("SIGHUP: quitting"),
                () = recv(int.as_mut()) => tracing::info!("SIGINT: quitting"),
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

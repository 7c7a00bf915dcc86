//! End to end in a real terminal: the `cra-tui` binary in `--demo` mode inside a pseudo-terminal,
//! read back through a VT100 emulator. Checks what a person would see and that the terminal is
//! handed back clean (alternate screen left, cursor shown, exit status 0).
//!
//! Waits are bounded waits for output from the child (with a deadline), never fixed sleeps.

use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

const ROWS: u16 = 36;
const COLS: u16 = 130;
/// Generous: the demo starts loopback servers and the first books must arrive.
const STARTUP: Duration = Duration::from_secs(30);
const STEP: Duration = Duration::from_secs(10);

/// The child's output so far, raw and as a screen.
struct Term {
    rx: mpsc::Receiver<Vec<u8>>,
    parser: vt100::Parser,
    raw: Vec<u8>,
}

impl Term {
    /// Reads output until `ok(screen)` holds or `limit` passes; the screen on failure.
    fn wait_for(&mut self, what: &str, limit: Duration, ok: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + limit;
        loop {
            let screen = self.parser.screen().contents();
            if ok(&screen) {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "timed out waiting for {what}; screen:\n{screen}"
            );
            match self.rx.recv_timeout(left) {
                Ok(chunk) => {
                    self.parser.process(&chunk);
                    self.raw.extend_from_slice(&chunk);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    panic!(
                        "the program closed the terminal while waiting for {what}; screen:\n{screen}"
                    )
                }
            }
        }
    }

    /// Everything still buffered (after the child exited).
    fn drain(&mut self, limit: Duration) {
        let deadline = Instant::now() + limit;
        while let Ok(chunk) = self
            .rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.parser.process(&chunk);
            self.raw.extend_from_slice(&chunk);
        }
    }
}

fn last_index(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

#[test]
fn demo_in_a_real_terminal_flips_edits_and_quits_cleanly() {
    let pty = native_pty_system();
    let pair = pty
        .openpty(PtySize {
            rows: ROWS,
            cols: COLS,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("open a pty");
    let log_dir = std::env::temp_dir().join(format!("cra-tui-pty-test-{}", std::process::id()));
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_cra-tui"));
    cmd.args([
        "--demo",
        "--action",
        "sell",
        "--liquidity",
        "15",
        "--log-dir",
    ]);
    cmd.arg(&log_dir);
    cmd.env("TERM", "xterm-256color");
    let mut child = pair.slave.spawn_command(cmd).expect("spawn cra-tui");
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().expect("pty reader");
    let mut writer = pair.master.take_writer().expect("pty writer");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match reader.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    let mut term = Term {
        rx,
        parser: vt100::Parser::new(
            NonZeroU16::new(ROWS).unwrap(),
            NonZeroU16::new(COLS).unwrap(),
            0,
        ),
        raw: Vec::new(),
    };

    term.wait_for("the three venues and the merged walk", STARTUP, |s| {
        ["KRAKEN", "COINBASE", "GEMINI", "MERGED"]
            .iter()
            .all(|name| s.contains(name))
            && s.contains("SELL 15 BTC")
    });

    writer.write_all(b"\t").unwrap();
    writer.flush().unwrap();
    term.wait_for("BUY after Tab", STEP, |s| {
        s.contains("BUY 15 BTC") && s.contains("walking ASKS")
    });

    writer.write_all(b"e2.5\r").unwrap();
    writer.flush().unwrap();
    term.wait_for("the new size", STEP, |s| s.contains("BUY 2.5 BTC"));

    writer.write_all(b"q").unwrap();
    writer.flush().unwrap();
    let deadline = Instant::now() + STEP;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for cra-tui") {
            break status;
        }
        assert!(Instant::now() < deadline, "cra-tui did not exit after q");
        // Keep reading so the child never blocks on a full pty.
        term.drain(Duration::from_millis(50));
    };
    term.drain(Duration::from_millis(500));
    assert!(status.success(), "exit status {status:?}");

    // The terminal is handed back: the alternate screen left after it was last entered, and the
    // cursor shown after it was last hidden.
    let raw = &term.raw;
    let entered = last_index(raw, b"\x1b[?1049h").expect("entered the alternate screen");
    let left = last_index(raw, b"\x1b[?1049l").expect("left the alternate screen");
    assert!(left > entered);
    let shown = last_index(raw, b"\x1b[?25h").expect("cursor shown");
    if let Some(hidden) = last_index(raw, b"\x1b[?25l") {
        assert!(shown > hidden);
    }
    assert!(!term.parser.screen().alternate_screen());
    let _ = std::fs::remove_dir_all(&log_dir);
}

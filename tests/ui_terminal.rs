//! `terminal`: the quit signals end the `quit_signal` future; `restore` without a guard is a no-op.
//! (Its own test binary: the signal handlers it installs stay for the life of the process.)

use std::time::Duration;

use cra_tui::terminal::{quit_signal, restore};

fn send(signal: &str) {
    let status = std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(std::process::id().to_string())
        .status()
        .expect("run kill");
    assert!(status.success());
}

#[cfg(unix)]
#[tokio::test]
async fn sigterm_sighup_and_sigint_end_the_quit_future() {
    use futures_util::FutureExt;
    // One test, run in sequence: signals go to the whole process.
    let mut idle = Box::pin(quit_signal());
    assert!((&mut idle).now_or_never().is_none(), "no signal yet");
    for signal in ["TERM", "HUP", "INT"] {
        let quit = quit_signal();
        // Registered at the call: a signal sent before the first poll is not missed.
        send(signal);
        tokio::time::timeout(Duration::from_secs(10), quit)
            .await
            .unwrap_or_else(|_| panic!("SIG{signal} did not end quit_signal()"));
    }
}

#[test]
fn restore_without_a_guard_does_nothing() {
    // Headless mode calls this through the panic hook: it must not touch the terminal.
    assert!(restore().is_ok());
    assert!(restore().is_ok());
}

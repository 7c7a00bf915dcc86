//! The user's first offline command, as a user runs it: `cra-tui --demo --headless --action sell
//! --liquidity 15` prints live lines for all three venues and the merged walk within 2 s, and a
//! SIGTERM ends it with a last line and exit code 0.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[test]
fn demo_headless_is_live_within_two_seconds_and_ends_cleanly_on_sigterm() {
    let logs = std::env::temp_dir().join(format!("cra-tui-demo-headless-{}", std::process::id()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_cra-tui"))
        .args([
            "--demo",
            "--headless",
            "--action",
            "sell",
            "--liquidity",
            "15",
            "--log-dir",
        ])
        .arg(&logs)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let started = Instant::now();
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send((Instant::now(), line)).is_err() {
                break;
            }
        }
    });
    let (at, first) = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("a first line");
    let v: serde_json::Value = serde_json::from_str(&first).expect("json line");
    let elapsed = at - started;
    assert!(
        elapsed <= Duration::from_secs(2),
        "first line after {elapsed:?}"
    );
    let venues = v["venues"].as_array().expect("venues");
    let names: Vec<_> = venues
        .iter()
        .map(|x| x["venue"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, ["kraken", "coinbase", "gemini"]);
    for x in venues {
        assert_eq!(x["status"], "live", "{x}");
        assert_eq!(
            x["filled"].as_str().and_then(|s| s.parse::<f64>().ok()),
            Some(15.0)
        );
        assert!(x["fills"].as_array().is_some_and(|f| !f.is_empty()));
    }
    assert_eq!(
        v["merged"]["venues"],
        serde_json::json!(["kraken", "coinbase", "gemini"])
    );
    assert_eq!(v["side"], "bid");

    let pid = child.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0), "exit status {status:?}");
    reader.join().expect("reader");
    let rest: Vec<_> = rx.try_iter().collect();
    let (_, last) = rest.last().expect("a last line after SIGTERM");
    let last: serde_json::Value = serde_json::from_str(last).expect("json");
    assert!(last["ts_ns"].as_i64() >= v["ts_ns"].as_i64());
    let _ = std::fs::remove_dir_all(&logs);
}

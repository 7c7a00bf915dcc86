//! The command line as a user meets it: every bad input exits 2 with one precise line on stderr.

use std::process::{Command, Output};

fn cra(args: &[&str]) -> Output {
    let logs = std::env::temp_dir().join(format!("cra-tui-cli-test-{}", std::process::id()));
    Command::new(env!("CARGO_BIN_EXE_cra-tui"))
        .args(args)
        .env("CRA_TUI_LOG", "off")
        .env("XDG_CONFIG_HOME", &logs)
        .arg("--log-dir")
        .arg(&logs)
        .output()
        .expect("run cra-tui")
}

fn assert_usage_error(args: &[&str], needle: &str) {
    let out = cra(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{args:?}: status {:?}, stderr {stderr}",
        out.status
    );
    assert_eq!(
        stderr.lines().count(),
        1,
        "{args:?}: not one line: {stderr:?}"
    );
    assert!(stderr.starts_with("cra-tui: "), "{args:?}: {stderr:?}");
    assert!(
        stderr.contains(needle),
        "{args:?}: {stderr:?} lacks {needle:?}"
    );
    assert!(out.stdout.is_empty(), "{args:?}: wrote to stdout");
}

fn invalid(name: &str) -> String {
    format!(
        "{}/tests/invalid_configs/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn bad_sizes_exit_2() {
    assert_usage_error(&["--headless", "--liquidity", "0"], "size must be positive");
    assert_usage_error(&["--headless", "--liquidity=-1"], "size must be positive");
    assert_usage_error(
        &["--headless", "--liquidity", "abc"],
        "'abc' is not a number",
    );
    assert_usage_error(&["--headless", "sell", "15x"], "'15x' is not a number");
}

#[test]
fn unknown_action_and_venue_exit_2() {
    assert_usage_error(&["--headless", "--action", "hold"], "unknown action 'hold'");
    assert_usage_error(&["--headless", "hold", "15"], "unknown action 'hold'");
    assert_usage_error(
        &["--headless", "--venues", "kraken,binance"],
        "unknown venue 'binance'",
    );
}

#[test]
fn unreadable_files_exit_2() {
    assert_usage_error(
        &["--headless", "--replay", "/nonexistent/capture.ndjson"],
        "cannot read replay file /nonexistent/capture.ndjson",
    );
    assert_usage_error(
        &["--headless", "--config", "/nonexistent/c.toml"],
        "cannot read config file /nonexistent/c.toml",
    );
    assert_usage_error(
        &["--headless", "--record", "/nonexistent/dir/rec.ndjson"],
        "cannot write recording",
    );
}

#[test]
fn bad_configs_exit_2_naming_the_problem() {
    assert_usage_error(
        &["--headless", "--config", &invalid("unknown_key.toml")],
        "colour",
    );
    assert_usage_error(
        &["--headless", "--config", &invalid("bad_venue_key.toml")],
        "urll",
    );
    assert_usage_error(
        &["--headless", "--config", &invalid("unknown_adapter.toml")],
        "unknown adapter 'binance-spot'",
    );
    assert_usage_error(
        &["--headless", "--config", &invalid("negative_size.toml")],
        "default_liquidity",
    );
    assert_usage_error(
        &["--headless", "--config", &invalid("not_toml.toml")],
        "invalid config",
    );
}

#[test]
fn help_and_version_exit_0() {
    let out = cra(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--action",
        "--liquidity",
        "--demo",
        "--replay",
        "--speed",
        "--record",
        "--headless",
        "--interval-ms",
        "--venues",
    ] {
        assert!(text.contains(flag), "help lacks {flag}");
    }
    assert_eq!(cra(&["--version"]).status.code(), Some(0));
}

/// Runs `cra-tui --headless --replay CAP ARGS…`, checks that it exits 0, and returns its stdout.
fn replay(cap: &std::path::Path, args: &[&str]) -> String {
    let mut all = vec!["--headless", "--replay", cap.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = cra(&all);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn an_empty_replay_still_prints_a_last_line() {
    let dir = std::env::temp_dir().join(format!("cra-tui-cli-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cap = dir.join("empty.ndjson");
    std::fs::write(&cap, "").unwrap();
    let stdout = replay(&cap, &["--action", "buy", "--liquidity", "2.5"]);
    let lines: Vec<_> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(v["action"], "buy");
    assert_eq!(v["side"], "ask");
    assert_eq!(v["quantity"], "2.5");
    assert_eq!(v["merged"]["filled"], "0");
    assert_eq!(v["merged"]["unfilled"], "2.5");
    assert!(v["merged"]["vwap"].is_null());
    let venues: Vec<_> = v["venues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["venue"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(venues, ["kraken", "coinbase", "gemini"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A venue whose every frame is malformed for longer than twice its silence limit (Gemini: 2 × 15 s)
/// is taken out of the merged walk and resynced, not left live on a frozen book; a shorter run of bad
/// frames is only counted. Driven through a headless replay, whose clock is the capture's.
#[test]
fn a_replayed_venue_sending_only_malformed_frames_is_resynced() {
    let dir = std::env::temp_dir().join(format!("cra-tui-cli-malformed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let last_gemini = |seconds_of_garbage: u64| {
        let snapshot = r#"{"type":"l2_updates","symbol":"BTCUSD","changes":[["buy","100","1"],["sell","101","1"]]}"#;
        let line = |s: u64, frame: &str| {
            serde_json::json!({"ts_ns": s * 1_000_000_000, "venue": "gemini", "frame": frame})
                .to_string()
        };
        let mut capture = vec![line(1, snapshot)];
        for s in 2..2 + seconds_of_garbage {
            capture.push(line(s, r#"{"type":"l2_updates"}"#));
        }
        let cap = dir.join(format!("garbage-{seconds_of_garbage}.ndjson"));
        std::fs::write(&cap, capture.join("\n") + "\n").unwrap();
        let stdout = replay(&cap, &["--venues", "gemini", "--liquidity", "1"]);
        let last: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
        last["venues"][0].clone()
    };
    // 30 bad frames, a second apart (the run from 2 s to 31 s is 29 s): counted, still live.
    let g = last_gemini(30);
    assert_eq!(
        (g["status"].as_str(), g["bad_frames"].as_u64()),
        (Some("live"), Some(30)),
        "{g}"
    );
    assert_eq!(g["resyncs"], 0, "{g}");
    // 32 of them: resynced at the first bad frame more than 30 s after the run began.
    let g = last_gemini(32);
    assert_eq!(g["status"], "resyncing", "{g}");
    assert_eq!(
        (g["bad_frames"].as_u64(), g["resyncs"].as_u64()),
        (Some(32), Some(1)),
        "{g}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

//! The real recordings in `../shared/fixtures`, converted to our capture format with the shared tool
//! and replayed headless, must give exactly what the independent Python implementation
//! (`tools/verify_walk.py`) computes — fills, filled and unfilled exactly, VWAP to 1e-8 — for every
//! venue and the merged walk. Opt-in: skipped (with a note) when `../shared` or python3 is absent.
//! Nothing from the recordings is stored in this repository; captures go to a temporary directory.

use std::path::{Path, PathBuf};
use std::process::Command;

fn shared() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    [root.join("../shared"), root.join("../../shared")]
        .into_iter()
        .find(|p| p.join("fixtures").is_dir())
}

fn python() -> bool {
    Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("cra-tui-verify-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// Converts `pairs` (venue, fixture path under fixtures/) into one capture file.
fn capture(shared: &Path, dir: &Path, pairs: &[(&str, &str)]) -> PathBuf {
    let mut cmd = Command::new("python3");
    cmd.arg(shared.join("tools/fixture_to_capture.py"));
    for (venue, path) in pairs {
        cmd.arg(venue).arg(shared.join("fixtures").join(path));
    }
    let out = cmd.output().expect("fixture_to_capture.py");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = dir.join("capture.ndjson");
    std::fs::write(&path, &out.stdout).expect("write capture");
    path
}

/// Replays `cap` headless and checks the last line with the verifier; returns the last line.
fn replay_and_verify(cap: &Path, dir: &Path, args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_cra-tui"))
        .args(["--headless", "--replay"])
        .arg(cap)
        .args(args)
        .arg("--log-dir")
        .arg(dir.join("logs"))
        .output()
        .expect("run cra-tui");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let headless = dir.join("headless.ndjson");
    std::fs::write(&headless, &out.stdout).expect("write output");
    let verifier = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/verify_walk.py");
    let v = Command::new("python3")
        .arg(verifier)
        .arg(cap)
        .args(args)
        .arg("--compare")
        .arg(&headless)
        .output()
        .expect("verifier");
    assert!(
        v.status.success(),
        "verifier disagrees for {args:?}:\n{}{}",
        String::from_utf8_lossy(&v.stdout),
        String::from_utf8_lossy(&v.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.lines().last().expect("a line")).expect("json")
}

const KRAKEN: &str = "kraken/kraken_v2_btcusd_depth10_20260816_depthcharge_first130lines.ndjson";
const COINBASE: &str = "coinbase/coinbase_advanced_trade_level2_20260809_cryptofeed.jsonl";
const GEMINI: &str = "gemini/gemini_v2_l2_20260809_cryptofeed.jsonl";

#[test]
fn real_recordings_match_the_independent_implementation() {
    let (Some(shared), true) = (shared(), python()) else {
        eprintln!("note: ../shared/fixtures or python3 missing: skipped");
        return;
    };
    let dir = tmp("all");
    let cap = capture(
        &shared,
        &dir,
        &[
            ("kraken", KRAKEN),
            ("coinbase", COINBASE),
            ("gemini", GEMINI),
        ],
    );
    for action in ["sell", "buy"] {
        for qty in ["0.5", "15", "500"] {
            let last = replay_and_verify(&cap, &dir, &["--action", action, "--liquidity", qty]);
            let venues = last["venues"].as_array().expect("venues");
            for v in venues {
                assert_eq!(v["status"], "live", "{action} {qty}: {}", v["venue"]);
                assert_eq!(v["checksum_failures"], 0);
                assert_eq!(v["bad_frames"], 0);
            }
            assert_eq!(last["merged"]["venues"].as_array().map(Vec::len), Some(3));
        }
    }
    // Equal prices are taken in config order: reversing the order must still agree with the verifier.
    replay_and_verify(
        &cap,
        &dir,
        &[
            "--action",
            "sell",
            "--liquidity",
            "500",
            "--venues",
            "gemini,coinbase,kraken",
        ],
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn one_altered_kraken_quantity_is_caught() {
    let (Some(shared), true) = (shared(), python()) else {
        eprintln!("note: ../shared/fixtures or python3 missing: skipped");
        return;
    };
    let dir = tmp("tampered");
    let cap = capture(&shared, &dir, &[("kraken", KRAKEN)]);
    let text = std::fs::read_to_string(&cap).expect("capture");
    // Change the last digit of the first non-zero quantity of the 10th update.
    let mut updates = 0;
    let lines: Vec<String> = text
        .lines()
        .map(|l| {
            if !l.contains(r#"\"type\":\"update\""#) {
                return l.to_owned();
            }
            updates += 1;
            if updates != 10 {
                return l.to_owned();
            }
            let at = l.find(r#"\"qty\":"#).expect("a qty") + r#"\"qty\":"#.len();
            let end = at
                + l[at..]
                    .find(|c: char| c != '.' && !c.is_ascii_digit())
                    .expect("end");
            let mut s = l.to_owned();
            let last = s.as_bytes()[end - 1];
            let digit = if last == b'9' {
                '8'
            } else {
                char::from(last + 1)
            };
            s.replace_range(end - 1..end, &digit.to_string());
            s
        })
        .collect();
    std::fs::write(&cap, lines.join("\n") + "\n").expect("write");
    let last = replay_and_verify(
        &cap,
        &dir,
        &[
            "--venues",
            "kraken",
            "--action",
            "sell",
            "--liquidity",
            "15",
        ],
    );
    let k = &last["venues"][0];
    assert_eq!(k["checksum_failures"], 1);
    assert_ne!(k["status"], "live");
    assert_eq!(last["merged"]["excluded"], serde_json::json!(["kraken"]));
    assert_eq!(last["merged"]["filled"], "0");
    std::fs::remove_dir_all(&dir).ok();
}

//! Faults from outside the process, as they will be checked: the real binary (`cra-tui --headless
//! --config FILE`, default timings) with a user config pointing every venue at loopback servers in this
//! test, which then misbehave one after the other. Each venue must recover on its own while the others
//! stay live, and the headless lines must show what happened (status and counters).

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use cra_tui::sim::{Fault, SimHandle, SimOptions};
use serde_json::Value;
use tokio::sync::mpsc;

use common::{COINBASE, GEMINI, KRAKEN, demo_with};

/// Kills the child on every exit path (a failed assertion included).
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Lines(mpsc::UnboundedReceiver<String>);

impl Lines {
    /// The first headless line (within 30 s) whose venues satisfy `pred`.
    async fn until(&mut self, what: &str, pred: impl Fn(&[Value]) -> bool) -> Value {
        let wait = tokio::time::timeout(Duration::from_secs(30), async {
            let mut last = Value::Null;
            while let Some(line) = self.0.recv().await {
                let v: Value = serde_json::from_str(&line).expect("a JSON line");
                if v["venues"].as_array().is_some_and(|vs| pred(vs)) {
                    return Ok(v);
                }
                last = v;
            }
            Err(last)
        })
        .await;
        match wait {
            Ok(Ok(v)) => v,
            Ok(Err(last)) => panic!("cra-tui ended while waiting for {what}; last: {last}"),
            Err(_) => panic!("timed out waiting for {what}"),
        }
    }
}

fn counter(v: &Value, name: &str) -> u64 {
    v[name].as_u64().unwrap_or(u64::MAX)
}

fn live(v: &Value) -> bool {
    v["status"] == "live"
}

fn user_config(sims: &[SimHandle], logs: &std::path::Path) -> String {
    let mut toml = format!("log_dir = {:?}\n", logs.display().to_string());
    for s in sims {
        toml.push_str(&format!(
            "\n[[venue]]\nname = {:?}\nurl = {:?}\n",
            s.venue().name,
            s.url()
        ));
    }
    toml
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_recovers_from_faults_at_each_venue_while_the_others_stay_live() {
    let (_, sims) = demo_with(SimOptions {
        seed: 31,
        levels_per_side: 300,
        ..SimOptions::default()
    })
    .await;
    let dir = std::env::temp_dir().join(format!("cra-tui-faults-process-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let cfg = dir.join("config.toml");
    std::fs::write(&cfg, user_config(&sims, &dir.join("logs"))).expect("config");
    let mut child = Command::new(env!("CARGO_BIN_EXE_cra-tui"))
        .arg("--config")
        .arg(&cfg)
        .args(["--headless", "--interval-ms", "100"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let _running = Running(child);
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Lines(rx);
    lines
        .until("three live venues", |vs| vs.iter().all(live))
        .await;

    // Kraken: an abrupt reset, then a corrupted checksum.
    sims[KRAKEN].fault(Fault::Reset);
    lines
        .until("kraken reconnected", |vs| {
            counter(&vs[KRAKEN], "reconnects") == 1 && vs.iter().all(live)
        })
        .await;
    sims[KRAKEN].fault(Fault::CorruptChecksum);
    lines
        .until("kraken resynced after a checksum failure", |vs| {
            counter(&vs[KRAKEN], "checksum_failures") == 1
                && counter(&vs[KRAKEN], "resyncs") == 1
                && vs.iter().all(live)
        })
        .await;
    // Coinbase: a sequence gap, then garbage.
    sims[COINBASE].fault(Fault::SkipUpdate);
    lines
        .until("coinbase resynced after a gap", |vs| {
            counter(&vs[COINBASE], "sequence_gaps") == 1 && vs.iter().all(live)
        })
        .await;
    sims[COINBASE].inject_frame("not json at all");
    sims[COINBASE].fault(Fault::Binary(vec![0xff, 0xfe]));
    lines
        .until("coinbase counted two bad frames", |vs| {
            counter(&vs[COINBASE], "bad_frames") == 2 && live(&vs[COINBASE])
        })
        .await;
    // Gemini: a crossed book, then an oversize frame (over the default 64 MiB limit).
    sims[GEMINI].fault(Fault::CrossBook);
    lines
        .until("gemini resynced after a crossed book", |vs| {
            counter(&vs[GEMINI], "crossed_books") == 1 && vs.iter().all(live)
        })
        .await;
    sims[GEMINI].fault(Fault::Oversize(65 << 20));
    let v = lines
        .until("gemini reconnected after an oversize frame", |vs| {
            counter(&vs[GEMINI], "reconnects") == 1 && vs.iter().all(live)
        })
        .await;
    // Each venue's trouble stayed its own.
    let vs = v["venues"].as_array().expect("venues");
    assert_eq!(
        (
            counter(&vs[KRAKEN], "bad_frames"),
            counter(&vs[KRAKEN], "sequence_gaps"),
            counter(&vs[GEMINI], "checksum_failures"),
            counter(&vs[COINBASE], "reconnects"),
        ),
        (0, 0, 0, 0)
    );
    assert_eq!(
        v["merged"]["venues"],
        serde_json::json!(["kraken", "coinbase", "gemini"])
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// CPU time (user + system) of process `pid`, in clock ticks (`/proc/PID/stat` fields 14 and 15).
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// Scenario 8 from outside: every venue refused → all `down`, retrying with backoff, and the process
/// stays idle (CPU time over 3 s of headless lines, measured from /proc).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_stays_idle_while_every_venue_is_down() {
    let dir = std::env::temp_dir().join(format!("cra-tui-faults-idle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let mut toml = format!("log_dir = {:?}\n", dir.join("logs").display().to_string());
    for name in ["kraken", "coinbase", "gemini"] {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").port()
        };
        toml.push_str(&format!(
            "\n[[venue]]\nname = {name:?}\nurl = \"ws://127.0.0.1:{port}/\"\n"
        ));
    }
    let cfg = dir.join("config.toml");
    std::fs::write(&cfg, toml).expect("config");
    let mut child = Command::new(env!("CARGO_BIN_EXE_cra-tui"))
        .arg("--config")
        .arg(&cfg)
        .args(["--headless", "--interval-ms", "100"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let pid = child.id();
    let stdout = child.stdout.take().expect("stdout");
    let _running = Running(child);
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Lines(rx);
    lines
        .until("all down", |vs| vs.iter().all(|v| v["status"] == "down"))
        .await;
    let (t0, c0) = (std::time::Instant::now(), cpu_ticks(pid));
    for _ in 0..30 {
        lines.until("a line", |_| true).await;
    }
    let v = lines
        .until("still all down", |vs| {
            vs.iter().all(|v| v["status"] == "down")
        })
        .await;
    let (elapsed, c1) = (t0.elapsed(), cpu_ticks(pid));
    assert_eq!(v["merged"]["venues"], serde_json::json!([]));
    if let (Some(c0), Some(c1)) = (c0, c1) {
        // Clock ticks are 1/100 s on Linux: at most 10 % of one core while waiting to retry.
        let busy = Duration::from_millis((c1 - c0) * 10);
        eprintln!("all venues down: {busy:?} of CPU over {elapsed:?}");
        assert!(busy <= elapsed / 10, "{busy:?} of CPU over {elapsed:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

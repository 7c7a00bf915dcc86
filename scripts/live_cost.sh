#!/usr/bin/env bash
# Live cost of the dashboard: the real `cra-tui` (release) drawing at its configured 10 fps in a 200x60
# terminal (tmux), fed over loopback WebSockets by the simulated exchanges running in a process of their
# own (`examples/sim_exchanges.rs`), so only the dashboard's own CPU and memory are counted.
#
#   scripts/live_cost.sh                       # 60 s at the demo rate (150 updates/s per venue) and idle
#   SECONDS_MEASURED=300 RATE=500 CASES=live scripts/live_cost.sh
#
# Two cases, each after a warm-up of WARMUP seconds (default 15):
#   live - RATE book updates per second per venue (default 150: ~450 msg/s over the three venues);
#   idle - no book updates at all (the servers only send their heartbeats): what is left is the frame
#          timer and the heartbeats.
# For each: CPU as a share of one core (utime+stime of every thread, from /proc), the wake-ups per
# second (voluntary + involuntary context switches of every thread), RSS when the measurement starts
# and ends and its peak (VmHWM) — with SECONDS_MEASURED=1800 the live case is a 30-minute soak — and
# the frames the dashboard took per second (from its processing log: the rate was real). Then 30 keys
# are pressed (ticket flips and help toggles) and the dashboard's key press → frame summary is shown.
# The dashboard's last latency lines (receive→View p50/p99 and histogram, receive→screen and key→frame
# p50/p99/max) go to stderr.
# Goals (issue 5): live < 2 % of one core and < 20 MB RSS. Needs: cargo, tmux.
set -euo pipefail

cd "$(dirname "$0")/.."
SECONDS_MEASURED=${SECONDS_MEASURED:-60}
WARMUP=${WARMUP:-15}
RATE=${RATE:-150}
OUT=${OUT:-target/live-cost}
command -v tmux >/dev/null || { echo "live_cost: tmux is needed (apt-get install -y tmux)" >&2; exit 2; }

echo "== build (release)" >&2
cargo build --release --quiet --bin cra-tui --example sim_exchanges
CRA=$PWD/target/release/cra-tui
SIM=$PWD/target/release/examples/sim_exchanges
mkdir -p "$OUT/noconfig"
export XDG_CONFIG_HOME="$PWD/$OUT/noconfig"
HZ=$(getconf CLK_TCK)
SESSION=cra-live-cost-$$
SIM_PID=

cleanup() {
    tmux kill-session -t "$SESSION" 2>/dev/null || true
    [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null || true
    wait 2>/dev/null || true
}
trap cleanup EXIT

# cpu_ticks PID: utime+stime of the whole process (all threads, in clock ticks).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# switches PID: context switches of every thread so far.
switches() {
    cat /proc/"$1"/task/*/status 2>/dev/null |
        awk '/^(voluntary|nonvoluntary)_ctxt_switches/ { s += $2 } END { print s + 0 }'
}
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

measure() {
    local label=$1 rate=$2 logs="$PWD/$OUT/$1-logs"
    rm -rf "$logs"
    "$SIM" --config-out "$OUT/$label.toml" --rate "$rate" 2>"$OUT/$label.sim.err" &
    SIM_PID=$!
    for _ in $(seq 100); do [ -s "$OUT/$label.toml" ] && break; sleep 0.1; done
    [ -s "$OUT/$label.toml" ] || { echo "live_cost: the simulator did not start" >&2; exit 1; }
    tmux new-session -d -s "$SESSION" -x 200 -y 60 \
        "$CRA --config $OUT/$label.toml --log-dir $logs --action sell --liquidity 15"
    local pid=
    for _ in $(seq 100); do
        pid=$(pgrep -f "^$CRA --config $OUT/$label.toml" | head -1 || true)
        [ -n "$pid" ] && break
        sleep 0.1
    done
    [ -n "$pid" ] || { echo "live_cost: cra-tui did not start" >&2; exit 1; }
    sleep "$WARMUP"
    local t0 s0 f0 t1 s1 f1 rss0
    t0=$(cpu_ticks "$pid"); s0=$(switches "$pid"); f0=$(frames "$logs"); rss0=$(status_kb "$pid" VmRSS)
    sleep "$SECONDS_MEASURED"
    t1=$(cpu_ticks "$pid"); s1=$(switches "$pid"); f1=$(frames "$logs")
    local rss hwm
    rss=$(status_kb "$pid" VmRSS); hwm=$(status_kb "$pid" VmHWM)
    tmux capture-pane -p -t "$SESSION" >"$OUT/$label.screen.txt"
    # Key press → frame: ten ticket flips (drawn when the actor's View with the new side arrives) and
    # twenty help toggles (drawn at once); the dashboard logs the summary when it exits.
    for _ in $(seq 10); do
        for k in Tab '?' '?'; do
            tmux send-keys -t "$SESSION" "$k"
            sleep 0.3
        done
    done
    tmux send-keys -t "$SESSION" q
    sleep 1
    grep -h "key→frame latency" "$logs"/processing.log* | tail -1 | sed "s/^/    $label: /" >&2
    grep -h "receive→screen latency" "$logs"/processing.log* | tail -1 | sed "s/^/    $label: /" >&2
    kill "$SIM_PID" 2>/dev/null || true
    wait "$SIM_PID" 2>/dev/null || true
    SIM_PID=
    awk -v l="$label" -v r="$rate" -v dt="$((t1 - t0))" -v hz="$HZ" -v s="$SECONDS_MEASURED" \
        -v sw="$((s1 - s0))" -v rss0="$rss0" -v rss="$rss" -v hwm="$hwm" -v f0="$f0" -v f1="$f1" 'BEGIN {
        split(f0, a, " "); split(f1, b, " ")
        fr = (b[2] > a[2]) ? (b[1] - a[1]) / (b[2] - a[2]) : 0
        printf "| %-5s | %6d | %8.0f | %11.2f %% | %10.1f | %7.1f MB | %7.1f MB | %8.1f MB |\n",
            l, r * 3, fr, 100 * dt / hz / s, sw / s, rss0 / 1024, rss / 1024, hwm / 1024 }'
    grep -h "receive→view latency" "$logs"/processing.log* | tail -3 | sed 's/^/    /' >&2
}

# frames LOGDIR: frames the engine took so far (all venues, from the last latency summary of the
# processing log, written every 10 s), and that summary's time in seconds: "FRAMES SECONDS".
frames() {
    python3 - "$1" <<'PY'
import glob, re, sys
from datetime import datetime
batch, last = {}, (0, 0.0)
for path in sorted(glob.glob(sys.argv[1] + "/processing.log*")):
    for line in open(path, encoding="utf-8", errors="replace"):
        m = re.search(r"venue=(\S+) frames=(\d+)", line)
        if "receive→view latency" not in line or not m:
            continue
        t = datetime.fromisoformat(line.split()[0].replace("Z", "+00:00")).timestamp()
        batch[m.group(1)] = int(m.group(2))
        last = (sum(batch.values()), t)
print(last[0], last[1])
PY
}

{
    echo "| case  | sent/s | frames/s | CPU (1 core) | wake-ups/s | RSS before | RSS after  | peak RSS    |"
    echo "|-------|-------:|---------:|-------------:|-----------:|-----------:|-----------:|------------:|"
} >"$OUT/results.md"
for c in ${CASES:-live idle}; do
    case $c in
        live) measure live "$RATE" >>"$OUT/results.md" ;;
        idle) measure idle 0 >>"$OUT/results.md" ;;
        *) echo "live_cost: unknown case $c" >&2; exit 2 ;;
    esac
done
cat "$OUT/results.md"
echo "($SECONDS_MEASURED s each after $WARMUP s of warm-up; sent/s is the nominal update rate of the three simulated venues)"

#!/usr/bin/env bash
# End-to-end benchmark: the whole `cra-tui --headless --replay CAP --speed max --venues V --action buy
# --liquidity 15` process (every integrity check on: Kraken CRC32 on every message, Coinbase sequence
# numbers, crossed books) against the plain reference loop (`src/bin/reference.rs`: serde_json +
# rust_decimal + BTreeMap, no checks, no output) on the same deterministic capture, per venue.
#
#   scripts/bench_e2e.sh                  # 200k-message captures, best of 3
#   RUNS=5 MESSAGES=200000 scripts/bench_e2e.sh
#   CASES="kraken:100" scripts/bench_e2e.sh
#
# Environment: MESSAGES (received frames per capture, default 200000), RUNS (best of, default 3), SEED
# (default 1), CASES (default "coinbase gemini kraken:100 kraken:1000"; kraken:D = Kraken subscribed at
# depth D), OUT (work directory, default target/bench-e2e; captures there are reused), VERIFY_MESSAGES
# (size of the captures checked with tools/verify_walk.py, default 20000; 0 skips that check).
#
# Prints one table row per case: messages, msg/s of each program (best wall-clock run), their ratio
# (cra-tui / reference; the goal is >= 0.75 for Coinbase and Gemini, >= 0.5 for Kraken), the same
# ratio on CPU time (user + sys, steadier on a busy machine) and the peak RSS of each. Checks, for
# every case: the reference and cra-tui end with the same cost of buying 15 BTC, and cra-tui's final
# line equals what the independent Python verifier computes from the (smaller) verify capture.
# Exit status 1 if a check fails. Needs: cargo, python3, GNU time (/usr/bin/time).
set -euo pipefail

cd "$(dirname "$0")/.."
MESSAGES=${MESSAGES:-200000}
RUNS=${RUNS:-3}
SEED=${SEED:-1}
CASES=${CASES:-"coinbase gemini kraken:100 kraken:1000"}
OUT=${OUT:-target/bench-e2e}
VERIFY_MESSAGES=${VERIFY_MESSAGES:-20000}
TIME=/usr/bin/time

if ! [ -x "$TIME" ] || ! "$TIME" -f %M true >/dev/null 2>&1; then
    cat >&2 <<'EOF'
bench_e2e: GNU time is needed at /usr/bin/time (it reports the peak RSS of a process; the shell's
`time` keyword does not). On Debian/Ubuntu install it with:  apt-get install -y time
EOF
    exit 2
fi
command -v python3 >/dev/null || { echo "bench_e2e: python3 is needed" >&2; exit 2; }

mkdir -p "$OUT/noconfig"
# No user config file may change what is measured.
export XDG_CONFIG_HOME="$PWD/$OUT/noconfig"

echo "== build (release)" >&2
cargo build --release --quiet --bin cra-tui --bin reference --example gen_capture
CRA=target/release/cra-tui
REF=target/release/reference
GEN=target/release/examples/gen_capture

# capture VENUE DEPTH MESSAGES -> prints the path (generated once, then reused).
capture() {
    local venue=$1 depth=$2 n=$3 f
    if [ -n "$depth" ]; then
        f="$OUT/${venue}-d${depth}-${n}-s${SEED}.ndjson"
    else
        f="$OUT/${venue}-${n}-s${SEED}.ndjson"
    fi
    if ! [ -s "$f" ]; then
        echo "== generate $f" >&2
        local extra=()
        [ -n "$depth" ] && extra=(--kraken-depth "$depth")
        "$GEN" --venue "$venue" --messages "$n" --seed "$SEED" "${extra[@]}" --out "$f.tmp" >&2
        mv "$f.tmp" "$f"
    fi
    echo "$f"
}

# timed LABEL-FILE CMD... : runs CMD under GNU time, appends "wall cpu rss_kb" to LABEL-FILE.
timed() {
    local rec=$1
    shift
    "$TIME" -f "%e %U %S %M" -o "$OUT/time.tmp" "$@"
    awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }' "$OUT/time.tmp" >>"$rec"
}

RESULTS="$OUT/results.tsv"
: >"$RESULTS"
FAIL=0
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2

for case in $CASES; do
    venue=${case%%:*}
    depth=""
    [ "$case" != "$venue" ] && depth=${case#*:}
    cap=$(capture "$venue" "$depth" "$MESSAGES")
    name=$venue${depth:+-d$depth}
    rec_ref="$OUT/$name.ref.times"
    rec_cra="$OUT/$name.cra.times"
    : >"$rec_ref"
    : >"$rec_cra"
    echo "== $name: $RUNS runs of each (interleaved)" >&2
    for _ in $(seq "$RUNS"); do
        timed "$rec_ref" "$REF" --venue "$venue" --liquidity 15 "$cap" 2>"$OUT/$name.ref.err"
        timed "$rec_cra" "$CRA" --headless --replay "$cap" --speed max --venues "$venue" \
            --action buy --liquidity 15 >"$OUT/$name.cra.out"
    done
    # Same final book in both programs: the same cost of buying 15 BTC.
    if ! python3 - "$OUT/$name.ref.err" "$OUT/$name.cra.out" "$venue" <<'EOF'
import json, sys
from decimal import Decimal
ref = dict(kv.split("=", 1) for kv in open(sys.argv[1]).read().split() if "=" in kv)
last = json.loads(open(sys.argv[2]).read().splitlines()[-1])
split = last["merged"]["by_venue"].get(sys.argv[3], {"filled": "0", "notional": "0"})
ok = Decimal(ref["filled"]) == Decimal(split["filled"]) and Decimal(ref["notional"]) == Decimal(split["notional"])
print(f"   reference vs cra-tui final walk: filled {ref['filled']} / {split['filled']}, "
      f"notional {ref['notional']} / {split['notional']}: {'same' if ok else 'DIFFERENT'}", file=sys.stderr)
sys.exit(0 if ok else 1)
EOF
    then
        FAIL=1
    fi
    # Independent check of cra-tui's final line on a smaller capture of the same stream.
    if [ "$VERIFY_MESSAGES" != 0 ]; then
        small=$(capture "$venue" "$depth" "$VERIFY_MESSAGES")
        "$CRA" --headless --replay "$small" --speed max --venues "$venue" --action buy \
            --liquidity 15 >"$OUT/$name.verify.out"
        printf '   verify_walk.py on %s messages: ' "$VERIFY_MESSAGES" >&2
        if ! python3 tools/verify_walk.py "$small" --action buy --liquidity 15 --venues "$venue" \
            --compare "$OUT/$name.verify.out" >&2; then
            FAIL=1
        fi
    fi
    printf '%s\t%s\t%s\t%s\n' "$name" "$MESSAGES" "$rec_ref" "$rec_cra" >>"$RESULTS"
done

python3 - "$RESULTS" <<'EOF'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
def best(path):
    runs = [tuple(float(x) for x in l.split()) for l in open(path) if l.strip()]
    wall = min(r[0] for r in runs)
    cpu = min(r[1] for r in runs)
    rss = max(r[2] for r in runs)
    return wall, cpu, rss
print()
print(f"| {'venue':<12} | {'messages':>8} | {'ref msg/s':>10} | {'cra-tui msg/s':>13} | {'ratio':>5} | {'goal':>4} | {'cpu ratio':>9} | {'ref RSS':>8} | {'cra-tui RSS':>11} |")
print(f"|{'-'*14}|{'-'*10}:|{'-'*11}:|{'-'*14}:|{'-'*6}:|{'-'*5}:|{'-'*10}:|{'-'*9}:|{'-'*12}:|")
for name, n, ref, cra in rows:
    n = int(n)
    rw, rc, rr = best(ref)
    cw, cc, cr = best(cra)
    goal = 0.5 if name.startswith("kraken") else 0.75
    ratio = rw / cw
    mark = "" if ratio >= goal else " (below)"
    print(f"| {name:<12} | {n:>8} | {n / rw:>10,.0f} | {n / cw:>13,.0f} | {ratio:>5.2f} | {goal:>4} | {rc / cc:>9.2f} | {rr / 1024:>5.1f} MB | {cr / 1024:>8.1f} MB |{mark}")
print()
print("msg/s and ratio: best wall-clock run of each program; cpu ratio: best user+sys time; RSS: peak.")
EOF
echo "== load at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
if [ "$FAIL" != 0 ]; then
    echo "bench_e2e: a check FAILED (see above)" >&2
    exit 1
fi

#!/usr/bin/env python3
"""Independent check of cra-tui's depletion walks, from a capture file.

Rebuilds each venue's order book from a cra-tui capture (design.md §2, "Capture format") with its own
parser (Python standard library, exact `decimal.Decimal`, nothing shared with the Rust code), then walks
the books the way the headless output reports them: per venue and merged across the live venues.

usage:
  verify_walk.py CAPTURE --action sell|buy --liquidity Q [--venues kraken,coinbase,gemini]
                 [--kraken-precision 1,8] [--kraken-symbol BTC/USD] [--coinbase-symbol BTC-USD]
                 [--gemini-symbol BTCUSD] [--compare HEADLESS_OUTPUT]

Without --compare it prints the expected final result as one JSON line (the headless field names;
pipe it through `python3 -m json.tool` to read it) and a summary of the counters on stderr. With
--compare FILE (the NDJSON written by `cra-tui --headless --replay CAPTURE ...`; its LAST line is used)
it compares fills, filled, unfilled, levels, best and worst exactly (as decimals), vwap within 1e-8,
slippage within 1e-4, live vs not live, the merged walk's fills with venue labels, its venue split and
the integrity counters; it prints every difference and exits 1, or prints one summary line and exits 0.
Exit 2 on bad usage or an unreadable file.

Book rules (the program's contract; protocols.md §1, §2.1, §3.1):
- A new connection starts at a `dir: out` frame containing "subscribe" that follows received frames
  (or opens the venue's stream): the venue's book is dropped and its per-connection state reset.
- kraken (WS v2 `book`): `snapshot` replaces, `update` applies levels in wire order (qty 0 deletes);
  then each side is truncated to the depth acknowledged by the subscribe ack (fallback 1000) and the
  CRC32 of the top-10 asks ascending + top-10 bids descending (price/qty formatted at the pair's
  precision, '.' removed, leading zeros stripped) must equal `checksum`; a mismatch drops the book.
- coinbase (Advanced Trade): `sequence_num` +1 per message on the connection; a gap or repeat drops
  the book. `l2_data` events for the product: `snapshot` replaces, `update` applies (bid/offer).
- gemini (v2): the first `l2_updates` of a connection for the symbol, or one carrying `trades` /
  `auction_events`, replaces the book; the others apply (buy = bid, sell = ask).
- After every message a crossed book (best bid >= best ask) is dropped; so is the book of a frame that
  cannot be read (bad JSON, a bad number, an unknown side). A dropped book stays dropped (status
  `not-live`) until the next snapshot. Staleness by time is not modelled.
"""
import argparse
import json
import sys
import zlib
from decimal import Decimal, InvalidOperation, getcontext

getcontext().prec = 60
ZERO = Decimal(0)
VWAP_TOL = Decimal("1e-8")
BPS_TOL = Decimal("1e-4")
MAX_FILL_DIFFS = 10


def dec(x):
    """An exact Decimal from a wire token (str or already-Decimal); raises ValueError if not finite."""
    try:
        d = x if isinstance(x, Decimal) else Decimal(str(x))
    except InvalidOperation:
        raise ValueError(f"not a number: {x!r}") from None
    if not d.is_finite():
        raise ValueError(f"not a finite number: {x!r}")
    return d


def s(d):
    """A decimal as plain text (no exponent), or None."""
    return None if d is None else format(d, "f")


def round12(d):
    """Rounded to 12 decimals for display (vwap, slippage), or None."""
    return None if d is None else d.quantize(Decimal("1e-12"))


class Book:
    """One venue's book: price -> qty per side ('bid', 'ask'), with a lazily recomputed best price."""

    def __init__(self):
        self.side = {"bid": {}, "ask": {}}
        self._best = {"bid": None, "ask": None}

    def apply(self, side, price, qty):
        levels, best = self.side[side], self._best[side]
        if qty == 0:
            if levels.pop(price, None) is not None and price == best:
                self._best[side] = None
        elif qty < 0 or price <= 0:
            raise ValueError(f"bad level {price} {qty}")
        else:
            levels[price] = qty
            if best is not None:
                self._best[side] = max(best, price) if side == "bid" else min(best, price)

    def copy(self):
        other = Book()
        other.side = {k: dict(v) for k, v in self.side.items()}
        other._best = dict(self._best)
        return other

    def best(self, side):
        if self._best[side] is None and self.side[side]:
            self._best[side] = (max if side == "bid" else min)(self.side[side])
        return self._best[side]

    def levels(self, side):
        """Best first: bids high to low, asks low to high."""
        return sorted(self.side[side].items(), reverse=(side == "bid"))

    def truncate(self, depth):
        for side in ("bid", "ask"):
            if len(self.side[side]) > depth:
                for price, _ in self.levels(side)[depth:]:
                    del self.side[side][price]
                self._best[side] = None

    def crossed(self):
        bid, ask = self.best("bid"), self.best("ask")
        return bid is not None and ask is not None and bid >= ask


class Venue:
    """Common state: the book (None = dropped / not live) and counters."""

    def __init__(self, name, symbol):
        self.name, self.symbol = name, symbol
        self.book = None
        self.messages = self.bad_frames = self.crossed = 0

    def on_connect(self):
        self.book = None

    def on_frame(self, text):
        self.messages += 1
        # The contract: a frame that cannot be read is counted and leaves the book as it was.
        saved = self.book.copy() if self.book is not None else None
        try:
            msg = json.loads(text, parse_float=Decimal, parse_int=Decimal)
            if isinstance(msg, dict):
                self.handle(msg)
        except (ValueError, TypeError, KeyError, AttributeError):
            self.bad_frames += 1
            self.book = saved
            return
        if self.book is not None and self.book.crossed():
            self.crossed += 1
            self.book = None

    def counters(self):
        return {"messages": self.messages, "bad_frames": self.bad_frames, "crossed_books": self.crossed}


class Kraken(Venue):
    """Kraken WS v2 `book`: truncation to the acked depth and CRC32 over the top 10 (protocols §1.4-1.5)."""

    def __init__(self, name, symbol, precision):
        super().__init__(name, symbol)
        self.pq = [Decimal(1).scaleb(-p) for p in precision]
        self.depth = 1000
        self.verified = self.failed = 0

    def handle(self, msg):
        if msg.get("method") == "subscribe" and msg.get("success") is True:
            result = msg.get("result") or {}
            if result.get("channel") == "book" and "depth" in result:
                self.depth = int(result["depth"])
            return
        if msg.get("channel") != "book":
            return
        for entry in msg.get("data") or []:
            if entry.get("symbol") != self.symbol:
                continue
            if msg.get("type") == "snapshot":
                self.book = Book()
            elif msg.get("type") != "update" or self.book is None:
                continue
            for side, key in (("bid", "bids"), ("ask", "asks")):
                for level in entry.get(key) or []:
                    self.book.apply(side, dec(level["price"]), dec(level["qty"]))
            self.book.truncate(self.depth)
            if "checksum" in entry:
                if zlib.crc32(self.checksum_text().encode()) == int(entry["checksum"]):
                    self.verified += 1
                else:
                    self.failed += 1
                    self.book = None
                    return

    def checksum_text(self):
        def digits(d, q):
            return format(d.quantize(q), "f").replace(".", "").lstrip("0")

        parts = []
        for side in ("ask", "bid"):
            for price, qty in self.book.levels(side)[:10]:
                parts.append(digits(price, self.pq[0]) + digits(qty, self.pq[1]))
        return "".join(parts)

    def counters(self):
        return {**super().counters(), "checksums_verified": self.verified, "checksum_failures": self.failed}


class Coinbase(Venue):
    """Coinbase Advanced Trade `level2` with the connection-wide `sequence_num` (protocols §2.1)."""

    SIDES = {"bid": "bid", "offer": "ask"}

    def __init__(self, name, symbol):
        super().__init__(name, symbol)
        self.expected = None
        self.gaps = 0

    def on_connect(self):
        super().on_connect()
        self.expected = None

    def handle(self, msg):
        if "sequence_num" in msg:
            seq = int(msg["sequence_num"])
            if self.expected is not None and seq != self.expected:
                self.gaps += 1
                self.book = None
            self.expected = seq + 1
        if msg.get("channel") != "l2_data":
            return
        for event in msg.get("events") or []:
            if event.get("product_id") != self.symbol:
                continue
            if event.get("type") == "snapshot":
                self.book = Book()
            elif event.get("type") != "update" or self.book is None:
                continue
            for u in event.get("updates") or []:
                self.book.apply(self.SIDES[u["side"]], dec(u["price_level"]), dec(u["new_quantity"]))

    def counters(self):
        return {**super().counters(), "sequence_gaps": self.gaps}


class Gemini(Venue):
    """Gemini v2 `l2`: the first `l2_updates` per connection (or one with trades) is the book (§3.1)."""

    SIDES = {"buy": "bid", "sell": "ask"}

    def __init__(self, name, symbol):
        super().__init__(name, symbol)
        self.fresh = True

    def on_connect(self):
        super().on_connect()
        self.fresh = True

    def handle(self, msg):
        if msg.get("type") != "l2_updates" or msg.get("symbol") != self.symbol:
            return
        if self.fresh or "trades" in msg or "auction_events" in msg:
            self.fresh = False
            self.book = Book()
        elif self.book is None:
            return
        for side, price, qty in msg.get("changes") or []:
            self.book.apply(self.SIDES[side], dec(price), dec(qty))


def replay(path, venues):
    """Feeds the capture at `path` to `venues` (name -> Venue); returns the number of bad lines."""
    last_dir, bad = {}, 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                o = json.loads(line)
                if "frame" not in o and o.get("format") == "cra-tui-capture":
                    continue
                name, direction, frame = o["venue"], o.get("dir", "in"), o["frame"]
                if direction not in ("in", "out") or not isinstance(frame, str):
                    raise ValueError("bad dir/frame")
            except (ValueError, KeyError, TypeError, AttributeError):
                bad += 1
                continue
            v = venues.get(name)
            if v is None:
                continue
            prev = last_dir.get(name)
            last_dir[name] = direction
            if direction == "in":
                v.on_frame(frame)
            elif prev != "out" and "subscribe" in frame:
                v.on_connect()
    return bad


def walk(levels, q):
    """Depletion walk over (price, qty[, venue]) levels, best first."""
    fills, left, notional = [], q, ZERO
    for level in levels:
        if left <= 0:
            break
        take = min(level[1], left)
        fills.append((level[0], take, *level[2:]))
        left -= take
        notional += level[0] * take
    filled = q - left
    best = levels[0][0] if levels else None
    vwap = notional / filled if filled else None
    return {
        "best": best, "levels": len(fills), "filled": filled, "unfilled": left, "notional": notional,
        "vwap": vwap, "worst": fills[-1][0] if fills else None,
        "slippage_bps": abs(vwap - best) / best * 10000 if vwap is not None else None,
        "fills": fills,
    }


def expected(venues, order, side, q):
    """Per-venue walks and the merged walk over the live venues (ties in `order`)."""
    per, live, pool = {}, [], []
    for rank, name in enumerate(order):
        v = venues[name]
        book = v.book.levels(side) if v.book is not None else []
        per[name] = {"status": "live" if v.book is not None else "not-live", **walk(book, q)}
        if v.book is not None:
            live.append(name)
            pool += [(p, qty, rank, name) for p, qty in book]
    pool.sort(key=lambda x: (-x[0] if side == "bid" else x[0], x[2]))
    merged = walk([(p, qty, name) for p, qty, _, name in pool], q)
    merged["venues"], merged["excluded"] = live, [n for n in order if n not in live]
    merged["by_venue"] = {n: {"filled": ZERO, "notional": ZERO} for n in live}
    for p, qty, name in merged["fills"]:
        merged["by_venue"][name]["filled"] += qty
        merged["by_venue"][name]["notional"] += p * qty
    return per, merged


def to_json(walk_result):
    out = {}
    for k, val in walk_result.items():
        if k == "fills":
            out[k] = [[s(f[0]), s(f[1]), *f[2:]] for f in val]
        elif k == "by_venue":
            out[k] = {n: {kk: s(vv) for kk, vv in d.items()} for n, d in val.items()}
        elif k in ("vwap", "slippage_bps"):
            out[k] = s(round12(val))
        elif isinstance(val, Decimal):
            out[k] = s(val)
        else:
            out[k] = val
    return out


def num(x):
    """A headless number field as Decimal (None stays None)."""
    return None if x is None else dec(x)


def compare_walk(label, exp, got, diffs):
    """Appends to `diffs` every way `got` (a headless walk object) differs from `exp`."""
    for k in ("filled", "unfilled", "notional", "best", "worst"):
        if k in got and exp[k] != num(got.get(k)):
            diffs.append(f"{label}.{k}: expected {s(exp[k])}, got {got.get(k)}")
    if got.get("levels") != exp["levels"]:
        diffs.append(f"{label}.levels: expected {exp['levels']}, got {got.get('levels')}")
    for k, tol in (("vwap", VWAP_TOL), ("slippage_bps", BPS_TOL)):
        e, g = exp[k], num(got.get(k))
        if (e is None) != (g is None) or (e is not None and abs(e - g) > tol):
            diffs.append(f"{label}.{k}: expected {s(round12(e))}, got {got.get(k)} (tolerance {tol})")
    gf, ef, bad = got.get("fills") or [], exp["fills"], []
    for i in range(max(len(ef), len(gf))):
        e = ef[i] if i < len(ef) else None
        g = gf[i] if i < len(gf) else None
        gd = g and (num(g[0]), num(g[1]), *g[2:])
        if e is None or gd is None or tuple(e) != tuple(gd):
            bad.append(f"{label}.fills[{i}]: expected {e and [s(e[0]), s(e[1]), *e[2:]]}, got {g}")
    diffs += bad[:MAX_FILL_DIFFS]
    if len(bad) > MAX_FILL_DIFFS:
        diffs.append(f"{label}.fills: … and {len(bad) - MAX_FILL_DIFFS} more differing fills")


def compare(per, merged, venues, got):
    """All differences between the expected result and the headless line `got`."""
    diffs = []
    seen = set()
    for gv in got.get("venues") or []:
        name = gv.get("venue")
        seen.add(name)
        if name not in per:
            if gv.get("status") == "live" or gv.get("fills"):
                diffs.append(f"{name}: not in this check (not in the capture / --venues) but reported live")
            continue
        exp = per[name]
        if (gv.get("status") == "live") != (exp["status"] == "live"):
            diffs.append(f"{name}.status: expected {exp['status']}, got {gv.get('status')}")
        compare_walk(name, exp, gv, diffs)
        for k, val in venues[name].counters().items():
            if k in gv and gv[k] != val:
                diffs.append(f"{name}.{k}: expected {val}, got {gv[k]}")
    diffs += [f"{n}: missing from the headless output" for n in per if n not in seen]
    gm = got.get("merged") or {}
    if sorted(gm.get("venues") or []) != sorted(merged["venues"]):
        diffs.append(f"merged.venues: expected {merged['venues']}, got {gm.get('venues')}")
    compare_walk("merged", merged, gm, diffs)
    gb = gm.get("by_venue") or {}
    for n in sorted(set(gb) | set(merged["by_venue"])):
        e = merged["by_venue"].get(n, {"filled": ZERO, "notional": ZERO})
        g = gb.get(n, {})
        for k in ("filled", "notional"):
            if e[k] != num(g.get(k, "0")):
                diffs.append(f"merged.by_venue.{n}.{k}: expected {s(e[k])}, got {g.get(k)}")
    return diffs


def summary(per, merged, venues):
    parts = [f"{n} {per[n]['levels']} fills" + ("" if per[n]["status"] == "live" else " (not live)")
             for n in per]
    text = ", ".join(parts) + f", merged {merged['levels']}"
    for v in venues.values():
        if isinstance(v, Kraken):
            text += f"; {v.verified} {v.name} checksums verified, {v.failed} failed"
        if isinstance(v, Coinbase):
            text += f"; {v.gaps} {v.name} sequence gaps"
    return text + f"; {sum(v.crossed for v in venues.values())} crossed books"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("capture")
    ap.add_argument("--action", choices=("buy", "sell"), default="sell")
    ap.add_argument("--liquidity", required=True)
    ap.add_argument("--venues", default="kraken,coinbase,gemini")
    ap.add_argument("--kraken-precision", default="1,8", help="price,qty decimals for the checksum")
    ap.add_argument("--kraken-symbol", default="BTC/USD")
    ap.add_argument("--coinbase-symbol", default="BTC-USD")
    ap.add_argument("--gemini-symbol", default="BTCUSD")
    ap.add_argument("--compare", metavar="HEADLESS_OUTPUT")
    a = ap.parse_args(argv)
    try:
        q = dec(a.liquidity)
        precision = [int(x) for x in a.kraken_precision.split(",")]
        if q <= 0 or len(precision) != 2:
            raise ValueError
    except (ValueError, InvalidOperation):
        ap.error("--liquidity must be a positive decimal and --kraken-precision two integers")
    makers = {"kraken": lambda: Kraken("kraken", a.kraken_symbol, precision),
              "coinbase": lambda: Coinbase("coinbase", a.coinbase_symbol),
              "gemini": lambda: Gemini("gemini", a.gemini_symbol)}
    order = [n.strip() for n in a.venues.split(",") if n.strip()]
    unknown = [n for n in order if n not in makers]
    if unknown:
        ap.error(f"unknown venue(s): {', '.join(unknown)} (known: kraken, coinbase, gemini)")
    venues = {n: makers[n]() for n in order}
    try:
        bad = replay(a.capture, venues)
        got = None
        if a.compare:
            with open(a.compare, encoding="utf-8") as f:
                lines = [ln for ln in f if ln.strip()]
            if not lines:
                print(f"error: {a.compare} is empty", file=sys.stderr)
                return 2
            got = json.loads(lines[-1])
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    present = [n for n in order if venues[n].messages]
    venues = {n: venues[n] for n in present}
    side = "bid" if a.action == "sell" else "ask"
    per, merged = expected(venues, present, side, q)
    counters = {n: v.counters() for n, v in venues.items()}
    if got is None:
        out = {"action": a.action, "side": side, "quantity": s(q), "bad_lines": bad,
               "venues": [{"venue": n, **to_json(per[n]), **counters[n]} for n in present],
               "merged": to_json(merged)}
        print(json.dumps(out, separators=(",", ":")))
        print(summary(per, merged, venues), file=sys.stderr)
        return 0
    try:
        diffs = compare(per, merged, venues, got)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as e:
        print(f"error: malformed headless line in {a.compare}: {e!r}", file=sys.stderr)
        return 2
    if got.get("action") != a.action or num(got.get("quantity")) != q:
        diffs.insert(0, f"ticket: expected {a.action} {s(q)}, got {got.get('action')} {got.get('quantity')}")
    if diffs:
        print(f"MISMATCH ({len(diffs)}):")
        for d in diffs:
            print("  " + d)
        print("expected: " + summary(per, merged, venues))
        return 1
    print("OK: " + summary(per, merged, venues))
    return 0


if __name__ == "__main__":
    sys.exit(main())

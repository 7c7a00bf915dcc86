//! Captures: what `--record` writes and `--replay` reads (design.md §2, "Capture format").
//!
//! One WebSocket text frame per line:
//! `{"ts_ns":…,"venue":"kraken","dir":"in"|"out","frame":"<verbatim frame text>"}` (`dir` defaults to
//! `in`), optionally preceded by a `{"format":"cra-tui-capture","version":1,…}` header. The frame is a
//! JSON string, so number tokens survive byte for byte (Kraken's checksum depends on them).
//!
//! Reading: [`parse_line`] is the plain `serde_json` parse (the frame comes out as an owned `String`
//! whenever it holds escapes — i.e. always for a JSON frame). [`LineDecoder`] is the replay's fast
//! path: a line holding just the four keys (any order, any whitespace, `dir` optional) is read by hand
//! and its frame unescaped into a buffer the decoder keeps, so a line costs one scan and no
//! allocation; anything else — other keys, `\u` escapes, errors — goes to [`parse_line`], so both
//! always give the same answer.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Direction of a captured frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Dir {
    /// Received from the venue.
    #[default]
    In,
    /// Sent to the venue (subscriptions).
    Out,
}

/// One line of a capture, borrowing from the line where it can.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct CaptureLine<'a> {
    /// ns since the Unix epoch.
    pub ts_ns: i64,
    /// Config name of the venue.
    #[serde(borrow)]
    pub venue: Cow<'a, str>,
    /// Direction.
    #[serde(default)]
    pub dir: Dir,
    /// The frame text, verbatim.
    #[serde(borrow)]
    pub frame: Cow<'a, str>,
}

#[derive(Deserialize)]
struct HeaderProbe<'a> {
    #[serde(borrow)]
    format: Option<Cow<'a, str>>,
}

/// What one line of a capture file is.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed<'a> {
    /// A frame.
    Frame(CaptureLine<'a>),
    /// The optional metadata header, or a blank line.
    Skip,
}

/// Parses one capture line.
///
/// # Errors
/// A line that is neither a header nor a frame line; the message says why.
pub fn parse_line(line: &str) -> Result<Parsed<'_>, String> {
    let trimmed = line.trim_end_matches(['\r', '\n']);
    if trimmed.trim().is_empty() {
        return Ok(Parsed::Skip);
    }
    match serde_json::from_str::<CaptureLine<'_>>(trimmed) {
        Ok(l) => Ok(Parsed::Frame(l)),
        Err(e) => match serde_json::from_str::<HeaderProbe<'_>>(trimmed) {
            Ok(HeaderProbe { format: Some(f) }) if f == "cra-tui-capture" => Ok(Parsed::Skip),
            _ => Err(e.to_string()),
        },
    }
}

/// Reusable capture-line reader: same results as [`parse_line`], without its per-line allocation and
/// second scan for ordinary lines.
#[derive(Debug, Default)]
pub struct LineDecoder {
    /// The unescaped frame of the last line read through the fast path (and slack bytes after it).
    frame: Vec<u8>,
}

/// Frame buffers larger than this (bytes) are given back rather than kept for the next line.
const KEEP_FRAME_CAPACITY: usize = 1 << 22;

impl LineDecoder {
    /// A decoder with an empty buffer.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses one capture line, exactly like [`parse_line`]; the frame may borrow the decoder's buffer.
    ///
    /// # Errors
    /// As [`parse_line`].
    pub fn decode<'a>(&'a mut self, line: &'a str) -> Result<Parsed<'a>, String> {
        if self.frame.len() > KEEP_FRAME_CAPACITY {
            self.frame = Vec::new();
        }
        let trimmed = line.trim_end_matches(['\r', '\n']);
        let Some(fast) = fast_line(trimmed, &mut self.frame) else {
            return parse_line(line);
        };
        // Only ASCII escapes were replaced by ASCII bytes, so this holds (checked, not assumed).
        let Some(Ok(frame)) = self.frame.get(..fast.frame_len).map(std::str::from_utf8) else {
            return parse_line(line);
        };
        Ok(Parsed::Frame(CaptureLine {
            ts_ns: fast.ts_ns,
            venue: Cow::Borrowed(fast.venue),
            dir: fast.dir,
            frame: Cow::Borrowed(frame),
        }))
    }
}

/// A line read by [`fast_line`].
struct FastLine<'a> {
    ts_ns: i64,
    venue: &'a str,
    dir: Dir,
    /// Length of the unescaped frame at the start of the scratch buffer.
    frame_len: usize,
}

/// Reads a capture line object: the keys `ts_ns` (an integer), `venue`, `dir` (optional, `in` or
/// `out`) and `frame`, in any order, with any JSON whitespace around the tokens — so the recorder's
/// lines and those of other tools (`json.dumps`, with or without spaces) all qualify. `None` whenever
/// the line is anything else or `serde_json` could judge it differently (another or a repeated key, a
/// `\u` escape, an escape in a key or the venue, a control character, a signed or non-integer
/// `ts_ns`, extra bytes): the caller then takes the general path.
fn fast_line<'a>(line: &'a str, scratch: &mut Vec<u8>) -> Option<FastLine<'a>> {
    compact_line(line, scratch).or_else(|| any_layout_line(line, scratch))
}

/// The compact layout, keys in the recorder's order (what `--record`, the capture generator and
/// `fixture_to_capture.py` write): `{"ts_ns":N,"venue":"V",["dir":"in"|"out",]"frame":"F"}`.
#[inline]
fn compact_line<'a>(line: &'a str, scratch: &mut Vec<u8>) -> Option<FastLine<'a>> {
    let rest = line.strip_prefix("{\"ts_ns\":")?;
    let (ts_ns, rest) = ts_digits(rest)?;
    let (venue, rest) = plain_string(rest.strip_prefix(",\"venue\":\"")?)?;
    let (dir, rest) = if let Some(r) = rest.strip_prefix(",\"dir\":\"in\",\"frame\":\"") {
        (Dir::In, r)
    } else if let Some(r) = rest.strip_prefix(",\"dir\":\"out\",\"frame\":\"") {
        (Dir::Out, r)
    } else {
        (Dir::In, rest.strip_prefix(",\"frame\":\"")?)
    };
    let (frame_len, rest) = unescape(rest, scratch)?;
    if !skip_ws(rest.strip_prefix('}')?).is_empty() {
        return None;
    }
    Some(FastLine {
        ts_ns,
        venue,
        dir,
        frame_len,
    })
}

/// `ts_ns`'s value at the start of `s`: a non-negative JSON integer that fits an `i64`.
#[inline]
fn ts_digits(s: &str) -> Option<(i64, &str)> {
    let n = s.bytes().take_while(u8::is_ascii_digit).count();
    // JSON forbids leading zeros; more than 19 digits is out of i64 range anyway.
    if n == 0 || n > 19 || (n > 1 && s.starts_with('0')) {
        return None;
    }
    let mut v = 0i64;
    for d in s.get(..n)?.bytes() {
        v = v.checked_mul(10)?.checked_add(i64::from(d - b'0'))?;
    }
    Some((v, s.get(n..)?))
}

/// Any other layout of the four keys (order, whitespace).
fn any_layout_line<'a>(line: &'a str, scratch: &mut Vec<u8>) -> Option<FastLine<'a>> {
    let mut rest = skip_ws(line).strip_prefix('{')?;
    let (mut ts_ns, mut venue, mut dir, mut frame_len) = (None, None, None, None);
    loop {
        rest = skip_ws(rest).strip_prefix('"')?;
        let (key, after) = plain_string(rest)?;
        rest = skip_ws(skip_ws(after).strip_prefix(':')?);
        match key {
            "ts_ns" if ts_ns.is_none() => {
                let (v, after) = ts_digits(rest)?;
                ts_ns = Some(v);
                rest = after;
            }
            "venue" if venue.is_none() => {
                let (v, after) = plain_string(rest.strip_prefix('"')?)?;
                venue = Some(v);
                rest = after;
            }
            "dir" if dir.is_none() => {
                let (v, after) = plain_string(rest.strip_prefix('"')?)?;
                dir = Some(match v {
                    "in" => Dir::In,
                    "out" => Dir::Out,
                    _ => return None,
                });
                rest = after;
            }
            "frame" if frame_len.is_none() => {
                let (len, after) = unescape(rest.strip_prefix('"')?, scratch)?;
                frame_len = Some(len);
                rest = after;
            }
            _ => return None,
        }
        rest = skip_ws(rest);
        if let Some(r) = rest.strip_prefix(',') {
            rest = r;
        } else {
            rest = rest.strip_prefix('}')?;
            break;
        }
    }
    if !skip_ws(rest).is_empty() {
        return None;
    }
    Some(FastLine {
        ts_ns: ts_ns?,
        venue: venue?,
        dir: dir.unwrap_or_default(),
        frame_len: frame_len?,
    })
}

/// `s` without its leading JSON whitespace.
#[inline]
fn skip_ws(s: &str) -> &str {
    let n = s
        .bytes()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        .count();
    s.get(n..).unwrap_or(s)
}

/// A JSON string body without escapes at the start of `s` (after its opening quote), and what
/// follows its closing quote.
#[inline]
fn plain_string(s: &str) -> Option<(&str, &str)> {
    let end = find_special(s.as_bytes())?;
    if s.as_bytes().get(end) != Some(&b'"') {
        return None;
    }
    Some((s.get(..end)?, s.get(end + 1..)?))
}

/// Unescapes the JSON string body at the start of `s` (after its opening quote) into `out` (grown as
/// needed, never shrunk: only `out[..len]` is meaningful). Returns `len` and what follows the closing
/// quote; `None` for a `\u` escape (left to `serde_json`), an invalid escape, a control character or
/// no closing quote.
///
/// Eight bytes are copied and tested at a time: the word is stored whole and the write position then
/// advances only past the bytes before the first `"`, `\` or control byte, so the many short runs
/// between escapes of a JSON-in-JSON frame cost no `memcpy` call each.
#[inline(never)] // its loop stays tight in a function of its own
fn unescape<'a>(s: &'a str, out: &mut Vec<u8>) -> Option<(usize, &'a str)> {
    let src = s.as_bytes();
    if out.len() < src.len() + 8 {
        out.resize(src.len() + 8, 0);
    }
    let (mut r, mut w) = (0usize, 0usize);
    while let Some(chunk) = src.get(r..r + 8) {
        let word = u64::from_le_bytes(chunk.try_into().ok()?);
        out.get_mut(w..w + 8)?.copy_from_slice(chunk);
        let m = special_mask(word);
        if m == 0 {
            r += 8;
            w += 8;
            continue;
        }
        // The flag is the high bit of the special byte: byte k sits at bits 8k..8k+8.
        let bit = m.trailing_zeros();
        let k = (bit / 8) as usize;
        let c = (word >> (bit - 7)) as u8;
        r += k;
        w += k;
        if c != b'\\' {
            return if c == b'"' {
                Some((w, s.get(r + 1..)?))
            } else {
                None
            };
        }
        let e = if k < 7 {
            (word >> (bit + 1)) as u8
        } else {
            *src.get(r + 1)?
        };
        *out.get_mut(w)? = unescaped(e)?;
        w += 1;
        r += 2;
    }
    // The last few bytes, one at a time.
    loop {
        let c = *src.get(r)?;
        match c {
            b'"' => return Some((w, s.get(r + 1..)?)),
            b'\\' => {
                *out.get_mut(w)? = unescaped(*src.get(r + 1)?)?;
                r += 2;
            }
            c if c < 0x20 => return None,
            c => {
                *out.get_mut(w)? = c;
                r += 1;
            }
        }
        w += 1;
    }
}

/// The byte a one-character JSON escape `\c` stands for; `None` for `\u` and invalid escapes.
#[inline]
fn unescaped(c: u8) -> Option<u8> {
    UNESCAPE.get(usize::from(c)).copied().filter(|&b| b != 0)
}

/// `\c` → byte, 0 where `c` is not a one-character escape.
const UNESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t[b'/' as usize] = b'/';
    t[b'b' as usize] = 0x08;
    t[b'f' as usize] = 0x0c;
    t[b'n' as usize] = b'\n';
    t[b'r' as usize] = b'\r';
    t[b't' as usize] = b'\t';
    t
};

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// High bit set in every byte of `w` (little-endian) that is `"`, `\` or below 0x20 — exactly for the
/// lowest such byte (the classic SWAR tests; a borrow only ever flags bytes above a true hit).
#[inline]
fn special_mask(w: u64) -> u64 {
    let q = w ^ (ONES * u64::from(b'"'));
    let b = w ^ (ONES * u64::from(b'\\'));
    ((q.wrapping_sub(ONES) & !q) | (b.wrapping_sub(ONES) & !b) | (w.wrapping_sub(ONES * 0x20) & !w))
        & HIGHS
}

/// Index of the first `"`, `\` or control byte in `bytes`.
#[inline]
fn find_special(bytes: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let m = special_mask(u64::from_le_bytes(chunk.try_into().ok()?));
        if m != 0 {
            return Some(i + (m.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    bytes
        .get(i..)?
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|p| i + p)
}

/// Writes a capture as frames come and go.
pub struct Recorder {
    out: BufWriter<File>,
}

#[derive(Serialize)]
struct Header<'a> {
    format: &'static str,
    version: u32,
    symbol: &'a str,
    venues: &'a [String],
    created_ns: i64,
}

impl Recorder {
    /// Creates (truncates) `path` and writes the header.
    ///
    /// # Errors
    /// The file cannot be created or written.
    pub fn create(
        path: &Path,
        symbol: &str,
        venues: &[String],
        created_ns: i64,
    ) -> io::Result<Self> {
        let mut out = BufWriter::with_capacity(1 << 16, File::create(path)?);
        let header = Header {
            format: "cra-tui-capture",
            version: 1,
            symbol,
            venues,
            created_ns,
        };
        serde_json::to_writer(&mut out, &header)?;
        out.write_all(b"\n")?;
        Ok(Self { out })
    }

    /// Appends one frame.
    ///
    /// # Errors
    /// The write failed.
    pub fn write(&mut self, ts_ns: i64, venue: &str, dir: Dir, frame: &str) -> io::Result<()> {
        let line = CaptureLine {
            ts_ns,
            venue: Cow::Borrowed(venue),
            dir,
            frame: Cow::Borrowed(frame),
        };
        serde_json::to_writer(&mut self.out, &line)?;
        self.out.write_all(b"\n")
    }

    /// Flushes buffered lines to the file.
    ///
    /// # Errors
    /// The write failed.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip_with_number_tokens_intact() {
        let dir = std::env::temp_dir().join(format!("cra-tui-capture-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.ndjson");
        let frame = r#"{"channel":"book","data":[{"bids":[{"price":62802.5,"qty":0.00005100}]}]}"#;
        {
            let mut r = Recorder::create(&path, "BTC-USD", &["kraken".to_owned()], 1).unwrap();
            r.write(42, "kraken", Dir::Out, "{\"method\":\"subscribe\"}")
                .unwrap();
            r.write(43, "kraken", Dir::In, frame).unwrap();
            r.flush().unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let parsed: Vec<_> = text.lines().map(|l| parse_line(l).unwrap()).collect();
        assert_eq!(parsed[0], Parsed::Skip);
        let Parsed::Frame(l) = &parsed[2] else {
            panic!("not a frame")
        };
        assert_eq!(
            (l.ts_ns, l.venue.as_ref(), l.dir, l.frame.as_ref()),
            (43, "kraken", Dir::In, frame)
        );
        let Parsed::Frame(l) = &parsed[1] else {
            panic!("not a frame")
        };
        assert_eq!(l.dir, Dir::Out);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// `LineDecoder` must agree with `parse_line` on every line, fast path or not.
    fn same_as_parse_line(line: &str) {
        let mut dec = LineDecoder::new();
        // Dirty the buffer first: the decoder must not leak a previous frame.
        let _ = dec.decode(r#"{"ts_ns":1,"venue":"x","dir":"in","frame":"{\"old\":1}"}"#);
        assert_eq!(dec.decode(line), parse_line(line), "line {line:?}");
    }

    #[test]
    fn decoder_reads_recorder_lines_and_agrees_with_serde_on_odd_ones() {
        let mut dec = LineDecoder::new();
        let frame = "{\"a\":\"q\\\"uote\",\"b\":\"back\\\\slash\"}\tx/\u{8}\u{c}\n\r é€😀";
        let line = serde_json::to_string(&CaptureLine {
            ts_ns: 1_767_225_600_000_001_000,
            venue: Cow::Borrowed("kraken"),
            dir: Dir::Out,
            frame: Cow::Borrowed(frame),
        })
        .unwrap();
        let Ok(Parsed::Frame(l)) = dec.decode(&line) else {
            panic!("not a frame")
        };
        assert_eq!(
            (l.ts_ns, l.venue.as_ref(), l.dir, l.frame.as_ref()),
            (1_767_225_600_000_001_000, "kraken", Dir::Out, frame)
        );
        // The recorder's layout takes the fast path: the frame is the decoder's buffer, not a copy.
        assert!(matches!(l.frame, Cow::Borrowed(_)));
        // So does the layout of other tools: spaces, no `dir`, other key order.
        let python = r#"{"venue": "kraken", "ts_ns": 7, "frame": "{\"a\": [1, \"b\"]}"}"#;
        let Ok(Parsed::Frame(l)) = dec.decode(python) else {
            panic!("not a frame")
        };
        assert!(matches!(l.frame, Cow::Borrowed(_)));
        assert_eq!(
            (l.ts_ns, l.venue.as_ref(), l.dir, l.frame.as_ref()),
            (7, "kraken", Dir::In, r#"{"a": [1, "b"]}"#)
        );
        for line in [
            line.as_str(),
            // Plain frames, borrowed straight from the line.
            r#"{"ts_ns":0,"venue":"gemini","dir":"in","frame":"plain"}"#,
            r#"{"ts_ns":5,"venue":"gemini","dir":"in","frame":""}"#,
            "{\"ts_ns\":5,\"venue\":\"gemini\",\"dir\":\"in\",\"frame\":\"{}\"}  \r\n",
            // Escapes the fast path leaves to serde_json, and every way to be wrong.
            r#"{"ts_ns":5,"venue":"gemini","dir":"in","frame":"\u0041\"\ud83d\ude00"}"#,
            r#"{"ts_ns":5,"venue":"gemini","dir":"in","frame":"\x"}"#,
            r#"{"ts_ns":5,"venue":"gemini","dir":"in","frame":"abc\"}"#,
            r#"{"ts_ns":5,"venue":"gemini","dir":"in","frame":"abc"#,
            "{\"ts_ns\":5,\"venue\":\"gemini\",\"dir\":\"in\",\"frame\":\"a\tb\"}",
            r#"{"ts_ns":5,"venue":"gemini","dir":"in","frame":"a"}x"#,
            r#"{"ts_ns":5,"venue":"gemini","dir":"in","frame":"a"},"#,
            r#"{"ts_ns":05,"venue":"gemini","dir":"in","frame":"a"}"#,
            r#"{"ts_ns":-5,"venue":"gemini","dir":"in","frame":"a"}"#,
            r#"{"ts_ns":5.0,"venue":"gemini","dir":"in","frame":"a"}"#,
            r#"{"ts_ns":99999999999999999999,"venue":"gemini","dir":"in","frame":"a"}"#,
            r#"{"ts_ns":999999999999999999,"venue":"gemini","dir":"in","frame":"a"}"#,
            r#"{"ts_ns":9223372036854775807,"venue":"gemini","dir":"in","frame":"a"}"#,
            r#"{"ts_ns":9223372036854775808,"venue":"gemini","dir":"in","frame":"a"}"#,
            r#"{"ts_ns":5,"venue":"gem\"ini","dir":"in","frame":"a"}"#,
            r#"{"ts_ns":5,"venue":"gemini","dir":"sideways","frame":"a"}"#,
            r#"{"ts_ns":5,"venue":"gemini","frame":"a"}"#,
            r#"{"ts_ns":5,"venue":"gemini","dir":"out","frame":"a","ts_ns":6}"#,
            r#"{ "ts_ns":5,"venue":"gemini","dir":"in","frame":"a"}"#,
            r#"{"frame":"a","dir":"in","venue":"gemini","ts_ns":5}"#,
            r#" { "ts_ns" : 5 , "venue" : "gemini" , "frame" : "{\"a\": 1}" } "#,
            "{\"ts_ns\":5,\t\"venue\":\"gemini\",\r\n\"frame\":\"x\"}",
            r#"{"ts_ns": 5, "venue": "gemini", "dir": "out", "frame": "x"}"#,
            r#"{"ts_ns":5,"venue":"gemini","frame":"x","extra":1}"#,
            r#"{"ts_ns":5,"venue":"gemini","frame":"x","frame":"y"}"#,
            r#"{"ts_ns":5,"venue":"gemini","frame":"x",}"#,
            r#"{"ts_ns":5,"venue":"gemini","frame":"x""#,
            r#"{"ts_ns":5,"venue":"gemini","dir":"IN","frame":"x"}"#,
            r#"{"ts_ns":5,"venue":"gemini","dir":null,"frame":"x"}"#,
            r#"{"ts_ns":5,"ven\u0075e":"gemini","frame":"x"}"#,
            r#"{"ts_ns":5,"venue":"gemini"}"#,
            r#"{"venue":"gemini","frame":"x"}"#,
            r#"{"ts_ns":1e3,"venue":"gemini","frame":"x"}"#,
            r#"{"ts_ns":-0,"venue":"gemini","frame":"x"}"#,
            r#"{"ts_ns":5 "venue":"gemini","frame":"x"}"#,
            r#"{}"#,
            r#"[]"#,
            r#"{"format":"cra-tui-capture","version":1}"#,
            "",
            "\n",
        ] {
            same_as_parse_line(line);
        }
    }

    proptest::proptest! {
        #[test]
        fn decoder_agrees_with_parse_line_on_any_frame(
            frame in "\\PC{0,40}",
            ts in 0i64..i64::MAX,
            out in proptest::bool::ANY,
        ) {
            let line = serde_json::to_string(&CaptureLine {
                ts_ns: ts,
                venue: Cow::Borrowed("coinbase"),
                dir: if out { Dir::Out } else { Dir::In },
                frame: Cow::Borrowed(&frame),
            })
            .unwrap();
            let mut dec = LineDecoder::new();
            let Ok(Parsed::Frame(l)) = dec.decode(&line) else {
                panic!("not a frame: {line}")
            };
            proptest::prop_assert_eq!(l.frame.as_ref(), frame.as_str());
            proptest::prop_assert_eq!(l.ts_ns, ts);
        }

        #[test]
        fn decoder_unescapes_dense_escapes_at_every_offset(
            frame in "[ab\"\\\\/\n\t\u{8}\u{c}\ré]{0,70}",
        ) {
            let line = serde_json::to_string(&CaptureLine {
                ts_ns: 1,
                venue: Cow::Borrowed("kraken"),
                dir: Dir::In,
                frame: Cow::Borrowed(&frame),
            })
            .unwrap();
            let mut dec = LineDecoder::new();
            let Ok(Parsed::Frame(l)) = dec.decode(&line) else {
                panic!("not a frame: {line}")
            };
            proptest::prop_assert_eq!(l.frame.as_ref(), frame.as_str());
            // No `\u` escape here: this was the fast path (the frame is the decoder's buffer).
            proptest::prop_assert!(matches!(l.frame, Cow::Borrowed(_)));
        }

        #[test]
        fn decoder_agrees_with_parse_line_on_damaged_lines(
            cut in 0usize..80,
            byte in proptest::sample::select(b"\"\\{}:,0129 tnu/x\n".to_vec()),
        ) {
            let good = r#"{"ts_ns":123,"venue":"kraken","dir":"in","frame":"{\"a\":[1,\"b\\\\\"]}"}"#;
            let mut bytes = good.as_bytes().to_vec();
            let at = cut.min(bytes.len() - 1);
            bytes[at] = byte;
            let line = String::from_utf8(bytes).unwrap();
            same_as_parse_line(&line);
            same_as_parse_line(&line[..at]);
        }
    }

    #[test]
    fn dir_defaults_to_in_and_bad_lines_are_errors() {
        let Parsed::Frame(l) = parse_line(r#"{"ts_ns":1,"venue":"gemini","frame":"{}"}"#).unwrap()
        else {
            panic!("not a frame")
        };
        assert_eq!(l.dir, Dir::In);
        assert_eq!(parse_line("").unwrap(), Parsed::Skip);
        assert!(parse_line("not json").is_err());
        assert!(parse_line(r#"{"ts_ns":"x","venue":"a","frame":"{}"}"#).is_err());
        assert!(parse_line(r#"{"ts_ns":1,"venue":"a","dir":"sideways","frame":"{}"}"#).is_err());
    }
}

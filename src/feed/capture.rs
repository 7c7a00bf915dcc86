//! Captures: what `--record` writes and `--replay` reads (design.md §2, "Capture format").
//!
//! One WebSocket text frame per line:
//! `{"ts_ns":…,"venue":"kraken","dir":"in"|"out","frame":"<verbatim frame text>"}` (`dir` defaults to
//! `in`), optionally preceded by a `{"format":"cra-tui-capture","version":1,…}` header. The frame is a
//! JSON string, so number tokens survive byte for byte (Kraken's checksum depends on them).

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

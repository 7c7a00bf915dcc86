//! Feeds: the per-venue adapters that turn wire frames into book changes, the WebSocket task that
//! carries them, and record/replay.
//!
//! An [`Adapter`] is pure and synchronous: it decodes one text frame, checks the venue's integrity
//! rules (Kraken CRC32 + truncation, Coinbase `sequence_num`, Gemini reset-on-first-snapshot) and
//! applies the levels to the venue's [`OrderBook`]. Everything around it — connections, timers,
//! replay pacing — lives elsewhere, so live, `--demo` and `--replay` share exactly the same checks.

pub mod capture;
pub mod coinbase;
pub mod gemini;
pub mod kraken;
pub mod tcp;
pub mod ws;

use rust_decimal::Decimal;

use crate::config::VenueConfig;
use crate::market::OrderBook;

/// What one well-formed frame did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameOutcome {
    /// Nothing for the book: another channel or symbol, trades, status, pong.
    Ignored,
    /// A heartbeat: proof of life only.
    Heartbeat,
    /// The server acknowledged a subscription.
    Ack,
    /// A full book replaced the previous one (the book is now usable).
    Snapshot,
    /// Levels changed on a usable book.
    Update,
    /// An update arrived while no snapshot is held (after a reset): dropped, waiting for a snapshot.
    AwaitingSnapshot,
    /// The server reported an error (e.g. a rejected subscription): its text.
    ServerError(String),
}

/// A frame that cannot be used, and why. Every variant is counted and logged by the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Not JSON, the wrong shape, or a value out of bounds: the book was not touched.
    #[error("malformed frame: {0}")]
    Malformed(String),
    /// Kraken: the CRC32 of the top of our book differs from the venue's.
    #[error("checksum mismatch: venue {expected}, ours {computed}")]
    Checksum {
        /// The venue's checksum.
        expected: u32,
        /// Ours.
        computed: u32,
    },
    /// Coinbase: `sequence_num` did not follow the previous one.
    #[error("sequence gap: expected {expected}, got {got}")]
    SequenceGap {
        /// `last + 1`.
        expected: u64,
        /// What arrived.
        got: u64,
    },
    /// A book side grew beyond the configured bound.
    #[error("book side exceeds {0} levels")]
    TooManyLevels(usize),
}

impl FrameError {
    /// True for integrity failures that make the held book unusable (as opposed to a single bad frame).
    #[must_use]
    pub fn breaks_book(&self) -> bool {
        !matches!(self, FrameError::Malformed(_))
    }
}

/// Decodes one venue's frames into book changes.
pub trait Adapter: Send {
    /// Forgets per-connection state (sequence numbers, "snapshot seen"): called on every new connection,
    /// and after an integrity failure, when the caller also clears the book.
    fn reset(&mut self);

    /// The caller dropped the book after an integrity failure on the *same* connection: ignore updates
    /// until the venue sends a real snapshot, but keep per-connection state (acknowledged depth,
    /// sequence baseline). Unlike [`Adapter::reset`], nothing here may take a plain update for a book.
    fn invalidate(&mut self) {
        self.reset();
    }

    /// Decodes `frame` and applies it to `book`. On `Err(FrameError::Malformed)` the book is untouched.
    ///
    /// # Errors
    /// A malformed frame, or an integrity failure (see [`FrameError`]).
    fn on_frame(&mut self, frame: &str, book: &mut OrderBook) -> Result<FrameOutcome, FrameError>;

    /// An application-level keep-alive message to send periodically, if the venue wants one.
    fn keepalive(&self) -> Option<String> {
        None
    }
}

/// Bounds applied to everything read from the network.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest book side accepted.
    pub max_levels_per_side: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_levels_per_side: 200_000,
        }
    }
}

/// Builds the adapter named by the venue's config.
///
/// # Errors
/// An unknown adapter name (config validation normally catches it first).
pub fn build_adapter(venue: &VenueConfig, limits: Limits) -> Result<Box<dyn Adapter>, String> {
    match venue.adapter.as_str() {
        "kraken-v2" => Ok(Box::new(kraken::KrakenV2::new(venue, limits))),
        "coinbase-advanced" => Ok(Box::new(coinbase::CoinbaseAdvanced::new(venue, limits))),
        "gemini-v2" => Ok(Box::new(gemini::GeminiV2::new(venue, limits))),
        other => Err(format!("unknown adapter '{other}'")),
    }
}

/// Largest price or quantity accepted from a venue (keeps every product and sum in `Decimal` range).
const MAX_VALUE: Decimal = Decimal::from_parts(1_215_752_192, 23, 0, false, 0); // 10^11

/// Parses a price or quantity token exactly (a JSON string's contents or a bare number token).
///
/// Rejects anything that is not a plain decimal (`NaN`, `1e400`, signs other than a leading `-`), more
/// than 28 significant digits (which `Decimal` would round), negatives, and values ≥ 10^11.
///
/// The usual token (`digits[.digits]`, at most 19 digits) is read in one pass straight into the
/// `Decimal`'s mantissa and scale; anything else takes the general path, which gives the same value.
///
/// # Errors
/// [`FrameError::Malformed`] naming the token.
#[inline]
pub fn parse_decimal(token: &str) -> Result<Decimal, FrameError> {
    parse_plain(token).map_or_else(|| parse_decimal_general(token), Ok)
}

/// 10^k for k in 0..=30.
const POW10: [u128; 31] = {
    let mut t = [1u128; 31];
    let mut i = 1;
    while i < t.len() {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// `\d+(\.\d+)?` with at most 19 digits and a value below 10^11, as a `Decimal` with the token's own
/// scale (trailing zeros kept, like `Decimal::from_str`); `None` for anything else, valid or not.
#[inline]
fn parse_plain(token: &str) -> Option<Decimal> {
    let mut m: u64 = 0;
    let mut digits = 0u32;
    let mut dot: Option<u32> = None;
    for &c in token.as_bytes() {
        if c.is_ascii_digit() {
            if digits == 19 {
                return None;
            }
            m = m * 10 + u64::from(c - b'0');
            digits += 1;
        } else if c == b'.' && dot.is_none() && digits > 0 {
            dot = Some(digits);
        } else {
            return None;
        }
    }
    let scale = match dot {
        None if digits > 0 => 0,
        Some(at) if digits > at => digits - at,
        _ => return None,
    };
    // value ≥ 10^11 ⇔ m ≥ 10^(11 + scale); scale ≤ 19 here, so the power fits the table.
    if u128::from(m) >= *POW10.get(11 + scale as usize)? {
        return None;
    }
    #[expect(
        clippy::cast_possible_truncation,
        reason = "the two 32-bit halves of m"
    )]
    Some(Decimal::from_parts(
        m as u32,
        (m >> 32) as u32,
        0,
        false,
        scale,
    ))
}

/// The general (and reference) token parser behind [`parse_decimal`].
fn parse_decimal_general(token: &str) -> Result<Decimal, FrameError> {
    let bad = || FrameError::Malformed(format!("bad number {:?}", truncate_for_log(token)));
    let digits = token.bytes().filter(u8::is_ascii_digit).count();
    if digits == 0
        || digits > 28
        || !token
            .bytes()
            .enumerate()
            .all(|(i, b)| b.is_ascii_digit() || b == b'.' || (i == 0 && b == b'-'))
    {
        return Err(bad());
    }
    let v: Decimal = token.parse().map_err(|_| bad())?;
    if v.is_sign_negative() && !v.is_zero() || v >= MAX_VALUE {
        return Err(bad());
    }
    Ok(v)
}
/// Parses a price: like [`parse_decimal`] and strictly positive.
///
/// # Errors
/// [`FrameError::Malformed`].
pub fn parse_price(token: &str) -> Result<Decimal, FrameError> {
    let v = parse_decimal(token)?;
    if v.is_zero() {
        return Err(FrameError::Malformed(format!("zero price {token:?}")));
    }
    Ok(v)
}

/// At most 64 characters of `s`, for messages about bad input.
#[must_use]
pub fn truncate_for_log(s: &str) -> &str {
    match s.char_indices().nth(64) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::d;

    #[test]
    fn numbers_are_parsed_exactly_and_bounded() {
        assert_eq!(
            parse_decimal("0.00005100").unwrap().to_string(),
            "0.00005100"
        );
        assert_eq!(parse_decimal("62802.5").unwrap(), d("62802.5"));
        assert_eq!(parse_decimal("0").unwrap(), Decimal::ZERO);
        for bad in [
            "",
            "NaN",
            "1e400",
            "1E5",
            "-1",
            "+1",
            "1.2.3",
            " 1",
            "inf",
            "100000000000",
            "1234567890123456789012345678901234567890",
        ] {
            assert!(parse_decimal(bad).is_err(), "{bad:?} accepted");
        }
        assert!(parse_price("0.0").is_err());
        assert_eq!(MAX_VALUE, d("100000000000"));
    }

    /// The fast path must give exactly what the general parser gives (value, scale, sign, errors).
    fn same_as_general(token: &str) {
        let fast = parse_decimal(token);
        let general = parse_decimal_general(token);
        match (&fast, &general) {
            (Ok(a), Ok(b)) => assert_eq!(
                (a.to_string(), a.scale(), a.is_sign_negative()),
                (b.to_string(), b.scale(), b.is_sign_negative()),
                "{token:?}"
            ),
            _ => assert_eq!(fast, general, "{token:?}"),
        }
    }

    #[test]
    fn fast_token_path_matches_the_general_parser_on_edge_cases() {
        for t in [
            "0",
            "00",
            "0.0",
            "0.00000000",
            "1.",
            ".5",
            "-0",
            "-0.0",
            "1.2.",
            "99999999999.9999999",
            "100000000000",
            "99999999999",
            "1000000000000000000",
            "9999999999999999999",
            "0.9999999999999999999",
            "0.00000000000000000001",
            "1234567890.123456789",
            "12345678901.23456789",
            "65000.10",
            "0.02560000",
            "0000000000000000000001",
        ] {
            same_as_general(t);
        }
    }

    proptest::proptest! {
        #[test]
        fn fast_token_path_matches_the_general_parser(token in "[0-9.\\-]{0,24}") {
            same_as_general(&token);
        }

        #[test]
        fn plain_tokens_parse_to_their_digits(int in 0u64..100_000_000_000, frac in "[0-9]{0,8}") {
            let token = if frac.is_empty() { int.to_string() } else { format!("{int}.{frac}") };
            same_as_general(&token);
            let v = parse_decimal(&token).unwrap();
            proptest::prop_assert_eq!(v.to_string(), token);
        }
    }
}

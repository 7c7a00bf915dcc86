//! Fuzz target: the kraken adapter's frame decoder over a held book (see `harness::venue_frames`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    cra_tui_fuzz::venue_frames(cra_tui_fuzz::Venue::Kraken, data);
});

//! Fuzz target: the capture line parser and the headless replay reader (see `harness::capture`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    cra_tui_fuzz::capture(data);
});

//! Placeholder: being written.

use super::{Adapter, FrameError, FrameOutcome, Limits};
use crate::config::VenueConfig;
use crate::market::OrderBook;

/// Adapter (being written).
pub struct KrakenV2;

impl KrakenV2 {
    /// Builds the adapter.
    #[must_use]
    pub fn new(_venue: &VenueConfig, _limits: Limits) -> Self {
        Self
    }
}

impl Adapter for KrakenV2 {
    fn reset(&mut self) {}

    fn on_frame(
        &mut self,
        _frame: &str,
        _book: &mut OrderBook,
    ) -> Result<FrameOutcome, FrameError> {
        Ok(FrameOutcome::Ignored)
    }
}

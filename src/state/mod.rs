//! The state: the engine that owns books, ticket and health, its async actor, and the View it publishes.

pub mod actor;
pub mod engine;
pub mod view;

use rust_decimal::Decimal;

use crate::market::Action;

/// A change to the ticket or the merged set, sent by the UI (or a test) to the state actor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Walk for this action.
    SetAction(Action),
    /// Buy ↔ sell.
    FlipAction,
    /// Size + one step.
    SizeUp,
    /// Size − one step (never to zero or below: it stops at the smallest positive step multiple).
    SizeDown,
    /// Step × 10.
    StepUp,
    /// Step ÷ 10.
    StepDown,
    /// An exact size (must be positive; the UI validates before sending).
    SetSize(Decimal),
    /// Include/exclude venue N (0-based, config order) in the merged walk.
    ToggleVenue(usize),
}

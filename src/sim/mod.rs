//! Simulated exchanges (being written).

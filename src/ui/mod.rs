//! The dashboard (being written).

//! Record and replay (being written).

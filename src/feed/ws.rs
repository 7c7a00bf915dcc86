//! WebSocket feed task (being written).

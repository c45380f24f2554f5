//! Listen queues with Linux semantics (design §4).

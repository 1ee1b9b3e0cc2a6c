//! secret-rotator (being written).

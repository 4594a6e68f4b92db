//! Demo company simulation (to be written).

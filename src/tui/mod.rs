//! The cashier screen.

pub mod theme;

//! Flink's window semantics, independent of the simulator: which windows an element belongs
//! to ([`assign`]), how session windows merge ([`merging`]), and when windows fire and what
//! they keep ([`trigger`]). The keyed window operator in `sim::ops::window` puts them together.

pub mod assign;
pub mod merging;
pub mod trigger;

pub use assign::{Assigner, Window};

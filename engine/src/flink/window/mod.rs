//! Flink's window semantics, independent of the simulator: which windows an element belongs
//! to ([`assign`]), how session windows merge ([`merging`]), and when windows fire and what
//! they keep ([`trigger`]), and which trigger and evictor a window gets by default
//! ([`defaults`]). The keyed window operator in `ops::window` puts them together.

pub mod assign;
pub mod defaults;
pub mod merging;
pub mod trigger;

pub use assign::{Assigner, Window};

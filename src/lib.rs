pub use dermscan_core::*;

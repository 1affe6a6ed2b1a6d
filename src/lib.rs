//! narrate: narration scripts and recordings in, chaptered WAV episodes out.
//!
//! Data flows one way: [`project`] (read and validate the files) → [`plan`] (a pure
//! description of every episode) → [`render`] (decode, convert, trim, lay end to end,
//! chapter positions in frames) → [`wav`] and [`sidecars`] (write). [`build`] drives it.

pub mod atomic;
pub mod audio;
pub mod build;
pub mod check;
pub mod clips;
pub mod convert;
pub mod decode;
pub mod dither;
pub mod error;
pub mod filter;
pub mod g711;
pub mod governance;
pub mod incremental;
pub mod init;
pub mod inspect;
pub mod lock;
pub mod loudness;
pub mod master;
pub mod meta;
pub mod meter;
pub mod plan;
pub mod profile;
pub mod programme;
pub mod project;
pub mod render;
pub mod report;
pub mod review;
pub mod sheet;
pub mod sidecars;
pub mod silence;
pub mod speech;
pub mod status;
pub mod timeline;
pub mod wav;

pub use error::{Error, Result};

//! WAV files: our writer and a chunk reader for any WAV.

pub mod writer;

pub use writer::{write_wav_file, WavSpec, WavWriter};

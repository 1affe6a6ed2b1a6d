//! WAV files: our writer and a chunk reader for any WAV.

pub mod reader;
pub mod writer;

pub use reader::{parse_wav_info, read_wav_info, read_wav_info_from, WavInfo};
pub use writer::{write_wav_file, WavSpec, WavWriter};

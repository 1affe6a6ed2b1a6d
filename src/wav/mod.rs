//! WAV files: our writer and a chunk reader for any WAV.

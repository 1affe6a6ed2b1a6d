//! The chapter list of a rendered episode: the one source of truth for every position.
//!
//! Positions are counted in frames (one sample per channel) at the output sample rate.
//! The WAV writer, every sidecar and the report read them from here and nowhere else.

use serde::Serialize;

/// One chapter: a section of the episode as the listener can skip to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Chapter {
    pub title: String,
    /// First frame of the chapter.
    pub start: u64,
    /// Number of frames the chapter's own audio lasts (pauses after it excluded).
    pub length: u64,
}

/// Where every chapter lies in an episode of `total_frames` frames at `sample_rate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Timeline {
    pub sample_rate: u32,
    pub total_frames: u64,
    pub chapters: Vec<Chapter>,
}

impl Timeline {
    /// Seconds from the start of the episode to `frame`.
    pub fn seconds(&self, frame: u64) -> f64 {
        frame as f64 / f64::from(self.sample_rate)
    }

    /// Whole milliseconds to `frame`, rounded down (for formats counted in ms).
    pub fn millis(&self, frame: u64) -> u64 {
        (u128::from(frame) * 1000 / u128::from(self.sample_rate)) as u64
    }

    /// Total duration in seconds.
    pub fn duration_seconds(&self) -> f64 {
        self.seconds(self.total_frames)
    }

    /// Where chapter `index` ends: the next chapter's start, or the end of the episode.
    pub fn chapter_end(&self, index: usize) -> u64 {
        self.chapters
            .get(index + 1)
            .map_or(self.total_frames, |next| next.start)
    }
}

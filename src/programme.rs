//! A laid-out episode as a sequence of silences and prepared clips, streamed from the clip
//! cache as often as mastering needs it, a chunk at a time.

use std::sync::Arc;

use crate::clips::Prepared;
use crate::error::Result;
use crate::master::Replay;

/// Frames per chunk handed to mastering.
pub const CHUNK_FRAMES: usize = 16 * 1024;

/// One stretch of a programme.
#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    /// Frames of digital silence.
    Silence(u64),
    /// A prepared clip, whole.
    Clip(Arc<Prepared>),
}

/// An episode's audio, at the profile's rate and channel count.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Programme {
    pub sample_rate: u32,
    pub channels: u16,
    segments: Vec<Segment>,
    frames: u64,
}

impl Programme {
    pub fn new(sample_rate: u32, channels: u16) -> Self {
        Programme {
            sample_rate,
            channels,
            segments: Vec::new(),
            frames: 0,
        }
    }

    /// Frames so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Appends `frames` frames of silence.
    pub fn silence(&mut self, frames: u64) {
        if frames == 0 {
            return;
        }
        if let Some(Segment::Silence(last)) = self.segments.last_mut() {
            *last += frames;
        } else {
            self.segments.push(Segment::Silence(frames));
        }
        self.frames += frames;
    }

    /// Appends silence up to `frames` frames in all (nothing if already that long).
    pub fn pad_to(&mut self, frames: u64) {
        self.silence(frames.saturating_sub(self.frames));
    }

    /// Appends a prepared clip.
    pub fn clip(&mut self, clip: Arc<Prepared>) {
        self.frames += clip.facts.frames;
        self.segments.push(Segment::Clip(clip));
    }

    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }
}

impl Replay for Programme {
    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    fn channels(&self) -> u16 {
        self.channels
    }

    fn frames(&self) -> u64 {
        self.frames
    }

    /// Chunks of [`CHUNK_FRAMES`] frames (the last one shorter), read from the clip files.
    fn play(&self, sink: &mut dyn FnMut(&[f32]) -> Result<()>) -> Result<()> {
        let ch = usize::from(self.channels.max(1));
        let size = CHUNK_FRAMES * ch;
        let mut chunk: Vec<f32> = Vec::with_capacity(size);
        for segment in &self.segments {
            match segment {
                Segment::Silence(frames) => {
                    let mut left = *frames as usize * ch;
                    while left > 0 {
                        let n = (size - chunk.len()).min(left);
                        chunk.resize(chunk.len() + n, 0.0);
                        left -= n;
                        if chunk.len() == size {
                            sink(&chunk)?;
                            chunk.clear();
                        }
                    }
                }
                Segment::Clip(clip) => {
                    let mut reader = clip.open()?;
                    while reader.remaining() > 0 {
                        reader.read(size - chunk.len(), &mut chunk)?;
                        if chunk.len() == size {
                            sink(&chunk)?;
                            chunk.clear();
                        }
                    }
                }
            }
        }
        if !chunk.is_empty() {
            sink(&chunk)?;
        }
        Ok(())
    }
}

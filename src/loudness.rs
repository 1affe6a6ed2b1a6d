//! Loudness and peak measurement (ITU-R BS.1770-4 / EBU R128) with the `ebur128` crate.
//!
//! [`measure`] measures a whole [`Audio`]; [`Meter`] does the same chunk by chunk, so a
//! caller can measure while decoding. Both use the crate's default channel map (mono is one
//! front channel weighted 1.0, as in ffmpeg's `ebur128` filter; 5.0 is L R C Ls Rs; 5.1 is
//! L R C LFE Ls Rs with the LFE ignored).

use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::thread::Builder;

use ebur128::{EbuR128, Mode};
use serde::Serialize;

use crate::audio::{Audio, WholeFrames};
use crate::error::{Error, Result};

/// Frames fed to the meter per call by [`measure`].
const CHUNK_FRAMES: usize = 1 << 14;
/// Chunks that may wait for a measuring thread.
const QUEUE_CHUNKS: usize = 4;

/// What a programme measures. JSON has no −∞, so a value that does not exist (the
/// integrated loudness of silence or of a clip shorter than one 400 ms gating block, the
/// peak of digital silence) is `None`, written as `null`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Loudness {
    /// Gated integrated loudness, LUFS.
    pub integrated_lufs: Option<f64>,
    /// Highest 4× oversampled peak over all channels, dBTP.
    pub true_peak_dbtp: Option<f64>,
    /// Loudness range (EBU Tech 3342), LU; 0.0 when too short to have one.
    pub loudness_range_lu: f64,
    /// Highest absolute sample value over all channels, dBFS.
    pub sample_peak_dbfs: Option<f64>,
}

/// Streaming loudness meter: feed interleaved samples with [`Meter::add`] in chunks of any
/// size, then read the result with [`Meter::finish`].
pub struct Meter {
    inner: EbuR128,
    /// Holds an incomplete frame over to the next [`Meter::add`].
    frames: WholeFrames,
}

impl std::fmt::Debug for Meter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Meter")
            .field("rate", &self.inner.rate())
            .field("channels", &self.inner.channels())
            .finish()
    }
}

fn meter_error(rate: u32, channels: u16, err: ebur128::Error) -> Error {
    Error::new(format!(
        "cannot measure loudness of audio at {rate} Hz with {channels} channel(s): {err}"
    ))
    .with_fix("use audio with 1 to 64 channels and a sample rate of at least 16 Hz")
}

impl Meter {
    /// A meter for integrated loudness, loudness range, true peak and sample peak.
    pub fn new(sample_rate: u32, channels: u16) -> Result<Self> {
        Self::with_mode(
            sample_rate,
            channels,
            Mode::I | Mode::LRA | Mode::TRUE_PEAK | Mode::SAMPLE_PEAK,
        )
    }

    /// A cheaper meter that only gives integrated loudness (the other figures are `None`/0).
    pub fn integrated_only(sample_rate: u32, channels: u16) -> Result<Self> {
        Self::with_mode(sample_rate, channels, Mode::I)
    }

    fn with_mode(sample_rate: u32, channels: u16, mode: Mode) -> Result<Self> {
        let inner = EbuR128::new(u32::from(channels), sample_rate, mode)
            .map_err(|e| meter_error(sample_rate, channels, e))?;
        Ok(Meter {
            inner,
            frames: WholeFrames::new(channels),
        })
    }

    /// Adds interleaved samples; a trailing partial frame is kept for the next call.
    pub fn add(&mut self, samples: &[f32]) {
        let inner = &mut self.inner;
        // Whole frames of the right channel count: the meter cannot refuse them.
        self.frames.split(samples, |f| {
            let _ = inner.add_frames_f32(f);
        });
    }

    /// Loudness of the last 400 ms, LUFS (`None` before any signal or in silence).
    pub fn momentary_lufs(&self) -> Option<f64> {
        finite(self.inner.loudness_momentary().ok())
    }

    /// Loudness of the last 3 s, LUFS (`None` if this meter does not keep 3 s).
    pub fn shortterm_lufs(&self) -> Option<f64> {
        finite(self.inner.loudness_shortterm().ok())
    }

    /// The figures for everything added so far (an incomplete last frame is ignored).
    pub fn loudness(&self) -> Loudness {
        let mode = self.inner.mode();
        let channels = self.inner.channels();
        let peak = |f: &dyn Fn(u32) -> Option<f64>| -> Option<f64> {
            let max = (0..channels).filter_map(f).fold(0.0f64, f64::max);
            finite(Some(20.0 * max.log10()))
        };
        Loudness {
            integrated_lufs: finite(self.inner.loudness_global().ok()),
            true_peak_dbtp: if mode.contains(Mode::TRUE_PEAK) {
                peak(&|c| self.inner.true_peak(c).ok())
            } else {
                None
            },
            loudness_range_lu: if mode.contains(Mode::LRA) {
                finite(self.inner.loudness_range().ok()).unwrap_or(0.0)
            } else {
                0.0
            },
            sample_peak_dbfs: if mode.contains(Mode::SAMPLE_PEAK) {
                peak(&|c| self.inner.sample_peak(c).ok())
            } else {
                None
            },
        }
    }

    /// Ends the measurement.
    pub fn finish(self) -> Loudness {
        self.loudness()
    }
}

fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite())
}

/// Measures integrated loudness, loudness range, true peak and sample peak of `audio`
/// (on two threads, see [`measure_while`]).
pub fn measure(audio: &Audio) -> Result<Loudness> {
    let step = CHUNK_FRAMES * usize::from(audio.channels.max(1));
    let ((), loudness) = measure_while(audio.sample_rate, audio.channels, |sink| {
        for chunk in audio.samples.chunks(step) {
            sink(chunk);
        }
    })?;
    Ok(loudness)
}

/// Runs `produce` on this thread and measures everything it hands to its sink (interleaved
/// samples, chunks of any size) on two worker threads, one for loudness and loudness range,
/// one for true peak, so that producing and measuring overlap. The figures are exactly those
/// of a [`Meter`] fed the same samples. Without threads it measures on this one.
pub fn measure_while<R>(
    sample_rate: u32,
    channels: u16,
    produce: impl FnOnce(&mut dyn FnMut(&[f32])) -> R,
) -> Result<(R, Loudness)> {
    let loud_mode = Mode::I | Mode::LRA | Mode::SAMPLE_PEAK;
    let loud = Meter::with_mode(sample_rate, channels, loud_mode)?;
    let peak = Meter::with_mode(sample_rate, channels, Mode::TRUE_PEAK)?;
    let combine = |loud: &Meter, peak: &Meter| Loudness {
        true_peak_dbtp: peak.loudness().true_peak_dbtp,
        ..loud.loudness()
    };
    std::thread::scope(|scope| {
        let (loud_tx, loud_rx) = sync_channel::<Arc<Vec<f32>>>(QUEUE_CHUNKS);
        let (peak_tx, peak_rx) = sync_channel::<Arc<Vec<f32>>>(QUEUE_CHUNKS);
        let worker = |name: &str, mut meter: Meter, rx: Receiver<Arc<Vec<f32>>>| {
            Builder::new()
                .name(name.to_string())
                .spawn_scoped(scope, move || {
                    for chunk in rx {
                        meter.add(&chunk);
                    }
                    meter
                })
        };
        let join = |h: std::thread::ScopedJoinHandle<'_, Meter>| {
            h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
        };
        match (
            worker("loudness", loud, loud_rx),
            worker("true-peak", peak, peak_rx),
        ) {
            (Ok(loud_worker), Ok(peak_worker)) => {
                let result = produce(&mut |chunk: &[f32]| {
                    let shared = Arc::new(chunk.to_vec());
                    // A send fails only if a worker panicked; joining re-raises that.
                    let _ = loud_tx.send(Arc::clone(&shared));
                    let _ = peak_tx.send(shared);
                });
                drop((loud_tx, peak_tx));
                let (loud, peak) = (join(loud_worker), join(peak_worker));
                Ok((result, combine(&loud, &peak)))
            }
            (started_loud, started_peak) => {
                // No threads to be had: measure here. A worker that did start ends as its
                // channel closes.
                drop((loud_tx, peak_tx));
                started_loud.into_iter().for_each(|h| drop(join(h)));
                started_peak.into_iter().for_each(|h| drop(join(h)));
                let mut loud = Meter::with_mode(sample_rate, channels, loud_mode)?;
                let mut peak = Meter::with_mode(sample_rate, channels, Mode::TRUE_PEAK)?;
                let result = produce(&mut |chunk: &[f32]| {
                    loud.add(chunk);
                    peak.add(chunk);
                });
                Ok((result, combine(&loud, &peak)))
            }
        }
    })
}

/// Integrated loudness alone (cheaper than [`measure`]); `None` for silence or audio
/// shorter than one gating block.
pub fn integrated(audio: &Audio) -> Result<Option<f64>> {
    let mut meter = Meter::integrated_only(audio.sample_rate, audio.channels)?;
    feed(&mut meter, audio);
    Ok(meter.finish().integrated_lufs)
}

fn feed(meter: &mut Meter, audio: &Audio) {
    let step = CHUNK_FRAMES * usize::from(audio.channels.max(1));
    for chunk in audio.samples.chunks(step) {
        meter.add(chunk);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(rate: u32, channels: u16, seconds: f64, dbfs: f64) -> Audio {
        let frames = (seconds * f64::from(rate)) as usize;
        let amp = 10f64.powf(dbfs / 20.0);
        let mut samples = Vec::with_capacity(frames * usize::from(channels));
        for i in 0..frames {
            let v = (amp * (2.0 * std::f64::consts::PI * 1000.0 * i as f64 / f64::from(rate)).sin())
                as f32;
            samples.extend(std::iter::repeat_n(v, usize::from(channels)));
        }
        Audio {
            sample_rate: rate,
            channels,
            samples,
        }
    }

    #[test]
    fn stereo_sine_at_minus_23() {
        let l = measure(&sine(48000, 2, 20.0, -23.0)).unwrap();
        let i = l.integrated_lufs.unwrap();
        assert!((i + 23.0).abs() < 0.1, "{i}");
        let sp = l.sample_peak_dbfs.unwrap();
        assert!((sp + 23.0).abs() < 0.01, "{sp}");
        let tp = l.true_peak_dbtp.unwrap();
        assert!(tp >= sp && tp < -22.9, "{tp}");
    }

    #[test]
    fn mono_is_one_channel_weighted_one() {
        // The same sine in one channel is 3 dB quieter than in two.
        let i = integrated(&sine(44100, 1, 5.0, -20.0)).unwrap().unwrap();
        assert!((i + 23.01).abs() < 0.1, "{i}");
    }

    #[test]
    fn silence_and_short_clips_have_no_loudness() {
        let l = measure(&Audio::silence(44100, 2, 44100)).unwrap();
        assert_eq!(l.integrated_lufs, None);
        assert_eq!(l.true_peak_dbtp, None);
        assert_eq!(l.sample_peak_dbfs, None);
        assert_eq!(l.loudness_range_lu, 0.0);
        let json = serde_json::to_string(&l).unwrap();
        assert!(json.contains("\"integrated_lufs\":null"), "{json}");
        let short = measure(&sine(44100, 1, 0.3, -10.0)).unwrap();
        assert_eq!(short.integrated_lufs, None);
        assert!(short.sample_peak_dbfs.is_some());
        let empty = Audio::silence(44100, 1, 0);
        assert_eq!(measure(&empty).unwrap().integrated_lufs, None);
    }

    #[test]
    fn odd_chunks_give_the_same_result() {
        let a = sine(48000, 2, 3.0, -18.0);
        let whole = measure(&a).unwrap();
        let mut m = Meter::new(48000, 2).unwrap();
        for chunk in a.samples.chunks(777) {
            m.add(chunk);
        }
        assert_eq!(m.finish(), whole);
    }

    #[test]
    fn bad_formats_are_errors() {
        assert!(Meter::new(44100, 0).is_err());
        assert!(Meter::new(8, 1).is_err());
    }
}

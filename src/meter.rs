//! A fast streaming loudness meter (ITU-R BS.1770-4 / EBU R128) for mastering passes.
//!
//! It computes exactly what [`crate::loudness::Meter`] (the `ebur128` crate) computes, with
//! the same K-weighting coefficients, gating blocks, short-term blocks, channel weights and
//! true-peak interpolator, but does less work for it:
//! - the filtered signal is not kept: squares are summed into 100 ms sub-blocks as they come,
//!   and each 400 ms gating block (every 100 ms) and 3 s short-term block (every second) is a
//!   sum of sub-blocks, instead of re-summing 4× or 30× the samples;
//! - the K-weighting recursion is ordered so that only one multiply-add is on the critical path;
//! - digital silence with a settled filter is skipped;
//! - the true-peak interpolator (the same 48-tap Hann-windowed sinc as `ebur128`, 4× below
//!   96 kHz, 2× below 192 kHz) only runs where an interpolated value could pass the peak found
//!   so far: a block whose samples are all below `peak / bound` (bound: the largest sum of
//!   absolute coefficients of a phase) cannot, so it is skipped. The true peak is therefore
//!   bit for bit the `ebur128` figure, and speech costs a small fraction of the full scan.
//!
//! Integrated loudness and loudness range agree with `ebur128` to about 1e-12 LU (the sums
//! are added in another order).

use crate::audio::WholeFrames;
use crate::error::{Error, Result};
use crate::loudness::Loudness;

/// Energy of a −70 LUFS block: the absolute gate (the first bin of `ebur128`'s histogram).
const ABSOLUTE_GATE: f64 = 1.172_465_304_582_298_1e-7;
/// Gating blocks are 4 sub-blocks of 100 ms; short-term blocks 30, every 10.
const GATING_SUBBLOCKS: usize = 4;
const SHORT_TERM_SUBBLOCKS: usize = 30;
const SHORT_TERM_HOP: usize = 10;
/// Taps of the true-peak interpolator, over all phases.
const TP_TAPS: usize = 48;
/// Frames examined at once by the true-peak scanner's quiet test.
const TP_BLOCK: usize = 64;
/// Filter states below this are flushed to zero (they are far below any audible level, and
/// denormal arithmetic is slow).
const FLUSH: f64 = 1e-200;

/// Which figures a [`FastMeter`] computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Figures {
    /// Integrated loudness (K-weighting and gating).
    pub integrated: bool,
    pub loudness_range: bool,
    pub true_peak: bool,
    pub sample_peak: bool,
}

impl Figures {
    /// Integrated loudness alone.
    pub const INTEGRATED: Figures = Figures {
        integrated: true,
        loudness_range: false,
        true_peak: false,
        sample_peak: false,
    };
    /// Everything [`Loudness`] holds.
    pub const ALL: Figures = Figures {
        integrated: true,
        loudness_range: true,
        true_peak: true,
        sample_peak: true,
    };
    /// Integrated loudness and loudness range (the K-weighted figures).
    pub const LOUDNESS: Figures = Figures {
        true_peak: false,
        sample_peak: false,
        ..Figures::ALL
    };
    /// True peak and sample peak (no K-weighting).
    pub const PEAKS: Figures = Figures {
        integrated: false,
        loudness_range: false,
        ..Figures::ALL
    };
}

/// Streaming meter: feed interleaved samples with [`FastMeter::add`] in chunks of any size.
#[derive(Debug, Clone)]
pub struct FastMeter {
    channels: usize,
    /// BS.1770 channel weights (0 for channels that do not count, such as LFE).
    weights: Vec<f64>,
    b: [f64; 5],
    a: [f64; 5],
    /// Per channel, the last four values of the recursive part (s1 … s4).
    state: Vec<[f64; 4]>,
    /// Frames in 100 ms, as `ebur128` rounds it.
    subblock: usize,
    /// Whether the K-weighted figures are computed at all.
    loudness: bool,
    /// Frames in the current sub-block so far, and per channel their sum of squares.
    filled: usize,
    sums: Vec<f64>,
    /// The last 30 sub-block energies (channel-weighted sums of squares), oldest first once
    /// `completed` reaches 30.
    ring: [f64; SHORT_TERM_SUBBLOCKS],
    completed: usize,
    /// Gating-block energies over the absolute gate.
    blocks: Vec<f64>,
    /// Short-term energies over the absolute gate (loudness range), when asked for.
    short_terms: Option<Vec<f64>>,
    true_peak: Option<TruePeak>,
    sample_peak: Option<Vec<f32>>,
    /// Holds an incomplete frame over to the next [`FastMeter::add`].
    frames: WholeFrames,
    /// For K-weighting one channel (see [`split_step`]).
    scratch: Option<Scratch>,
}

/// The K-weighting filter as one fourth-order section (numerator, denominator), exactly as
/// `ebur128` computes it for `rate`.
#[allow(non_snake_case)]
fn k_weighting(rate: f64) -> ([f64; 5], [f64; 5]) {
    let f0 = 1681.974450955533;
    let G = 3.999843853973347;
    let Q = 0.7071752369554196;
    let K = f64::tan(std::f64::consts::PI * f0 / rate);
    let Vh = f64::powf(10.0, G / 20.0);
    let Vb = f64::powf(Vh, 0.4996667741545416);
    let rb = [1.0, -2.0, 1.0];
    let a0 = 1.0 + K / Q + K * K;
    let pb = [
        (Vh + Vb * K / Q + K * K) / a0,
        2.0 * (K * K - Vh) / a0,
        (Vh - Vb * K / Q + K * K) / a0,
    ];
    let pa = [1.0, 2.0 * (K * K - 1.0) / a0, (1.0 - K / Q + K * K) / a0];
    let f0 = 38.13547087602444;
    let Q = 0.5003270373238773;
    let K = f64::tan(std::f64::consts::PI * f0 / rate);
    let ra = [
        1.0,
        2.0 * (K * K - 1.0) / (1.0 + K / Q + K * K),
        (1.0 - K / Q + K * K) / (1.0 + K / Q + K * K),
    ];
    (
        [
            pb[0] * rb[0],
            pb[0] * rb[1] + pb[1] * rb[0],
            pb[0] * rb[2] + pb[1] * rb[1] + pb[2] * rb[0],
            pb[1] * rb[2] + pb[2] * rb[1],
            pb[2] * rb[2],
        ],
        [
            pa[0] * ra[0],
            pa[0] * ra[1] + pa[1] * ra[0],
            pa[0] * ra[2] + pa[1] * ra[1] + pa[2] * ra[0],
            pa[1] * ra[2] + pa[2] * ra[1],
            pa[2] * ra[2],
        ],
    )
}

/// `ebur128`'s default channel map as weights: L R C LFE Ls Rs (LFE ignored, surrounds
/// +1.5 dB); four channels are L R Ls Rs, five L R C Ls Rs; channels past the sixth ignored.
fn channel_weights(channels: usize) -> Vec<f64> {
    const SURROUND: f64 = 1.41;
    match channels {
        4 => vec![1.0, 1.0, SURROUND, SURROUND],
        5 => vec![1.0, 1.0, 1.0, SURROUND, SURROUND],
        n => {
            let map = [1.0, 1.0, 1.0, 0.0, SURROUND, SURROUND];
            (0..n).map(|c| map.get(c).copied().unwrap_or(0.0)).collect()
        }
    }
}

/// Samples [`split_step`] takes at once.
const SPLIT_RUN: usize = 1024;

/// The K-weighting step of [`FastMeter::filter`] over `run` (one channel), with the same
/// arithmetic in the same order, but in two loops: the recursion alone (the part that
/// must go sample by sample), then the feed-forward sums and squares, which vectorise.
fn split_step(
    a: &[f64; 5],
    b: &[f64; 5],
    s: &mut [f64; 4],
    sum: &mut f64,
    run: &[f32],
    scratch: &mut Scratch,
) {
    debug_assert!(run.len() <= SPLIT_RUN);
    let Scratch { w, squares } = scratch;
    let (w, squares) = (&mut w[..run.len() + 4], &mut squares[..run.len()]);
    // w[k + 4] is the recursive value of sample k; w[0..4] the four before the run, oldest
    // first (s is newest first).
    w[..4].copy_from_slice(&[s[3], s[2], s[1], s[0]]);
    let [mut s4, mut s3, mut s2, mut s1] = [s[3], s[2], s[1], s[0]];
    for (v, &x) in w[4..].iter_mut().zip(run) {
        let t = f64::from(x) - a[4] * s4 - a[3] * s3 - a[2] * s2;
        let s0 = t - a[1] * s1;
        *v = s0;
        (s4, s3, s2, s1) = (s3, s2, s1, s0);
    }
    *s = [s1, s2, s3, s4];
    for (k, q) in squares.iter_mut().enumerate() {
        let y = b[0] * w[k + 4] + b[1] * w[k + 3] + b[2] * w[k + 2] + b[3] * w[k + 1] + b[4] * w[k];
        *q = y * y;
    }
    // In order, as the sample-by-sample loop adds them.
    *sum = squares.iter().fold(*sum, |acc, q| acc + q);
}

/// Working space of [`split_step`], kept between calls (allocated on first use).
#[derive(Debug, Clone)]
struct Scratch {
    w: Vec<f64>,
    squares: Vec<f64>,
}

impl Scratch {
    fn new() -> Self {
        Scratch {
            w: vec![0.0; SPLIT_RUN + 4],
            squares: vec![0.0; SPLIT_RUN],
        }
    }
}

/// Loudness of a block's mean energy, LUFS.
fn energy_to_loudness(energy: f64) -> f64 {
    10.0 * energy.log10() - 0.691
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// Raises each of `peaks` (one per channel) to the largest |sample| of its channel in the
/// interleaved `samples` (whole frames). NaN is ignored, as `ebur128` ignores it.
pub fn fold_peaks(samples: &[f32], peaks: &mut [f32]) {
    const LANES: usize = 16;
    let ch = peaks.len();
    let mut raise = |c: usize, a: f32| {
        if a > peaks[c] {
            peaks[c] = a;
        }
    };
    if ch > 0 && LANES % ch == 0 {
        // Lane i always holds channel i % ch, so the loop vectorises.
        let mut lanes = [0f32; LANES];
        let mut chunks = samples.chunks_exact(LANES);
        for chunk in &mut chunks {
            for (l, x) in lanes.iter_mut().zip(chunk) {
                let a = x.abs();
                if a > *l {
                    *l = a;
                }
            }
        }
        for (i, x) in chunks.remainder().iter().enumerate() {
            raise(i % ch, x.abs());
        }
        for (i, l) in lanes.into_iter().enumerate() {
            raise(i % ch, l);
        }
    } else {
        for (i, x) in samples.iter().enumerate() {
            raise(i % ch.max(1), x.abs());
        }
    }
}

impl FastMeter {
    /// A meter for integrated loudness and the chosen `figures`.
    pub fn new(sample_rate: u32, channels: u16, figures: Figures) -> Result<Self> {
        if channels == 0 || channels > 64 || !(16..=2_822_400).contains(&sample_rate) {
            return Err(Error::new(format!(
                "cannot measure loudness of audio at {sample_rate} Hz with {channels} channel(s)"
            ))
            .with_fix("use audio with 1 to 64 channels and a sample rate of at least 16 Hz"));
        }
        let n = usize::from(channels);
        let (b, a) = k_weighting(f64::from(sample_rate));
        Ok(FastMeter {
            channels: n,
            weights: channel_weights(n),
            b,
            a,
            state: vec![[0.0; 4]; n],
            subblock: (sample_rate as usize + 5) / 10,
            loudness: figures.integrated || figures.loudness_range,
            filled: 0,
            sums: vec![0.0; n],
            ring: [0.0; SHORT_TERM_SUBBLOCKS],
            completed: 0,
            blocks: Vec::new(),
            short_terms: figures.loudness_range.then(Vec::new),
            true_peak: if figures.true_peak {
                TruePeak::new(sample_rate, n)
            } else {
                None
            },
            sample_peak: figures.sample_peak.then(|| vec![0.0; n]),
            frames: WholeFrames::new(channels),
            scratch: None,
        })
    }

    /// Adds interleaved samples; a trailing partial frame is kept for the next call.
    pub fn add(&mut self, samples: &[f32]) {
        let mut frames = std::mem::take(&mut self.frames);
        frames.split(samples, |f| self.add_frames(f));
        self.frames = frames;
    }

    fn add_frames(&mut self, frames: &[f32]) {
        if frames.is_empty() {
            return;
        }
        if let Some(peaks) = &mut self.sample_peak {
            fold_peaks(frames, peaks);
        }
        if let Some(tp) = &mut self.true_peak {
            tp.add(frames);
        }
        if !self.loudness {
            return;
        }
        let mut rest = frames;
        while !rest.is_empty() {
            let take = ((self.subblock - self.filled) * self.channels).min(rest.len());
            let (run, next) = rest.split_at(take);
            self.filter(run);
            self.filled += take / self.channels;
            rest = next;
            if self.filled == self.subblock {
                self.end_subblock();
            }
        }
    }

    /// K-weights `run` (whole frames within one sub-block) and adds its squares to the sums.
    fn filter(&mut self, run: &[f32]) {
        let (b, a) = (self.b, self.a);
        let settled = self.state.iter().all(|s| s.iter().all(|&v| v == 0.0));
        if settled && run.iter().all(|&x| x == 0.0) {
            return;
        }
        let step = |s: &mut [f64; 4], x: f32| -> f64 {
            // s0 = x − a1·s1 − a2·s2 − a3·s3 − a4·s4, with a1·s1 (the only term that
            // depends on the previous output) added last.
            let t = f64::from(x) - a[4] * s[3] - a[3] * s[2] - a[2] * s[1];
            let s0 = t - a[1] * s[0];
            let y = b[0] * s0 + b[1] * s[0] + b[2] * s[1] + b[3] * s[2] + b[4] * s[3];
            *s = [s0, s[0], s[1], s[2]];
            y
        };
        match self.channels {
            // The running sums continue across calls, so that how the audio is cut into
            // chunks changes nothing, not even rounding.
            1 => {
                let (s, sum) = (&mut self.state[0], &mut self.sums[0]);
                let scratch = self.scratch.get_or_insert_with(Scratch::new);
                for piece in run.chunks(SPLIT_RUN) {
                    split_step(&a, &b, s, sum, piece, scratch);
                }
            }
            2 => {
                let (mut l, mut r) = (self.state[0], self.state[1]);
                let (mut sl, mut sr) = (self.sums[0], self.sums[1]);
                for frame in run.chunks_exact(2) {
                    let yl = step(&mut l, frame[0]);
                    let yr = step(&mut r, frame[1]);
                    sl += yl * yl;
                    sr += yr * yr;
                }
                self.state[0] = l;
                self.state[1] = r;
                self.sums[0] = sl;
                self.sums[1] = sr;
            }
            n => {
                for c in 0..n {
                    if self.weights[c] == 0.0 {
                        continue;
                    }
                    let mut s = self.state[c];
                    let mut sum = self.sums[c];
                    for &x in run.iter().skip(c).step_by(n) {
                        let y = step(&mut s, x);
                        sum += y * y;
                    }
                    self.state[c] = s;
                    self.sums[c] = sum;
                }
            }
        }
    }

    fn end_subblock(&mut self) {
        let energy: f64 = self
            .sums
            .iter()
            .zip(&self.weights)
            .map(|(s, w)| s * w)
            .sum();
        self.sums.iter_mut().for_each(|s| *s = 0.0);
        self.filled = 0;
        for s in self.state.iter_mut().flatten() {
            if s.abs() < FLUSH {
                *s = 0.0;
            }
        }
        self.ring[self.completed % SHORT_TERM_SUBBLOCKS] = energy;
        self.completed += 1;
        let n = self.completed;
        let last = |count: usize, ring: &[f64; SHORT_TERM_SUBBLOCKS]| -> f64 {
            (n - count..n)
                .map(|j| ring[j % SHORT_TERM_SUBBLOCKS])
                .sum::<f64>()
                / (count * self.subblock) as f64
        };
        if n >= GATING_SUBBLOCKS {
            let block = last(GATING_SUBBLOCKS, &self.ring);
            if block >= ABSOLUTE_GATE {
                self.blocks.push(block);
            }
        }
        if n >= SHORT_TERM_SUBBLOCKS && (n - SHORT_TERM_SUBBLOCKS) % SHORT_TERM_HOP == 0 {
            let short_term = last(SHORT_TERM_SUBBLOCKS, &self.ring);
            if let Some(list) = &mut self.short_terms {
                if short_term >= ABSOLUTE_GATE {
                    list.push(short_term);
                }
            }
        }
    }

    /// Gated integrated loudness of everything added so far, LUFS (`None`: silence, or
    /// shorter than one gating block).
    pub fn integrated_lufs(&self) -> Option<f64> {
        if self.blocks.is_empty() {
            return None;
        }
        let mean = self.blocks.iter().sum::<f64>() / self.blocks.len() as f64;
        let relative = mean * 0.1;
        let (count, sum) = self
            .blocks
            .iter()
            .filter(|&&e| e >= relative)
            .fold((0u64, 0.0), |(n, s), &e| (n + 1, s + e));
        if count == 0 {
            return None;
        }
        finite(energy_to_loudness(sum / count as f64))
    }

    /// Largest |sample| over all channels, when the meter measures sample peaks.
    pub fn sample_peak(&self) -> Option<f32> {
        let peaks = self.sample_peak.as_deref()?;
        Some(peaks.iter().fold(0.0, |m: f32, &p| m.max(p)))
    }

    /// Loudness range (EBU Tech 3342) as `ebur128` computes it, LU.
    fn loudness_range(&self) -> f64 {
        let Some(list) = &self.short_terms else {
            return 0.0;
        };
        if list.is_empty() {
            return 0.0;
        }
        let mut q = list.clone();
        q.sort_unstable_by(f64::total_cmp);
        let power = q.iter().sum::<f64>() / q.len() as f64;
        let gate = 0.01 * power;
        let below = q.iter().take_while(|&&v| v < gate).count();
        let Some(top) = (q.len() - below).checked_sub(1) else {
            return 0.0;
        };
        let top = top as f64;
        let high = q[below + (top * 0.95 + 0.5) as usize];
        let low = q[below + (top * 0.1 + 0.5) as usize];
        finite(energy_to_loudness(high) - energy_to_loudness(low)).unwrap_or(0.0)
    }

    /// The figures of two meters fed the same audio: the K-weighted ones of `self`, the
    /// peaks of `peaks`.
    pub fn with_peaks_of(&self, peaks: &FastMeter) -> Loudness {
        let p = peaks.loudness();
        Loudness {
            true_peak_dbtp: p.true_peak_dbtp,
            sample_peak_dbfs: p.sample_peak_dbfs,
            ..self.loudness()
        }
    }

    /// The figures for everything added so far (an incomplete last frame is ignored).
    pub fn loudness(&self) -> Loudness {
        let db = |peaks: &[f32]| {
            let max = peaks.iter().map(|&p| f64::from(p)).fold(0.0, f64::max);
            finite(20.0 * max.log10())
        };
        Loudness {
            integrated_lufs: self.integrated_lufs(),
            true_peak_dbtp: self.true_peak.as_ref().and_then(|tp| db(&tp.peaks)),
            loudness_range_lu: self.loudness_range(),
            sample_peak_dbfs: self.sample_peak.as_deref().and_then(db),
        }
    }
}

/// `ebur128`'s true-peak scan (its interpolator and arithmetic), skipping what cannot
/// raise the peak.
#[derive(Debug, Clone)]
struct TruePeak {
    channels: usize,
    /// Taps per phase.
    taps: usize,
    /// `coeffs[k][p]`: tap k (k = 0 the newest sample) of phase p; phases past `factor`
    /// are zero (so that every tap is one 4-lane multiply-add).
    coeffs: Vec<[f32; 4]>,
    /// An interpolated value is at most this times the largest |sample| under the filter.
    bound: f32,
    /// Per channel, the last `taps` samples, newest first, written twice so that any
    /// window is contiguous: `history[c][pos .. pos + taps]`.
    history: Vec<Vec<f32>>,
    pos: usize,
    peaks: Vec<f32>,
    /// Per channel, the loudest sample of the block being looked at.
    loudest: Vec<f32>,
}

impl TruePeak {
    fn new(rate: u32, channels: usize) -> Option<Self> {
        let factor = if rate < 96_000 {
            4
        } else if rate < 192_000 {
            2
        } else {
            return None;
        };
        let taps = TP_TAPS / factor;
        let window = TP_TAPS as f64;
        let coeffs: Vec<f32> = (0..TP_TAPS)
            .map(|j| {
                let j = j as f64;
                let w = 0.5 * (1.0 - f64::cos(2.0 * std::f64::consts::PI * j / window));
                let m = j - window / 2.0;
                (if m.abs() > 0.000001 {
                    let x = m * std::f64::consts::PI / factor as f64;
                    w * x.sin() / x
                } else {
                    w
                }) as f32
            })
            .collect();
        let bound = (0..factor)
            .map(|p| {
                (0..taps)
                    .map(|k| f64::from(coeffs[k * factor + p].abs()))
                    .sum::<f64>()
            })
            .fold(0.0, f64::max);
        let coeffs = (0..taps)
            .map(|k| {
                let mut lanes = [0f32; 4];
                lanes[..factor].copy_from_slice(&coeffs[k * factor..(k + 1) * factor]);
                lanes
            })
            .collect();
        Some(TruePeak {
            channels,
            taps,
            coeffs,
            // Headroom for f32 rounding in the dot products.
            bound: (bound * 1.001) as f32,
            history: vec![vec![0.0; 2 * taps]; channels],
            pos: taps,
            peaks: vec![0.0; channels],
            loudest: vec![0.0; channels],
        })
    }

    fn push(&mut self, frame: &[f32]) {
        self.pos = if self.pos == 0 {
            self.taps - 1
        } else {
            self.pos - 1
        };
        for (h, &x) in self.history.iter_mut().zip(frame) {
            h[self.pos] = x;
            h[self.pos + self.taps] = x;
        }
    }

    fn add(&mut self, frames: &[f32]) {
        let ch = self.channels;
        for block in frames.chunks(TP_BLOCK * ch) {
            // The largest |sample| that any interpolation in this block can see: the block
            // itself and the history before it.
            self.loudest.iter_mut().for_each(|l| *l = 0.0);
            fold_peaks(block, &mut self.loudest);
            let mut quiet = true;
            for c in 0..ch {
                let window = &self.history[c][self.pos..self.pos + self.taps - 1];
                let loudest = window.iter().fold(self.loudest[c], |m, x| m.max(x.abs()));
                if loudest * self.bound > self.peaks[c] {
                    quiet = false;
                    break;
                }
            }
            if quiet {
                let frames = block.len() / ch;
                let skip = frames.saturating_sub(self.taps);
                for frame in block[skip * ch..].chunks_exact(ch) {
                    self.push(frame);
                }
                continue;
            }
            for frame in block.chunks_exact(ch) {
                self.push(frame);
                for c in 0..ch {
                    let window = &self.history[c][self.pos..self.pos + self.taps];
                    // Each lane is one phase, summed over the taps in order, as `ebur128`
                    // does (so the figures are bit for bit the same).
                    let mut out = [0f32; 4];
                    for (&x, row) in window.iter().zip(&self.coeffs) {
                        for p in 0..4 {
                            out[p] += x * row[p];
                        }
                    }
                    for o in out {
                        if o.abs() > self.peaks[c] {
                            self.peaks[c] = o.abs();
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::Audio;
    use crate::loudness::measure;

    /// Noise bursts of varying level with exact silences: exercises the gates, the quiet
    /// skips and the silence fast path.
    fn programme(rate: u32, channels: u16, seconds: f64, seed: u64) -> Audio {
        let frames = (seconds * f64::from(rate)) as usize;
        let mut state = seed;
        let mut samples = Vec::with_capacity(frames * usize::from(channels));
        for i in 0..frames {
            let t = i as f64 / f64::from(rate);
            let level = match (t * 1.3) as u64 % 5 {
                0 => 0.0,
                1 => 0.02,
                2 => 0.3,
                3 => 0.9,
                _ => 0.001,
            };
            for c in 0..channels {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let noise = ((state >> 40) as f64 / (1u64 << 24) as f64) * 2.0 - 1.0;
                let tone = (2.0 * std::f64::consts::PI * 440.0 * t + f64::from(c)).sin();
                samples.push((level * (0.5 * tone + 0.5 * noise)) as f32);
            }
        }
        Audio {
            sample_rate: rate,
            channels,
            samples,
        }
    }

    fn fast(audio: &Audio, chunk: usize) -> Loudness {
        let mut m = FastMeter::new(audio.sample_rate, audio.channels, Figures::ALL).unwrap();
        for c in audio.samples.chunks(chunk) {
            m.add(c);
        }
        m.loudness()
    }

    fn close(a: Option<f64>, b: Option<f64>, what: &str) {
        match (a, b) {
            (Some(a), Some(b)) => assert!((a - b).abs() < 1e-9, "{what}: {a} vs {b}"),
            (a, b) => assert_eq!(a, b, "{what}"),
        }
    }

    #[test]
    fn same_figures_as_ebur128() {
        for (rate, channels, seconds) in [
            (44100, 1, 17.3),
            (48000, 2, 12.0),
            (8000, 1, 9.5),
            (22050, 2, 6.1),
            (96000, 1, 4.0),
            (48000, 6, 5.0),
            (44100, 5, 4.2),
            (44100, 1, 0.3),
        ] {
            let a = programme(
                rate,
                channels,
                seconds,
                u64::from(rate) + u64::from(channels),
            );
            let reference = measure(&a).unwrap();
            let whole = fast(&a, a.samples.len().max(1));
            for chunk in [1usize, 333, 1 << 16] {
                let got = fast(
                    &a,
                    chunk * usize::from(channels) + usize::from(chunk == 333),
                );
                let what = format!("{rate} Hz × {channels}, chunk {chunk}");
                close(got.integrated_lufs, reference.integrated_lufs, &what);
                assert!(
                    (got.loudness_range_lu - reference.loudness_range_lu).abs() < 1e-9,
                    "{what}: LRA {got:?} vs {reference:?}"
                );
                assert_eq!(got.true_peak_dbtp, reference.true_peak_dbtp, "{what}");
                assert_eq!(got.sample_peak_dbfs, reference.sample_peak_dbfs, "{what}");
                assert_eq!(got, whole, "{what}: chunking changed the figures");
            }
        }
    }

    #[test]
    fn loudness_and_peaks_apart_give_the_figures_of_one_meter() {
        let a = programme(48000, 2, 7.0, 3);
        let mut loud = FastMeter::new(48000, 2, Figures::LOUDNESS).unwrap();
        let mut peaks = FastMeter::new(48000, 2, Figures::PEAKS).unwrap();
        loud.add(&a.samples);
        peaks.add(&a.samples);
        assert_eq!(peaks.loudness().integrated_lufs, None);
        assert_eq!(loud.with_peaks_of(&peaks), fast(&a, 4096));
    }

    #[test]
    fn silence_has_no_figures() {
        let a = Audio::silence(44100, 2, 44100 * 2);
        let got = fast(&a, 4096);
        assert_eq!(got, measure(&a).unwrap());
        assert_eq!(got.integrated_lufs, None);
    }

    #[test]
    fn the_absolute_gate_is_minus_70_lufs() {
        assert!((energy_to_loudness(ABSOLUTE_GATE) + 70.0).abs() < 1e-9);
    }

    #[test]
    fn bad_formats_are_errors() {
        assert!(FastMeter::new(44100, 0, Figures::ALL).is_err());
        assert!(FastMeter::new(8, 1, Figures::ALL).is_err());
    }
}

#[cfg(test)]
mod speed {
    use super::*;

    #[test]
    #[ignore = "benchmark: cargo test --release --lib meter::speed -- --ignored --nocapture"]
    fn against_ebur128() {
        let rate = 44100;
        let mut state = 1u64;
        let samples: Vec<f32> = (0..rate as usize * 600)
            .map(|i| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let t = i as f64 / f64::from(rate);
                let env = (2.0 * std::f64::consts::PI * 4.0 * t)
                    .sin()
                    .max(0.0)
                    .powi(2);
                let n = ((state >> 40) as f64 / (1u64 << 24) as f64) * 2.0 - 1.0;
                let f0 = 2.0 * std::f64::consts::PI * 120.0 * t;
                let voice: f64 = (1..30)
                    .map(|h| (f0 * f64::from(h)).sin() / f64::from(h))
                    .sum();
                (env * (0.3 * voice + 0.05 * n)) as f32
            })
            .collect();
        let tp = Figures {
            true_peak: true,
            ..Figures::INTEGRATED
        };
        let sp = Figures {
            sample_peak: true,
            ..Figures::INTEGRATED
        };
        let lra = Figures {
            loudness_range: true,
            ..Figures::INTEGRATED
        };
        for figures in [Figures::INTEGRATED, tp, sp, lra, Figures::ALL] {
            let t = std::time::Instant::now();
            let mut m = FastMeter::new(rate, 1, figures).unwrap();
            for c in samples.chunks(8192) {
                m.add(c);
            }
            let l = m.loudness();
            println!("fast {figures:?}: {:.3} s {l:?}", t.elapsed().as_secs_f64());
        }
        let t = std::time::Instant::now();
        let mut m = crate::loudness::Meter::integrated_only(rate, 1).unwrap();
        for c in samples.chunks(8192) {
            m.add(c);
        }
        println!("ebur128 I: {:.3} s", t.elapsed().as_secs_f64());
        let t = std::time::Instant::now();
        let mut m = crate::loudness::Meter::new(rate, 1).unwrap();
        for c in samples.chunks(8192) {
            m.add(c);
        }
        println!(
            "ebur128 all (one thread): {:.3} s {:?}",
            t.elapsed().as_secs_f64(),
            m.loudness()
        );
    }
}

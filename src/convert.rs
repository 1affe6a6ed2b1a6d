//! Sample-rate and channel conversion.
//!
//! Channels are mixed with fixed gains (see [`mix_gains`]); rates are converted with rubato's
//! FFT resampler in `f64` with a long Blackman-Harris² windowed-sinc filter (1 kHz test tones
//! come out with THD+N near −140 dB). The resampler's delay is removed, so the output is
//! time-aligned with the input, and it has exactly `round(frames × out_rate / in_rate)` frames.
//! The same rate and channel count return the input untouched.

use rubato::audioadapter_buffers::number_to_float::InterleavedNumbers;
use rubato::{Fft, FixedSync, Indexing, Resampler, WindowFunction};

use crate::audio::Audio;
use crate::error::{Error, Result};

/// Input frames per FFT block, roughly; rounded up to what the rate pair allows. Longer blocks
/// give a longer filter with a sharper cut-off; 4096 keeps the passband flat to ~0.98 × Nyquist.
const TARGET_BLOCK: usize = 4096;

/// −3 dB, for centre and surround channels folded into stereo.
const MINUS_3DB: f32 = std::f32::consts::FRAC_1_SQRT_2;

/// Converts `audio` to `sample_rate` and `channels` (see [`Converter`]).
pub fn convert(audio: Audio, sample_rate: u32, channels: u16) -> Result<Audio> {
    if audio.samples.len() % usize::from(audio.channels.max(1)) != 0 {
        return Err(Error::new(format!(
            "audio buffer of {} samples is not a whole number of {}-channel frames",
            audio.samples.len(),
            audio.channels
        ))
        .with_fix("this is a bug in narrate: please report it with the input files"));
    }
    let mut converter = Converter::new(audio.sample_rate, audio.channels, sample_rate, channels)?;
    if converter.is_identity() {
        return Ok(audio);
    }
    let frames = audio.frames();
    let mut samples = Vec::with_capacity(
        usize::try_from(converted_frames(frames, audio.sample_rate, sample_rate))
            .unwrap_or(0)
            .saturating_mul(usize::from(channels)),
    );
    converter.push(&audio.samples, &mut samples)?;
    drop(audio);
    converter.finish(&mut samples)?;
    Ok(Audio {
        sample_rate,
        channels,
        samples,
    })
}

/// Converts a stream of interleaved frames to another rate and channel count, a chunk at a
/// time, with memory that does not grow with the stream: the output of [`Converter::push`]
/// calls followed by [`Converter::finish`] is, sample for sample, that of one call on the
/// whole stream, however it was cut.
///
/// Channels are mixed first when their number goes down and last when it goes up, so the
/// resampler always works on the fewer channels.
pub struct Converter {
    /// Gains of a mix before resampling (fewer channels) or after (more).
    mix_before: Option<Mix>,
    mix_after: Option<Mix>,
    resampler: Option<Resampling>,
    /// Samples between the stages.
    mixed: Vec<f32>,
    resampled: Vec<f32>,
}

impl Converter {
    /// A converter from `from_rate` Hz, `from_channels` to `to_rate` Hz, `to_channels`.
    pub fn new(from_rate: u32, from_channels: u16, to_rate: u32, to_channels: u16) -> Result<Self> {
        if to_rate == 0 || to_channels == 0 {
            return Err(Error::new(format!(
                "cannot convert audio to {to_rate} Hz with {to_channels} channels"
            ))
            .with_fix("use a sample rate above 0 Hz and at least one channel in the profile"));
        }
        if from_rate == 0 || from_channels == 0 {
            return Err(Error::new(format!(
                "cannot convert audio that claims {from_rate} Hz and {from_channels} channels"
            ))
            .with_fix("the clip's header is damaged: export the recording again"));
        }
        let mix = |to| Mix::new(from_channels, to);
        let (mix_before, mix_after) = match to_channels.cmp(&from_channels) {
            std::cmp::Ordering::Less => (Some(mix(to_channels)), None),
            std::cmp::Ordering::Greater => (None, Some(mix(to_channels))),
            std::cmp::Ordering::Equal => (None, None),
        };
        let resampler = (from_rate != to_rate)
            .then(|| Resampling::new(from_rate, to_rate, from_channels.min(to_channels)))
            .transpose()?;
        Ok(Converter {
            mix_before,
            mix_after,
            resampler,
            mixed: Vec::new(),
            resampled: Vec::new(),
        })
    }

    /// Whether the output is the input (same rate and channels).
    pub fn is_identity(&self) -> bool {
        self.mix_before.is_none() && self.mix_after.is_none() && self.resampler.is_none()
    }

    /// Converts `input` (whole frames), appending what is ready to `out`.
    pub fn push(&mut self, input: &[f32], out: &mut Vec<f32>) -> Result<()> {
        self.stage(Some(input), out)
    }

    /// Appends the rest of the output: the stream has ended.
    pub fn finish(&mut self, out: &mut Vec<f32>) -> Result<()> {
        self.stage(None, out)
    }

    /// Runs `input` (or the end of the stream) through mix, resampler and mix.
    fn stage(&mut self, input: Option<&[f32]>, out: &mut Vec<f32>) -> Result<()> {
        let mixed: &[f32] = match (&self.mix_before, input) {
            (Some(mix), Some(input)) => {
                self.mixed.clear();
                mix.apply(input, &mut self.mixed);
                &self.mixed
            }
            (_, Some(input)) => input,
            (_, None) => &[],
        };
        let Some(resampler) = &mut self.resampler else {
            match &self.mix_after {
                Some(mix) => mix.apply(mixed, out),
                None => out.extend_from_slice(mixed),
            }
            return Ok(());
        };
        let target: &mut Vec<f32> = if self.mix_after.is_some() {
            self.resampled.clear();
            &mut self.resampled
        } else {
            out
        };
        match input {
            Some(_) => resampler.push(mixed, target)?,
            None => resampler.finish(target)?,
        }
        if let Some(mix) = &self.mix_after {
            mix.apply(&self.resampled, out);
        }
        Ok(())
    }
}

/// A fixed channel mix ([`mix_gains`]).
struct Mix {
    inputs: usize,
    gains: Vec<Vec<f32>>,
}

impl Mix {
    fn new(from: u16, to: u16) -> Mix {
        Mix {
            inputs: usize::from(from),
            gains: mix_gains(from, to),
        }
    }

    fn apply(&self, input: &[f32], out: &mut Vec<f32>) {
        out.reserve(input.len() / self.inputs * self.gains.len());
        for frame in input.chunks_exact(self.inputs) {
            for row in &self.gains {
                out.push(row.iter().zip(frame).map(|(g, x)| g * x).sum());
            }
        }
    }
}

/// The gain from each input channel to each output channel: `gains[out][in]`.
///
/// Channel order is WAV's: front left, front right, centre, LFE, back left, back right, …
/// - same count: identity;
/// - to mono: the average of all channels;
/// - from mono: the same signal in every channel;
/// - to stereo from 3 or more: ITU-R BS.775 fold-down, L = FL + C/√2 + (surrounds on the
///   left)/√2, likewise R; LFE is dropped; surrounds alternate left, right;
/// - stereo to 3 or more: L and R to the front pair, the other channels silent;
/// - any other pair of counts: channel i to channel i, extra outputs silent, extra inputs dropped.
pub fn mix_gains(from: u16, to: u16) -> Vec<Vec<f32>> {
    let (n, m) = (usize::from(from), usize::from(to));
    let mut g = vec![vec![0.0f32; n]; m];
    if n == m {
        (0..n).for_each(|i| g[i][i] = 1.0);
    } else if m == 1 {
        g[0].iter_mut().for_each(|x| *x = 1.0 / n as f32);
    } else if n == 1 {
        g.iter_mut().for_each(|row| row[0] = 1.0);
    } else if m == 2 {
        g[0][0] = 1.0;
        g[1][1] = 1.0;
        if n > 2 {
            g[0][2] = MINUS_3DB;
            g[1][2] = MINUS_3DB;
        }
        // Index 3 is LFE: dropped. Surrounds from 4 on alternate left, right.
        for i in 4..n {
            g[(i - 4) % 2][i] = MINUS_3DB;
        }
    } else {
        (0..n.min(m)).for_each(|i| g[i][i] = 1.0);
    }
    g
}

/// Number of frames after converting `frames` from `from` Hz to `to` Hz, rounded to nearest.
pub fn converted_frames(frames: u64, from: u32, to: u32) -> u64 {
    let (frames, from, to) = (u128::from(frames), u128::from(from), u128::from(to));
    ((frames * to + from / 2) / from.max(1)) as u64
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Rate conversion with rubato's FFT resampler, fed a block at a time, its delay removed
/// and the length exact: `round(frames × out_rate / in_rate)` frames.
struct Resampling {
    resampler: Fft<f64>,
    from: u32,
    to: u32,
    channels: usize,
    /// Input frames per block.
    block: usize,
    /// Input waiting for a whole block.
    pending: Vec<f32>,
    /// One block's output.
    output: Vec<f32>,
    /// Output frames still to drop (the filter's delay).
    delay: usize,
    frames_in: u64,
    frames_out: u64,
}

impl Resampling {
    fn new(from: u32, to: u32, channels: u16) -> Result<Resampling> {
        let channels = usize::from(channels);
        // An even number of minimal blocks keeps both FFT sizes even, so the filter's centre
        // (and the delay rubato reports) falls on a whole output frame: no half-sample shift.
        let min_in = from as usize / gcd(from as usize, to as usize);
        let blocks = TARGET_BLOCK.div_ceil(2 * min_in).max(1) * 2;
        let resampler = Fft::<f64>::new_custom(
            from as usize,
            to as usize,
            blocks * min_in,
            1,
            channels,
            WindowFunction::BlackmanHarris2,
            FixedSync::Input,
        )
        .map_err(|e| resample_error(from, to, &e))?;
        let block = resampler.input_frames_next();
        let output = vec![0.0; resampler.output_frames_max() * channels];
        Ok(Resampling {
            delay: resampler.output_delay(),
            resampler,
            from,
            to,
            channels,
            block,
            pending: Vec::with_capacity(block * channels),
            output,
            frames_in: 0,
            frames_out: 0,
        })
    }

    fn push(&mut self, input: &[f32], out: &mut Vec<f32>) -> Result<()> {
        self.frames_in += (input.len() / self.channels) as u64;
        let whole = self.block * self.channels;
        let mut rest = input;
        while !rest.is_empty() {
            if self.pending.is_empty() && rest.len() >= whole {
                // A whole block straight from the input, without copying it.
                let (block, next) = rest.split_at(whole);
                self.run(Source::Input(block), None, out)?;
                rest = next;
                continue;
            }
            let take = (whole - self.pending.len()).min(rest.len());
            self.pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.pending.len() == whole {
                self.run(Source::Pending, None, out)?;
                self.pending.clear();
            }
        }
        Ok(())
    }

    /// The last partial block, then silence until the output has its exact length.
    fn finish(&mut self, out: &mut Vec<f32>) -> Result<()> {
        let total = converted_frames(self.frames_in, self.from, self.to);
        if self.frames_in == 0 {
            return Ok(());
        }
        let partial = self.pending.len() / self.channels;
        self.pending.resize(self.block * self.channels, 0.0);
        if partial > 0 {
            self.run(Source::Pending, Some(partial), out)?;
        }
        while self.frames_out < total {
            self.run(Source::Pending, Some(0), out)?;
        }
        let excess = usize::try_from(self.frames_out - total).unwrap_or(usize::MAX);
        out.truncate(out.len() - excess * self.channels);
        self.frames_out = total;
        self.pending.clear();
        Ok(())
    }

    /// One block through the resampler (`partial`: how many of its frames are real), its
    /// output appended to `out` once the delay is dropped.
    fn run(&mut self, source: Source, partial: Option<usize>, out: &mut Vec<f32>) -> Result<()> {
        let (from, to, ch) = (self.from, self.to, self.channels);
        let fail = |e: &dyn std::fmt::Display| resample_error(from, to, e);
        let data: &[f32] = match source {
            Source::Input(block) => block,
            Source::Pending => &self.pending,
        };
        let input =
            InterleavedNumbers::<&[f32], f64>::new(data, ch, self.block).map_err(|e| fail(&e))?;
        let max = self.output.len() / ch;
        let mut output = InterleavedNumbers::<&mut [f32], f64>::new_mut(&mut self.output, ch, max)
            .map_err(|e| fail(&e))?;
        let indexing = Indexing {
            input_offset: 0,
            output_offset: 0,
            active_channels_mask: None,
            partial_len: partial,
        };
        let (_, produced) = self
            .resampler
            .process_into_buffer(&input, &mut output, Some(&indexing))
            .map_err(|e| fail(&e))?;
        let skip = self.delay.min(produced);
        self.delay -= skip;
        out.extend_from_slice(&self.output[skip * ch..produced * ch]);
        self.frames_out += (produced - skip) as u64;
        Ok(())
    }
}

/// Where [`Resampling::run`] takes a block from.
enum Source<'a> {
    Input(&'a [f32]),
    Pending,
}

fn resample_error(from: u32, to: u32, e: &dyn std::fmt::Display) -> Error {
    Error::new(format!("cannot resample from {from} Hz to {to} Hz: {e}"))
        .with_fix("use a common sample rate (8, 16, 22.05, 32, 44.1, 48 or 96 kHz)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    fn tone(rate: u32, freq: f64, amp: f64, frames: usize, phase: f64) -> Audio {
        Audio {
            sample_rate: rate,
            channels: 1,
            samples: (0..frames)
                .map(|i| {
                    (amp * (2.0 * PI * freq * i as f64 / f64::from(rate) + phase).sin()) as f32
                })
                .collect(),
        }
    }

    /// Least-squares fit of `a·sin + b·cos + c` at `freq` over `x[from..to]`, with time measured
    /// from frame 0. Returns (amplitude, phase, residual RMS / signal RMS in dB).
    fn fit(x: &[f32], rate: u32, freq: f64, from: usize, to: usize) -> (f64, f64, f64) {
        let w = 2.0 * PI * freq / f64::from(rate);
        // Normal equations for [sin, cos, 1].
        let mut m = [[0.0f64; 3]; 3];
        let mut v = [0.0f64; 3];
        for (i, &y) in x.iter().enumerate().take(to).skip(from) {
            let basis = [(w * i as f64).sin(), (w * i as f64).cos(), 1.0];
            for r in 0..3 {
                v[r] += basis[r] * f64::from(y);
                for c in 0..3 {
                    m[r][c] += basis[r] * basis[c];
                }
            }
        }
        let coef = solve3(m, v);
        let (mut res, mut sig) = (0.0, 0.0);
        for (i, &y) in x.iter().enumerate().take(to).skip(from) {
            let s = coef[0] * (w * i as f64).sin() + coef[1] * (w * i as f64).cos();
            res += (f64::from(y) - s - coef[2]).powi(2);
            sig += s * s;
        }
        let amp = coef[0].hypot(coef[1]);
        let phase = coef[1].atan2(coef[0]);
        (amp, phase, 10.0 * (res / sig).log10())
    }

    fn solve3(mut m: [[f64; 3]; 3], mut v: [f64; 3]) -> [f64; 3] {
        for col in 0..3 {
            let p = (col..3)
                .max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))
                .unwrap();
            m.swap(col, p);
            v.swap(col, p);
            for r in 0..3 {
                if r != col {
                    let f = m[r][col] / m[col][col];
                    let pivot = m[col];
                    for (x, p) in m[r].iter_mut().zip(pivot) {
                        *x -= f * p;
                    }
                    v[r] -= f * v[col];
                }
            }
        }
        [v[0] / m[0][0], v[1] / m[1][1], v[2] / m[2][2]]
    }

    #[test]
    fn thd_n_below_minus_100_db() {
        let amp = 10f64.powf(-1.0 / 20.0);
        for (from, to) in [
            (48000, 44100),
            (22050, 44100),
            (16000, 44100),
            (44100, 8000),
        ] {
            let frames = from as usize * 2;
            let out = convert(tone(from, 1000.0, amp, frames, 0.3), to, 1).unwrap();
            let n = out.samples.len();
            let (a, phase, thd_n) = fit(&out.samples, to, 1000.0, n / 4, 3 * n / 4);
            println!("{from} -> {to} Hz: THD+N {thd_n:.1} dB, amplitude {a:.6}, phase {phase:.6}");
            assert!(thd_n < -100.0, "{from} -> {to}: THD+N {thd_n:.1} dB");
            assert!((a - amp).abs() < 1e-4, "{from} -> {to}: amplitude {a}");
            // Same phase at t = 0 as the input: time-aligned.
            assert!((phase - 0.3).abs() < 1e-4, "{from} -> {to}: phase {phase}");
        }
    }

    #[test]
    fn exact_length() {
        for (from, to) in [
            (48000, 44100),
            (44100, 48000),
            (22050, 44100),
            (44100, 8000),
            (8000, 44100),
            (44100, 44101),
        ] {
            for frames in [1usize, 2, 7, 147, 1000, 4095, 4096, 4097, 44_101, 100_003] {
                let a = Audio::silence(from, 2, frames as u64);
                let out = convert(a, to, 2).unwrap();
                let want = (frames as f64 * f64::from(to) / f64::from(from)).round() as u64;
                assert_eq!(out.frames(), want, "{frames} frames {from} -> {to}");
                assert_eq!(out.samples.len() as u64, want * 2);
                assert_eq!(out.sample_rate, to);
            }
        }
        assert_eq!(converted_frames(1, 44100, 8000), 0);
        assert_eq!(converted_frames(11, 44100, 8000), 2);
        let empty = convert(Audio::silence(48000, 1, 0), 44100, 1).unwrap();
        assert_eq!(empty.frames(), 0);
    }

    /// Noise-like test signal: a fixed pseudo-random sequence.
    fn noise(rate: u32, channels: u16, frames: usize) -> Audio {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let samples = (0..frames * usize::from(channels))
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect();
        Audio {
            sample_rate: rate,
            channels,
            samples,
        }
    }

    #[test]
    fn streaming_gives_the_same_samples_however_the_input_is_cut() {
        for (from, to, cin, cout) in [
            (48000, 44100, 2, 1),
            (22050, 44100, 1, 2),
            (44100, 8000, 1, 1),
            (11025, 48000, 6, 2),
            (44100, 44100, 2, 1),
        ] {
            let a = noise(from, cin, 30_011);
            let whole = convert(a.clone(), to, cout).unwrap();
            for piece in [1usize, 333, 4096, 10_000] {
                let mut c = Converter::new(from, cin, to, cout).unwrap();
                let mut out = Vec::new();
                for chunk in a.samples.chunks(piece * usize::from(cin)) {
                    c.push(chunk, &mut out).unwrap();
                }
                c.finish(&mut out).unwrap();
                assert!(
                    out == whole.samples,
                    "{from} Hz {cin} ch -> {to} Hz {cout} ch in pieces of {piece} frames"
                );
            }
        }
    }

    #[test]
    fn click_stays_in_place() {
        for (from, to) in [
            (48000u32, 44100u32),
            (44100, 48000),
            (16000, 44100),
            (44100, 8000),
        ] {
            let mut a = Audio::silence(from, 1, u64::from(from));
            let at = from as usize / 3;
            a.samples[at] = 1.0;
            let out = convert(a, to, 1).unwrap();
            let peak = out
                .samples
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .unwrap()
                .0;
            let expected = at as f64 * f64::from(to) / f64::from(from);
            assert!(
                (peak as f64 - expected).abs() <= 0.5,
                "{from} -> {to}: click at {peak}, expected {expected}"
            );
        }
    }

    #[test]
    fn same_format_is_untouched_and_deterministic() {
        let a = tone(44100, 440.0, 0.5, 10_000, 0.0);
        assert_eq!(convert(a.clone(), 44100, 1).unwrap(), a);
        let x = convert(a.clone(), 48000, 1).unwrap();
        let y = convert(a, 48000, 1).unwrap();
        assert_eq!(x, y);
    }

    #[test]
    fn channel_mixing_values() {
        let stereo = Audio {
            sample_rate: 8000,
            channels: 2,
            samples: vec![1.0, 0.0, 0.5, -0.5, 0.25, 0.75],
        };
        let mono = convert(stereo, 8000, 1).unwrap();
        assert_eq!(mono.samples, vec![0.5, 0.0, 0.5]);
        let back = convert(mono, 8000, 2).unwrap();
        assert_eq!(back.samples, vec![0.5, 0.5, 0.0, 0.0, 0.5, 0.5]);

        // 5.1 (FL FR C LFE BL BR) to stereo: BS.775 fold-down, LFE dropped.
        let surround = Audio {
            sample_rate: 8000,
            channels: 6,
            samples: vec![0.1, 0.2, 0.4, 0.9, 0.3, 0.5],
        };
        let s = convert(surround.clone(), 8000, 2).unwrap();
        let r = MINUS_3DB;
        assert!((s.samples[0] - (0.1 + r * 0.4 + r * 0.3)).abs() < 1e-6);
        assert!((s.samples[1] - (0.2 + r * 0.4 + r * 0.5)).abs() < 1e-6);
        let m = convert(surround, 8000, 1).unwrap();
        assert!((m.samples[0] - 2.4 / 6.0).abs() < 1e-6);

        // Stereo to 4 channels: front pair only.
        let quad = convert(
            Audio {
                sample_rate: 8000,
                channels: 2,
                samples: vec![0.1, 0.2],
            },
            8000,
            4,
        )
        .unwrap();
        assert_eq!(quad.samples, vec![0.1, 0.2, 0.0, 0.0]);

        // Mixing and resampling together: stereo at 48 kHz to mono 44.1 kHz.
        let mut st = Vec::new();
        for s in tone(48000, 1000.0, 0.5, 48000, 0.0).samples {
            st.extend([s, s * 0.5]);
        }
        let out = convert(
            Audio {
                sample_rate: 48000,
                channels: 2,
                samples: st,
            },
            44100,
            1,
        )
        .unwrap();
        let (a, _, _) = fit(&out.samples, 44100, 1000.0, 11025, 33075);
        assert!((a - 0.375).abs() < 1e-4, "amplitude {a}");
    }

    #[test]
    fn bad_targets_are_errors() {
        assert!(convert(Audio::silence(8000, 1, 10), 0, 1).is_err());
        assert!(convert(Audio::silence(8000, 1, 10), 8000, 0).is_err());
        let ragged = Audio {
            sample_rate: 8000,
            channels: 2,
            samples: vec![0.0; 3],
        };
        assert!(convert(ragged, 44100, 2).is_err());
    }
}

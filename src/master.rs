//! Mastering: one gain to reach the loudness target, then a look-ahead true-peak limiter.
//!
//! The programme is streamed, never held whole: [`master_replay`] plays it from its source
//! (a [`Replay`]: prepared clip files and silences, or audio in memory) once to measure it,
//! then once per pass through gain and limiter into a [`Destination`], metering what comes
//! out. Every pass starts again from the source with the total gain, so passes do not build
//! on each other; a pass whose output is within 0.05 LU of the target and under the ceiling
//! is the one that stays. Memory is a chunk and the limiter's look-ahead, whatever the
//! programme's length.
//!
//! The limiter estimates the true peak with an 8× polyphase interpolator (Kaiser-windowed
//! sinc, 32 taps a branch), works out the gain each sample needs to stay under the ceiling,
//! and smooths that gain so it is already down when a peak arrives (look-ahead: a sliding
//! minimum followed by a moving average of the same length, which can never undershoot the
//! needed reduction) and comes back afterwards with a program-dependent release. Away from
//! peaks the gain is exactly 1.0, so those samples pass bit for bit. The channels share one
//! gain, so the stereo image does not move.

use std::sync::mpsc::{channel, sync_channel};

use serde::Serialize;

use crate::audio::{Audio, WholeFrames};
use crate::error::{Error, Result};
use crate::loudness::Loudness;
use crate::meter::{FastMeter, Figures};

/// Interpolation factor of the true-peak estimate. BS.1770 asks for 4×; 8× with long
/// branches tracks the waveform between samples more closely, so that meters with a finer
/// reconstruction (ffmpeg's `ebur128` resamples to 192 kHz) do not read peaks the limiter
/// missed: on white noise a 4×, 16-tap estimate reads 0.6 dB under ffmpeg, this one above it.
const PHASES: usize = 8;
/// Taps per polyphase branch (256 in all).
const TAPS: usize = 32;
/// The branch between samples `m` and `m + 1` reads `x[m − 15 ..= m + 16]`.
const HALF: usize = TAPS / 2;
/// Taps nearest the interval whose exact contribution the limiter's second bound uses
/// (see [`Limiter::block_peaks`]).
const CENTRAL: usize = 16;
/// The first of them.
const CENTRAL_FROM: usize = HALF - CENTRAL / 2;
/// Central taps left out of the first, cheaper test of [`Limiter::window_may_pass`] at
/// each end.
const INNER: usize = CENTRAL / 4;
/// Kaiser window shape of the interpolator.
const KAISER_BETA: f64 = 6.0;
/// SIMD-friendly partial sums in the interpolator's dot products.
const LANES: usize = 8;
/// A releasing gain within this of unity (0.01 dB) snaps to exactly 1.0.
const RELEASE_SNAP: f32 = 1.0 - 0.998_849_4;
/// Time constants of the limiter's fast release and slow attack, as fractions of the
/// (slow) release time.
const FAST_RELEASE: f64 = 0.15;
const SLOW_ATTACK: f64 = 0.5;
/// Allowance for 16-bit dither (±1.5 LSB through the interpolator is < 0.001 dB at −1 dBFS).
const DITHER_ALLOWANCE_DB: f64 = 0.01;
/// How close to the target the output must come before the gain is left alone.
const LOUDNESS_TOLERANCE_LU: f64 = 0.05;
/// Most passes of gain + limiter, not counting passes that only lower the limiter's aim
/// (at most [`MAX_PEAK_FIXES`]).
const MAX_PASSES: u32 = 8;
const MAX_PEAK_FIXES: u32 = 3;
/// Below this many LU per dB of extra gain, the loudness target is taken as out of reach.
const MIN_SLOPE: f64 = 0.05;
/// Frames per chunk when streaming a programme held in memory.
const CHUNK_FRAMES: usize = 8192;
/// Frames the limiter checks at once for its quiet fast path, and works on at once
/// otherwise (at most [`TAPS`], see [`Limiter::push_block`]).
const BLOCK_FRAMES: usize = 32;
/// A block's samples of one channel with the `TAPS − 1` before them (and one spare).
const SPAN: usize = TAPS + BLOCK_FRAMES;

/// How to master a programme.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MasterSettings {
    /// Integrated loudness to reach, LUFS.
    pub target_lufs: f64,
    /// True peak the output must not pass, dBTP.
    pub true_peak_ceiling_dbtp: f64,
    /// The limiter aims this far below the ceiling, dB, to cover differences between
    /// true-peak meters.
    pub margin_db: f64,
    /// Largest gain ever applied, dB: a near-silent programme is not amplified into noise.
    pub max_gain_db: f64,
    /// How long before a peak the limiter starts to turn down, ms.
    pub lookahead_ms: f64,
    /// Release time of the limiter after a run of peaks, ms (a lone peak releases in about
    /// a sixth of it).
    pub release_ms: f64,
}

impl Default for MasterSettings {
    /// The `guide` profile: −16 LUFS, −1 dBTP.
    fn default() -> Self {
        MasterSettings {
            target_lufs: -16.0,
            true_peak_ceiling_dbtp: -1.0,
            margin_db: 0.1,
            max_gain_db: 30.0,
            lookahead_ms: 3.0,
            release_ms: 80.0,
        }
    }
}

impl MasterSettings {
    fn validate(&self) -> Result<()> {
        let check = |ok: bool, what: String, fix: &str| {
            if ok {
                Ok(())
            } else {
                Err(Error::new(format!("invalid mastering setting: {what}")).with_fix(fix))
            }
        };
        let within = |v: f64, lo: f64, hi: f64| v.is_finite() && (lo..=hi).contains(&v);
        check(
            within(self.target_lufs, -70.0, 0.0),
            format!("loudness target {} LUFS", self.target_lufs),
            "set a loudness target between -70 and 0 LUFS, e.g. -16",
        )?;
        check(
            within(self.true_peak_ceiling_dbtp, -40.0, 0.0),
            format!("true-peak ceiling {} dBTP", self.true_peak_ceiling_dbtp),
            "set a true-peak ceiling between -40 and 0 dBTP, e.g. -1",
        )?;
        check(
            within(self.margin_db, 0.0, 3.0),
            format!("limiter margin {} dB", self.margin_db),
            "set a margin between 0 and 3 dB",
        )?;
        check(
            within(self.max_gain_db, 0.0, 100.0),
            format!("maximum gain {} dB", self.max_gain_db),
            "set a maximum gain between 0 and 100 dB",
        )?;
        check(
            within(self.lookahead_ms, 0.1, 50.0),
            format!("look-ahead {} ms", self.lookahead_ms),
            "set a look-ahead between 0.1 and 50 ms",
        )?;
        check(
            within(self.release_ms, 1.0, 5000.0),
            format!("release {} ms", self.release_ms),
            "set a release between 1 and 5000 ms",
        )
    }
}

/// What [`master`] did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MasterReport {
    /// The programme as it came in.
    pub input: Loudness,
    /// Gain applied in all, dB (the limiter's reductions come on top).
    pub gain_db: f64,
    /// Frames the limiter turned down.
    pub limited_frames: u64,
    /// Frames in the programme.
    pub frames: u64,
    /// Largest reduction the limiter applied, dB (0.0 if it never acted).
    pub max_gain_reduction_db: f64,
    /// Passes of gain + limiter over the programme (1 unless limiting cost loudness); each
    /// starts again from the source, and the last one is the output.
    pub passes: u32,
    /// The programme as it goes out (before any dither).
    pub output: Loudness,
    /// Things the user should know: a capped gain, an unmeasurable programme.
    pub warnings: Vec<String>,
}

/// What one limiter run did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LimitStats {
    pub limited_frames: u64,
    pub max_gain_reduction_db: f64,
}

/// Linear factor of a gain in dB.
fn db_to_gain(db: f64) -> f64 {
    10f64.powf(db / 20.0)
}

/// A programme that can be played from the start as often as mastering needs.
pub trait Replay {
    fn sample_rate(&self) -> u32;
    fn channels(&self) -> u16;
    fn frames(&self) -> u64;
    /// Hands the whole programme to `sink`, interleaved, in chunks of whole frames.
    fn play(&self, sink: &mut dyn FnMut(&[f32]) -> Result<()>) -> Result<()>;
}

impl Replay for Audio {
    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    fn channels(&self) -> u16 {
        self.channels
    }

    fn frames(&self) -> u64 {
        Audio::frames(self)
    }

    fn play(&self, sink: &mut dyn FnMut(&[f32]) -> Result<()>) -> Result<()> {
        let step = CHUNK_FRAMES * usize::from(self.channels.max(1));
        self.samples.chunks(step).try_for_each(sink)
    }
}

/// Where the mastered programme goes. Each pass calls [`Destination::start`], hands over
/// the whole output with [`Destination::write`] and ends with [`Destination::finish`]; a
/// later pass replaces what an earlier one wrote, and only the last pass counts.
pub trait Destination {
    fn start(&mut self) -> Result<()>;
    fn write(&mut self, samples: &[f32]) -> Result<()>;
    fn finish(&mut self) -> Result<()>;
}

/// A [`Destination`] in memory.
#[derive(Debug, Default)]
pub struct Collect(pub Vec<f32>);

impl Destination for Collect {
    fn start(&mut self) -> Result<()> {
        self.0.clear();
        Ok(())
    }

    fn write(&mut self, samples: &[f32]) -> Result<()> {
        self.0.extend_from_slice(samples);
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        Ok(())
    }
}

/// Lends mastering a spare core for one pass at a time: the build's worker pool, which
/// knows how many of its threads are idle, so that a long episode mastered last can use
/// the cores the finished work left free without the build ever running more threads than
/// there are cores.
pub trait Cores: Sync {
    /// Takes a spare core, if one is idle; `false`: the pass runs on the calling thread.
    fn borrow(&self) -> bool;
    /// Gives back a core taken with [`Cores::borrow`].
    fn give_back(&self);
}

/// [`Cores`] that never lends: everything on the calling thread.
#[derive(Debug, Clone, Copy, Default)]
pub struct OneCore;

impl Cores for OneCore {
    fn borrow(&self) -> bool {
        false
    }

    fn give_back(&self) {}
}

/// [`Cores`] that always lends (one helper thread per pass).
#[derive(Debug, Clone, Copy, Default)]
pub struct TwoCores;

impl Cores for TwoCores {
    fn borrow(&self) -> bool {
        true
    }

    fn give_back(&self) {}
}

/// Masters `audio` in place: measure, one gain to the target, true-peak limiting.
/// See [`master_replay`].
pub fn master(audio: &mut Audio, settings: &MasterSettings) -> Result<MasterReport> {
    let mut out = Collect(Vec::with_capacity(audio.samples.len()));
    let report = master_replay(audio, settings, &mut out, &TwoCores)?;
    audio.samples = out.0;
    Ok(report)
}

/// Masters the programme `source` into `out`, taking a helper thread for a pass when
/// `cores` has one to spare (the result does not depend on it).
///
/// The first play measures the programme. Each pass then plays it again through the gain
/// and the limiter, metering the result. If limiting cost more than 0.05 LU, further passes
/// try more gain (within the cap), searched for between passes below and above the target,
/// until the output is within 0.05 LU of it; if the meter reads the true peak over the
/// ceiling, another pass limits with a lower aim. The true peak stays at or under the
/// ceiling after 16-bit dither.
///
/// Passes are written to `out` as they go, since the last one is the output, except a first
/// pass in which the limiter will act: limiting almost always costs some loudness, so that
/// pass only searches (integrated loudness alone, nothing written). When no sample, raised
/// by the gain, can make the limiter act, the limiter is left out and one pass is exact.
pub fn master_replay(
    source: &dyn Replay,
    settings: &MasterSettings,
    out: &mut (dyn Destination + Send),
    cores: &dyn Cores,
) -> Result<MasterReport> {
    settings.validate()?;
    let (rate, channels) = (source.sample_rate(), source.channels());
    let mut loud = FastMeter::new(rate, channels, Figures::LOUDNESS)?;
    let mut peaks = FastMeter::new(rate, channels, Figures::PEAKS)?;
    pipeline(
        cores,
        |sink| {
            source.play(&mut |chunk| {
                loud.add(chunk);
                sink(chunk)
            })
        },
        |chunk| {
            peaks.add(chunk);
            Ok(())
        },
    )?;
    let input = loud.with_peaks_of(&peaks);
    let input_peak = peaks.sample_peak().unwrap_or(f32::INFINITY);

    let ceiling = settings.true_peak_ceiling_dbtp;
    let target = settings.target_lufs;
    let mut warnings = Vec::new();
    let mut capped = false;
    let first_gain = match input.integrated_lufs {
        None => {
            warnings.push(
                "the programme is silent or shorter than 0.4 s, so its loudness cannot be \
                 measured; no gain was applied"
                    .to_string(),
            );
            0.0
        }
        Some(i) if target - i > settings.max_gain_db => {
            capped = true;
            warnings.push(format!(
                "the programme is very quiet ({i:.1} LUFS): gain capped at +{:.1} dB, so it \
                 reaches only {:.1} LUFS instead of {target:.1}; check the recordings' levels",
                settings.max_gain_db,
                i + settings.max_gain_db
            ));
            settings.max_gain_db
        }
        Some(i) => target - i,
    };
    let mut aim_db = ceiling - settings.margin_db;
    let limit_ceiling = ceiling - DITHER_ALLOWANCE_DB;
    let limiter_acts = |gain: f64, aim: f64| {
        let loud = Limiter::new(rate, channels, aim, 1.0, 1.0).loud;
        let quiet = input_peak * db_to_gain(gain) as f32 <= loud;
        !quiet
    };

    // Every pass plays the source with the total gain `gain`. Limiting eats part of any
    // extra gain, so the gain that reaches the target is searched for, from passes below
    // and above it. The loop ends only after a written pass.
    let mut gain = first_gain;
    let mut write = !limiter_acts(gain, aim_db) || capped;
    let mut below: Vec<(f64, f64)> = Vec::new();
    let mut above: Option<(f64, f64)> = None;
    let mut passes: u32 = 0;
    let mut peak_fixes = 0;
    let (mut stats, mut output);
    loop {
        let destination = if write { Some(&mut *out) } else { None };
        (stats, output) = pass(
            source,
            input_peak,
            gain,
            aim_db,
            settings,
            destination,
            cores,
        )?;
        passes += 1;
        if write {
            if let Some(tp) = output.true_peak_dbtp.filter(|&tp| tp > limit_ceiling) {
                // The meter reads the peaks higher than the limiter's estimate: aim lower.
                if peak_fixes < MAX_PEAK_FIXES {
                    peak_fixes += 1;
                    aim_db -= tp - limit_ceiling + 0.02;
                    continue;
                }
                warnings.push(format!(
                    "the true peak is {tp:.2} dBTP, over the {ceiling:.1} dBTP ceiling, after \
                     {passes} limiter passes"
                ));
                break;
            }
        }
        // What the search would do next: `None` to stay at this gain.
        let next = match output.integrated_lufs {
            _ if passes >= MAX_PASSES || capped => None,
            None => None,
            Some(out_lufs) if (out_lufs - target).abs() <= LOUDNESS_TOLERANCE_LU => None,
            Some(out_lufs) if out_lufs < target => {
                below.push((gain, out_lufs));
                match (above, below.len()) {
                    (Some(hi), _) => Some(between((gain, out_lufs), hi, target)),
                    (None, n) if n >= 2 => {
                        // Extrapolate from the last two passes, at most twice the shortfall
                        // at a time, so that a poor slope estimate cannot send the gain far.
                        let (g0, o0) = below[n - 2];
                        let slope = (out_lufs - o0) / (gain - g0);
                        // Below MIN_SLOPE, more gain all goes into the limiter: the target is
                        // out of reach.
                        (slope >= MIN_SLOPE).then(|| {
                            let step = (target - out_lufs) / slope.min(1.0);
                            gain + step.min(2.0 * (target - out_lufs))
                        })
                    }
                    (None, _) => {
                        // One pass so far: the more of the programme the limiter touched,
                        // the less of a gain step comes through (about 0.6 dB per dB when it
                        // touched half of it, as with synthetic speech at −16 LUFS; the
                        // slope falls as the gain rises, so this errs on the low side).
                        let touched = stats.limited_frames as f64 / source.frames().max(1) as f64;
                        let slope = (1.0 - 0.7 * touched).clamp(0.4, 1.0);
                        Some(gain + (target - out_lufs) / slope)
                    }
                }
            }
            Some(out_lufs) => {
                above = Some((gain, out_lufs));
                Some(match below.last() {
                    Some(&lo) => between(lo, (gain, out_lufs), target),
                    None => gain - (out_lufs - target),
                })
            }
        }
        .map(|next| next.min(settings.max_gain_db))
        .filter(|next| (next - gain).abs() >= 1e-3);
        match next {
            Some(next) => gain = next,
            // This pass is the output: done if it was written, else written next.
            None if write => break,
            None => {}
        }
        write = true;
    }
    if let (Some(out_lufs), false) = (output.integrated_lufs, capped) {
        if out_lufs < target - 0.2 {
            warnings.push(format!(
                "the programme reaches {out_lufs:.1} LUFS, not {target:.1}: it has too little \
                 headroom under the {ceiling:.1} dBTP ceiling"
            ));
        } else if out_lufs > target + 0.2 {
            warnings.push(format!(
                "the programme reaches {out_lufs:.1} LUFS, not {target:.1}"
            ));
        }
    }
    Ok(MasterReport {
        input,
        gain_db: gain,
        limited_frames: stats.limited_frames,
        frames: source.frames(),
        max_gain_reduction_db: stats.max_gain_reduction_db,
        passes,
        output,
        warnings,
    })
}

/// The gain between a pass below the target and one above it, by linear interpolation,
/// kept off the ends so that the search always narrows.
fn between(lo: (f64, f64), hi: (f64, f64), target: f64) -> f64 {
    let t = ((target - lo.1) / (hi.1 - lo.1)).clamp(0.1, 0.9);
    lo.0 + t * (hi.0 - lo.0)
}

/// Chunks waiting between the two threads of a pass.
const QUEUE_CHUNKS: usize = 4;

/// Runs `produce`, which hands chunks to its sink, and `consume` on every chunk: on a
/// helper thread, fed through a short queue, when `cores` lends one; else right here.
/// `consume` sees the same chunks in the same order either way. The first error stops both.
fn pipeline<R>(
    cores: &dyn Cores,
    produce: impl FnOnce(&mut dyn FnMut(&[f32]) -> Result<()>) -> Result<R>,
    mut consume: impl FnMut(&[f32]) -> Result<()> + Send,
) -> Result<R> {
    if !cores.borrow() {
        return produce(&mut consume);
    }
    let result = std::thread::scope(|scope| {
        let (full_tx, full_rx) = sync_channel::<Vec<f32>>(QUEUE_CHUNKS);
        let (empty_tx, empty_rx) = channel::<Vec<f32>>();
        let helper = scope.spawn(move || -> Result<()> {
            for chunk in full_rx {
                consume(&chunk)?;
                let _ = empty_tx.send(chunk);
            }
            Ok(())
        });
        let produced = produce(&mut |chunk: &[f32]| {
            let mut buf = empty_rx.try_recv().unwrap_or_default();
            buf.clear();
            buf.extend_from_slice(chunk);
            // A send fails only when the helper stopped on an error, reported below.
            full_tx
                .send(buf)
                .map_err(|_| Error::new("the mastering helper thread stopped"))
        });
        drop(full_tx);
        let consumed = helper
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e));
        // The helper's error is the cause of a failed send: report it first.
        consumed.and(produced)
    });
    cores.give_back();
    result
}

/// One pass: the source through `gain_db` and the limiter (aiming at `ceiling_db`),
/// metered, and written to `out` when given (with every figure metered; without it, only
/// integrated loudness). The limiter is left out when no sample of the source (largest
/// |sample| `input_peak`), raised by the gain, is loud enough to make it act: its output
/// would be its input, bit for bit.
fn pass<'o>(
    source: &dyn Replay,
    input_peak: f32,
    gain_db: f64,
    ceiling_db: f64,
    settings: &MasterSettings,
    mut out: Option<&mut (dyn Destination + Send + 'o)>,
    cores: &dyn Cores,
) -> Result<(LimitStats, Loudness)> {
    let (rate, channels) = (source.sample_rate(), source.channels());
    let figures = if out.is_some() {
        Figures::ALL
    } else {
        Figures::INTEGRATED
    };
    let mut meter = FastMeter::new(rate, channels, figures)?;
    let mut limiter = Limiter::new(
        rate,
        channels,
        ceiling_db,
        settings.lookahead_ms,
        settings.release_ms,
    );
    let g = db_to_gain(gain_db) as f32;
    let quiet = input_peak * g <= limiter.loud;
    if let Some(out) = out.as_deref_mut() {
        out.start()?;
    }
    let stats = {
        let limiter = &mut limiter;
        let meter = &mut meter;
        let out = &mut out;
        pipeline(
            cores,
            |sink| {
                let mut scaled = Vec::new();
                let mut limited = Vec::new();
                source.play(&mut |chunk| {
                    let chunk = if g == 1.0 {
                        chunk
                    } else {
                        scaled.clear();
                        scaled.extend(chunk.iter().map(|&x| x * g));
                        &scaled
                    };
                    if quiet {
                        sink(chunk)
                    } else {
                        limited.clear();
                        limiter.process(chunk, &mut limited);
                        sink(&limited)
                    }
                })?;
                if !quiet {
                    limited.clear();
                    limiter.finish(&mut limited);
                    sink(&limited)?;
                }
                Ok(limiter.stats())
            },
            |samples| {
                meter.add(samples);
                match out.as_deref_mut() {
                    Some(out) => out.write(samples),
                    None => Ok(()),
                }
            },
        )?
    };
    if let Some(out) = out {
        out.finish()?;
    }
    Ok((stats, meter.loudness()))
}

/// Runs the limiter alone over `audio` in place (no loudness gain, no margin).
pub fn limit(
    audio: &mut Audio,
    ceiling_dbtp: f64,
    lookahead_ms: f64,
    release_ms: f64,
) -> LimitStats {
    let mut limiter = Limiter::new(
        audio.sample_rate,
        audio.channels,
        ceiling_dbtp,
        lookahead_ms,
        release_ms,
    );
    let mut out = Vec::with_capacity(audio.samples.len());
    let step = CHUNK_FRAMES * usize::from(audio.channels.max(1));
    for chunk in audio.samples.chunks(step) {
        limiter.process(chunk, &mut out);
    }
    limiter.finish(&mut out);
    audio.samples = out;
    limiter.stats()
}

/// The larger of two values known not to be NaN (cheaper than `f32::max`).
fn max(a: f32, b: f32) -> f32 {
    if b > a {
        b
    } else {
        a
    }
}

/// Largest |sample| of `samples` (NaN ignored), in lanes so that the loop vectorises.
fn loudest(samples: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let mut chunks = samples.chunks_exact(8);
    for chunk in &mut chunks {
        for (l, x) in lanes.iter_mut().zip(chunk) {
            *l = max(*l, x.abs());
        }
    }
    let tail = chunks.remainder().iter().fold(0f32, |m, x| max(m, x.abs()));
    lanes.into_iter().fold(tail, max)
}

/// Modified Bessel function of the first kind, order 0 (for the Kaiser window).
fn bessel_i0(x: f64) -> f64 {
    let (mut sum, mut term, mut k) = (1.0, 1.0, 1.0);
    while term > 1e-12 * sum {
        term *= (x / (2.0 * k)).powi(2);
        sum += term;
        k += 1.0;
    }
    sum
}

/// The fractional branches (⅛ … ⅞) of the 8× interpolator, each normalised to unity
/// gain at DC, and the largest sum of absolute coefficients of any branch (how far an
/// interpolated value can exceed the largest sample under it).
fn interpolator() -> ([[f32; TAPS]; PHASES - 1], f64) {
    let mut branches = [[0f32; TAPS]; PHASES - 1];
    let mut bound: f64 = 1.0;
    let span = HALF as f64;
    for (j, branch) in branches.iter_mut().enumerate() {
        let t = (j + 1) as f64 / PHASES as f64;
        let mut c = [0f64; TAPS];
        for (k, ck) in c.iter_mut().enumerate() {
            // Tap k reads x[m − 15 + k]; its distance from the point m + t:
            let d = k as f64 - (HALF as f64 - 1.0) - t;
            let sinc = (std::f64::consts::PI * d).sin() / (std::f64::consts::PI * d);
            let r = (d / span).clamp(-1.0, 1.0);
            *ck = sinc * bessel_i0(KAISER_BETA * (1.0 - r * r).sqrt()) / bessel_i0(KAISER_BETA);
        }
        let sum: f64 = c.iter().sum();
        // A little headroom over the f64 figure covers f32 rounding in the dot product.
        bound = bound.max(c.iter().map(|v| (v / sum).abs()).sum::<f64>() * 1.0001);
        for (b, v) in branch.iter_mut().zip(c) {
            *b = (v / sum) as f32;
        }
    }
    (branches, bound)
}

/// Per branch (0.0 for the eighth), the sum of absolute coefficients outside taps
/// `from .. from + count`, rounded up to cover f32 rounding.
fn outer_sums(branches: &[[f32; TAPS]; PHASES - 1], from: usize, count: usize) -> [f32; PHASES] {
    std::array::from_fn(|b| {
        branches.get(b).map_or(0.0, |c| {
            let sum: f64 = c[..from]
                .iter()
                .chain(&c[from + count..])
                .map(|v| f64::from(v.abs()))
                .sum();
            (sum * 1.001) as f32
        })
    })
}

/// The group of tap `k` (0: the two samples around the interval, 1 and 2: the next ones
/// out, 3: the rest).
fn tap_group(k: usize) -> usize {
    match k.abs_diff(HALF - 1).min(k.abs_diff(HALF)) {
        0 => 0,
        1 => 1,
        2 => 2,
        _ => 3,
    }
}

/// [`Limiter::groups`]: per branch, the sums of absolute coefficients per tap group (in f64,
/// rounded up a little to cover f32 rounding in the dot products); the last row is the
/// centre sample itself.
fn tap_groups(branches: &[[f32; TAPS]; PHASES - 1]) -> [[f32; 4]; PHASES] {
    let mut groups = [[0f32; 4]; PHASES];
    for (row, branch) in groups.iter_mut().zip(branches) {
        let mut sums = [0f64; 4];
        for (k, c) in branch.iter().enumerate() {
            sums[tap_group(k)] += f64::from(c.abs());
        }
        for (g, v) in row.iter_mut().zip(sums) {
            *g = (v * 1.001) as f32;
        }
    }
    groups[PHASES - 1] = [1.0, 0.0, 0.0, 0.0];
    groups
}

/// Look-ahead true-peak limiter for interleaved audio, streaming: output lags input by
/// [`Limiter::latency_frames`], and [`Limiter::finish`] flushes the rest, so the total output
/// is exactly as long as the input. Allocates only when created.
#[derive(Debug, Clone)]
pub struct Limiter {
    channels: usize,
    ceiling: f32,
    /// A sample louder than this can make an interpolated value pass the ceiling.
    loud: f32,
    lookahead: usize,
    /// Per-frame factors: the fast envelope's distance from unity shrinks by `fast_keep`;
    /// the slow envelope moves towards its target by one-pole coefficients.
    fast_keep: f32,
    slow_attack: f32,
    slow_release: f32,
    branches: [[f32; TAPS]; PHASES - 1],
    /// Per branch (and the centre sample), the sums of absolute coefficients over the taps
    /// at distance 0–1, 2, 3 from the interval and over the rest: with the largest |sample|
    /// in each of those groups, a bound on the interpolated value that is much tighter than
    /// `loud` near a peak (see [`Limiter::may_pass`]).
    groups: [[f32; 4]; PHASES],
    /// `groups` by column, for testing all branches at once.
    group_columns: [[f32; PHASES]; 4],
    /// `central[k][b]`: coefficient `CENTRAL_FROM + k` of branch b (0.0 for b = 7), and
    /// per branch the sum of absolute coefficients of the other taps (rounded up): a bound
    /// on an interpolated value from the exact sum over the central taps.
    central: [[f32; PHASES]; CENTRAL],
    outer: [f32; PHASES],
    /// The same for the middle half of the central taps (a first, cheaper test).
    outer_inner: [f32; PHASES],
    /// Per channel, the last `TAPS` samples, written twice so they are always contiguous.
    history: Vec<[f32; 2 * TAPS]>,
    history_pos: usize,
    /// Interleaved input waiting for its gain: `latency` frames.
    delay: Vec<f32>,
    delay_pos: usize,
    /// Sliding minimum of needed gains: (frame, gain), gains increasing front to back.
    minimum: MinimumQueue,
    fast: f32,
    slow: f32,
    /// The last `lookahead` envelope values, their sum and how many are below 1.
    window: Vec<f32>,
    window_pos: usize,
    window_sum: f64,
    window_below: usize,
    inv_lookahead: f64,
    /// Peak of the interval before the current frame (all channels).
    previous_peak: f32,
    /// Frames pushed so far, including the silent lead-in; the last loud one.
    frames_in: u64,
    last_loud: Option<u64>,
    /// Silent frames fed before the real input, real frames fed, frames put out.
    lead_in: u64,
    real_in: u64,
    real_out: u64,
    /// Holds an incomplete input frame over to the next [`Limiter::process`].
    partial: WholeFrames,
    limited_frames: u64,
    min_gain: f32,
    /// Per channel, a block's samples with the `TAPS − 1` before them, oldest first (see
    /// [`Limiter::push_block`]).
    lines: Vec<[f32; SPAN]>,
    /// Whether blocks may skip the per-frame machinery, and blocks that are not quiet go
    /// through [`Limiter::push_block`] instead of frame by frame (off only in tests).
    fast_path: bool,
}

impl Limiter {
    /// A limiter holding true peak at or under `ceiling_dbtp` (as estimated with 8×
    /// oversampling), starting to turn down `lookahead_ms` before a peak and releasing over
    /// about `release_ms` after a run of peaks (faster after a lone one).
    pub fn new(
        sample_rate: u32,
        channels: u16,
        ceiling_dbtp: f64,
        lookahead_ms: f64,
        release_ms: f64,
    ) -> Self {
        let partial = WholeFrames::new(channels);
        let channels = usize::from(channels.max(1));
        let rate = f64::from(sample_rate.max(1));
        let lookahead = ((lookahead_ms * rate / 1000.0).round() as usize).max(1);
        let pole = |ms: f64| (-1000.0 / (ms.max(0.001) * rate)).exp() as f32;
        let (branches, bound) = interpolator();
        let groups = tap_groups(&branches);
        let ceiling = db_to_gain(ceiling_dbtp);
        let latency = lookahead + HALF - 1;
        let mut limiter = Limiter {
            channels,
            ceiling: ceiling as f32,
            loud: (ceiling / bound) as f32,
            lookahead,
            fast_keep: pole(release_ms * FAST_RELEASE),
            slow_attack: pole(release_ms * SLOW_ATTACK),
            slow_release: pole(release_ms),
            branches,
            groups,
            group_columns: std::array::from_fn(|k| std::array::from_fn(|p| groups[p][k])),
            central: std::array::from_fn(|k| {
                std::array::from_fn(|b| branches.get(b).map_or(0.0, |c| c[CENTRAL_FROM + k]))
            }),
            outer: outer_sums(&branches, CENTRAL_FROM, CENTRAL),
            outer_inner: outer_sums(&branches, CENTRAL_FROM + INNER, CENTRAL - 2 * INNER),
            history: vec![[0.0; 2 * TAPS]; channels],
            history_pos: 0,
            delay: vec![0.0; latency * channels],
            delay_pos: 0,
            minimum: MinimumQueue::new(lookahead + 1),
            fast: 1.0,
            slow: 1.0,
            window: vec![1.0; lookahead],
            window_pos: 0,
            window_sum: lookahead as f64,
            window_below: 0,
            inv_lookahead: 1.0 / lookahead as f64,
            previous_peak: 0.0,
            frames_in: 0,
            last_loud: None,
            lead_in: (lookahead + HALF) as u64,
            real_in: 0,
            real_out: 0,
            partial,
            limited_frames: 0,
            min_gain: 1.0,
            lines: vec![[0.0; SPAN]; channels],
            fast_path: true,
        };
        // A silent lead-in, so that the first real frames have a whole history behind them.
        let zeros = vec![0.0; channels];
        let mut sink = Vec::new();
        for _ in 0..limiter.lead_in {
            limiter.push_frame(&zeros, &mut sink, false);
        }
        limiter
    }

    /// Frames between a frame going in and coming out.
    pub fn latency_frames(&self) -> usize {
        self.lookahead + HALF - 1
    }

    /// Limits interleaved `input`, appending the frames that are ready to `out`.
    pub fn process(&mut self, input: &[f32], out: &mut Vec<f32>) {
        out.reserve(input.len());
        let mut frames = std::mem::take(&mut self.partial);
        frames.split(input, |whole| self.process_frames(whole, out));
        self.partial = frames;
    }

    /// [`Limiter::process`] on whole frames.
    fn process_frames(&mut self, frames: &[f32], out: &mut Vec<f32>) {
        for block in frames.chunks(BLOCK_FRAMES * self.channels) {
            if !self.fast_path {
                for frame in block.chunks_exact(self.channels) {
                    self.push_frame(frame, out, true);
                }
            } else if self.at_rest() && loudest(block) <= self.loud {
                self.pass_through(block, out);
            } else {
                self.push_block(block, out);
            }
        }
    }

    /// Puts out the frames still held back (an incomplete last frame is dropped). The
    /// limiter takes no more input afterwards.
    pub fn finish(&mut self, out: &mut Vec<f32>) {
        self.partial.clear();
        let zeros = vec![0.0; self.channels];
        while self.real_out < self.real_in {
            self.push_frame(&zeros, out, false);
        }
    }

    /// Frames turned down so far and the deepest reduction.
    pub fn stats(&self) -> LimitStats {
        LimitStats {
            limited_frames: self.limited_frames,
            max_gain_reduction_db: -20.0 * f64::from(self.min_gain).log10(),
        }
    }

    /// Whether the interval's peak (see [`Limiter::interval_peak`]) could pass the ceiling,
    /// by a bound from the largest |sample| in each tap group. Where it cannot, the peak's
    /// value changes nothing (only a peak over the ceiling is ever acted on, now or as the
    /// previous frame's peak), so it need not be computed.
    fn may_pass(&self) -> bool {
        self.history.iter().any(|h| {
            let Some(w) = h[self.history_pos..].first_chunk::<TAPS>() else {
                return true;
            };
            let near = |a: usize, b: usize| w[a].abs().max(w[b].abs());
            let rest = w.iter().fold(0f32, |m, x| max(m, x.abs()));
            let m = [
                near(HALF - 1, HALF),
                near(HALF - 2, HALF + 1),
                near(HALF - 3, HALF + 2),
                rest,
            ];
            self.groups
                .iter()
                .any(|g| (g[0] * m[0] + g[1] * m[1]) + (g[2] * m[2] + g[3] * m[3]) > self.ceiling)
        })
    }

    /// Largest |value| over all channels of the sample at the interpolator's centre and the
    /// interpolated points after it.
    fn interval_peak(&self) -> f32 {
        self.history.iter().fold(0f32, |peak, h| {
            let Some(w) = h[self.history_pos..].first_chunk::<TAPS>() else {
                return peak;
            };
            max(peak, self.window_peak(w))
        })
    }

    /// Largest |value| of the sample at the centre of window `w` and the interpolated
    /// points after it.
    fn window_peak(&self, w: &[f32; TAPS]) -> f32 {
        let mut peak = max(0.0, w[HALF - 1].abs());
        for b in &self.branches {
            // Independent partial sums, so the compiler can use SIMD: lane k sums the taps
            // k, k + 8, k + 16, k + 24 in order (lanes 0–3 in `lo`, 4–7 in `hi`).
            let mut lo = [0f32; LANES / 2];
            let mut hi = [0f32; LANES / 2];
            for (ws, bs) in w.chunks_exact(LANES).zip(b.chunks_exact(LANES)) {
                for k in 0..LANES / 2 {
                    lo[k] += ws[k] * bs[k];
                    hi[k] += ws[k + LANES / 2] * bs[k + LANES / 2];
                }
            }
            let v = ((lo[0] + hi[0]) + (lo[1] + hi[1])) + ((lo[2] + hi[2]) + (lo[3] + hi[3]));
            peak = max(peak, v.abs());
        }
        peak
    }

    /// One frame through the whole machinery.
    fn push_frame(&mut self, frame: &[f32], out: &mut Vec<f32>, real: bool) {
        let i = self.frames_in;
        self.frames_in += 1;
        if real {
            self.real_in += 1;
        }
        let mut loud = false;
        for (h, &x) in self.history.iter_mut().zip(frame) {
            h[self.history_pos] = x;
            h[self.history_pos + TAPS] = x;
            loud |= x.abs() > self.loud;
        }
        self.history_pos = (self.history_pos + 1) % TAPS;
        if loud {
            self.last_loud = Some(i);
        }
        let gain = self.gain_for(i);
        self.delay_out(i, frame, gain, out);
    }

    /// Frame i into the delay line, and out of it (with `gain`) the frame it replaces.
    fn delay_out(&mut self, i: u64, frame: &[f32], gain: f32, out: &mut Vec<f32>) {
        // The delay line: its current slot holds frame n = i − latency, which leaves (with
        // its gain) as frame i takes its place.
        let at = self.delay_pos * self.channels;
        let n = i.checked_sub(self.latency_frames() as u64);
        if n.is_some_and(|n| n >= self.lead_in && n < self.lead_in + self.real_in) {
            self.real_out += 1;
            let delayed = &self.delay[at..at + self.channels];
            if gain < 1.0 {
                self.limited_frames += 1;
                self.min_gain = self.min_gain.min(gain);
                out.extend(delayed.iter().map(|&x| x * gain));
            } else {
                out.extend_from_slice(delayed);
            }
        }
        self.delay[at..at + self.channels].copy_from_slice(frame);
        self.delay_pos += 1;
        if self.delay_pos * self.channels == self.delay.len() {
            self.delay_pos = 0;
        }
    }

    /// Whether the gain machinery is idle: gain 1 now and for every frame until a loud one.
    fn at_rest(&self) -> bool {
        self.fast == 1.0
            && self.slow == 1.0
            && self.window_below == 0
            && self.previous_peak <= self.ceiling
            && self.minimum.front().is_none_or(|(_, g)| g == 1.0)
            && self
                .last_loud
                .is_none_or(|l| l + TAPS as u64 <= self.frames_in)
            && self.frames_in >= self.lead_in + self.latency_frames() as u64
    }

    /// Quiet frames while at rest: every gain is exactly 1, so the frames only pass through
    /// the delay line, with the state moved on as the slow path would have.
    fn pass_through(&mut self, frames: &[f32], out: &mut Vec<f32>) {
        let ch = self.channels;
        let count = frames.len() / ch;
        self.write_history(frames);
        // Delay line, in runs up to the end of the ring: out goes the old, in the new.
        let slots = self.delay.len() / ch;
        let mut src = frames;
        while !src.is_empty() {
            let k = (slots - self.delay_pos).min(src.len() / ch);
            let at = self.delay_pos * ch;
            out.extend_from_slice(&self.delay[at..at + k * ch]);
            self.delay[at..at + k * ch].copy_from_slice(&src[..k * ch]);
            src = &src[k * ch..];
            self.delay_pos += k;
            if self.delay_pos == slots {
                self.delay_pos = 0;
            }
        }
        self.frames_in += count as u64;
        self.real_in += count as u64;
        self.real_out += count as u64;
        let m = self.frames_in - 1 - HALF as u64;
        self.minimum.reset(m);
        self.window_pos = (self.window_pos + count) % self.lookahead;
        self.previous_peak = 0.0;
    }

    /// Puts whole `frames` (interleaved) into the history, as pushing them one by one would.
    fn write_history(&mut self, frames: &[f32]) {
        let ch = self.channels;
        let count = frames.len() / ch;
        // Only the last TAPS frames matter.
        let keep = count.min(TAPS);
        let recent = &frames[(count - keep) * ch..];
        let mut column = [0f32; TAPS];
        if keep == TAPS {
            // A whole history: start the ring at 0 (only the order from `history_pos` on
            // matters), so that the copies have a fixed size.
            for (c, h) in self.history.iter_mut().enumerate() {
                let column = match recent.first_chunk::<TAPS>() {
                    Some(mono) if ch == 1 => mono,
                    _ => {
                        for (v, frame) in column.iter_mut().zip(recent.chunks_exact(ch)) {
                            *v = frame[c];
                        }
                        &column
                    }
                };
                h[..TAPS].copy_from_slice(column);
                h[TAPS..].copy_from_slice(column);
            }
            self.history_pos = 0;
            return;
        }
        let start = (self.history_pos + count - keep) % TAPS;
        let first = keep.min(TAPS - start);
        for (c, h) in self.history.iter_mut().enumerate() {
            let column = if ch == 1 {
                recent
            } else {
                for (v, frame) in column.iter_mut().zip(recent.chunks_exact(ch)) {
                    *v = frame[c];
                }
                &column[..keep]
            };
            let (a, b) = column.split_at(first);
            h[start..start + first].copy_from_slice(a);
            h[start + TAPS..start + TAPS + first].copy_from_slice(a);
            h[..keep - first].copy_from_slice(b);
            h[TAPS..TAPS + keep - first].copy_from_slice(b);
        }
        self.history_pos = (start + keep) % TAPS;
    }

    /// Whole frames (at most [`BLOCK_FRAMES`]) through the machinery, with the same result as
    /// [`Limiter::push_frame`] on each, but the work that depends on the input alone done a
    /// block at a time: one test of the block's loudest sample, and where that is loud, the
    /// bound of [`Limiter::may_pass`] for every frame from sliding maxima, before any
    /// interpolation.
    fn push_block(&mut self, frames: &[f32], out: &mut Vec<f32>) {
        let ch = self.channels;
        let count = frames.len() / ch;
        debug_assert!((1..=BLOCK_FRAMES).contains(&count));
        let width = TAPS - 1 + count;
        // Frame j's interpolator window is lines[c][j .. j + TAPS].
        let mut loudest = 0f32;
        let mut last_loud = None;
        for (c, line) in self.lines.iter_mut().enumerate() {
            let h = &self.history[c][self.history_pos + 1..self.history_pos + TAPS];
            line[..TAPS - 1].copy_from_slice(h);
            for (x, frame) in line[TAPS - 1..width]
                .iter_mut()
                .zip(frames.chunks_exact(ch))
            {
                *x = frame[c];
            }
            loudest = line[..width].iter().fold(loudest, |m, x| max(m, x.abs()));
            if let Some(j) = line[TAPS - 1..width]
                .iter()
                .rposition(|x| x.abs() > self.loud)
            {
                last_loud = last_loud.max(Some(j));
            }
        }
        let mut peaks = [0f32; BLOCK_FRAMES];
        if loudest > self.loud {
            self.block_peaks(count, &mut peaks);
        }
        self.write_history(frames);
        let first = self.frames_in;
        let mut gains = [1f32; BLOCK_FRAMES];
        let peaks = &peaks[..count];
        if peaks.iter().all(|&p| p <= self.ceiling) && self.idle(first) {
            // Every frame idle (see `gain_with_peak`): all gains 1.0.
            self.previous_peak = peaks[count - 1];
            self.minimum.reset(first + count as u64 - 1 - HALF as u64);
            self.window_pos = (self.window_pos + count) % self.lookahead;
            self.window_sum = self.lookahead as f64;
        } else {
            for (j, (gain, &peak)) in gains[..count].iter_mut().zip(peaks).enumerate() {
                *gain = self.gain_with_peak(first + j as u64, peak);
            }
        }
        if let Some(j) = last_loud {
            self.last_loud = Some(first + j as u64);
        }
        self.frames_in += count as u64;
        self.real_in += count as u64;
        self.delay_block(first, frames, &gains[..count], out);
    }

    /// [`Limiter::delay_out`] for the real frames `first ..` (all the limiter has been given
    /// so far) with their `gains`.
    fn delay_block(&mut self, first: u64, frames: &[f32], gains: &[f32], out: &mut Vec<f32>) {
        let ch = self.channels;
        let count = gains.len();
        let slots = self.delay.len() / ch;
        // Frame i puts out frame i − latency, once that is a real frame (every frame given
        // so far is, so it is never past the last one).
        let quiet_until = self.lead_in + self.latency_frames() as u64;
        let start =
            usize::try_from(quiet_until.saturating_sub(first)).map_or(count, |s| s.min(count));
        let mut j = 0;
        while j < count {
            let k = (slots - self.delay_pos).min(count - j);
            let at = self.delay_pos * ch;
            let ring = &mut self.delay[at..at + k * ch];
            let from = start.clamp(j, j + k) - j;
            let leaving = &ring[from * ch..];
            let their_gains = &gains[j + from..j + k];
            // Exactly push_frame's output: gains of 1.0 copy, others multiply.
            let apply = |x: f32, g: f32| if g < 1.0 { x * g } else { x };
            if ch == 1 {
                out.extend(leaving.iter().zip(their_gains).map(|(&x, &g)| apply(x, g)));
            } else {
                for (frame, &g) in leaving.chunks_exact(ch).zip(their_gains) {
                    out.extend(frame.iter().map(|&x| apply(x, g)));
                }
            }
            for &g in their_gains {
                if g < 1.0 {
                    self.limited_frames += 1;
                    self.min_gain = self.min_gain.min(g);
                }
            }
            self.real_out += their_gains.len() as u64;
            ring.copy_from_slice(&frames[j * ch..(j + k) * ch]);
            self.delay_pos += k;
            if self.delay_pos == slots {
                self.delay_pos = 0;
            }
            j += k;
        }
    }

    /// [`Limiter::push_block`]: the interval peaks of `count` frames whose windows are in
    /// `lines`, left at 0.0 where no interpolated value can pass the ceiling (as
    /// [`Limiter::gain_for`] leaves them).
    fn block_peaks(&self, count: usize, peaks: &mut [f32; BLOCK_FRAMES]) {
        // Per frame, over all channels: the largest |sample| in the window (for the test
        // for a loud sample), and whether the bound of `may_pass` passes the ceiling. Worked
        // out for all BLOCK_FRAMES windows (those past `count` unused), frame by frame in
        // each step, so that the steps vectorise. A NaN counts as an infinite |sample|:
        // every bound passes, and the exact tests decide, as they would have.
        let mut widest = [0f32; BLOCK_FRAMES];
        let mut pass = [0u32; BLOCK_FRAMES];
        for line in &self.lines {
            let mut a = [0f32; SPAN];
            for (a, x) in a.iter_mut().zip(line) {
                let v = x.abs();
                *a = if v.is_nan() { f32::INFINITY } else { v };
            }
            // Window j is a[j ..= j + TAPS − 1]: the part up to TAPS − 1 (a suffix maximum)
            // and the part from TAPS (a prefix maximum).
            let mut suffix = [0f32; TAPS];
            let mut m = 0f32;
            for (s, &x) in suffix.iter_mut().zip(&a).rev() {
                m = max(m, x);
                *s = m;
            }
            let mut rest = [0f32; BLOCK_FRAMES];
            let mut prefix = 0f32;
            for (j, r) in rest.iter_mut().enumerate() {
                *r = max(suffix[j], prefix);
                prefix = max(prefix, a[TAPS + j]);
            }
            for (w, &r) in widest.iter_mut().zip(&rest) {
                *w = max(*w, r);
            }
            // The largest |sample| at distance 0–1, 2 and 3 from each window's interval.
            let mut m0 = [0f32; BLOCK_FRAMES];
            let mut m1 = [0f32; BLOCK_FRAMES];
            let mut m2 = [0f32; BLOCK_FRAMES];
            for j in 0..BLOCK_FRAMES {
                m0[j] = max(a[j + HALF - 1], a[j + HALF]);
                m1[j] = max(a[j + HALF - 2], a[j + HALF + 1]);
                m2[j] = max(a[j + HALF - 3], a[j + HALF + 2]);
            }
            let [g0, g1, g2, g3] = &self.group_columns;
            for p in 0..PHASES {
                for j in 0..BLOCK_FRAMES {
                    let bound = (g0[p] * m0[j] + g1[p] * m1[j]) + (g2[p] * m2[j] + g3[p] * rest[j]);
                    pass[j] |= u32::from(bound > self.ceiling);
                }
            }
        }
        for j in 0..count {
            if widest[j] > self.loud && pass[j] != 0 {
                peaks[j] = self.lines.iter().fold(0f32, |peak, line| {
                    match line[j..].first_chunk::<TAPS>() {
                        Some(w) if self.window_may_pass(w, widest[j]) => {
                            max(peak, self.window_peak(w))
                        }
                        _ => peak,
                    }
                });
            }
        }
    }

    /// Whether [`Limiter::window_peak`] of `w` (no |sample| of which is over `widest`)
    /// could pass the ceiling, by a second, tighter bound: per branch, the exact sum over
    /// the [`CENTRAL`] taps nearest the interval (first over the middle half of them), plus
    /// the other taps' absolute coefficients times the largest |sample| under them. A slack
    /// of 10⁻⁴ of `widest` covers the rounding of both sums (at most about 10⁻⁵ of it over
    /// 32 taps). Where it says no, the peak is at most the ceiling, and such a peak acts
    /// exactly like no peak. (With a NaN under the window, every interpolated value is NaN,
    /// which the peak ignores: only the centre sample counts, and it is tested first.)
    fn window_may_pass(&self, w: &[f32; TAPS], widest: f32) -> bool {
        if w[HALF - 1].abs() > self.ceiling {
            return true;
        }
        let slack = widest * 1e-4;
        let mut partial = [0f32; PHASES];
        let add = |partial: &mut [f32; PHASES], rows: &[[f32; PHASES]], from: usize| {
            for (row, &x) in rows.iter().zip(&w[from..]) {
                for (p, c) in partial.iter_mut().zip(row) {
                    *p += x * c;
                }
            }
        };
        let over = |partial: &[f32; PHASES], outer: &[f32; PHASES], outside: f32| {
            let mut over = false;
            for (p, o) in partial.iter().zip(outer) {
                over |= p.abs() + (o * outside + slack) > self.ceiling;
            }
            over
        };
        // First the middle half of the central taps, then, if that does not settle it,
        // the rest of them.
        let (before, after) = (CENTRAL_FROM + INNER, CENTRAL_FROM + CENTRAL - INNER);
        add(&mut partial, &self.central[INNER..CENTRAL - INNER], before);
        let outside = max(loudest(&w[..before]), loudest(&w[after..]));
        if !over(&partial, &self.outer_inner, outside) {
            return false;
        }
        add(&mut partial, &self.central[..INNER], CENTRAL_FROM);
        add(&mut partial, &self.central[CENTRAL - INNER..], after);
        let outside = max(
            loudest(&w[..CENTRAL_FROM]),
            loudest(&w[CENTRAL_FROM + CENTRAL..]),
        );
        over(&partial, &self.outer, outside)
    }

    /// The gain for frame i − latency, once frame i is in the history.
    fn gain_for(&mut self, i: u64) -> f32 {
        // Peak of the interval [m, m + 1), m = i − HALF, and the gain frame m needs. With no
        // loud sample under the interpolator, nothing in it can pass the ceiling.
        if i < HALF as u64 {
            return 1.0;
        }
        let peak = if self.last_loud.is_some_and(|l| l + TAPS as u64 > i) && self.may_pass() {
            self.interval_peak()
        } else {
            0.0
        };
        self.gain_with_peak(i, peak)
    }

    /// Whether the gain machinery is idle at frame i (given a peak under the ceiling): no
    /// need from the previous interval, no hold, both envelopes and the whole window at 1.0.
    #[inline(always)]
    fn idle(&self, i: u64) -> bool {
        self.previous_peak <= self.ceiling
            && self.fast == 1.0
            && self.slow == 1.0
            && self.window_below == 0
            && i >= (HALF + self.lookahead) as u64
            && self.minimum.is_unity()
    }

    /// [`Limiter::gain_for`] once the interval's peak is known (0.0 where it cannot pass
    /// the ceiling).
    #[inline(always)]
    fn gain_with_peak(&mut self, i: u64, peak: f32) -> f32 {
        let Some(m) = i.checked_sub(HALF as u64) else {
            return 1.0;
        };
        if peak <= self.ceiling && self.idle(i) {
            // Idle, as what follows would find: no need, so the hold is 1.0 (the queue only
            // (m, 1.0)), both envelopes stay at 1.0 and the window, all 1.0, stays so.
            self.previous_peak = peak;
            self.minimum.reset(m);
            self.window_pos += 1;
            if self.window_pos == self.lookahead {
                self.window_pos = 0;
            }
            self.window_sum = self.lookahead as f64;
            return 1.0;
        }
        let around = peak.max(self.previous_peak);
        self.previous_peak = peak;
        let need = if around > self.ceiling {
            self.ceiling / around
        } else {
            1.0
        };

        // Sliding minimum over [n, m], n = m − lookahead + 1: the look-ahead hold.
        self.minimum.push(m, need);
        let Some(n) = (m + 1).checked_sub(self.lookahead as u64) else {
            return 1.0;
        };
        let held = self.minimum.min_from(n);

        // Program-dependent release, two envelopes. The fast one follows every peak at once
        // and lets go quickly, so a lone click does not duck the words after it. The slow
        // one settles on the reduction that keeps being needed, so a run of peaks (voiced
        // speech) gets a steady gain instead of one that flutters with each glottal pulse.
        // The envelope is the lower of the two, never above what is needed.
        if self.fast < 1.0 {
            self.fast = 1.0 - (1.0 - self.fast) * self.fast_keep;
            if 1.0 - self.fast < RELEASE_SNAP {
                self.fast = 1.0;
            }
        }
        self.fast = self.fast.min(held);
        if held < 1.0 || self.slow < 1.0 {
            let coeff = if held < self.slow {
                self.slow_attack
            } else {
                self.slow_release
            };
            self.slow = held + (self.slow - held) * coeff;
            if held == 1.0 && 1.0 - self.slow < RELEASE_SNAP {
                self.slow = 1.0;
            }
        }
        let envelope = self.fast.min(self.slow);

        // Moving average over the last `lookahead` values: the attack ramp. Each value in the
        // window is at most the need at n, so their mean is too.
        let old = self.window[self.window_pos];
        self.window[self.window_pos] = envelope;
        self.window_pos += 1;
        if self.window_pos == self.lookahead {
            self.window_pos = 0;
        }
        self.window_below += usize::from(envelope < 1.0);
        self.window_below -= usize::from(old < 1.0);
        if self.window_below == 0 {
            self.window_sum = self.lookahead as f64;
            1.0
        } else {
            self.window_sum += f64::from(envelope) - f64::from(old);
            ((self.window_sum * self.inv_lookahead) as f32).min(1.0)
        }
    }
}

/// A monotonic queue of (frame, gain) for the sliding minimum: gains increase from front
/// to back, frames too. A fixed ring, as the queue never holds more than the window.
#[derive(Debug, Clone)]
struct MinimumQueue {
    frames: Vec<u64>,
    gains: Vec<f32>,
    /// Ring size − 1 (a power of two − 1).
    mask: usize,
    head: usize,
    len: usize,
}

impl MinimumQueue {
    /// A queue for windows of up to `window` entries.
    fn new(window: usize) -> Self {
        let size = window.next_power_of_two();
        MinimumQueue {
            frames: vec![0; size],
            gains: vec![0.0; size],
            mask: size - 1,
            head: 0,
            len: 0,
        }
    }

    fn front(&self) -> Option<(u64, f32)> {
        (self.len > 0).then(|| (self.frames[self.head], self.gains[self.head]))
    }

    /// Whether the queue is only (frame, 1.0) (for some frame).
    fn is_unity(&self) -> bool {
        self.len == 1 && self.gains[self.head] == 1.0
    }

    /// Only (frame, 1.0).
    fn reset(&mut self, frame: u64) {
        self.head = 0;
        self.len = 1;
        self.frames[0] = frame;
        self.gains[0] = 1.0;
    }

    /// Adds (frame, gain), dropping the entries at the back that it makes irrelevant.
    #[inline]
    fn push(&mut self, frame: u64, gain: f32) {
        while self.len > 0 && self.gains[(self.head + self.len - 1) & self.mask] >= gain {
            self.len -= 1;
        }
        let at = (self.head + self.len) & self.mask;
        self.frames[at] = frame;
        self.gains[at] = gain;
        self.len += 1;
    }

    /// Drops the entries before frame `first`; the smallest gain left (1.0 if none).
    #[inline]
    fn min_from(&mut self, first: u64) -> f32 {
        while self.len > 0 && self.frames[self.head] < first {
            self.head = (self.head + 1) & self.mask;
            self.len -= 1;
        }
        if self.len > 0 {
            self.gains[self.head]
        } else {
            1.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loudness::{self, measure};
    use std::f64::consts::PI;

    /// Multiplies every sample by `db` of gain.
    fn apply_gain_db(audio: &mut Audio, db: f64) {
        let g = db_to_gain(db) as f32;
        audio.samples.iter_mut().for_each(|x| *x *= g);
    }

    /// Deterministic speech-like test signal: a peaky glottal-pulse-like harmonic series on a
    /// wandering pitch, some noise, a 4 Hz syllable envelope and a 0.4 s pause (exact
    /// digital silence) every 2.5 s.
    fn speechlike(rate: u32, seconds: f64, seed: u64) -> Vec<f32> {
        let frames = (seconds * f64::from(rate)) as usize;
        let r = f64::from(rate);
        let mut state = seed;
        let mut noise = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        };
        let mut phase = 0.0f64;
        let mut out = Vec::with_capacity(frames);
        for i in 0..frames {
            let t = i as f64 / r;
            if t % 2.5 > 2.1 {
                out.push(0.0);
                continue;
            }
            let f0 = 120.0 + 30.0 * (2.0 * PI * 0.3 * t).sin() + 10.0 * (2.0 * PI * 1.7 * t).sin();
            phase = (phase + 2.0 * PI * f0 / r) % (2.0 * PI);
            let mut v = 0.0;
            let mut h = 1.0;
            while h * f0 < 4000.0 {
                v += (h * phase).sin() / h;
                h += 1.0;
            }
            let syllable = (2.0 * PI * 4.0 * t).sin().max(0.0).powi(2);
            out.push(((0.3 * v + 0.05 * noise()) * syllable) as f32);
        }
        out
    }

    fn mono(rate: u32, samples: Vec<f32>) -> Audio {
        Audio {
            sample_rate: rate,
            channels: 1,
            samples,
        }
    }

    fn scale_to(audio: &mut Audio, lufs: f64) {
        let now = loudness::integrated(audio).unwrap().unwrap();
        apply_gain_db(audio, lufs - now);
    }

    #[test]
    fn quiet_programme_reaches_the_target() {
        let mut a = mono(44100, speechlike(44100, 20.0, 1));
        scale_to(&mut a, -30.0);
        let silent: Vec<usize> = (0..a.samples.len())
            .filter(|&i| a.samples[i] == 0.0)
            .collect();
        let settings = MasterSettings::default();
        let report = master(&mut a, &settings).unwrap();
        let check = measure(&a).unwrap();
        let i = check.integrated_lufs.unwrap();
        let tp = check.true_peak_dbtp.unwrap();
        println!("quiet: {report:?}");
        assert!((i + 16.0).abs() <= 0.1, "integrated {i}");
        assert!(tp <= -1.0, "true peak {tp}");
        // The report's figures are ebur128's (to rounding in the last digits).
        let out = report.output;
        assert!((out.integrated_lufs.unwrap() - i).abs() < 1e-9);
        assert!((out.loudness_range_lu - check.loudness_range_lu).abs() < 1e-9);
        assert_eq!(out.true_peak_dbtp, check.true_peak_dbtp);
        assert_eq!(out.sample_peak_dbfs, check.sample_peak_dbfs);
        assert!(
            silent.iter().all(|&i| a.samples[i] == 0.0),
            "silence changed"
        );
        assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    }

    /// A take with clipped plosives: square-ish 6 ms bursts clipped at full scale every
    /// second (their inter-sample peaks pass 0 dBTP) over speech, stereo. Peak-to-loudness
    /// ratio is high, so the limiter has work to do even at −16 LUFS.
    fn hot_programme(rate: u32, seconds: f64) -> Audio {
        let left = speechlike(rate, seconds, 7);
        let right = speechlike(rate, seconds, 8);
        let mut samples = Vec::with_capacity(left.len() * 2);
        for (i, (l, r)) in left.iter().zip(&right).enumerate() {
            let t = i as f64 / f64::from(rate);
            let burst = if t % 1.0 < 0.006 {
                let sq = (2.0 * PI * 2900.0 * t).sin();
                Some((sq * 4.0).clamp(-1.0, 1.0) as f32)
            } else {
                None
            };
            let clip = |x: f32| (x * 0.4).clamp(-1.0, 1.0);
            samples.push(burst.unwrap_or(clip(*l)));
            samples.push(burst.map_or(clip(*r), |b| -b));
        }
        Audio {
            sample_rate: rate,
            channels: 2,
            samples,
        }
    }

    #[test]
    fn clipping_hot_programme_is_held_under_the_ceiling() {
        for rate in [44100, 48000] {
            let mut a = hot_programme(rate, 20.0);
            let before = measure(&a).unwrap();
            assert!(before.true_peak_dbtp.unwrap() > 0.0, "{before:?}");
            for target in [-16.0, -18.0, -14.0] {
                let mut b = a.clone();
                let settings = MasterSettings {
                    target_lufs: target,
                    ..MasterSettings::default()
                };
                let report = master(&mut b, &settings).unwrap();
                let check = measure(&b).unwrap();
                let i = check.integrated_lufs.unwrap();
                let tp = check.true_peak_dbtp.unwrap();
                println!(
                    "hot {rate} Hz → {target}: in {:.2} LUFS / {:.2} dBTP, gain {:.2} dB, \
                     limited {} of {} frames, max GR {:.2} dB, out {i:.3} LUFS / {tp:.3} dBTP",
                    before.integrated_lufs.unwrap(),
                    before.true_peak_dbtp.unwrap(),
                    report.gain_db,
                    report.limited_frames,
                    report.frames,
                    report.max_gain_reduction_db
                );
                // The limiter works exactly when the gain alone would pass the ceiling.
                let needed = before.true_peak_dbtp.unwrap() + report.gain_db > -1.1;
                assert_eq!(report.limited_frames > 0, needed);
                assert!(tp <= -1.0, "true peak {tp}");
                assert!((i - target).abs() <= 0.2, "integrated {i}");
                // After 16-bit dither too.
                let q = crate::dither::quantize_i16(&b.samples, 1);
                b.samples = q.iter().map(|&s| f32::from(s) / 32768.0).collect();
                let tp16 = measure(&b).unwrap().true_peak_dbtp.unwrap();
                assert!(tp16 <= -1.0, "true peak after dither {tp16}");
            }
            a.samples.clear();
        }
    }

    #[test]
    fn clipped_loud_take_comes_down_to_the_target() {
        // Speech driven 18 dB into hard clipping: square-ish, 0 dBFS, inter-sample overs.
        let mut a = mono(44100, speechlike(44100, 20.0, 11));
        a.samples
            .iter_mut()
            .for_each(|x| *x = (*x * 8.0).clamp(-1.0, 1.0));
        let before = measure(&a).unwrap();
        assert!(before.true_peak_dbtp.unwrap() > 0.0, "{before:?}");
        let report = master(&mut a, &MasterSettings::default()).unwrap();
        let check = measure(&a).unwrap();
        let (i, tp) = (
            check.integrated_lufs.unwrap(),
            check.true_peak_dbtp.unwrap(),
        );
        println!(
            "clipped: in {:.2} LUFS / {:.2} dBTP, gain {:.2} dB, out {i:.3} LUFS / {tp:.3} dBTP",
            before.integrated_lufs.unwrap(),
            before.true_peak_dbtp.unwrap(),
            report.gain_db
        );
        assert!((i + 16.0).abs() <= 0.1, "integrated {i}");
        assert!(tp <= -1.0, "true peak {tp}");
    }

    #[test]
    fn limiter_leaves_samples_away_from_peaks_untouched() {
        let rate = 48000;
        let mut x: Vec<f32> = (0..3 * rate as usize)
            .map(|i| (0.1 * (2.0 * PI * 440.0 * i as f64 / f64::from(rate)).sin()) as f32)
            .collect();
        // A 2 ms full-scale burst at 1 s.
        let (start, end) = (rate as usize, rate as usize + 96);
        for (k, v) in x[start..end].iter_mut().enumerate() {
            *v = if (k / 8) % 2 == 0 { 1.0 } else { -1.0 };
        }
        let original = x.clone();
        let mut a = mono(rate, x);
        let (lookahead_ms, release_ms) = (3.0, 80.0);
        let stats = limit(&mut a, -1.0, lookahead_ms, release_ms);
        let lookahead = (lookahead_ms * f64::from(rate) / 1000.0) as usize;
        // Release from ≤ 10 dB to the 0.01 dB snap: τ·ln(1000) ≈ 6.9 τ.
        let release = (7.0 * release_ms * f64::from(rate) / 1000.0) as usize;
        let first = a
            .samples
            .iter()
            .zip(&original)
            .position(|(y, x)| y != x)
            .unwrap();
        let last = a
            .samples
            .iter()
            .zip(&original)
            .rposition(|(y, x)| y != x)
            .unwrap();
        println!("touched frames {first}..={last} around a burst at {start}..{end}; {stats:?}");
        assert!(
            first + lookahead + HALF + 1 >= start,
            "touched from {first}"
        );
        assert!(
            first < start,
            "the gain must already be down when the peak arrives"
        );
        assert!(last <= end + HALF + release, "touched until {last}");
        assert_eq!(stats.limited_frames, (last - first + 1) as u64);
        assert!(a.samples[..first] == original[..first]);
        assert!(a.samples[last + 1..] == original[last + 1..]);
        assert!(stats.max_gain_reduction_db > 1.0);
        // The result is under the ceiling.
        let tp = measure(&a).unwrap().true_peak_dbtp.unwrap();
        assert!(tp <= -1.0 + 0.11, "{tp}");
    }

    #[test]
    fn limiter_output_does_not_depend_on_chunking() {
        let a = hot_programme(44100, 3.0);
        let mut whole = Vec::new();
        let mut l = Limiter::new(44100, 2, -1.0, 3.0, 80.0);
        assert!(l.latency_frames() > 0);
        l.process(&a.samples, &mut whole);
        l.finish(&mut whole);
        assert_eq!(whole.len(), a.samples.len());
        let mut pieces = Vec::new();
        let mut l = Limiter::new(44100, 2, -1.0, 3.0, 80.0);
        for chunk in a.samples.chunks(1237) {
            l.process(chunk, &mut pieces);
        }
        l.finish(&mut pieces);
        assert_eq!(whole, pieces);
        // The quiet fast path changes nothing.
        let mut slow = Vec::new();
        let mut l = Limiter::new(44100, 2, -1.0, 3.0, 80.0);
        l.fast_path = false;
        l.process(&a.samples, &mut slow);
        l.finish(&mut slow);
        assert_eq!(whole, slow);
    }

    #[test]
    fn the_quiet_fast_path_is_the_frame_by_frame_path() {
        // Heavy limiting (speech driven 12 dB over the ceiling), light limiting, and stereo
        // clipped bursts, in chunks that cut blocks anywhere.
        let mut heavy = mono(48000, speechlike(48000, 8.0, 21));
        apply_gain_db(&mut heavy, 12.0);
        let mut light = mono(44100, speechlike(44100, 8.0, 22));
        apply_gain_db(&mut light, 8.0);
        // Three channels: the hot stereo programme with a louder copy of its left channel.
        let hot = hot_programme(44100, 4.0);
        let three = Audio {
            sample_rate: 44100,
            channels: 3,
            samples: hot
                .samples
                .chunks_exact(2)
                .flat_map(|f| [f[0], f[1], f[0] * 1.3])
                .collect(),
        };
        for a in [heavy, light, hot, three] {
            let run = |fast_path: bool, chunk: usize| {
                let mut l = Limiter::new(a.sample_rate, a.channels, -1.1, 3.0, 80.0);
                l.fast_path = fast_path;
                let mut out = Vec::new();
                for c in a.samples.chunks(chunk) {
                    l.process(c, &mut out);
                }
                l.finish(&mut out);
                (out, l.stats())
            };
            let reference = run(false, 4096);
            assert!(reference.1.limited_frames > 0);
            for chunk in [1, 77, 4096, a.samples.len()] {
                let got = run(true, chunk);
                assert!(got.0 == reference.0, "chunk {chunk}: outputs differ");
                assert_eq!(got.1, reference.1);
            }
        }
    }

    #[test]
    fn the_block_path_treats_nan_as_the_frame_path_does() {
        // NaNs next to peaks, in quiet passages and at the centre of windows.
        let mut a = mono(44100, speechlike(44100, 3.0, 31));
        apply_gain_db(&mut a, 10.0);
        for (k, i) in (1000..a.samples.len()).step_by(4999).enumerate() {
            a.samples[i + k % 7] = f32::NAN;
        }
        let run = |fast_path: bool, chunk: usize| {
            let mut l = Limiter::new(44100, 1, -1.1, 3.0, 80.0);
            l.fast_path = fast_path;
            let mut out = Vec::new();
            for c in a.samples.chunks(chunk) {
                l.process(c, &mut out);
            }
            l.finish(&mut out);
            let bits: Vec<u32> = out.iter().map(|x| x.to_bits()).collect();
            (bits, l.stats())
        };
        let reference = run(false, 4096);
        assert!(reference.1.limited_frames > 0);
        for chunk in [77, 4096] {
            assert!(run(true, chunk) == reference, "chunk {chunk}");
        }
    }

    #[test]
    fn a_helper_thread_changes_nothing() {
        let a = hot_programme(44100, 6.0);
        let settings = MasterSettings::default();
        let mut alone = Collect::default();
        let one = master_replay(&a, &settings, &mut alone, &OneCore).unwrap();
        let mut helped = Collect::default();
        let two = master_replay(&a, &settings, &mut helped, &TwoCores).unwrap();
        assert_eq!(one, two);
        assert!(alone.0 == helped.0);
        assert!(one.passes >= 2, "{one:?}");
    }

    #[test]
    fn silence_and_near_silence() {
        let mut s = Audio::silence(44100, 2, 44100 * 3);
        let report = master(&mut s, &MasterSettings::default()).unwrap();
        assert!(s.samples.iter().all(|&x| x == 0.0));
        assert_eq!(report.gain_db, 0.0);
        assert_eq!(report.warnings.len(), 1);
        let json = serde_json::to_string(&report).unwrap();
        assert!(json.contains("\"integrated_lufs\":null"), "{json}");

        // A programme at −60 LUFS would need +44 dB: capped at +30 with a warning.
        let mut q = mono(44100, speechlike(44100, 5.0, 5));
        scale_to(&mut q, -60.0);
        let report = master(&mut q, &MasterSettings::default()).unwrap();
        assert_eq!(report.gain_db, 30.0);
        assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
        let i = report.output.integrated_lufs.unwrap();
        assert!((i + 30.0).abs() < 0.1, "{i}");
    }

    #[test]
    fn unreachable_target_is_a_warning_not_a_breach() {
        // Full-scale noise has a crest factor of a few dB: −3 LUFS under −1 dBTP is
        // impossible without distorting it into a square wave.
        let mut state = 5u64;
        let noise: Vec<f32> = (0..44100 * 5)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect();
        let mut a = mono(44100, noise);
        let settings = MasterSettings {
            target_lufs: -3.0,
            ..MasterSettings::default()
        };
        let report = master(&mut a, &settings).unwrap();
        println!(
            "unreachable: {} passes, {:?}",
            report.passes, report.warnings
        );
        assert!(report.passes <= MAX_PASSES);
        assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
        assert!(report.output.true_peak_dbtp.unwrap() <= -1.0);
        assert!(report.output.integrated_lufs.unwrap() < -3.2);
    }

    #[test]
    fn bad_settings_are_errors() {
        let mut a = mono(44100, vec![0.0; 100]);
        for s in [
            MasterSettings {
                target_lufs: f64::NAN,
                ..MasterSettings::default()
            },
            MasterSettings {
                true_peak_ceiling_dbtp: 3.0,
                ..MasterSettings::default()
            },
            MasterSettings {
                lookahead_ms: 0.0,
                ..MasterSettings::default()
            },
        ] {
            let e = master(&mut a, &s).unwrap_err();
            assert!(e.fix.is_some(), "{e}");
        }
    }

    #[test]
    #[ignore = "benchmark: cargo test --release master::tests::speed -- --ignored --nocapture"]
    fn speed() {
        let rate = 44100;
        let ten_minutes: Vec<f32> = speechlike(rate, 20.0, 9).repeat(30);
        let mut a = mono(rate, ten_minutes);
        scale_to(&mut a, -24.0);
        let seconds = a.duration_seconds();
        let t = std::time::Instant::now();
        let report = master(&mut a, &MasterSettings::default()).unwrap();
        let took = t.elapsed().as_secs_f64();
        println!(
            "master: {seconds:.0} s of 44.1 kHz mono in {took:.3} s = {:.0}× realtime; \
             limited {} frames, max GR {:.2} dB, out {:?}",
            seconds / took,
            report.limited_frames,
            report.max_gain_reduction_db,
            report.output
        );
        let t = std::time::Instant::now();
        let _ = measure(&a).unwrap();
        println!("measure alone: {:.3} s", t.elapsed().as_secs_f64());
        let t = std::time::Instant::now();
        let _ = limit(&mut a, -1.0, 3.0, 80.0);
        println!("limit alone: {:.3} s", t.elapsed().as_secs_f64());
    }
}

#[cfg(test)]
mod limiter_speed {
    use super::*;

    #[test]
    #[ignore = "benchmark: cargo test --release --lib master::limiter_speed -- --ignored --nocapture"]
    fn heavy_limiting() {
        let rate = 44100;
        let mut state = 3u64;
        let mut phase = 0.0f64;
        let samples: Vec<f32> = (0..rate as usize * 300)
            .map(|i| {
                let t = i as f64 / f64::from(rate);
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let n = ((state >> 40) as f64 / (1u64 << 24) as f64) * 2.0 - 1.0;
                let f0 = 110.0 + 20.0 * (2.0 * std::f64::consts::PI * 0.5 * t).sin();
                phase += 2.0 * std::f64::consts::PI * f0 / f64::from(rate);
                let pulse = (phase.sin().max(0.0)).powi(12);
                let env = (2.0 * std::f64::consts::PI * 3.0 * t).sin().max(0.0);
                (env * (1.6 * pulse + 0.02 * n)) as f32
            })
            .collect();
        for fast_path in [true, false] {
            let mut l = Limiter::new(rate, 1, -1.1, 3.0, 80.0);
            l.fast_path = fast_path;
            let mut out = Vec::with_capacity(samples.len());
            let t = std::time::Instant::now();
            for c in samples.chunks(16384) {
                l.process(c, &mut out);
            }
            l.finish(&mut out);
            println!(
                "limit (fast path {fast_path}): {:.3} s for 300 s, limited {} frames",
                t.elapsed().as_secs_f64(),
                l.stats().limited_frames
            );
        }
    }
}

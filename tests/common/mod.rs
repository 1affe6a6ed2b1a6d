//! Helpers shared by the integration tests: scratch projects, generated clips, running
//! the `narrate` binary.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A scratch project folder, removed when dropped.
pub struct Scratch {
    pub root: PathBuf,
}

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let root = std::env::temp_dir().join(format!(
            "narrate-test-{name}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).unwrap();
        Scratch { root }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Writes a text file, creating folders.
    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.path(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, text).unwrap();
        path
    }

    /// Writes a section script with the given front matter lines and text.
    pub fn section(&self, episode: &str, stem: &str, front: &str, text: &str) -> PathBuf {
        self.write(
            &format!("scripts/{episode}/{stem}.md"),
            &format!("+++\n{front}\n+++\n{text}\n"),
        )
    }

    /// Runs `narrate ARGS` with the project as working directory.
    pub fn narrate(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_narrate"))
            .args(args)
            .current_dir(&self.root)
            .output()
            .unwrap()
    }

    /// Runs `narrate build ARGS` and fails the test on a non-zero exit.
    pub fn build(&self, args: &[&str]) -> Output {
        let mut all = vec!["build"];
        all.extend_from_slice(args);
        let out = self.narrate(&all);
        assert!(
            out.status.success(),
            "narrate build failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Every file under the project's out/ folder, relative to the project.
    pub fn outputs(&self) -> Vec<String> {
        let mut found = Vec::new();
        collect(&self.path("out"), &self.root, &mut found);
        found.sort();
        found
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

fn collect(dir: &Path, root: &Path, found: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, root, found);
        } else {
            found.push(path.strip_prefix(root).unwrap().display().to_string());
        }
    }
}

/// A square wave of `frames` frames: every sample is ±`amplitude`, so every frame counts
/// as loud for trimming and its edges are exact.
pub fn square(frames: usize, channels: u16, period: usize, amplitude: f32) -> Vec<f32> {
    (0..frames)
        .flat_map(|i| {
            let v = if (i / (period / 2).max(1)) % 2 == 0 {
                amplitude
            } else {
                -amplitude
            };
            std::iter::repeat_n(v, usize::from(channels))
        })
        .collect()
}

/// A sine of `freq` Hz at `amplitude`, interleaved over `channels`.
pub fn sine(frames: usize, rate: u32, channels: u16, freq: f64, amplitude: f64) -> Vec<f32> {
    (0..frames)
        .flat_map(|i| {
            let v = (amplitude
                * (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin())
                as f32;
            std::iter::repeat_n(v, usize::from(channels))
        })
        .collect()
}

/// Writes float samples as a 16-bit PCM WAV with hound.
pub fn write_wav16(path: &Path, rate: u32, channels: u16, samples: &[f32]) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        w.write_sample((s * 32768.0).round().clamp(-32768.0, 32767.0) as i16)
            .unwrap();
    }
    w.finalize().unwrap();
}

/// Writes float samples as a 32-bit float WAV with hound.
pub fn write_wav_f32(path: &Path, rate: u32, channels: u16, samples: &[f32]) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
}

/// Reads a 16-bit WAV's samples with hound (an independent reader).
pub fn read_wav16(path: &Path) -> (hound::WavSpec, Vec<i16>) {
    let mut r = hound::WavReader::open(path).unwrap();
    let spec = r.spec();
    let samples = r.samples::<i16>().map(|s| s.unwrap()).collect();
    (spec, samples)
}

/// Whether an external program can be run; when it cannot, a test skips with a note
/// locally and fails in CI (where `.ci/run` installs it).
pub fn have_tool(program: &str, probe_arg: &str) -> bool {
    let ok = Command::new(program)
        .arg(probe_arg)
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "{program} is required in CI; .ci/run should install it"
        );
        eprintln!("note: {program} not found, skipping");
    }
    ok
}

/// Speech from espeak-ng as float samples at 22050 Hz mono, or `None` when espeak-ng is
/// missing (outside CI).
pub fn espeak(text: &str) -> Option<Vec<f32>> {
    if !have_tool("espeak-ng", "--version") {
        return None;
    }
    let out = Command::new("espeak-ng")
        .args(["--stdout", "-s", "150", text])
        .output()
        .unwrap();
    assert!(out.status.success(), "espeak-ng failed");
    let mut reader = hound::WavReader::new(std::io::Cursor::new(out.stdout)).unwrap();
    // espeak-ng streams with unknown sizes; read samples until the data runs out.
    Some(
        reader
            .samples::<i16>()
            .map_while(|s| s.ok())
            .map(|s| f32::from(s) / 32768.0)
            .collect(),
    )
}

/// ffmpeg's EBU R128 meter on `path`: (integrated LUFS, true peak dBTP).
pub fn ffmpeg_ebur128(path: &Path) -> (f64, f64) {
    let out = Command::new("ffmpeg")
        .args(["-nostats", "-hide_banner", "-i"])
        .arg(path)
        .args(["-af", "ebur128=peak=true", "-f", "null", "-"])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    let summary = log.rsplit("Summary:").next().unwrap_or_default();
    let value = |key: &str| -> f64 {
        summary
            .lines()
            .find_map(|l| l.trim().strip_prefix(key))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no `{key}` in ffmpeg's summary:\n{log}"))
    };
    (value("I:"), value("Peak:"))
}

/// A fake speech engine in `p` that "speaks" a 300 Hz tone and counts its calls (see
/// [`engine_calls`]); returns the path of its script, for `command = ["sh", SCRIPT, "{out}"]`.
pub fn fake_engine_script(p: &Scratch) -> String {
    write_wav16(
        &p.path("tone.wav"),
        22_050,
        1,
        &sine(22_050, 22_050, 1, 300.0, 0.3),
    );
    p.write(
        "engine.sh",
        "#!/bin/sh\necho call >> \"$(dirname \"$0\")/calls.txt\"\ncp \"$(dirname \"$0\")/tone.wav\" \"$1\"\n",
    );
    p.path("engine.sh").display().to_string()
}

/// How many times the engine of [`fake_engine_script`] in `p` was called.
pub fn engine_calls(p: &Scratch) -> usize {
    fs::read_to_string(p.path("calls.txt")).map_or(0, |s| s.lines().count())
}

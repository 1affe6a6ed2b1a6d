//! Hostile and broken inputs (issue 7): every one gets a clear error (exit code 1, the file
//! named, a `fix:` line, no panic) or correct output, in bounded time and memory, and the
//! project's inputs are never written.
//!
//! Every `narrate` run here is a child process under a 30 s time limit (killed and failed when
//! it runs over) and a 2 GiB address-space limit (`ulimit -v` in `sh`), far below what the
//! hostile headers claim: a run that tries to allocate from them dies and fails the test.
//! Basic cases already in `tests/bad_input.rs` are not repeated; this file adds the classes
//! the issue lists, `narrate inspect` and `narrate check` on each, and path containment.
//!
//! Needs `sh` (any POSIX shell with `ulimit -v`); the MP3 test needs `lame`.
#![cfg(unix)]

mod common;
#[path = "support/sidecar_parsers.rs"]
mod parsers;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{have_tool, square, write_wav16, Scratch};
use narrate::wav::reader::read_wav_info;

/// Longest any one `narrate` run may take.
const TIME_LIMIT: Duration = Duration::from_secs(30);
/// Address space a `narrate` run may use, in KiB (2 GiB).
const MEMORY_LIMIT_KIB: u64 = 2 << 20;

// ---------------------------------------------------------------------------------------------
// Running narrate, bounded.

/// What one bounded run of `narrate` did.
struct Run {
    args: Vec<String>,
    code: Option<i32>,
    signal: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "narrate {:?}: exit {:?} (signal {:?}) after {:.2?}\n--- stdout\n{}--- stderr\n{}",
            self.args, self.code, self.signal, self.elapsed, self.stdout, self.stderr
        )
    }
}

/// Runs `narrate ARGS` in `dir` under the time and memory limits.
fn narrate_in(dir: &Path, args: &[&str]) -> Run {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let base = std::env::temp_dir().join(format!(
        "narrate-hostile-run-{}-{}",
        std::process::id(),
        RUNS.fetch_add(1, Ordering::SeqCst)
    ));
    let (out_path, err_path) = (base.with_extension("out"), base.with_extension("err"));
    let start = Instant::now();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -v "$1" || exit 97; shift; exec "$@""#)
        .arg("sh")
        .arg(MEMORY_LIMIT_KIB.to_string())
        .arg(env!("CARGO_BIN_EXE_narrate"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out_path).unwrap())
        .stderr(fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("sh runs");
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = fs::read_to_string(&err_path).unwrap_or_default();
            let _ = (fs::remove_file(&out_path), fs::remove_file(&err_path));
            panic!("narrate {args:?} ran over {TIME_LIMIT:?} and was killed; stderr:\n{stderr}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = start.elapsed();
    let read = |p: &Path| String::from_utf8_lossy(&fs::read(p).unwrap_or_default()).into_owned();
    let run = Run {
        args: args.iter().map(|a| a.to_string()).collect(),
        code: status.code(),
        signal: std::os::unix::process::ExitStatusExt::signal(&status),
        stdout: read(&out_path),
        stderr: read(&err_path),
        elapsed,
    };
    let _ = (fs::remove_file(&out_path), fs::remove_file(&err_path));
    assert_ne!(run.code, Some(97), "sh could not set the memory limit");
    run
}

fn narrate(p: &Scratch, args: &[&str]) -> Run {
    narrate_in(&p.root, args)
}

/// A clear error: exit code 1, no panic, `error:` then a `fix:` line, and every `needle`
/// (file names, key words) in the message. Returns stderr.
fn clear_error(run: &Run, needles: &[&str]) -> String {
    assert_eq!(run.code, Some(1), "expected exit code 1:\n{run}");
    assert!(!run.stderr.contains("panicked"), "a panic:\n{run}");
    assert!(run.stderr.contains("error: "), "no `error:` line:\n{run}");
    assert!(run.stderr.contains("\n  fix: "), "no `fix:` line:\n{run}");
    for needle in needles {
        assert!(
            run.stderr.contains(needle),
            "`{needle}` not in the error:\n{run}"
        );
    }
    run.stderr.clone()
}

fn succeeded(run: &Run) {
    assert_eq!(run.code, Some(0), "expected success:\n{run}");
    assert!(!run.stderr.contains("panicked"), "a panic:\n{run}");
}

// ---------------------------------------------------------------------------------------------
// Projects and their inputs.

/// A one-section project whose clip (`audio/e/01-a.wav`) is `clip`; narration is not trimmed,
/// so the output holds exactly the clip's frames.
fn project_with_clip(name: &str, clip: &[u8]) -> Scratch {
    let p = Scratch::new(name);
    p.write(
        "narrate.toml",
        "[project]\ntitle = \"T\"\n\n[episodes.e]\ntitle = \"E\"\n",
    );
    p.section("e", "01-a", "title = \"A\"\ntrim = false", "Words.");
    fs::create_dir_all(p.path("audio/e")).unwrap();
    fs::write(p.path("audio/e/01-a.wav"), clip).unwrap();
    p
}

/// A normal one-section project with a 0.1 s 44.1 kHz clip.
fn good_project(name: &str) -> Scratch {
    project_with_clip(name, &wav(&fmt_pcm(1, 44_100, 16), &pcm16(&tone(4_410))))
}

/// Every file under the project's inputs (narrate.toml, scripts/, audio/, anything else but
/// out/ and narrate's caches), with its bytes: compared before and after a run to show
/// nothing was written.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(dir: &Path, root: &Path, found: &mut BTreeMap<PathBuf, Vec<u8>>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            // Outputs, and narrate's own caches (`.narrate-cache/`…), are not inputs.
            let name = rel.to_string_lossy();
            if rel == Path::new("out") || name.starts_with(".narrate") {
                continue;
            }
            let meta = fs::symlink_metadata(&path).unwrap();
            if meta.file_type().is_symlink() {
                let target = fs::read_link(&path).unwrap();
                found.insert(rel, target.into_os_string().into_encoded_bytes());
            } else if meta.is_dir() {
                walk(&path, root, found);
            } else if meta.is_file() {
                found.insert(rel, fs::read(&path).unwrap());
            }
        }
    }
    let mut found = BTreeMap::new();
    walk(root, root, &mut found);
    found
}

fn assert_unchanged(before: &BTreeMap<PathBuf, Vec<u8>>, root: &Path) {
    let after = snapshot(root);
    let names = |m: &BTreeMap<PathBuf, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(before),
        names(&after),
        "files appeared or vanished among the inputs"
    );
    for (path, bytes) in before {
        assert!(after[path] == *bytes, "{} was written", path.display());
    }
}

// ---------------------------------------------------------------------------------------------
// WAV bytes, built by hand so that every field can lie.

fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
    chunk_claiming(id, body, body.len() as u32)
}

/// A chunk whose header claims `size` bytes whatever the body holds (pad byte added for an
/// odd body).
fn chunk_claiming(id: &[u8; 4], body: &[u8], size: u32) -> Vec<u8> {
    let mut out = id.to_vec();
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(body);
    if body.len() % 2 == 1 {
        out.push(0);
    }
    out
}

fn riff(chunks: &[Vec<u8>]) -> Vec<u8> {
    let body = chunks.concat();
    riff_claiming(&body, body.len() as u32 + 4)
}

fn riff_claiming(body: &[u8], size: u32) -> Vec<u8> {
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(b"WAVE");
    out.extend_from_slice(body);
    out
}

/// A 16-byte PCM `fmt ` body; byte rate and block align follow from the fields.
fn fmt_pcm(channels: u16, rate: u32, bits: u16) -> Vec<u8> {
    let align = channels.wrapping_mul(bits / 8);
    let mut b = Vec::new();
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&channels.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&rate.wrapping_mul(u32::from(align)).to_le_bytes());
    b.extend_from_slice(&align.max(bits / 8).to_le_bytes());
    b.extend_from_slice(&bits.to_le_bytes());
    b
}

/// A square wave at a quarter of full scale (loud enough for trimming to keep all of it).
fn tone(frames: usize) -> Vec<f32> {
    square(frames, 1, 100, 0.25)
}

fn pcm16(samples: &[f32]) -> Vec<u8> {
    samples
        .iter()
        .flat_map(|s| ((s * 32767.0).round() as i16).to_le_bytes())
        .collect()
}

/// `fmt ` + `data` holding `data`.
fn wav(fmt: &[u8], data: &[u8]) -> Vec<u8> {
    riff(&[chunk(b"fmt ", fmt), chunk(b"data", data)])
}

// ---------------------------------------------------------------------------------------------
// The three commands on one hostile clip.

enum Expect<'a> {
    /// Build and check fail with a clear error mentioning these words.
    Error(&'a [&'a str]),
    /// The build succeeds with exactly this many frames in the output.
    Builds(u64),
}

/// Puts `bytes` in as the clip of a project, then: `build` and `check` give the expected
/// outcome; `inspect` on the clip gives a report or a clear error, never a panic; the
/// inputs are untouched. Returns the inspect run.
fn hostile_clip(name: &str, bytes: &[u8], expect: Expect) -> Run {
    let p = project_with_clip(name, bytes);
    let before = snapshot(&p.root);
    let build = narrate(&p, &["build"]);
    let check = narrate(&p, &["check"]);
    match expect {
        Expect::Error(needles) => {
            let mut all = vec!["01-a.wav"];
            all.extend_from_slice(needles);
            clear_error(&build, &all);
            clear_error(&check, &all);
            assert!(p.outputs().is_empty(), "outputs written: {:?}", p.outputs());
        }
        Expect::Builds(frames) => {
            succeeded(&build);
            succeeded(&check);
            let info = read_wav_info(&p.path("out/guide/e.wav")).unwrap();
            assert_eq!(info.frames, frames, "{build}");
            assert_eq!(info.cues.len(), 1);
        }
    }
    assert_unchanged(&before, &p.root);
    let inspect = inspect_sanely(&p, "audio/e/01-a.wav");
    assert_unchanged(&before, &p.root);
    inspect
}

/// `narrate inspect FILE` and `--json`: a report (exit 0, with valid JSON) or a clear error
/// naming the file; never a panic, a signal or a hang.
fn inspect_sanely(p: &Scratch, file: &str) -> Run {
    let text = narrate(p, &["inspect", file]);
    let json = narrate(p, &["inspect", file, "--json"]);
    match text.code {
        Some(0) => {
            succeeded(&json);
            assert!(text.stdout.starts_with("File "), "{text}");
            let doc: serde_json::Value = serde_json::from_str(&json.stdout)
                .unwrap_or_else(|e| panic!("inspect --json is not JSON ({e}):\n{json}"));
            assert!(doc["warnings"].is_array(), "{json}");
        }
        _ => {
            clear_error(&text, &[file]);
            clear_error(&json, &[file]);
        }
    }
    text
}

fn warns(run: &Run, needle: &str) {
    assert_eq!(run.code, Some(0), "{run}");
    assert!(
        run.stdout.contains("Problems ("),
        "no problems listed:\n{run}"
    );
    assert!(
        run.stdout.contains(needle),
        "`{needle}` not reported:\n{run}"
    );
}

// ---------------------------------------------------------------------------------------------
// Broken and hostile WAV files.

#[test]
fn truncated_at_every_structural_point() {
    let full = wav(&fmt_pcm(1, 44_100, 16), &pcm16(&tone(4_410)));
    // In the RIFF header, in `fmt `'s header and body, in `data`'s header, right after it,
    // half a sample in, and one byte short of the end.
    for cut in [3, 8, 11, 12, 16, 20, 30, 36, 40, 44, 45, full.len() - 1] {
        let inspect = hostile_clip(
            &format!("cut{cut}"),
            &full[..cut],
            Expect::Error(&["truncated"]),
        );
        if inspect.code == Some(0) {
            assert!(
                inspect.stdout.contains("Problems ("),
                "cut at {cut}:\n{inspect}"
            );
        }
    }
}

#[test]
fn header_claiming_more_data_than_present() {
    let data = pcm16(&tone(4_410));
    let bytes = riff(&[
        chunk(b"fmt ", &fmt_pcm(1, 44_100, 16)),
        chunk_claiming(b"data", &data, data.len() as u32 + 1000),
    ]);
    let inspect = hostile_clip(
        "claims-more",
        &bytes,
        Expect::Error(&["truncated", "declares 9820 bytes"]),
    );
    warns(&inspect, "cut short");
}

#[test]
fn riff_size_claiming_more_than_the_file_still_decodes_the_data() {
    let body = [
        chunk(b"fmt ", &fmt_pcm(1, 44_100, 16)),
        chunk(b"data", &pcm16(&tone(4_410))),
    ]
    .concat();
    let inspect = hostile_clip(
        "riff-claims-more",
        &riff_claiming(&body, 50_000_000),
        Expect::Builds(4_410),
    );
    warns(&inspect, "shorter than its header says");
}

#[test]
fn zero_channels() {
    let mut fmt = fmt_pcm(1, 44_100, 16);
    fmt[2..4].copy_from_slice(&0u16.to_le_bytes());
    let inspect = hostile_clip(
        "zero-channels",
        &wav(&fmt, &pcm16(&tone(4_410))),
        Expect::Error(&["0 channels"]),
    );
    warns(&inspect, "0 channels");
}

/// 65,535 channels of 64-bit float: a frame of 512 KiB, more than a WAV header can state.
#[test]
fn absurd_channel_counts() {
    let mut fmt = fmt_pcm(1, 44_100, 16);
    fmt[0..2].copy_from_slice(&3u16.to_le_bytes());
    fmt[2..4].copy_from_slice(&u16::MAX.to_le_bytes());
    fmt[14..16].copy_from_slice(&64u16.to_le_bytes());
    hostile_clip(
        "channels-65535",
        &wav(&fmt, &[0u8; 4096]),
        Expect::Error(&["65535 channels"]),
    );
}

/// Found by fuzzing: an MPEG sync word, then a WAV whose `fmt ` claims 64,513 channels.
/// The file is probed as MPEG audio; the probe must not hand the embedded WAV to a reader
/// that overflows on it.
#[test]
fn mpeg_sync_then_a_hostile_wav() {
    let mut fmt = fmt_pcm(1, 44_100, 16);
    fmt[2..4].copy_from_slice(&64_513u16.to_le_bytes());
    let mut bytes = vec![0xFF, 0xFA];
    bytes.extend(wav(&fmt, &[0x40; 200]));
    hostile_clip("mpeg-then-wav", &bytes, Expect::Error(&[]));
}

/// A float WAV holding NaN and infinities: refused, not mastered into a wrong level.
#[test]
fn float_samples_that_are_not_numbers() {
    let mut samples = tone(44_100);
    samples[22_050] = f32::NAN;
    samples[30_000] = f32::INFINITY;
    samples[30_001] = f32::NEG_INFINITY;
    let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    let mut fmt = fmt_pcm(1, 44_100, 32);
    fmt[0..2].copy_from_slice(&3u16.to_le_bytes());
    hostile_clip(
        "float-nan",
        &wav(&fmt, &data),
        Expect::Error(&["3 samples that are not numbers", "0.500 s"]),
    );
}

#[test]
fn sample_rate_zero() {
    let inspect = hostile_clip(
        "rate-0",
        &wav(&fmt_pcm(1, 0, 16), &pcm16(&tone(4_410))),
        Expect::Error(&["sample rate of 0 Hz"]),
    );
    warns(&inspect, "0 Hz");
}

/// Resampling from these would need gigabytes (the resampler's block follows the ratio of the
/// rates): each is refused from the header.
#[test]
fn sample_rates_of_4_billion_and_other_absurd_ones() {
    for rate in [4_000_000_000, u32::MAX, 1, 999, 768_001] {
        let inspect = hostile_clip(
            &format!("rate-{rate}"),
            &wav(&fmt_pcm(1, rate, 16), &pcm16(&tone(4_410))),
            Expect::Error(&[&format!("sample rate of {rate} Hz"), "768000 Hz"]),
        );
        warns(&inspect, &format!("{rate} Hz"));
    }
}

/// The extremes of the accepted range still convert, quickly and in little memory.
#[test]
fn sample_rates_at_the_ends_of_the_range() {
    // 767,999 Hz shares no factor with 44.1 kHz but 1: the largest resampler block.
    for (rate, frames) in [(1_000u32, 1_000u64), (767_999, 767_999)] {
        let run_frames = narrate::convert::converted_frames(frames, rate, 44_100);
        hostile_clip(
            &format!("rate-ok-{rate}"),
            &wav(&fmt_pcm(1, rate, 16), &pcm16(&tone(frames as usize))),
            Expect::Builds(run_frames),
        );
    }
}

#[test]
fn data_chunk_claiming_4_gib() {
    let data = pcm16(&tone(4_410));
    let bytes = riff(&[
        chunk(b"fmt ", &fmt_pcm(1, 44_100, 16)),
        chunk_claiming(b"data", &data, 0xFFFF_FFF0),
    ]);
    let inspect = hostile_clip(
        "data-4gib",
        &bytes,
        Expect::Error(&["truncated", "4294967280 bytes"]),
    );
    warns(&inspect, "cut short");
}

/// 0xFFFFFFFF is what streaming recorders leave when they never come back to fill the size
/// in: the data runs to the end of the file.
#[test]
fn data_chunk_size_left_unknown_by_a_streaming_recorder() {
    let data = pcm16(&tone(4_410));
    let bytes = riff(&[
        chunk(b"fmt ", &fmt_pcm(1, 44_100, 16)),
        chunk_claiming(b"data", &data, u32::MAX),
    ]);
    hostile_clip("data-unknown", &bytes, Expect::Builds(4_410));
}

/// RF64 whose `ds64` claims 2^62 bytes of data.
#[test]
fn rf64_claiming_exabytes() {
    let mut ds64 = Vec::new();
    ds64.extend_from_slice(&(1u64 << 62).to_le_bytes()); // RIFF size
    ds64.extend_from_slice(&(1u64 << 62).to_le_bytes()); // data size
    ds64.extend_from_slice(&(1u64 << 61).to_le_bytes()); // sample count
    ds64.extend_from_slice(&0u32.to_le_bytes());
    let body = [
        chunk(b"ds64", &ds64),
        chunk(b"fmt ", &fmt_pcm(1, 44_100, 16)),
        chunk_claiming(b"data", &pcm16(&tone(4_410)), u32::MAX),
    ]
    .concat();
    let mut bytes = riff_claiming(&body, u32::MAX);
    bytes[..4].copy_from_slice(b"RF64");
    let inspect = hostile_clip("rf64-huge", &bytes, Expect::Error(&["truncated"]));
    warns(&inspect, "cut short");
}

#[test]
fn chunk_sizes_pointing_past_the_end() {
    let data = pcm16(&tone(4_410));
    let fmt = fmt_pcm(1, 44_100, 16);
    // A LIST before the audio claiming 2 GiB.
    let bytes = riff(&[
        chunk(b"fmt ", &fmt),
        chunk_claiming(b"LIST", b"INFOjunk", 0x7FFF_FFF0),
        chunk(b"data", &data),
    ]);
    let inspect = hostile_clip(
        "list-past-end",
        &bytes,
        Expect::Error(&["`LIST` chunk claims 2147483632 bytes", "past the end"]),
    );
    warns(&inspect, "cut short");

    // A `fmt ` claiming 4 GiB.
    let bytes = riff(&[
        chunk_claiming(b"fmt ", &fmt, 0xFFFF_FF00),
        chunk(b"data", &data),
    ]);
    hostile_clip(
        "fmt-past-end",
        &bytes,
        Expect::Error(&["`fmt ` chunk claims"]),
    );

    // After the audio, a chunk pointing past the end does not matter to the audio.
    let bytes = riff(&[
        chunk(b"fmt ", &fmt),
        chunk(b"data", &data),
        chunk_claiming(b"LIST", b"adtl", 0x7FFF_FFF0),
    ]);
    let inspect = hostile_clip("trailing-past-end", &bytes, Expect::Builds(4_410));
    warns(&inspect, "cut short");

    // A cue chunk claiming a billion cue points, and labels for cue ids that do not exist.
    let mut cue = 1_000_000_000u32.to_le_bytes().to_vec();
    cue.extend_from_slice(&[0u8; 24]);
    let mut labl = 7u32.to_le_bytes().to_vec();
    labl.extend_from_slice(b"ghost\0");
    let mut adtl = b"adtl".to_vec();
    adtl.extend_from_slice(&chunk(b"labl", &labl));
    let bytes = riff(&[
        chunk(b"fmt ", &fmt),
        chunk(b"data", &data),
        chunk(b"cue ", &cue),
        chunk(b"LIST", &adtl),
    ]);
    let inspect = hostile_clip("cue-billion", &bytes, Expect::Builds(4_410));
    warns(&inspect, "declares 1000000000 cue points but holds 1");
    warns(&inspect, "cue id 7, which has no cue point");
}

/// 300,000 cue points (7 MiB, under the reader's 16 MiB cap for a metadata chunk): inspect
/// lists them in bounded time. A duplicate-id check that scanned the list made this take
/// minutes.
#[test]
fn inspect_with_hundreds_of_thousands_of_cue_points() {
    const N: u32 = 300_000;
    let mut cue = N.to_le_bytes().to_vec();
    for i in 0..N {
        // The last point repeats the first id.
        let id = if i == N - 1 { 0 } else { i };
        for v in [id, i] {
            cue.extend_from_slice(&v.to_le_bytes());
        }
        cue.extend_from_slice(b"data");
        for v in [0, 0, i % 4_410] {
            cue.extend_from_slice(&v.to_le_bytes());
        }
    }
    let bytes = riff(&[
        chunk(b"fmt ", &fmt_pcm(1, 44_100, 16)),
        chunk(b"data", &pcm16(&tone(4_410))),
        chunk(b"cue ", &cue),
    ]);
    let p = project_with_clip("many-cues", &bytes);
    let run = narrate(&p, &["inspect", "audio/e/01-a.wav"]);
    warns(&run, "cue id 0 appears twice");
    assert!(
        run.stdout.contains(&format!("Chapters ({})", N - 1)),
        "{}",
        &run.stderr
    );
    assert!(
        run.elapsed < Duration::from_secs(10),
        "took {:?}",
        run.elapsed
    );
}

#[test]
fn text_file_named_wav() {
    // UTF-8 with a byte-order mark, as Windows editors save it: a script put in the wrong place.
    let text = "\u{feff}+++\ntitle = \"Risks\"\n+++\nLike any procedure, there are risks.\n";
    let inspect = hostile_clip(
        "text",
        text.as_bytes(),
        Expect::Error(&["text file, not audio"]),
    );
    assert!(inspect.stderr.contains("not a WAV file"), "{inspect}");
}

#[test]
fn mp3_named_wav_decodes_by_content() {
    if !have_tool("lame", "--version") {
        return;
    }
    let dir = Scratch::new("mp3-src");
    let source = dir.path("a.wav");
    write_wav16(
        &source,
        44_100,
        1,
        &common::sine(44_100, 44_100, 1, 440.0, 0.3),
    );
    let mp3 = dir.path("a.mp3");
    let out = Command::new("lame")
        .args(["--quiet", "-b", "128"])
        .arg(&source)
        .arg(&mp3)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // LAME writes its encoder delay and padding, so the decoded length is exact.
    let inspect = hostile_clip("mp3", &fs::read(&mp3).unwrap(), Expect::Builds(44_100));
    assert!(inspect.stderr.contains("not a WAV file"), "{inspect}");
}

#[test]
fn empty_file() {
    let inspect = hostile_clip("empty", b"", Expect::Error(&["empty"]));
    assert!(inspect.stderr.contains("0 bytes"), "{inspect}");
}

#[test]
fn one_sample_clip() {
    hostile_clip(
        "one-sample",
        &wav(&fmt_pcm(1, 44_100, 16), &pcm16(&[0.5])),
        Expect::Builds(1),
    );
    // Resampled: 1 frame at 8 kHz is 5.5125 frames at 44.1 kHz, rounded to 6.
    hostile_clip(
        "one-sample-8k",
        &wav(&fmt_pcm(1, 8_000, 16), &pcm16(&[0.5])),
        Expect::Builds(6),
    );
    // Trimmed (the default for narration): the one loud sample stays.
    let p = project_with_clip(
        "one-sample-trim",
        &wav(&fmt_pcm(1, 44_100, 16), &pcm16(&[0.5])),
    );
    p.section("e", "01-a", "title = \"A\"", "Words.");
    succeeded(&narrate(&p, &["build"]));
    assert_eq!(read_wav_info(&p.path("out/guide/e.wav")).unwrap().frames, 1);
}

/// A FIFO named like a recording: nothing may block on it.
#[test]
fn fifo_named_wav_never_hangs() {
    let p = good_project("fifo");
    let status = Command::new("mkfifo")
        .arg(p.path("audio/pipe.wav"))
        .status()
        .unwrap();
    assert!(status.success());
    p.section(
        "e",
        "01-a",
        "title = \"A\"\nclip = \"audio/pipe.wav\"",
        "Words.",
    );
    clear_error(
        &narrate(&p, &["build"]),
        &["01-a.md", "audio/pipe.wav", "not a file"],
    );
    clear_error(
        &narrate(&p, &["inspect", "audio/pipe.wav"]),
        &["audio/pipe.wav"],
    );
}

// ---------------------------------------------------------------------------------------------
// Script and manifest text.

fn read_json(p: &Scratch, file: &str) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(p.path(file)).unwrap()).unwrap()
}

#[test]
fn non_utf8_script_text() {
    let p = good_project("latin1");
    // "Café" saved as Latin-1 on line 4.
    fs::write(
        p.path("scripts/e/01-a.md"),
        b"+++\ntitle = \"A\"\n+++\nCaf\xe9 au lait.\n",
    )
    .unwrap();
    let before = snapshot(&p.root);
    clear_error(
        &narrate(&p, &["build"]),
        &["01-a.md", "not valid UTF-8", "line 4, column 4"],
    );
    assert!(p.outputs().is_empty());
    assert_unchanged(&before, &p.root);
}

#[test]
fn non_utf8_manifest() {
    let p = good_project("latin1-manifest");
    fs::write(
        p.path("narrate.toml"),
        b"[project]\ntitle = \"H\xf4pital\"\n\n[episodes.e]\ntitle = \"E\"\n",
    )
    .unwrap();
    clear_error(
        &narrate(&p, &["check"]),
        &["narrate.toml", "not valid UTF-8", "line 2, column 11"],
    );
}

#[test]
fn byte_order_marks_are_dropped() {
    let p = good_project("bom");
    p.write(
        "narrate.toml",
        "\u{feff}[project]\ntitle = \"T\"\n\n[episodes.e]\ntitle = \"E\"\n",
    );
    p.write(
        "scripts/e/01-a.md",
        "\u{feff}+++\ntitle = \"A\"\ntrim = false\n+++\nWords.\n",
    );
    succeeded(&narrate(&p, &["build"]));
    let doc = read_json(&p, "out/guide/e.chapters.json");
    assert_eq!(doc["chapters"][0]["title"], "A");
    assert_eq!(doc["title"], "E");
    let transcript = fs::read_to_string(p.path("out/guide/e.txt")).unwrap();
    assert!(!transcript.contains('\u{feff}'), "{transcript:?}");
}

#[test]
fn crlf_line_ends() {
    let p = good_project("crlf");
    p.write(
        "narrate.toml",
        "[project]\r\ntitle = \"T\"\r\n\r\n[episodes.e]\r\ntitle = \"E\"\r\n",
    );
    p.write(
        "scripts/e/01-a.md",
        "+++\r\ntitle = \"A\"\r\ntrim = false\r\n+++\r\nFirst line.\r\nSecond line.\r\n",
    );
    succeeded(&narrate(&p, &["build"]));
    let doc = read_json(&p, "out/guide/e.chapters.json");
    assert_eq!(doc["chapters"][0]["title"], "A");
    let transcript = fs::read_to_string(p.path("out/guide/e.txt")).unwrap();
    assert!(!transcript.contains('\r'), "{transcript:?}");
    assert!(
        transcript.contains("First line.\nSecond line.\n"),
        "{transcript:?}"
    );
}

/// 10,000 sections, each with its own tiny clip, build in bounded time; every sidecar holds
/// every chapter (the CUE sheet its 99 and a note).
#[test]
fn ten_thousand_sections() {
    const N: usize = 10_000;
    let p = Scratch::new("ten-thousand");
    p.write(
        "narrate.toml",
        "[project]\ntitle = \"T\"\n\n[defaults]\npause = 0.0\n\n[episodes.e]\ntitle = \"E\"\n",
    );
    let clip = wav(&fmt_pcm(1, 44_100, 16), &pcm16(&tone(441)));
    fs::create_dir_all(p.path("audio/e")).unwrap();
    fs::create_dir_all(p.path("scripts/e")).unwrap();
    for i in 1..=N {
        fs::write(p.path(&format!("audio/e/{i:05}-s.wav")), &clip).unwrap();
        fs::write(
            p.path(&format!("scripts/e/{i:05}-s.md")),
            format!("+++\ntitle = \"Section {i}\"\ntrim = false\n+++\nWords {i}.\n"),
        )
        .unwrap();
    }
    let build = narrate(&p, &["build"]);
    succeeded(&build);
    eprintln!("10,000 sections built in {:.2?}", build.elapsed);

    let info = read_wav_info(&p.path("out/guide/e.wav")).unwrap();
    assert_eq!(info.frames, 441 * N as u64);
    assert_eq!(info.cues.len(), N);
    assert_eq!(info.cues[N - 1].label.as_deref(), Some("Section 10000"));
    assert_eq!(info.cues[N - 1].frame(), 441 * (N as u64 - 1));

    let text = |ext: &str| fs::read_to_string(p.path(&format!("out/guide/e{ext}"))).unwrap();
    let (_, json) = parsers::json_chapters(&text(".chapters.json")).unwrap();
    assert_eq!(json.len(), N);
    assert_eq!(parsers::webvtt(&text(".vtt")).unwrap().len(), N);
    let ff = parsers::ffmetadata(&text(".ffmeta")).unwrap();
    assert_eq!(parsers::ffmeta_marks(&ff).unwrap().len(), N);
    assert_eq!(
        parsers::audacity_labels(&text(".labels.txt"))
            .unwrap()
            .len(),
        N
    );
    let cue = text(".cue");
    let (_, tracks) = parsers::cue_sheet(&cue).unwrap();
    assert_eq!(tracks.len(), 99);
    assert!(cue.contains("chapters 100-10000 left out"), "{cue}");
}

#[test]
fn ten_hour_pause_is_refused() {
    let p = good_project("ten-hours");
    p.section("e", "01-a", "title = \"A\"\npause_after = 36000", "Words.");
    clear_error(
        &narrate(&p, &["build"]),
        &["01-a.md", "`pause_after` is 36000 seconds", "from 0 to 600"],
    );
    p.section(
        "e",
        "01-a",
        "title = \"A\"\npause_before = 36000.0",
        "Words.",
    );
    clear_error(&narrate(&p, &["check"]), &["01-a.md", "`pause_before`"]);
    p.section(
        "e",
        "01-a",
        "title = \"A\"\nbefore = [{ clip = \"audio/e/01-a.wav\", gap = 36000 }]",
        "Words.",
    );
    clear_error(&narrate(&p, &["check"]), &["01-a.md", "`gap` is 36000"]);
    for bad in ["inf", "nan", "-1.0", "1e300"] {
        p.section(
            "e",
            "01-a",
            &format!("title = \"A\"\npause_after = {bad}"),
            "Words.",
        );
        clear_error(&narrate(&p, &["check"]), &["01-a.md", "`pause_after`"]);
    }
    p.section("e", "01-a", "title = \"A\"", "Words.");
    p.write(
        "narrate.toml",
        "[project]\ntitle = \"T\"\n\n[defaults]\npause = 36000\n\n[episodes.e]\ntitle = \"E\"\n",
    );
    clear_error(
        &narrate(&p, &["build"]),
        &["narrate.toml", "`defaults.pause` is 36000 seconds"],
    );
    p.write(
        "narrate.toml",
        "[project]\ntitle = \"T\"\n\n[episodes.e]\ntitle = \"E\"\npause = 36000\n",
    );
    clear_error(
        &narrate(&p, &["build"]),
        &["narrate.toml", "`episodes.e.pause`"],
    );
    assert!(p.outputs().is_empty());
}

/// Many pauses each within the limit must not add up to hours of silence held in memory.
#[test]
fn pauses_adding_up_to_many_hours_are_refused() {
    let p = good_project("many-pauses");
    for i in 1..=100 {
        let stem = format!("{i:03}-s");
        fs::copy(
            p.path("audio/e/01-a.wav"),
            p.path(&format!("audio/e/{stem}.wav")),
        )
        .unwrap();
        p.section("e", &stem, "title = \"S\"\npause_after = 600", "Words.");
    }
    fs::remove_file(p.path("audio/e/01-a.wav")).unwrap();
    fs::remove_file(p.path("scripts/e/01-a.md")).unwrap();
    clear_error(
        &narrate(&p, &["build"]),
        &["narrate.toml", "[episodes.e]", "16.5 hours"],
    );
    assert!(p.outputs().is_empty());
}

/// The title from the issue: quotes, a tab, a newline, `-->`, `;`, `=`, `#`, a backslash and
/// right-to-left text (with a right-to-left override), in a chapter and in the episode's
/// and project's metadata. Every sidecar parses, and says the same times and titles.
#[test]
fn hostile_titles_give_valid_sidecars_and_wav() {
    const TITLE: &str =
        "He said \"stop\"\tthen\n--> a;b=c #d \\ שלום مرحبا \u{202e}evil\u{202c} 'q'";
    // The same in TOML: a basic string with escapes.
    const TOML_TITLE: &str =
        "He said \\\"stop\\\"\\tthen\\n--> a;b=c #d \\\\ שלום مرحبا \\u202eevil\\u202c 'q'";
    let p = good_project("titles");
    p.write(
        "narrate.toml",
        &format!(
            "[project]\ntitle = \"{TOML_TITLE}\"\norganisation = \"{TOML_TITLE}\"\n\n\
             [episodes.e]\ntitle = \"{TOML_TITLE}\"\ndescription = \"{TOML_TITLE}\\\\\"\n"
        ),
    );
    fs::copy(p.path("audio/e/01-a.wav"), p.path("audio/e/02-b.wav")).unwrap();
    p.section(
        "e",
        "01-a",
        &format!("title = \"{TOML_TITLE}\"\ntrim = false"),
        "One.",
    );
    // The second title ends in two backslashes.
    p.section(
        "e",
        "02-b",
        &format!("title = \"{TOML_TITLE}\\\\\\\\\"\ntrim = false"),
        "Two.",
    );
    let before = snapshot(&p.root);
    succeeded(&narrate(&p, &["build"]));
    assert_unchanged(&before, &p.root);

    let titles = [TITLE.to_string(), format!("{TITLE}\\\\")];
    let one_line: Vec<String> = titles.iter().map(|t| parsers::one_line(t)).collect();
    let (rate, starts, total) = (44_100u64, [0u64, 4_410 + 66_150], 4_410 * 2 + 66_150);
    let text = |ext: &str| fs::read_to_string(p.path(&format!("out/guide/e{ext}"))).unwrap();

    // JSON.
    let (doc, json) = parsers::json_chapters(&text(".chapters.json")).unwrap();
    assert_eq!(doc["title"], parsers::one_line(TITLE));
    assert_eq!(doc["description"], format!("{TITLE}\\"));
    let ms = |f: u64| f * 1000 / rate;
    for (i, mark) in json.iter().enumerate() {
        assert_eq!(mark.title, one_line[i]);
        assert_eq!(mark.start, ms(starts[i]));
    }
    assert_eq!(json[1].end, Some(ms(total)));

    // CUE.
    let (cue_title, cue) = parsers::cue_sheet(&text(".cue")).unwrap();
    assert_eq!(cue_title, parsers::cue_title(TITLE));
    assert_eq!(cue.len(), 2);
    for (i, mark) in cue.iter().enumerate() {
        assert_eq!(mark.title, parsers::cue_title(&titles[i]));
        assert_eq!(mark.start, starts[i] * 75 / rate);
    }

    // WebVTT.
    let vtt = parsers::webvtt(&text(".vtt")).unwrap();
    assert_eq!(vtt.len(), 2);
    for (i, mark) in vtt.iter().enumerate() {
        assert_eq!(mark.title, one_line[i]);
        assert_eq!(mark.start, ms(starts[i]));
    }

    // ffmetadata: the tags keep their lines; chapter titles are on one line.
    let ff = parsers::ffmetadata(&text(".ffmeta")).unwrap();
    let tag = |key: &str| {
        ff.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(tag("title"), Some(parsers::ffmeta_title(TITLE)));
    assert_eq!(tag("artist"), Some(parsers::ffmeta_tag(TITLE)));
    assert_eq!(
        tag("comment"),
        Some(parsers::ffmeta_tag(&format!("{TITLE}\\")))
    );
    let marks = parsers::ffmeta_marks(&ff).unwrap();
    assert_eq!(marks.len(), 2);
    for (i, mark) in marks.iter().enumerate() {
        assert_eq!(mark.title, parsers::ffmeta_title(&titles[i]));
        assert_eq!(mark.start, ms(starts[i]));
    }

    // Audacity labels.
    let labels = parsers::audacity_labels(&text(".labels.txt")).unwrap();
    for (i, mark) in labels.iter().enumerate() {
        assert_eq!(mark.title, one_line[i]);
        assert_eq!(mark.start, starts[i] * 1_000_000 / rate);
    }

    // The WAV keeps each title as written (trimmed), in its labels and tags.
    let info = read_wav_info(&p.path("out/guide/e.wav")).unwrap();
    let labels: Vec<_> = info.cues.iter().map(|c| c.label.clone().unwrap()).collect();
    assert_eq!(labels, [TITLE.trim(), titles[1].trim()]);
    assert_eq!(info.tag("INAM"), Some(TITLE));
    assert_eq!(info.tag("IART"), Some(TITLE));
    assert!(info.warnings.is_empty(), "{:?}", info.warnings);
    inspect_sanely(&p, "out/guide/e.wav");
}

/// A NUL cannot be stored in a WAV label or tag: refused where it is written, naming the file.
#[test]
fn nul_in_a_title_is_refused_at_its_source() {
    let p = good_project("nul-title");
    p.section("e", "01-a", "title = \"A\\u0000B\"", "Words.");
    clear_error(&narrate(&p, &["build"]), &["01-a.md", "NUL"]);
    p.section("e", "01-a", "title = \"A\"", "Words.");
    p.write(
        "narrate.toml",
        "[project]\ntitle = \"T\"\norganisation = \"O\\u0000\"\n\n[episodes.e]\ntitle = \"E\"\n",
    );
    clear_error(
        &narrate(&p, &["build"]),
        &["narrate.toml", "NUL", "organisation"],
    );
    assert!(p.outputs().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Paths: links and `..` leading outside the project, output folders among the inputs.

fn symlink(target: impl AsRef<Path>, link: impl AsRef<Path>) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

/// A folder outside the project with its own `scripts/e/01-a.md` and a clip.
fn outside_tree() -> Scratch {
    let o = Scratch::new("outside");
    o.section(
        "e",
        "01-a",
        "title = \"Outside\"\ntrim = false",
        "Words from outside.",
    );
    write_wav16(&o.path("audio/e/01-a.wav"), 44_100, 1, &tone(4_410));
    o
}

/// Runs `build` and `check`, which must both refuse with a clear error naming `needles`;
/// nothing is written and no input changes.
fn refused(p: &Scratch, args: &[&str], needles: &[&str]) {
    let before = snapshot(&p.root);
    let mut build = vec!["build"];
    build.extend_from_slice(args);
    clear_error(&narrate(p, &build), needles);
    if args.is_empty() {
        clear_error(&narrate(p, &["check"]), needles);
    }
    assert!(p.outputs().is_empty(), "{:?}", p.outputs());
    assert_unchanged(&before, &p.root);
}

#[test]
fn scripts_folder_linked_outside_is_refused() {
    let (p, o) = (good_project("scripts-link"), outside_tree());
    fs::remove_dir_all(p.path("scripts")).unwrap();
    symlink(o.path("scripts"), p.path("scripts"));
    refused(&p, &[], &["scripts/e", "leads outside the project"]);
}

#[test]
fn episode_folder_linked_outside_is_refused() {
    let (p, o) = (good_project("episode-link"), outside_tree());
    fs::remove_dir_all(p.path("scripts/e")).unwrap();
    symlink(o.path("scripts/e"), p.path("scripts/e"));
    refused(&p, &[], &["scripts/e", "leads outside the project"]);
}

#[test]
fn script_linked_outside_is_refused() {
    let (p, o) = (good_project("script-link"), outside_tree());
    fs::remove_file(p.path("scripts/e/01-a.md")).unwrap();
    symlink(o.path("scripts/e/01-a.md"), p.path("scripts/e/01-a.md"));
    refused(&p, &[], &["01-a.md", "leads outside the project"]);
}

#[test]
fn manifest_linked_outside_is_refused() {
    let (p, o) = (good_project("manifest-link"), outside_tree());
    fs::rename(p.path("narrate.toml"), o.path("narrate.toml")).unwrap();
    symlink(o.path("narrate.toml"), p.path("narrate.toml"));
    refused(&p, &[], &["narrate.toml", "leads outside the project"]);
}

#[test]
fn audio_folder_linked_outside_is_refused() {
    let (p, o) = (good_project("audio-link"), outside_tree());
    fs::remove_dir_all(p.path("audio/e")).unwrap();
    symlink(o.path("audio/e"), p.path("audio/e"));
    refused(&p, &[], &["01-a.md", "leads outside the project"]);
}

#[test]
fn clip_paths_leading_outside_are_refused() {
    let (p, o) = (good_project("clip-paths"), outside_tree());
    let outside_clip = o.path("audio/e/01-a.wav").display().to_string();
    for front in [
        format!("clip = \"{outside_clip}\""),
        "clip = \"audio/../../x.wav\"".to_string(),
        "before = [\"../x.wav\"]".to_string(),
        format!("after = [{{ clip = \"{outside_clip}\", gap = 0.1 }}]"),
    ] {
        p.section("e", "01-a", &format!("title = \"A\"\n{front}"), "Words.");
        refused(&p, &[], &["01-a.md", "leads outside the project folder"]);
    }
}

/// Links that stay inside the project are fine.
#[test]
fn links_inside_the_project_are_followed() {
    let p = good_project("inside-links");
    fs::rename(p.path("scripts/e"), p.path("drafts")).unwrap();
    symlink("../drafts", p.path("scripts/e"));
    fs::rename(p.path("audio/e/01-a.wav"), p.path("audio/take.wav")).unwrap();
    symlink("../take.wav", p.path("audio/e/01-a.wav"));
    succeeded(&narrate(&p, &["build"]));
    assert_eq!(
        read_wav_info(&p.path("out/guide/e.wav")).unwrap().frames,
        4_410
    );
}

#[test]
fn output_folders_among_the_inputs_are_refused() {
    let p = good_project("out-inputs");
    symlink("audio", p.path("audio-link"));
    for out in [
        "scripts",
        "scripts/e",
        ".",
        "audio",
        "audio/../audio/x",
        "audio-link",
        "audio-link/sub",
    ] {
        refused(&p, &["--out", out], &[out, "fix:"]);
    }
}

/// `nope/../audio/x`: a path through a folder that does not exist yet leads into audio/.
#[test]
fn output_folder_reaching_audio_through_a_missing_folder_is_refused() {
    let p = good_project("out-dotdot");
    refused(&p, &["--out", "nope/../audio/x"], &["audio"]);
    assert!(!p.path("audio/x").exists());
}

/// `out/guide` a link into `audio/e`: the build would write `audio/e/e.wav` and its sidecars.
#[test]
fn profile_folder_linked_into_audio_is_refused() {
    let p = good_project("out-profile-link");
    fs::create_dir_all(p.path("out")).unwrap();
    symlink("../audio/e", p.path("out/guide"));
    let before = snapshot(&p.root);
    clear_error(&narrate(&p, &["build"]), &["audio"]);
    assert_unchanged(&before, &p.root);
}

/// A clip whose path is an output's path: the build would overwrite its own input.
#[test]
fn output_path_equal_to_an_input_is_refused() {
    let p = good_project("out-is-input");
    fs::create_dir_all(p.path("out/guide")).unwrap();
    fs::rename(p.path("audio/e/01-a.wav"), p.path("out/guide/e.wav")).unwrap();
    p.section(
        "e",
        "01-a",
        "title = \"A\"\nclip = \"out/guide/e.wav\"",
        "Words.",
    );
    let clip = fs::read(p.path("out/guide/e.wav")).unwrap();
    clear_error(&narrate(&p, &["build"]), &["out/guide/e.wav", "01-a.md"]);
    assert_eq!(fs::read(p.path("out/guide/e.wav")).unwrap(), clip);
}

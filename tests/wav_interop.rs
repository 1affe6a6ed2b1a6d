//! Interoperability of our WAVs: files from `WavWriter` open in independent readers with
//! their audio, chapters and tags intact, and our reader shows the markers that other
//! programs write.
//!
//! External tools (Debian `ffmpeg` for ffprobe, `libsndfile1-dev` and `gcc`; pip `wavinfo`
//! and `soundfile`): a test that needs a missing one prints a note and passes, unless
//! the `CI` environment variable is set, where it fails saying what to install.

use std::fs;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use narrate::inspect::{inspect, render_json, render_text};
use narrate::meta::{EpisodeMeta, TagKey};
use narrate::profile::SampleFormat;
use narrate::timeline::{Chapter, Timeline};
use narrate::wav::reader::{parse_wav_info, read_wav_info, Container};
use narrate::wav::{write_wav_file, WavSpec, WavWriter};
use serde_json::Value;

/// A WAV to write: audio, tags and chapters.
struct Fixture {
    spec: WavSpec,
    meta: EpisodeMeta,
    timeline: Timeline,
    samples: Vec<i16>,
}

/// A folder for this test's files under cargo's scratch space.
fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("wav_interop")
        .join(test);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Interleaved 16-bit tones, a different pitch per chapter.
fn tones(spec: &WavSpec, timeline: &Timeline) -> Vec<i16> {
    let channels = usize::from(spec.channels);
    let mut out = Vec::with_capacity(timeline.total_frames as usize * channels);
    for frame in 0..timeline.total_frames {
        let chapter = timeline
            .chapters
            .iter()
            .rposition(|c| c.start <= frame)
            .unwrap_or(0);
        let freq = 220.0 * (chapter + 1) as f64;
        let t = frame as f64 / f64::from(spec.sample_rate);
        for ch in 0..channels {
            let phase = std::f64::consts::TAU * freq * t + ch as f64;
            out.push((phase.sin() * 9000.0).round() as i16);
        }
    }
    out
}

fn fixture(rate: u32, channels: u16, total: u64, chapters: &[(&str, u64)]) -> Fixture {
    let spec = WavSpec {
        sample_rate: rate,
        channels,
        format: SampleFormat::Pcm16,
    };
    let timeline = Timeline {
        sample_rate: rate,
        total_frames: total,
        chapters: chapters
            .iter()
            .map(|&(title, start)| Chapter {
                title: title.into(),
                start,
                length: 0,
            })
            .collect(),
    };
    let meta = EpisodeMeta {
        id: "mitraclip-fr".into(),
        tags: vec![
            (TagKey::Title, "Votre procédure MitraClip".into()),
            (TagKey::Album, "Guides patients".into()),
            (TagKey::Artist, "Hôpital Saint-Luc".into()),
            (TagKey::Comment, "Ce qu'il faut savoir".into()),
            (TagKey::Date, "2026-03-01".into()),
            (TagKey::Language, "fr".into()),
            (TagKey::Copyright, "© 2026 Hôpital Saint-Luc".into()),
            (TagKey::Software, "narrate 0.1.0".into()),
        ],
    };
    let samples = tones(&spec, &timeline);
    Fixture {
        spec,
        meta,
        timeline,
        samples,
    }
}

/// Mono 44.1 kHz with chapter titles of even and odd byte lengths, so that `labl`
/// entries both need and do not need a pad byte.
fn guide() -> Fixture {
    fixture(
        44_100,
        1,
        110_251,
        &[
            ("Introduction", 0),
            ("Après la procédure", 30_001),
            ("Risks", 75_432),
            ("À la maison", 99_999),
        ],
    )
}

fn stereo() -> Fixture {
    fixture(48_000, 2, 52_001, &[("Accueil", 0), ("Fin", 48_000)])
}

/// Three channels: written as WAVE_FORMAT_EXTENSIBLE; no tags, no chapters.
fn surround() -> Fixture {
    let mut f = fixture(8000, 3, 4001, &[]);
    f.meta.tags.clear();
    f
}

fn write(f: &Fixture, path: &Path) {
    write_wav_file(path, f.spec, &f.meta, &f.timeline, &f.samples).unwrap();
}

/// Writes `f` as RF64 although it is small, by lowering the threshold.
fn write_rf64(f: &Fixture, path: &Path) {
    let file = fs::File::create(path).unwrap();
    let mut w = WavWriter::new(BufWriter::new(file), f.spec, &f.meta, &f.timeline)
        .unwrap()
        .with_rf64_threshold(0);
    w.write_i16(&f.samples).unwrap();
    w.finish().unwrap();
}

/// (start, end, title) of every chapter.
fn expected_chapters(f: &Fixture) -> Vec<(u64, u64, String)> {
    (0..f.timeline.chapters.len())
        .map(|i| {
            let c = &f.timeline.chapters[i];
            (c.start, f.timeline.chapter_end(i), c.title.clone())
        })
        .collect()
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// Whether `command` runs; if not: a note and `false`, or a failure under CI.
fn have(what: &str, install: &str, command: &[&str]) -> bool {
    let out = Command::new(command[0]).args(&command[1..]).output();
    let ok = out.as_ref().is_ok_and(|o| o.status.success());
    if !ok {
        let why = match &out {
            Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_string(),
            Err(e) => e.to_string(),
        };
        let message = format!(
            "{what} is not available (`{}` failed: {why}); {install}",
            command.join(" ")
        );
        assert!(!in_ci(), "{message}");
        eprintln!("skipped: {message}");
    }
    ok
}

fn run(command: &mut Command) -> String {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn hound_reads_exactly_our_samples() {
    let dir = scratch("hound");
    for (name, f) in [
        ("guide", guide()),
        ("stereo", stereo()),
        ("surround", surround()),
    ] {
        let path = dir.join(format!("{name}.wav"));
        write(&f, &path);
        let mut reader = hound::WavReader::open(&path).unwrap();
        let spec = reader.spec();
        assert_eq!(spec.channels, f.spec.channels, "{name}");
        assert_eq!(spec.sample_rate, f.spec.sample_rate, "{name}");
        assert_eq!(spec.bits_per_sample, 16, "{name}");
        assert_eq!(spec.sample_format, hound::SampleFormat::Int, "{name}");
        assert_eq!(
            u64::from(reader.duration()),
            f.timeline.total_frames,
            "{name}"
        );
        let samples: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
        assert!(samples == f.samples, "{name}: hound read other samples");
    }
}

#[test]
fn our_reader_returns_the_chapters_and_tags() {
    let dir = scratch("reader");
    let f = guide();
    let path = dir.join("guide.wav");
    write(&f, &path);
    let bytes = fs::read(&path).unwrap();
    let info = read_wav_info(&path).unwrap();
    assert!(info.warnings.is_empty(), "{:?}", info.warnings);
    assert_eq!(info.container, Container::Riff);
    assert_eq!(info.format.describe(), "PCM 16-bit");
    assert_eq!(info.format.sample_rate, 44_100);
    assert_eq!(info.frames, f.timeline.total_frames);
    assert_eq!(info.data_size, f.timeline.total_frames * 2);
    let data = &bytes[info.data_offset as usize..][..info.data_size as usize];
    let audio: Vec<i16> = data
        .chunks(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    assert!(audio == f.samples);

    let tags: Vec<(String, String)> = f
        .meta
        .tags
        .iter()
        .map(|(k, v)| {
            (
                String::from_utf8(narrate::wav::writer::info_id(*k).to_vec()).unwrap(),
                v.clone(),
            )
        })
        .collect();
    assert_eq!(info.tags, tags);

    let chapters: Vec<(u64, u64, String)> = info
        .cues
        .iter()
        .map(|c| {
            let length = u64::from(c.length.unwrap());
            (c.frame(), c.frame() + length, c.label.clone().unwrap())
        })
        .collect();
    assert_eq!(chapters, expected_chapters(&f));
    let ids: Vec<u32> = info.cues.iter().map(|c| c.id).collect();
    assert_eq!(ids, [1, 2, 3, 4]);
    assert!(info
        .cues
        .iter()
        .all(|c| c.purpose.as_deref() == Some("rgn ")));

    // Layout: chunk order, RIFF size, every chunk padded to an even offset.
    let order: Vec<&str> = info.chunks.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(order, ["JUNK", "fmt ", "LIST", "cue ", "LIST", "data"]);
    assert_eq!(
        u64::from(u32::from_le_bytes(bytes[4..8].try_into().unwrap())),
        bytes.len() as u64 - 8
    );
    assert!(info.chunks.iter().all(|c| c.offset % 2 == 0));
    let adtl = &info.chunks[4];
    assert_eq!(adtl.list_type.as_deref(), Some("adtl"));
    // "Introduction" (12 bytes) makes a 17-byte labl, which needs its pad byte.
    let labl = adtl.offset as usize + 12;
    assert_eq!(&bytes[labl..labl + 8], b"labl\x11\0\0\0");
    assert_eq!(&bytes[labl + 8 + 17..labl + 8 + 18], b"\0");
    assert_eq!(&bytes[labl + 26..labl + 30], b"labl");

    let inspection = inspect(&path).unwrap();
    let text = render_text(&inspection);
    for (start, _, title) in expected_chapters(&f) {
        let line = text.lines().find(|l| l.ends_with(&title)).unwrap();
        assert!(
            line.contains(&narrate::inspect::clock(start, 44_100)),
            "{line}"
        );
    }
    assert!(text.contains("Artist     Hôpital Saint-Luc"), "{text}");
    assert!(
        text.contains("Duration   0:00:02.500 (110,251 frames)"),
        "{text}"
    );
    let json: Value = serde_json::from_str(&render_json(&inspection).unwrap()).unwrap();
    assert_eq!(json["chapters"][1]["title"], "Après la procédure");
    assert_eq!(json["chapters"][3]["start_frame"], 99_999);
    assert_eq!(json["chapters"][3]["length_frames"], 110_251 - 99_999);
}

#[test]
fn forced_rf64_is_read_back() {
    let dir = scratch("rf64");
    let f = guide();
    let path = dir.join("guide-rf64.wav");
    write_rf64(&f, &path);
    let bytes = fs::read(&path).unwrap();
    assert_eq!(&bytes[0..8], b"RF64\xFF\xFF\xFF\xFF");
    let info = read_wav_info(&path).unwrap();
    assert!(info.warnings.is_empty(), "{:?}", info.warnings);
    assert_eq!(info.container, Container::Rf64);
    assert_eq!(info.chunks[0].id, "ds64");
    assert_eq!(info.frames, f.timeline.total_frames);
    assert_eq!(info.cues.len(), 4);
    assert_eq!(inspect(&path).unwrap().container, "RF64");

    if have(
        "ffprobe",
        "install the Debian package ffmpeg",
        &["ffprobe", "-version"],
    ) {
        let probe = ffprobe(&path);
        assert_eq!(probe["format"]["format_name"], "wav");
        assert_eq!(probe["streams"][0]["duration_ts"], 110_251);
        assert_eq!(
            probe["format"]["tags"]["title"],
            "Votre procédure MitraClip"
        );
        assert_eq!(ffprobe_chapters(&probe), expected_chapters(&f));
    }
    if have(
        "Python soundfile",
        "run `pip install soundfile`",
        &["python3", "-c", "import soundfile"],
    ) {
        let out = run(Command::new("python3")
            .arg("-c")
            .arg(SOUNDFILE_SCRIPT)
            .arg(&path));
        let got: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(got["format"], "RF64");
        assert_eq!(got["frames"], 110_251);
        assert_eq!(got["samples"], serde_json::json!(f.samples));
    }
}

/// Runs ffprobe on `path`, with chapters.
fn ffprobe(path: &Path) -> Value {
    let out = run(Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_format",
            "-show_streams",
            "-show_chapters",
        ])
        .args(["-of", "json"])
        .arg(path));
    serde_json::from_str(&out).unwrap()
}

/// (start, end, title) of ffprobe's chapters, in frames (time base 1/sample rate).
fn ffprobe_chapters(probe: &Value) -> Vec<(u64, u64, String)> {
    probe["chapters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["start"].as_u64().unwrap(),
                c["end"].as_u64().unwrap(),
                c["tags"]["title"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn ffprobe_reads_format_tags_and_chapters() {
    if !have(
        "ffprobe",
        "install the Debian package ffmpeg",
        &["ffprobe", "-version"],
    ) {
        return;
    }
    let dir = scratch("ffprobe");
    let f = guide();
    let path = dir.join("guide.wav");
    write(&f, &path);
    // What we ran: ffprobe -v error -show_format -show_streams -of json (plus chapters).
    let probe = ffprobe(&path);
    let format = &probe["format"];
    let stream = &probe["streams"][0];
    assert_eq!(format["format_name"], "wav");
    assert_eq!(stream["codec_name"], "pcm_s16le");
    assert_eq!(stream["sample_rate"], "44100");
    assert_eq!(stream["channels"], 1);
    assert_eq!(stream["duration_ts"], 110_251);
    let duration: f64 = format["duration"].as_str().unwrap().parse().unwrap();
    assert!((duration - 110_251.0 / 44_100.0).abs() < 1e-5, "{duration}");
    let tags = &format["tags"];
    for (key, name) in [
        (TagKey::Title, "title"),
        (TagKey::Album, "album"),
        (TagKey::Artist, "artist"),
        (TagKey::Comment, "comment"),
        (TagKey::Date, "date"),
        (TagKey::Language, "language"),
        (TagKey::Copyright, "copyright"),
        (TagKey::Software, "encoder"),
    ] {
        assert_eq!(tags[name].as_str(), f.meta.get(key), "ffprobe tag {name}");
    }
    // ffprobe (5.1 here) reads `cue ` points as chapters, titled from `labl`.
    assert_eq!(ffprobe_chapters(&probe), expected_chapters(&f));

    let stereo_path = dir.join("stereo.wav");
    write(&stereo(), &stereo_path);
    let probe = ffprobe(&stereo_path);
    assert_eq!(probe["streams"][0]["channels"], 2);
    assert_eq!(probe["streams"][0]["sample_rate"], "48000");
    assert_eq!(ffprobe_chapters(&probe), expected_chapters(&stereo()));

    let surround_path = dir.join("surround.wav");
    write(&surround(), &surround_path);
    let probe = ffprobe(&surround_path);
    assert_eq!(probe["streams"][0]["channels"], 3);
    assert_eq!(probe["streams"][0]["codec_name"], "pcm_s16le");
    assert_eq!(probe["streams"][0]["duration_ts"], 4001);
}

/// Prints what `soundfile` reads from argv[1] as JSON.
const SOUNDFILE_SCRIPT: &str = r#"
import json, sys
import soundfile
info = soundfile.info(sys.argv[1])
data, rate = soundfile.read(sys.argv[1], dtype="int16", always_2d=True)
print(json.dumps({"format": info.format, "rate": rate, "channels": info.channels,
                  "frames": info.frames, "samples": data.flatten().tolist()}))
"#;

/// Prints what `wavinfo` (cues, labels, INFO) and stdlib `wave` read from argv[1].
const WAVINFO_SCRIPT: &str = r#"
import json, sys, wave
import wavinfo
info = wavinfo.WavInfoReader(sys.argv[1], info_encoding="utf-8")
cues = [{"id": k, **v} for k, v in info.cues.to_dict().items()] if info.cues else []
with wave.open(sys.argv[1]) as w:
    std = {"channels": w.getnchannels(), "rate": w.getframerate(), "width": w.getsampwidth(),
           "frames": w.getnframes(), "bytes": w.readframes(w.getnframes()).hex()}
print(json.dumps({"cues": cues, "info": info.info.to_dict() if info.info else {},
                  "frames": info.data.frame_count, "wave": std}))
"#;

#[test]
fn python_readers_see_cues_labels_and_audio() {
    let dir = scratch("python");
    let f = guide();
    let path = dir.join("guide.wav");
    write(&f, &path);
    if have(
        "Python wavinfo",
        "run `pip install wavinfo`",
        &["python3", "-c", "import wavinfo"],
    ) {
        let out = run(Command::new("python3")
            .arg("-c")
            .arg(WAVINFO_SCRIPT)
            .arg(&path));
        let got: Value = serde_json::from_str(&out).unwrap();
        let cues: Vec<(u64, u64, String)> = got["cues"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let frame = c["frame"].as_u64().unwrap();
                let end = frame + c["length"].as_u64().unwrap();
                (frame, end, c["label"].as_str().unwrap().to_string())
            })
            .collect();
        assert_eq!(cues, expected_chapters(&f));
        assert_eq!(got["frames"], 110_251);
        let info = &got["info"];
        assert_eq!(info["title"], "Votre procédure MitraClip");
        assert_eq!(info["artist"], "Hôpital Saint-Luc");
        assert_eq!(info["comment"], "Ce qu'il faut savoir");
        assert_eq!(info["created_date"], "2026-03-01");
        assert_eq!(info["copyright"], "© 2026 Hôpital Saint-Luc");
        assert_eq!(info["software"], "narrate 0.1.0");
        // Python's standard `wave` module opens it and reads the same audio.
        let std = &got["wave"];
        assert_eq!(std["channels"], 1);
        assert_eq!(std["rate"], 44_100);
        assert_eq!(std["width"], 2);
        assert_eq!(std["frames"], 110_251);
        let hex: String = f
            .samples
            .iter()
            .flat_map(|s| s.to_le_bytes())
            .map(|b| format!("{b:02x}"))
            .collect();
        assert!(
            std["bytes"].as_str() == Some(hex.as_str()),
            "wave read other audio"
        );
    }
    if have(
        "Python soundfile",
        "run `pip install soundfile`",
        &["python3", "-c", "import soundfile"],
    ) {
        for (name, fx) in [("guide", f), ("stereo", stereo()), ("surround", surround())] {
            let path = dir.join(format!("{name}-sf.wav"));
            write(&fx, &path);
            let out = run(Command::new("python3")
                .arg("-c")
                .arg(SOUNDFILE_SCRIPT)
                .arg(&path));
            let got: Value = serde_json::from_str(&out).unwrap();
            // libsndfile calls WAVE_FORMAT_EXTENSIBLE files "WAVEX".
            let container = if fx.spec.channels > 2 { "WAVEX" } else { "WAV" };
            assert_eq!(got["format"], container, "{name}");
            assert_eq!(got["rate"], fx.spec.sample_rate, "{name}");
            assert_eq!(got["channels"], fx.spec.channels, "{name}");
            assert_eq!(got["frames"], fx.timeline.total_frames, "{name}");
            assert_eq!(got["samples"], serde_json::json!(fx.samples), "{name}");
        }
    }
}

/// A small libsndfile program: `cues write FILE` writes 2 s at 8 kHz with three cue
/// points (SFC_SET_CUE) and a title; `cues read FILE` prints the cues libsndfile sees.
const LIBSNDFILE_CUES_C: &str = r#"
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sndfile.h>

static SF_CUES cues;

static int write_file(const char *path) {
    SF_INFO info = {0};
    info.samplerate = 8000; info.channels = 1; info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    if (!sf) { fprintf(stderr, "%s\n", sf_strerror(NULL)); return 1; }
    sf_set_string(sf, SF_STR_TITLE, "Made by libsndfile");
    const char *names[] = {"Start", "Middle marker", "Late"};
    const unsigned frames[] = {0, 4000, 12345};
    memset(&cues, 0, sizeof cues);
    cues.cue_count = 3;
    for (int i = 0; i < 3; i++) {
        SF_CUE_POINT *c = &cues.cue_points[i];
        c->indx = i + 1; c->position = frames[i]; c->fcc_chunk = 0x61746164; /* data */
        c->sample_offset = frames[i];
        snprintf(c->name, sizeof c->name, "%s", names[i]);
    }
    if (sf_command(sf, SFC_SET_CUE, &cues, sizeof cues) != SF_TRUE) {
        fprintf(stderr, "SFC_SET_CUE failed\n"); return 1;
    }
    short buf[16000];
    for (int i = 0; i < 16000; i++) buf[i] = (short)(8000 * sin(i * 0.05));
    if (sf_write_short(sf, buf, 16000) != 16000) { fprintf(stderr, "write failed\n"); return 1; }
    return sf_close(sf) != 0;
}

static int read_file(const char *path) {
    SF_INFO info = {0};
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    if (!sf) { fprintf(stderr, "%s\n", sf_strerror(NULL)); return 1; }
    printf("frames\t%lld\n", (long long)info.frames);
    uint32_t count = 0;
    if (sf_command(sf, SFC_GET_CUE_COUNT, &count, sizeof count) && count > 0
        && sf_command(sf, SFC_GET_CUE, &cues, sizeof cues)) {
        for (uint32_t i = 0; i < cues.cue_count && i < 100; i++)
            printf("cue\t%u\t%s\n", cues.cue_points[i].sample_offset, cues.cue_points[i].name);
    }
    sf_close(sf);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: cues write|read FILE\n"); return 2; }
    return strcmp(argv[1], "write") == 0 ? write_file(argv[2]) : read_file(argv[2]);
}
"#;

/// The libsndfile program, compiled once; `None` when gcc or libsndfile is missing.
fn libsndfile_cues() -> Option<PathBuf> {
    static BUILT: OnceLock<Option<PathBuf>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wav_interop-cues");
            fs::create_dir_all(&dir).unwrap();
            let source = dir.join("cues.c");
            fs::write(&source, LIBSNDFILE_CUES_C).unwrap();
            let exe = dir.join("cues");
            let source = source.to_str().unwrap();
            let exe_arg = exe.to_str().unwrap();
            have(
                "gcc with libsndfile",
                "install the Debian packages gcc and libsndfile1-dev",
                &["gcc", "-O1", "-o", exe_arg, source, "-lsndfile", "-lm"],
            )
            .then_some(exe)
        })
        .clone()
}

#[test]
fn our_reader_shows_libsndfile_cues() {
    let Some(cues) = libsndfile_cues() else {
        return;
    };
    let dir = scratch("libsndfile-writes");
    let path = dir.join("libsndfile.wav");
    run(Command::new(&cues).arg("write").arg(&path));
    let info = read_wav_info(&path).unwrap();
    assert!(info.warnings.is_empty(), "{:?}", info.warnings);
    assert_eq!(info.frames, 16_000);
    assert_eq!(info.tag("INAM"), Some("Made by libsndfile"));
    let frames: Vec<u64> = info.cues.iter().map(|c| c.frame()).collect();
    assert_eq!(frames, [0, 4000, 12_345]);
    // libsndfile 1.2 writes `cue ` before `data` and drops the names (no `labl`).
    let inspection = inspect(&path).unwrap();
    let starts: Vec<&str> = inspection
        .chapters
        .iter()
        .map(|c| c.start.as_str())
        .collect();
    assert_eq!(starts, ["0:00:00.000", "0:00:00.500", "0:00:01.543"]);
    assert_eq!(inspection.chapters[1].length_frames, 8345);
    let text = render_text(&inspection);
    assert!(text.contains("Chapters (3)"), "{text}");
}

#[test]
fn libsndfile_reads_our_cue_names() {
    let Some(cues) = libsndfile_cues() else {
        return;
    };
    let dir = scratch("libsndfile-reads");
    let f = guide();
    let path = dir.join("guide.wav");
    write(&f, &path);
    let out = run(Command::new(&cues).arg("read").arg(&path));
    let mut expected = vec!["frames\t110251".to_string()];
    for c in &f.timeline.chapters {
        expected.push(format!("cue\t{}\t{}", c.start, c.title));
    }
    assert_eq!(out.lines().collect::<Vec<_>>(), expected);
}

/// A chunk with its pad byte, or without it when `pad` is false.
fn chunk(id: &[u8; 4], body: &[u8], pad: bool) -> Vec<u8> {
    let mut out = id.to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
    if pad && body.len() % 2 == 1 {
        out.push(0);
    }
    out
}

fn with_id(id: u32, rest: &[u8]) -> Vec<u8> {
    [&id.to_le_bytes()[..], rest].concat()
}

#[test]
fn editor_layout_with_cues_after_data() {
    // As audio editors write it: data first, then `cue ` and `LIST`/`adtl` with `labl`,
    // `note` and `ltxt` interleaved per marker, Latin-1 text, one odd chunk unpadded.
    let rate = 22_050u32;
    let mut fmt = 1u16.to_le_bytes().to_vec();
    fmt.extend_from_slice(&2u16.to_le_bytes());
    fmt.extend_from_slice(&rate.to_le_bytes());
    fmt.extend_from_slice(&(rate * 4).to_le_bytes());
    fmt.extend_from_slice(&4u16.to_le_bytes());
    fmt.extend_from_slice(&16u16.to_le_bytes());
    let frames = 44_100u32;
    let mut cue = 3u32.to_le_bytes().to_vec();
    for (id, at) in [(10u32, 22_050u32), (20, 0), (30, 33_075)] {
        cue.extend(with_id(id, &at.to_le_bytes()));
        cue.extend_from_slice(b"data");
        cue.extend_from_slice(&[0; 8]);
        cue.extend_from_slice(&at.to_le_bytes());
    }
    let mut ltxt = with_id(10, &11_025u32.to_le_bytes());
    ltxt.extend_from_slice(b"rgn ");
    ltxt.extend_from_slice(&[0; 8]);
    ltxt.extend_from_slice(b"region text\0");
    let mut adtl = b"adtl".to_vec();
    adtl.extend(chunk(b"labl", &with_id(20, b"Opening\0"), true));
    adtl.extend(chunk(b"note", &with_id(20, b"spoken slowly\0"), true));
    adtl.extend(chunk(b"labl", &with_id(10, b"Caf\xE9 break\0"), false));
    adtl.extend(chunk(b"ltxt", &ltxt, true));
    adtl.extend(chunk(b"labl", &with_id(30, b"End\0"), true));
    let body = [
        b"WAVE".to_vec(),
        chunk(b"fmt ", &fmt, true),
        chunk(b"data", &vec![0; frames as usize * 4], true),
        chunk(b"cue ", &cue, true),
        chunk(b"LIST", &adtl, true),
        chunk(
            b"LIST",
            &[&b"INFO"[..], &chunk(b"IART", b"Sound Forge\0", true)].concat(),
            true,
        ),
    ]
    .concat();
    let bytes = [&b"RIFF"[..], &(body.len() as u32).to_le_bytes(), &body].concat();

    let info = parse_wav_info(&bytes).unwrap();
    assert_eq!(info.frames, 44_100);
    assert_eq!(info.tag("IART"), Some("Sound Forge"));
    assert_eq!(info.warnings.len(), 1, "{:?}", info.warnings);
    assert!(
        info.warnings[0].contains("no pad byte"),
        "{:?}",
        info.warnings
    );
    let dir = scratch("editor");
    let path = dir.join("editor.wav");
    fs::write(&path, &bytes).unwrap();
    let inspection = inspect(&path).unwrap();
    let chapters: Vec<(u64, u64, &str, Option<&str>)> = inspection
        .chapters
        .iter()
        .map(|c| {
            (
                c.start_frame,
                c.length_frames,
                c.title.as_str(),
                c.note.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        chapters,
        [
            (0, 22_050, "Opening", Some("spoken slowly")),
            (22_050, 11_025, "Café break", None),
            (33_075, 11_025, "End", None),
        ]
    );
    let text = render_text(&inspection);
    assert!(
        text.contains("Format     PCM 16-bit, stereo, 22.05 kHz (WAV)"),
        "{text}"
    );
    assert!(
        text.contains("0:00:01.000  0:00:00.500  Café break"),
        "{text}"
    );
    assert!(text.contains("Problems (1)"), "{text}");

    if have(
        "ffprobe",
        "install the Debian package ffmpeg",
        &["ffprobe", "-version"],
    ) {
        // Another reader agrees on where the markers are. (ffprobe keeps file order
        // and loses the labels from the unpadded `labl` on.)
        let probe = ffprobe(&path);
        let mut starts: Vec<u64> = probe["chapters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["start"].as_u64().unwrap())
            .collect();
        starts.sort_unstable();
        assert_eq!(starts, [0, 22_050, 33_075]);
    }
}

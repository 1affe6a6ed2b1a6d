//! End-to-end builds of generated projects: chapter starts, durations and pauses are
//! checked to the sample in the WAV and in every sidecar.

mod common;

use std::fs;

use common::{read_wav16, square, write_wav16, write_wav_f32, Scratch};

const RATE: u32 = 44_100;

const MANIFEST: &str = r#"
[project]
title = "Test guides"
organisation = "Test Hospital"
language = "en"
date = "2026-11-01"

[defaults]
pause = 1.5

[episodes.tones]
title = "Tones"
description = "Three tones of known length."
"#;

/// Three sections of square waves at the output rate (no trimming, no resampling), with a
/// chime before sections 2 and 3, a shortened pause after 2 and a lead-in before 3.
fn tone_project() -> Scratch {
    let p = Scratch::new("tones");
    p.write("narrate.toml", MANIFEST);
    write_wav16(
        &p.path("audio/tones/01-one.wav"),
        RATE,
        1,
        &square(44_100, 1, 100, 0.25),
    );
    write_wav16(
        &p.path("audio/tones/02-two.wav"),
        RATE,
        1,
        &square(22_050, 1, 80, 0.25),
    );
    write_wav16(
        &p.path("audio/tones/03-three.wav"),
        RATE,
        1,
        &square(88_200, 1, 60, 0.25),
    );
    write_wav16(
        &p.path("audio/chime.wav"),
        RATE,
        1,
        &square(8_820, 1, 40, 0.125),
    );
    p.section("tones", "01-one", "title = \"One\"", "The first section.");
    p.section(
        "tones",
        "02-two",
        "title = \"Two\"\npause_after = 0.25\nbefore = [{ clip = \"audio/chime.wav\", gap = 0.4 }]",
        "The second section.",
    );
    p.section(
        "tones",
        "03-three",
        "title = \"Après la procédure\"\npause_before = 0.1\nbefore = [\"audio/chime.wav\"]",
        "The third section.",
    );
    p
}

// Expected layout, in frames at 44.1 kHz:
// ch1: 0 .. 44100; pause 1.5 s = 66150
// ch2: 110250: chime 8820, gap 0.4 s = 17640, narration 22050 → 48510; pause 0.25 + 0.1 s = 15435
// ch3: 174195: chime 8820, gap 0.5 s = 22050, narration 88200 → 119070
const STARTS: [u64; 3] = [0, 110_250, 174_195];
const LENGTHS: [u64; 3] = [44_100, 48_510, 119_070];
const TOTAL: u64 = 174_195 + 119_070;
const TITLES: [&str; 3] = ["One", "Two", "Après la procédure"];

fn ms(frame: u64) -> u64 {
    frame * 1000 / u64::from(RATE)
}

#[test]
fn chapters_are_exact_in_the_wav_and_every_sidecar() {
    let p = tone_project();
    let out = p.build(&[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("tones.wav"), "summary line: {stdout}");
    assert!(stdout.contains("3 chapters"), "summary line: {stdout}");

    let wav = p.path("out/guide/tones.wav");
    // The audio, read by hound.
    let (spec, samples) = read_wav16(&wav);
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (RATE, 1, 16)
    );
    assert_eq!(samples.len() as u64, TOTAL);
    // Pauses are digital silence; every chapter sounds from its first frame to its last.
    let silent = |from: u64, to: u64| samples[from as usize..to as usize].iter().all(|&s| s == 0);
    assert!(silent(44_100, 110_250), "pause after chapter 1");
    assert!(
        silent(110_250 + 8_820, 110_250 + 8_820 + 17_640),
        "gap after the chime"
    );
    assert!(silent(158_760, 174_195), "pause after chapter 2");
    let loud = |i: u64| samples[i as usize].unsigned_abs() > 1000;
    assert!(loud(0) && loud(44_099), "chapter 1 spans its clip");
    assert!(!loud(44_100));
    assert!(loud(110_250), "the chime starts chapter 2");
    assert!(loud(110_250 + 8_820 + 17_640), "narration after the gap");
    assert!(loud(TOTAL - 1), "chapter 3 runs to the end");

    // The chunks, read by our reader.
    let info = narrate::wav::reader::read_wav_info(&wav).unwrap();
    let cues: Vec<(u64, String)> = info
        .cues
        .iter()
        .map(|c| (c.frame(), c.label.clone().unwrap_or_default()))
        .collect();
    let want: Vec<(u64, String)> = STARTS
        .iter()
        .zip(TITLES)
        .map(|(s, t)| (*s, t.to_string()))
        .collect();
    assert_eq!(cues, want);

    // The report.
    let report: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(p.path("out/guide/tones.report.json")).unwrap())
            .unwrap();
    assert_eq!(report["frames"], TOTAL);
    for (i, section) in report["sections"].as_array().unwrap().iter().enumerate() {
        assert_eq!(section["start_frame"], STARTS[i]);
        assert_eq!(section["duration_frames"], LENGTHS[i]);
        assert_eq!(section["title"], TITLES[i]);
    }
    let inputs = report["inputs"].as_array().unwrap();
    assert!(inputs
        .iter()
        .any(|i| i["path"] == "audio/chime.wav" && i["sha256"].as_str().unwrap().len() == 64));

    // JSON chapters: seconds with 3 decimals, rounded down.
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(p.path("out/guide/tones.chapters.json")).unwrap())
            .unwrap();
    assert_eq!(json["version"], "1.2.0");
    let chapters = json["chapters"].as_array().unwrap();
    for (i, ch) in chapters.iter().enumerate() {
        assert_eq!(
            ch["startTime"].as_f64().unwrap(),
            ms(STARTS[i]) as f64 / 1000.0
        );
        assert_eq!(ch["title"], TITLES[i]);
    }

    // CUE sheet: INDEX 01 mm:ss:ff with 75 CD frames a second, rounded down.
    let cue = fs::read_to_string(p.path("out/guide/tones.cue")).unwrap();
    assert!(cue.contains("FILE \"tones.wav\" WAVE"));
    let indexes: Vec<&str> = cue
        .lines()
        .filter_map(|l| l.trim().strip_prefix("INDEX 01 "))
        .collect();
    let want: Vec<String> = STARTS
        .iter()
        .map(|s| {
            let f = s * 75 / u64::from(RATE);
            format!("{:02}:{:02}:{:02}", f / 75 / 60, f / 75 % 60, f % 75)
        })
        .collect();
    assert_eq!(indexes, want);

    // WebVTT: one cue per chapter, each ending where the next starts.
    let vtt = fs::read_to_string(p.path("out/guide/tones.vtt")).unwrap();
    assert!(vtt.starts_with("WEBVTT"));
    let times: Vec<&str> = vtt.lines().filter(|l| l.contains(" --> ")).collect();
    let ends = [STARTS[1], STARTS[2], TOTAL];
    let vtt_time = |f: u64| {
        let m = ms(f);
        format!(
            "{:02}:{:02}:{:02}.{:03}",
            m / 3_600_000,
            m / 60_000 % 60,
            m / 1000 % 60,
            m % 1000
        )
    };
    let want: Vec<String> = STARTS
        .iter()
        .zip(ends)
        .map(|(s, e)| format!("{} --> {}", vtt_time(*s), vtt_time(e)))
        .collect();
    assert_eq!(times, want);

    // ffmetadata: TIMEBASE=1/1000 with START/END in ms.
    let ffmeta = fs::read_to_string(p.path("out/guide/tones.ffmeta")).unwrap();
    assert!(ffmeta.starts_with(";FFMETADATA1"));
    let starts: Vec<u64> = ffmeta
        .lines()
        .filter_map(|l| l.strip_prefix("START="))
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(starts, STARTS.map(ms));
    assert_eq!(ffmeta.matches("TIMEBASE=1/1000").count(), 3);

    // Audacity labels: start and end in seconds with 6 decimals.
    let labels = fs::read_to_string(p.path("out/guide/tones.labels.txt")).unwrap();
    let rows: Vec<Vec<&str>> = labels.lines().map(|l| l.split('\t').collect()).collect();
    for (i, row) in rows.iter().enumerate() {
        let us = STARTS[i] * 1_000_000 / u64::from(RATE);
        assert_eq!(row[0], format!("{}.{:06}", us / 1_000_000, us % 1_000_000));
        assert_eq!(row[2], TITLES[i]);
    }

    // Transcript: titles and text.
    let transcript = fs::read_to_string(p.path("out/guide/tones.txt")).unwrap();
    assert!(transcript.contains("Après la procédure") && transcript.contains("The third section."));
}

#[test]
fn a_second_build_writes_identical_bytes() {
    let p = tone_project();
    p.build(&[]);
    let first: Vec<(String, Vec<u8>)> = p
        .outputs()
        .into_iter()
        .map(|f| (f.clone(), fs::read(p.path(&f)).unwrap()))
        .collect();
    p.build(&[]);
    let second: Vec<(String, Vec<u8>)> = p
        .outputs()
        .into_iter()
        .map(|f| (f.clone(), fs::read(p.path(&f)).unwrap()))
        .collect();
    assert_eq!(
        first.len(),
        8,
        "WAV, six sidecars and the report: {:?}",
        p.outputs()
    );
    assert!(first == second, "outputs differ between builds");
}

#[test]
fn edge_silence_of_narration_is_trimmed_to_the_margin_but_chimes_keep_theirs() {
    let p = Scratch::new("trim");
    p.write("narrate.toml", "[project]\ntitle = \"T\"\n[defaults]\npause = 0.0\ntrim = { threshold_db = -50.0, margin = 0.1 }\n[episodes.e]\ntitle = \"E\"\n");
    // 0.5 s of silence, 1 s of tone, 0.3 s of quiet hiss at -60 dBFS (below the threshold).
    let mut clip = vec![0.0f32; 22_050];
    clip.extend(square(44_100, 1, 100, 0.25));
    clip.extend(std::iter::repeat_n(0.001, 13_230));
    write_wav16(&p.path("audio/e/01-a.wav"), RATE, 1, &clip);
    let mut chime = vec![0.0f32; 4_410];
    chime.extend(square(4_410, 1, 40, 0.25));
    chime.extend(vec![0.0; 4_410]);
    write_wav16(&p.path("audio/chime.wav"), RATE, 1, &chime);
    p.section(
        "e",
        "01-a",
        "title = \"A\"\nafter = [{ clip = \"audio/chime.wav\", gap = 0.0 }]",
        "Text.",
    );
    p.build(&[]);
    let (_, samples) = read_wav16(&p.path("out/guide/e.wav"));
    // Narration keeps 0.1 s (4410 frames) of edge on each side; the chime all 13230.
    assert_eq!(samples.len(), 4_410 + 44_100 + 4_410 + 13_230);
    assert!(samples[..4_410].iter().all(|&s| s == 0));
    assert_ne!(samples[4_410], 0);
    let report: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(p.path("out/guide/e.report.json")).unwrap())
            .unwrap();
    let clip = &report["sections"][0]["clips"][0];
    assert_eq!(clip["trimmed_head_frames"], 22_050 - 4_410);
    assert_eq!(clip["trimmed_tail_frames"], 13_230 - 4_410);
}

#[test]
fn clips_at_other_rates_and_widths_are_converted() {
    let p = Scratch::new("convert");
    p.write(
        "narrate.toml",
        "[project]\ntitle = \"T\"\n[defaults]\npause = 0.5\n[episodes.e]\ntitle = \"E\"\n\
         [profiles.guide]\nlevel_clips = false\n",
    );
    // 48 kHz stereo float, 22.05 kHz mono 16-bit, 16 kHz mono: no trimming, so lengths are exact.
    let tone = |frames: usize, rate: u32, ch: u16| common::sine(frames, rate, ch, 440.0, 0.5);
    write_wav_f32(
        &p.path("audio/e/01-a.wav"),
        48_000,
        2,
        &tone(48_000, 48_000, 2),
    );
    write_wav16(
        &p.path("audio/e/02-b.wav"),
        22_050,
        1,
        &tone(11_025, 22_050, 1),
    );
    write_wav16(
        &p.path("audio/e/03-c.wav"),
        16_000,
        1,
        &tone(8_000, 16_000, 1),
    );
    for (stem, title) in [("01-a", "A"), ("02-b", "B"), ("03-c", "C")] {
        p.section(
            "e",
            stem,
            &format!("title = \"{title}\"\ntrim = false"),
            "Words.",
        );
    }
    p.build(&[]);
    let (spec, samples) = read_wav16(&p.path("out/guide/e.wav"));
    assert_eq!((spec.sample_rate, spec.channels), (RATE, 1));
    // 1 s, 0.5 s and 0.5 s of audio plus two 0.5 s pauses.
    assert_eq!(samples.len(), 44_100 + 22_050 + 22_050 + 22_050 * 2);
    let info = narrate::wav::reader::read_wav_info(&p.path("out/guide/e.wav")).unwrap();
    let starts: Vec<u64> = info.cues.iter().map(|c| c.frame()).collect();
    assert_eq!(starts, vec![0, 66_150, 110_250]);
    // With per-clip levelling off, one gain masters all three: the stereo float tone,
    // mixed to mono, has the same level as the mono tones of the same amplitude.
    let peak = |from: usize, to: usize| {
        samples[from..to]
            .iter()
            .map(|s| s.unsigned_abs())
            .max()
            .unwrap()
    };
    let (a, b, c) = (
        peak(1_000, 40_000),
        peak(67_000, 88_000),
        peak(111_000, 132_000),
    );
    for other in [b, c] {
        let db = 20.0 * (f64::from(a) / f64::from(other)).log10();
        assert!(db.abs() < 0.1, "peaks {a} {b} {c}");
    }
}

#[test]
fn only_named_episodes_are_built() {
    let p = tone_project();
    p.write(
        "narrate.toml",
        &format!("{MANIFEST}\n[episodes.other]\ntitle = \"Other\"\n"),
    );
    write_wav16(
        &p.path("audio/other/01-x.wav"),
        RATE,
        1,
        &square(4_410, 1, 100, 0.25),
    );
    p.section("other", "01-x", "title = \"X\"", "Words.");
    p.build(&["other"]);
    assert!(p.path("out/guide/other.wav").is_file());
    assert!(!p.path("out/guide/tones.wav").exists());
}

#[test]
fn check_validates_without_writing_audio() {
    let p = tone_project();
    let out = p.narrate(&["check"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("1 episodes, 3 sections"), "{stdout}");
    assert!(!p.path("out").exists());
}

#[test]
fn independent_readers_agree_with_the_chapter_list() {
    if !common::have_tool("ffprobe", "-version") || !common::have_tool("python3", "--version") {
        return;
    }
    let p = tone_project();
    p.build(&[]);
    let wav = p.path("out/guide/tones.wav");

    // ffprobe: chapters (from cue + labl) to the sample, and the INFO tags.
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_chapters",
            "-show_format",
            "-of",
            "json",
        ])
        .arg(&wav)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let probe: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let chapters = probe["chapters"].as_array().unwrap();
    assert_eq!(chapters.len(), 3);
    let ends = [STARTS[1], STARTS[2], TOTAL];
    for (i, ch) in chapters.iter().enumerate() {
        assert_eq!(ch["time_base"], "1/44100");
        assert_eq!(ch["start"], STARTS[i]);
        assert_eq!(ch["end"], ends[i]);
        assert_eq!(ch["tags"]["title"], TITLES[i]);
    }
    let tags = &probe["format"]["tags"];
    assert_eq!(tags["title"], "Tones");
    assert_eq!(tags["artist"], "Test Hospital");
    assert_eq!(tags["album"], "Test guides");
    assert_eq!(tags["comment"], "Three tones of known length.");

    // Python wavinfo: cue points and labels; soundfile (libsndfile): frames and format.
    let script = r#"
import sys, json, wavinfo, soundfile
info = wavinfo.WavInfoReader(sys.argv[1], info_encoding="utf-8")
cues = [(c.sample_offset, info.cues.label_and_note(c.name)[0]) for c in info.cues.cues]
sf = soundfile.info(sys.argv[1])
print(json.dumps({"cues": cues, "frames": sf.frames, "rate": sf.samplerate, "subtype": sf.subtype}))
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&wav)
        .output()
        .unwrap();
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            std::env::var_os("CI").is_none(),
            "python readers failed: {stderr}"
        );
        eprintln!("note: python wavinfo/soundfile unavailable, skipping: {stderr}");
        return;
    }
    let py: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cues: Vec<(u64, String)> = py["cues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c[0].as_u64().unwrap(), c[1].as_str().unwrap().to_string()))
        .collect();
    let want: Vec<(u64, String)> = STARTS
        .iter()
        .zip(TITLES)
        .map(|(s, t)| (*s, t.to_string()))
        .collect();
    assert_eq!(cues, want);
    assert_eq!(py["frames"], TOTAL);
    assert_eq!(py["rate"], RATE);
    assert_eq!(py["subtype"], "PCM_16");
}

#[test]
fn the_shipped_example_builds_with_one_chapter_per_section() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Scratch::new("example-out");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_narrate"))
        .args(["build", "--project"])
        .arg(repo)
        .arg("--out")
        .arg(&out.root)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    for (episode, sections) in [("mitraclip", 7), ("mitraclip-explained", 15)] {
        let scripts = fs::read_dir(repo.join("scripts").join(episode))
            .unwrap()
            .count();
        assert_eq!(scripts, sections);
        let info =
            narrate::wav::reader::read_wav_info(&out.root.join(format!("guide/{episode}.wav")))
                .unwrap();
        assert_eq!(info.cues.len(), sections, "{episode}");
        assert!(info
            .cues
            .iter()
            .all(|c| c.label.as_deref().is_some_and(|l| !l.is_empty())));
        for suffix in [
            ".chapters.json",
            ".cue",
            ".vtt",
            ".ffmeta",
            ".labels.txt",
            ".txt",
            ".report.json",
        ] {
            assert!(
                out.root.join(format!("guide/{episode}{suffix}")).is_file(),
                "{episode}{suffix}"
            );
        }
    }
}

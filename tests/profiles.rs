//! Output profiles: loudness targets checked by an independent meter, telephone formats,
//! CD rules and the waiting-room loop.

mod common;

use std::fs;
use std::process::Command;

use common::{espeak, ffmpeg_ebur128, have_tool, square, write_wav16, write_wav_f32, Scratch};

/// A project whose three takes are espeak-ng speech at very different levels: a quiet
/// take (−24 dB), a normal one, and a clipping-hot one (+18 dB, hard-clipped).
fn speech_project(extra_manifest: &str) -> Option<Scratch> {
    let speech = [
        espeak(
            "The MitraClip procedure treats a leaking mitral valve without open heart surgery.",
        )?,
        espeak("Before the procedure, your healthcare team will explain how to prepare.")?,
        espeak("Most patients go home within a day or two, and feel less short of breath.")?,
    ];
    let p = Scratch::new("speech");
    p.write(
        "narrate.toml",
        &format!(
            "[project]\ntitle = \"Speech\"\n[defaults]\npause = 1.0\n[episodes.talk]\ntitle = \"Talk\"\n{extra_manifest}"
        ),
    );
    let gains = [-24.0f32, 0.0, 18.0];
    for (i, (take, gain)) in speech.iter().zip(gains).enumerate() {
        let g = 10f32.powf(gain / 20.0);
        let samples: Vec<f32> = take.iter().map(|s| (s * g).clamp(-1.0, 1.0)).collect();
        let stem = format!("0{}-part", i + 1);
        write_wav_f32(
            &p.path(&format!("audio/talk/{stem}.wav")),
            22_050,
            1,
            &samples,
        );
        p.section(
            "talk",
            &stem,
            &format!("title = \"Part {}\"", i + 1),
            "Words.",
        );
    }
    Some(p)
}

#[test]
fn every_profile_meets_its_loudness_target_by_ffmpegs_meter() {
    if !have_tool("ffmpeg", "-version") {
        return;
    }
    let Some(p) = speech_project("") else { return };
    p.build(&[
        "--profile",
        "guide",
        "--profile",
        "waiting-room",
        "--profile",
        "hold-line-pcm",
        "--profile",
        "hold-line",
    ]);
    for (file, target, ceiling) in [
        ("out/guide/talk.wav", -16.0, -1.0),
        ("out/waiting-room/loop.wav", -18.0, -1.0),
        ("out/hold-line-pcm/talk.wav", -25.0, -3.0),
    ] {
        let (integrated, peak) = ffmpeg_ebur128(&p.path(file));
        eprintln!("{file}: {integrated} LUFS, {peak} dBTP (ffmpeg)");
        assert!(
            (integrated - target).abs() <= 0.2,
            "{file}: {integrated} LUFS, want {target}"
        );
        assert!(
            peak <= ceiling,
            "{file}: true peak {peak} dBTP over {ceiling}"
        );
    }
    // µ-law companding adds its own quantisation; the level stays near the target.
    let (integrated, peak) = ffmpeg_ebur128(&p.path("out/hold-line/talk.wav"));
    eprintln!("hold-line µ-law: {integrated} LUFS, {peak} dBTP (ffmpeg)");
    assert!((integrated + 25.0).abs() <= 0.5, "{integrated}");
    assert!(peak <= -2.5, "{peak}");
}

#[test]
fn quiet_and_hot_takes_end_up_alike() {
    let Some(p) = speech_project("") else { return };
    p.build(&[]);
    let report: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(p.path("out/guide/talk.report.json")).unwrap())
            .unwrap();
    let gains: Vec<f64> = report["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["clips"][0]["level_gain_db"].as_f64().unwrap())
        .collect();
    // The quiet take is raised by about 24 dB more than the normal one, the hot one lowered.
    assert!(gains[0] - gains[1] > 20.0, "{gains:?}");
    assert!(gains[2] < gains[1], "{gains:?}");

    // Measured per chapter in the output, the three parts are within 1 LU of each other.
    let audio = narrate::decode::decode_file(&p.path("out/guide/talk.wav")).unwrap();
    let info = narrate::wav::reader::read_wav_info(&p.path("out/guide/talk.wav")).unwrap();
    let starts: Vec<usize> = info.cues.iter().map(|c| c.frame() as usize).collect();
    let mut levels = Vec::new();
    for (i, start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(audio.samples.len());
        let part = narrate::audio::Audio {
            samples: audio.samples[*start..end].to_vec(),
            ..audio.clone()
        };
        levels.push(
            narrate::loudness::measure(&part)
                .unwrap()
                .integrated_lufs
                .unwrap(),
        );
    }
    let spread = levels.iter().cloned().fold(f64::MIN, f64::max)
        - levels.iter().cloned().fold(f64::MAX, f64::min);
    assert!(spread < 1.0, "per-part loudness {levels:?}");
    let mastering = &report["mastering"];
    assert!((mastering["output"]["integrated_lufs"].as_f64().unwrap() + 16.0).abs() < 0.1);
    assert!(mastering["output"]["true_peak_dbtp"].as_f64().unwrap() <= -1.0);
}

#[test]
fn telephone_formats_open_as_g711_in_independent_readers() {
    let p = Scratch::new("g711");
    p.write(
        "narrate.toml",
        "[project]\ntitle = \"T\"\n[episodes.hold]\ntitle = \"On hold\"\n",
    );
    write_wav16(
        &p.path("audio/hold/01-a.wav"),
        44_100,
        1,
        &common::sine(88_200, 44_100, 1, 440.0, 0.5),
    );
    p.section("hold", "01-a", "title = \"Please hold\"", "Words.");
    p.build(&["--profile", "hold-line", "--profile", "hold-line-alaw"]);
    for (profile, ffprobe_codec, sox_encoding, sf_subtype) in [
        ("hold-line", "pcm_mulaw", "u-law", "ULAW"),
        ("hold-line-alaw", "pcm_alaw", "A-law", "ALAW"),
    ] {
        let wav = p.path(&format!("out/{profile}/hold.wav"));
        let info = narrate::wav::reader::read_wav_info(&wav).unwrap();
        assert_eq!(
            (
                info.format.sample_rate,
                info.format.channels,
                info.format.bits_per_sample
            ),
            (8_000, 1, 8)
        );
        assert_eq!(info.frames, 16_000);
        assert!(info.chunks.iter().any(|c| c.id == "fact"), "no fact chunk");
        if have_tool("ffprobe", "-version") {
            let out = Command::new("ffprobe")
                .args([
                    "-v",
                    "error",
                    "-show_entries",
                    "stream=codec_name,sample_rate,duration_ts",
                    "-of",
                    "csv=p=0",
                ])
                .arg(&wav)
                .output()
                .unwrap();
            assert_eq!(
                String::from_utf8_lossy(&out.stdout).trim(),
                format!("{ffprobe_codec},8000,16000")
            );
        }
        if have_tool("sox", "--version") {
            let out = Command::new("sox").arg("--i").arg(&wav).output().unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                text.contains(&format!("8-bit {sox_encoding}")) && text.contains("16000 samples"),
                "{text}"
            );
        }
        let py = Command::new("python3")
            .args(["-c", "import sys, soundfile; i = soundfile.info(sys.argv[1]); print(i.subtype, i.frames, i.samplerate)"])
            .arg(&wav)
            .output();
        match py {
            Ok(out) if out.status.success() => {
                assert_eq!(
                    String::from_utf8_lossy(&out.stdout).trim(),
                    format!("{sf_subtype} 16000 8000")
                );
            }
            _ => assert!(
                std::env::var_os("CI").is_none(),
                "python soundfile is required in CI"
            ),
        }
    }
}

#[test]
fn hold_line_limits_are_enforced_with_a_clear_error() {
    let p = Scratch::new("caps");
    p.write(
        "narrate.toml",
        "[project]\ntitle = \"T\"\n[episodes.hold]\ntitle = \"On hold\"\n[profiles.hold-line]\nmax_seconds = 1.5\n",
    );
    write_wav16(
        &p.path("audio/hold/01-a.wav"),
        8_000,
        1,
        &square(16_000, 1, 20, 0.25),
    );
    p.section("hold", "01-a", "title = \"Please hold\"", "Words.");
    let out = p.narrate(&["build", "--profile", "hold-line"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("max_seconds = 1.5") && stderr.contains("fix:"),
        "{stderr}"
    );
    assert!(!p.path("out/hold-line/hold.wav").exists());

    p.write(
        "narrate.toml",
        "[project]\ntitle = \"T\"\n[episodes.hold]\ntitle = \"On hold\"\n[profiles.hold-line]\nmax_bytes = 10000\n",
    );
    let out = p.narrate(&["build", "--profile", "hold-line"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("max_bytes = 10000"), "{stderr}");
    // 16000 µ-law bytes plus the header.
    p.write(
        "narrate.toml",
        "[project]\ntitle = \"T\"\n[episodes.hold]\ntitle = \"On hold\"\n[profiles.hold-line]\nmax_bytes = 17000\n",
    );
    p.build(&["--profile", "hold-line"]);
    assert!(
        fs::metadata(p.path("out/hold-line/hold.wav"))
            .unwrap()
            .len()
            <= 17_000
    );
}

/// An episode with `lengths` seconds of tone per section, 0.5 s pauses.
fn cd_project(lengths: &[f64]) -> Scratch {
    let p = Scratch::new("cd");
    p.write(
        "narrate.toml",
        "[project]\ntitle = \"T\"\n[defaults]\npause = 0.5\n[episodes.disc]\ntitle = \"Disc\"\n",
    );
    for (i, seconds) in lengths.iter().enumerate() {
        let stem = format!("{:03}-t", i + 1);
        write_wav16(
            &p.path(&format!("audio/disc/{stem}.wav")),
            44_100,
            1,
            &square((seconds * 44_100.0) as usize + 37, 1, 100, 0.25),
        );
        p.section(
            "disc",
            &stem,
            &format!("title = \"Track {}\"\ntrim = false", i + 1),
            "Words.",
        );
    }
    p
}

#[test]
fn cd_chapters_start_on_cd_frames_and_the_cue_sheet_matches() {
    let p = cd_project(&[4.2, 5.0, 6.3, 4.01]);
    p.build(&["--profile", "cd"]);
    let wav = p.path("out/cd/disc.wav");
    let info = narrate::wav::reader::read_wav_info(&wav).unwrap();
    assert_eq!((info.format.sample_rate, info.format.channels), (44_100, 2));
    assert_eq!(info.frames % 588, 0, "the programme is whole CD sectors");
    let starts: Vec<u64> = info.cues.iter().map(|c| c.frame()).collect();
    assert_eq!(starts.len(), 4);
    let cue = fs::read_to_string(p.path("out/cd/disc.cue")).unwrap();
    let indexes: Vec<&str> = cue
        .lines()
        .filter_map(|l| l.trim().strip_prefix("INDEX 01 "))
        .collect();
    for (start, index) in starts.iter().zip(&indexes) {
        assert_eq!(start % 588, 0, "chapter start {start} is not on a CD frame");
        let f = start / 588;
        assert_eq!(
            *index,
            format!("{:02}:{:02}:{:02}", f / 75 / 60, f / 75 % 60, f % 75)
        );
    }
    if have_tool("cuebreakpoints", "--version") {
        // cuetools parses the sheet and gives the same track starts.
        let out = Command::new("cuebreakpoints")
            .arg(p.path("out/cd/disc.cue"))
            .output()
            .unwrap();
        let points: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(String::from)
            .collect();
        assert_eq!(points.len(), 3, "{points:?}");
    }
}

#[test]
fn cd_rules_refuse_short_many_or_long_programmes() {
    let short = cd_project(&[4.5, 2.0, 4.5]);
    let out = short.narrate(&["build", "--profile", "cd"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("chapter 2") && stderr.contains("at least 4 s"),
        "{stderr}"
    );

    let many = cd_project(&[0.01; 100]);
    let out = many.narrate(&["build", "--profile", "cd"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("100 chapters") && stderr.contains("99 tracks"),
        "{stderr}"
    );

    // The 79:48 limit is checked on the timeline (a unit test in src/profile.rs), so no
    // test renders 80 minutes of audio.
}

#[test]
fn the_waiting_room_loop_joins_episodes_seamlessly() {
    let p = Scratch::new("loop");
    p.write(
        "narrate.toml",
        "[project]\ntitle = \"Loop\"\n[defaults]\npause = 1.0\n[episodes.a]\ntitle = \"A\"\n[episodes.b]\ntitle = \"B\"\n",
    );
    write_wav16(
        &p.path("audio/a/01-x.wav"),
        44_100,
        1,
        &common::sine(44_100, 44_100, 1, 440.0, 0.1),
    );
    write_wav16(
        &p.path("audio/b/01-y.wav"),
        48_000,
        2,
        &common::sine(48_000, 48_000, 2, 440.0, 0.6),
    );
    p.section("a", "01-x", "title = \"X\"", "Words.");
    p.section("b", "01-y", "title = \"Y\"", "Words.");
    p.build(&["--profile", "waiting-room"]);
    let wav = p.path("out/waiting-room/loop.wav");
    let info = narrate::wav::reader::read_wav_info(&wav).unwrap();
    assert_eq!((info.format.sample_rate, info.format.channels), (48_000, 2));
    let titles: Vec<String> = info
        .cues
        .iter()
        .map(|c| c.label.clone().unwrap_or_default())
        .collect();
    assert_eq!(titles, ["A — X", "B — Y"]);
    let audio = narrate::decode::decode_file(&wav).unwrap();
    // The seam: the file ends with the same 1 s pause that separates sections, and starts
    // with sound that fades in from the trimmed take's quiet edge: no click.
    let last_sound = audio.samples.iter().rposition(|s| *s != 0.0).unwrap() / 2;
    assert_eq!(audio.frames() as usize - 1 - last_sound, 48_000);
    assert!(audio.samples[0].abs() < 0.01 && audio.samples[1].abs() < 0.01);
    // No level jump: both episodes come out at the same loudness.
    let b_start = info.cues[1].frame() as usize * 2;
    let level = |s: &[f32]| {
        narrate::loudness::measure(&narrate::audio::Audio {
            sample_rate: 48_000,
            channels: 2,
            samples: s.to_vec(),
        })
        .unwrap()
        .integrated_lufs
        .unwrap()
    };
    let (a, b) = (
        level(&audio.samples[..b_start]),
        level(&audio.samples[b_start..]),
    );
    assert!(
        (a - b).abs() < 0.5,
        "episode A {a} LUFS, episode B {b} LUFS"
    );
}

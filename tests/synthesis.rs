//! Sections without a recording are synthesised, cached, marked, and refused by
//! `--release`.

mod common;

use std::fs;

use common::{engine_calls, fake_engine_script, have_tool, sine, write_wav16, Scratch};

const ENGLISH: &str = "Your heart has four valves. They keep the blood moving forward.\n\n\
    The mitral valve sits between the left atrium and the left ventricle. It works like a double door.";
const FRENCH: &str = "Votre cœur possède quatre valves. Elles font avancer le sang.\n\n\
    La valve mitrale se trouve entre l'oreillette gauche et le ventricule gauche.";

fn unrecorded_project(language: &str, texts: &[&str], extra: &str) -> Scratch {
    let p = Scratch::new("tts");
    p.write(
        "narrate.toml",
        &format!(
            "[project]\ntitle = \"T\"\nlanguage = \"{language}\"\n[defaults]\npause = 1.0\n\
             [episodes.e]\ntitle = \"E\"\n{extra}"
        ),
    );
    for (i, text) in texts.iter().enumerate() {
        p.section(
            "e",
            &format!("0{}-s", i + 1),
            &format!("title = \"Part {}\"", i + 1),
            text,
        );
    }
    p
}

/// RMS level in dBFS of `samples`.
fn rms_db(samples: &[i16]) -> f64 {
    let sum: f64 = samples
        .iter()
        .map(|&s| (f64::from(s) / 32768.0).powi(2))
        .sum();
    10.0 * (sum / samples.len() as f64).log10()
}

fn check_spoken_episode(language: &str, texts: &[&str]) {
    let p = unrecorded_project(language, texts, "");
    let out = p.build(&[]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("2 synthesised section(s)"));
    let wav = p.path("out/guide/e.wav");
    let (_, samples) = common::read_wav16(&wav);
    let info = narrate::wav::reader::read_wav_info(&wav).unwrap();
    assert_eq!(info.cues.len(), 2);
    assert!(info
        .tag("ICMT")
        .unwrap()
        .contains("Synthesised speech, not yet recorded: 01-s, 02-s"));
    let report: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(p.path("out/guide/e.report.json")).unwrap())
            .unwrap();
    let mut spoken_seconds = 0.0;
    for (i, section) in report["sections"].as_array().unwrap().iter().enumerate() {
        assert_eq!(section["synthesised"], true);
        let start = section["start_frame"].as_u64().unwrap() as usize;
        let frames = section["duration_frames"].as_u64().unwrap() as usize;
        // Speech is present: the chapter is loud, not silence.
        let level = rms_db(&samples[start..start + frames]);
        assert!(level > -35.0, "section {i}: {level:.1} dBFS");
        spoken_seconds += frames as f64 / 44_100.0;
    }
    // Duration is consistent with words ÷ rate (140 words a minute), allowing for the
    // paragraph pause, the kept margins and how fast the engine speaks short words.
    let words: usize = texts.iter().map(|t| t.split_whitespace().count()).sum();
    let expected = words as f64 / 140.0 * 60.0;
    let wpm = words as f64 / spoken_seconds * 60.0;
    eprintln!("{language}: {words} words in {spoken_seconds:.2} s: {wpm:.0} words per minute");
    assert!(
        (spoken_seconds / expected - 1.0).abs() < 0.4,
        "{spoken_seconds:.2} s for {words} words"
    );
}

#[test]
fn english_and_french_episodes_without_recordings_are_spoken() {
    if !have_tool("espeak-ng", "--version") {
        return;
    }
    let [en1, en2]: [&str; 2] = ENGLISH
        .split("\n\n")
        .collect::<Vec<_>>()
        .try_into()
        .unwrap();
    check_spoken_episode("en", &[en1, en2]);
    let [fr1, fr2]: [&str; 2] = FRENCH.split("\n\n").collect::<Vec<_>>().try_into().unwrap();
    check_spoken_episode("fr", &[fr1, fr2]);
}

/// The `[speech]` table for a fake engine that counts its calls and "speaks" a tone.
fn fake_engine(p: &Scratch) -> String {
    let script = fake_engine_script(p);
    format!("[speech]\nengine = \"command\"\ncommand = [\"sh\", \"{script}\", \"{{out}}\"]\nstdin = true\n")
}

#[test]
fn an_unchanged_section_is_never_synthesised_twice() {
    let p = unrecorded_project("en", &["One paragraph.", "Another paragraph."], "");
    let engine = fake_engine(&p);
    let manifest = fs::read_to_string(p.path("narrate.toml")).unwrap();
    p.write("narrate.toml", &format!("{manifest}{engine}"));
    p.build(&[]);
    assert_eq!(engine_calls(&p), 2);
    p.build(&[]);
    assert_eq!(engine_calls(&p), 2, "the second build called the engine");
    // A changed text is synthesised again, and only that one.
    p.section("e", "02-s", "title = \"Part 2\"", "Changed words.");
    p.build(&[]);
    assert_eq!(engine_calls(&p), 3);
    // Clearing the cache makes the next build synthesise everything again.
    let out = p.narrate(&["clean-cache"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("removed 3"),
        "{out:?}"
    );
    p.build(&[]);
    assert_eq!(engine_calls(&p), 5);
}

#[test]
fn a_failing_engine_is_named_with_its_message_and_nothing_is_written() {
    let p = unrecorded_project("en", &["Words to say."], "");
    p.write(
        "engine.sh",
        "#!/bin/sh\necho 'voice model not found' >&2\nexit 3\n",
    );
    let script = p.path("engine.sh").display().to_string();
    let manifest = fs::read_to_string(p.path("narrate.toml")).unwrap();
    p.write(
        "narrate.toml",
        &format!("{manifest}[speech]\nengine = \"command\"\ncommand = [\"sh\", \"{script}\", \"{{out}}\"]\nstdin = true\n"),
    );
    let out = p.narrate(&["build"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for needle in ["01-s.md", "engine.sh", "voice model not found", "fix:"] {
        assert!(stderr.contains(needle), "`{needle}` missing:\n{stderr}");
    }
    assert!(p.outputs().is_empty());
}

#[test]
fn a_missing_engine_fails_check_and_build_clearly() {
    let p = unrecorded_project(
        "en",
        &["Words to say."],
        "[speech]\nengine = \"command\"\ncommand = [\"no-such-tts-engine\", \"{out}\"]\nstdin = true\n",
    );
    for command in ["check", "build"] {
        let out = p.narrate(&[command]);
        assert_eq!(out.status.code(), Some(1), "{command}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("no-such-tts-engine") && stderr.contains("fix:"),
            "{command}:\n{stderr}"
        );
    }
    assert!(p.outputs().is_empty());
}

#[test]
fn release_builds_refuse_synthesised_sections_by_name() {
    let p = unrecorded_project("en", &["Recorded.", "Not recorded."], "");
    write_wav16(
        &p.path("audio/e/01-s.wav"),
        44_100,
        1,
        &sine(44_100, 44_100, 1, 440.0, 0.3),
    );
    for args in [&["build", "--release"][..], &["check", "--release"][..]] {
        let out = p.narrate(args);
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("02-s.md") && !stderr.contains("01-s.md"),
            "{stderr}"
        );
    }
    let manifest = fs::read_to_string(p.path("narrate.toml")).unwrap();
    p.write(
        "narrate.toml",
        &manifest.replace(
            "language = \"en\"",
            "language = \"en\"\nrequire_recordings = true",
        ),
    );
    let out = p.narrate(&["build"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("require_recordings"));
    assert!(p.outputs().is_empty());
}

#[test]
fn check_lists_the_pronunciations_each_section_uses() {
    let p = unrecorded_project(
        "en",
        &["The MitraClip treats the valve.", "No special words."],
        "[lexicon]\nMitraClip = \"Mitra Clip\"\ntransesophageal = \"trans-eesophageal\"\n",
    );
    write_wav16(
        &p.path("audio/e/01-s.wav"),
        44_100,
        1,
        &sine(44_100, 44_100, 1, 440.0, 0.3),
    );
    write_wav16(
        &p.path("audio/e/02-s.wav"),
        44_100,
        1,
        &sine(44_100, 44_100, 1, 440.0, 0.3),
    );
    let out = p.narrate(&["check"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("01-s.md: MitraClip → Mitra Clip"),
        "{stdout}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("`transesophageal` is used by no section")
    );
}

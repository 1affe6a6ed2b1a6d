//! Interrupted builds (issue 7): a build killed with SIGKILL while it writes leaves the
//! previous outputs intact byte for byte and nothing half-written under an output name; the
//! next build removes the temporary file and writes every output.
//!
//! The kill is deterministic in what it proves: the test kills `narrate` as soon as the
//! episode's temporary WAV (`e.wav.<pid>.narrate-tmp`) appears, and afterwards checks that
//! the file is still there, which shows the process died before the rename. If the build won
//! the race, the attempt is repeated with a clip twice as long.
#![cfg(unix)]

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Scratch;
use narrate::atomic::{self, TEMP_SUFFIX};
use narrate::wav::reader::read_wav_info;

const RATE: u32 = 44_100;

/// A 16-bit mono WAV of `frames` frames of a loud square wave, written directly (fast for
/// many minutes of audio).
fn write_clip(path: &Path, frames: u32) {
    let data_len = frames * 2;
    let mut bytes = Vec::with_capacity(44 + data_len as usize);
    bytes.extend_from_slice(b"RIFF");
    bytes.extend_from_slice(&(36 + data_len).to_le_bytes());
    bytes.extend_from_slice(b"WAVEfmt ");
    bytes.extend_from_slice(&16u32.to_le_bytes());
    bytes.extend_from_slice(&1u16.to_le_bytes());
    bytes.extend_from_slice(&1u16.to_le_bytes());
    bytes.extend_from_slice(&RATE.to_le_bytes());
    bytes.extend_from_slice(&(RATE * 2).to_le_bytes());
    bytes.extend_from_slice(&2u16.to_le_bytes());
    bytes.extend_from_slice(&16u16.to_le_bytes());
    bytes.extend_from_slice(b"data");
    bytes.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..frames {
        let v: i16 = if (i / 50) % 2 == 0 { 8000 } else { -8000 };
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
}

fn project(name: &str) -> Scratch {
    let p = Scratch::new(name);
    p.write(
        "narrate.toml",
        "[project]\ntitle = \"T\"\n\n[episodes.e]\ntitle = \"E\"\n",
    );
    p.section("e", "01-a", "title = \"A\"\ntrim = false", "Words.");
    p.section("e", "02-b", "title = \"B\"\ntrim = false", "More words.");
    write_clip(&p.path("audio/e/01-a.wav"), RATE / 2);
    write_clip(&p.path("audio/e/02-b.wav"), RATE / 2);
    p
}

/// Every file in `dir` with its bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn temps(dir: &Path) -> Vec<String> {
    files(dir)
        .into_keys()
        .filter(|n| n.ends_with(TEMP_SUFFIX))
        .collect()
}

/// Starts a build and SIGKILLs it as soon as `e.wav`'s temporary file appears. Returns
/// whether it was killed while writing the WAV (its temporary file outlived it); `false`
/// when the build finished, or renamed the WAV, before the kill landed.
fn kill_mid_write(p: &Scratch) -> bool {
    let out = p.path("out/guide");
    let mut child = Command::new(env!("CARGO_BIN_EXE_narrate"))
        .arg("build")
        .current_dir(&p.root)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let temp = format!("e.wav.{}{TEMP_SUFFIX}", child.id());
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if out.join(&temp).exists() {
            child.kill().unwrap();
            child.wait().unwrap();
            return out.join(&temp).exists();
        }
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        assert!(Instant::now() < deadline, "the build never started writing");
        std::thread::sleep(Duration::from_micros(200));
    }
}

#[test]
fn a_build_killed_mid_write_leaves_the_previous_outputs() {
    // Minutes of audio: the WAV takes tens of milliseconds to write, and the kill lands
    // within a millisecond of the temporary file appearing. Doubled if the build wins.
    for minutes in [4, 8, 16] {
        let p = project(&format!("killed-{minutes}"));
        p.build(&[]);
        let out = p.path("out/guide");
        let before = files(&out);
        assert!(before.contains_key("e.wav") && before.contains_key("e.report.json"));

        // A new take, much longer: the next build rewrites every output.
        let frames = RATE * 60 * minutes;
        write_clip(&p.path("audio/e/02-b.wav"), frames);
        if !kill_mid_write(&p) {
            eprintln!("the {minutes}-minute build finished before the kill; trying longer");
            continue;
        }

        // Every previous output is intact; the only other file is the temporary one.
        let after = files(&out);
        for (name, bytes) in &before {
            assert!(after.get(name) == Some(bytes), "{name} changed");
        }
        let extra: Vec<&String> = after.keys().filter(|n| !before.contains_key(*n)).collect();
        assert!(
            !extra.is_empty() && extra.iter().all(|n| n.ends_with(TEMP_SUFFIX)),
            "unexpected files after the kill: {extra:?}"
        );
        assert!(read_wav_info(&out.join("e.wav"))
            .unwrap()
            .warnings
            .is_empty());

        // The next build cleans the leftover and writes the new outputs.
        p.build(&[]);
        assert_eq!(temps(&out), Vec::<String>::new(), "temporary files left");
        let rebuilt = files(&out);
        let names = |m: &BTreeMap<String, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
        assert_eq!(names(&rebuilt), names(&before));
        let info = read_wav_info(&out.join("e.wav")).unwrap();
        let pause = u64::from(RATE) * 3 / 2;
        assert_eq!(info.frames, u64::from(RATE / 2) + pause + u64::from(frames));
        return;
    }
    panic!("every build finished before it could be killed mid-write");
}

/// Leftovers of a dead process go; a temporary file of this process (another thread writing)
/// or of a live process stays; other files are never touched.
#[test]
fn only_dead_writers_leftovers_are_cleaned() {
    let dir = Scratch::new("leftovers");
    // A process that has finished: its pid is free (until reused, which a fresh pid is not
    // within this test).
    let mut dead = Command::new("true").spawn().unwrap();
    let dead_pid = dead.id();
    dead.wait().unwrap();
    let live = Command::new("sleep").arg("30").spawn().unwrap();
    let names = [
        format!("a.wav.{dead_pid}{TEMP_SUFFIX}"),
        format!("b.wav.{}{TEMP_SUFFIX}", std::process::id()),
        format!("c.wav.{}{TEMP_SUFFIX}", live.id()),
        format!("d.wav{TEMP_SUFFIX}"),
        "e.wav".to_string(),
        "e.wav.123.tmp".to_string(),
    ];
    for name in &names {
        dir.write(name, "x");
    }
    atomic::clean_leftovers(&dir.root);
    let mut live = live;
    let _ = live.kill();
    let _ = live.wait();
    let left: Vec<String> = files(&dir.root).into_keys().collect();
    assert_eq!(
        left,
        [
            names[1].clone(),
            names[2].clone(),
            "e.wav".to_string(),
            "e.wav.123.tmp".to_string()
        ]
    );
}

/// Two episodes built in parallel into one folder: neither thread's clean-up may remove the
/// other's file while it is written. Repeated, since the overlap depends on timing.
#[test]
fn parallel_outputs_in_one_folder_all_land() {
    let p = project("parallel");
    p.write(
        "narrate.toml",
        "[project]\ntitle = \"T\"\n\n[episodes.e]\ntitle = \"E\"\n\n[episodes.f]\ntitle = \"F\"\n",
    );
    p.section("f", "01-a", "title = \"A\"\ntrim = false", "Words.");
    write_clip(&p.path("audio/f/01-a.wav"), RATE * 20);
    write_clip(&p.path("audio/e/02-b.wav"), RATE * 20);
    for _ in 0..5 {
        p.build(&[]);
        let out = p.path("out/guide");
        assert_eq!(temps(&out), Vec::<String>::new());
        for ep in ["e", "f"] {
            assert!(out.join(format!("{ep}.wav")).exists());
        }
    }
}

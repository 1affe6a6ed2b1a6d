//! Incremental builds (issue 6): an unchanged project rebuilds with no audio work; a changed
//! clip is prepared again alone and only its episode is mastered again; whatever a rebuild
//! leaves is byte for byte what a clean build writes.
//!
//! Every run gets its own build cache (`NARRATE_CACHE_DIR`), so that the prepared clips it
//! writes can be counted.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

use common::{engine_calls, fake_engine_script, sine, square, write_wav16, Scratch};

const RATE: u32 = 44_100;

/// A file's size and modification time: changes when it is written.
type Stamps = BTreeMap<String, (u64, SystemTime)>;

/// Two episodes: `a` plays a shared chime and two takes, `b` one take and a synthesised
/// section (a fake engine that counts its calls).
fn project(name: &str) -> (Scratch, PathBuf) {
    let p = Scratch::new(name);
    let cache = p.path("build-cache");
    let engine = fake_engine_script(&p);
    p.write(
        "narrate.toml",
        &format!(
            "[project]\ntitle = \"T\"\n\n[defaults]\npause = 0.5\n\n\
             [episodes.a]\ntitle = \"A\"\n\n[episodes.b]\ntitle = \"B\"\n\n\
             [speech]\nengine = \"command\"\ncommand = [\"sh\", \"{engine}\", \"{{out}}\"]\nstdin = true\n"
        ),
    );
    p.section(
        "a",
        "01-one",
        "title = \"One\"\nbefore = [{ clip = \"audio/chime.wav\", gap = 0.2 }]",
        "First.",
    );
    p.section("a", "02-two", "title = \"Two\"", "Second.");
    p.section("b", "01-one", "title = \"One\"", "Third.");
    p.section("b", "02-spoken", "title = \"Spoken\"", "Words to say.");
    write_wav16(
        &p.path("audio/chime.wav"),
        RATE,
        1,
        &square(4_410, 1, 40, 0.2),
    );
    take(&p, "audio/a/01-one.wav", 440.0, 0.3);
    take(&p, "audio/a/02-two.wav", 550.0, 0.1);
    take(&p, "audio/b/01-one.wav", 660.0, 0.5);
    (p, cache)
}

/// A take: quiet edges (trimmed) around a second and a half of tone with sharp clicks
/// every 10 ms, so peaky that the limiter has work to do at any loudness target (which is
/// what makes a rebuild's mastering search matter).
fn take(p: &Scratch, rel: &str, freq: f64, amplitude: f64) {
    let mut samples = vec![0.0; 11_025];
    let mut tone = sine(66_150, RATE, 1, freq, amplitude * 0.1);
    for (i, s) in tone.iter_mut().enumerate() {
        if i % 441 < 2 {
            *s = amplitude as f32;
        }
    }
    samples.extend(tone);
    samples.extend(vec![0.0; 11_025]);
    write_wav16(&p.path(rel), RATE, 1, &samples);
}

fn narrate(p: &Scratch, cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_narrate"))
        .args(args)
        .env("NARRATE_CACHE_DIR", cache)
        .current_dir(&p.root)
        .output()
        .unwrap()
}

/// Runs `narrate build ARGS` and returns its summary lines, one per output.
fn build(p: &Scratch, cache: &Path, args: &[&str]) -> Vec<String> {
    let mut all = vec!["build"];
    all.extend_from_slice(args);
    let out = narrate(p, cache, &all);
    assert!(
        out.status.success(),
        "narrate build failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains(".wav"))
        .map(str::to_string)
        .collect()
}

/// Whether the summary line of output `wav` says it was unchanged.
fn unchanged(lines: &[String], wav: &str) -> bool {
    let line = lines
        .iter()
        .find(|l| l.contains(wav))
        .unwrap_or_else(|| panic!("no line for {wav} in {lines:?}"));
    line.ends_with("unchanged")
}

/// Every file under `dir` with its stamp.
fn stamps(dir: &Path) -> Stamps {
    fn walk(dir: &Path, root: &Path, found: &mut Stamps) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                walk(&path, root, found);
            } else {
                let rel = path.strip_prefix(root).unwrap().display().to_string();
                found.insert(rel, (meta.len(), meta.modified().unwrap()));
            }
        }
    }
    let mut found = BTreeMap::new();
    walk(dir, dir, &mut found);
    found
}

/// Every file under `dir` with its bytes.
fn contents(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    stamps(dir)
        .into_keys()
        .map(|rel| {
            let bytes = fs::read(dir.join(&rel)).unwrap();
            (rel, bytes)
        })
        .collect()
}

/// Sets a file's modification time.
fn set_mtime(path: &Path, time: SystemTime) {
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(time)
        .unwrap();
}

#[test]
fn an_unchanged_project_is_not_built_again() {
    let (p, cache) = project("unchanged");
    let first = build(&p, &cache, &[]);
    assert!(!unchanged(&first, "a.wav") && !unchanged(&first, "b.wav"));
    assert_eq!(engine_calls(&p), 1);
    let clips = stamps(&cache.join("clips"));
    // The chime, three takes and the speech.
    assert_eq!(
        clips.keys().filter(|n| n.ends_with(".f32")).count(),
        5,
        "{clips:?}"
    );
    let out = stamps(&p.path("out"));
    let bytes = contents(&p.path("out"));

    let second = build(&p, &cache, &[]);
    assert!(unchanged(&second, "a.wav") && unchanged(&second, "b.wav"));
    // The summary still gives the figures.
    assert!(second[0].contains("2 chapters") && second[0].contains("LUFS"));
    assert_eq!(engine_calls(&p), 1, "the speech engine ran again");
    assert_eq!(
        stamps(&cache.join("clips")),
        clips,
        "prepared clips were written"
    );
    assert_eq!(stamps(&p.path("out")), out, "outputs were written");
    assert_eq!(contents(&p.path("out")), bytes);

    // A new modification time alone (same content) changes nothing either.
    set_mtime(
        &p.path("audio/a/02-two.wav"),
        SystemTime::now() + Duration::from_secs(5),
    );
    let third = build(&p, &cache, &[]);
    assert!(unchanged(&third, "a.wav") && unchanged(&third, "b.wav"));
    assert_eq!(stamps(&cache.join("clips")), clips);
    assert_eq!(stamps(&p.path("out")), out);
}

#[test]
fn a_changed_clip_is_prepared_again_alone_and_only_its_episode_rebuilt() {
    let (p, cache) = project("one-clip");
    build(&p, &cache, &[]);
    let clips = stamps(&cache.join("clips"));
    let b_before = contents(&p.path("out/guide"))
        .into_iter()
        .filter(|(name, _)| name.starts_with("b."))
        .collect::<BTreeMap<_, _>>();

    // A new take of a/02-two, a different length and level.
    let mut samples = sine(30_000, RATE, 1, 500.0, 0.2);
    samples.extend(vec![0.0; 5_000]);
    write_wav16(&p.path("audio/a/02-two.wav"), RATE, 1, &samples);
    let lines = build(&p, &cache, &[]);
    assert!(!unchanged(&lines, "a.wav"), "{lines:?}");
    assert!(unchanged(&lines, "b.wav"), "{lines:?}");

    // Exactly one clip was prepared (its audio and its facts), nothing else was touched.
    let now = stamps(&cache.join("clips"));
    let added: Vec<&String> = now.keys().filter(|n| !clips.contains_key(*n)).collect();
    assert_eq!(added.len(), 2, "{added:?}");
    assert!(
        added.iter().any(|n| n.ends_with(".f32")) && added.iter().any(|n| n.ends_with(".json"))
    );
    for (name, stamp) in &clips {
        assert_eq!(now.get(name), Some(stamp), "{name} was rewritten");
    }
    let b_after = contents(&p.path("out/guide"))
        .into_iter()
        .filter(|(name, _)| name.starts_with("b."))
        .collect::<BTreeMap<_, _>>();
    assert_eq!(b_before, b_after);
    assert_eq!(engine_calls(&p), 1);

    // The limiter worked, and the rebuild needed more than one pass: the mastering search
    // is part of what must come out the same.
    let report: serde_json::Value =
        serde_json::from_slice(&fs::read(p.path("out/guide/a.report.json")).unwrap()).unwrap();
    assert!(report["mastering"]["limited_frames"].as_u64().unwrap() > 0);

    // What the rebuild left is what a clean build (new cache, new output folder) writes.
    let clean_cache = p.path("clean-cache");
    let lines = build(&p, &clean_cache, &["--out", "clean"]);
    assert!(!unchanged(&lines, "a.wav") && !unchanged(&lines, "b.wav"));
    let rebuilt = contents(&p.path("out"));
    let clean = contents(&p.path("clean"));
    assert_eq!(rebuilt.len(), 16, "{:?}", rebuilt.keys());
    assert_eq!(
        rebuilt.keys().collect::<Vec<_>>(),
        clean.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &rebuilt {
        assert!(clean[name] == *bytes, "{name} differs from a clean build");
    }
}

#[test]
fn changed_scripts_and_damaged_outputs_are_rebuilt() {
    let (p, cache) = project("scripts");
    build(&p, &cache, &[]);
    let clips = stamps(&cache.join("clips"));

    // A new title: episode a is written again, from the prepared clips.
    p.section(
        "a",
        "02-two",
        "title = \"Two, renamed\"",
        "Second, renamed.",
    );
    let lines = build(&p, &cache, &[]);
    assert!(!unchanged(&lines, "a.wav") && unchanged(&lines, "b.wav"));
    assert_eq!(stamps(&cache.join("clips")), clips);
    let cue = fs::read_to_string(p.path("out/guide/a.cue")).unwrap();
    assert!(cue.contains("Two, renamed"), "{cue}");

    // A sidecar deleted, or the WAV edited by hand: that output is written again whole.
    let good = contents(&p.path("out"));
    fs::remove_file(p.path("out/guide/b.vtt")).unwrap();
    let mut wav = fs::read(p.path("out/guide/a.wav")).unwrap();
    let last = wav.len() - 1;
    wav[last] ^= 1;
    fs::write(p.path("out/guide/a.wav"), wav).unwrap();
    let lines = build(&p, &cache, &[]);
    assert!(!unchanged(&lines, "a.wav") && !unchanged(&lines, "b.wav"));
    assert_eq!(contents(&p.path("out")), good);
    assert_eq!(stamps(&cache.join("clips")), clips);

    // Another output folder is built, not taken for the first one.
    let lines = build(&p, &cache, &["--out", "elsewhere"]);
    assert!(!unchanged(&lines, "a.wav") && !unchanged(&lines, "b.wav"));
    let lines = build(&p, &cache, &[]);
    assert!(unchanged(&lines, "a.wav") && unchanged(&lines, "b.wav"));
}

#[test]
fn a_different_profile_prepares_its_own_clips() {
    let (p, cache) = project("profiles");
    build(&p, &cache, &[]);
    let before = stamps(&cache.join("clips")).len();
    let lines = build(&p, &cache, &["--profile", "hold-line"]);
    assert!(!unchanged(&lines, "a.wav") && !unchanged(&lines, "b.wav"));
    // Five more clips at 8 kHz, telephone band, each with its facts.
    assert_eq!(stamps(&cache.join("clips")).len(), before + 10);
    let lines = build(
        &p,
        &cache,
        &["--profile", "hold-line", "--profile", "guide"],
    );
    assert!(lines.iter().all(|l| l.ends_with("unchanged")), "{lines:?}");
}

#[test]
fn a_relative_cache_folder_is_inside_the_project() {
    let (p, _) = project("relative-cache");
    build(&p, Path::new(".narrate-cache"), &[]);
    let clips = stamps(&p.path(".narrate-cache/clips"));
    assert_eq!(clips.keys().filter(|n| n.ends_with(".f32")).count(), 5);
    let lines = build(&p, Path::new(".narrate-cache"), &[]);
    assert!(lines.iter().all(|l| l.ends_with("unchanged")), "{lines:?}");
}

/// Runs `narrate clean-cache ARGS`, which must succeed, and returns what it printed.
fn clean_cache(p: &Scratch, cache: &Path, args: &[&str]) -> String {
    let mut all = vec!["clean-cache"];
    all.extend_from_slice(args);
    let out = narrate(p, cache, &all);
    assert!(
        out.status.success(),
        "narrate clean-cache failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `files` without those whose path starts with one of `prefixes`.
fn without(files: &Stamps, prefixes: &[&str]) -> Stamps {
    files
        .iter()
        .filter(|(name, _)| !prefixes.iter().any(|p| name.starts_with(p)))
        .map(|(name, stamp)| (name.clone(), *stamp))
        .collect()
}

/// The names of the folders in `dir`.
fn folders(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn clean_cache_makes_the_next_build_rebuild_and_removes_nothing_else() {
    let (p, cache) = project("clean");
    let (other, _) = project("clean-other");
    build(&p, &cache, &[]);
    build(&other, &cache, &[]);
    let clips = stamps(&cache.join("clips"));
    let ids = folders(&cache.join("projects"));
    assert_eq!(ids.len(), 2, "{ids:?}");
    let cache_before = stamps(&cache);
    let project_before = stamps(&p.root);
    let other_before = stamps(&other.root);

    let printed = clean_cache(&p, &cache, &[]);
    for says in [
        "removed 1 synthesised speech file(s)",
        "its next build rebuilds every output",
        "kept the prepared clips (10 file(s)",
        "shared by every project",
        "--all",
        "freed ",
    ] {
        assert!(printed.contains(says), "{printed}");
    }

    // Gone: this project's speech and build records. Everything else is as it was: the
    // project's files, the prepared clips and the other project's records.
    let left = folders(&cache.join("projects"));
    assert_eq!(left.len(), 1, "{left:?}");
    let gone = format!(
        "projects/{}/",
        ids.iter().find(|id| !left.contains(id)).unwrap()
    );
    assert!(cache_before.keys().any(|n| n.starts_with(&gone)));
    assert_eq!(stamps(&cache), without(&cache_before, &[&gone]));
    assert_eq!(
        without(&stamps(&p.root), &["build-cache/"]),
        without(&project_before, &["build-cache/", ".narrate-cache/speech/"])
    );
    assert!(stamps(&p.path(".narrate-cache/speech")).is_empty());
    assert_eq!(stamps(&other.root), other_before);

    // The next build synthesises again and rebuilds every output, from the prepared clips
    // (the speech came out the same, so its clip is found too), into the same files.
    let out = contents(&p.path("out"));
    let lines = build(&p, &cache, &[]);
    assert!(lines.iter().all(|l| !l.ends_with("unchanged")), "{lines:?}");
    assert_eq!(engine_calls(&p), 2);
    assert_eq!(stamps(&cache.join("clips")), clips);
    assert_eq!(contents(&p.path("out")), out);
    let lines = build(&p, &cache, &[]);
    assert!(lines.iter().all(|l| l.ends_with("unchanged")), "{lines:?}");
    let lines = build(&other, &cache, &[]);
    assert!(lines.iter().all(|l| l.ends_with("unchanged")), "{lines:?}");
}

#[test]
fn clean_cache_all_removes_the_prepared_clips_too() {
    let (p, cache) = project("clean-all");
    let (other, _) = project("clean-all-other");
    build(&p, &cache, &[]);
    build(&other, &cache, &[]);
    let clips = stamps(&cache.join("clips"));
    let cache_before = stamps(&cache);
    let other_before = stamps(&other.root);

    let printed = clean_cache(&p, &cache, &["--all"]);
    for says in [
        "removed 1 synthesised speech file(s)",
        "removed the prepared clips (10 file(s)",
        "shared by every project",
        "prepares the clips it uses again on its next build",
    ] {
        assert!(printed.contains(says), "{printed}");
    }
    // The cache keeps its folders, the other project's records and the tidying marker:
    // only this project's records and narrate's clip files went.
    assert!(cache.join("clips").is_dir());
    assert_eq!(folders(&cache.join("projects")).len(), 1);
    let left = stamps(&cache);
    assert!(
        left.keys()
            .all(|n| n.starts_with("projects/") || n == "clips/.tidied"),
        "{left:?}"
    );
    for (name, stamp) in &left {
        assert_eq!(cache_before.get(name), Some(stamp), "{name} changed");
    }
    assert_eq!(stamps(&other.root), other_before);

    // The next build prepares every clip again and rebuilds every output.
    let lines = build(&p, &cache, &[]);
    assert!(lines.iter().all(|l| !l.ends_with("unchanged")), "{lines:?}");
    let again = stamps(&cache.join("clips"));
    let names = |s: &Stamps| {
        s.keys()
            .filter(|n| !n.starts_with('.'))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&again), names(&clips));
    for name in names(&clips) {
        assert_ne!(again[&name], clips[&name], "{name} was not prepared again");
    }
    // The other project's outputs are still up to date: it needs no clip to know.
    let lines = build(&other, &cache, &[]);
    assert!(lines.iter().all(|l| l.ends_with("unchanged")), "{lines:?}");
}

#[test]
fn clean_cache_empties_a_cache_inside_the_project_but_keeps_its_folders() {
    let (p, _) = project("clean-inside");
    let cache = Path::new(".narrate-cache");
    build(&p, cache, &[]);
    let before = stamps(&p.root);

    let printed = clean_cache(&p, cache, &["--all"]);
    assert!(
        printed.contains("removed 1 synthesised speech file(s)"),
        "{printed}"
    );
    for folder in ["speech", "clips", "projects"] {
        assert!(p.path(".narrate-cache").join(folder).is_dir(), "{folder}");
    }
    let left = stamps(&p.root);
    let cached: Vec<&String> = left
        .keys()
        .filter(|n| n.starts_with(".narrate-cache/"))
        .collect();
    assert_eq!(cached, [".narrate-cache/clips/.tidied"]);
    assert_eq!(
        without(&left, &[".narrate-cache/"]),
        without(&before, &[".narrate-cache/"])
    );
    let lines = build(&p, cache, &[]);
    assert!(lines.iter().all(|l| !l.ends_with("unchanged")), "{lines:?}");
}

#[test]
fn clean_cache_refuses_a_folder_that_is_not_a_build_cache() {
    let (p, cache) = project("clean-refuse");
    build(&p, &cache, &[]);
    let refused = |cache: &Path, shows: &str| {
        let project_before = stamps(&p.root);
        let cache_before = stamps(cache);
        for args in [&["clean-cache"][..], &["clean-cache", "--all"]] {
            let out = narrate(&p, cache, args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "{stderr}");
            for says in [
                "does not look like narrate's build cache",
                shows,
                "nothing was removed",
                "NARRATE_CACHE_DIR",
            ] {
                assert!(stderr.contains(says), "{stderr}");
            }
        }
        assert_eq!(stamps(&p.root), project_before);
        assert_eq!(stamps(cache), cache_before);
    };

    // The project folder itself.
    refused(&p.root, "`audio`");
    // Someone's folder that happens to have clips/ and projects/ folders.
    let elsewhere = Scratch::new("clean-refuse-elsewhere");
    elsewhere.write("clips/holiday.mp4", "not a prepared clip");
    elsewhere.write("projects/notes.txt", "mine");
    refused(&elsewhere.root, "`clips/holiday.mp4`");
    // A build cache holding a file narrate did not write.
    p.write("build-cache/clips/readme.txt", "mine");
    refused(&cache, "`clips/readme.txt`");
}

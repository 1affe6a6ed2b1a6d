//! Bad input gets a clear error naming the file, the place and the fix; exit code 1;
//! no panic; no output left behind.

mod common;

use common::{square, write_wav16, Scratch};

fn project() -> Scratch {
    let p = Scratch::new("bad");
    p.write(
        "narrate.toml",
        "[project]\ntitle = \"T\"\n\n[episodes.e]\ntitle = \"E\"\n",
    );
    write_wav16(
        &p.path("audio/e/01-a.wav"),
        44_100,
        1,
        &square(4_410, 1, 100, 0.25),
    );
    p.section("e", "01-a", "title = \"A\"", "Words.");
    p
}

/// Runs `narrate build` and checks it failed cleanly; returns stderr.
fn fails(p: &Scratch, must_mention: &[&str]) -> String {
    let out = p.narrate(&["build"]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "exit code; stderr:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains("fix:"), "no fix offered:\n{stderr}");
    for needle in must_mention {
        assert!(
            stderr.contains(needle),
            "`{needle}` missing from:\n{stderr}"
        );
    }
    assert!(!p.path("out/guide/e.wav").exists(), "an output was written");
    let leftovers: Vec<String> = p.outputs();
    assert!(leftovers.is_empty(), "files left behind: {leftovers:?}");
    // `check` finds the same problem.
    let check = p.narrate(&["check"]);
    assert_eq!(check.status.code(), Some(1), "check should fail too");
    stderr
}

#[test]
fn missing_recording_when_recordings_are_required() {
    let p = project();
    p.write(
        "narrate.toml",
        "[project]\ntitle = \"T\"\nrequire_recordings = true\n\n[episodes.e]\ntitle = \"E\"\n",
    );
    std::fs::remove_file(p.path("audio/e/01-a.wav")).unwrap();
    fails(
        &p,
        &["01-a.md", "synthesised section", "require_recordings"],
    );
}

#[test]
fn missing_explicit_clip() {
    let p = project();
    p.section(
        "e",
        "01-a",
        "title = \"A\"\nclip = \"audio/nope.flac\"",
        "Words.",
    );
    fails(&p, &["01-a.md", "audio/nope.flac"]);
}

#[test]
fn text_file_named_wav() {
    let p = project();
    p.write(
        "audio/e/01-a.wav",
        "This is not audio, just words in a file.\n",
    );
    fails(&p, &["01-a.wav"]);
}

#[test]
fn garbage_bytes() {
    let p = project();
    let bytes: Vec<u8> = (0..5000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(p.path("audio/e/01-a.wav"), bytes).unwrap();
    fails(&p, &["01-a.wav"]);
}

#[test]
fn empty_file() {
    let p = project();
    std::fs::write(p.path("audio/e/01-a.wav"), b"").unwrap();
    fails(&p, &["01-a.wav"]);
}

#[test]
fn truncated_wav() {
    let p = project();
    let path = p.path("audio/e/01-a.wav");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    fails(&p, &["01-a.wav", "truncated"]);
}

#[test]
fn unsupported_codec() {
    let p = project();
    // A WAV header declaring WMA (format tag 0x0161), which no decoder here reads.
    let mut wav = Vec::new();
    let fmt: [u8; 16] = [
        0x61, 0x01, 1, 0, 0x44, 0xAC, 0, 0, 0x10, 0xB1, 2, 0, 2, 0, 16, 0,
    ];
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(4 + 8 + 16 + 8 + 100u32).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&fmt);
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&100u32.to_le_bytes());
    wav.extend_from_slice(&[0u8; 100]);
    std::fs::write(p.path("audio/e/01-a.wav"), wav).unwrap();
    fails(&p, &["01-a.wav"]);
}

#[test]
fn malformed_toml_names_line_and_column() {
    let p = project();
    p.write(
        "narrate.toml",
        "[project]\ntitle = \"T\"\n\n[episodes.e]\ntitle = E\n",
    );
    fails(&p, &["narrate.toml", "line 5, column 9"]);
}

#[test]
fn malformed_front_matter_names_the_line_in_the_script() {
    let p = project();
    p.section(
        "e",
        "01-a",
        "title = \"A\"\npause_after = \"long\"",
        "Words.",
    );
    fails(&p, &["01-a.md", "line 3"]);
}

#[test]
fn missing_title() {
    let p = project();
    p.section("e", "01-a", "pause_after = 1.0", "Words.");
    fails(&p, &["01-a.md", "no title"]);
}

#[test]
fn duplicate_order_number() {
    let p = project();
    write_wav16(
        &p.path("audio/e/01-b.wav"),
        44_100,
        1,
        &square(4_410, 1, 100, 0.25),
    );
    p.section("e", "01-b", "title = \"B\"", "More words.");
    fails(&p, &["01-", "used twice"]);
}

#[test]
fn path_outside_the_project() {
    let p = project();
    p.section(
        "e",
        "01-a",
        "title = \"A\"\nclip = \"../../etc/passwd\"",
        "Words.",
    );
    fails(&p, &["01-a.md", "outside the project"]);
}

#[cfg(unix)]
#[test]
fn symlink_outside_the_project() {
    let p = project();
    let outside = Scratch::new("outside");
    write_wav16(
        &outside.path("x.wav"),
        44_100,
        1,
        &square(4_410, 1, 100, 0.25),
    );
    std::fs::remove_file(p.path("audio/e/01-a.wav")).unwrap();
    std::os::unix::fs::symlink(outside.path("x.wav"), p.path("audio/e/01-a.wav")).unwrap();
    fails(&p, &["outside the project"]);
}

#[test]
fn empty_section() {
    let p = project();
    p.section("e", "01-a", "title = \"A\"", "   \n\n");
    fails(&p, &["01-a.md", "no narration text"]);
}

#[test]
fn silent_recording() {
    let p = project();
    write_wav16(&p.path("audio/e/01-a.wav"), 44_100, 1, &[0.0; 4_410]);
    fails(&p, &["01-a.wav", "silent"]);
}

#[test]
fn unknown_episode_is_named_with_the_choices() {
    let p = project();
    let out = p.narrate(&["build", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("`nope`") && stderr.contains("choose one of: e"),
        "{stderr}"
    );
}

#[test]
fn usage_error_exits_with_2() {
    let p = project();
    let out = p.narrate(&["build", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_failed_build_keeps_the_previous_output() {
    let p = project();
    p.build(&[]);
    let before = std::fs::read(p.path("out/guide/e.wav")).unwrap();
    std::fs::write(p.path("audio/e/01-a.wav"), b"RIFF").unwrap();
    let out = p.narrate(&["build"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read(p.path("out/guide/e.wav")).unwrap(), before);
    assert!(
        p.outputs().iter().all(|f| !f.contains("narrate-tmp")),
        "{:?}",
        p.outputs()
    );
}

#[test]
fn output_folder_inside_audio_is_refused() {
    let p = project();
    let out = p.narrate(&["build", "--out", "audio/out"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("inside the project's audio/"));
}

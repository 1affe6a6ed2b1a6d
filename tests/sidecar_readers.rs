//! Sidecars read back by independent readers: ffmpeg/ffprobe (ffmetadata), Python's `json`
//! (JSON chapters), Python `webvtt-py` (WebVTT) and cuetools (CUE sheet).
//!
//! Needs: apt `ffmpeg` and `cuetools`, `python3`, and pip `webvtt-py`. A missing tool fails
//! the test when `CI` is set, and skips it with a printed note otherwise.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use narrate::meta::{EpisodeMeta, TagKey};
use narrate::sidecars::{self, SidecarKind};
use narrate::timeline::{Chapter, Timeline};

const RATE: u32 = 44100;

/// Chapter starts that are not whole milliseconds, and titles that each format must escape.
fn timeline() -> Timeline {
    let chapter = |title: &str, start: u64| Chapter {
        title: title.to_string(),
        start,
        length: 0,
    };
    Timeline {
        sample_rate: RATE,
        total_frames: 220_507,
        chapters: vec![
            chapter("Welcome \"home\" (\"Après la procédure\")", 0),
            chapter("Risks --> <b>&</b> = ; # \\ end\tnow\r\nnext \\", 66150),
            chapter("  מה קורה אחרי ההליך\nبعد الإجراء  ", 123_457),
            chapter("[CHAPTER] ;comment #x", 176_401),
        ],
    }
}

/// The titles as every sidecar carries them: on one line.
const TITLES: [&str; 4] = [
    "Welcome \"home\" (\"Après la procédure\")",
    "Risks --> <b>&</b> = ; # \\ end now next \\",
    "מה קורה אחרי ההליך بعد الإجراء",
    "[CHAPTER] ;comment #x",
];

/// The titles in the ffmetadata: a trailing `\` becomes `/` (ffmpeg cannot read it).
const FFMETA_TITLES: [&str; 4] = [
    TITLES[0],
    "Risks --> <b>&</b> = ; # \\ end now next /",
    TITLES[2],
    TITLES[3],
];

/// The titles in the CUE sheet: typographic quotes, `/` for `\`.
const CUE_TITLES: [&str; 4] = [
    "Welcome “home” (“Après la procédure”)",
    "Risks --> <b>&</b> = ; # / end now next /",
    "מה קורה אחרי ההליך بعد الإجراء",
    "[CHAPTER] ;comment #x",
];

const EPISODE_TITLE: &str = "MitraClip: \"votre\" procédure";
const COMMENT: &str = "Ligne un \\\nLigne deux = a;b #3 \\ fin";

fn meta() -> EpisodeMeta {
    EpisodeMeta {
        id: "mitraclip-fr".into(),
        tags: vec![
            (TagKey::Title, EPISODE_TITLE.into()),
            (TagKey::Album, "Guides cardiaques".into()),
            (TagKey::Artist, "Hôpital Saint-Exemple".into()),
            (TagKey::Comment, COMMENT.into()),
            (TagKey::Date, "2024-05-01".into()),
            (TagKey::Language, "fr".into()),
            (TagKey::Software, "narrate 0.1.0".into()),
        ],
    }
}

/// Floored milliseconds, computed here independently of the crate.
fn ms(frame: u64) -> u64 {
    frame * 1000 / u64::from(RATE)
}

/// Where chapter `i` ends, in frames.
fn end_frame(t: &Timeline, i: usize) -> u64 {
    t.chapters.get(i + 1).map_or(t.total_frames, |c| c.start)
}

/// Whether `program args` runs; if not, panics under CI and prints a skip note otherwise.
fn have(program: &str, args: &[&str], install: &str) -> bool {
    let ok = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        if std::env::var_os("CI").is_some() {
            panic!(
                "`{program} {}` failed and CI needs it: {install}",
                args.join(" ")
            );
        }
        // Straight to stderr, past the test harness's capture, so the skip shows.
        let _ = writeln!(
            std::io::stderr(),
            "note: test skipped: `{program}` is not usable here ({install})"
        );
    }
    ok
}

/// A fresh directory for one test's files.
fn work_dir(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("sidecar_readers")
        .join(test);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes sidecar `kind` of the fixture into `dir`; returns its path.
fn write_sidecar(dir: &Path, kind: SidecarKind) -> PathBuf {
    let path = dir.join(kind.file_name("mitraclip-fr"));
    let text = kind.render(&meta(), &timeline(), "mitraclip-fr.wav", &[]);
    fs::write(&path, text).unwrap();
    path
}

/// Runs a command; panics with its stderr if it fails; returns stdout.
fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("command starts");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn python(script: &str, file: &Path) -> serde_json::Value {
    let out = run(Command::new("python3").arg("-c").arg(script).arg(file));
    serde_json::from_str(&out).expect("the script prints JSON")
}

#[test]
fn ffmpeg_reads_ffmetadata() {
    let install = "apt-get install ffmpeg";
    if !have("ffmpeg", &["-version"], install) || !have("ffprobe", &["-version"], install) {
        return;
    }
    let dir = work_dir("ffmetadata");
    let ffmeta = write_sidecar(&dir, SidecarKind::FfMetadata);
    let mka = dir.join("out.mka");
    let t = timeline();
    let duration = format!("{:.6}", t.total_frames as f64 / f64::from(RATE));
    run(Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y"])
        .args(["-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono", "-i"])
        .arg(&ffmeta)
        .args(["-map", "0:a", "-map_metadata", "1", "-map_chapters", "1"])
        .args(["-t", &duration, "-c:a", "flac"])
        .arg(&mka));
    let probe: serde_json::Value = serde_json::from_str(&run(Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_chapters",
            "-show_format",
            "-of",
            "json",
        ])
        .arg(&mka)))
    .unwrap();

    let chapters = probe["chapters"]
        .as_array()
        .expect("ffprobe lists chapters");
    assert_eq!(chapters.len(), t.chapters.len());
    for (i, c) in chapters.iter().enumerate() {
        let (num, den) = c["time_base"]
            .as_str()
            .and_then(|tb| tb.split_once('/'))
            .map(|(n, d)| (n.parse::<u128>().unwrap(), d.parse::<u128>().unwrap()))
            .expect("time_base n/d");
        let to_ms = |key: &str| (c[key].as_i64().unwrap() as u128 * num * 1000 / den) as u64;
        assert_eq!(to_ms("start"), ms(t.chapters[i].start), "chapter {i} start");
        assert_eq!(to_ms("end"), ms(end_frame(&t, i)), "chapter {i} end");
        assert_eq!(c["tags"]["title"], FFMETA_TITLES[i], "chapter {i} title");
    }

    let tags = probe["format"]["tags"].as_object().expect("format tags");
    let tag = |key: &str| {
        tags.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .and_then(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no {key} tag in {tags:?}"))
    };
    assert_eq!(tag("title"), EPISODE_TITLE);
    assert_eq!(tag("comment"), COMMENT);
    assert_eq!(tag("artist"), "Hôpital Saint-Exemple");
    assert_eq!(tag("album"), "Guides cardiaques");
}

#[test]
fn python_json_reads_chapters_json() {
    if !have(
        "python3",
        &["-c", "import json, decimal"],
        "apt-get install python3",
    ) {
        return;
    }
    let dir = work_dir("json");
    let path = write_sidecar(&dir, SidecarKind::ChaptersJson);
    // Strict parse (no NaN or Infinity), then check the 3-decimal rule on the numbers as read.
    let script = r#"
import json, sys
from decimal import Decimal
def reject(name):
    raise ValueError("non-standard JSON constant " + name)
with open(sys.argv[1], encoding="utf-8") as f:
    doc = json.load(f, parse_constant=reject)
for c in doc["chapters"]:
    for key in ("startTime", "endTime"):
        assert isinstance(c[key], (int, float)), c
        assert -Decimal(repr(c[key])).as_tuple().exponent <= 3, c
doc["chapters"] = [[round(c["startTime"] * 1000), round(c["endTime"] * 1000), c["title"]]
                   for c in doc["chapters"]]
print(json.dumps(doc))
"#;
    let doc = python(script, &path);
    assert_eq!(doc["version"], "1.2.0");
    assert_eq!(doc["title"], EPISODE_TITLE);
    assert_eq!(doc["fileName"], "mitraclip-fr.wav");
    assert_eq!(doc["author"], "Hôpital Saint-Exemple");
    assert_eq!(doc["podcastName"], "Guides cardiaques");
    assert_eq!(doc["description"], COMMENT);
    let t = timeline();
    let expected: Vec<_> = (0..t.chapters.len())
        .map(|i| serde_json::json!([ms(t.chapters[i].start), ms(end_frame(&t, i)), TITLES[i]]))
        .collect();
    assert_eq!(doc["chapters"], serde_json::Value::Array(expected));
}

#[test]
fn webvtt_py_reads_vtt() {
    if !have("python3", &["-c", "import webvtt"], "pip install webvtt-py") {
        return;
    }
    let dir = work_dir("webvtt");
    let path = write_sidecar(&dir, SidecarKind::WebVtt);
    let script = r#"
import html, json, sys, webvtt
print(json.dumps([[c.identifier, c.start, c.end, html.unescape(c.text)]
                  for c in webvtt.read(sys.argv[1]).captions]))
"#;
    let cues = python(script, &path);
    let cues = cues.as_array().unwrap();
    let t = timeline();
    assert_eq!(cues.len(), t.chapters.len());
    let parse_ms = |v: &serde_json::Value| -> u64 {
        let s = v.as_str().unwrap();
        let (hms, frac) = s.split_once('.').unwrap();
        let secs = hms
            .split(':')
            .fold(0, |acc, part| acc * 60 + part.parse::<u64>().unwrap());
        secs * 1000 + frac.parse::<u64>().unwrap()
    };
    for (i, cue) in cues.iter().enumerate() {
        assert_eq!(cue[0], (i + 1).to_string());
        assert_eq!(parse_ms(&cue[1]), ms(t.chapters[i].start), "cue {i} start");
        assert_eq!(parse_ms(&cue[2]), ms(end_frame(&t, i)), "cue {i} end");
        assert_eq!(cue[3], TITLES[i], "cue {i} text");
    }
}

#[test]
fn cuetools_reads_cue_sheet() {
    let install = "apt-get install cuetools";
    if !have("cueprint", &["-V"], install) || !have("cuebreakpoints", &["-V"], install) {
        return;
    }
    let dir = work_dir("cue");
    let path = write_sidecar(&dir, SidecarKind::Cue);
    let t = timeline();

    let printed = run(Command::new("cueprint")
        .args(["-d", "%N\\n%T\\n%P\\n", "-t", "%n\\t%t\\n"])
        .arg(&path));
    let mut expected = format!(
        "{}\nMitraClip: “votre” procédure\nHôpital Saint-Exemple\n",
        t.chapters.len()
    );
    for (i, title) in CUE_TITLES.iter().enumerate() {
        expected.push_str(&format!("{}\t{title}\n", i + 1));
    }
    assert_eq!(printed, expected);

    // cuebreakpoints prints every track start after the first as m:ss.ff (CD frames).
    let breaks = run(Command::new("cuebreakpoints").arg(&path));
    let expected: String = t.chapters[1..]
        .iter()
        .map(|c| {
            let cd = c.start * 75 / u64::from(RATE);
            format!("{}:{:02}.{:02}\n", cd / 75 / 60, cd / 75 % 60, cd % 75)
        })
        .collect();
    assert_eq!(breaks, expected);
}

#[test]
fn audacity_labels_parse() {
    let t = timeline();
    let labels = sidecars::audacity_labels(&t);
    let lines: Vec<_> = labels.lines().collect();
    assert_eq!(lines.len(), t.chapters.len());
    for (i, line) in lines.iter().enumerate() {
        let fields: Vec<_> = line.split('\t').collect();
        assert_eq!(fields.len(), 3, "{line:?}");
        let start: f64 = fields[0].parse().unwrap();
        let end: f64 = fields[1].parse().unwrap();
        let exact = t.chapters[i].start as f64 / f64::from(RATE);
        assert!(start <= exact && exact - start < 1e-6, "{start} vs {exact}");
        assert!(end >= start);
        assert_eq!(fields[2], TITLES[i]);
    }
}

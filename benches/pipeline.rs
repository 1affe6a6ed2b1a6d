//! The pipeline benchmark: narrate's full pipeline against ffmpeg's equivalent, side by
//! side, on a generated corpus of mixed-format speech takes. See `benches/README.md`.
//!
//! ```sh
//! cargo bench --bench pipeline                 # 60-minute corpus, 10- vs 100-minute episodes
//! cargo bench --bench pipeline -- --quick      # 5-minute corpus, 2- vs 20-minute episodes
//! cargo bench --bench pipeline -- --minutes 30 --long 0 --no-ffmpeg
//! ```
//!
//! Needs `espeak-ng`, `flac`, `ffmpeg`, `sox` and GNU `time` (`/usr/bin/time`, Debian package
//! `time`) on the machine. Corpora are generated once into `target/bench-corpus/` and reused
//! while their files still hash the same; outputs go to `target/bench-out/`.

use std::collections::BTreeMap;
use std::env;
use std::fmt::{Display, Write as _};
use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// Bump whenever the generator's output changes, so that cached corpora are rebuilt.
const CORPUS_VERSION: u64 = 1;
/// The words the takes say: sentences from the MitraClip patient texts, one a line.
const TEXT: &str = include_str!("corpus.txt");
/// Average length of a take, seconds (lead and tail silence included).
const CLIP_SECONDS: f64 = 30.0;
/// Seconds of pause between sections (the manifest's `defaults.pause`).
const PAUSE_SECONDS: f64 = 1.5;
/// Edge-silence trimming (the manifest's `defaults.trim`): peak threshold and kept margin.
const TRIM_THRESHOLD_DB: f64 = -50.0;
const TRIM_MARGIN_SECONDS: f64 = 0.15;
/// The `guide` profile: 44.1 kHz mono 16-bit, −16 LUFS, −1 dBTP.
const OUT_RATE: u32 = 44_100;
const TARGET_LUFS: f64 = -16.0;
const CEILING_DBTP: f64 = -1.0;
/// Peak level of the room noise under every take (below the trim threshold), dBFS.
const NOISE_DBFS: f64 = -62.0;
/// espeak-ng voices the takes are read with.
const VOICES: [&str; 7] = [
    "en-us",
    "en-gb",
    "en-gb-x-rp",
    "en-029",
    "en-us+f3",
    "en-gb+f2",
    "en-gb-scotland+m3",
];
const RATES: [u32; 3] = [22_050, 44_100, 48_000];
/// GNU time, for CPU time and peak memory (max RSS) of each child process.
const TIME: &str = "/usr/bin/time";

type Res<T> = Result<T, String>;

/// Adds what was being done to an error.
trait Context<T> {
    fn ctx(self, what: impl Display) -> Res<T>;
}

impl<T, E: Display> Context<T> for Result<T, E> {
    fn ctx(self, what: impl Display) -> Res<T> {
        self.map_err(|e| format!("{what}: {e}"))
    }
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

// ---------------------------------------------------------------------------------------
// Options

struct Options {
    /// Length of the main corpus, minutes.
    minutes: u32,
    /// Length of the long single episode of the memory check, minutes (0: no check); the
    /// short one is a tenth of it.
    long_minutes: u32,
    ffmpeg: bool,
    long_ffmpeg: bool,
    regenerate: bool,
}

const USAGE: &str = "\
usage: cargo bench --bench pipeline [-- OPTIONS]

  --quick          5-minute corpus and a 2- vs 20-minute memory check (NARRATE_BENCH_QUICK=1)
  --minutes N      length of the main corpus in minutes (NARRATE_BENCH_MINUTES; default 60)
  --long N         the memory check's long episode in minutes, the short one is N/10;
                   0 skips it (NARRATE_BENCH_LONG; default 100, quick 20)
  --no-ffmpeg      skip the ffmpeg side
  --long-ffmpeg    run ffmpeg on the memory check's episodes too (slow)
  --regenerate     rebuild the corpora even when the cached ones are intact";

fn parse_options() -> Res<Options> {
    let env_u32 = |name: &str| -> Res<Option<u32>> {
        match env::var(name) {
            Ok(v) if !v.trim().is_empty() => v
                .trim()
                .parse()
                .map(Some)
                .ctx(format!("{name}={v} is not a whole number")),
            _ => Ok(None),
        }
    };
    let mut quick = env::var("NARRATE_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    let mut minutes = env_u32("NARRATE_BENCH_MINUTES")?;
    let mut long = env_u32("NARRATE_BENCH_LONG")?;
    let (mut ffmpeg, mut long_ffmpeg, mut regenerate) = (true, false, false);
    let mut args = env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |flag: &str| -> Res<u32> {
            let v = args
                .next()
                .ok_or(format!("{flag} needs a number\n{USAGE}"))?;
            v.parse().ctx(format!("{flag} {v}: not a whole number"))
        };
        match arg.as_str() {
            // `cargo bench` passes `--bench` to every bench target.
            "--bench" => {}
            "--quick" => quick = true,
            "--minutes" => minutes = Some(number("--minutes")?),
            "--long" => long = Some(number("--long")?),
            "--no-ffmpeg" => ffmpeg = false,
            "--long-ffmpeg" => long_ffmpeg = true,
            "--regenerate" => regenerate = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    let minutes = minutes.unwrap_or(if quick { 5 } else { 60 });
    if minutes == 0 {
        return Err("the corpus needs at least one minute".into());
    }
    Ok(Options {
        minutes,
        long_minutes: long.unwrap_or(if quick { 20 } else { 100 }),
        ffmpeg,
        long_ffmpeg,
        regenerate,
    })
}

// ---------------------------------------------------------------------------------------
// The run

fn run() -> Res<()> {
    let options = parse_options()?;
    check_tools()?;
    let narrate = PathBuf::from(env!("CARGO_BIN_EXE_narrate"));
    // target/<profile>/narrate → target/
    let target = narrate
        .parent()
        .and_then(Path::parent)
        .ok_or("cannot tell the target folder from the narrate binary's path")?
        .to_path_buf();
    let corpora = target.join("bench-corpus");
    let outs = target.join("bench-out");
    // narrate's build cache (prepared clips, build records) lives here, not in the user's
    // cache folder, so that a cold build is cold.
    env::set_var("NARRATE_CACHE_DIR", outs.join("cache"));
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let soxr = ffmpeg_has_soxr();

    println!("# narrate pipeline benchmark\n");
    println!("{}", machine_line(jobs));
    println!("narrate   {}", narrate_version(&narrate));
    println!("ffmpeg    {}", first_line("ffmpeg", &["-version"]));
    println!("load avg  {} (before)", load_average());
    let args: Vec<String> = env::args().skip(1).filter(|a| a != "--bench").collect();
    println!(
        "options   {}",
        if args.is_empty() {
            "(defaults)".to_string()
        } else {
            args.join(" ")
        }
    );
    println!();

    let episodes = (options.minutes / 15).clamp(2, 8) as usize;
    let main_spec = CorpusSpec {
        name: options.minutes.to_string(),
        minutes: options.minutes,
        episodes,
        seed: 0x6e61_7272_6174_6500 ^ u64::from(options.minutes),
    };
    let corpus = ensure_corpus(&corpora, &main_spec, options.regenerate)?;
    println!("{}", corpus.describe());

    let mut rows = Vec::new();
    let mut checks = Vec::new();

    // narrate: cold build, rebuild unchanged, rebuild after one clip changed.
    let out = outs.join(&main_spec.name).join("narrate");
    let cold = narrate_cold(&narrate, &corpus, &out, &target)?;
    let n_outputs = episode_outputs(&narrate, &corpus, &out.join("guide"))?;
    let audio = n_outputs.iter().map(|o| o.seconds).sum::<f64>();
    let cold_row = Row::new(
        format!("narrate build, cold ({} episodes)", corpus.episodes.len()),
        audio,
        &cold,
    );
    rows.push(cold_row.clone());

    let again = narrate_build(&narrate, &corpus.dir, &out, &target, "rebuild")?;
    rows.push(Row::new(
        "narrate rebuild, nothing changed".into(),
        audio,
        &again,
    ));

    let touched = &corpus.episodes[0].clips[corpus.episodes[0].clips.len() / 2];
    let original = fs::read(corpus.dir.join(&touched.path)).ctx("read the clip to touch")?;
    rewrite_clip(&corpus.dir, touched)?;
    let after_touch = narrate_build(&narrate, &corpus.dir, &out, &target, "touch");
    fs::write(corpus.dir.join(&touched.path), &original).ctx("restore the touched clip")?;
    let after_touch = after_touch?;
    rows.push(Row::new(
        format!("narrate rebuild, one clip changed ({})", touched.path),
        audio,
        &after_touch,
    ));

    // ffmpeg: the same episodes, trimmed, paused, two-pass loudnorm.
    let mut ratio = None;
    if options.ffmpeg {
        let f_out = outs.join(&main_spec.name).join("ffmpeg");
        let (f_run, modes) = ffmpeg_all(&corpus, &f_out, &target, jobs, soxr)?;
        let f_outputs = episode_outputs(&narrate, &corpus, &f_out)?;
        let f_row = Row::new(
            format!(
                "ffmpeg: trim + pauses + two-pass loudnorm ({} episodes)",
                corpus.episodes.len()
            ),
            f_outputs.iter().map(|o| o.seconds).sum(),
            &f_run,
        );
        ratio = Some(cold_row.ratio(&f_row));
        rows.push(f_row);
        for ((n, f), mode) in n_outputs.iter().zip(f_outputs).zip(modes) {
            checks.push((n.clone(), Some(Inspected { mode, ..f })));
        }
    } else {
        checks.extend(n_outputs.iter().cloned().map(|n| (n, None)));
    }

    // SoX, plain concatenation: the issue's calibration anchor.
    if options.ffmpeg {
        let s_out = outs.join(&main_spec.name).join("sox");
        let s_run = sox_all(&corpus, &s_out, &target, jobs)?;
        let seconds = corpus
            .episodes
            .iter()
            .map(|e| inspect_seconds(&narrate, &s_out.join(format!("{}.wav", e.id))))
            .sum::<Res<f64>>()?;
        rows.push(Row::new(
            "SoX: convert each take + concatenate (no trimming, no loudness)".into(),
            seconds,
            &s_run,
        ));
    }

    // Memory against episode length: one short and one ten times longer episode.
    let mut memory = Vec::new();
    if options.long_minutes > 0 {
        let short = (options.long_minutes / 10).max(1);
        for minutes in [short, options.long_minutes] {
            let spec = CorpusSpec {
                name: format!("single-{minutes}"),
                minutes,
                episodes: 1,
                seed: 0x73_696e_676c_6500 ^ u64::from(minutes),
            };
            let single = ensure_corpus(&corpora, &spec, options.regenerate)?;
            println!("{}", single.describe());
            let out = outs.join(&spec.name).join("narrate");
            let run = narrate_cold(&narrate, &single, &out, &target)?;
            let seconds = episode_outputs(&narrate, &single, &out.join("guide"))?
                .iter()
                .map(|o| o.seconds)
                .sum();
            memory.push(Row::new(
                format!("narrate, one {minutes}-minute episode (cold)"),
                seconds,
                &run,
            ));
            if options.long_ffmpeg {
                let f_out = outs.join(&spec.name).join("ffmpeg");
                let (f_run, _) = ffmpeg_all(&single, &f_out, &target, jobs, soxr)?;
                memory.push(Row::new(
                    format!("ffmpeg, one {minutes}-minute episode"),
                    episode_outputs(&narrate, &single, &f_out)?
                        .iter()
                        .map(|o| o.seconds)
                        .sum(),
                    &f_run,
                ));
            }
        }
    }

    // Memory against the length of one take: a recording session of N/5 minutes and one
    // of a tenth of that.
    if options.long_minutes > 0 {
        let long = (options.long_minutes / 5).max(2);
        for minutes in [(long / 10).max(1), long] {
            let project = ensure_take(&corpora, minutes)?;
            let out = outs.join(format!("take-{minutes}"));
            remove_dir(&out)?;
            remove_dir(&outs.join("cache"))?;
            let run = narrate_build(
                &narrate,
                &project,
                &out,
                &target,
                &format!("take-{minutes}"),
            )?;
            let seconds = inspect_seconds(&narrate, &out.join("guide").join("ep01.wav"))?;
            memory.push(Row::new(
                format!("narrate, one {minutes}-minute take, 48 kHz stereo (cold)"),
                seconds,
                &run,
            ));
        }
    }

    // The shipped example: the rebuild targets are stated for it.
    let example = example_rebuilds(&narrate, &outs.join("example"), &target)?;

    println!("load avg  {} (after)\n", load_average());
    print_results(
        jobs,
        &rows,
        ratio.as_ref(),
        &memory,
        &cold,
        &after_touch,
        &again,
    );
    print_example(&example);
    print_checks(&checks);
    Ok(())
}

/// The repository's example project, copied to `dir/project` (inputs are never modified):
/// a cold build, a rebuild with nothing changed, one after a take's modification time
/// changed (content the same), and one after one sample of a WAV take changed.
fn example_rebuilds(bin: &Path, dir: &Path, target: &Path) -> Res<Vec<Row>> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let project = dir.join("project");
    remove_dir(dir)?;
    for entry in ["narrate.toml", "narrate.lock", "scripts", "audio"] {
        copy_tree(&repo.join(entry), &project.join(entry))?;
    }
    let out = dir.join("out");
    let build = |what: &str| narrate_build(bin, &project, &out, target, &format!("example-{what}"));
    remove_dir(&target.join("bench-out").join("cache"))?;
    let cold = build("cold")?;
    let wavs: Vec<PathBuf> = fs::read_dir(out.join("guide"))
        .ctx("list the example's outputs")?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "wav"))
        .collect();
    let audio = wavs
        .iter()
        .map(|w| inspect_seconds(bin, w))
        .sum::<Res<f64>>()?;
    let again = build("rebuild")?;
    let take = first_wav(&project.join("audio"))?.ok_or("the example has no WAV take to change")?;
    let file = fs::File::options()
        .write(true)
        .open(&take)
        .ctx(format!("open {}", take.display()))?;
    file.set_modified(std::time::SystemTime::now())
        .ctx(format!("touch {}", take.display()))?;
    drop(file);
    let touched = build("touched")?;
    let mut bytes = fs::read(&take).ctx(format!("read {}", take.display()))?;
    // A low bit of a sample near the end of the data chunk (the last chunk of these takes).
    let at = bytes.len() - 1001;
    bytes[at] ^= 1;
    fs::write(&take, &bytes).ctx(format!("write {}", take.display()))?;
    let changed = build("changed")?;
    let name = take
        .strip_prefix(&project)
        .unwrap_or(&take)
        .display()
        .to_string();
    Ok(vec![
        Row::new("example, cold build".into(), audio, &cold),
        Row::new("example rebuild, nothing changed".into(), audio, &again),
        Row::new(
            format!("example rebuild, {name} touched (same content)"),
            audio,
            &touched,
        ),
        Row::new(
            format!("example rebuild, one sample of {name} changed"),
            audio,
            &changed,
        ),
    ])
}

fn print_example(rows: &[Row]) {
    let [cold, again, touched, changed] = rows else {
        return;
    };
    println!("## The shipped example project\n");
    print!("{}", markdown(rows));
    println!();
    println!(
        "rebuild, nothing changed: {:.0} ms; take touched: {:.0} ms; one sample changed: {:.0} ms = {:.0} % of the cold build.\n",
        again.wall * 1000.0,
        touched.wall * 1000.0,
        changed.wall * 1000.0,
        100.0 * changed.wall / cold.wall
    );
}

/// The first `.wav` file under `dir`, in name order.
fn first_wav(dir: &Path) -> Res<Option<PathBuf>> {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .ctx(format!("list {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if let Some(found) = first_wav(&path)? {
                return Ok(Some(found));
            }
        } else if path.extension().is_some_and(|e| e == "wav") {
            return Ok(Some(path));
        }
    }
    Ok(None)
}

/// Copies a file or a folder tree.
fn copy_tree(from: &Path, to: &Path) -> Res<()> {
    if from.is_dir() {
        fs::create_dir_all(to).ctx(format!("create {}", to.display()))?;
        for entry in fs::read_dir(from).ctx(format!("list {}", from.display()))? {
            let entry = entry.ctx(format!("list {}", from.display()))?;
            copy_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
        Ok(())
    } else {
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent).ctx(format!("create {}", parent.display()))?;
        }
        fs::copy(from, to)
            .map(drop)
            .ctx(format!("copy {} to {}", from.display(), to.display()))
    }
}

fn print_results(
    jobs: usize,
    rows: &[Row],
    ratio: Option<&Row>,
    memory: &[Row],
    cold: &Measured,
    touch: &Measured,
    again: &Measured,
) {
    let mut table: Vec<Row> = rows.to_vec();
    if let Some(r) = ratio {
        table.insert(
            table
                .iter()
                .position(|r| r.name.starts_with("ffmpeg"))
                .map_or(table.len(), |i| i + 1),
            r.clone(),
        );
    }
    table.extend(memory.iter().cloned());
    println!("## Results (paste into the README's Performance section)\n");
    print!("{}", markdown(&table));
    println!();
    if let Some(r) = ratio {
        println!(
            "narrate vs ffmpeg: {:.1}× faster (wall), {:.1}× less CPU, {:.2}× the peak memory \
             (ffmpeg's peak is its largest single process; it runs {jobs} episodes at a time).",
            1.0 / r.wall,
            1.0 / r.cpu,
            r.peak_mb
        );
    }
    for row in table
        .iter()
        .filter(|r| !r.minutes.is_nan() && !r.name.contains("rebuild"))
    {
        println!(
            "audio ÷ CPU time: {:.0}× for {}",
            row.minutes * 60.0 / row.cpu,
            row.name
        );
    }
    println!(
        "rebuild, nothing changed: {:.0} ms; after one clip changed: {:.0} ms = {:.0} % of the cold build.",
        again.wall * 1000.0,
        touch.wall * 1000.0,
        100.0 * touch.wall / cold.wall
    );
    for kind in ["episode", "take"] {
        let pair: Vec<&Row> = memory
            .iter()
            .filter(|r| {
                r.name.starts_with("narrate") && r.name.contains(&format!("-minute {kind}"))
            })
            .collect();
        if let [short, long] = pair[..] {
            println!(
                "memory against {kind} length: {:.0} MB → {:.0} MB ({:.2}×) for {:.1}× the audio.",
                short.peak_mb,
                long.peak_mb,
                long.peak_mb / short.peak_mb,
                long.minutes / short.minutes
            );
        }
    }
    println!();
}

fn print_checks(checks: &[(Inspected, Option<Inspected>)]) {
    println!("## Outputs (measured by `narrate inspect`)\n");
    let mut s = String::from(
        "| episode | narrate length | narrate LUFS | narrate dBTP | ffmpeg length | ffmpeg LUFS | ffmpeg dBTP | loudnorm mode |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n",
    );
    let db = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.2}"));
    for (n, f) in checks {
        let _ = write!(
            s,
            "| {} | {} | {} | {} ",
            n.episode,
            clock(n.seconds),
            db(n.lufs),
            db(n.dbtp)
        );
        match f {
            Some(f) => {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} |",
                    clock(f.seconds),
                    db(f.lufs),
                    db(f.dbtp),
                    f.mode
                );
            }
            None => s.push_str("| - | - | - | - |\n"),
        }
    }
    println!("{s}");
}

// ---------------------------------------------------------------------------------------
// Tools and machine

fn check_tools() -> Res<()> {
    let mut missing = Vec::new();
    for (tool, arg, package) in [
        ("espeak-ng", "--version", "espeak-ng"),
        ("flac", "--version", "flac"),
        ("ffmpeg", "-version", "ffmpeg"),
        ("sox", "--version", "sox"),
    ] {
        let ok = Command::new(tool)
            .arg(arg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            missing.push(format!("{tool} (Debian package {package})"));
        }
    }
    let time_ok = Command::new(TIME)
        .args(["-f", "%M", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !time_ok {
        missing.push(format!("GNU time at {TIME} (Debian package time)"));
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the benchmark needs {}; on Debian: apt-get install espeak-ng flac ffmpeg sox time",
            missing.join(", ")
        ))
    }
}

fn first_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(str::to_string)
        })
        .unwrap_or_else(|| "?".into())
}

fn ffmpeg_has_soxr() -> bool {
    Command::new("ffmpeg")
        .args(["-hide_banner", "-buildconf"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("--enable-libsoxr"))
}

fn machine_line(jobs: usize) -> String {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "?".into());
    let memory = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or("?".into(), |kb| format!("{:.0} GB", kb / 1024.0 / 1024.0));
    format!("machine   {jobs} cores ({cpu}), {memory} RAM")
}

fn narrate_version(bin: &Path) -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    let commit = first_line("git", &["-C", root, "rev-parse", "--short", "HEAD"]);
    let dirty = Command::new("git")
        .args([
            "-C",
            root,
            "status",
            "--porcelain",
            "--",
            "src",
            "Cargo.toml",
        ])
        .output()
        .is_ok_and(|o| !o.stdout.is_empty());
    format!(
        "{} at {commit}{} ({})",
        first_line(&bin.to_string_lossy(), &["--version"]),
        if dirty { " with local changes" } else { "" },
        bin.display()
    )
}

fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

// ---------------------------------------------------------------------------------------
// Measuring child processes

/// What one command (or a set of them) cost.
#[derive(Debug, Clone, Default)]
struct Measured {
    /// Wall-clock seconds.
    wall: f64,
    /// User + system CPU seconds.
    cpu: f64,
    /// Largest resident set of any one process, kB.
    peak_kb: u64,
}

/// Runs `program args…` under GNU time; returns its cost and standard error.
fn measure(program: &Path, args: &[String], stats: &Path) -> Res<(Measured, String)> {
    if let Some(dir) = stats.parent() {
        fs::create_dir_all(dir).ctx(format!("create {}", dir.display()))?;
    }
    let start = Instant::now();
    let output = Command::new(TIME)
        .args(["-f", "%e %U %S %M", "-o"])
        .arg(stats)
        .arg(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .ctx(format!("run {}", program.display()))?;
    let wall = start.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if !output.status.success() {
        let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "{} {} failed ({}):\n{}",
            program.display(),
            args.join(" ").chars().take(300).collect::<String>(),
            output.status,
            tail.join("\n")
        ));
    }
    let text = fs::read_to_string(stats).ctx(format!("read {}", stats.display()))?;
    let line = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let fields: Vec<f64> = line
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    let [_, user, sys, rss] = fields[..] else {
        return Err(format!("cannot read GNU time's output: {text:?}"));
    };
    Ok((
        Measured {
            wall,
            cpu: user + sys,
            peak_kb: rss as u64,
        },
        stderr,
    ))
}

/// One table row.
#[derive(Debug, Clone)]
struct Row {
    name: String,
    minutes: f64,
    wall: f64,
    cpu: f64,
    realtime: f64,
    peak_mb: f64,
}

impl Row {
    fn new(name: String, audio_seconds: f64, m: &Measured) -> Row {
        Row {
            name,
            minutes: audio_seconds / 60.0,
            wall: m.wall,
            cpu: m.cpu,
            realtime: audio_seconds / m.wall,
            peak_mb: m.peak_kb as f64 / 1024.0,
        }
    }

    /// This row's figures divided by `other`'s.
    fn ratio(&self, other: &Row) -> Row {
        Row {
            name: "ratio narrate / ffmpeg".into(),
            minutes: f64::NAN,
            wall: self.wall / other.wall,
            cpu: self.cpu / other.cpu,
            realtime: self.realtime / other.realtime,
            peak_mb: self.peak_mb / other.peak_mb,
        }
    }
}

fn markdown(rows: &[Row]) -> String {
    let header = [
        "pipeline",
        "audio minutes",
        "wall s",
        "CPU s",
        "x realtime",
        "peak MB",
    ];
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            if r.minutes.is_nan() {
                [
                    r.name.clone(),
                    String::new(),
                    format!("{:.3}", r.wall),
                    format!("{:.3}", r.cpu),
                    format!("{:.1}", r.realtime),
                    format!("{:.2}", r.peak_mb),
                ]
            } else {
                [
                    r.name.clone(),
                    format!("{:.1}", r.minutes),
                    if r.wall < 10.0 {
                        format!("{:.3}", r.wall)
                    } else {
                        format!("{:.1}", r.wall)
                    },
                    format!("{:.2}", r.cpu),
                    if r.realtime < 100.0 {
                        format!("{:.1}×", r.realtime)
                    } else {
                        format!("{:.0}×", r.realtime)
                    },
                    format!("{:.0}", r.peak_mb),
                ]
            }
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String]| -> String {
        let mut s = String::from("|");
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            let pad = " ".repeat(w - c.chars().count());
            if i == 0 {
                let _ = write!(s, " {c}{pad} |");
            } else {
                let _ = write!(s, " {pad}{c} |");
            }
        }
        s.push('\n');
        s
    };
    let mut out = line(&header.map(String::from));
    out.push('|');
    for (i, w) in widths.iter().enumerate() {
        if i == 0 {
            let _ = write!(out, " {} |", "-".repeat(*w));
        } else {
            let _ = write!(out, " {}: |", "-".repeat(w - 1));
        }
    }
    out.push('\n');
    for row in &cells {
        out.push_str(&line(row));
    }
    out
}

/// `m:ss.s`, or `h:mm:ss.s`.
fn clock(seconds: f64) -> String {
    let tenths = (seconds * 10.0).round() as u64;
    let (h, m, s, t) = (
        tenths / 36_000,
        tenths / 600 % 60,
        tenths / 10 % 60,
        tenths % 10,
    );
    if h > 0 {
        format!("{h}:{m:02}:{s:02}.{t}")
    } else {
        format!("{m}:{s:02}.{t}")
    }
}

// ---------------------------------------------------------------------------------------
// narrate

/// A cold build: no earlier outputs, no cache.
fn narrate_cold(bin: &Path, corpus: &Corpus, out: &Path, target: &Path) -> Res<Measured> {
    remove_dir(out)?;
    remove_dir(&corpus.dir.join(".narrate-cache"))?;
    remove_dir(&target.join("bench-out").join("cache"))?;
    narrate_build(bin, &corpus.dir, out, target, "cold")
}

fn narrate_build(
    bin: &Path,
    project: &Path,
    out: &Path,
    target: &Path,
    what: &str,
) -> Res<Measured> {
    let args = vec![
        "build".to_string(),
        "--project".into(),
        project.display().to_string(),
        "--out".into(),
        out.display().to_string(),
    ];
    let stats = target
        .join("bench-out")
        .join(format!("time-narrate-{what}.txt"));
    let (m, _) = measure(bin, &args, &stats)?;
    eprintln!(
        "narrate {what}: {:.3} s wall, {:.2} s CPU, {:.0} MB",
        m.wall,
        m.cpu,
        m.peak_kb as f64 / 1024.0
    );
    Ok(m)
}

/// What `narrate inspect` reads in one output.
#[derive(Debug, Clone)]
struct Inspected {
    episode: String,
    seconds: f64,
    lufs: Option<f64>,
    dbtp: Option<f64>,
    /// ffmpeg's loudnorm normalization type (empty for narrate).
    mode: String,
}

/// Inspects `<dir>/<episode>.wav` for every episode.
fn episode_outputs(bin: &Path, corpus: &Corpus, dir: &Path) -> Res<Vec<Inspected>> {
    corpus
        .episodes
        .iter()
        .map(|e| {
            let v = inspect_json(bin, &dir.join(format!("{}.wav", e.id)))?;
            Ok(Inspected {
                episode: e.id.clone(),
                seconds: v["duration_seconds"].as_f64().unwrap_or(0.0),
                lufs: v["loudness"]["integrated_lufs"].as_f64(),
                dbtp: v["loudness"]["true_peak_dbtp"].as_f64(),
                mode: String::new(),
            })
        })
        .collect()
}

/// The length of a WAV file, seconds, as `narrate inspect` reads it.
fn inspect_seconds(bin: &Path, wav: &Path) -> Res<f64> {
    inspect_json(bin, wav)?["duration_seconds"]
        .as_f64()
        .ok_or_else(|| format!("narrate inspect {}: no duration", wav.display()))
}

/// `narrate inspect --json wav`.
fn inspect_json(bin: &Path, wav: &Path) -> Res<Value> {
    let out = Command::new(bin)
        .args(["inspect", "--json"])
        .arg(wav)
        .output()
        .ctx(format!("inspect {}", wav.display()))?;
    if !out.status.success() {
        return Err(format!(
            "narrate inspect {}: {}",
            wav.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    serde_json::from_slice(&out.stdout).ctx("read inspect's JSON")
}

// ---------------------------------------------------------------------------------------
// ffmpeg

/// Runs the ffmpeg pipeline on every episode, `jobs` episodes at a time (as narrate builds
/// its outputs on all cores). Wall time is the whole run's, CPU time the sum over all
/// processes, peak memory the largest single process's. Returns the loudnorm mode of each
/// episode's second pass.
fn ffmpeg_all(
    corpus: &Corpus,
    out: &Path,
    target: &Path,
    jobs: usize,
    soxr: bool,
) -> Res<(Measured, Vec<String>)> {
    remove_dir(out)?;
    fs::create_dir_all(out).ctx(format!("create {}", out.display()))?;
    let start = Instant::now();
    let results = parallel(jobs, corpus.episodes.len(), |i| {
        ffmpeg_episode(corpus, &corpus.episodes[i], out, target, soxr)
    });
    let wall = start.elapsed().as_secs_f64();
    let mut total = Measured {
        wall,
        ..Measured::default()
    };
    let mut outputs = Vec::new();
    for result in results {
        let (m, o) = result?;
        total.cpu += m.cpu;
        total.peak_kb = total.peak_kb.max(m.peak_kb);
        outputs.push(o);
    }
    eprintln!(
        "ffmpeg: {:.3} s wall, {:.2} s CPU, {:.0} MB",
        total.wall,
        total.cpu,
        total.peak_kb as f64 / 1024.0
    );
    Ok((total, outputs))
}

/// SoX, as the issue's calibration anchor: each take converted to the output format (44.1 kHz
/// mono 16-bit, SoX's default resampler, no trimming, no loudness), then the episode joined
/// by plain concatenation; episodes `jobs` at a time. What SoX costs here against the
/// anchor's 150–200× tells how fast this machine is.
fn sox_all(corpus: &Corpus, out: &Path, target: &Path, jobs: usize) -> Res<Measured> {
    remove_dir(out)?;
    fs::create_dir_all(out).ctx(format!("create {}", out.display()))?;
    let start = Instant::now();
    let stats = |name: String| {
        target
            .join("bench-out")
            .join(format!("time-sox-{name}.txt"))
    };
    let results = parallel(jobs, corpus.episodes.len(), |i| -> Res<Measured> {
        let episode = &corpus.episodes[i];
        let parts = out.join(format!("{}-parts", episode.id));
        fs::create_dir_all(&parts).ctx(format!("create {}", parts.display()))?;
        let mut total = Measured::default();
        let mut add = |m: Measured| {
            total.cpu += m.cpu;
            total.peak_kb = total.peak_kb.max(m.peak_kb);
        };
        let mut joined = Vec::new();
        for (n, clip) in episode.clips.iter().enumerate() {
            let part = parts.join(format!("{n:03}.wav"));
            let args: Vec<String> = vec![
                corpus.dir.join(&clip.path).display().to_string(),
                "-r".into(),
                OUT_RATE.to_string(),
                "-c".into(),
                "1".into(),
                "-b".into(),
                "16".into(),
                part.display().to_string(),
            ];
            add(measure(
                Path::new("sox"),
                &args,
                &stats(format!("{}-{n}", episode.id)),
            )?
            .0);
            joined.push(part.display().to_string());
        }
        joined.push(
            out.join(format!("{}.wav", episode.id))
                .display()
                .to_string(),
        );
        add(measure(Path::new("sox"), &joined, &stats(episode.id.clone()))?.0);
        remove_dir(&parts)?;
        Ok(total)
    });
    let mut total = Measured {
        wall: start.elapsed().as_secs_f64(),
        ..Measured::default()
    };
    for m in results {
        let m = m?;
        total.cpu += m.cpu;
        total.peak_kb = total.peak_kb.max(m.peak_kb);
    }
    eprintln!("sox: {:.3} s wall, {:.2} s CPU", total.wall, total.cpu);
    Ok(total)
}

/// One episode through ffmpeg in two passes: measure, then normalise and write.
fn ffmpeg_episode(
    corpus: &Corpus,
    episode: &EpisodeClips,
    out: &Path,
    target: &Path,
    soxr: bool,
) -> Res<(Measured, String)> {
    let ffmpeg = PathBuf::from("ffmpeg");
    let resampler = if soxr { ":resampler=soxr" } else { "" };
    let loudnorm = format!("loudnorm=I={TARGET_LUFS}:TP={CEILING_DBTP}:LRA=50");
    let mut inputs = Vec::new();
    for clip in &episode.clips {
        inputs.push("-i".to_string());
        inputs.push(corpus.dir.join(&clip.path).display().to_string());
    }
    let base = ["-hide_banner", "-nostdin", "-nostats", "-y"].map(String::from);
    let graph = |tail: &str| ffmpeg_graph(&episode.clips, resampler, tail);
    let stats = |pass: u32| {
        target
            .join("bench-out")
            .join(format!("time-ffmpeg-{}-{pass}.txt", episode.id))
    };
    // Each command is kept as a script next to the outputs, to rerun or read.
    let keep = |pass: u32, args: &[String]| {
        let quoted: Vec<String> = args
            .iter()
            .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
            .collect();
        write_file(
            &out.join(format!("{}-pass{pass}.sh", episode.id)),
            format!("#!/bin/sh\nexec ffmpeg {}\n", quoted.join(" ")).as_bytes(),
        )
    };

    let mut args: Vec<String> = base.to_vec();
    args.extend(inputs.iter().cloned());
    args.extend([
        "-filter_complex".into(),
        graph(&format!("{loudnorm}:print_format=json")),
        "-map".into(),
        "[out]".into(),
        "-f".into(),
        "null".into(),
        "-".into(),
    ]);
    keep(1, &args)?;
    let (first, stderr) = measure(&ffmpeg, &args, &stats(1))?;
    let measured = loudnorm_json(&stderr)?;
    let value = |key: &str| -> Res<String> {
        measured[key]
            .as_str()
            .map(str::to_string)
            .ok_or(format!("loudnorm's first pass did not report {key}"))
    };
    let second_pass = format!(
        "{loudnorm}:measured_I={}:measured_TP={}:measured_LRA={}:measured_thresh={}:offset={}:linear=true:print_format=json,aresample={OUT_RATE}{resampler}:osf=s16:dither_method=triangular,aformat=sample_fmts=s16:channel_layouts=mono",
        value("input_i")?,
        value("input_tp")?,
        value("input_lra")?,
        value("input_thresh")?,
        value("target_offset")?,
    );
    let wav = out.join(format!("{}.wav", episode.id));
    let mut args: Vec<String> = base.to_vec();
    args.extend(inputs);
    args.extend([
        "-filter_complex".into(),
        graph(&second_pass),
        "-map".into(),
        "[out]".into(),
        "-c:a".into(),
        "pcm_s16le".into(),
        wav.display().to_string(),
    ]);
    keep(2, &args)?;
    let (second, stderr) = measure(&ffmpeg, &args, &stats(2))?;
    let mode = loudnorm_json(&stderr)?["normalization_type"]
        .as_str()
        .unwrap_or("?")
        .to_string();
    let m = Measured {
        wall: first.wall + second.wall,
        cpu: first.cpu + second.cpu,
        peak_kb: first.peak_kb.max(second.peak_kb),
    };
    eprintln!(
        "ffmpeg {}: {:.2} s + {:.2} s wall, {:.0} MB, loudnorm {mode}",
        episode.id,
        first.wall,
        second.wall,
        m.peak_kb as f64 / 1024.0
    );
    Ok((m, mode))
}

/// The filter graph: every input mixed to mono (averaging, as narrate does), resampled to
/// 44.1 kHz, its edge silence trimmed to the same threshold and margin (peak detection;
/// the tail by reversing, since `silenceremove` only trims trailing silence in the middle
/// of a file otherwise), then concatenated with the pauses and handed to `tail`.
fn ffmpeg_graph(clips: &[ClipInfo], resampler: &str, tail: &str) -> String {
    let trim = format!(
        "silenceremove=start_periods=1:start_threshold={TRIM_THRESHOLD_DB}dB:start_silence={TRIM_MARGIN_SECONDS}:detection=peak:window=0"
    );
    let pause = (PAUSE_SECONDS * f64::from(OUT_RATE)).round() as u64;
    let mut g = String::new();
    let mut concat = String::new();
    for (i, clip) in clips.iter().enumerate() {
        let mix = match clip.channels {
            1 => String::new(),
            n => {
                let sum: Vec<String> = (0..n)
                    .map(|c| format!("{:.6}*c{c}", 1.0 / f64::from(n)))
                    .collect();
                format!("pan=mono|c0={},", sum.join("+"))
            }
        };
        let _ = write!(
            g,
            "[{i}:a]{mix}aresample={OUT_RATE}{resampler},aformat=sample_fmts=flt:channel_layouts=mono,{trim},areverse,{trim},areverse[c{i}];"
        );
        let _ = write!(concat, "[c{i}]");
        if i + 1 < clips.len() {
            let _ = write!(
                g,
                "anullsrc=r={OUT_RATE}:cl=mono,atrim=end_sample={pause},aformat=sample_fmts=flt[p{i}];"
            );
            let _ = write!(concat, "[p{i}]");
        }
    }
    let n = clips.len() * 2 - 1;
    let _ = write!(g, "{concat}concat=n={n}:v=0:a=1,{tail}[out]");
    g
}

/// The JSON block loudnorm prints at the end of its log.
fn loudnorm_json(stderr: &str) -> Res<Value> {
    let (Some(start), Some(end)) = (stderr.rfind('{'), stderr.rfind('}')) else {
        return Err(format!("no loudnorm JSON in ffmpeg's output:\n{stderr}"));
    };
    serde_json::from_str(&stderr[start..=end]).ctx("read loudnorm's JSON")
}

/// Runs `f(0..n)` on `jobs` threads; results in index order.
fn parallel<T: Send>(jobs: usize, n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<T>>> = Mutex::new((0..n).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, n.max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= n {
                    break;
                }
                let r = f(i);
                if let Ok(mut slots) = results.lock() {
                    slots[i] = Some(r);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .map(|r| r.expect("every job ran"))
        .collect()
}

fn remove_dir(dir: &Path) -> Res<()> {
    match fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(format!("remove {}: {e}", dir.display()))
        }
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------
// The corpus

/// Which corpus to make.
struct CorpusSpec {
    /// Its folder under `target/bench-corpus/`.
    name: String,
    minutes: u32,
    episodes: usize,
    seed: u64,
}

/// A generated narrate project.
struct Corpus {
    dir: PathBuf,
    episodes: Vec<EpisodeClips>,
    seconds: f64,
    fingerprint: String,
    formats: String,
}

impl Corpus {
    fn describe(&self) -> String {
        let clips: usize = self.episodes.iter().map(|e| e.clips.len()).sum();
        format!(
            "corpus    {}: {:.1} min in {clips} clips, {} episodes ({}); sha256 {}",
            self.dir.display(),
            self.seconds / 60.0,
            self.episodes.len(),
            self.formats,
            &self.fingerprint[..16]
        )
    }
}

struct EpisodeClips {
    id: String,
    clips: Vec<ClipInfo>,
}

/// One take, as the manifest records it.
#[derive(Debug, Clone)]
struct ClipInfo {
    /// Relative to the project.
    path: String,
    channels: u16,
    sha256: String,
    /// How to make it again (for the touched-clip rebuild).
    recipe: Recipe,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Format {
    Pcm16,
    Pcm24,
    Float32,
    Flac16,
    Flac24,
}

impl Format {
    const ALL: [Format; 5] = [
        Format::Pcm16,
        Format::Pcm24,
        Format::Float32,
        Format::Flac16,
        Format::Flac24,
    ];

    fn name(self) -> &'static str {
        match self {
            Format::Pcm16 => "pcm16",
            Format::Pcm24 => "pcm24",
            Format::Float32 => "float32",
            Format::Flac16 => "flac16",
            Format::Flac24 => "flac24",
        }
    }

    fn ext(self) -> &'static str {
        match self {
            Format::Flac16 | Format::Flac24 => "flac",
            _ => "wav",
        }
    }

    fn bits(self) -> u16 {
        match self {
            Format::Pcm16 | Format::Flac16 => 16,
            Format::Pcm24 | Format::Flac24 => 24,
            Format::Float32 => 32,
        }
    }
}

/// Everything that makes one take.
#[derive(Debug, Clone)]
struct Recipe {
    text: String,
    voice: String,
    wpm: u32,
    pitch: u32,
    rate: u32,
    channels: u16,
    format: Format,
    /// Peak level of the speech, dBFS.
    peak_db: f64,
    lead: f64,
    tail: f64,
    noise_seed: u64,
}

impl Recipe {
    fn to_json(&self) -> Value {
        json!({
            "text": self.text, "voice": self.voice, "wpm": self.wpm, "pitch": self.pitch,
            "rate": self.rate, "channels": self.channels, "format": self.format.name(),
            "peak_db": self.peak_db, "lead": self.lead, "tail": self.tail,
            "noise_seed": self.noise_seed.to_string(),
        })
    }

    fn from_json(v: &Value) -> Option<Recipe> {
        let format = v["format"].as_str()?;
        Some(Recipe {
            text: v["text"].as_str()?.to_string(),
            voice: v["voice"].as_str()?.to_string(),
            wpm: u32::try_from(v["wpm"].as_u64()?).ok()?,
            pitch: u32::try_from(v["pitch"].as_u64()?).ok()?,
            rate: u32::try_from(v["rate"].as_u64()?).ok()?,
            channels: u16::try_from(v["channels"].as_u64()?).ok()?,
            format: *Format::ALL.iter().find(|f| f.name() == format)?,
            peak_db: v["peak_db"].as_f64()?,
            lead: v["lead"].as_f64()?,
            tail: v["tail"].as_f64()?,
            noise_seed: v["noise_seed"].as_str()?.parse().ok()?,
        })
    }
}

/// SplitMix64: small, fast and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn sha256_file(path: &Path) -> Res<String> {
    let mut file = fs::File::open(path).ctx(format!("open {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file
            .read(&mut buf)
            .ctx(format!("read {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// The corpus of `spec`, from the cache when every file still hashes as recorded.
fn ensure_corpus(root: &Path, spec: &CorpusSpec, regenerate: bool) -> Res<Corpus> {
    let dir = root.join(&spec.name);
    if !regenerate {
        match load_corpus(&dir, spec) {
            Ok(corpus) => return Ok(corpus),
            Err(why) if dir.exists() => eprintln!("corpus {}: {why}; generating", dir.display()),
            Err(_) => {}
        }
    }
    let start = Instant::now();
    remove_dir(&dir)?;
    generate_corpus(&dir, spec)?;
    let corpus = load_corpus(&dir, spec)?;
    eprintln!(
        "generated {} in {:.1} s",
        dir.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(corpus)
}

fn load_corpus(dir: &Path, spec: &CorpusSpec) -> Res<Corpus> {
    let manifest = dir.join("corpus.json");
    let text = fs::read_to_string(&manifest).ctx("no complete corpus")?;
    let v: Value = serde_json::from_str(&text).ctx("unreadable corpus.json")?;
    if v["version"].as_u64() != Some(CORPUS_VERSION)
        || v["minutes"].as_u64() != Some(u64::from(spec.minutes))
        || v["seed"].as_str() != Some(&spec.seed.to_string())
    {
        return Err("made by another version of the generator".into());
    }
    let mut episodes = Vec::new();
    let mut lines = String::new();
    for e in v["episodes"].as_array().ok_or("no episodes")? {
        let mut clips = Vec::new();
        for c in e["clips"].as_array().ok_or("no clips")? {
            let path = c["path"].as_str().ok_or("clip without path")?.to_string();
            let sha256 = c["sha256"].as_str().ok_or("clip without hash")?.to_string();
            let recipe = Recipe::from_json(&c["recipe"]).ok_or("clip without recipe")?;
            let actual = sha256_file(&dir.join(&path))?;
            if actual != sha256 {
                return Err(format!("{path} has changed"));
            }
            let _ = writeln!(lines, "{path} {sha256}");
            clips.push(ClipInfo {
                path,
                channels: recipe.channels,
                sha256,
                recipe,
            });
        }
        episodes.push(EpisodeClips {
            id: e["id"].as_str().ok_or("episode without id")?.to_string(),
            clips,
        });
    }
    let fingerprint = sha256_hex(lines.as_bytes());
    if v["fingerprint"].as_str() != Some(&fingerprint) {
        return Err("the fingerprint does not match its files".into());
    }
    Ok(Corpus {
        dir: dir.to_path_buf(),
        episodes,
        seconds: v["seconds"].as_f64().unwrap_or(0.0),
        fingerprint,
        formats: v["formats"].as_str().unwrap_or("").to_string(),
    })
}

/// The start of a generated project's `narrate.toml`: project and defaults.
fn manifest_head(what: &str) -> String {
    format!(
        "# {what}, generated by\n\
         # benches/pipeline.rs. Regenerated at will; never committed.\n\n\
         [project]\n\
         title = \"narrate benchmark corpus\"\n\
         organisation = \"narrate benchmark\"\n\
         language = \"en\"\n\
         date = \"2026-01-01\"\n\n\
         [defaults]\n\
         profiles = [\"guide\"]\n\
         pause = {PAUSE_SECONDS:?}\n\
         trim = {{ threshold_db = {TRIM_THRESHOLD_DB:?}, margin = {TRIM_MARGIN_SECONDS:?} }}\n"
    )
}

/// A project with one episode of one long take (a recording session): `minutes` of speech,
/// 48 kHz stereo 24-bit WAV, the same sentences said over and over with short gaps. Made in
/// `root/take-<minutes>/` unless its `done` marker shows it complete.
fn ensure_take(root: &Path, minutes: u32) -> Res<PathBuf> {
    let dir = root.join(format!("take-{minutes}"));
    let marker = dir.join("done");
    let stamp = format!("take v{CORPUS_VERSION} {minutes} min\n");
    if fs::read_to_string(&marker).is_ok_and(|m| m == stamp) {
        return Ok(dir);
    }
    remove_dir(&dir)?;
    let tmp = dir.join(".tmp");
    fs::create_dir_all(&tmp).ctx(format!("create {}", tmp.display()))?;
    let recipe = Recipe {
        text: TEXT.lines().take(3).collect::<Vec<_>>().join(" "),
        voice: VOICES[0].to_string(),
        wpm: 160,
        pitch: 50,
        rate: 48_000,
        channels: 2,
        format: Format::Pcm24,
        peak_db: -4.0,
        lead: 1.0,
        tail: 1.0,
        noise_seed: 0x7a6b,
    };
    let once = speak(&tmp, &recipe)?;
    let gap = vec![0.0; (0.8 * f64::from(once.rate)) as usize];
    let wanted = (f64::from(minutes) * 60.0 * f64::from(once.rate)) as usize;
    let mut samples = Vec::with_capacity(wanted + once.samples.len());
    while samples.len() < wanted {
        samples.extend_from_slice(&once.samples);
        samples.extend_from_slice(&gap);
    }
    let speech = Speech {
        rate: once.rate,
        seconds: samples.len() as f64 / f64::from(once.rate),
        samples,
    };
    let path = "audio/ep01/001-session.wav";
    write_take(&dir, path, &recipe, &speech)?;
    drop(speech);
    let toml = manifest_head(&format!("One {minutes}-minute take"))
        + "\n[episodes.ep01]\ntitle = \"One long take\"\n";
    write_file(&dir.join("narrate.toml"), toml.as_bytes())?;
    write_file(
        &dir.join("scripts/ep01/001-session.md"),
        format!("+++\ntitle = \"The session\"\n+++\n{}\n", recipe.text).as_bytes(),
    )?;
    remove_dir(&tmp)?;
    write_file(&marker, stamp.as_bytes())?;
    Ok(dir)
}

/// Writes a narrate project of about `spec.minutes` of takes into `dir`.
fn generate_corpus(dir: &Path, spec: &CorpusSpec) -> Res<()> {
    let sentences: Vec<&str> = TEXT.lines().filter(|l| !l.trim().is_empty()).collect();
    let tmp = dir.join(".tmp");
    fs::create_dir_all(&tmp).ctx(format!("create {}", tmp.display()))?;
    let total_seconds = f64::from(spec.minutes) * 60.0;
    let total_clips = ((total_seconds / CLIP_SECONDS).round() as usize).max(spec.episodes * 2);
    let mut rng = Rng(spec.seed);
    let (mut produced, mut spoken, mut predicted) = (0.0, 0.0, 0.0);
    let mut manifest_episodes = Vec::new();
    let mut fingerprint = String::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut levels: BTreeMap<&str, usize> = BTreeMap::new();

    let mut toml = manifest_head(&format!(
        "The narrate benchmark corpus ({} minutes, {} episodes)",
        spec.minutes, spec.episodes
    ));
    let mut mixes = Vec::new();
    let mut k = 0;
    for e in 0..spec.episodes {
        let id = format!("ep{:02}", e + 1);
        let _ = write!(
            toml,
            "\n[episodes.{id}]\ntitle = \"Benchmark episode {}\"\n",
            e + 1
        );
        let in_episode = total_clips / spec.episodes + usize::from(e < total_clips % spec.episodes);
        let mut clips = Vec::new();
        for n in 1..=in_episode {
            // Aim the remaining clips at the remaining time.
            let left = (total_clips - k) as f64;
            let mean = (total_seconds - produced) / left;
            let aim = if k + 1 == total_clips {
                mean
            } else {
                mean * rng.range(0.5, 1.5)
            }
            .max(6.0);
            let lead = rng.range(0.3, 2.5);
            let tail = rng.range(0.3, 3.5);
            let voice = VOICES[rng.below(VOICES.len())];
            let wpm = 140 + rng.below(41) as u32;
            let pitch = 30 + rng.below(41) as u32;
            // Seconds a word takes, learnt from the takes so far.
            let scale = if predicted > 0.0 {
                spoken / predicted
            } else {
                1.15
            };
            let per_word = 60.0 / f64::from(wpm) * scale;
            let want = ((aim - lead - tail).max(3.0) / per_word).ceil() as usize;
            let mut text = Vec::new();
            let mut words = 0;
            let mut at = rng.below(sentences.len());
            while words < want {
                let s = sentences[at % sentences.len()];
                words += s.split_whitespace().count();
                text.push(s);
                at += 1 + usize::from(rng.below(4) == 0);
            }
            // Every 30 takes use each format × rate × channels once, in a shuffled order;
            // levels go in a cycle: a fifth of the takes quiet and a fifth hot.
            if k % MIXES == 0 {
                mixes = all_mixes();
                for i in (1..mixes.len()).rev() {
                    mixes.swap(i, rng.below(i + 1));
                }
            }
            let (format, rate, channels) = mixes[k % MIXES];
            let (level, peak_db) = match (k + k / 7) % 5 {
                1 => ("quiet", rng.range(-32.0, -28.0)),
                3 => ("hot", rng.range(-0.5, -0.1)),
                _ => ("normal", rng.range(-9.0, -3.0)),
            };
            *levels.entry(level).or_default() += 1;
            let recipe = Recipe {
                text: text.join(" "),
                voice: voice.to_string(),
                wpm,
                pitch,
                rate,
                channels,
                format,
                peak_db,
                lead,
                tail,
                noise_seed: rng.next_u64(),
            };
            let stem = format!("{n:03}-{}", slug(&recipe.text));
            let path = format!("audio/{id}/{stem}.{}", format.ext());
            let speech = speak(&tmp, &recipe)?;
            spoken += speech.seconds;
            predicted += words as f64 * 60.0 / f64::from(wpm);
            let seconds = write_take(dir, &path, &recipe, &speech)?;
            produced += seconds;
            *counts
                .entry(format!(
                    "{} {}k {}",
                    format.name(),
                    rate / 1000,
                    if channels == 1 { "mono" } else { "stereo" }
                ))
                .or_default() += 1;
            let script = format!(
                "+++\ntitle = \"{}\"\n+++\n{}\n",
                toml_escape(&title(n, &recipe.text)),
                recipe.text
            );
            let script_path = dir.join(format!("scripts/{id}/{stem}.md"));
            write_file(&script_path, script.as_bytes())?;
            let sha256 = sha256_file(&dir.join(&path))?;
            let _ = writeln!(fingerprint, "{path} {sha256}");
            clips.push(json!({
                "path": path, "seconds": seconds, "sha256": sha256, "recipe": recipe.to_json(),
            }));
            k += 1;
        }
        manifest_episodes.push(json!({ "id": id, "clips": clips }));
    }
    write_file(&dir.join("narrate.toml"), toml.as_bytes())?;
    remove_dir(&tmp)?;
    let list = |m: &mut dyn Iterator<Item = (String, usize)>| {
        m.map(|(k, v)| format!("{v} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let summary = format!(
        "{}; {} format/rate/channel mixes",
        list(&mut levels.iter().map(|(k, v)| (k.to_string(), *v))),
        counts.len()
    );
    let detail = list(&mut counts.into_iter());
    let manifest = json!({
        "version": CORPUS_VERSION,
        "minutes": spec.minutes,
        "seed": spec.seed.to_string(),
        "seconds": produced,
        "formats": summary,
        "formats_detail": detail,
        "tools": { "espeak-ng": first_line("espeak-ng", &["--version"]), "flac": first_line("flac", &["--version"]) },
        "fingerprint": sha256_hex(fingerprint.as_bytes()),
        "episodes": manifest_episodes,
    });
    let text = serde_json::to_string_pretty(&manifest).ctx("write corpus.json")?;
    // Written last: its presence says the corpus is complete.
    write_file(&dir.join("corpus.json"), text.as_bytes())
}

/// Format, rate and channel combinations of the takes.
const MIXES: usize = Format::ALL.len() * RATES.len() * 2;

fn all_mixes() -> Vec<(Format, u32, u16)> {
    let mut all = Vec::with_capacity(MIXES);
    for format in Format::ALL {
        for rate in RATES {
            for channels in [1, 2] {
                all.push((format, rate, channels));
            }
        }
    }
    all
}

/// Rewrites `clip` with different content (other noise, 1 dB quieter), same format.
fn rewrite_clip(dir: &Path, clip: &ClipInfo) -> Res<()> {
    let tmp = dir.join(".tmp");
    fs::create_dir_all(&tmp).ctx(format!("create {}", tmp.display()))?;
    let recipe = Recipe {
        noise_seed: clip.recipe.noise_seed ^ 0x5eed,
        peak_db: clip.recipe.peak_db - 1.0,
        ..clip.recipe.clone()
    };
    let speech = speak(&tmp, &recipe)?;
    write_take(dir, &clip.path, &recipe, &speech)?;
    remove_dir(&tmp)?;
    let now = sha256_file(&dir.join(&clip.path))?;
    if now == clip.sha256 {
        return Err(format!("rewriting {} did not change it", clip.path));
    }
    Ok(())
}

fn write_file(path: &Path, bytes: &[u8]) -> Res<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).ctx(format!("create {}", parent.display()))?;
    }
    fs::write(path, bytes).ctx(format!("write {}", path.display()))
}

/// `012. The MitraClip device is a small …`
fn title(n: usize, text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().take(6).collect();
    let words = words.join(" ");
    format!(
        "{n:03}. {}",
        words.trim_end_matches(|c: char| !c.is_alphanumeric())
    )
}

fn slug(text: &str) -> String {
    let words: Vec<String> = text
        .split_whitespace()
        .take(4)
        .map(|w| {
            w.chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
                .to_ascii_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect();
    words.join("-")
}

fn toml_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Mono speech from espeak-ng.
struct Speech {
    rate: u32,
    samples: Vec<f32>,
    seconds: f64,
}

fn speak(tmp: &Path, recipe: &Recipe) -> Res<Speech> {
    let text = tmp.join("speech.txt");
    let wav = tmp.join("speech.wav");
    fs::write(&text, &recipe.text).ctx(format!("write {}", text.display()))?;
    let out = Command::new("espeak-ng")
        .args(["-v", &recipe.voice])
        .args([
            "-s",
            &recipe.wpm.to_string(),
            "-p",
            &recipe.pitch.to_string(),
        ])
        .arg("-w")
        .arg(&wav)
        .arg("-f")
        .arg(&text)
        .output()
        .ctx("run espeak-ng")?;
    if !out.status.success() {
        return Err(format!(
            "espeak-ng failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let mut reader = hound::WavReader::open(&wav).ctx("read espeak-ng's WAV")?;
    let spec = reader.spec();
    if spec.channels != 1 || spec.bits_per_sample != 16 {
        return Err(format!("espeak-ng wrote an unexpected WAV: {spec:?}"));
    }
    let samples = reader
        .samples::<i16>()
        .map(|s| s.map(|s| f32::from(s) / 32768.0))
        .collect::<Result<Vec<f32>, _>>()
        .ctx("read espeak-ng's samples")?;
    Ok(Speech {
        rate: spec.sample_rate,
        seconds: samples.len() as f64 / f64::from(spec.sample_rate),
        samples,
    })
}

/// Makes the take of `recipe` from `speech` and writes it at `dir/path`; returns its length
/// in seconds.
fn write_take(dir: &Path, path: &str, recipe: &Recipe, speech: &Speech) -> Res<f64> {
    let samples = take_samples(recipe, speech);
    let frames = samples.len() / usize::from(recipe.channels);
    let target = dir.join(path);
    if let Some(parent) = target.parent() {
        fs::create_dir_all(parent).ctx(format!("create {}", parent.display()))?;
    }
    let flac = matches!(recipe.format, Format::Flac16 | Format::Flac24);
    let wav = if flac {
        dir.join(".tmp").join("take.wav")
    } else {
        target.clone()
    };
    let spec = hound::WavSpec {
        channels: recipe.channels,
        sample_rate: recipe.rate,
        bits_per_sample: recipe.format.bits(),
        sample_format: if recipe.format == Format::Float32 {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    };
    let mut writer = hound::WavWriter::create(&wav, spec).ctx(format!("create {path}"))?;
    let result = match recipe.format.bits() {
        16 => samples.iter().try_for_each(|&s| {
            writer.write_sample((s * 32767.0).round().clamp(-32768.0, 32767.0) as i16)
        }),
        24 => samples.iter().try_for_each(|&s| {
            writer.write_sample((s * 8_388_607.0).round().clamp(-8_388_608.0, 8_388_607.0) as i32)
        }),
        _ => samples.iter().try_for_each(|&s| writer.write_sample(s)),
    };
    result.ctx(format!("write {path}"))?;
    writer.finalize().ctx(format!("write {path}"))?;
    if flac {
        let out = Command::new("flac")
            .args(["--silent", "--force", "-5", "-o"])
            .arg(&target)
            .arg(&wav)
            .output()
            .ctx("run flac")?;
        if !out.status.success() {
            return Err(format!(
                "flac failed on {path}: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        fs::remove_file(&wav).ctx(format!("remove {}", wav.display()))?;
    }
    Ok(frames as f64 / f64::from(recipe.rate))
}

/// The take's interleaved samples: the speech at its peak level, resampled, with edge
/// silence, on one or two channels, over room noise.
fn take_samples(recipe: &Recipe, speech: &Speech) -> Vec<f32> {
    let peak = speech
        .samples
        .iter()
        .fold(0.0f32, |m, &s| m.max(s.abs()))
        .max(1e-6);
    let gain = (10f64.powf(recipe.peak_db / 20.0) as f32) / peak;
    let voice = resample_cubic(&speech.samples, speech.rate, recipe.rate);
    let rate = f64::from(recipe.rate);
    let lead = (recipe.lead * rate).round() as usize;
    let frames = lead + voice.len() + (recipe.tail * rate).round() as usize;
    let channels = usize::from(recipe.channels);
    // The second channel: a little quieter and 0.4 ms later.
    let delay = (0.0004 * rate).round() as usize;
    let noise = 10f64.powf(NOISE_DBFS / 20.0) as f32;
    let mut rng = Rng(recipe.noise_seed);
    let at = |i: usize| -> f32 {
        i.checked_sub(lead)
            .and_then(|j| voice.get(j))
            .map_or(0.0, |&s| s * gain)
    };
    let mut out = Vec::with_capacity(frames * channels);
    for i in 0..frames {
        for c in 0..channels {
            let dry = if c == 0 {
                at(i)
            } else {
                0.85 * i.checked_sub(delay).map_or(0.0, at)
            };
            let n = ((rng.next_u64() >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * noise;
            out.push((dry + n).clamp(-1.0, 1.0));
        }
    }
    out
}

/// Catmull-Rom interpolation from `from` Hz to `to` Hz (the corpus only goes up from
/// espeak-ng's rate, so no anti-alias filter is needed).
fn resample_cubic(x: &[f32], from: u32, to: u32) -> Vec<f32> {
    if from == to {
        return x.to_vec();
    }
    let n = (x.len() as u64 * u64::from(to) / u64::from(from)) as usize;
    let step = f64::from(from) / f64::from(to);
    let get = |i: i64| -> f32 {
        usize::try_from(i)
            .ok()
            .and_then(|i| x.get(i))
            .copied()
            .unwrap_or(0.0)
    };
    (0..n)
        .map(|j| {
            let t = j as f64 * step;
            let i = t.floor() as i64;
            let f = (t - i as f64) as f32;
            let (p0, p1, p2, p3) = (get(i - 1), get(i), get(i + 1), get(i + 2));
            p1 + 0.5
                * f
                * (p2 - p0
                    + f * (2.0 * p0 - 5.0 * p1 + 4.0 * p2 - p3 + f * (3.0 * (p1 - p2) + p3 - p0)))
        })
        .collect()
}

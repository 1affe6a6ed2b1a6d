//! The `narrate` command line.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use narrate::build::{build, check_out_dir, BuildOptions};
use narrate::check::check;
use narrate::governance::Date;
use narrate::incremental::{self, Removed};
use narrate::lock::Lock;
use narrate::plan::{speech_cache_dir, Plan};
use narrate::project::Project;
use narrate::review::{review, Strictness};
use narrate::{atomic, inspect, sheet, status, Error};

/// Turn narration scripts and recordings into chaptered WAV audio guides.
#[derive(Parser)]
#[command(name = "narrate", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build episodes: WAV files with chapters, sidecars and a report.
    Build {
        /// The project folder (holding narrate.toml).
        #[arg(long, default_value = ".")]
        project: PathBuf,
        /// The output folder [default: <project>/out].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Profiles to build (repeatable) [default: the manifest's defaults.profiles].
        #[arg(long = "profile", value_name = "PROFILE")]
        profiles: Vec<String>,
        /// Refuse episodes that still have synthesised (unrecorded) sections.
        #[arg(long)]
        release: bool,
        /// Only these episodes [default: all].
        episodes: Vec<String>,
    },
    /// Validate the project without writing audio: manifest, scripts, order, recordings.
    Check {
        /// The project folder (holding narrate.toml).
        #[arg(long, default_value = ".")]
        project: PathBuf,
        /// Check as for a release: every section must have a recording.
        #[arg(long)]
        release: bool,
        /// Only these episodes [default: all].
        episodes: Vec<String>,
    },
    /// Where every section stands: recorded, synthesised, missing or stale; words,
    /// estimated and actual duration, speaking rate.
    Status {
        /// The project folder (holding narrate.toml).
        #[arg(long, default_value = ".")]
        project: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Only these episodes [default: all].
        episodes: Vec<String>,
    },
    /// Accept the current takes: record in narrate.lock that they match their text.
    Accept {
        /// The project folder (holding narrate.toml).
        #[arg(long, default_value = ".")]
        project: PathBuf,
        /// Accept every recorded section of every episode.
        #[arg(long, conflicts_with_all = ["episode", "sections"])]
        all: bool,
        /// The episode.
        #[arg(required_unless_present = "all")]
        episode: Option<String>,
        /// Only these sections (file stems such as 04-risks) [default: the whole episode].
        sections: Vec<String>,
    },
    /// Write a large-print recording sheet (HTML and text) for the voice talent.
    Sheet {
        /// The project folder (holding narrate.toml).
        #[arg(long, default_value = ".")]
        project: PathBuf,
        /// The output folder [default: <project>/out]; sheets go to its sheets/ folder.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Only the sections still to record (missing, stale or synthesised).
        #[arg(long)]
        todo: bool,
        /// The episode.
        episode: String,
    },
    /// Create a new project, optionally proposing one section per heading of a document.
    Init {
        /// The folder to create the project in.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// A plain-text document to propose section scripts from.
        #[arg(long, value_name = "FILE.txt")]
        from: Option<PathBuf>,
    },
    /// Delete the project's cached synthesised speech (.narrate-cache/speech) and its build
    /// records in the build cache, so that its next build synthesises and rebuilds everything.
    ///
    /// Prepared clips are kept unless `--all` is given: they are shared by every project
    /// that uses the same build cache (by default, all of yours on this machine).
    CleanCache {
        /// The project folder (holding narrate.toml).
        #[arg(long, default_value = ".")]
        project: PathBuf,
        /// Also delete the prepared clips, which every project using this build cache
        /// shares: each prepares the clips it uses again on its next build.
        #[arg(long)]
        all: bool,
    },
    /// Show the format, duration, chapters and tags of any WAV file.
    Inspect {
        /// The WAV file.
        file: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Writes to standard output; a closed pipe (`narrate status | head`) ends quietly.
fn emit(text: &str) {
    use std::io::Write;
    if let Err(err) = std::io::stdout().lock().write_all(text.as_bytes()) {
        if err.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to standard output: {err}");
        std::process::exit(1);
    }
}

macro_rules! out {
    ($($arg:tt)*) => { emit(&format!($($arg)*)) };
}

macro_rules! outln {
    ($($arg:tt)*) => { emit(&format!("{}\n", format_args!($($arg)*))) };
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<ExitCode, Error> {
    match command {
        Command::Build {
            project,
            out,
            profiles,
            release,
            episodes,
        } => {
            let project = Project::load(&project)?;
            print_warnings(&project.warnings);
            let out_dir = out.unwrap_or_else(|| project.root.join("out"));
            check_out_dir(&project, &out_dir)?;
            let plan = reviewed_plan(&project, &episodes, &profiles, release, Strictness::Build)?;
            let progress = std::io::stderr().is_terminal();
            let options = BuildOptions { out_dir, progress };
            let mut failed = false;
            for result in build(&project, &plan, &options) {
                match result {
                    Ok(built) => {
                        print_warnings(&built.warnings);
                        let db = |v: Option<f64>| v.map_or("-inf".into(), |v| format!("{v:.1}"));
                        outln!(
                            "{}  {}  {} chapters  {} LUFS  {} dBTP{}",
                            shown(&built.wav).display(),
                            format_duration(built.duration_seconds),
                            built.chapters,
                            db(built.loudness.integrated_lufs),
                            db(built.loudness.true_peak_dbtp),
                            if built.unchanged { "  unchanged" } else { "" },
                        );
                        if built.synthesised > 0 {
                            eprintln!(
                                "note: {} has {} synthesised section(s), marked in its comment tag and report; `--release` refuses it",
                                shown(&built.wav).display(),
                                built.synthesised
                            );
                        }
                    }
                    Err(err) => {
                        eprintln!("error: {err}");
                        failed = true;
                    }
                }
            }
            Ok(if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Check {
            project,
            release,
            episodes,
        } => {
            let project = Project::load(&project)?;
            print_warnings(&project.warnings);
            let plan = reviewed_plan(&project, &episodes, &[], release, Strictness::Check)?;
            let summary = check(&project, &plan)?;
            print_warnings(&summary.warnings);
            outln!("{summary}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Status {
            project,
            json,
            episodes,
        } => {
            let project = Project::load(&project)?;
            let chosen = project.select(&episodes)?;
            let lines = status::status(&project, &chosen)?;
            if json {
                let text = serde_json::to_string_pretty(&lines)
                    .map_err(|e| Error::new(format!("cannot write the status as JSON: {e}")))?;
                outln!("{text}");
            } else {
                out!("{}", status::render_text(&lines));
                print_warnings(
                    &review(&project, &chosen, Strictness::Build, Date::today()?)?.warnings,
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Accept {
            project,
            all,
            episode,
            sections,
        } => {
            let project = Project::load(&project)?;
            let chosen = match (&episode, all) {
                (Some(id), false) => project.select(std::slice::from_ref(id))?,
                _ => project.episodes.iter().collect(),
            };
            let mut lock = Lock::load(&project.root)?;
            let mut accepted = 0;
            for episode in &chosen {
                for stem in &sections {
                    if !episode.sections.iter().any(|s| &s.stem == stem) {
                        return Err(Error::new(format!(
                            "episode `{}` has no section `{stem}`",
                            episode.id
                        ))
                        .with_fix("give the section's file stem, such as 04-risks"));
                    }
                }
                for section in &episode.sections {
                    if !sections.is_empty() && !sections.contains(&section.stem) {
                        continue;
                    }
                    match &section.clip {
                        Some(clip) => {
                            lock.accept(&episode.id, &section.stem, &section.text, clip)?;
                            accepted += 1;
                        }
                        None if sections.contains(&section.stem) => {
                            return Err(Error::in_file(
                                &section.script,
                                "the section has no recording to accept",
                            )
                            .with_fix(format!(
                                "record it as audio/{}/{}.<wav|flac|mp3|ogg> first",
                                episode.id, section.stem
                            )));
                        }
                        None => {}
                    }
                }
            }
            if all {
                // Forget sections that no longer exist.
                lock.retain(|ep, sec| {
                    project
                        .episode(ep)
                        .is_some_and(|e| e.sections.iter().any(|s| s.stem == sec))
                });
            }
            lock.save()?;
            outln!(
                "accepted {accepted} take(s) in {}",
                shown(&lock.path()).display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Sheet {
            project,
            out,
            todo,
            episode,
        } => {
            let project = Project::load(&project)?;
            let chosen = project.select(std::slice::from_ref(&episode))?;
            let lines = status::status(&project, &chosen)?;
            let input = sheet::for_episode(&project, chosen[0], &lines[0], todo);
            let dir = out
                .unwrap_or_else(|| project.root.join("out"))
                .join("sheets");
            check_out_dir(&project, &dir)?;
            for (ext, text) in [
                ("html", sheet::sheet_html(&input)),
                ("txt", sheet::sheet_text(&input)),
            ] {
                let path = dir.join(format!("{episode}.sheet.{ext}"));
                atomic::write_bytes(&path, text.as_bytes())?;
                outln!("{}", shown(&path).display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Init { dir, from } => {
            let summary = narrate::init::init(&dir, from.as_deref())?;
            out!("{summary}");
            Ok(ExitCode::SUCCESS)
        }
        Command::CleanCache { project, all } => {
            let project = Project::load(&project)?;
            // The build cache first: it refuses, removing nothing, if it is not narrate's.
            let build = incremental::clean(&project.root, all)?;
            let speech_dir = speech_cache_dir(&project);
            let speech = narrate::speech::remove_cached(&speech_dir)?;
            let size = |r: Removed| format!("{} file(s), {}", r.files, format_bytes(r.bytes));
            outln!(
                "removed {} synthesised speech file(s) ({}) from {}",
                speech.files,
                format_bytes(speech.bytes),
                shown(&speech_dir).display()
            );
            outln!(
                "removed this project's build records ({}) from {}: its next build rebuilds every output",
                size(build.records),
                shown(&build.records_dir).display()
            );
            let shared = "prepared clips are shared by every project that uses this build cache";
            let mut freed = speech.bytes + build.records.bytes;
            if build.clips_kept {
                outln!(
                    "kept the prepared clips ({}) in {}: {shared}; `clean-cache --all` removes them too",
                    size(build.clips),
                    shown(&build.clips_dir).display()
                );
            } else {
                freed += build.clips.bytes;
                outln!(
                    "removed the prepared clips ({}) from {}: {shared}, and each prepares the clips it uses again on its next build",
                    size(build.clips),
                    shown(&build.clips_dir).display()
                );
            }
            outln!("freed {}", format_bytes(freed));
            Ok(ExitCode::SUCCESS)
        }
        Command::Inspect { file, json } => {
            let inspection = inspect::inspect(&file)?;
            if json {
                outln!("{}", inspect::render_json(&inspection)?);
            } else {
                out!("{}", inspect::render_text(&inspection));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The plan of `episodes` for `profiles`, once the content review passes (its warnings
/// printed): at `strictness`, or [`Strictness::Release`] with `release`.
fn reviewed_plan(
    project: &Project,
    episodes: &[String],
    profiles: &[String],
    release: bool,
    strictness: Strictness,
) -> Result<Plan, Error> {
    let plan = Plan::new(project, episodes, profiles, release)?;
    let strictness = if release {
        Strictness::Release
    } else {
        strictness
    };
    let chosen = project.select(episodes)?;
    print_warnings(&review(project, &chosen, strictness, Date::today()?)?.into_result()?);
    Ok(plan)
}

/// `path` relative to the working directory when it lies below it.
fn shown(path: &std::path::Path) -> &std::path::Path {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok())
        .unwrap_or(path)
}

fn print_warnings(warnings: &[String]) {
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
}

/// A size in bytes, kB, MB or GB (powers of 1000).
fn format_bytes(bytes: u64) -> String {
    let units = [(1e9, "GB"), (1e6, "MB"), (1e3, "kB")];
    match units.iter().find(|(scale, _)| bytes as f64 >= *scale) {
        Some((scale, unit)) => format!("{:.1} {unit}", bytes as f64 / scale),
        None => format!("{bytes} bytes"),
    }
}

/// `m:ss.mmm`, or `h:mm:ss.mmm` past an hour.
fn format_duration(seconds: f64) -> String {
    let ms = (seconds * 1000.0).round() as u64;
    let (h, m, s, ms) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}.{ms:03}")
    } else {
        format!("{m}:{s:02}.{ms:03}")
    }
}

//! The `narrate` command line.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use narrate::build::{build, check_out_dir, BuildOptions};
use narrate::check::check;
use narrate::plan::{speech_cache_dir, Plan};
use narrate::project::Project;
use narrate::{inspect, Error};

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
    /// Delete the project's cache of synthesised speech (.narrate-cache/speech).
    CleanCache {
        /// The project folder (holding narrate.toml).
        #[arg(long, default_value = ".")]
        project: PathBuf,
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
            let plan = Plan::new(&project, &episodes, &profiles, release)?;
            let progress = std::io::stderr().is_terminal();
            let options = BuildOptions { out_dir, progress };
            let mut failed = false;
            for result in build(&project, &plan, &options) {
                match result {
                    Ok(built) => {
                        print_warnings(&built.warnings);
                        let db = |v: Option<f64>| v.map_or("-inf".into(), |v| format!("{v:.1}"));
                        println!(
                            "{}  {}  {} chapters  {} LUFS  {} dBTP",
                            shown(&built.wav).display(),
                            format_duration(built.duration_seconds),
                            built.chapters,
                            db(built.loudness.integrated_lufs),
                            db(built.loudness.true_peak_dbtp),
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
            let plan = Plan::new(&project, &episodes, &[], release)?;
            let summary = check(&project, &plan)?;
            print_warnings(&summary.warnings);
            println!("{summary}");
            Ok(ExitCode::SUCCESS)
        }
        Command::CleanCache { project } => {
            let project = Project::load(&project)?;
            let removed = narrate::speech::clear_cache(&speech_cache_dir(&project))?;
            println!("removed {removed} cached speech file(s)");
            Ok(ExitCode::SUCCESS)
        }
        Command::Inspect { file, json } => {
            let inspection = inspect::inspect(&file)?;
            if json {
                println!("{}", inspect::render_json(&inspection)?);
            } else {
                print!("{}", inspect::render_text(&inspection));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
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

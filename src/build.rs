//! Running a build: render every planned output in parallel and write the WAV, its
//! sidecars and its report, each atomically.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::atomic;
use crate::dither::quantize_i16;
use crate::error::{Error, Result};
use crate::loudness::Loudness;
use crate::master::{master, MasterSettings};
use crate::plan::{EpisodePlan, Plan};
use crate::project::{Project, MANIFEST};
use crate::render::render;
use crate::report::Report;
use crate::sidecars::SidecarKind;
use crate::wav::writer::{file_size as wav_file_size, write_wav_file, WavSpec};

/// Where and how to build.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The output folder; profiles get their own subfolder.
    pub out_dir: PathBuf,
    /// Draw progress bars (on a terminal).
    pub progress: bool,
}

/// What one output turned out to be.
#[derive(Debug, Clone)]
pub struct Built {
    pub wav: PathBuf,
    pub duration_seconds: f64,
    pub chapters: usize,
    /// Loudness of the mastered programme.
    pub loudness: Loudness,
    /// Sections whose narration is synthesised.
    pub synthesised: usize,
    pub warnings: Vec<String>,
}

/// Checks that the output folder is not inside the project's inputs.
pub fn check_out_dir(project: &Project, out_dir: &Path) -> Result<()> {
    let absolute = if out_dir.is_absolute() {
        out_dir.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| Error::io(out_dir, "resolve the output folder", &e))?
            .join(out_dir)
    };
    // Resolve as much of the path as exists, so that links are followed.
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => break,
        }
    }
    let mut resolved = existing
        .canonicalize()
        .unwrap_or_else(|_| existing.to_path_buf());
    resolved.extend(rest.iter().rev());
    for input in ["audio", "scripts"] {
        if resolved.starts_with(project.root.join(input)) {
            return Err(Error::in_file(
                out_dir,
                format!("the output folder is inside the project's {input}/ folder"),
            )
            .with_fix("write outputs somewhere else, such as the default out/ folder"));
        }
    }
    if resolved == project.root {
        return Err(
            Error::in_file(out_dir, "the output folder is the project folder itself")
                .with_fix("write outputs to a subfolder, such as the default out/ folder"),
        );
    }
    Ok(())
}

/// Builds every output of `plan`, in parallel on all cores. Returns one result per output,
/// in plan order; a failed output leaves whatever was there before untouched.
pub fn build(project: &Project, plan: &Plan, options: &BuildOptions) -> Vec<Result<Built>> {
    let outputs = &plan.outputs;
    let bars = MultiProgress::with_draw_target(if options.progress {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    });
    let style = ProgressStyle::with_template("{prefix:>32} [{bar:30}] {pos}/{len} sections")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");

    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<Built>>>> =
        Mutex::new(outputs.iter().map(|_| None).collect());
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(outputs.len());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(output) = outputs.get(i) else { break };
                let bar = bars.add(ProgressBar::new(output.sections.len() as u64));
                bar.set_style(style.clone());
                bar.set_prefix(output.wav_path().display().to_string());
                let result = build_one(project, output, &options.out_dir, &|| bar.inc(1));
                bar.finish_and_clear();
                if let Ok(mut slots) = results.lock() {
                    slots[i] = Some(result);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(Error::new("the build of this output did not finish"))))
        .collect()
}

/// Renders one output and writes the WAV, the sidecars and the report.
fn build_one(
    project: &Project,
    plan: &EpisodePlan,
    out_dir: &Path,
    tick: &dyn Fn(),
) -> Result<Built> {
    let mut rendered = render(plan, tick)?;
    let profile = &plan.profile;
    let spec = WavSpec {
        sample_rate: profile.sample_rate,
        channels: profile.channels,
        format: profile.format,
    };
    let timeline = &rendered.timeline;
    profile.check_output(timeline, wav_file_size(&spec, &plan.meta, timeline)?)?;
    let settings = MasterSettings {
        target_lufs: profile.target_lufs,
        true_peak_ceiling_dbtp: profile.true_peak_dbtp,
        ..MasterSettings::default()
    };
    let mastering = master(&mut rendered.audio, &settings)?;
    rendered.warnings.extend(mastering.warnings.iter().cloned());
    let samples = quantize_i16(&rendered.audio.samples, plan.dither_seed());

    let wav = out_dir.join(plan.wav_path());
    if let Some(dir) = wav.parent() {
        atomic::clean_leftovers(dir);
    }
    let timeline = &rendered.timeline;
    write_wav_file(&wav, spec, &plan.meta, timeline, &samples)?;

    let file_name = format!("{}.wav", plan.meta.id);
    let texts: Vec<&str> = plan.sections.iter().map(|s| s.text.as_str()).collect();
    for kind in SidecarKind::ALL {
        let text = kind.render(&plan.meta, timeline, &file_name, &texts);
        atomic::write_bytes(
            &wav.with_file_name(kind.file_name(&plan.meta.id)),
            text.as_bytes(),
        )?;
    }

    let mut warnings = project.warnings.clone();
    warnings.extend(rendered.warnings.iter().cloned());
    let report = Report::new(
        plan,
        &rendered,
        &mastering,
        &project.root,
        &project.root.join(MANIFEST),
        &file_name,
        warnings,
    )?;
    atomic::write_bytes(
        &wav.with_file_name(format!("{}.report.json", plan.meta.id)),
        report.to_json().as_bytes(),
    )?;

    Ok(Built {
        wav,
        duration_seconds: timeline.duration_seconds(),
        chapters: timeline.chapters.len(),
        loudness: mastering.output,
        synthesised: plan.sections.iter().filter(|s| s.synthesised).count(),
        warnings: rendered.warnings,
    })
}

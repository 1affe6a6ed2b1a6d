//! Running a build: decide which outputs are out of date, prepare the clips they need on a
//! pool of worker threads shared by the whole build, then master each output, streaming it
//! into its WAV, and write its sidecars and report, each atomically.
//!
//! An output is up to date when its build key (narrate's version, its whole plan, and the
//! content of every input: manifest, scripts, recordings, synthesised speech) is the one
//! recorded when its files were written, and the files are still exactly those files (see
//! [`crate::incremental`]). Such an output is not touched; the build reports it as unchanged.
//!
//! Work is scheduled on one pool of `available_parallelism` threads: every distinct clip
//! (by content and preparation) is a task, and an output becomes a task as soon as its last
//! clip is ready, ahead of the clips still waiting, so mastering starts early and the cores
//! stay busy without any output starting threads of its own.

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::atomic;
use crate::clips::{clips_dir, ClipCache};
use crate::dither::Quantizer;
use crate::error::{Error, Result};
use crate::incremental::{key_of, record_path, FileHashes, OutputRecord, Summary};
use crate::loudness::Loudness;
use crate::master::{master_replay, Cores, Destination, MasterSettings};
use crate::meta::EpisodeMeta;
use crate::plan::{EpisodePlan, Item, Plan};
use crate::project::{Project, MANIFEST};
use crate::render::{jobs, lay_out, ClipJob, Ready};
use crate::report::Report;
use crate::sidecars::SidecarKind;
use crate::speech::cache_path;
use crate::timeline::Timeline;
use crate::wav::writer::{file_size as wav_file_size, WavSpec, WavWriter};

/// Bumped when what a build key covers changes.
const KEY_FORMAT: u32 = 1;

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
    /// The output was up to date: nothing was built or written.
    pub unchanged: bool,
    /// Clips this output needed that had to be prepared (not found in the cache).
    pub clips_prepared: usize,
}

/// Checks that no output can land among the project's inputs: the output folder, and each
/// profile's folder in it, must lie outside `audio/` and `scripts/` and not be the project
/// folder (links followed, `..` applied, also through folders that do not exist yet), and
/// no output file may be an input (a recording, a script or narrate.toml).
pub fn check_out_dir(project: &Project, out_dir: &Path) -> Result<()> {
    let among_inputs = |folder: &Path| -> Option<String> {
        ["audio", "scripts"]
            .into_iter()
            .find(|input| folder.starts_with(project.root.join(input)))
            .map(|input| format!("inside the project's {input}/ folder"))
            .or_else(|| (folder == project.root).then(|| "the project folder itself".into()))
    };
    let resolved = resolve(out_dir)?;
    if let Some(where_) = among_inputs(&resolved) {
        return Err(
            Error::in_file(out_dir, format!("the output folder is {where_}"))
                .with_fix("write outputs somewhere else, such as the default out/ folder"),
        );
    }
    let inputs = input_paths(project);
    for profile in &project.profiles {
        let folder = resolve(&out_dir.join(&profile.name))?;
        if let Some(where_) = among_inputs(&folder) {
            return Err(Error::in_file(
                out_dir.join(&profile.name),
                format!("this output folder leads (through a link) {where_}"),
            )
            .with_fix("remove the link, or write outputs somewhere else with --out"));
        }
        for episode in &project.episodes {
            let names = std::iter::once(format!("{}.wav", episode.id))
                .chain(SidecarKind::ALL.iter().map(|k| k.file_name(&episode.id)))
                .chain(std::iter::once(format!("{}.report.json", episode.id)));
            for name in names {
                let output = folder.join(&name);
                if let Some((input, used_by)) = inputs.iter().find(|(input, _)| *input == output) {
                    return Err(Error::in_file(
                        used_by,
                        format!(
                            "`{}` is an input, and the build would write {}/{name} over it",
                            project.relative(input).display(),
                            profile.name
                        ),
                    )
                    .with_fix(
                        "move the file out of the output folder (e.g. into audio/), or write \
                         outputs elsewhere with --out",
                    ));
                }
            }
        }
    }
    Ok(())
}

/// `path` made absolute, with links resolved wherever the path exists so far and `.` and
/// `..` applied to the parts that do not exist yet, as creating them would.
fn resolve(path: &Path) -> Result<PathBuf> {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| Error::io(path, "resolve the output folder", &e))?
            .join(path)
    };
    let mut resolved = PathBuf::new();
    for component in absolute.components() {
        match component {
            std::path::Component::CurDir => continue,
            std::path::Component::ParentDir => {
                resolved.pop();
            }
            other => resolved.push(other),
        }
        if let Ok(real) = resolved.canonicalize() {
            resolved = real;
        }
    }
    Ok(resolved)
}

/// Every file the build reads, resolved, with the file that names it (for messages).
fn input_paths(project: &Project) -> Vec<(PathBuf, PathBuf)> {
    let manifest = project.root.join(MANIFEST);
    let mut inputs = vec![(manifest.clone(), manifest)];
    for section in project.episodes.iter().flat_map(|e| &e.sections) {
        let script = &section.script;
        let clips = section
            .clip
            .iter()
            .chain(section.before.iter().chain(&section.after).map(|x| &x.clip));
        for path in std::iter::once(script).chain(clips) {
            let real = path.canonicalize().unwrap_or_else(|_| path.clone());
            inputs.push((real, script.clone()));
        }
    }
    inputs
}

/// The files one output consists of, by name in its profile's folder: the WAV, the
/// sidecars and the report.
fn output_files(plan: &EpisodePlan) -> Vec<String> {
    let stem = &plan.meta.id;
    let mut names = vec![format!("{stem}.wav")];
    names.extend(SidecarKind::ALL.iter().map(|k| k.file_name(stem)));
    names.push(format!("{stem}.report.json"));
    names
}

/// The build key of `plan`: a hash over everything its files are made from. `None` when an
/// input does not exist yet (speech still to be synthesised): the output is then out of date.
fn build_key(project: &Project, plan: &EpisodePlan, hashes: &FileHashes) -> Result<Option<String>> {
    key_with(project, plan, &|path| {
        hashes.sha256(path).map(|(_, sha)| sha)
    })
}

/// [`build_key`] with the content hashes given by `hash`.
fn key_with(
    project: &Project,
    plan: &EpisodePlan,
    hash: &dyn Fn(&Path) -> Result<String>,
) -> Result<Option<String>> {
    let mut parts: Vec<Vec<u8>> = vec![
        b"narrate output".to_vec(),
        KEY_FORMAT.to_le_bytes().to_vec(),
        env!("CARGO_PKG_VERSION").as_bytes().to_vec(),
        // Every field of the plan (profile, tags, sections, items, pauses, speech settings)
        // and the project's warnings, which the report repeats.
        format!("{plan:?}").into_bytes(),
        format!("{:?}", project.warnings).into_bytes(),
        project.root.as_os_str().as_encoded_bytes().to_vec(),
    ];
    let mut input = |path: &Path, used_by: Option<&Path>| -> Result<()> {
        let sha256 = hash(path).map_err(|e| match used_by {
            Some(script) => e.or_place(format!("used by {}", script.display())),
            None => e,
        })?;
        parts.push(path.as_os_str().as_encoded_bytes().to_vec());
        parts.push(sha256.into_bytes());
        Ok(())
    };
    input(&project.root.join(MANIFEST), None)?;
    for section in &plan.sections {
        input(&section.script, None)?;
        for item in &section.items {
            if let Item::Clip { path, .. } = item {
                input(path, Some(&section.script))?;
            } else if let Some(request) = plan.speech_request(section, item) {
                let spoken = cache_path(&request, &plan.speech.cache_dir);
                if !spoken.is_file() {
                    return Ok(None);
                }
                input(&spoken, Some(&section.script))?;
            }
        }
    }
    let parts: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    Ok(Some(key_of(&parts)))
}

/// The manifest and the scripts of `plan`.
fn text_inputs(project: &Project, plan: &EpisodePlan) -> Vec<PathBuf> {
    let mut paths = vec![project.root.join(MANIFEST)];
    paths.extend(plan.sections.iter().map(|s| s.script.clone()));
    paths
}

/// An output that needs building.
struct Pending<'a> {
    /// Index in the plan.
    index: usize,
    plan: &'a EpisodePlan,
    /// The hashes of its manifest and scripts when the build started.
    texts: Vec<(String, PathBuf)>,
    /// For each of its jobs (in play order), the index of the distinct job.
    jobs: Vec<usize>,
    bar: ProgressBar,
}

/// Work for the pool.
#[derive(Debug, Clone, Copy)]
enum Task {
    Clip(usize),
    Output(usize),
}

/// The pool's shared state.
struct Board {
    tasks: VecDeque<Task>,
    /// Tasks not finished yet (queued or running).
    unfinished: usize,
    /// Per distinct job, its result once run.
    ready: Vec<Option<Result<Arc<Ready>>>>,
    /// Per distinct job, the pending outputs that use it.
    users: Vec<Vec<usize>>,
    /// Per pending output, its jobs not run yet.
    waiting: Vec<usize>,
    /// Cores not in use: a worker needs one to start a task, and a mastering pass may
    /// borrow one for a helper thread.
    idle_cores: usize,
}

/// The pool's cores, lent to mastering passes.
struct PoolCores<'a> {
    board: &'a Mutex<Board>,
    wake: &'a Condvar,
}

impl Cores for PoolCores<'_> {
    fn borrow(&self) -> bool {
        let mut b = self.board.lock().unwrap_or_else(|e| e.into_inner());
        if b.idle_cores > 0 {
            b.idle_cores -= 1;
            true
        } else {
            false
        }
    }

    fn give_back(&self) {
        let mut b = self.board.lock().unwrap_or_else(|e| e.into_inner());
        b.idle_cores += 1;
        self.wake.notify_all();
    }
}

/// Builds every output of `plan`, on all cores. Returns one result per output, in plan
/// order; a failed output leaves whatever was there before untouched.
pub fn build(project: &Project, plan: &Plan, options: &BuildOptions) -> Vec<Result<Built>> {
    let outputs = &plan.outputs;
    let hashes = FileHashes::load(&project.root);
    // The prepared clips are needed to master at all: where the build cache cannot be
    // written (a read-only home folder), they go to the temporary folder instead.
    let clips = clips_dir(&project.root);
    let clips = if std::fs::create_dir_all(&clips).is_ok() {
        clips
    } else {
        std::env::temp_dir().join("narrate-cache").join("clips")
    };
    let cache = ClipCache::new(clips);
    let out_dir = absolute(&options.out_dir);
    let bars = MultiProgress::with_draw_target(if options.progress {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    });
    let style = ProgressStyle::with_template("{prefix:>32} [{bar:30}] {pos}/{len} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");

    // Which outputs are out of date, and the clips they need.
    let mut results: Vec<Option<Result<Built>>> = outputs.iter().map(|_| None).collect();
    let mut pending: Vec<Pending> = Vec::new();
    let mut distinct: Vec<ClipJob> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    let mut cleaned = Vec::new();
    // The manifest's and scripts' hashes as the plan was read (they are small), for the
    // keys of outputs built now.
    let texts = parallel(outputs, |output| {
        text_inputs(project, output)
            .into_iter()
            .map(|p| Ok((hashes.sha256(&p)?.1, p)))
            .collect::<Result<Vec<(String, PathBuf)>>>()
    });
    let records = parallel(outputs, |output| {
        let path = record_path(
            &project.root,
            &out_dir,
            &output.profile.name,
            &output.meta.id,
        );
        let record = OutputRecord::load(&path)?;
        Some(build_key(project, output, &hashes).map(|key| (key, record)))
    });
    for (index, output) in outputs.iter().enumerate() {
        let dir = out_dir.join(&output.profile.name);
        if !cleaned.contains(&dir) {
            atomic::clean_leftovers(&dir);
            cleaned.push(dir.clone());
        }
        // Only an output built before can be up to date; its key is then worked out
        // (in parallel, below). Any other output is built, and its key worked out after.
        match &records[index] {
            Some(Err(e)) => {
                results[index] = Some(Err(e.clone()));
                continue;
            }
            Some(Ok((Some(key), record))) => {
                if let Some(built) = unchanged(record, key, &out_dir, &dir, output) {
                    results[index] = Some(Ok(built));
                    continue;
                }
            }
            _ => {}
        }
        let texts = match &texts[index] {
            Ok(texts) => texts.clone(),
            Err(e) => {
                results[index] = Some(Err(e.clone()));
                continue;
            }
        };
        let mut ids = Vec::new();
        for job in jobs(output) {
            let next = distinct.len();
            let at = *by_id.entry(job.id()).or_insert(next);
            if at == next {
                distinct.push(job);
            }
            ids.push(at);
        }
        let mut mine = ids.clone();
        mine.sort_unstable();
        mine.dedup();
        let bar = bars.add(ProgressBar::new(mine.len() as u64 + 1));
        bar.set_style(style.clone());
        bar.set_prefix(output.wav_path().display().to_string());
        bar.set_message("clips");
        pending.push(Pending {
            index,
            plan: output,
            texts,
            jobs: ids,
            bar,
        });
    }

    // The pool: clips first, in the order outputs need them; an output as soon as its
    // clips are ready, ahead of the remaining clips.
    let mut users = vec![Vec::new(); distinct.len()];
    let mut waiting = Vec::with_capacity(pending.len());
    for (p, output) in pending.iter().enumerate() {
        let mut mine: Vec<usize> = output.jobs.clone();
        mine.sort_unstable();
        mine.dedup();
        for &j in &mine {
            users[j].push(p);
        }
        waiting.push(mine.len());
    }
    let mut tasks: VecDeque<Task> = (0..pending.len())
        .filter(|&p| waiting[p] == 0)
        .map(Task::Output)
        .collect();
    tasks.extend((0..distinct.len()).map(Task::Clip));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let board = Mutex::new(Board {
        unfinished: distinct.len() + pending.len(),
        tasks,
        ready: distinct.iter().map(|_| None).collect(),
        users,
        waiting,
        idle_cores: cores,
    });
    let wake = Condvar::new();
    let lend = PoolCores {
        board: &board,
        wake: &wake,
    };
    let done: Mutex<Vec<(usize, Result<Built>)>> = Mutex::new(Vec::new());
    let workers = cores.min(distinct.len() + pending.len());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let task = {
                    let mut b = board.lock().unwrap_or_else(|e| e.into_inner());
                    loop {
                        if b.idle_cores > 0 {
                            if let Some(task) = b.tasks.pop_front() {
                                b.idle_cores -= 1;
                                break Some(task);
                            }
                        }
                        if b.unfinished == 0 {
                            break None;
                        }
                        b = wake.wait(b).unwrap_or_else(|e| e.into_inner());
                    }
                };
                let Some(task) = task else { break };
                match task {
                    Task::Clip(j) => {
                        let result = distinct[j].run(&cache, &hashes).map(Arc::new);
                        let mut b = board.lock().unwrap_or_else(|e| e.into_inner());
                        b.ready[j] = Some(result);
                        for p in b.users[j].clone() {
                            pending[p].bar.inc(1);
                            b.waiting[p] -= 1;
                            if b.waiting[p] == 0 {
                                b.tasks.push_front(Task::Output(p));
                            }
                        }
                        b.unfinished -= 1;
                        b.idle_cores += 1;
                    }
                    Task::Output(p) => {
                        let output = &pending[p];
                        let ready: Result<Vec<Arc<Ready>>> = {
                            let b = board.lock().unwrap_or_else(|e| e.into_inner());
                            output
                                .jobs
                                .iter()
                                .map(|&j| match &b.ready[j] {
                                    Some(Ok(r)) => Ok(Arc::clone(r)),
                                    Some(Err(e)) => Err(e.clone()),
                                    None => Err(Error::new("a clip was not prepared")),
                                })
                                .collect()
                        };
                        output.bar.set_message("mastering");
                        let result = ready.and_then(|ready| {
                            build_one(project, output, &ready, &out_dir, &hashes, &lend)
                        });
                        output.bar.finish_and_clear();
                        done.lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push((output.index, result));
                        let mut b = board.lock().unwrap_or_else(|e| e.into_inner());
                        b.unfinished -= 1;
                        b.idle_cores += 1;
                    }
                }
                wake.notify_all();
            });
        }
    });
    hashes.save();
    if !distinct.is_empty() {
        cache.tidy();
    }
    for (index, result) in done.into_inner().unwrap_or_default() {
        results[index] = Some(result);
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(Error::new("the build of this output did not finish"))))
        .collect()
}

/// `path` made absolute against the working directory, without `.` components (so that
/// records do not depend on where the build was started or how the folder was written).
fn absolute(path: &Path) -> PathBuf {
    let path = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|cwd| cwd.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    };
    path.components().collect()
}

/// `f` of every item, on as many threads as there are cores (in order).
fn parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new(items.iter().map(|_| None).collect());
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let result = f(item);
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(result);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.expect("every item was mapped (a panic would have been re-raised)"))
        .collect()
}

/// The output as it stands, if its record shows it up to date with `key`.
fn unchanged(
    record: &OutputRecord,
    key: &str,
    out_dir: &Path,
    dir: &Path,
    plan: &EpisodePlan,
) -> Option<Built> {
    if !record.is_current(key, out_dir, dir, &output_files(plan)) {
        return None;
    }
    let summary = record.summary.clone();
    Some(Built {
        wav: out_dir.join(plan.wav_path()),
        duration_seconds: summary.duration_seconds,
        chapters: summary.chapters,
        loudness: summary.loudness(),
        synthesised: summary.synthesised,
        warnings: summary.warnings,
        unchanged: true,
        clips_prepared: 0,
    })
}

/// Lays out one output from its prepared clips, masters it into its WAV, and writes the
/// sidecars, the report and the record of the build.
fn build_one(
    project: &Project,
    output: &Pending,
    ready: &[Arc<Ready>],
    out_dir: &Path,
    hashes: &FileHashes,
    cores: &dyn Cores,
) -> Result<Built> {
    let plan = output.plan;
    let mut rendered = lay_out(plan, ready);
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

    let wav = out_dir.join(plan.wav_path());
    let mut mastering = None;
    atomic::write_with(&wav, |out| {
        let mut destination = WavDestination {
            out: Some(out),
            writer: None,
            spec,
            meta: &plan.meta,
            timeline,
            seed: plan.dither_seed(),
            path: &wav,
            quantizer: Quantizer::new(plan.dither_seed()),
            buf: Vec::new(),
        };
        mastering = Some(master_replay(
            &rendered.programme,
            &settings,
            &mut destination,
            cores,
        )?);
        Ok(())
    })?;
    let mastering = mastering.ok_or_else(|| Error::new("the episode was not mastered"))?;
    rendered.warnings.extend(mastering.warnings.iter().cloned());

    let file_name = format!("{}.wav", plan.meta.id);
    let timeline = &rendered.timeline;
    let texts: Vec<&str> = plan.sections.iter().map(|s| s.text.as_str()).collect();
    let mut written = vec![wav.clone()];
    for kind in SidecarKind::ALL {
        let text = kind.render(&plan.meta, timeline, &file_name, &texts);
        let path = wav.with_file_name(kind.file_name(&plan.meta.id));
        atomic::write_bytes(&path, text.as_bytes())?;
        written.push(path);
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
        &|path| hashes.sha256(path),
    )?;
    let report_path = wav.with_file_name(format!("{}.report.json", plan.meta.id));
    atomic::write_bytes(&report_path, report.to_json().as_bytes())?;
    written.push(report_path);

    let synthesised = plan.sections.iter().filter(|s| s.synthesised).count();
    let summary = Summary {
        duration_seconds: timeline.duration_seconds(),
        chapters: timeline.chapters.len(),
        integrated_lufs: mastering.output.integrated_lufs,
        true_peak_dbtp: mastering.output.true_peak_dbtp,
        loudness_range_lu: mastering.output.loudness_range_lu,
        sample_peak_dbfs: mastering.output.sample_peak_dbfs,
        synthesised,
        warnings: rendered.warnings.clone(),
    };
    // The key of what was built: the scripts as read when the build started, every clip as
    // it was prepared (not as it may be now, should it have changed meanwhile).
    let key = key_with(project, plan, &|path| {
        output
            .texts
            .iter()
            .find(|(_, p)| p == path)
            .map(|(sha, _)| sha.clone())
            .or_else(|| {
                ready
                    .iter()
                    .find(|r| r.path == path)
                    .map(|r| r.sha256.clone())
            })
            .ok_or_else(|| Error::in_file(path, "this input was not read by the build"))
    })
    // Without a key, no record: the output is only built again next time.
    .unwrap_or(None);
    if let Some(key) = key {
        let record = record_path(&project.root, out_dir, &profile.name, &plan.meta.id);
        OutputRecord::new(key, out_dir, &written, summary).save(&record);
    }

    Ok(Built {
        wav,
        duration_seconds: timeline.duration_seconds(),
        chapters: timeline.chapters.len(),
        loudness: mastering.output,
        synthesised,
        warnings: rendered.warnings,
        unchanged: false,
        clips_prepared: ready.iter().filter(|r| r.made).count(),
    })
}

/// Each mastering pass written into the WAV from its start, through the TPDF quantiser
/// (restarted with the output's seed each pass, so the last pass's bytes are what any one
/// pass would have written).
struct WavDestination<'a, 'w> {
    /// The file between passes; the writer holds it during one.
    out: Option<&'w mut BufWriter<File>>,
    writer: Option<WavWriter<&'w mut BufWriter<File>>>,
    spec: WavSpec,
    meta: &'a EpisodeMeta,
    timeline: &'a Timeline,
    seed: u64,
    path: &'a Path,
    quantizer: Quantizer,
    buf: Vec<i16>,
}

impl Destination for WavDestination<'_, '_> {
    fn start(&mut self) -> Result<()> {
        let out = self
            .out
            .take()
            .ok_or_else(|| Error::new("the WAV writer was not finished").or_file(self.path))?;
        out.seek(SeekFrom::Start(0))
            .map_err(|e| Error::io(self.path, "write", &e))?;
        let writer = WavWriter::new(out, self.spec, self.meta, self.timeline)
            .map_err(|e| e.or_file(self.path))?
            .file(self.path);
        self.writer = Some(writer);
        self.quantizer = Quantizer::new(self.seed);
        Ok(())
    }

    fn write(&mut self, samples: &[f32]) -> Result<()> {
        let writer = self
            .writer
            .as_mut()
            .ok_or_else(|| Error::new("the WAV writer was not started").or_file(self.path))?;
        self.buf.clear();
        self.quantizer.process(samples, &mut self.buf);
        writer.write_i16(&self.buf)
    }

    fn finish(&mut self) -> Result<()> {
        let writer = self
            .writer
            .take()
            .ok_or_else(|| Error::new("the WAV writer was not started").or_file(self.path))?;
        self.out = Some(writer.finish()?);
        Ok(())
    }
}

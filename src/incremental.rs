//! Incremental builds: where the build cache is, content hashes of the inputs, and a
//! record of every output built.
//!
//! The build cache is per user by default, not inside the project ([`cache_home`]): prepared
//! clips are large (32-bit float at the output rate), and a project folder is something people
//! copy, zip, sync and keep on network drives, so it stays as small as its inputs; a build
//! writes nothing in the project but its outputs (and synthesised speech, in
//! `.narrate-cache/speech`). `NARRATE_CACHE_DIR=.narrate-cache` puts the cache in the project
//! instead. Prepared clips are addressed by content, so projects that share a recording (a
//! chime) share its preparation. For each project (by its canonical path) the cache holds:
//! - `hashes.json`: the SHA-256 of every input file read, with the size, modification time
//!   (and on Unix the inode and change time) it had then. A file whose stamp still matches is
//!   not read again; any difference in the stamp means reading and hashing it again. An entry
//!   is only kept once the file is a few seconds old, so that a file changed within the
//!   clock's resolution after it was hashed cannot keep a stale hash.
//! - `outputs/<out-folder hash>/<profile>/<stem>.json`: for each output, the build key it was
//!   built from (a hash of narrate's version, the output's whole plan and the content of every
//!   input), the stamps of the files written, and the figures `build` prints. An output whose
//!   key is unchanged and whose files are all still there, untouched, is not built again.
//!
//! Nothing here is needed for a correct build: a missing, damaged or unwritable cache only
//! means more work. [`clean`] empties it for `narrate clean-cache`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::atomic;
use crate::error::{Error, Result};
use crate::loudness::Loudness;
use crate::report::sha256_file;

/// Environment variable naming the build cache folder (overrides the default).
pub const CACHE_ENV: &str = "NARRATE_CACHE_DIR";

/// Bumped when the meaning of a build key or of the records changes.
const RECORD_FORMAT: u32 = 1;

/// A file younger than this is hashed but its hash not kept (see the module docs).
const RACY_SECONDS: u64 = 3;

/// The build cache folder of the project at `root`: `$NARRATE_CACHE_DIR` (a relative path
/// is taken from the project folder, so `NARRATE_CACHE_DIR=.narrate-cache` keeps the cache
/// in the project), else the platform's per-user cache folder (`$XDG_CACHE_HOME/narrate`,
/// `~/.cache/narrate`; `~/Library/Caches/narrate` on macOS; `%LOCALAPPDATA%\narrate\cache`
/// on Windows), else `narrate-cache` in the temporary folder.
pub fn cache_home(root: &Path) -> PathBuf {
    if let Some(dir) = var(CACHE_ENV) {
        return root.join(dir);
    }
    let absolute = |name: &str| var(name).filter(|p| p.is_absolute());
    if let Some(dir) = absolute("XDG_CACHE_HOME") {
        return dir.join("narrate");
    }
    if cfg!(windows) {
        if let Some(dir) = absolute("LOCALAPPDATA") {
            return dir.join("narrate").join("cache");
        }
    }
    if let Some(home) = absolute("HOME") {
        return if cfg!(target_os = "macos") {
            home.join("Library").join("Caches").join("narrate")
        } else {
            home.join(".cache").join("narrate")
        };
    }
    std::env::temp_dir().join("narrate-cache")
}

/// The environment variable `name`, unless it is unset or empty.
fn var(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The part of the build cache that belongs to the project at `root`.
pub fn project_cache(root: &Path) -> PathBuf {
    let id = &key_of(&[root.as_os_str().as_encoded_bytes()])[..16];
    cache_home(root).join("projects").join(id)
}

/// What identifies a version of a file without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub size: u64,
    /// Modification time: seconds and nanoseconds since the Unix epoch.
    pub modified: (u64, u32),
    /// Inode and status-change time (seconds, nanoseconds) on Unix; zeros elsewhere.
    #[serde(default)]
    pub inode: u64,
    #[serde(default)]
    pub changed: (i64, i64),
}

impl Stamp {
    /// The stamp of `path` now, or `None` when it cannot be read.
    pub fn of(path: &Path) -> Option<Stamp> {
        let meta = fs::metadata(path).ok()?;
        let modified = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
        #[cfg(unix)]
        let (inode, changed) = {
            use std::os::unix::fs::MetadataExt;
            (meta.ino(), (meta.ctime(), meta.ctime_nsec()))
        };
        #[cfg(not(unix))]
        let (inode, changed) = (0, (0, 0));
        Some(Stamp {
            size: meta.len(),
            modified: (modified.as_secs(), modified.subsec_nanos()),
            inode,
            changed,
        })
    }

    /// Whether the file was modified less than [`RACY_SECONDS`] before `now`.
    fn is_recent(&self, now: SystemTime) -> bool {
        let modified = UNIX_EPOCH + Duration::new(self.modified.0, self.modified.1);
        match now.duration_since(modified) {
            Ok(age) => age.as_secs() < RACY_SECONDS,
            // Modified in the future: as recent as can be.
            Err(_) => true,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct HashEntry {
    stamp: Stamp,
    sha256: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct HashFile {
    format: u32,
    files: BTreeMap<String, HashEntry>,
}

/// Content hashes of input files, cached by their stamps in `.narrate-cache/hashes.json`.
/// Safe to share between threads.
#[derive(Debug)]
pub struct FileHashes {
    file: Option<PathBuf>,
    entries: Mutex<BTreeMap<String, HashEntry>>,
    /// Every hash taken by this process, recent files too: within one build a file is read
    /// once, however many times its hash is asked for.
    session: Mutex<BTreeMap<String, HashEntry>>,
    changed: AtomicBool,
}

impl FileHashes {
    /// The cache of the project at `root` (empty when there is none or it cannot be read).
    pub fn load(root: &Path) -> FileHashes {
        Self::load_from(project_cache(root).join("hashes.json"))
    }

    /// The cache kept in `file`.
    pub fn load_from(file: PathBuf) -> FileHashes {
        let entries = fs::read(&file)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<HashFile>(&bytes).ok())
            .filter(|h| h.format == RECORD_FORMAT)
            .map(|h| h.files)
            .unwrap_or_default();
        FileHashes {
            file: Some(file),
            entries: Mutex::new(entries),
            session: Mutex::new(BTreeMap::new()),
            changed: AtomicBool::new(false),
        }
    }

    /// A cache that is never saved.
    pub fn in_memory() -> FileHashes {
        FileHashes {
            file: None,
            entries: Mutex::new(BTreeMap::new()),
            session: Mutex::new(BTreeMap::new()),
            changed: AtomicBool::new(false),
        }
    }

    /// Size and SHA-256 (lowercase hex) of `path`, read only when its stamp changed.
    pub fn sha256(&self, path: &Path) -> Result<(u64, String)> {
        self.sha256_stamped(path)
            .map(|(size, sha256, _)| (size, sha256))
    }

    /// [`FileHashes::sha256`], and the stamp the file had while it hashed so (`None` when
    /// it changed while it was read): whoever reads the file again can check it is still
    /// the same version.
    pub fn sha256_stamped(&self, path: &Path) -> Result<(u64, String, Option<Stamp>)> {
        let name = path.to_string_lossy().into_owned();
        let before = Stamp::of(path);
        if let Some(stamp) = before {
            for map in [&self.entries, &self.session] {
                let map = map.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(entry) = map.get(&name).filter(|e| e.stamp == stamp) {
                    return Ok((stamp.size, entry.sha256.clone(), Some(stamp)));
                }
            }
        }
        let (size, sha256) = sha256_file(path)?;
        // Remembered only if the file did not change while it was read.
        let Some(stamp) = before.filter(|s| Stamp::of(path) == Some(*s) && s.size == size) else {
            return Ok((size, sha256, None));
        };
        self.session
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                name.clone(),
                HashEntry {
                    stamp,
                    sha256: sha256.clone(),
                },
            );
        // Kept for later builds only if the file is not so recent that it could change again
        // within the same timestamp.
        if !stamp.is_recent(SystemTime::now()) {
            let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            entries.insert(
                name,
                HashEntry {
                    stamp,
                    sha256: sha256.clone(),
                },
            );
            self.changed.store(true, Ordering::Relaxed);
        }
        Ok((size, sha256, Some(stamp)))
    }

    /// Writes the cache back if anything was added (best effort: a failure only costs
    /// hashing again next time). Entries of files that no longer exist are dropped.
    pub fn save(&self) {
        let Some(file) = &self.file else { return };
        if !self.changed.load(Ordering::Relaxed) {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|name, _| Path::new(name).exists());
        let contents = HashFile {
            format: RECORD_FORMAT,
            files: std::mem::take(&mut *entries),
        };
        if let Ok(json) = serde_json::to_vec(&contents) {
            let _ = atomic::write_bytes(file, &json);
        }
    }
}

/// SHA-256 (hex) of length-prefixed parts, for keys.
pub fn key_of(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The figures `narrate build` prints for an output, kept so that an unchanged output can
/// be reported without opening it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub duration_seconds: f64,
    pub chapters: usize,
    pub integrated_lufs: Option<f64>,
    pub true_peak_dbtp: Option<f64>,
    pub loudness_range_lu: f64,
    pub sample_peak_dbfs: Option<f64>,
    pub synthesised: usize,
    pub warnings: Vec<String>,
}

impl Summary {
    pub fn loudness(&self) -> Loudness {
        Loudness {
            integrated_lufs: self.integrated_lufs,
            true_peak_dbtp: self.true_peak_dbtp,
            loudness_range_lu: self.loudness_range_lu,
            sample_peak_dbfs: self.sample_peak_dbfs,
        }
    }
}

/// What was built for one output, and from what.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutputRecord {
    format: u32,
    /// The build key the files were made from.
    pub key: String,
    /// The output folder, as given to the build.
    pub out_dir: PathBuf,
    /// Every file written, by name in the profile's folder, with its stamp after writing.
    pub files: BTreeMap<String, Stamp>,
    pub summary: Summary,
}

/// Where the record of output `<profile>/<stem>` built into `out_dir` is kept.
pub fn record_path(root: &Path, out_dir: &Path, profile: &str, stem: &str) -> PathBuf {
    let folder = &key_of(&[out_dir.as_os_str().as_encoded_bytes()])[..16];
    project_cache(root)
        .join("outputs")
        .join(folder)
        .join(profile)
        .join(format!("{stem}.json"))
}

impl OutputRecord {
    /// A record of `files` (paths of the files just written) built from `key`.
    pub fn new(key: String, out_dir: &Path, files: &[PathBuf], summary: Summary) -> Self {
        let files = files
            .iter()
            .filter_map(|f| {
                let name = f.file_name()?.to_string_lossy().into_owned();
                Some((name, Stamp::of(f)?))
            })
            .collect();
        OutputRecord {
            format: RECORD_FORMAT,
            key,
            out_dir: out_dir.to_path_buf(),
            files,
            summary,
        }
    }

    /// The record at `path`, if it can be read.
    pub fn load(path: &Path) -> Option<OutputRecord> {
        let bytes = fs::read(path).ok()?;
        serde_json::from_slice::<OutputRecord>(&bytes)
            .ok()
            .filter(|r| r.format == RECORD_FORMAT)
    }

    /// Whether the files in `dir` are still exactly what this record says was built from
    /// `key` into `out_dir`: the same key and folder, and every file (`names`, none missing)
    /// with its recorded stamp.
    pub fn is_current(&self, key: &str, out_dir: &Path, dir: &Path, names: &[String]) -> bool {
        self.key == key
            && self.out_dir == out_dir
            && names.len() == self.files.len()
            && names.iter().all(|name| {
                self.files
                    .get(name)
                    .is_some_and(|stamp| Stamp::of(&dir.join(name)) == Some(*stamp))
            })
    }

    /// Saves the record (best effort: without it the output is only built again).
    pub fn save(&self, path: &Path) {
        if let Ok(json) = serde_json::to_vec_pretty(self) {
            let _ = atomic::write_bytes(path, &json);
        }
    }
}

/// Files removed (or found) in a cache folder, and their size.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Removed {
    pub files: usize,
    pub bytes: u64,
}

impl Removed {
    /// The files under `path` (itself, if it is a file), links not followed.
    pub fn of(path: &Path) -> Removed {
        let Ok(meta) = fs::symlink_metadata(path) else {
            return Removed::default();
        };
        if !meta.is_dir() {
            return Removed {
                files: 1,
                bytes: meta.len(),
            };
        }
        fs::read_dir(path)
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| Removed::of(&entry.path()))
            .sum()
    }
}

impl std::ops::Add for Removed {
    type Output = Removed;
    fn add(self, other: Removed) -> Removed {
        Removed {
            files: self.files + other.files,
            bytes: self.bytes + other.bytes,
        }
    }
}

impl std::iter::Sum for Removed {
    fn sum<I: Iterator<Item = Removed>>(iter: I) -> Removed {
        iter.fold(Removed::default(), |a, b| a + b)
    }
}

/// What [`clean`] did to the build cache of a project.
#[derive(Debug, Clone)]
pub struct Cleaned {
    /// The project's build records (`<cache home>/projects/<id>`), and what they held.
    pub records_dir: PathBuf,
    pub records: Removed,
    /// The prepared clips (`<cache home>/clips`), and what was removed from it (or, when
    /// they were kept, what it holds).
    pub clips_dir: PathBuf,
    pub clips: Removed,
    pub clips_kept: bool,
}

/// Empties the build cache of the project at `root`: its build records, so that its next
/// build rebuilds every output, and with `clips` the prepared clips too, which every project
/// using this cache shares (each prepares the ones it uses again on its next build).
///
/// Only `projects/<id>/` and narrate's files in `clips/` are removed, never the cache folder
/// itself. A folder named by `NARRATE_CACHE_DIR` must hold only what narrate puts in a build
/// cache (`clips/`, `projects/`, and `speech/` as in a project's `.narrate-cache`), else
/// nothing at all is removed, so that a variable naming some other folder costs no one a file.
pub fn clean(root: &Path, clips: bool) -> Result<Cleaned> {
    if var(CACHE_ENV).is_some() {
        // Without `.` components, for messages.
        let home: PathBuf = cache_home(root).components().collect();
        check_is_cache(&home)?;
    }
    let records_dir: PathBuf = project_cache(root).components().collect();
    let records = Removed::of(&records_dir);
    let removed = match fs::symlink_metadata(&records_dir) {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(&records_dir),
        Ok(_) => fs::remove_file(&records_dir),
        Err(_) => Ok(()),
    };
    removed.map_err(|e| Error::io(&records_dir, "remove the build records", &e))?;
    let clips_dir: PathBuf = crate::clips::clips_dir(root).components().collect();
    let found: Vec<(PathBuf, Removed)> = prepared_clips(&clips_dir)
        .into_iter()
        .map(|path| {
            let size = Removed::of(&path);
            (path, size)
        })
        .collect();
    if clips {
        for (path, _) in found.iter().filter(|(path, _)| !is_temporary(path)) {
            fs::remove_file(path).map_err(|e| Error::io(path, "remove", &e))?;
        }
        // What interrupted writes left, but not what a running build is writing.
        atomic::clean_leftovers(&clips_dir);
    }
    let size = found
        .iter()
        .filter(|(path, _)| !clips || !path.exists())
        .map(|(_, size)| *size)
        .sum();
    Ok(Cleaned {
        records_dir,
        records,
        clips_dir,
        clips: size,
        clips_kept: !clips,
    })
}

/// An error unless `home` (named by `NARRATE_CACHE_DIR`) is missing or holds only what
/// narrate writes in a build cache.
fn check_is_cache(home: &Path) -> Result<()> {
    if !home.exists() {
        return Ok(());
    }
    let entries = |dir: &Path| -> Result<Vec<(String, bool)>> {
        let read = |e: std::io::Error| Error::io(dir, "read the build cache folder", &e);
        fs::read_dir(dir)
            .map_err(read)?
            .map(|entry| {
                let entry = entry.map_err(read)?;
                let name = entry.file_name().to_string_lossy().into_owned();
                Ok((name, entry.path().is_dir()))
            })
            .collect()
    };
    // Hidden files (a `.DS_Store`, the clip folder's `.tidied`) and a CACHEDIR.TAG may be
    // anywhere; they are never removed.
    let anyones = |name: &str| name.starts_with('.') || name == "CACHEDIR.TAG";
    let mut foreign = Vec::new();
    for (name, is_dir) in entries(home)? {
        let ours = matches!(name.as_str(), "clips" | "projects" | "speech") && is_dir;
        if !ours && !anyones(&name) {
            foreign.push(name);
        }
    }
    for sub in ["clips", "projects"] {
        let dir = home.join(sub);
        if !dir.is_dir() {
            continue;
        }
        for (name, is_dir) in entries(&dir)? {
            let ours = match sub {
                "clips" => !is_dir && is_clip_file(&name),
                _ => is_dir && is_hex(&name, 16),
            };
            if !ours && !anyones(&name) {
                foreign.push(format!("{sub}/{name}"));
            }
        }
    }
    if foreign.is_empty() {
        return Ok(());
    }
    foreign.sort();
    let mut named = foreign
        .iter()
        .take(3)
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if foreign.len() > 3 {
        named.push_str(&format!(" and {} more", foreign.len() - 3));
    }
    Err(Error::in_file(
        home,
        format!(
            "this folder does not look like narrate's build cache (it holds {named}, which \
             narrate does not write); nothing was removed"
        ),
    )
    .with_fix(format!(
        "{CACHE_ENV} names the build cache folder: set it to a folder that only narrate uses \
         (such as .narrate-cache), or unset it"
    )))
}

/// Whether narrate gives a file in the prepared-clip folder the name `name`: a clip's audio
/// or facts (`<key>.f32`, `<key>.json`), or what an interrupted write of one left.
fn is_clip_file(name: &str) -> bool {
    let name = name
        .strip_suffix(atomic::TEMP_SUFFIX)
        .and_then(|n| n.rsplit_once('.'))
        .map_or(name, |(n, _pid)| n);
    name.rsplit_once('.')
        .is_some_and(|(key, ext)| crate::clips::FILE_EXTENSIONS.contains(&ext) && is_hex(key, 64))
}

/// Whether `path` is a temporary file of an atomic write.
fn is_temporary(path: &Path) -> bool {
    path.to_string_lossy().ends_with(atomic::TEMP_SUFFIX)
}

/// Whether `text` is `digits` hexadecimal digits (a key, or a project's id).
fn is_hex(text: &str, digits: usize) -> bool {
    text.len() == digits && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The files narrate wrote in the prepared-clip folder `dir`.
fn prepared_clips(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| !t.is_dir()))
        .filter(|e| is_clip_file(&e.file_name().to_string_lossy()))
        .map(|e| e.path())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("narrate-incr-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn set_mtime(path: &Path, time: SystemTime) {
        fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(time)
            .unwrap();
    }

    #[test]
    fn hashes_are_kept_for_old_files_and_redone_when_the_stamp_changes() {
        let dir = scratch("hashes");
        let file = dir.join("a.txt");
        fs::write(&file, b"abc").unwrap();
        // Old enough to be kept.
        let old = SystemTime::now() - Duration::from_secs(60);
        set_mtime(&file, old);
        let hashes = FileHashes::load_from(dir.join("hashes.json"));
        let (size, first) = hashes.sha256(&file).unwrap();
        assert_eq!(size, 3);
        hashes.save();
        let again = FileHashes::load_from(dir.join("hashes.json"));
        assert_eq!(again.entries.lock().unwrap().len(), 1);
        assert_eq!(again.sha256(&file).unwrap().1, first);
        // Same size, new content, and the modification time set back to the old value: on
        // Unix the change time still gives it away.
        fs::write(&file, b"abd").unwrap();
        let (_, second) = again.sha256(&file).unwrap();
        assert_ne!(first, second);
        set_mtime(&file, old);
        #[cfg(unix)]
        assert_ne!(again.sha256(&file).unwrap().1, first);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn recent_files_are_hashed_but_not_kept() {
        let dir = scratch("recent");
        let file = dir.join("b.txt");
        fs::write(&file, b"new").unwrap();
        let hashes = FileHashes::load_from(dir.join("hashes.json"));
        hashes.sha256(&file).unwrap();
        assert!(hashes.entries.lock().unwrap().is_empty());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn only_narrate_names_count_as_prepared_clips() {
        let key = key_of(&[b"clip"]);
        for name in [
            format!("{key}.f32"),
            format!("{key}.json"),
            format!("{key}.f32.1234.narrate-tmp"),
        ] {
            assert!(is_clip_file(&name), "{name}");
        }
        for name in [
            format!("{key}.wav"),
            format!("{}.f32", &key[1..]),
            "holiday.json".to_string(),
            ".tidied".to_string(),
        ] {
            assert!(!is_clip_file(&name), "{name}");
        }
    }

    #[test]
    fn keys_separate_their_parts() {
        assert_ne!(key_of(&[b"ab", b"c"]), key_of(&[b"a", b"bc"]));
        assert_eq!(key_of(&[b"x"]).len(), 64);
    }
}

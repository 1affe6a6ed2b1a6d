//! Atomic file output: write to a temporary file beside the target, then rename.
//!
//! A reader never sees a half-written output, and a failed or interrupted build leaves
//! the previous file in place.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The suffix every temporary output carries, so that leftovers can be recognised.
pub const TEMP_SUFFIX: &str = ".narrate-tmp";

/// The temporary path used while writing `target`.
pub fn temp_path(target: &Path) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}{TEMP_SUFFIX}", std::process::id()));
    target.with_file_name(name)
}

/// Writes `target` atomically: `fill` writes the content into a buffered temporary file,
/// which is flushed, synced and renamed over `target`. On any error the temporary file
/// is removed and `target` is untouched.
pub fn write_with<F>(target: &Path, fill: F) -> Result<()>
where
    F: FnOnce(&mut BufWriter<File>) -> Result<()>,
{
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, "create the output folder", &e))?;
    }
    let temp = temp_path(target);
    let result = (|| {
        let file = File::create(&temp).map_err(|e| Error::io(&temp, "create", &e))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        fill(&mut out)?;
        let file = out
            .into_inner()
            .map_err(|e| Error::io(&temp, "write", e.error()))?;
        file.sync_all().map_err(|e| Error::io(&temp, "write", &e))?;
        fs::rename(&temp, target).map_err(|e| Error::io(target, "replace", &e))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// Writes `bytes` to `target` atomically.
pub fn write_bytes(target: &Path, bytes: &[u8]) -> Result<()> {
    write_with(target, |out| {
        out.write_all(bytes)
            .map_err(|e| Error::io(target, "write", &e))
    })
}

/// Removes temporary files that an interrupted earlier build left in `dir`.
///
/// A temporary file still being written is kept: one of this process (another thread may
/// be writing another output into the same folder) or, where `/proc` shows it, of another
/// running process.
pub fn clean_leftovers(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(TEMP_SUFFIX) else {
            continue;
        };
        if !writer_is_alive(stem) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Whether the process that named a temporary file `<name>.<pid>.narrate-tmp` (`stem` is
/// the name without the suffix) may still be writing it.
fn writer_is_alive(stem: &str) -> bool {
    let Some(pid) = stem.rsplit('.').next().and_then(|p| p.parse::<u32>().ok()) else {
        return false;
    };
    pid == std::process::id() || Path::new("/proc").join(pid.to_string()).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pid_is_read_from_the_name() {
        let own = format!("e.wav.{}", std::process::id());
        assert!(writer_is_alive(&own));
        assert!(!writer_is_alive("e.wav"));
        assert!(!writer_is_alive("e.wav.notapid"));
        // Far above any pid_max.
        assert!(!writer_is_alive("e.wav.4000000000"));
    }
}

//! One error type for the whole tool: what went wrong, where, and how to fix it.

use std::fmt;
use std::path::{Path, PathBuf};

/// A problem the user can act on. Rendered as
/// `error: FILE:LINE:COL: message` followed by a `fix:` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The file the problem is in, when there is one.
    pub file: Option<PathBuf>,
    /// Where in the file: `line 3, column 7`, `section 04-risks`, `byte 1234`…
    pub place: Option<String>,
    /// What is wrong, in plain words.
    pub message: String,
    /// What the user can do about it.
    pub fix: Option<String>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A problem with no particular file.
    pub fn new(message: impl Into<String>) -> Self {
        Error {
            file: None,
            place: None,
            message: message.into(),
            fix: None,
        }
    }

    /// A problem in `file`.
    pub fn in_file(file: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Error {
            file: Some(file.as_ref().to_path_buf()),
            ..Error::new(message)
        }
    }

    /// An I/O failure while `doing` something with `file`.
    pub fn io(file: impl AsRef<Path>, doing: &str, err: &std::io::Error) -> Self {
        let fix = match err.kind() {
            std::io::ErrorKind::NotFound => {
                "check that the path is spelt right and the file exists"
            }
            std::io::ErrorKind::PermissionDenied => "check the file's permissions",
            _ => "check the file and the disk, then run the command again",
        };
        Error::in_file(file, format!("cannot {doing}: {err}")).with_fix(fix)
    }

    pub fn at(mut self, place: impl Into<String>) -> Self {
        self.place = Some(place.into());
        self
    }

    pub fn with_fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }

    /// Sets the place if none is set yet.
    pub fn or_place(mut self, place: impl Into<String>) -> Self {
        if self.place.is_none() {
            self.place = Some(place.into());
        }
        self
    }

    /// Sets the file if none is set yet (errors from lower layers learn their file late).
    pub fn or_file(mut self, file: impl AsRef<Path>) -> Self {
        if self.file.is_none() {
            self.file = Some(file.as_ref().to_path_buf());
        }
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}", file.display())?;
            if let Some(place) = &self.place {
                write!(f, " ({place})")?;
            }
            write!(f, ": ")?;
        } else if let Some(place) = &self.place {
            write!(f, "{place}: ")?;
        }
        write!(f, "{}", self.message)?;
        if let Some(fix) = &self.fix {
            write!(f, "\n  fix: {fix}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

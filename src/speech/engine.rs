//! Running a synthesiser process: optional text on stdin, captured output, a time limit.

use std::io::{self, Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Bytes of stdout and stderr kept (the last ones) for error messages.
const KEEP_OUTPUT: usize = 16 * 1024;
/// How long output is still collected after the process ended or was stopped.
const OUTPUT_GRACE: Duration = Duration::from_secs(2);
/// Longest wait between two checks of a running process.
const MAX_POLL: Duration = Duration::from_millis(20);

/// One engine run.
#[derive(Debug, Clone)]
pub(crate) struct Invocation {
    pub program: String,
    pub args: Vec<String>,
    /// Written to the process's standard input (which is empty otherwise).
    pub input: Option<Vec<u8>>,
}

impl Invocation {
    /// The command line, quoted for a POSIX shell, to show in messages.
    pub fn display(&self) -> String {
        std::iter::once(&self.program)
            .chain(&self.args)
            .map(|a| shell_quote(a))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// What a finished (or stopped) run left.
#[derive(Debug)]
pub(crate) struct Ran {
    pub outcome: Outcome,
    /// What the engine printed: stderr, or stdout when stderr is empty; trimmed.
    pub said: String,
}

#[derive(Debug)]
pub(crate) enum Outcome {
    Exited(ExitStatus),
    /// Stopped after the time limit.
    TimedOut,
    /// Waiting for the process failed; it was stopped.
    Lost(io::Error),
}

/// Runs `invocation`, stopping it (and its process group) after `timeout`. `Err` when it
/// could not be started.
pub(crate) fn run(invocation: &Invocation, timeout: Duration) -> io::Result<Ran> {
    let mut command = Command::new(&invocation.program);
    command
        .args(&invocation.args)
        .stdin(if invocation.input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        // Its own process group, so that a timeout also stops what a wrapper script started.
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    let mut child = command.spawn()?;

    let (tx, rx) = mpsc::channel();
    if let Some(out) = child.stdout.take() {
        collect(out, 0, tx.clone());
    }
    if let Some(err) = child.stderr.take() {
        collect(err, 1, tx);
    }
    if let (Some(mut stdin), Some(input)) = (child.stdin.take(), invocation.input.clone()) {
        // An engine that exits without reading everything closes the pipe: not our error.
        thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
    }

    let deadline = Instant::now() + timeout;
    let mut poll = Duration::from_millis(1);
    let outcome = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Outcome::Exited(status),
            Ok(None) if Instant::now() >= deadline => {
                stop(&mut child);
                break Outcome::TimedOut;
            }
            Ok(None) => {
                thread::sleep(poll.min(deadline.saturating_duration_since(Instant::now())));
                poll = (poll * 2).min(MAX_POLL);
            }
            Err(e) => {
                stop(&mut child);
                break Outcome::Lost(e);
            }
        }
    };

    // A process that left children behind holding the pipes is not waited for.
    let grace = Instant::now() + OUTPUT_GRACE;
    let mut output = [Vec::new(), Vec::new()];
    for _ in 0..2 {
        match rx.recv_timeout(grace.saturating_duration_since(Instant::now())) {
            Ok((which, bytes)) => output[which] = bytes,
            Err(_) => break,
        }
    }
    let [stdout, stderr] = output.map(|b| String::from_utf8_lossy(&b).trim().to_string());
    let said = if stderr.is_empty() { stdout } else { stderr };
    Ok(Ran { outcome, said })
}

/// Reads `source` to its end on a thread, keeping the last [`KEEP_OUTPUT`] bytes.
fn collect(
    mut source: impl Read + Send + 'static,
    which: usize,
    tx: mpsc::Sender<(usize, Vec<u8>)>,
) {
    thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            match source.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    kept.extend_from_slice(&buf[..n]);
                    if kept.len() > 2 * KEEP_OUTPUT {
                        kept.drain(..kept.len() - KEEP_OUTPUT);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        if kept.len() > KEEP_OUTPUT {
            kept.drain(..kept.len() - KEEP_OUTPUT);
        }
        let _ = tx.send((which, kept));
    });
}

/// Kills the child and its process group, and reaps it.
fn stop(child: &mut Child) {
    #[cfg(unix)]
    {
        // The group was created for this child alone (`process_group(0)`), so its id is
        // the child's; `kill` reaches processes the child started too.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", child.id())])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// `arg` as one POSIX shell word.
fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:=@%+,{}".contains(c));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// Where `program` would be found: itself when it names a path, else the first executable
/// file of that name on `PATH`.
pub(crate) fn locate(program: &str) -> Option<std::path::PathBuf> {
    let candidate = std::path::Path::new(program);
    if candidate.components().count() > 1 {
        return is_executable(candidate).then(|| candidate.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| is_executable(p))
}

fn is_executable(path: &std::path::Path) -> bool {
    let Ok(meta) = path.metadata() else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Invocation {
        Invocation {
            program: "sh".into(),
            args: vec!["-c".into(), script.into()],
            input: None,
        }
    }

    #[test]
    fn quotes_for_the_shell() {
        let inv = Invocation {
            program: "espeak-ng".into(),
            args: vec!["-w".into(), "/tmp/a b.wav".into(), "it's".into(), "".into()],
            input: None,
        };
        assert_eq!(inv.display(), r"espeak-ng -w '/tmp/a b.wav' 'it'\''s' ''");
    }

    #[test]
    fn captures_status_and_stderr_and_feeds_stdin() {
        let mut inv = sh("cat; echo oops >&2; exit 3");
        inv.input = Some(b"hello".to_vec());
        let ran = run(&inv, Duration::from_secs(10)).unwrap();
        assert!(matches!(ran.outcome, Outcome::Exited(s) if s.code() == Some(3)));
        assert_eq!(ran.said, "oops");
        let ran = run(&sh("printf 'only stdout'"), Duration::from_secs(10)).unwrap();
        assert_eq!(ran.said, "only stdout");
    }

    #[test]
    fn stops_a_hung_process_and_its_children() {
        let started = Instant::now();
        let ran = run(&sh("sleep 30; echo late"), Duration::from_millis(200)).unwrap();
        assert!(matches!(ran.outcome, Outcome::TimedOut));
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn missing_program_is_a_spawn_error() {
        let inv = Invocation {
            program: "narrate-no-such-engine".into(),
            args: vec![],
            input: None,
        };
        let err = run(&inv, Duration::from_secs(1)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert_eq!(locate("narrate-no-such-engine"), None);
        assert!(locate("sh").is_some());
    }
}

//! The file side of one topic: which file is open, when to rotate, writing message
//! lines, syncing, and moving finished files from the work dir to the output dir.
//!
//! It never talks to nsqd: the router decides when to sync and FINs messages only
//! after [`FileLogger::sync`] (or [`FileLogger::close`]) has returned.
//!
//! Rotation follows Go: a new file when the name (its `<DATETIME>`) changes, when
//! `--rotate-interval` has passed since the open, or when more than `--rotate-size`
//! bytes (uncompressed) were written. A name in use bumps `<REV>`: files are opened
//! exclusively with gzip or `--rotate-interval` (appended to otherwise), names taken
//! in the output dir are skipped, and a move onto an existing file (a hard link, so
//! nothing is ever overwritten) retries with the next revision.

use crate::filename::{self, REV};
use crate::options::Options;
use crate::output::Output;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, ErrorKind};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

/// One topic's output files.
pub struct FileLogger {
    /// `[topic/channel]`, the prefix of every log line.
    label: String,
    opts: Arc<Options>,
    /// The name template: `<DATETIME>` and `<REV>` still to fill in.
    template: String,
    out: Option<Output>,
    /// The open file's path in the work dir.
    path: PathBuf,
    /// The open file's name relative to the work (and output) dir.
    relative: String,
    /// The current name with its datetime, still holding `<REV>`.
    filename: String,
    opened: Instant,
    /// Bytes written to the open file (uncompressed), plus its size when opened.
    size: u64,
    rev: u32,
}

fn make_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => {
            DirBuilder::new().recursive(true).mode(0o770).create(dir)
        }
        _ => Ok(()),
    }
}

/// Makes a new or renamed entry in `path`'s directory durable.
fn sync_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => File::open(dir)?.sync_all(),
        _ => Ok(()),
    }
}

/// Moves `src` to `dst` unless `dst` exists (`AlreadyExists`), never overwriting.
fn exclusive_rename(src: &Path, dst: &Path) -> io::Result<()> {
    fs::hard_link(src, dst)?;
    fs::remove_file(src)?;
    sync_parent(dst)
}

fn context(e: io::Error, what: &str, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{what} {}: {e}", path.display()))
}

impl FileLogger {
    /// The logger for `topic`; no file is opened until the first rotation.
    pub fn new(opts: Arc<Options>, topic: &str) -> Result<FileLogger, String> {
        Ok(FileLogger {
            label: format!("[{topic}/{}]", opts.channel),
            template: filename::template(&opts, topic)?,
            opts,
            out: None,
            path: PathBuf::new(),
            relative: String::new(),
            filename: String::new(),
            opened: Instant::now(),
            size: 0,
            rev: 0,
        })
    }

    /// `[topic/channel]`, for log lines.
    pub fn label(&self) -> &str {
        &self.label
    }

    fn uses_work_dir(&self) -> bool {
        self.opts.work_dir != self.opts.output_dir
    }

    /// Whether the next message must go to a new file (also true with none open).
    pub fn needs_rotation(&self, now: SystemTime) -> bool {
        if self.out.is_none() {
            return true;
        }
        let name = filename::at(&self.template, &self.opts.datetime_format, now);
        if name != self.filename {
            log::debug!("{} new filename {name}, rotating...", self.label);
            return true;
        }
        let interval = self.opts.rotate_interval;
        if !interval.is_zero() && self.opened.elapsed() > interval {
            log::debug!("{} {interval:?} since last open, rotating...", self.label);
            return true;
        }
        let limit = self.opts.rotate_size;
        if limit > 0 && self.size > limit {
            log::debug!(
                "{} {} currently {} bytes (> {limit}), rotating...",
                self.label,
                self.path.display(),
                self.size
            );
            return true;
        }
        false
    }

    /// The next revision, for a name that is taken; an error if the name has no
    /// `<REV>` to bump (options make sure it has one whenever that can happen).
    fn bump(rev: u32, name: &str, path: &Path) -> io::Result<u32> {
        if !name.contains(REV) {
            return Err(io::Error::new(
                ErrorKind::AlreadyExists,
                format!(
                    "{} exists and --filename-format has no <REV>",
                    path.display()
                ),
            ));
        }
        rev.checked_add(1)
            .ok_or_else(|| io::Error::other("out of revisions"))
    }

    /// Closes the open file (if any) and opens the next one.
    pub fn update_file(&mut self, now: SystemTime) -> io::Result<()> {
        self.close()?;
        let name = filename::at(&self.template, &self.opts.datetime_format, now);
        // A format starting with `/` still names a file inside the work dir, as in Go.
        let name = name.trim_start_matches('/').to_string();
        self.rev = if name == self.filename {
            self.rev.saturating_add(1)
        } else {
            0
        };
        self.filename = name;
        self.opened = Instant::now();
        let exclusive = self.opts.gzip_level.is_some() || !self.opts.rotate_interval.is_zero();
        loop {
            let relative = filename::with_rev(&self.filename, self.rev);
            let path = self.opts.work_dir.join(&relative);
            make_parent(&path).map_err(|e| context(e, "unable to create dir for", &path))?;
            if self.uses_work_dir() {
                let done = self.opts.output_dir.join(&relative);
                make_parent(&done).map_err(|e| context(e, "unable to create dir for", &done))?;
                match fs::symlink_metadata(&done) {
                    Ok(_) => {
                        log::warn!(
                            "{} output file already exists: {}",
                            self.label,
                            done.display()
                        );
                        self.rev = Self::bump(self.rev, &self.filename, &done)?;
                        continue;
                    }
                    Err(e) if e.kind() == ErrorKind::NotFound => {}
                    Err(e) => return Err(context(e, "unable to stat output file", &done)),
                }
            }
            let mut options = OpenOptions::new();
            if exclusive {
                options.write(true).create_new(true);
            } else {
                options.append(true).create(true);
            }
            let file = match options.open(&path) {
                Ok(file) => file,
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    log::warn!(
                        "{} working file already exists: {}",
                        self.label,
                        path.display()
                    );
                    self.rev = Self::bump(self.rev, &self.filename, &path)?;
                    continue;
                }
                Err(e) => return Err(context(e, "unable to open", &path)),
            };
            log::info!("{} opening {}", self.label, path.display());
            let size = file
                .metadata()
                .map_err(|e| context(e, "unable to stat file", &path))?
                .len();
            let limit = self.opts.rotate_size;
            if limit > 0 && size > limit {
                log::debug!(
                    "{} {} currently {size} bytes (> {limit}), rotating...",
                    self.label,
                    path.display()
                );
                self.rev = Self::bump(self.rev, &self.filename, &path)?;
                continue;
            }
            sync_parent(&path).map_err(|e| context(e, "unable to sync dir of", &path))?;
            self.out = Some(Output::new(file, self.opts.gzip_level));
            self.path = path;
            self.relative = relative;
            self.size = size;
            return Ok(());
        }
    }

    /// Appends `body` and a newline to the open file (the router opens one first).
    pub fn write_message(&mut self, body: &[u8]) -> io::Result<()> {
        let Some(out) = self.out.as_mut() else {
            return Err(io::Error::other("no output file open"));
        };
        out.write_all(body)?;
        out.write_all(b"\n")?;
        self.size += body.len() as u64 + 1;
        Ok(())
    }

    /// Makes everything written durable (nothing to do with no file open).
    pub fn sync(&mut self) -> io::Result<()> {
        match self.out.as_mut() {
            Some(out) => out
                .sync()
                .map_err(|e| context(e, "failed syncing", &self.path)),
            None => Ok(()),
        }
    }

    /// Syncs and closes the open file, then moves it to the output dir if it was
    /// written in a separate work dir.
    pub fn close(&mut self) -> io::Result<()> {
        let Some(out) = self.out.take() else {
            return Ok(());
        };
        out.close()
            .map_err(|e| context(e, "failed to close", &self.path))?;
        if !self.uses_work_dir() {
            return Ok(());
        }
        let src = self.path.clone();
        let mut dst = self.opts.output_dir.join(&self.relative);
        log::info!(
            "{} moving finished file {} to {}",
            self.label,
            src.display(),
            dst.display()
        );
        let mut rev = self.rev;
        loop {
            match exclusive_rename(&src, &dst) {
                Ok(()) => break,
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    log::warn!(
                        "{} destination file already exists: {}",
                        self.label,
                        dst.display()
                    );
                    rev = Self::bump(rev, &self.filename, &dst)?;
                    dst = self
                        .opts
                        .output_dir
                        .join(filename::with_rev(&self.filename, rev));
                    make_parent(&dst).map_err(|e| context(e, "unable to create dir for", &dst))?;
                }
                Err(e) => {
                    let what = format!("unable to move file from {} to", src.display());
                    return Err(context(e, &what, &dst));
                }
            }
        }
        if rev != self.rev {
            log::info!(
                "{} renamed finished file {} to {} to avoid overwrite",
                self.label,
                src.display(),
                dst.display()
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;

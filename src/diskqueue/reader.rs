//! The read side: the open read file, parsing `[i32 BE length][payload]` records
//! within a file's known end, leaving finished files, skipping missing ones, and
//! renaming corrupt ones `.bad` (the rest of such a file is lost, nothing panics).

use std::fs::{self, File};
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use super::DiskQueue;

/// The file being read, positioned at `read_pos`.
#[derive(Debug)]
pub(super) struct Reader {
    pub(super) num: u64,
    file: BufReader<File>,
    /// The file's size once it is complete (older than the write file).
    pub(super) end: Option<u64>,
}

/// Why a read attempt failed.
pub(super) enum ReadError {
    /// Opening the file failed: nothing is known about its contents.
    Open(io::Error),
    /// The contents are bad from the read position on.
    Corrupt(io::Error),
}

/// What one read attempt found.
pub(super) enum Step {
    Record(Vec<u8>),
    /// The read position is at the end of a complete file.
    EndOfFile,
}

impl DiskQueue {
    /// Reads the record at `read_pos`, opening the read file if needed.
    pub(super) fn read_one(&mut self) -> Result<Step, ReadError> {
        let complete = self.read_num < self.write_num;
        if self.reader.as_ref().is_none_or(|r| r.num != self.read_num) {
            self.reader = None;
            let path = self.data_path(self.read_num);
            let mut file = File::open(&path).map_err(ReadError::Open)?;
            let end = if complete {
                Some(file.metadata().map_err(ReadError::Open)?.len())
            } else {
                None
            };
            if self.read_pos > 0 {
                file.seek(SeekFrom::Start(self.read_pos))
                    .map_err(ReadError::Open)?;
            }
            log::info!(
                "DISKQUEUE({}): readOne() opened {}",
                self.name,
                path.display()
            );
            self.reader = Some(Reader {
                num: self.read_num,
                file: BufReader::new(file),
                end,
            });
        }
        let Some(reader) = self.reader.as_mut() else {
            return Err(ReadError::Open(io::Error::other("no read file")));
        };
        if complete && reader.end.is_none() {
            reader.end = Some(
                reader
                    .file
                    .get_ref()
                    .metadata()
                    .map_err(ReadError::Open)?
                    .len(),
            );
        }
        let limit = if complete {
            reader.end.unwrap_or(0)
        } else {
            self.write_pos
        };
        if complete && self.read_pos >= limit {
            return Ok(Step::EndOfFile);
        }
        let corrupt = |kind, msg: String| ReadError::Corrupt(io::Error::new(kind, msg));
        if self.read_pos + 4 > limit {
            return Err(corrupt(
                io::ErrorKind::UnexpectedEof,
                "truncated record length".into(),
            ));
        }
        let mut len = [0u8; 4];
        reader
            .file
            .read_exact(&mut len)
            .map_err(ReadError::Corrupt)?;
        let len = i32::from_be_bytes(len);
        let (min, max) = (self.config.min_msg_size, self.config.max_msg_size);
        let Some(len) = u32::try_from(len).ok().filter(|l| (min..=max).contains(l)) else {
            return Err(corrupt(
                io::ErrorKind::InvalidData,
                format!("invalid message read size ({len})"),
            ));
        };
        if self.read_pos + 4 + u64::from(len) > limit {
            return Err(corrupt(
                io::ErrorKind::UnexpectedEof,
                format!("record of {len} bytes runs past the end of the file"),
            ));
        }
        let mut data = vec![0u8; len as usize];
        reader
            .file
            .read_exact(&mut data)
            .map_err(ReadError::Corrupt)?;
        Ok(Step::Record(data))
    }

    /// Leaves a fully read file older than the write file, deleting it.
    pub(super) fn advance_file(&mut self) {
        self.reader = None;
        let path = self.data_path(self.read_num);
        if let Err(e) = fs::remove_file(&path) {
            if e.kind() != io::ErrorKind::NotFound {
                log::error!(
                    "DISKQUEUE({}) failed to Remove({}) - {e}",
                    self.name,
                    path.display()
                );
            }
        }
        self.read_num += 1;
        self.read_pos = 0;
        self.structural = true;
    }

    /// The read file is gone: go on with the next file that exists, however far the
    /// meta points.
    pub(super) fn skip_missing(&mut self) {
        let path = self.data_path(self.read_num);
        self.leave_read_file();
        let next = match self.data_files() {
            Ok(files) => files
                .into_iter()
                .map(|(n, _)| n)
                .filter(|n| *n > self.read_num)
                .min()
                .map_or(self.write_num, |n| n.min(self.write_num)),
            Err(_) => self.read_num + 1,
        };
        log::error!(
            "DISKQUEUE({}) {} is missing, skipping to file {}",
            self.name,
            path.display(),
            next
        );
        self.read_num = next;
        self.read_pos = 0;
        self.check_tail();
    }

    /// The read file is corrupt: save it as `.bad` and go on with the next one; the rest
    /// of it is lost.
    pub(super) fn save_bad(&mut self, err: io::Error) {
        let path = self.data_path(self.read_num);
        let mut bad = path.clone().into_os_string();
        bad.push(".bad");
        log::error!(
            "DISKQUEUE({}) reading at {} of {} - {err}; jump to next file and saving bad file as {}",
            self.name,
            self.read_pos,
            path.display(),
            Path::new(&bad).display()
        );
        self.leave_read_file();
        if let Err(e) = fs::rename(&path, &bad) {
            log::error!(
                "DISKQUEUE({}) failed to rename bad diskqueue file {} - {e}",
                self.name,
                path.display()
            );
        }
        self.read_num += 1;
        self.read_pos = 0;
        self.check_tail();
    }

    /// Closes the read file after a failure; if it is the write file, writing moves to a
    /// new file too.
    pub(super) fn leave_read_file(&mut self) {
        self.reader = None;
        if self.read_num == self.write_num {
            self.pending.clear();
            self.writer = None;
            self.write_num += 1;
            self.write_pos = 0;
            self.flushed_pos = 0;
        }
        self.structural = true;
    }

    /// At the tail a non-zero depth is wrong (records lost or meta stale): reset it.
    pub(super) fn check_tail(&mut self) {
        if self.read_num == self.write_num && self.read_pos == self.write_pos && self.depth != 0 {
            log::error!(
                "DISKQUEUE({}) positive depth at tail ({}), data loss, resetting 0...",
                self.name,
                self.depth
            );
            self.depth = 0;
            self.structural = true;
        }
    }
}

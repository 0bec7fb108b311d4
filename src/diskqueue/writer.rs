//! The write side: records buffered in memory, flushed to the write file at the
//! flushed position, and the rollover to the next file number (whose fsync is then
//! owed to the next [`SyncJob`](super::SyncJob)).
//!
//! Never fsyncs: that is the [`SyncJob`](super::SyncJob)'s work, run off the lock.

use std::io::{self, Seek, SeekFrom, Write};

use super::names::create_options;
use super::DiskQueue;

impl DiskQueue {
    /// Moves writing to the next file number; the old file's fsync is owed.
    pub(super) fn roll(&mut self) -> io::Result<()> {
        self.flush()?;
        if let Some(file) = self.writer.take() {
            self.owed.push(file);
        }
        let (old_num, old_pos) = (self.write_num, self.write_pos);
        if let Some(reader) = &mut self.reader {
            if reader.num == old_num {
                reader.end = Some(old_pos);
            }
        }
        self.write_num += 1;
        self.write_pos = 0;
        self.flushed_pos = 0;
        self.structural = true;
        log::info!(
            "DISKQUEUE({}) rolled to {}",
            self.name,
            self.data_path(self.write_num).display()
        );
        // Go's reader stumbles here (EOF on the finished file, renamed .bad); a file read
        // to its end is simply done.
        if self.read_num == old_num && self.read_pos >= old_pos {
            self.advance_file();
        }
        Ok(())
    }

    /// Writes the pending records to the write file. On failure they stay pending and the
    /// next flush rewrites them at the same offset.
    pub(super) fn flush(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let file = match &mut self.writer {
            Some(file) => file,
            None => {
                let path = self.data_path(self.write_num);
                let file = create_options().write(true).create(true).open(&path)?;
                // The write file never holds bytes past our position (see `restore`).
                if file.metadata()?.len() > self.flushed_pos {
                    file.set_len(self.flushed_pos)?;
                }
                self.opened = true;
                log::info!(
                    "DISKQUEUE({}): writeOne() opened {}",
                    self.name,
                    path.display()
                );
                self.writer.insert(file)
            }
        };
        file.seek(SeekFrom::Start(self.flushed_pos))?;
        file.write_all(&self.pending)?;
        self.written = true;
        self.flushed_pos += self.pending.len() as u64;
        self.pending.clear();
        Ok(())
    }
}

impl Drop for DiskQueue {
    /// Writes what is buffered (no fsync, no meta), as Go's unbuffered writes would have.
    fn drop(&mut self) {
        if let Err(e) = self.flush() {
            log::error!(
                "DISKQUEUE({}) failed to write buffered records - {e}",
                self.name
            );
        }
    }
}

//! Dropping files: `empty` (every record), `delete` (every file of the queue), and the
//! restart at a fresh file number after the read position ran ahead of the write one.
//!
//! Only ever removes this queue's files, and only those `read..=write`, except in
//! `delete`.

use std::fs;
use std::io;
use std::path::Path;

use super::names::data_file_num;
use super::DiskQueue;

impl DiskQueue {
    /// Removes the data files `read..=write` and restarts both ends at a new file.
    pub(super) fn skip_to_next_rw_file(&mut self) {
        self.reader = None;
        self.writer = None;
        self.pending.clear();
        self.owed.clear();
        match self.data_files() {
            Ok(files) => {
                for (n, path) in files {
                    if (self.read_num..=self.write_num).contains(&n) {
                        remove_logged(&self.name, &path);
                    }
                }
            }
            Err(e) => log::error!("DISKQUEUE({}) failed to list data files - {e}", self.name),
        }
        self.write_num = self.write_num.max(self.read_num) + 1;
        self.write_pos = 0;
        self.flushed_pos = 0;
        self.read_num = self.write_num;
        self.read_pos = 0;
        self.depth = 0;
        self.structural = true;
    }

    /// Drops every record: removes the data files `read..=write` and the meta file, and
    /// continues at the next file number with depth 0. A [`SyncJob`](super::SyncJob)
    /// handed out before will not write the meta back.
    pub fn empty(&mut self) -> io::Result<()> {
        self.invalidate_jobs(false);
        self.skip_to_next_rw_file();
        self.ops = 0;
        match fs::remove_file(self.meta_path()) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                log::error!(
                    "DISKQUEUE({}) failed to remove metadata file - {e}",
                    self.name
                );
                Err(e)
            }
            _ => {
                self.gate_mut().meta_missing = true;
                Ok(())
            }
        }
    }

    /// Removes every file of this queue (data, `.bad`, meta, leftover temp files).
    pub fn delete(mut self) -> io::Result<()> {
        self.invalidate_jobs(true);
        self.pending.clear();
        self.reader = None;
        self.writer = None;
        self.owed.clear();
        let prefix = format!("{}.diskqueue.", self.name);
        let mut result = Ok(());
        for entry in fs::read_dir(&self.dir)? {
            let entry = entry?;
            let file_name = entry.file_name();
            let Some(rest) = file_name.to_str().and_then(|f| f.strip_prefix(&prefix)) else {
                continue;
            };
            let ours = data_file_num(rest).is_some()
                || rest.strip_suffix(".bad").and_then(data_file_num).is_some()
                || rest == "meta.dat"
                || (rest.starts_with("meta.dat.") && rest.ends_with(".tmp"));
            if ours {
                if let Err(e) = fs::remove_file(entry.path()) {
                    log::error!(
                        "DISKQUEUE({}) failed to remove {} - {e}",
                        self.name,
                        entry.path().display()
                    );
                    result = Err(e);
                }
            }
        }
        result
    }
}

fn remove_logged(name: &str, path: &Path) {
    if let Err(e) = fs::remove_file(path) {
        if e.kind() != io::ErrorKind::NotFound {
            log::error!(
                "DISKQUEUE({name}) failed to remove data file {} - {e}",
                path.display()
            );
        }
    }
}

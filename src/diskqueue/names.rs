//! File naming: the meta and data file paths of a queue, listing its data files in the
//! directory, and the mode (0600) files are created with. Nothing is written here.

use std::fs::{self, OpenOptions};
use std::io;
use std::path::PathBuf;

use super::DiskQueue;

impl DiskQueue {
    pub(super) fn meta_path(&self) -> PathBuf {
        self.dir.join(format!("{}.diskqueue.meta.dat", self.name))
    }

    pub(super) fn data_path(&self, num: u64) -> PathBuf {
        self.dir
            .join(format!("{}.diskqueue.{:06}.dat", self.name, num))
    }

    /// This queue's data files in `dir` (not `.bad` ones), unordered.
    pub(super) fn data_files(&self) -> io::Result<Vec<(u64, PathBuf)>> {
        let prefix = format!("{}.diskqueue.", self.name);
        let mut files = Vec::new();
        for entry in fs::read_dir(&self.dir)? {
            let entry = entry?;
            let file_name = entry.file_name();
            let num = file_name
                .to_str()
                .and_then(|f| f.strip_prefix(&prefix))
                .and_then(data_file_num);
            if let Some(num) = num {
                files.push((num, entry.path()));
            }
        }
        Ok(files)
    }
}

/// Options creating files with mode 0600, as Go does.
pub(super) fn create_options() -> OpenOptions {
    #[allow(unused_mut)]
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// The number in `NNNNNN.dat` (what follows `<name>.diskqueue.`).
pub(super) fn data_file_num(rest: &str) -> Option<u64> {
    let digits = rest.strip_suffix(".dat")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

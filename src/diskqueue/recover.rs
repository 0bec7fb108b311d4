//! Starting from what is on disk: checking a meta file's positions against the data
//! files (skipping past a write file that a crash left longer), and recovering without
//! usable metadata by reading every data file again from the start.
//!
//! Prefers redelivery to loss; never overwrites a record.

use std::fs::{self, File};
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use super::meta::Meta;
use super::DiskQueue;

impl DiskQueue {
    /// Takes over the positions of a meta file, checking them against the files.
    pub(super) fn restore(&mut self, meta: Meta) -> io::Result<()> {
        self.depth = meta.depth;
        self.read_num = meta.read_num;
        self.read_pos = meta.read_pos;
        self.write_num = meta.write_num;
        self.write_pos = meta.write_pos;
        if self.read_num > self.write_num
            || (self.read_num == self.write_num && self.read_pos > self.write_pos)
        {
            let why = format!(
                "read position {},{} ahead of write position {},{}",
                self.read_num, self.read_pos, self.write_num, self.write_pos
            );
            return self.recover(&why);
        }
        // Writes after the last sync (a crash) left the write file longer than write_pos:
        // write in a fresh file and let the reader salvage the old one to its end. Skip
        // every file such a crash may have left, so no record is ever overwritten.
        loop {
            let path = self.data_path(self.write_num);
            let size = match fs::metadata(&path) {
                Ok(m) => m.len(),
                Err(e) if e.kind() == io::ErrorKind::NotFound => 0,
                Err(e) => return Err(e),
            };
            if size == self.write_pos {
                break;
            }
            // The reader takes what lies past the meta's position to the file's end:
            // count it (a group commit fsyncs records without rewriting the meta).
            if size > self.write_pos {
                let (min, max) = (self.config.min_msg_size, self.config.max_msg_size);
                self.depth += count_records(&path, self.write_pos, min, max);
            }
            log::warn!(
                "DISKQUEUE({}) {} metadata writePos {} != file size of {}, skipping to new file",
                self.name,
                path.display(),
                self.write_pos,
                size
            );
            self.write_num += 1;
            self.write_pos = 0;
            self.structural = true;
        }
        self.flushed_pos = self.write_pos;
        Ok(())
    }

    /// Without usable metadata (`why`): every data file in the directory is read again
    /// from the lowest-numbered one at offset 0 — redelivery rather than loss — and
    /// writing goes on in a new file past the highest. The depth is counted from the
    /// records found. With no data file the queue simply starts empty.
    pub(super) fn recover(&mut self, why: &str) -> io::Result<()> {
        let files = match self.data_files() {
            Ok(files) => files,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        let (Some(first), Some(last)) = (
            files.iter().map(|(n, _)| *n).min(),
            files.iter().map(|(n, _)| *n).max(),
        ) else {
            if why != "no metadata file" {
                log::error!(
                    "DISKQUEUE({}) {why}; no data files, starting empty",
                    self.name
                );
            }
            self.depth = 0;
            (self.read_num, self.read_pos) = (0, 0);
            (self.write_num, self.write_pos) = (0, 0);
            return Ok(());
        };
        let (min, max) = (self.config.min_msg_size, self.config.max_msg_size);
        let depth = files
            .iter()
            .map(|(_, path)| count_records(path, 0, min, max))
            .sum();
        log::error!(
            "DISKQUEUE({}) {why}; recovering {} data file(s) {first}..={last} from the start ({depth} records), writing from file {}",
            self.name,
            files.len(),
            last + 1
        );
        self.depth = depth;
        (self.read_num, self.read_pos) = (first, 0);
        (self.write_num, self.write_pos) = (last + 1, 0);
        self.flushed_pos = 0;
        self.structural = true;
        Ok(())
    }
}

/// How many whole, well-sized records `path` holds from offset `from` (0 when
/// unreadable); counting stops at the first bad length or truncated record.
fn count_records(path: &Path, from: u64, min: u32, max: u32) -> u64 {
    let Ok(mut file) = File::open(path) else {
        return 0;
    };
    let Ok(size) = file.metadata().map(|m| m.len()) else {
        return 0;
    };
    if file.seek(SeekFrom::Start(from)).is_err() {
        return 0;
    }
    let mut file = BufReader::new(file);
    let (mut pos, mut count) = (from, 0u64);
    let mut len = [0u8; 4];
    while pos + 4 <= size && file.read_exact(&mut len).is_ok() {
        let len = i32::from_be_bytes(len);
        let Some(len) = u32::try_from(len).ok().filter(|l| (min..=max).contains(l)) else {
            break;
        };
        pos += 4 + u64::from(len);
        if pos > size || file.seek_relative(i64::from(len)).is_err() {
            break;
        }
        count += 1;
    }
    count
}

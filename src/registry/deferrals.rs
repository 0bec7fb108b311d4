//! Deferral times that survive a restart — beyond Go nsqd, which delivers a deferred
//! message at once after a restart (nsq issue #1107).
//!
//! At a clean stop, deferred messages are appended to their channel's disk queue as Go
//! nsqd does (so a Go nsqd taking the directory over still has them), and their due
//! times are written beside it in `<topic>:<channel>.nsq-rs.deferred.json` as
//! `{"<message id>": <due, Unix ms>}`. Go nsqd ignores the file; nsq-rs reads it back
//! so a message read before its due time waits until then.

use super::metadata::write_atomically;
use crate::proto::MessageId;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn file_name(queue: &str) -> String {
    format!("{queue}.nsq-rs.deferred.json")
}

fn path(dir: &Path, queue: &str) -> PathBuf {
    dir.join(file_name(queue))
}

/// The due times saved for `queue`; empty when there is no file or it is unreadable
/// (logged: the messages are then delivered at once, as Go nsqd would).
pub fn load(dir: &Path, queue: &str) -> HashMap<MessageId, i64> {
    let Ok(bytes) = std::fs::read(path(dir, queue)) else {
        return HashMap::new();
    };
    let parsed: HashMap<String, i64> = match serde_json::from_slice(&bytes) {
        Ok(map) => map,
        Err(e) => {
            log::error!("{}: {e}; deferred messages will not wait", file_name(queue));
            return HashMap::new();
        }
    };
    parsed
        .into_iter()
        .filter_map(|(id, due)| Some((id.as_bytes().try_into().ok()?, due)))
        .collect()
}

/// Saves `due` for `queue` (removes the file when there is nothing to save).
pub fn save(dir: &Path, queue: &str, due: &HashMap<MessageId, i64>) -> std::io::Result<()> {
    if due.is_empty() {
        // Look before removing: an unlink locks the directory even when there is
        // nothing to remove, which thousands of queues stopping at once would feel.
        let path = path(dir, queue);
        if !path.try_exists()? {
            return Ok(());
        }
        return match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
    }
    let map: HashMap<String, i64> = due
        .iter()
        .map(|(id, at)| (String::from_utf8_lossy(id).into_owned(), *at))
        .collect();
    let body = serde_json::to_vec(&map).map_err(std::io::Error::other)?;
    write_atomically(dir, &file_name(queue), &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_removal() {
        let dir = std::env::temp_dir().join(format!("nsq-rs-deferrals-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut due = HashMap::new();
        due.insert(*b"0123456789abcdef", 42);
        save(&dir, "t:c", &due).unwrap();
        assert_eq!(load(&dir, "t:c"), due);
        save(&dir, "t:c", &HashMap::new()).unwrap();
        assert!(load(&dir, "t:c").is_empty());
        std::fs::write(path(&dir, "t:c"), "garbage").unwrap();
        assert!(load(&dir, "t:c").is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

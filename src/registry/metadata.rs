//! `nsqd.dat`: the topics, channels and pause flags nsqd remembers across restarts, in
//! Go nsqd's exact JSON, written crash-safely (temp file, fsync, rename, fsync the
//! directory) so a crash leaves either the old file or the new one, never half of one.

use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The file name inside the data path.
pub const FILE: &str = "nsqd.dat";

/// A channel's saved state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelMeta {
    /// Channel name.
    pub name: String,
    /// Paused flag.
    pub paused: bool,
}

/// A topic's saved state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicMeta {
    /// Topic name.
    pub name: String,
    /// Paused flag.
    pub paused: bool,
    /// Its channels (`null` when none, as Go writes it).
    pub channels: Option<Vec<ChannelMeta>>,
}

/// The whole file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// Topics (`null` when none).
    pub topics: Option<Vec<TopicMeta>>,
    /// The writer's version.
    pub version: String,
}

/// Reads `nsqd.dat`: `Ok(None)` when there is none; an error when it is not valid
/// (nsqd refuses to start rather than forget topics).
pub fn load(dir: &Path) -> io::Result<Option<Metadata>> {
    let path = dir.join(FILE);
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    serde_json::from_slice(&bytes).map(Some).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {e}", path.display()),
        )
    })
}

/// Writes `nsqd.dat` crash-safely.
pub fn save(dir: &Path, meta: &Metadata) -> io::Result<()> {
    let body = serde_json::to_vec(meta).map_err(io::Error::other)?;
    write_atomically(dir, FILE, &body)
}

/// Writes `dir/name` by way of a temp file, fsync, rename and a directory fsync.
pub fn write_atomically(dir: &Path, name: &str, body: &[u8]) -> io::Result<()> {
    let tmp: PathBuf = dir.join(format!(
        "{name}.{}.tmp",
        super::message::unix_nanos() as u64 ^ u64::from(std::process::id())
    ));
    {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        f.write_all(body)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, dir.join(name))?;
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_go_nsqd_file_and_writes_the_same_shape() {
        let go = r#"{"topics":[{"name":"t","paused":false,"channels":[{"name":"c","paused":true}]},{"name":"e","paused":true,"channels":null}],"version":"1.3.0"}"#;
        let dir = std::env::temp_dir().join(format!("nsq-rs-meta-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(FILE), go).unwrap();
        let meta = load(&dir).unwrap().unwrap();
        assert_eq!(meta.topics.as_ref().unwrap()[1].channels, None);
        save(&dir, &meta).unwrap();
        assert_eq!(fs::read_to_string(dir.join(FILE)).unwrap(), go);
        fs::write(dir.join(FILE), "{not json").unwrap();
        assert!(load(&dir).is_err());
        fs::remove_file(dir.join(FILE)).unwrap();
        assert_eq!(load(&dir).unwrap(), None);
        fs::remove_dir_all(&dir).unwrap();
    }
}

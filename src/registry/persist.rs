//! What outlives the process: the `nsqd.dat` metadata (taken when changed, loaded at
//! start), the disk queues' sync jobs, the clean stop that hands every topic out to be
//! written, and the disk health `/ping` reports.
//!
//! Only hands out work: the jobs and topic stops run after the lock is released.

use super::{deferrals, metadata, Registry, TopicStop};
use crate::diskqueue::SyncJob;
use std::time::Instant;

impl Registry {
    /// The metadata file's content when topics, channels or pause flags changed since
    /// the last call (ephemeral ones are not saved).
    pub fn take_metadata(&mut self) -> Option<metadata::Metadata> {
        if !std::mem::take(&mut self.metadata_dirty) {
            return None;
        }
        Some(self.metadata())
    }

    /// The metadata file's content now.
    pub fn metadata(&self) -> metadata::Metadata {
        let topics: Vec<metadata::TopicMeta> = self
            .topics
            .values()
            .filter(|t| !t.ephemeral)
            .map(|t| {
                let channels: Vec<metadata::ChannelMeta> = t
                    .channels
                    .values()
                    .filter(|c| !c.ephemeral)
                    .map(|c| metadata::ChannelMeta {
                        name: c.name.clone(),
                        paused: c.paused,
                    })
                    .collect();
                metadata::TopicMeta {
                    name: t.name.clone(),
                    paused: t.paused,
                    channels: (!channels.is_empty()).then_some(channels),
                }
            })
            .collect();
        metadata::Metadata {
            topics: (!topics.is_empty()).then_some(topics),
            version: crate::NSQ_VERSION.to_string(),
        }
    }

    /// Recreates the topics and channels of a metadata file (their disk queues are
    /// opened as they are), with their pause flags. Invalid names are skipped.
    pub fn load(&mut self, meta: &metadata::Metadata, now: Instant) {
        for t in meta.topics.iter().flatten() {
            if !crate::proto::is_valid_name(t.name.as_bytes()) {
                log::warn!("skipping topic with invalid name {:?}", t.name);
                continue;
            }
            // Hold the topic's messages until every channel exists, then hand them over.
            self.topic(&t.name).paused = true;
            for c in t.channels.iter().flatten() {
                if !crate::proto::is_valid_name(c.name.as_bytes()) {
                    log::warn!("skipping channel with invalid name {:?}", c.name);
                    continue;
                }
                let ch = self.channel(&t.name, &c.name, now);
                ch.paused = c.paused;
                if let Some(dir) = &self.config.data_path {
                    let due = deferrals::load(dir, &format!("{}:{}", t.name, c.name));
                    if let Some(ch) = self
                        .topics
                        .get_mut(&t.name)
                        .and_then(|t| t.channels.get_mut(&c.name))
                    {
                        ch.restore_deferrals(due);
                    }
                }
            }
            if let Some(topic) = self.topics.get_mut(&t.name) {
                topic.paused = t.paused;
                topic.drain(now);
            }
        }
        self.metadata_dirty = false;
    }

    /// Disk-queue writes since the start: a publish that changed it went to disk, so
    /// with `--sync-every=1` its OK waits for an fsync.
    pub fn disk_writes(&self) -> u64 {
        self.disk_status.writes_total()
    }

    /// The disk work owed: queues that reached `--sync-every` (or, with `force`, any
    /// with unsynced writes). Run the jobs after releasing the lock.
    /// A queue whose buffered records could not be written gives its error instead.
    pub fn sync_jobs(&mut self, force: bool) -> Vec<std::io::Result<SyncJob>> {
        let written = self.disk_status.take_writes();
        let mut jobs = Vec::new();
        // Without a disk write since the last look no queue reached --sync-every;
        // the periodic forced sync covers what reads leave owed.
        if written == 0 && !force {
            return jobs;
        }
        for topic in self.topics.values_mut() {
            jobs.extend(topic.backlog().sync_job(force));
            for channel in topic.channels.values_mut() {
                jobs.extend(channel.backlog().sync_job(force));
            }
        }
        jobs
    }

    /// Clean stop: every topic, taken out of the registry as a [`TopicStop`] that
    /// writes it to disk on any thread (so many topics can be written side by side).
    pub fn stop_work(&mut self, now: Instant) -> Vec<TopicStop> {
        let data_path = self.config.data_path.clone();
        std::mem::take(&mut self.topics)
            .into_iter()
            .map(|(name, topic)| TopicStop {
                name,
                topic,
                data_path: data_path.clone(),
                now,
            })
            .collect()
    }

    /// The error of the most recent disk write or fsync, while it is the latest word
    /// (`/ping` answers `NOK - <error>`).
    pub fn disk_error(&self) -> Option<String> {
        self.disk_status.error()
    }

    /// Records how an fsync of the queues went (done off the lock by the persister).
    pub fn record_sync(&self, result: &std::io::Result<()>) {
        self.disk_status.record("sync", result);
    }
}

//! The `--notification-http-endpoint` webhook: after an admin action, one JSON body
//! in Go's shape (NSQADMIN.md §11) is queued and POSTed by one background thread,
//! one at a time. A queue of at most [`MAX_QUEUED`] bodies bounds memory; an
//! endpoint that is down is logged and skipped — Go's nsqadmin 1.3 crashes there.

use super::upstream::url;
use crate::http::client::{self, Timeouts};
use serde::Serialize;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::thread::JoinHandle;

/// Notifications waiting beyond this are dropped (logged).
pub const MAX_QUEUED: usize = 1024;

/// One action, as the webhook receives it.
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct Notification {
    pub action: String,
    pub topic: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub channel: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub node: String,
    pub timestamp: u64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub user: String,
    pub remote_ip: String,
    pub user_agent: String,
    pub url: String,
    pub via: String,
}

/// The sending side; dropping it ends the thread.
pub struct Notifier {
    queue: SyncSender<Notification>,
}

impl Notifier {
    /// Starts the sender thread for `endpoint`.
    pub fn start(
        endpoint: String,
        timeouts: Timeouts,
    ) -> std::io::Result<(Notifier, JoinHandle<()>)> {
        let (queue, rx) = sync_channel(MAX_QUEUED);
        let thread = std::thread::Builder::new()
            .name("nsqadmin-notify".into())
            .spawn(move || send_all(&endpoint, timeouts, rx))?;
        Ok((Notifier { queue }, thread))
    }

    /// Queues `n` (dropped, and logged, when the queue is full).
    pub fn send(&self, n: Notification) {
        if let Err(TrySendError::Full(n)) = self.queue.try_send(n) {
            log::error!("notification queue full: dropped {} {}", n.action, n.topic);
        }
    }
}

fn send_all(endpoint: &str, timeouts: Timeouts, rx: Receiver<Notification>) {
    let target = url(endpoint, "");
    for n in rx {
        log::info!("POSTing notification to {target}");
        let body = crate::common::json::to_string(&n);
        let headers = [("Content-Type", "application/json")];
        let sent = client::parse_url(&target, "/")
            .map_err(|e| e.to_string())
            .and_then(|t| {
                client::request_to("POST", &t, &headers, body.as_bytes(), timeouts, None)
                    .map_err(|e| crate::common::net::reason(&e))
            });
        match sent {
            Ok(r) if (200..300).contains(&r.status) => {}
            Ok(r) => log::error!("notification to {target} answered {}", r.status),
            Err(e) => log::error!("failed to POST notification - {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_fields_are_left_out_as_go_does() {
        let n = Notification {
            action: "create_topic".into(),
            topic: "t".into(),
            timestamp: 5,
            remote_ip: "127.0.0.1:1".into(),
            ..Notification::default()
        };
        let json = crate::common::json::to_string(&n);
        assert_eq!(
            json,
            r#"{"action":"create_topic","topic":"t","timestamp":5,"remote_ip":"127.0.0.1:1","user_agent":"","url":"","via":""}"#
        );
    }
}

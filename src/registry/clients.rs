//! Connected clients: what each told us ([`ClientInfo`]), connecting, subscribing (with
//! `--max-channel-consumers`), disconnecting (an ephemeral channel or topic left empty
//! goes), per-topic publish counts, and the clients kicked by a deletion.

use super::channel::Consumer;
use super::{tell, Change, ClientId, Registry};
use crate::proto::ClientState;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// What a connected client said about itself, for `/stats` and for SUB.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    /// The peer address.
    pub remote: SocketAddr,
    /// IDENTIFY `client_id` (the remote IP until IDENTIFY).
    pub client_id: String,
    /// IDENTIFY `hostname` (the remote IP until IDENTIFY).
    pub hostname: String,
    /// IDENTIFY `user_agent`.
    pub user_agent: String,
    /// Protocol state.
    pub state: ClientState,
    /// The in-flight timeout it negotiated.
    pub msg_timeout: Duration,
    /// Its sample rate (0 = off).
    pub sample_rate: u8,
    /// The heartbeat interval it negotiated (`None` = disabled).
    pub heartbeat_interval: Option<Duration>,
    /// Its output buffer size in bytes.
    pub output_buffer_size: i64,
    /// Its output buffer timeout (zero = disabled).
    pub output_buffer_timeout: Duration,
    /// Connect time, Unix seconds.
    pub connect_ts: i64,
    /// `(topic, channel)` once subscribed.
    pub subscription: Option<(String, String)>,
    /// Messages published by this client, per topic.
    pub pub_counts: BTreeMap<String, u64>,
    /// After a successful AUTH: the identity and identity URL the auth server gave.
    pub auth_identity: Option<(String, String)>,
    /// The compression IDENTIFY negotiated: `"deflate"`, `"snappy"` or `""`.
    pub compression: &'static str,
    /// What the TLS handshake agreed, once it is done (boxed: most clients have none).
    pub tls: Option<Box<crate::tls::TlsInfo>>,
}

/// Why a SUB was refused; `Display` is the text after `E_SUB_FAILED `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubError {
    /// `--max-channel-consumers` reached.
    TooManyConsumers {
        /// Topic.
        topic: String,
        /// Channel.
        channel: String,
        /// The limit.
        limit: usize,
    },
}

impl std::fmt::Display for SubError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SubError::TooManyConsumers {
                topic,
                channel,
                limit,
            } => write!(
                f,
                "SUB failed consumers for {topic}:{channel} exceeds limit of {limit}"
            ),
        }
    }
}

impl Registry {
    /// Records a new connection.
    pub fn add_client(&mut self, id: ClientId, info: ClientInfo) {
        self.clients.insert(id, info);
    }

    /// Subscribes `client` to `topic`/`channel`, creating both if missing.
    pub fn subscribe(
        &mut self,
        client: ClientId,
        topic: &str,
        channel: &str,
        now: Instant,
    ) -> Result<(), SubError> {
        let (msg_timeout, sample_rate) = match self.clients.get(&client) {
            Some(c) => (c.msg_timeout, c.sample_rate),
            None => (self.config.max_msg_timeout, 0),
        };
        let limit = self.config.max_channel_consumers;
        let ch = self.channel(topic, channel, now);
        if limit > 0 && ch.consumers.len() >= limit {
            return Err(SubError::TooManyConsumers {
                topic: topic.to_string(),
                channel: channel.to_string(),
                limit,
            });
        }
        ch.add_consumer(Consumer {
            client,
            rdy: 0,
            in_flight: 0,
            msg_timeout,
            sample_rate,
            message_count: 0,
            finish_count: 0,
            requeue_count: 0,
        });
        if let Some(c) = self.clients.get_mut(&client) {
            c.state = ClientState::Subscribed;
            c.subscription = Some((topic.to_string(), channel.to_string()));
        }
        Ok(())
    }

    /// A connection closed: it leaves its channel (an ephemeral channel with no one
    /// left is deleted, then an ephemeral topic with no channel left). Its in-flight
    /// messages stay until they time out, as in nsqd.
    pub fn remove_client(&mut self, client: ClientId) {
        let Some(info) = self.clients.remove(&client) else {
            return;
        };
        if self.clients.capacity() > 4 * self.clients.len() + 64 {
            self.clients.shrink_to_fit(); // a burst of clients is gone: give it back
        }
        let Some((t, c)) = info.subscription else {
            return;
        };
        let Some(topic) = self.topics.get_mut(&t) else {
            return;
        };
        if let Some(channel) = topic.channels.get_mut(&c) {
            channel.remove_consumer(client);
            if channel.ephemeral && channel.consumers.is_empty() {
                log::info!("CHANNEL({t}:{c}): ephemeral, last client left: deleting");
                if let Some(ch) = topic.channels.remove(&c) {
                    ch.delete();
                }
                tell(
                    &self.listener,
                    Change::Unregistered(t.clone(), Some(c.clone())),
                );
            }
        }
        if topic.ephemeral && topic.channels.is_empty() {
            log::info!("TOPIC({t}): ephemeral, last channel gone: deleting");
            if let Some(topic) = self.topics.remove(&t) {
                topic.delete();
            }
            self.release_waiters.remove(&t);
            tell(&self.listener, Change::Unregistered(t.clone(), None));
        }
    }

    /// Counts `n` messages published by `client` to `topic`, for `/stats` producers.
    pub fn count_publish(&mut self, client: ClientId, topic: &str, n: u64) {
        if let Some(info) = self.clients.get_mut(&client) {
            match info.pub_counts.get_mut(topic) {
                Some(count) => *count += n,
                None => {
                    info.pub_counts.insert(topic.to_string(), n);
                }
            }
        }
    }

    /// Clients to disconnect because their channel is gone.
    pub fn take_kicked(&mut self) -> Vec<ClientId> {
        std::mem::take(&mut self.kicked)
    }
}

//! The part of Go's `internal/clusterinfo` that nsq_stat uses: find the nsqd that
//! have a topic (through nsqlookupd's `/lookup`, or by asking each given nsqd), then
//! add up one channel's `/stats` over all of them.
//!
//! Every address is queried at once, one thread each; as in Go, the call fails with
//! `failed to query any ...` when every query failed (or there was nothing to
//! query), and with the list of errors when only some did.

use nsq::http::client;
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// An nsqd to read stats from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Producer {
    /// `broadcast_address:http_port`.
    pub http_address: String,
}

/// One channel's figures, summed over every nsqd that has it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ChannelStats {
    /// `channel_name`.
    pub channel_name: String,
    /// Messages queued, in memory and on disk.
    pub depth: i64,
    /// The part of `depth` in memory (`depth - backend_depth`).
    #[serde(skip)]
    pub memory_depth: i64,
    /// The part of `depth` on disk.
    pub backend_depth: i64,
    /// Messages delivered and not yet finished.
    pub in_flight_count: i64,
    /// Messages waiting for their deferral to pass.
    pub deferred_count: i64,
    /// Requeues so far.
    pub requeue_count: i64,
    /// In-flight timeouts so far.
    pub timeout_count: i64,
    /// Messages the channel has received so far.
    pub message_count: i64,
    /// Connected consumers.
    pub client_count: i64,
}

impl ChannelStats {
    /// Adds one nsqd's figures for the channel (Go's `ChannelStats.Add`).
    fn add(&mut self, a: &ChannelStats) {
        self.depth += a.depth;
        self.memory_depth += a.depth - a.backend_depth;
        self.backend_depth += a.backend_depth;
        self.in_flight_count += a.in_flight_count;
        self.deferred_count += a.deferred_count;
        self.requeue_count += a.requeue_count;
        self.timeout_count += a.timeout_count;
        self.message_count += a.message_count;
        self.client_count += a.client_count;
    }
}

/// The nsqd that nsqlookupd lists for `topic`, each once, in the order found.
pub fn lookupd_topic_producers(
    topic: &str,
    lookupd_addrs: &[String],
    timeouts: client::Timeouts,
) -> Result<Vec<Producer>, String> {
    #[derive(Deserialize)]
    struct Lookup {
        #[serde(default)]
        producers: Option<Vec<Peer>>,
    }
    #[derive(Deserialize)]
    struct Peer {
        #[serde(default)]
        broadcast_address: String,
        #[serde(default)]
        http_port: i64,
    }
    let results = query_all(lookupd_addrs, |addr| {
        let url = format!("http://{addr}/lookup?topic={}", client::query_escape(topic));
        let lookup: Lookup = get_v1(&url, timeouts)?;
        Ok(lookup.producers.unwrap_or_default())
    });
    let mut producers: Vec<Producer> = Vec::new();
    for peer in collect(results, "nsqlookupd")?.into_iter().flatten() {
        let http_address = client::join_host_port(&peer.broadcast_address, peer.http_port);
        if !producers.iter().any(|p| p.http_address == http_address) {
            producers.push(Producer { http_address });
        }
    }
    Ok(producers)
}

/// The given nsqd that have `topic`, addressed by what their `/info` announces.
pub fn nsqd_topic_producers(
    topic: &str,
    nsqd_addrs: &[String],
    timeouts: client::Timeouts,
) -> Result<Vec<Producer>, String> {
    #[derive(Deserialize)]
    struct Info {
        #[serde(default)]
        broadcast_address: String,
        #[serde(default)]
        http_port: i64,
    }
    let results = query_all(nsqd_addrs, |addr| {
        let url = format!(
            "http://{addr}/stats?format=json&topic={}&include_clients=false",
            client::query_escape(topic)
        );
        let stats: Stats = get_v1(&url, timeouts)?;
        if !stats.topics.iter().flatten().any(|t| t.topic_name == topic) {
            return Ok(None);
        }
        let info: Info = get_v1(&format!("http://{addr}/info"), timeouts)?;
        // An nsqd too old to announce itself is reached where we found it.
        let http_address = if info.broadcast_address.is_empty() {
            addr.clone()
        } else {
            client::join_host_port(&info.broadcast_address, info.http_port)
        };
        Ok(Some(Producer { http_address }))
    });
    Ok(collect(results, "nsqd")?.into_iter().flatten().collect())
}

/// `channel` of `topic` summed over `producers`; `None` when no nsqd has it.
pub fn channel_stats(
    producers: &[Producer],
    topic: &str,
    channel: &str,
    timeouts: client::Timeouts,
) -> Result<Option<ChannelStats>, String> {
    let results = query_all(producers, |p| {
        let url = format!(
            "http://{}/stats?format=json&topic={}&channel={}&include_clients=false",
            p.http_address,
            client::query_escape(topic),
            client::query_escape(channel)
        );
        get_v1::<Stats>(&url, timeouts)
    });
    let mut total: Option<ChannelStats> = None;
    for stats in collect(results, "nsqd")? {
        let topics = stats.topics.into_iter().flatten();
        for t in topics.filter(|t| t.topic_name == topic) {
            for c in t
                .channels
                .iter()
                .flatten()
                .filter(|c| c.channel_name == channel)
            {
                total.get_or_insert_with(ChannelStats::default).add(c);
            }
        }
    }
    Ok(total)
}

/// The slice of nsqd's `/stats?format=json` read here.
#[derive(Deserialize)]
struct Stats {
    #[serde(default)]
    topics: Option<Vec<TopicStats>>,
}

#[derive(Deserialize)]
struct TopicStats {
    #[serde(default)]
    topic_name: String,
    #[serde(default)]
    channels: Option<Vec<ChannelStats>>,
}

/// GET a V1 JSON endpoint (Go's `http_api.Client.GETV1`): anything but 200 is an error.
fn get_v1<T: DeserializeOwned>(url: &str, timeouts: client::Timeouts) -> Result<T, String> {
    let response = client::get(url, timeouts).map_err(|e| format!("Get {url:?}: {e}"))?;
    if response.status != 200 {
        let body = String::from_utf8_lossy(&response.body);
        return Err(format!("got response {} {body:?}", response.status));
    }
    serde_json::from_slice(&response.body).map_err(|e| format!("{url}: bad JSON: {e}"))
}

/// Runs `query` for every item at once, one thread each; results in item order.
fn query_all<A: Sync, T: Send>(
    items: &[A],
    query: impl Fn(&A) -> Result<T, String> + Sync,
) -> Vec<Result<T, String>> {
    let query = &query;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .iter()
            .map(|item| scope.spawn(move || query(item)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("query panicked".to_string()))
            })
            .collect()
    })
}

/// Go's error rule: every query failed (or none ran) → `failed to query any <what>`;
/// some failed → their errors, one a line; none failed → the values.
fn collect<T>(results: Vec<Result<T, String>>, what: &str) -> Result<Vec<T>, String> {
    let total = results.len();
    let (values, errors): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
    let errors: Vec<String> = errors.into_iter().filter_map(Result::err).collect();
    if errors.len() == total {
        return Err(format!("failed to query any {what}: {}", errors.join("\n")));
    }
    if !errors.is_empty() {
        return Err(errors.join("\n"));
    }
    Ok(values.into_iter().filter_map(Result::ok).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_rule() {
        let all_bad: Vec<Result<u8, String>> = vec![Err("a".into()), Err("b".into())];
        assert_eq!(
            collect(all_bad, "nsqd").unwrap_err(),
            "failed to query any nsqd: a\nb"
        );
        assert_eq!(
            collect(Vec::<Result<u8, String>>::new(), "nsqd").unwrap_err(),
            "failed to query any nsqd: "
        );
        assert_eq!(
            collect(vec![Ok(1), Err("x".into())], "nsqd").unwrap_err(),
            "x"
        );
        assert_eq!(collect(vec![Ok(1), Ok(2)], "nsqd").unwrap(), vec![1, 2]);
    }

    #[test]
    fn adds_channels_with_memory_depth() {
        let one = ChannelStats {
            depth: 7,
            backend_depth: 2,
            message_count: 9,
            client_count: 1,
            ..ChannelStats::default()
        };
        let mut total = ChannelStats::default();
        total.add(&one);
        total.add(&one);
        assert_eq!(
            (total.depth, total.memory_depth, total.backend_depth),
            (14, 10, 4)
        );
        assert_eq!((total.message_count, total.client_count), (18, 2));
        assert_eq!(client::join_host_port("::1", 4151), "[::1]:4151");
    }
}

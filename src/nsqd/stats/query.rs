//! The query of a `/stats` request (`format`, `topic`, `channel`, `include_clients`,
//! `include_mem`), read from the query-string pairs as nsqd reads them. Parsing only.

/// The query of a `/stats` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsQuery {
    /// `format=json`.
    pub json: bool,
    /// `topic=`: only this topic.
    pub topic: Option<String>,
    /// `channel=`: only this channel (topics lacking it are left out).
    pub channel: Option<String>,
    /// `include_clients` (default true).
    pub include_clients: bool,
    /// `include_mem` (default true).
    pub include_mem: bool,
}

impl Default for StatsQuery {
    fn default() -> StatsQuery {
        StatsQuery {
            json: false,
            topic: None,
            channel: None,
            include_clients: true,
            include_mem: true,
        }
    }
}

/// nsqd's `boolParams`: `true`/`1` and `false`/`0`; anything else is "not given".
fn bool_param(value: Option<&str>) -> Option<bool> {
    match value? {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

impl StatsQuery {
    /// Reads the query-string pairs; the first occurrence of a key wins, as in nsqd.
    pub fn from_pairs(pairs: &[(String, String)]) -> StatsQuery {
        let get = |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let non_empty = |key: &str| get(key).filter(|v| !v.is_empty()).map(str::to_string);
        StatsQuery {
            json: get("format") == Some("json"),
            topic: non_empty("topic"),
            channel: non_empty("channel"),
            include_clients: bool_param(get("include_clients")).unwrap_or(true),
            include_mem: bool_param(get("include_mem")).unwrap_or(true),
        }
    }
}

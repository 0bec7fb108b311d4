//! Without the `auth` feature: every query fails before any request.

use super::*;
use std::time::Duration;

#[test]
fn every_query_fails() {
    let servers = AuthServers {
        addresses: vec!["127.0.0.1:1".into()],
        method_post: false,
        connect_timeout: Duration::from_secs(1),
        request_timeout: Duration::from_secs(1),
        tls: None,
    };
    assert_eq!(
        servers.query("127.0.0.1", None, "good").unwrap_err(),
        AuthError::Failed("built without the auth feature".into())
    );
}

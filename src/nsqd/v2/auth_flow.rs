//! The auth flow of a V2 connection (`--auth-http-address`): which commands need an
//! authorization, the auth-server queries run on threads of their own, and applying
//! their answers when the loop is woken. The HTTP exchange itself is `nsqd::auth`'s.

use super::codec::{send_error, send_response};
use super::conn::V2Conn;
use super::handler::{AuthAnswer, V2Handler};
use crate::nsqd::auth::{AuthError, AuthServers};
use crate::proto::{self, Command, ProtoError};
use crate::reactor::{ConnId, Connection, Net};
use crate::registry::lock;
use std::time::Instant;

/// What the auth rules say about a parsed command.
pub(super) enum AuthStep {
    /// Execute it.
    Proceed,
    /// A query started; `consume`: the command was AUTH itself (else it runs again
    /// once the answer is in).
    Wait { consume: bool },
    /// Refused with this error.
    Refuse(ProtoError),
}

impl V2Handler {
    /// Applies the auth rules to `command` (nothing to do without auth servers).
    pub(super) fn auth_step(
        &self,
        net: &mut Net<V2Conn>,
        id: ConnId,
        command: &Command<'_>,
        now: Instant,
    ) -> AuthStep {
        let Some(servers) = &self.config.auth else {
            return AuthStep::Proceed;
        };
        let Some(conn) = net.conn(id) else {
            return AuthStep::Proceed;
        };
        let (name, topic, channel) = match command {
            Command::Auth(secret) => {
                if conn.state.auth.is_some() {
                    return AuthStep::Refuse(ProtoError::fatal("E_INVALID", "AUTH already set"));
                }
                let secret = String::from_utf8_lossy(secret).into_owned();
                self.start_auth_query(servers, conn, true, secret);
                return AuthStep::Wait { consume: true };
            }
            Command::Sub { topic, channel } => ("SUB", *topic, *channel),
            Command::Pub { topic, .. } => ("PUB", *topic, ""),
            Command::Mpub { topic, .. } => ("MPUB", *topic, ""),
            Command::Dpub { topic, .. } => ("DPUB", *topic, ""),
            _ => return AuthStep::Proceed,
        };
        let Some((granted, secret)) = &conn.state.auth else {
            let text = format!("AUTH required before {name}");
            return AuthStep::Refuse(ProtoError::fatal("E_AUTH_FIRST", text));
        };
        if granted.is_expired(now) && !conn.state.auth_revoked {
            let secret = secret.clone();
            self.start_auth_query(servers, conn, false, secret);
            return AuthStep::Wait { consume: false };
        }
        if !conn.state.auth_revoked && granted.allows(topic, channel, name == "SUB") {
            return AuthStep::Proceed;
        }
        let text = format!(
            "AUTH failed for {name} on {} {}",
            proto::go_quote(topic.as_bytes()),
            proto::go_quote(channel.as_bytes())
        );
        AuthStep::Refuse(ProtoError::fatal("E_UNAUTHORIZED", text))
    }

    /// Asks the auth servers about `secret` from a thread of its own; the answer
    /// comes back through `auth_answers` and the waker.
    fn start_auth_query(
        &self,
        servers: &AuthServers,
        conn: &mut Connection<V2Conn>,
        first: bool,
        secret: String,
    ) {
        conn.state.auth_pending = true;
        let (client, ip) = (conn.state.client, conn.peer.ip().to_string());
        let tls = conn
            .state
            .tls
            .as_ref()
            .map(|t| t.info().unwrap_or_default().common_name);
        let (servers, answers, wakeup) = (
            servers.clone(),
            self.auth_answers.clone(),
            self.wakeup.clone(),
        );
        let spawned = std::thread::Builder::new()
            .name("nsqd-auth".into())
            .spawn(move || {
                let result = servers.query(&ip, tls.as_deref(), &secret);
                let answer = AuthAnswer {
                    client,
                    first,
                    secret,
                    result,
                };
                answers
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(answer);
                wakeup.wake();
            });
        if let Err(e) = spawned {
            log::error!("client({client}) cannot start an auth query: {e}");
            let answer = AuthAnswer {
                client,
                first,
                secret: String::new(),
                result: Err(AuthError::Failed(e.to_string())),
            };
            self.auth_answers
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(answer);
            self.wakeup.wake();
        }
    }

    /// Applies an auth server's answer, then carries on with the commands that waited.
    pub(super) fn auth_answered(&mut self, net: &mut Net<V2Conn>, answer: AuthAnswer) {
        let Some(&id) = self.conns.get(&answer.client) else {
            return;
        };
        let Some(conn) = net.conn(id) else {
            return;
        };
        conn.state.auth_pending = false;
        let client = answer.client;
        let granted = match answer.result {
            Ok(granted) => granted,
            Err(AuthError::NoAuthorizations) if !answer.first => {
                // As Go: the empty grant stands, so the waiting command is refused.
                conn.state.auth_revoked = true;
                self.resume(net, id);
                return;
            }
            Err(e) => {
                let err = match e {
                    AuthError::Failed(reason) => {
                        log::warn!("client({client}) auth failed: {reason}");
                        ProtoError::fatal("E_AUTH_FAILED", "AUTH failed")
                    }
                    AuthError::NoAuthorizations => {
                        ProtoError::fatal("E_UNAUTHORIZED", "AUTH no authorizations found")
                    }
                };
                send_error(net, id, &err);
                net.close(id);
                return;
            }
        };
        if answer.first {
            let reply = serde_json::json!({
                "identity": granted.identity,
                "identity_url": granted.identity_url,
                "permission_count": granted.permission_count(),
            });
            send_response(net, id, reply.to_string().as_bytes());
        }
        if let Some(info) = lock(&self.registry).clients.get_mut(&client) {
            info.auth_identity = Some((granted.identity.clone(), granted.identity_url.clone()));
        }
        if let Some(conn) = net.conn(id) {
            conn.state.auth = Some((granted, answer.secret));
        }
        self.resume(net, id);
    }
}

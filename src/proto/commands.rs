//! V2 commands as a client writes them: each function appends one command's bytes to
//! `out`. The server side of the same bytes is [`crate::proto::parse`].

use super::MessageId;

fn line(out: &mut Vec<u8>, words: &[&[u8]]) {
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(word);
    }
    out.push(b'\n');
}

fn sized(out: &mut Vec<u8>, body: &[u8]) {
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
}

/// `IDENTIFY\n[size][json]`.
pub fn identify(out: &mut Vec<u8>, json: &[u8]) {
    line(out, &[b"IDENTIFY"]);
    sized(out, json);
}

/// `AUTH\n[size][secret]`.
pub fn auth(out: &mut Vec<u8>, secret: &[u8]) {
    line(out, &[b"AUTH"]);
    sized(out, secret);
}

/// `SUB <topic> <channel>\n`.
pub fn sub(out: &mut Vec<u8>, topic: &str, channel: &str) {
    line(out, &[b"SUB", topic.as_bytes(), channel.as_bytes()]);
}

/// `RDY <count>\n`.
pub fn rdy(out: &mut Vec<u8>, count: u64) {
    line(out, &[b"RDY", count.to_string().as_bytes()]);
}

/// `FIN <id>\n`.
pub fn fin(out: &mut Vec<u8>, id: &MessageId) {
    line(out, &[b"FIN", id]);
}

/// `REQ <id> <delay ms>\n`.
pub fn req(out: &mut Vec<u8>, id: &MessageId, delay_ms: u64) {
    line(out, &[b"REQ", id, delay_ms.to_string().as_bytes()]);
}

/// `TOUCH <id>\n`.
pub fn touch(out: &mut Vec<u8>, id: &MessageId) {
    line(out, &[b"TOUCH", id]);
}

/// `NOP\n`: the reply to a heartbeat.
pub fn nop(out: &mut Vec<u8>) {
    line(out, &[b"NOP"]);
}

/// `CLS\n`: ask the server to stop sending messages.
pub fn cls(out: &mut Vec<u8>) {
    line(out, &[b"CLS"]);
}

/// `PUB <topic>\n[size][body]`.
pub fn publish(out: &mut Vec<u8>, topic: &str, body: &[u8]) {
    line(out, &[b"PUB", topic.as_bytes()]);
    sized(out, body);
}

/// `DPUB <topic> <delay ms>\n[size][body]`.
pub fn deferred_publish(out: &mut Vec<u8>, topic: &str, delay_ms: u64, body: &[u8]) {
    line(
        out,
        &[b"DPUB", topic.as_bytes(), delay_ms.to_string().as_bytes()],
    );
    sized(out, body);
}

/// `MPUB <topic>\n[size][count]([size][body])*`.
pub fn multi_publish<B: AsRef<[u8]>>(out: &mut Vec<u8>, topic: &str, bodies: &[B]) {
    line(out, &[b"MPUB", topic.as_bytes()]);
    let size: usize = 4 + bodies.iter().map(|b| 4 + b.as_ref().len()).sum::<usize>();
    out.extend_from_slice(&(size as u32).to_be_bytes());
    out.extend_from_slice(&(bodies.len() as u32).to_be_bytes());
    for body in bodies {
        sized(out, body.as_ref());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{parse, ClientState, Command, Limits, ParseContext};

    fn parsed(bytes: &[u8], state: ClientState) -> Command<'_> {
        let limits = Limits {
            max_msg_size: 1 << 20,
            max_body_size: 1 << 20,
            max_rdy_count: 2500,
            max_req_timeout_ms: 3_600_000,
        };
        let ctx = ParseContext {
            state,
            heartbeats_enabled: true,
            limits: &limits,
            tls_missing: false,
        };
        let (cmd, used) = parse(bytes, &ctx).unwrap().unwrap();
        assert_eq!(used, bytes.len(), "one whole command");
        cmd
    }

    #[test]
    fn every_command_parses_back_on_the_server_side() {
        let id = *b"0123456789abcdef";
        let mut out = Vec::new();
        publish(&mut out, "t", b"body");
        assert!(matches!(
            parsed(&out, ClientState::Init),
            Command::Pub {
                topic: "t",
                body: b"body"
            }
        ));
        out.clear();
        deferred_publish(&mut out, "t", 1500, b"x");
        assert!(matches!(
            parsed(&out, ClientState::Init),
            Command::Dpub {
                topic: "t",
                defer_ms: 1500,
                body: b"x"
            }
        ));
        out.clear();
        multi_publish(&mut out, "t", &[&b"a"[..], b"bc"]);
        match parsed(&out, ClientState::Init) {
            Command::Mpub { topic, bodies } => {
                assert_eq!(topic, "t");
                assert_eq!(bodies.collect::<Vec<_>>(), [&b"a"[..], b"bc"]);
            }
            other => panic!("{other:?}"),
        }
        out.clear();
        sub(&mut out, "t", "c");
        assert!(matches!(
            parsed(&out, ClientState::Init),
            Command::Sub {
                topic: "t",
                channel: "c"
            }
        ));
        out.clear();
        rdy(&mut out, 7);
        assert!(matches!(
            parsed(&out, ClientState::Subscribed),
            Command::Rdy(Some(7))
        ));
        out.clear();
        fin(&mut out, &id);
        assert!(matches!(parsed(&out, ClientState::Subscribed), Command::Fin(i) if i == id));
        out.clear();
        req(&mut out, &id, 250);
        assert!(matches!(parsed(&out, ClientState::Subscribed),
            Command::Req { id: i, delay_ms: 250 } if i == id));
        out.clear();
        touch(&mut out, &id);
        assert!(matches!(parsed(&out, ClientState::Subscribed), Command::Touch(i) if i == id));
        out.clear();
        nop(&mut out);
        assert!(matches!(parsed(&out, ClientState::Init), Command::Nop));
        out.clear();
        cls(&mut out);
        assert!(matches!(
            parsed(&out, ClientState::Subscribed),
            Command::Cls
        ));
        out.clear();
        identify(&mut out, b"{}");
        assert!(matches!(
            parsed(&out, ClientState::Init),
            Command::Identify(b"{}")
        ));
        out.clear();
        auth(&mut out, b"secret");
        assert!(matches!(
            parsed(&out, ClientState::Init),
            Command::Auth(b"secret")
        ));
    }
}

//! Smoke test: nsqd starts, accepts a publish and delivers it.
mod common;

#[test]
fn publish_then_consume_one_message() {
    let nsqd = common::Nsqd::start(&[]);
    let mut p = nsqd.client();
    p.publish("smoke", b"hello");
    let mut c = common::consumer(&nsqd, "{}", "smoke", "ch", 1);
    let m = c.read_message();
    assert_eq!(m.body, b"hello");
    assert_eq!(m.attempts, 1);
}

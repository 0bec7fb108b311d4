//! The subject common name of an X.509 certificate in DER, which nsqd sends to the
//! auth server as `common_name`. A small bounds-checked DER walk: it never panics on
//! a peer's certificate, and anything it cannot read gives `""`.

/// The DER tag of a SEQUENCE, a SET, an OID and the `[0]` version field.
const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;
const VERSION: u8 = 0xa0;
/// 2.5.4.3, id-at-commonName.
const COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];

/// One DER element: its tag, its contents, and what follows it.
fn element(der: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = der.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |a, &b| (a << 8) | usize::from(b));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// The subject common name of `cert`, `""` when it has none or cannot be read.
pub fn common_name(cert: &[u8]) -> String {
    subject_cn(cert).unwrap_or_default()
}

fn subject_cn(cert: &[u8]) -> Option<String> {
    let (SEQUENCE, cert, _) = element(cert)? else {
        return None;
    };
    let (SEQUENCE, tbs, _) = element(cert)? else {
        return None;
    };
    let mut rest = tbs;
    let (tag, _, after) = element(rest)?;
    if tag == VERSION {
        rest = after;
    }
    // serial, signature algorithm, issuer, validity, then the subject.
    for _ in 0..4 {
        rest = element(rest)?.2;
    }
    let (SEQUENCE, mut rdns, _) = element(rest)? else {
        return None;
    };
    while !rdns.is_empty() {
        let (tag, set, next) = element(rdns)?;
        rdns = next;
        if tag != SET {
            continue;
        }
        let mut attrs = set;
        while !attrs.is_empty() {
            let (_, attr, next) = element(attrs)?;
            attrs = next;
            let (oid_tag, oid, value) = element(attr)?;
            if oid_tag == OID && oid == COMMON_NAME {
                let (_, text, _) = element(value)?;
                return Some(String::from_utf8_lossy(text).into_owned());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_subject_cn_of_a_generated_certificate() {
        let mut params = rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap();
        let mut name = rcgen::DistinguishedName::new();
        name.push(rcgen::DnType::OrganizationName, "nsq-rs tests");
        name.push(rcgen::DnType::CommonName, "consumer-7");
        params.distinguished_name = name;
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        assert_eq!(common_name(cert.der()), "consumer-7");
    }

    #[test]
    fn garbage_and_truncations_give_an_empty_name() {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["x".into()]).unwrap();
        let der = params.self_signed(&key).unwrap().der().to_vec();
        for cut in 0..der.len() {
            let _ = common_name(&der[..cut]); // must not panic
        }
        assert_eq!(common_name(b"\x30\x84\xff\xff\xff\xff"), "");
        assert_eq!(common_name(b""), "");
    }
}

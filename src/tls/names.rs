//! Go's names: the `tls1.0`..`tls1.3` values of `--tls-min-version`, and the strings
//! Go's `crypto/tls` gives versions and cipher suites (what `/stats` shows).

/// The lowest TLS version a server or client accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum MinVersion {
    /// `ssl3.0`: Go's accepted value; TLS 1.2 is the floor here.
    Ssl30,
    /// `tls1.0` (Go nsqd's default): TLS 1.2 is the floor here.
    #[default]
    Tls10,
    /// `tls1.1`: TLS 1.2 is the floor here.
    Tls11,
    /// `tls1.2`.
    Tls12,
    /// `tls1.3`: TLS 1.2 clients are refused.
    Tls13,
}

impl MinVersion {
    /// Parses a flag value as Go's nsqd does (`""` is the default, `tls1.0`).
    pub fn parse(value: &str) -> Option<MinVersion> {
        Some(match value {
            "" | "tls1.0" => MinVersion::Tls10,
            "ssl3.0" => MinVersion::Ssl30,
            "tls1.1" => MinVersion::Tls11,
            "tls1.2" => MinVersion::Tls12,
            "tls1.3" => MinVersion::Tls13,
            _ => return None,
        })
    }

    /// The flag value this was parsed from.
    pub fn as_str(self) -> &'static str {
        match self {
            MinVersion::Ssl30 => "ssl3.0",
            MinVersion::Tls10 => "tls1.0",
            MinVersion::Tls11 => "tls1.1",
            MinVersion::Tls12 => "tls1.2",
            MinVersion::Tls13 => "tls1.3",
        }
    }

    /// True when the value asks for less than rustls offers (TLS 1.2): it then runs
    /// with TLS 1.2 as the floor — stricter, never weaker.
    pub fn below_floor(self) -> bool {
        self < MinVersion::Tls12
    }
}

#[cfg(feature = "tls")]
/// Go's name of a version (`tls.VersionName` without the space): `TLS1.3`.
pub fn version_name(major_minor: (u8, u8)) -> String {
    match major_minor {
        (3, 1) => "TLS1.0".into(),
        (3, 2) => "TLS1.1".into(),
        (3, 3) => "TLS1.2".into(),
        (3, 4) => "TLS1.3".into(),
        (a, b) => format!("0x{a:02X}{b:02X}"),
    }
}

#[cfg(feature = "tls")]
/// Go's name of a cipher suite from rustls' (`TLS13_AES_128_GCM_SHA256` →
/// `TLS_AES_128_GCM_SHA256`; TLS 1.2 names are the same in both).
pub fn cipher_suite_name(rustls_name: &str) -> String {
    match rustls_name.strip_prefix("TLS13_") {
        Some(rest) => format!("TLS_{rest}"),
        None => rustls_name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_values_round_trip_and_the_floor_is_tls12() {
        for v in ["ssl3.0", "tls1.0", "tls1.1", "tls1.2", "tls1.3"] {
            assert_eq!(MinVersion::parse(v).map(MinVersion::as_str), Some(v));
        }
        assert_eq!(MinVersion::parse(""), Some(MinVersion::Tls10));
        assert_eq!(MinVersion::parse("tls1.4"), None);
        assert!(MinVersion::Tls11.below_floor());
        assert!(!MinVersion::Tls12.below_floor());
    }

    #[cfg(feature = "tls")]
    #[test]
    fn go_names() {
        assert_eq!(version_name((3, 4)), "TLS1.3");
        assert_eq!(version_name((3, 3)), "TLS1.2");
        assert_eq!(
            cipher_suite_name("TLS13_AES_256_GCM_SHA384"),
            "TLS_AES_256_GCM_SHA384"
        );
        let v12 = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256";
        assert_eq!(cipher_suite_name(v12), v12);
    }
}

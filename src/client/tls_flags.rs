//! The tools' TLS flags (`--tls`, `--tls-root-ca-file`, `--tls-cert`, `--tls-key`,
//! `--tls-min-version`, `--tls-insecure-skip-verify`): their specs, and how they set
//! a [`Config`]'s `tls_*` options, so to_nsq, nsq_tail and nsq_to_file take them the
//! same way.

use super::Config;
use crate::flags::{FlagKind, FlagSpec, Parsed};

/// The TLS flags, for a tool's flag table.
pub fn specs() -> Vec<FlagSpec> {
    use FlagKind as K;
    vec![
        FlagSpec::new("tls", K::Bool, false, "ask nsqd for TLS (go-nsq's tls_v1); any other --tls-* flag implies it"),
        FlagSpec::new("tls-root-ca-file", K::String, "", "path to a PEM file of the CAs nsqd's certificate must chain to (default: the system's CA bundle)"),
        FlagSpec::new("tls-cert", K::String, "", "path to a PEM client certificate, shown when nsqd asks (with --tls-key)"),
        FlagSpec::new("tls-key", K::String, "", "path to the PEM key of --tls-cert"),
        FlagSpec::new("tls-min-version", K::String, "", "lowest TLS version to offer: tls1.0, tls1.1, tls1.2 or tls1.3 (TLS 1.2 is the floor)"),
        FlagSpec::new("tls-insecure-skip-verify", K::Bool, false, "accept any nsqd certificate (unsafe: for tests)"),
    ]
}

/// Sets `config`'s TLS options from the flags given; `tls_v1` is turned on by
/// `--tls` or by any other TLS flag. Flags not given leave `config` as it is.
pub fn apply(parsed: &Parsed, config: &mut Config) -> Result<(), String> {
    let mut any = false;
    for (flag, option) in [
        ("tls-root-ca-file", "tls_root_ca_file"),
        ("tls-cert", "tls_cert"),
        ("tls-key", "tls_key"),
        ("tls-min-version", "tls_min_version"),
        ("tls-insecure-skip-verify", "tls_insecure_skip_verify"),
    ] {
        if parsed.is_set(flag) {
            any = true;
            let value = parsed.get_string(flag).map_err(|e| e.to_string())?;
            config
                .set(option, &value)
                .map_err(|e| format!("--{flag}: {e}"))?;
        }
    }
    if parsed.get_bool("tls").map_err(|e| e.to_string())? || any {
        config.tls_v1 = true;
    }
    Ok(())
}

/// A tool's go-nsq configuration: the defaults, the TLS flags, each `--<flag>
/// name,value` (`consumer-opt`, `producer-opt`), then `max_in_flight` and the user
/// agent (`<tool>/1.3.0 nsq-rs/<version>`); refused when out of go-nsq's bounds.
pub fn tool_config(
    parsed: &Parsed,
    flag: &str,
    opts: &[String],
    max_in_flight: u64,
    tool: &str,
) -> Result<Config, String> {
    let mut config = Config::default();
    apply(parsed, &mut config)?;
    for opt in opts {
        config
            .set_flag(opt)
            .map_err(|e| format!("--{flag} {opt:?}: {e}"))?;
    }
    config.max_in_flight = max_in_flight;
    config.user_agent = format!(
        "{tool}/{} nsq-rs/{}",
        crate::NSQ_VERSION,
        env!("CARGO_PKG_VERSION")
    );
    config.validate().map_err(|e| e.to_string())?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::MinVersion;

    fn apply_args(args: &[&str]) -> Result<Config, String> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let parsed = crate::flags::parse(&specs(), &args).map_err(|e| e.to_string())?;
        let mut config = Config::default();
        apply(&parsed, &mut config)?;
        Ok(config)
    }

    #[test]
    fn flags_set_the_tls_options() {
        let c = apply_args(&[]).unwrap();
        assert!(!c.tls_v1);
        let c = apply_args(&["--tls"]).unwrap();
        assert!(c.tls_v1 && c.tls_root_ca_file.is_empty());
        let c = apply_args(&[
            "--tls-root-ca-file=/ca.pem",
            "--tls-cert=/c.pem",
            "--tls-key=/c.key",
            "--tls-min-version=tls1.2",
            "--tls-insecure-skip-verify",
        ])
        .unwrap();
        assert!(c.tls_v1, "implied by the other flags");
        assert_eq!(c.tls_root_ca_file, "/ca.pem");
        assert_eq!(
            (c.tls_cert.as_str(), c.tls_key.as_str()),
            ("/c.pem", "/c.key")
        );
        assert_eq!(c.tls_min_version, MinVersion::Tls12);
        assert!(c.tls_insecure_skip_verify);
        let e = apply_args(&["--tls-min-version=tls2"]).unwrap_err();
        assert!(e.contains("--tls-min-version"), "{e}");
    }
}

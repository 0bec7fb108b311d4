//! Starting and stopping nsqadmin: Go's start-up checks in Go's order and words
//! (NSQADMIN.md §1), the HTTP server, the rate sampler and the webhook thread.

use super::cluster::Cluster;
use super::config::parse_cidr;
use super::context::Admin;
use super::notify::Notifier;
use super::options::Options;
use super::rates::{spawn_sampler, Rates};
use super::upstream::Upstream;
use crate::http::client::Timeouts;
use crate::listen::{self, ListenError};
use crate::tls::{ClientSpec, ClientTls};
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;

/// A running nsqadmin.
pub struct Server {
    addr: SocketAddr,
    http: Option<crate::http::Server>,
    rates: Arc<Rates>,
    threads: Vec<JoinHandle<()>>,
    admin: Option<Arc<Admin>>,
}

/// Why nsqadmin did not start: `failed to instantiate nsqadmin - <reason>`, or the
/// listener's `listen (ADDR) failed - REASON`.
#[derive(Debug)]
pub enum StartError {
    /// The HTTP listener.
    Listen(ListenError),
    /// A check of the options.
    Invalid(String),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Listen(e) => e.fmt(f),
            StartError::Invalid(why) => write!(f, "failed to instantiate nsqadmin - {why}"),
        }
    }
}

impl std::error::Error for StartError {}

fn invalid(why: impl Into<String>) -> StartError {
    StartError::Invalid(why.into())
}

/// The host part of an address that may carry a scheme.
fn host_port(addr: &str) -> &str {
    let rest = addr.split_once("://").map_or(addr, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest)
}

/// Go's checks, in Go's order; the HTTP client's TLS, if any option asks for it.
fn check(o: &Options) -> Result<Option<ClientTls>, StartError> {
    match (
        o.nsqd_http_addresses.is_empty(),
        o.lookupd_http_addresses.is_empty(),
    ) {
        (true, true) => {
            return Err(invalid(
                "--nsqd-http-address or --lookupd-http-address required",
            ))
        }
        (false, false) => {
            return Err(invalid(
                "use --nsqd-http-address or --lookupd-http-address not both",
            ))
        }
        _ => {}
    }
    if o.http_client_tls_cert.is_empty() != o.http_client_tls_key.is_empty() {
        return Err(invalid(
            "--http-client-tls-cert and --http-client-tls-key must be specified together",
        ));
    }
    let tls = match o.http_client_tls_insecure_skip_verify
        || !o.http_client_tls_root_ca_file.is_empty()
        || !o.http_client_tls_cert.is_empty()
    {
        true => {
            let spec = ClientSpec {
                root_ca: o.http_client_tls_root_ca_file.clone(),
                cert: o.http_client_tls_cert.clone(),
                key: o.http_client_tls_key.clone(),
                insecure_skip_verify: o.http_client_tls_insecure_skip_verify,
                ..ClientSpec::default()
            };
            Some(ClientTls::new(&spec).map_err(invalid)?)
        }
        false => None,
    };
    let lists = [
        ("--lookupd-http-address", &o.lookupd_http_addresses),
        ("--nsqd-http-address", &o.nsqd_http_addresses),
    ];
    for (flag, list) in lists {
        for addr in list {
            if let Err(e) = crate::common::net::resolve(host_port(addr)) {
                let reason = crate::common::net::reason(&e);
                return Err(invalid(format!(
                    "failed to resolve {flag} ({addr}) - {reason}"
                )));
            }
        }
    }
    let cidr = &o.allow_config_from_cidr;
    if !cidr.is_empty() && parse_cidr(cidr).is_none() {
        return Err(invalid(format!(
            "failed to parse --allow-config-from-cidr ({cidr}) - invalid CIDR address: {cidr}"
        )));
    }
    Ok(tls)
}

impl Server {
    /// Checks the options, binds the HTTP listener and starts serving.
    pub fn start(o: &Options) -> Result<Server, StartError> {
        let tls = check(o)?;
        let listener = listen::bind_flag(&o.http_address).map_err(StartError::Listen)?;
        let addr = listener.local_addr().map_err(|e| invalid(e.to_string()))?;
        let timeouts = Timeouts {
            connect: o.http_client_connect_timeout,
            total: o.http_client_request_timeout,
        };
        let lookupds = Arc::new(RwLock::new(o.lookupd_http_addresses.clone()));
        let cluster = |quiet| Cluster {
            upstream: Upstream {
                timeouts,
                tls: tls.clone(),
                quiet,
            },
            lookupds: lookupds.clone(),
            nsqds: o.nsqd_http_addresses.clone(),
        };
        // The sampler's calls, every interval, are logged at debug only.
        let (cluster, sampled) = (Arc::new(cluster(false)), Arc::new(cluster(true)));
        let rates = Arc::new(Rates::new(o.sample_interval, o.sample_window));
        let mut threads = Vec::new();
        let notifier = match o.notification_http_endpoint.is_empty() {
            true => None,
            false => {
                let (notifier, thread) =
                    Notifier::start(o.notification_http_endpoint.clone(), timeouts)
                        .map_err(|e| invalid(e.to_string()))?;
                threads.push(thread);
                Some(notifier)
            }
        };
        threads.push(spawn_sampler(sampled, rates.clone()).map_err(|e| invalid(e.to_string()))?);
        let admin = Arc::new(Admin {
            cluster,
            options: RwLock::new(o.clone()),
            rates: rates.clone(),
            notifier,
            hostname: crate::common::net::hostname(),
        });
        let router = Arc::new(super::web::router(admin.clone()));
        let config = crate::http::Config {
            // Above /config's 1 MiB, which answers 413 INVALID_VALUE itself.
            max_body_bytes: 5 << 20,
            ..crate::http::Config::default()
        };
        let http = crate::http::Server::from_listener(listener, router, config)
            .map_err(|e| invalid(format!("failed to start the HTTP server - {e}")))?;
        log::info!("HTTP: listening on {addr}");
        Ok(Server {
            addr,
            http: Some(http),
            rates,
            threads,
            admin: Some(admin),
        })
    }

    /// The address the UI and API answer on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops serving, then the sampler and the webhook (after what is queued).
    pub fn stop(mut self) -> io::Result<()> {
        self.shutdown();
        Ok(())
    }

    fn shutdown(&mut self) {
        if let Some(http) = self.http.take() {
            log::info!("HTTP: closing {}", self.addr);
            http.stop();
        }
        self.rates.stop();
        // Dropping the last handle ends the webhook thread's queue.
        self.admin = None;
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown();
    }
}

//! Starting and stopping nsqd: builds the registry and the V2 handler from the options,
//! binds the TCP, HTTP and (with a certificate) HTTPS listeners, runs the reactor on its own thread, starts the
//! statsd pusher, and stops them all cleanly. A failed start is a [`StartError`] that
//! names its own cause in Go's words (`listen (ADDR) failed - ...`,
//! `--data-path=X is not writable`).

use super::auth::AuthServers;
use super::durability::{self, Persister};
use super::http_api::{self, HttpContext};
use super::identify::IdentifyLimits;
use super::lookup_peers::{self, LookupPeers};
use super::options::Options;
use super::stats::NodeInfo;
use super::statsd::{self, StatsdOptions};
use super::tls_config;
use super::v2::{V2Config, V2Handler};
use crate::listen::{self, ListenError};
use crate::proto::Limits;
use crate::reactor::{Reactor, Wakeup};
use crate::registry::{lock, SharedRegistry};
use crate::registry::{metadata, Config, Registry};
use crate::tls::{ClientTls, ServerTls};
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::Instant;

/// A running nsqd.
pub struct Server {
    tcp_addr: SocketAddr,
    http: Option<crate::http::Server>,
    https: Option<crate::http::Server>,
    wakeup: Wakeup,
    reactor: Option<JoinHandle<io::Result<()>>>,
    statsd: Option<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
    /// The shared state, for the HTTP API and tests.
    pub registry: SharedRegistry,
    /// The options, as changed at runtime by `PUT /config`.
    pub options: Arc<RwLock<Options>>,
    /// The nsqlookupd peers.
    pub lookup: Arc<LookupPeers>,
    /// Writes disk work; taken at the final persist so it happens once.
    persister: Option<Arc<Persister>>,
    syncer: Option<JoinHandle<()>>,
    /// Holds the data directory's lock until the server is dropped.
    _dir_lock: std::fs::File,
}

/// Why nsqd did not start: one line in Go's words, each cause its own.
#[derive(Debug)]
pub enum StartError {
    /// A listener: `listen (ADDR) failed - REASON`.
    Listen(ListenError),
    /// The data directory: `--data-path=PATH PROBLEM` (`is not writable`,
    /// `in use by another nsqd`, `is not a directory`).
    DataPath {
        /// The directory as the flag gave it (`.` for an empty flag).
        path: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The TLS flags: `failed to build TLS config - ...` and the like, as they are.
    Tls(String),
    /// Anything else: what failed, and why (`failed to load metadata - ...`).
    Other(String),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Listen(e) => e.fmt(f),
            StartError::DataPath { path, problem } => write!(f, "--data-path={path} {problem}"),
            StartError::Tls(message) | StartError::Other(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for StartError {}

impl From<ListenError> for StartError {
    fn from(e: ListenError) -> StartError {
        StartError::Listen(e)
    }
}

/// `what - reason` (`failed to load metadata - ...`) for an I/O error other than a
/// listener's or the data directory's.
fn other(what: &str) -> impl FnOnce(io::Error) -> StartError + '_ {
    move |e| StartError::Other(format!("{what} - {}", listen::reason(&e)))
}

/// A write refused because of permissions or a read-only file system.
fn is_unwritable(e: &io::Error) -> bool {
    // EACCES, EPERM, EROFS.
    e.kind() == io::ErrorKind::PermissionDenied || matches!(e.raw_os_error(), Some(1 | 13 | 30))
}

/// Creates (if missing), locks and probes the data directory: the lock file it holds.
fn open_data_dir(dir: &Path) -> Result<std::fs::File, StartError> {
    let problem = |problem: String| StartError::DataPath {
        path: dir.display().to_string(),
        problem,
    };
    let not_a_dir = || problem("is not a directory".into());
    let unwritable = |e: &io::Error| match is_unwritable(e) {
        true => problem("is not writable".into()),
        false => problem(format!("is not writable - {}", listen::reason(e))),
    };
    match std::fs::metadata(dir) {
        Ok(m) if !m.is_dir() => return Err(not_a_dir()),
        Ok(_) => {}
        Err(_) => std::fs::create_dir_all(dir).map_err(|e| match e.kind() {
            io::ErrorKind::AlreadyExists | io::ErrorKind::NotADirectory => not_a_dir(),
            _ if is_unwritable(&e) => problem("is not writable".into()),
            _ => problem(format!("cannot be created - {}", listen::reason(&e))),
        })?,
    }
    let lock = durability::lock_data_dir(dir).map_err(|e| match e.kind() {
        io::ErrorKind::WouldBlock => problem("in use by another nsqd".into()),
        _ => problem(format!("cannot be locked - {}", listen::reason(&e))),
    })?;
    // Refused now, not at the first message written to disk.
    let probe = dir.join(format!(".nsqd-probe-{}.tmp", std::process::id()));
    std::fs::write(&probe, b"").map_err(|e| unwritable(&e))?;
    std::fs::remove_file(&probe).map_err(|e| unwritable(&e))?;
    Ok(lock)
}

fn v2_config(opts: &Options, tls: Option<ServerTls>, auth_tls: Option<ClientTls>) -> V2Config {
    V2Config {
        limits: Limits {
            max_msg_size: opts.max_msg_size,
            max_body_size: opts.max_body_size,
            max_rdy_count: opts.max_rdy_count,
            max_req_timeout_ms: opts.max_req_timeout.as_millis() as u64,
        },
        identify: IdentifyLimits {
            msg_timeout: opts.msg_timeout,
            max_msg_timeout: opts.max_msg_timeout,
            max_heartbeat_interval: opts.max_heartbeat_interval,
            output_buffer_timeout: opts.output_buffer_timeout,
            min_output_buffer_timeout: opts.min_output_buffer_timeout,
            max_output_buffer_timeout: opts.max_output_buffer_timeout,
            max_output_buffer_size: opts.max_output_buffer_size as i64,
            max_rdy_count: opts.max_rdy_count,
            max_deflate_level: i64::from(opts.max_deflate_level),
            auth_required: !opts.auth_http_addresses.is_empty(),
            deflate_enabled: opts.deflate && crate::compress::DEFLATE,
            snappy_enabled: opts.snappy && crate::compress::SNAPPY,
            tls_enabled: tls.is_some(),
        },
        max_req_timeout: opts.max_req_timeout,
        auth: (!opts.auth_http_addresses.is_empty()).then(|| AuthServers {
            addresses: opts.auth_http_addresses.clone(),
            method_post: opts.auth_http_request_method == "post",
            connect_timeout: opts.http_client_connect_timeout,
            request_timeout: opts.http_client_request_timeout,
            tls: auth_tls,
        }),
        tls,
        tls_required: opts.tls_required != "false",
    }
}

impl Server {
    /// Binds the listeners and starts serving.
    pub fn start(opts: &Options) -> Result<Server, StartError> {
        // Built once, shared by the V2 and HTTPS listeners; a bad file stops the start.
        let tls = tls_config::server_tls(opts).map_err(StartError::Tls)?;
        let auth_tls = tls_config::auth_client_tls(opts).map_err(StartError::Tls)?;
        // Listen first: clients queue in the kernel's backlog while the data loads.
        let tcp_listener = listen::bind_flag(&opts.tcp_address)?;
        let reactor = Reactor::from_listener(tcp_listener)
            .map_err(other("failed to set up the TCP listener"))?;
        // Bind HTTP before the lookupd peers start: they announce its port.
        let http_listener = match opts.http_address.as_str() {
            "" => None,
            addr => Some(listen::bind_flag(addr)?),
        };
        let https_listener = match &tls {
            Some(_) if !opts.https_address.is_empty() => {
                Some(listen::bind_flag(&opts.https_address)?)
            }
            _ => None,
        };
        let data_path = PathBuf::from(match opts.data_path.as_str() {
            "" => ".",
            path => path,
        });
        let dir_lock = open_data_dir(&data_path)?;
        let registry = Arc::new(Mutex::new(Registry::new(Config {
            node_id: opts.node_id,
            mem_queue_size: opts.mem_queue_size as usize,
            data_path: Some(data_path.clone()),
            disk: crate::diskqueue::Config {
                max_bytes_per_file: opts.max_bytes_per_file,
                min_msg_size: crate::proto::MESSAGE_HEADER_LEN as u32,
                max_msg_size: (opts.max_msg_size as u32).saturating_add(26),
                sync_every: opts.sync_every,
            },
            max_msg_timeout: opts.max_msg_timeout,
            max_channel_consumers: opts.max_channel_consumers,
            e2e_percentiles: opts.e2e_processing_latency_percentiles.clone(),
            e2e_window: opts.e2e_processing_latency_window_time,
        })));
        let persister = Arc::new(Persister::new(data_path.clone(), opts.sync_every == 1));
        {
            let meta = metadata::load(&data_path).map_err(other("failed to load metadata"))?;
            let mut reg = lock(&registry);
            if let Some(meta) = &meta {
                reg.load(meta, Instant::now());
                log::info!(
                    "loaded {} topics from {}",
                    meta.topics.as_ref().map_or(0, Vec::len),
                    data_path.join(metadata::FILE).display()
                );
            }
            metadata::save(&data_path, &reg.metadata()).map_err(|e| match is_unwritable(&e) {
                true => StartError::DataPath {
                    path: data_path.display().to_string(),
                    problem: "is not writable".into(),
                },
                false => other("failed to persist metadata")(e),
            })?;
        }
        let node = NodeInfo {
            version: crate::NSQ_VERSION.to_string(),
            start_time: crate::registry::message::unix_nanos() / 1_000_000_000,
            started: Instant::now(),
            e2e_percentiles: opts.e2e_processing_latency_percentiles.clone(),
        };
        let tcp_addr = reactor
            .local_addr()
            .map_err(other("failed to set up the TCP listener"))?;
        let wakeup = reactor.wakeup();
        let config = v2_config(opts, tls.clone(), auth_tls);
        let limits = config.limits.clone();
        let mut handler =
            V2Handler::new(registry.clone(), config, persister.clone(), wakeup.clone());
        let thread = std::thread::Builder::new()
            .name("nsqd-reactor".into())
            .spawn(move || reactor.run(&mut handler))
            .map_err(other("failed to start the reactor thread"))?;
        log::info!("TCP: listening on {tcp_addr}");
        let options = Arc::new(RwLock::new(opts.clone()));
        let port = |l: &Option<std::net::TcpListener>| match l {
            Some(l) => l.local_addr().map(|a| a.port()),
            None => Ok(0),
        };
        let http_port =
            port(&http_listener).map_err(other("failed to set up the HTTP listener"))?;
        let https_port =
            port(&https_listener).map_err(other("failed to set up the HTTPS listener"))?;
        let hostname = crate::common::net::hostname();
        let identity = lookup_peers::Identity {
            broadcast_address: opts.broadcast_address.clone(),
            hostname: hostname.clone(),
            tcp_port: match opts.broadcast_tcp_port {
                0 => tcp_addr.port(),
                port => port,
            },
            http_port: match opts.broadcast_http_port {
                0 => http_port,
                port => port,
            },
        };
        let lookup = LookupPeers::start(
            registry.clone(),
            identity,
            &opts.lookupd_tcp_addresses,
            wakeup.clone(),
            crate::http::client::Timeouts {
                connect: opts.http_client_connect_timeout,
                total: opts.http_client_request_timeout,
            },
        );
        let mut server = Server {
            tcp_addr,
            http: None,
            https: None,
            wakeup: wakeup.clone(),
            reactor: Some(thread),
            statsd: None,
            stop: Arc::new(AtomicBool::new(false)),
            registry: registry.clone(),
            options: options.clone(),
            lookup: lookup.clone(),
            persister: Some(persister.clone()),
            syncer: None,
            _dir_lock: dir_lock,
        };
        server.syncer = Some(
            durability::spawn_syncer(
                persister.clone(),
                registry.clone(),
                opts.sync_timeout.max(std::time::Duration::from_millis(1)),
                server.stop.clone(),
                wakeup.clone(),
            )
            .map_err(other("failed to start the syncer thread"))?,
        );
        if http_listener.is_some() || https_listener.is_some() {
            let ctx = Arc::new(HttpContext {
                registry: registry.clone(),
                wakeup,
                options,
                node: node.clone(),
                tcp_port: tcp_addr.port(),
                http_port,
                hostname,
                limits,
                lookup,
                persister,
            });
            let router = Arc::new(http_api::router(ctx));
            let config = crate::http::Config {
                max_body_bytes: opts.max_body_size.max(opts.max_msg_size) as usize,
                ..crate::http::Config::default()
            };
            if let Some(listener) = https_listener {
                let config = crate::http::Config {
                    tls: tls.clone(),
                    ..config.clone()
                };
                let https = crate::http::Server::from_listener(listener, router.clone(), config)
                    .map_err(other("failed to start the HTTPS server"))?;
                log::info!("HTTPS: listening on {}", https.addr());
                server.https = Some(https);
            }
            if let Some(listener) = http_listener {
                // `--tls-required=true` (not `tcp-https`): plain HTTP only says where HTTPS is.
                let router = match opts.tls_required.as_str() {
                    "true" => Arc::new(http_api::tls_required_router(https_port)),
                    _ => router,
                };
                let http = crate::http::Server::from_listener(listener, router, config)
                    .map_err(other("failed to start the HTTP server"))?;
                log::info!("HTTP: listening on {}", http.addr());
                server.http = Some(http);
            }
        }
        if !opts.statsd_address.is_empty() {
            let http_port = server.http_addr().map_or(0, |a| a.port());
            let statsd_opts = StatsdOptions {
                address: opts.statsd_address.clone(),
                prefix: opts.statsd_prefix.clone(),
                interval: opts.statsd_interval,
                udp_packet_size: opts.statsd_udp_packet_size,
                mem_stats: opts.statsd_mem_stats,
                exclude_ephemeral: opts.statsd_exclude_ephemeral,
                broadcast_address: opts.broadcast_address.clone(),
                http_port: if opts.broadcast_http_port > 0 {
                    opts.broadcast_http_port
                } else {
                    http_port
                },
            };
            server.statsd = Some(
                statsd::spawn(statsd_opts, registry, node, server.stop.clone())
                    .map_err(other("failed to start the statsd thread"))?,
            );
        }
        Ok(server)
    }

    /// The HTTP address, when the HTTP API is enabled.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http.as_ref().map(crate::http::Server::addr)
    }

    /// The HTTPS address, when a certificate is set and `--https-address` is not empty.
    pub fn https_addr(&self) -> Option<SocketAddr> {
        self.https.as_ref().map(crate::http::Server::addr)
    }

    /// The TCP address clients connect to.
    pub fn tcp_addr(&self) -> SocketAddr {
        self.tcp_addr
    }

    /// Stops accepting, closes every client and waits for the reactor to finish.
    pub fn stop(mut self) -> io::Result<()> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> io::Result<()> {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(http) = self.http.take() {
            http.stop();
        }
        if let Some(https) = self.https.take() {
            https.stop();
        }
        if let Some(statsd) = self.statsd.take() {
            let _ = statsd.join();
        }
        self.lookup.stop();
        self.wakeup.stop();
        let result = match self.reactor.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(io::Error::other("reactor thread panicked")),
            None => Ok(()),
        };
        if let Some(syncer) = self.syncer.take() {
            let _ = syncer.join();
        }
        if let Some(persister) = self.persister.take() {
            // Clients are gone: everything in memory, in flight or deferred goes to disk.
            let mut reg = lock(&self.registry);
            let meta = reg.metadata();
            let work = reg.stop_work(Instant::now());
            drop(reg);
            let started = Instant::now();
            let synced = super::durability::stop(work);
            metadata::save(persister.data_path(), &meta)?;
            synced?;
            log::info!(
                "persisted topics and channels to {} in {:?}",
                persister.data_path().display(),
                started.elapsed()
            );
        }
        result
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            log::error!("stopping nsqd: {e}");
        }
    }
}

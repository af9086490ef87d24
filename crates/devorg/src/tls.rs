//! Serving: plain HTTP, or HTTPS with a self-signed certificate.
//!
//! With TLS on, the org makes a small certificate authority and a server certificate for
//! `127.0.0.1`, `::1` and `localhost` (rcgen), writes them as PEM to `tls/` in the data
//! folder (or a temporary folder), and serves through rustls with the `ring` provider.
//! Clients trust `ca.pem` ([`crate::RunningOrg::ca_pem_path`]). An existing certificate in
//! the data folder is reused, so clients keep trusting it across restarts.
//!
//! Either way, every connection carries its peer address as [`PeerAddr`] connect info.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// How long a client may take to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshaken connections waiting to be served.
const ACCEPT_QUEUE: usize = 64;

/// Why HTTPS could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// Occurs when the certificate folder or a PEM file cannot be written or read.
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    /// Occurs when the certificate cannot be generated.
    #[error("certificate generation: {0}")]
    Generate(#[from] rcgen::Error),
    /// Occurs when a stored PEM file does not hold a usable certificate or key.
    #[error("certificate files: {0}")]
    Pem(String),
    /// Occurs when rustls refuses the certificate and key.
    #[error("tls configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// The PEM files of an org's certificate.
#[derive(Debug)]
pub struct TlsFiles {
    /// The certificate authority clients should trust.
    pub ca_pem: PathBuf,
    /// The server certificate followed by the authority.
    pub cert_pem: PathBuf,
    /// The server's private key.
    pub key_pem: PathBuf,
    /// Keeps a temporary folder alive while the org runs.
    _temp: Option<tempfile::TempDir>,
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> TlsError + '_ {
    move |source| TlsError::Io { path: path.display().to_string(), source }
}

/// Writes (or finds) the certificate files and builds the rustls configuration.
pub fn prepare(data_dir: Option<&Path>) -> Result<(TlsFiles, Arc<ServerConfig>), TlsError> {
    let (dir, temp) = match data_dir {
        Some(d) => (d.join("tls"), None),
        None => {
            let t = tempfile::Builder::new()
                .prefix("devorg-tls-")
                .tempdir()
                .map_err(io_error(Path::new("temporary folder")))?;
            (t.path().to_path_buf(), Some(t))
        }
    };
    std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
    let files = TlsFiles {
        ca_pem: dir.join("ca.pem"),
        cert_pem: dir.join("cert.pem"),
        key_pem: dir.join("key.pem"),
        _temp: temp,
    };
    if !(files.ca_pem.exists() && files.cert_pem.exists() && files.key_pem.exists()) {
        generate(&files)?;
    } else {
        tracing::debug!(dir = %dir.display(), "reusing the stored certificate");
    }
    let config = server_config(&files)?;
    Ok((files, config))
}

fn generate(files: &TlsFiles) -> Result<(), TlsError> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
        KeyPair, KeyUsagePurpose, SanType,
    };

    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.distinguished_name.push(DnType::CommonName, "devorg local authority");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, ca_key);

    let key = KeyPair::generate()?;
    let mut leaf = CertificateParams::new(vec!["localhost".to_string()])?;
    leaf.distinguished_name.push(DnType::CommonName, "devorg");
    leaf.subject_alt_names.push(SanType::IpAddress([127, 0, 0, 1].into()));
    leaf.subject_alt_names.push(SanType::IpAddress(std::net::Ipv6Addr::LOCALHOST.into()));
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.use_authority_key_identifier_extension = true;
    let leaf_cert = leaf.signed_by(&key, &issuer)?;

    let write = |path: &Path, text: String| std::fs::write(path, text).map_err(io_error(path));
    write(&files.ca_pem, ca_cert.pem())?;
    write(&files.cert_pem, format!("{}{}", leaf_cert.pem(), ca_cert.pem()))?;
    write(&files.key_pem, key.serialize_pem())?;
    tracing::info!(ca = %files.ca_pem.display(), "self-signed certificate written");
    Ok(())
}

fn server_config(files: &TlsFiles) -> Result<Arc<ServerConfig>, TlsError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert_pem)
        .map_err(|e| TlsError::Pem(e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::Pem(e.to_string()))?;
    let key =
        PrivateKeyDer::from_pem_file(&files.key_pem).map_err(|e| TlsError::Pem(e.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The peer of a connection, as handlers see it through `ConnectInfo<PeerAddr>`.
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub SocketAddr);

impl Connected<IncomingStream<'_, TcpListener>> for PeerAddr {
    fn connect_info(stream: IncomingStream<'_, TcpListener>) -> Self {
        PeerAddr(*stream.remote_addr())
    }
}

impl Connected<IncomingStream<'_, TlsListener>> for PeerAddr {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Self {
        PeerAddr(*stream.remote_addr())
    }
}

/// A listener that hands out connections once their TLS handshake is done. Handshakes
/// run on their own tasks, so a slow client holds up nobody else.
#[derive(Debug)]
pub struct TlsListener {
    local: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    acceptor_task: JoinHandle<()>,
}

impl TlsListener {
    pub fn new(tcp: TcpListener, config: Arc<ServerConfig>) -> std::io::Result<TlsListener> {
        let local = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(ACCEPT_QUEUE);
        let acceptor = TlsAcceptor::from(config);
        let acceptor_task = tokio::spawn(async move {
            loop {
                let (stream, peer) = match tcp.accept().await {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::debug!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let acceptor = acceptor.clone();
                let ready = tx.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = ready.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(error = %e, "tls handshake failed"),
                        Err(_) => tracing::debug!("tls handshake timed out"),
                    }
                });
                if tx.is_closed() {
                    break;
                }
            }
        });
        Ok(TlsListener { local, ready, acceptor_task })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.acceptor_task.abort();
    }
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

/// Serves `app` on `tcp` (through TLS when `tls` is given) until `shutdown` fires, then
/// waits for requests in flight.
pub fn spawn_server(
    tcp: TcpListener,
    app: Router,
    tls: Option<Arc<ServerConfig>>,
    shutdown: oneshot::Receiver<()>,
) -> std::io::Result<JoinHandle<()>> {
    let stop = async move {
        let _ = shutdown.await;
    };
    let task = match tls {
        None => {
            let service = app.into_make_service_with_connect_info::<PeerAddr>();
            tokio::spawn(async move {
                if let Err(e) = axum::serve(tcp, service).with_graceful_shutdown(stop).await {
                    tracing::warn!(error = %e, "server stopped with an error");
                }
            })
        }
        Some(config) => {
            let listener = TlsListener::new(tcp, config)?;
            let service = app.into_make_service_with_connect_info::<PeerAddr>();
            tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, service).with_graceful_shutdown(stop).await {
                    tracing::warn!(error = %e, "server stopped with an error");
                }
            })
        }
    };
    Ok(task)
}

//! The HTTP listener: accepts TCP connections and serves each with hyper, HTTP/1.1 or HTTP/2 with
//! prior knowledge (h2c), as `axum::serve` does, with the limits `axum::serve` lacks:
//!
//! - **Header read timeout**: a request's head (request line and headers) must be complete within
//!   [`ConnectionLimits::header_read_timeout`] of its first byte (of the connection's opening, for
//!   the first request on a connection). A client that trickles or stalls a head (slowloris) is
//!   disconnected.
//! - **Idle timeout**: a connection with no request being handled and no bytes moving either way
//!   for [`ConnectionLimits::idle_timeout`] is closed: a keep-alive connection waiting for its
//!   next request, an HTTP/2 connection without streams, a client that stopped reading an answer.
//! - **Connection cap**: at most [`ConnectionLimits::max_connections`] connections are open at
//!   once. When that many are, the listener stops accepting: new connections wait in the
//!   operating system's accept queue (its backlog) until one closes; they are not refused.
//! - Every request carries the client's address as `axum::extract::ConnectInfo<SocketAddr>`.
//! - Graceful shutdown: when `shutdown` completes, listening stops, idle connections close, and
//!   the requests being handled finish first.
//!
//! The request timeout (a whole request handled within a time) is a layer of the application
//! ([`crate::ops::RequestLimits`]), so that its answer goes through the request id, the access
//! log and the metrics.
//!
//! Why not hyper's own `header_read_timeout`: in hyper 1.x (`proto/h1/conn.rs`: `poll_read_head`
//! starts the timer, and `State::idle` sets `notify_read` after every answer so that it starts
//! again at once) its timer runs from the moment a connection waits for a request head, which
//! includes the whole wait between keep-alive requests. It would close every idle keep-alive
//! connection after the header timeout (10 s), whatever the idle timeout, and race the idle
//! pools of load balancers in front (commonly 60 s). So it is turned off (hyper's default is 30 s
//! once a timer is set) and both timeouts are kept here, as Go's net/http does them: the header
//! timeout counts from a request's first byte, the idle timeout before it.
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

/// hyper's cap on an HTTP/1 request head in its read buffer (its default is about 400 KB). Above
/// the application's own limits ([`crate::ops::MAX_URI_BYTES`] and
/// [`crate::ops::MAX_HEADER_BYTES`], answered in the error shape), so that a client normally meets
/// those; a head larger than this gets hyper's bare 431 and the connection is closed. It also
/// bounds what a connection that never finishes its head can make the server hold.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// The same for HTTP/2: the largest header list accepted (hyper's default is 16 KiB, which would
/// refuse before the application's 16 KiB check, which counts a little less per header).
const H2_MAX_HEADER_LIST_BYTES: u32 = 64 * 1024;

/// What a connection may take. The defaults are `switchyard serve`'s.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// From a request's first byte (the connection's opening, for its first request) to the end of
    /// its head.
    pub header_read_timeout: Duration,
    /// No request being handled and no bytes moving.
    pub idle_timeout: Duration,
    /// Connections open at once.
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 4096,
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then waits for the open connections to
/// finish their requests.
/// How many connections the operating system may hold, handshake done, for the listener to
/// accept (capped by `net.core.somaxconn`). The standard library's (and tokio's) 128 overflows
/// under a burst of a few hundred connections: the kernel then drops handshakes, and clients wait
/// for retransmissions, seconds each.
pub const BACKLOG: u32 = 4096;

/// Listens on `addr` (a socket address or `host:port`) with a [`BACKLOG`]-deep accept queue.
pub async fn bind(addr: &str) -> io::Result<TcpListener> {
    let mut last = None;
    for a in tokio::net::lookup_host(addr).await? {
        let socket = if a.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        match socket.bind(a).and_then(|()| socket.listen(BACKLOG)) {
            Ok(listener) => return Ok(listener),
            Err(e) => last = Some(e),
        }
    }
    Err(last
        .unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address to listen on")))
}

pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let limits = Arc::new(limits);
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(None)
        .max_buf_size(MAX_HEAD_BYTES);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(H2_MAX_HEADER_LIST_BYTES);
    let builder = Arc::new(builder);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut last_full_warning: Option<Instant> = None;
    loop {
        let permit = match permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if last_full_warning.is_none_or(|at| at.elapsed() > Duration::from_secs(60)) {
                    tracing::warn!(
                        max_connections = limits.max_connections,
                        "the connection limit is reached: new connections wait in the accept queue until one closes"
                    );
                    last_full_warning = Some(Instant::now());
                }
                tokio::select! {
                    biased;
                    () = &mut shutdown => break,
                    permit = permits.clone().acquire_owned() => permit.expect("the connection semaphore is never closed"),
                }
            }
        };
        let (stream, peer) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_error(e).await;
                    continue;
                }
            },
        };
        spawn_connection(
            stream,
            peer,
            &app,
            &builder,
            &limits,
            graceful.watcher(),
            permit,
        );
    }
    drop(listener);
    tracing::info!(
        open_connections = graceful.count(),
        "no longer accepting connections; finishing the requests in flight"
    );
    graceful.shutdown().await;
}

/// As hyper 0.14 and axum do: a client's reset is nothing; anything else (no file descriptors
/// left, say) is logged and the listener pauses a second rather than spin.
async fn accept_error(e: io::Error) {
    if matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "could not accept a connection; pausing for a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

fn spawn_connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: &Router,
    builder: &Arc<auto::Builder<TokioExecutor>>,
    limits: &Arc<ConnectionLimits>,
    watcher: Watcher,
    permit: OwnedSemaphorePermit,
) {
    let tracker = Arc::new(Tracker::new());
    let io = TokioIo::new(Watched {
        inner: stream,
        tracker: tracker.clone(),
        sniff: Sniff::Pending(0),
    });
    let service = TowerToHyperService::new(ConnectionService {
        app: app.clone(),
        peer,
        tracker: tracker.clone(),
    });
    let (builder, limits) = (builder.clone(), limits.clone());
    tokio::spawn(async move {
        let _permit = permit;
        let _open = OpenConnection::new();
        let connection = watcher.watch(builder.serve_connection(io, service));
        tokio::select! {
            result = connection => {
                if let Err(e) = result {
                    tracing::debug!(client = %peer, error = %e, "connection ended with an error");
                }
            }
            reason = tracker.expired(&limits) => {
                // Dropping the connection closes the socket.
                tracing::debug!(client = %peer, reason, "closing a connection");
                metrics::counter!("switchyard_http_connections_timed_out_total", "reason" => reason).increment(1);
            }
        }
    });
}

/// `switchyard_http_open_connections`, up while a connection is served.
struct OpenConnection;

impl OpenConnection {
    fn new() -> Self {
        metrics::gauge!("switchyard_http_open_connections").increment(1.0);
        OpenConnection
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        metrics::gauge!("switchyard_http_open_connections").decrement(1.0);
    }
}

/// The application as one connection's hyper service: adds the client's address to each request
/// and tells the connection's [`Tracker`] while a request is being handled.
#[derive(Clone)]
struct ConnectionService {
    app: Router,
    peer: SocketAddr,
    tracker: Arc<Tracker>,
}

impl tower::Service<hyper::Request<Incoming>> for ConnectionService {
    type Response = axum::response::Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: hyper::Request<Incoming>) -> Self::Future {
        // hyper calls this as soon as a request's head is read.
        let handling = Handling::start(&self.tracker);
        let mut req = req.map(Body::new);
        req.extensions_mut().insert(ConnectInfo(self.peer));
        let response = tower::ServiceExt::oneshot(self.app.clone(), req);
        Box::pin(async move {
            let response = response.await;
            drop(handling);
            response
        })
    }
}

/// One connection's state, for its deadlines: written by its IO (bytes moved) and its service
/// (requests handled), read by the task serving it. Times are milliseconds since `opened`, plus
/// one (0: none).
struct Tracker {
    opened: Instant,
    /// Requests whose handler is running (HTTP/2: several at once).
    handling: AtomicUsize,
    /// When the head being read began (HTTP/1 only); 0 when none is.
    head_since: AtomicU64,
    /// The later of the last byte moved and the end of the last request handled.
    quiet_since: AtomicU64,
    /// The connection spoke HTTP/2's preface: no request heads to time.
    h2: AtomicBool,
    /// Something that can bring a deadline nearer happened.
    changed: Notify,
}

impl Tracker {
    fn new() -> Self {
        // The first request's head is timed from the connection's opening: a connection that
        // sends nothing is as stalled as one that sends half a head.
        Self {
            opened: Instant::now(),
            handling: AtomicUsize::new(0),
            head_since: AtomicU64::new(1),
            quiet_since: AtomicU64::new(1),
            h2: AtomicBool::new(false),
            changed: Notify::new(),
        }
    }

    fn now(&self) -> u64 {
        self.opened.elapsed().as_millis() as u64 + 1
    }

    fn at(&self, stamp: u64, after: Duration) -> Instant {
        self.opened + Duration::from_millis(stamp.saturating_sub(1)) + after
    }

    fn bytes_read(&self) {
        let now = self.now();
        self.quiet_since.store(now, Ordering::Relaxed);
        // Bytes while no request is handled begin a head (HTTP/1), timed from here.
        if self.handling.load(Ordering::Acquire) == 0
            && !self.h2.load(Ordering::Relaxed)
            && self
                .head_since
                .compare_exchange(0, now, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            self.changed.notify_one();
        }
    }

    fn bytes_written(&self) {
        self.quiet_since.store(self.now(), Ordering::Relaxed);
    }

    fn speaks_h2(&self) {
        self.h2.store(true, Ordering::Relaxed);
        self.head_since.store(0, Ordering::Release);
        self.quiet_since.store(self.now(), Ordering::Relaxed);
        self.changed.notify_one();
    }

    /// When the connection is to be closed, and why; `None` while a request is being handled.
    fn deadline(&self, limits: &ConnectionLimits) -> Option<(Instant, &'static str)> {
        if self.handling.load(Ordering::Acquire) > 0 {
            return None;
        }
        let mut deadline = (
            self.at(
                self.quiet_since.load(Ordering::Relaxed),
                limits.idle_timeout,
            ),
            "idle timeout",
        );
        let head = self.head_since.load(Ordering::Acquire);
        if head != 0 && !self.h2.load(Ordering::Relaxed) {
            let at = self.at(head, limits.header_read_timeout);
            if at < deadline.0 {
                deadline = (at, "header read timeout");
            }
        }
        Some(deadline)
    }

    /// Completes when the connection has passed a deadline, with the reason.
    async fn expired(&self, limits: &ConnectionLimits) -> &'static str {
        loop {
            // Made before the state is read: a change in between leaves a permit, not a lost wake-up.
            let changed = self.changed.notified();
            match self.deadline(limits) {
                None => changed.await,
                Some((at, reason)) => {
                    if Instant::now() >= at {
                        return reason;
                    }
                    tokio::select! {
                        () = changed => {}
                        () = tokio::time::sleep_until(at.into()) => {}
                    }
                }
            }
        }
    }
}

/// A request being handled, from its head read to its answer's head returned.
struct Handling(Arc<Tracker>);

impl Handling {
    fn start(tracker: &Arc<Tracker>) -> Self {
        tracker.handling.fetch_add(1, Ordering::AcqRel);
        tracker.head_since.store(0, Ordering::Release);
        Handling(tracker.clone())
    }
}

impl Drop for Handling {
    fn drop(&mut self) {
        let t = &self.0;
        t.quiet_since.store(t.now(), Ordering::Relaxed);
        if t.handling.fetch_sub(1, Ordering::AcqRel) == 1 {
            t.changed.notify_one();
        }
    }
}

const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Whether the connection opened with HTTP/2's preface (how many of its bytes matched so far).
enum Sniff {
    Pending(usize),
    Done,
}

/// The socket, telling its [`Tracker`] when bytes move.
struct Watched {
    inner: TcpStream,
    tracker: Arc<Tracker>,
    sniff: Sniff,
}

impl Watched {
    fn sniff(&mut self, bytes: &[u8]) {
        let Sniff::Pending(seen) = self.sniff else {
            return;
        };
        let n = bytes.len().min(H2_PREFACE.len() - seen);
        if bytes[..n] != H2_PREFACE[seen..seen + n] {
            self.sniff = Sniff::Done;
        } else if seen + n == H2_PREFACE.len() {
            self.sniff = Sniff::Done;
            self.tracker.speaks_h2();
        } else {
            self.sniff = Sniff::Pending(seen + n);
        }
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = result {
            if buf.filled().len() > before {
                this.sniff(&buf.filled()[before..]);
                this.tracker.bytes_read();
            }
        }
        result
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = result {
            if n > 0 {
                this.tracker.bytes_written();
            }
        }
        result
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = result {
            if n > 0 {
                this.tracker.bytes_written();
            }
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

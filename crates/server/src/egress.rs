//! The egress guard: the one way Switchyard calls the outside world (OAuth2 token, refresh and
//! code exchange, OAuth 1.0a, mutual TLS, credential checks; later the proxy and webhooks).
//!
//! - The host is resolved by [`GuardedResolver`] and the connection is made to the addresses it
//!   checked, so there is no window between the check and the connection for DNS rebinding. A host
//!   that is an IP literal (which the HTTP client never resolves) is checked when the request is
//!   built ([`Egress::request`]).
//! - Loopback, private (RFC 1918, fc00::/7), link-local, CGNAT, unspecified, multicast, broadcast,
//!   reserved and documentation ranges, and IPv6 forms that embed such an IPv4 address (mapped,
//!   compatible, NAT64, 6to4) are refused unless the operator allows a range
//!   (`--egress-allow`, [`EgressPolicy::parse`]).
//! - Redirects are never followed, no environment proxy is used, connections and requests time
//!   out, and answers are read up to a bound ([`read_body`]).
use bytes::{Bytes, BytesMut};
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// How much of a provider's answer is read: more is an error, and the rest is never read.
pub const MAX_PROVIDER_BODY: usize = 1024 * 1024;

/// Which addresses outbound requests may reach: every public address, plus the ranges the
/// operator allows.
#[derive(Debug, Clone, Default)]
pub struct EgressPolicy {
    allow: Vec<IpNet>,
}

impl EgressPolicy {
    /// A comma-separated list of CIDRs or single addresses (`127.0.0.1/32,10.1.0.0/16,::1`);
    /// empty: nothing internal is allowed.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut allow = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let net = match item.parse::<IpNet>() {
                Ok(n) => n,
                Err(_) => item
                    .parse::<IpAddr>()
                    .map(IpNet::from)
                    .map_err(|_| format!("{item:?} is not an IP address or CIDR range"))?,
            };
            allow.push(net);
        }
        Ok(Self { allow })
    }

    /// Whether a request may go to `ip`.
    pub fn permits(&self, ip: IpAddr) -> bool {
        let canonical = canonical(ip);
        !is_internal(canonical)
            || self
                .allow
                .iter()
                .any(|n| n.contains(&canonical) || n.contains(&ip))
    }

    /// The allowed ranges, for the start-up log.
    pub fn allowed(&self) -> &[IpNet] {
        &self.allow
    }
}

/// The IPv4 address an IPv6 address stands for (mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`,
/// NAT64 `64:ff9b::a.b.c.d`, 6to4 `2002:AABB:CCDD::`), or the address itself.
fn canonical(ip: IpAddr) -> IpAddr {
    let IpAddr::V6(v6) = ip else { return ip };
    if let Some(v4) = v6.to_ipv4_mapped() {
        return IpAddr::V4(v4);
    }
    let s = v6.segments();
    let embedded = |hi: u16, lo: u16| {
        IpAddr::V4(Ipv4Addr::new(
            (hi >> 8) as u8,
            hi as u8,
            (lo >> 8) as u8,
            lo as u8,
        ))
    };
    // IPv4-compatible (deprecated), but not :: and ::1 themselves.
    if s[..6] == [0, 0, 0, 0, 0, 0] && !(s[6] == 0 && s[7] <= 1) {
        return embedded(s[6], s[7]);
    }
    // NAT64 well-known and local-use prefixes.
    if s[0] == 0x64 && s[1] == 0xff9b && (s[2..6] == [0, 0, 0, 0] || s[2] == 1) {
        return embedded(s[6], s[7]);
    }
    // 6to4.
    if s[0] == 0x2002 {
        return embedded(s[1], s[2]);
    }
    ip
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], prefix: u8) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    };
    (u32::from(ip) & mask) == (u32::from(Ipv4Addr::from(net)) & mask)
}

fn in_v6(ip: Ipv6Addr, net: Ipv6Addr, prefix: u8) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - prefix)
    };
    (u128::from(ip) & mask) == (u128::from(net) & mask)
}

/// Addresses no tenant may make the server call: everything that is not the public internet.
fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            const RANGES: [([u8; 4], u8); 15] = [
                ([0, 0, 0, 0], 8),       // "this network", unspecified
                ([10, 0, 0, 0], 8),      // private
                ([100, 64, 0, 0], 10),   // CGNAT
                ([127, 0, 0, 0], 8),     // loopback
                ([169, 254, 0, 0], 16),  // link-local (cloud metadata)
                ([172, 16, 0, 0], 12),   // private
                ([192, 0, 0, 0], 24),    // IETF protocol assignments
                ([192, 0, 2, 0], 24),    // documentation
                ([192, 88, 99, 0], 24),  // 6to4 relay anycast
                ([192, 168, 0, 0], 16),  // private
                ([198, 18, 0, 0], 15),   // benchmarking
                ([198, 51, 100, 0], 24), // documentation
                ([203, 0, 113, 0], 24),  // documentation
                ([224, 0, 0, 0], 4),     // multicast
                ([240, 0, 0, 0], 4),     // reserved, broadcast
            ];
            RANGES.iter().any(|(net, prefix)| in_v4(v4, *net, *prefix))
        }
        IpAddr::V6(v6) => {
            let ranges: [(Ipv6Addr, u8); 10] = [
                (Ipv6Addr::UNSPECIFIED, 128),
                (Ipv6Addr::LOCALHOST, 128),
                (Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0), 64), // discard
                (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32), // documentation
                (Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20), // documentation
                (Ipv6Addr::new(0x2001, 0x10, 0, 0, 0, 0, 0, 0), 28), // ORCHID
                (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7), // unique local
                (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10), // link-local
                (Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10), // site-local (deprecated)
                (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8), // multicast
            ];
            ranges.iter().any(|(net, prefix)| in_v6(v6, *net, *prefix))
        }
    }
}

/// Why an outbound request did not happen or did not succeed, in words safe to show to whoever
/// caused it (never a URL, which may carry secrets, nor what a peer said).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EgressError {
    /// Not an absolute http(s) URL with a host.
    BadUrl,
    /// The host is, or resolves to, an address the policy refuses.
    Forbidden,
    /// The peer could not be reached or did not answer in time.
    Unreachable(&'static str),
    /// The answer was larger than the bound.
    TooLarge,
}

impl std::fmt::Display for EgressError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EgressError::BadUrl => f.write_str("the URL is not an absolute http(s) URL"),
            EgressError::Forbidden => f.write_str(
                "the address is not allowed: Switchyard does not call loopback, private, link-local or other internal addresses unless the operator allows them (SWITCHYARD_EGRESS_ALLOW)",
            ),
            EgressError::Unreachable(why) => f.write_str(why),
            EgressError::TooLarge => write!(f, "the answer is larger than {} bytes", MAX_PROVIDER_BODY),
        }
    }
}

impl std::error::Error for EgressError {}

/// The marker error the resolver returns for a refused address, found again in the client's error.
#[derive(Debug)]
struct Refused;

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("refused by the egress policy")
    }
}

impl std::error::Error for Refused {}

/// Resolves a host and refuses it when any of its addresses is internal (a host with one public
/// and one private address could be steered to the private one).
struct GuardedResolver {
    policy: Arc<EgressPolicy>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addrs.iter().any(|a| !policy.permits(a.ip())) {
                metrics::counter!("switchyard_egress_refused_total").increment(1);
                tracing::warn!(host = %host, "an outbound request to an internal address was refused");
                return Err(Box::new(Refused) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The outbound HTTP client: every request Switchyard makes goes through one of these.
#[derive(Clone)]
pub struct Egress {
    client: reqwest::Client,
    policy: Arc<EgressPolicy>,
}

impl Egress {
    pub fn new(policy: EgressPolicy) -> Self {
        let policy = Arc::new(policy);
        let client = Self::builder(&policy)
            .build()
            .expect("a reqwest client with these settings builds");
        Self { client, policy }
    }

    /// The settings every egress client has: bounded timeouts, no redirects (a token endpoint
    /// that redirects is misconfigured, and following it could leak the client secret), no
    /// environment proxy, and the guarded resolver.
    fn builder(policy: &Arc<EgressPolicy>) -> reqwest::ClientBuilder {
        reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver {
                policy: policy.clone(),
            }))
            .user_agent(concat!("switchyard/", env!("CARGO_PKG_VERSION")))
    }

    /// The same guard, presenting a client certificate (mutual TLS) and trusting `roots` besides
    /// the usual ones.
    pub fn with_identity(
        &self,
        identity: reqwest::Identity,
        roots: Vec<reqwest::Certificate>,
    ) -> Result<Egress, reqwest::Error> {
        let mut builder = Self::builder(&self.policy).identity(identity);
        for cert in roots {
            builder = builder.add_root_certificate(cert);
        }
        Ok(Egress {
            client: builder.build()?,
            policy: self.policy.clone(),
        })
    }

    /// A request to `url`, once the URL is an absolute http(s) URL whose host, if it is an IP
    /// literal, is allowed (names are checked when they are resolved).
    pub fn request(
        &self,
        method: reqwest::Method,
        url: &str,
    ) -> Result<reqwest::RequestBuilder, EgressError> {
        let parsed = url::Url::parse(url).map_err(|_| EgressError::BadUrl)?;
        self.check(&parsed)?;
        Ok(self.client.request(method, parsed))
    }

    /// `POST url`, checked as [`Egress::request`] checks.
    pub fn post(&self, url: &str) -> Result<reqwest::RequestBuilder, EgressError> {
        self.request(reqwest::Method::POST, url)
    }

    /// Whether `url` may be called, as far as can be told without resolving it.
    pub fn check(&self, url: &url::Url) -> Result<(), EgressError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(EgressError::BadUrl);
        }
        let ip = match url.host() {
            Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
            Some(url::Host::Domain(d)) if !d.is_empty() => return Ok(()),
            _ => return Err(EgressError::BadUrl),
        };
        if self.policy.permits(ip) {
            Ok(())
        } else {
            metrics::counter!("switchyard_egress_refused_total").increment(1);
            tracing::warn!(host = %ip, "an outbound request to an internal address was refused");
            Err(EgressError::Forbidden)
        }
    }
}

/// What became of a request the client could not complete, without its URL.
pub fn classify(e: &reqwest::Error) -> EgressError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.is::<Refused>() {
            return EgressError::Forbidden;
        }
        source = err.source();
    }
    if e.is_timeout() {
        EgressError::Unreachable("the request timed out")
    } else if e.is_connect() {
        EgressError::Unreachable("the connection failed")
    } else {
        EgressError::Unreachable("the request failed")
    }
}

/// Sends a request built by an [`Egress`].
pub async fn send(request: reqwest::RequestBuilder) -> Result<reqwest::Response, EgressError> {
    request.send().await.map_err(|e| classify(&e))
}

/// Reads an answer's body up to `limit` bytes; a longer one is dropped (its connection closed)
/// with [`EgressError::TooLarge`].
pub async fn read_body(mut res: reqwest::Response, limit: usize) -> Result<Bytes, EgressError> {
    if res.content_length().is_some_and(|n| n > limit as u64) {
        return Err(EgressError::TooLarge);
    }
    let mut buf = BytesMut::new();
    while let Some(chunk) = res.chunk().await.map_err(|e| classify(&e))? {
        if buf.len() + chunk.len() > limit {
            return Err(EgressError::TooLarge);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn internal_addresses_are_refused_in_every_form() {
        let p = EgressPolicy::default();
        for bad in [
            "127.0.0.1",
            "127.1.2.3",
            "0.0.0.0",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.2.10",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::10.0.0.1",
            "2002:7f00:1::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
        ] {
            assert!(!p.permits(ip(bad)), "{bad} must be refused");
        }
        for good in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "2002:0808:0808::",
        ] {
            assert!(p.permits(ip(good)), "{good} must be allowed");
        }
    }

    #[test]
    fn allowed_ranges_open_exactly_what_they_name() {
        let p = EgressPolicy::parse("127.0.0.1/32, 10.1.0.0/16,::1").unwrap();
        assert!(p.permits(ip("127.0.0.1")));
        assert!(p.permits(ip("::ffff:127.0.0.1")));
        assert!(p.permits(ip("::1")));
        assert!(p.permits(ip("10.1.200.3")));
        assert!(!p.permits(ip("127.0.0.2")));
        assert!(!p.permits(ip("10.2.0.1")));
        assert!(EgressPolicy::parse("127.0.0.1/33").is_err());
        assert!(EgressPolicy::parse("localhost").is_err());
        assert!(EgressPolicy::parse("").unwrap().allowed().is_empty());
    }

    #[test]
    fn ip_literal_urls_are_checked_before_any_connection() {
        let e = Egress::new(EgressPolicy::default());
        for url in [
            "http://127.0.0.1:9/token",
            "http://2130706433/token",
            "http://0x7f.1/token",
            "http://0.0.0.0/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::1]:8080/",
            "http://169.254.169.254/latest/meta-data",
        ] {
            assert_eq!(
                e.request(reqwest::Method::POST, url).err(),
                Some(EgressError::Forbidden),
                "{url}"
            );
        }
        assert_eq!(
            e.request(reqwest::Method::POST, "file:///etc/passwd").err(),
            Some(EgressError::BadUrl)
        );
        assert_eq!(
            e.request(reqwest::Method::POST, "not a url").err(),
            Some(EgressError::BadUrl)
        );
        assert!(e
            .request(reqwest::Method::POST, "https://provider.example/token")
            .is_ok());
    }

    #[tokio::test]
    async fn names_resolving_to_internal_addresses_are_refused_without_a_connection() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let e = Egress::new(EgressPolicy::default());
        let err = send(e.post(&format!("http://localhost:{port}/token")).unwrap())
            .await
            .unwrap_err();
        assert_eq!(err, EgressError::Forbidden);
        // Nothing connected.
        assert!(listener.accept().is_err());
        // With the range allowed, the same request connects.
        let open = Egress::new(EgressPolicy::parse("127.0.0.0/8,::1").unwrap());
        let _ = tokio::time::timeout(
            Duration::from_millis(500),
            send(
                open.post(&format!("http://localhost:{port}/token"))
                    .unwrap(),
            ),
        )
        .await;
        assert!(listener.accept().is_ok());
    }
}

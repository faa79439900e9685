//! Server limits, over real sockets against the real binary: slowloris heads are cut at the header
//! read timeout while others are served; idle keep-alive connections close at the idle timeout
//! (not the header timeout); a request stuck on a provider that never answers gets a 503 at the
//! request timeout; oversized URIs, headers and bodies get 414, 431 and 413 in the error shape
//! (the 413 from every operation that takes a body); the connection cap holds; a graceful
//! shutdown lets a request in flight finish; and the embedded SQLite runs `synchronous=FULL`
//! unless told `normal`.

use crate::common::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn addr(server: &Server) -> String {
    server.url.trim_start_matches("http://").to_owned()
}

/// How long until the server closes `s` (a read gives 0 bytes or an error), reading and dropping
/// whatever comes before; `None` if it is still open after `within`.
async fn closed_after(s: &mut TcpStream, start: Instant, within: Duration) -> Option<Duration> {
    let mut buf = [0u8; 4096];
    loop {
        let left = within.checked_sub(start.elapsed())?;
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(start.elapsed()),
            Ok(Ok(_)) => {}
        }
    }
}

/// One HTTP/1.1 answer read off `s`: status, headers (lower-case names), body as JSON (or Null).
async fn read_response(s: &mut TcpStream) -> (u16, Vec<(String, String)>, Value) {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut buf).await.expect("reading an answer");
        assert!(
            n > 0,
            "the connection closed before an answer; got {:?}",
            String::from_utf8_lossy(&data)
        );
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .map_or(0, |(_, v)| v.parse().unwrap());
    while data.len() < head_end + len {
        let n = s.read(&mut buf).await.expect("reading a body");
        assert!(n > 0, "the connection closed in the middle of a body");
        data.extend_from_slice(&buf[..n]);
    }
    let body = &data[head_end..head_end + len];
    (
        status,
        headers,
        if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(body)
                .unwrap_or_else(|_| panic!("not JSON: {:?}", String::from_utf8_lossy(body)))
        },
    )
}

async fn get_healthz(s: &mut TcpStream) -> u16 {
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    read_response(s).await.0
}

/// A `switchyard serve` started with flags (the harness's [`Server`] takes environment variables),
/// for the tests that stop it themselves or check its flags.
struct Process {
    child: Child,
    url: String,
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Process {
    fn start(db: &Db, args: &[&str]) -> Process {
        let mut cmd = bin();
        cmd.args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            &db.url,
            "--data-dir",
        ])
        .arg(&db.dir)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log2 = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("switchyard listening on ") {
                    let _ = tx.send(
                        rest.split_whitespace()
                            .next()
                            .unwrap_or_default()
                            .to_owned(),
                    );
                }
                log2.lock().unwrap().push(line);
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("server did not start: {:?}", log.lock().unwrap()));
        Process { child, url, log }
    }

    fn logs(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// 500 slowloris connections (half a head, then nothing; some trickling a header byte every 300
/// ms for 15 s; some sending nothing at all) against a 2 s header timeout: every one is closed by
/// the server soon after 2 s (within 10 s on a loaded machine, far below the 60 s idle timeout
/// and the trickle's 15 s), not before, while ordinary requests are answered throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_heads_are_cut_at_the_header_timeout() {
    let db = Db::new(Backend::Sqlite).await.unwrap();
    let (org, key) = create_org(&db, "acme");
    let server = Server::start_with(&db, &[("SWITCHYARD_HEADER_READ_TIMEOUT_SECONDS", "2")]);
    let api = Api::new(&server, &key);
    let target = addr(&server);

    let mut attackers = Vec::new();
    for i in 0..500 {
        let target = target.clone();
        attackers.push(tokio::spawn(async move {
            let mut s = TcpStream::connect(&target).await.expect("connect");
            let opened = Instant::now();
            match i % 10 {
                // Nothing at all.
                0 => {}
                // Trickling: a header byte every 300 ms, past the timeout.
                1 => {
                    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                        .await
                        .unwrap();
                    let (mut r, mut w) = s.into_split();
                    tokio::spawn(async move {
                        for _ in 0..50 {
                            tokio::time::sleep(Duration::from_millis(300)).await;
                            if w.write_all(b"a").await.is_err() {
                                break;
                            }
                        }
                    });
                    let mut buf = [0u8; 64];
                    loop {
                        let left = Duration::from_secs(15).checked_sub(opened.elapsed())?;
                        match tokio::time::timeout(left, r.read(&mut buf)).await {
                            Err(_) => return None,
                            Ok(Ok(0)) | Ok(Err(_)) => return Some(opened.elapsed()),
                            Ok(Ok(_)) => {}
                        }
                    }
                }
                // Half a head, then nothing.
                _ => s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await.unwrap(),
            }
            closed_after(&mut s, opened, Duration::from_secs(15)).await
        }));
    }
    // Ordinary requests are answered during the attack, on new connections and on one kept alive.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for _ in 0..5 {
        api.get("/healthz").await.expect(200);
        api.get(&format!("/api/connect/v1/o/{org}/connectors"))
            .await
            .expect(200);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut closes = Vec::new();
    for a in attackers {
        closes.push(a.await.unwrap());
    }
    let open: usize = closes.iter().filter(|c| c.is_none()).count();
    assert_eq!(
        open, 0,
        "{open} of 500 slowloris connections were still open 15 s after opening"
    );
    let closes: Vec<Duration> = closes.into_iter().flatten().collect();
    let (first, last) = (closes.iter().min().unwrap(), closes.iter().max().unwrap());
    assert!(
        *first >= Duration::from_millis(1800),
        "a connection was closed {first:?} after opening, before the 2 s header timeout"
    );
    // Far below the idle timeout (60 s) and the trickle's 15 s: the header timeout closed them.
    // The margin over 2 s is for a loaded machine (this binary runs its tests side by side).
    assert!(
        *last <= Duration::from_secs(10),
        "a connection was closed only {last:?} after opening (header timeout 2 s)"
    );
    api.get("/healthz").await.expect(200);
}

/// A keep-alive connection waiting for its next request is closed at the idle timeout (3 s), not
/// at the header timeout (1 s), which counts only from a request's first byte.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_keep_alive_connections_close_at_the_idle_timeout() {
    let db = Db::new(Backend::Sqlite).await.unwrap();
    let server = Server::start_with(
        &db,
        &[
            ("SWITCHYARD_HEADER_READ_TIMEOUT_SECONDS", "1"),
            ("SWITCHYARD_IDLE_TIMEOUT_SECONDS", "3"),
        ],
    );
    let mut s = TcpStream::connect(addr(&server)).await.unwrap();
    assert_eq!(get_healthz(&mut s).await, 200);
    // Idle past the header timeout: still open, and serves the next request.
    tokio::time::sleep(Duration::from_millis(1800)).await;
    assert_eq!(
        get_healthz(&mut s).await,
        200,
        "the connection served a request after 1.8 s idle"
    );
    let idle_from = Instant::now();
    let closed = closed_after(&mut s, idle_from, Duration::from_secs(8))
        .await
        .expect("an idle connection is closed");
    assert!(
        closed >= Duration::from_millis(2800) && closed <= Duration::from_millis(4500),
        "closed {closed:?} after its last answer (idle timeout 3 s)"
    );

    // A head begun after an idle wait is timed from its first byte.
    let mut s = TcpStream::connect(addr(&server)).await.unwrap();
    assert_eq!(get_healthz(&mut s).await, 200);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    s.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
    let started = Instant::now();
    let closed = closed_after(&mut s, started, Duration::from_secs(5))
        .await
        .expect("a stalled head is cut");
    assert!(
        closed >= Duration::from_millis(800) && closed <= Duration::from_millis(2500),
        "a head stalled after an idle wait was cut {closed:?} after its first byte (header timeout 1 s)"
    );
}

/// A request that waits on an OAuth provider that never answers (its client gives up after 30 s)
/// gets a 503 in the error shape at the request timeout (2 s), and the server serves on. (What
/// the stopped handler wrote before the provider call stays: here the connection, whose token
/// check never finished; see the README on the request timeout.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_past_the_request_timeout_gets_a_shaped_503() {
    let db = Db::new(Backend::Sqlite).await.unwrap();
    let (org, key) = create_org(&db, "acme");
    let server = Server::start_with(&db, &[("SWITCHYARD_REQUEST_TIMEOUT_SECONDS", "2")]);
    let api = Api::new(&server, &key);
    // The provider: accepts connections and reads, never answers.
    let provider = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let token_url = format!("http://{}/token", provider.local_addr().unwrap());
    let (seen_tx, mut seen_rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut s, _)) = provider.accept().await {
            let mut buf = vec![0u8; 4096];
            let n = s.read(&mut buf).await.unwrap_or(0);
            let _ = seen_tx.send(String::from_utf8_lossy(&buf[..n]).into_owned());
            held.push(s);
        }
    });
    let scheme = json!({"id": "cc", "schemeType": "oauth2", "authorizeUrl": "", "tokenUrl": token_url, "grant": {"grantType": "client_credentials"}});
    let connector = api
        .post(
            &format!("/api/connect/v1/o/{org}/protocols/http/connectors"),
            json!({"name": "Slow", "baseUrl": "https://slow.example", "authSchemeConfigs": [scheme]}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let connections = format!("/api/connect/v1/o/{org}/connectors/{connector}/connections");
    let body = json!({"name": "service account", "credentials": {"action": [{"authSchemeConfig": scheme, "credential": {"name": "client", "type": "oauth2-client",
        "data": {"clientId": "cid", "clientSecret": "csecret", "tokenUrl": token_url}}}]}, "variables": []});
    let started = Instant::now();
    let e = api.post(&connections, body).await.error(503);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_secs(10),
        "answered after {took:?} (request timeout 2 s)"
    );
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("not answered within 2 seconds"),
        "{e}"
    );
    let seen = tokio::time::timeout(Duration::from_secs(1), seen_rx.recv())
        .await
        .expect("the provider was called")
        .unwrap();
    assert!(
        seen.starts_with("POST /token"),
        "the slow call was the token request: {seen}"
    );
    api.get(&connections).await.expect(200);
    api.get("/healthz").await.expect(200);
    assert!(
        server.logs().contains("request timeout"),
        "the timeout is logged: {}",
        server.logs()
    );
}

/// A 9 KiB URI is a 414, 20 KiB of headers a 431, a declared 2 MiB body a 413, before routing
/// (an unknown path, a GET); just under the limits is served.
async fn oversized_heads(w: World) {
    let http = reqwest::Client::new();
    let base = &w.server.url;
    let r = http
        .get(format!("{base}/healthz?q={}", "a".repeat(9 * 1024)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 414);
    assert!(r.headers().contains_key("x-request-id"));
    let e: Value = r.json().await.unwrap();
    assert_error_shape(&e, 414);
    assert_eq!(Res::fields(&e), ["uri"]);
    // Just under: served.
    let r = http
        .get(format!("{base}/healthz?q={}", "a".repeat(8 * 1024 - 20)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let connectors = format!("{base}/api/connect/v1/o/{}/connectors", w.org);
    let mut req = http.get(&connectors).bearer_auth(&w.key);
    for i in 0..20 {
        req = req.header(format!("x-big-{i:02}"), "b".repeat(1024));
    }
    let r = req.send().await.unwrap();
    assert_eq!(r.status(), 431);
    let e: Value = r.json().await.unwrap();
    assert_error_shape(&e, 431);
    assert!(Res::fields(&e)[0].starts_with("x-big-"), "{e}");
    // 14 KiB of headers: served.
    let mut req = http.get(&connectors).bearer_auth(&w.key);
    for i in 0..14 {
        req = req.header(format!("x-big-{i:02}"), "b".repeat(1000));
    }
    assert_eq!(req.send().await.unwrap().status(), 200);

    // A declared body over 1 MiB, whatever the route: 413 before anything reads it.
    for (method, path) in [
        ("POST", "/api/embedded/v1/hubs"),
        ("GET", "/healthz"),
        ("PUT", "/no/such/path"),
    ] {
        let mut s = TcpStream::connect(base.trim_start_matches("http://"))
            .await
            .unwrap();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 2097152\r\n\r\n",
            w.key
        );
        s.write_all(head.as_bytes()).await.unwrap();
        let (status, _, e) = read_response(&mut s).await;
        assert_eq!(status, 413, "{method} {path}: {e}");
        assert_error_shape(&e, 413);
        assert_eq!(Res::fields(&e), ["body"]);
    }
    // Nothing was created by any of it.
    assert_eq!(
        w.api
            .get(&format!("/api/connect/v1/o/{}/connectors", w.org))
            .await
            .expect(200)["totalCount"],
        0
    );
}

/// Sends `body_len` bytes of `{` as a chunked body (no length declared), and reads the answer.
async fn chunked(
    base: &str,
    method: &str,
    path: &str,
    extra: &str,
    body_len: usize,
) -> (u16, Value) {
    let mut s = TcpStream::connect(base.trim_start_matches("http://"))
        .await
        .unwrap();
    let head = format!("{method} {path} HTTP/1.1\r\nHost: x\r\n{extra}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
    s.write_all(head.as_bytes()).await.unwrap();
    let (mut r, mut w) = s.into_split();
    let writer = tokio::spawn(async move {
        let chunk = vec![b' '; 64 * 1024];
        let mut sent = 0;
        while sent < body_len {
            let n = chunk.len().min(body_len - sent);
            let mut frame = format!("{n:x}\r\n").into_bytes();
            frame.extend_from_slice(&chunk[..n]);
            frame.extend_from_slice(b"\r\n");
            if w.write_all(&frame).await.is_err() {
                return;
            }
            sent += n;
        }
        let _ = w.write_all(b"0\r\n\r\n").await;
        // Keep the write half open until the answer is read.
        tokio::time::sleep(Duration::from_secs(5)).await;
    });
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let answer = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..i]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            if data.len() >= i + 4 + len {
                let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
                break (
                    status,
                    serde_json::from_slice(&data[i + 4..i + 4 + len]).unwrap_or(Value::Null),
                );
            }
        }
        let n = tokio::time::timeout(Duration::from_secs(10), r.read(&mut buf))
            .await
            .expect("an answer within 10 s")
            .unwrap_or(0);
        assert!(
            n > 0,
            "{method} {path}: the connection closed before an answer: {:?}",
            String::from_utf8_lossy(&data)
        );
        data.extend_from_slice(&buf[..n]);
    };
    writer.abort();
    answer
}

/// Every operation of the OpenAPI document that takes a body answers a 1.5 MiB chunked body
/// (no length declared, so only what reads the body can tell) with a 413 in the error shape, with
/// an Idempotency-Key (the idempotency layer reads the body first) and without.
async fn oversized_bodies(w: World) {
    let doc: Value = reqwest::get(format!("{}/openapi.json", w.server.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut checked = 0;
    let mut wrong = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if op.get("requestBody").is_none() {
                continue;
            }
            let concrete: String = path
                .split('/')
                .map(
                    |seg| match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                        Some(name) if name.to_ascii_lowercase().contains("org") => w.org.clone(),
                        Some(_) => "01J00000000000000000000000".to_owned(),
                        None => seg.to_owned(),
                    },
                )
                .collect::<Vec<_>>()
                .join("/");
            let auth = format!("Authorization: Bearer {}\r\n", w.key);
            for extra in [
                auth.clone(),
                format!("{auth}Idempotency-Key: big-{checked}\r\n"),
            ] {
                let (status, body) = chunked(
                    &w.server.url,
                    &method.to_ascii_uppercase(),
                    &concrete,
                    &extra,
                    1536 * 1024,
                )
                .await;
                if status == 413 {
                    assert_error_shape(&body, 413);
                } else {
                    wrong.push(format!(
                        "{} {path} ({}): {status} {body}",
                        method.to_ascii_uppercase(),
                        if extra.contains("Idempotency") {
                            "idempotent"
                        } else {
                            "plain"
                        }
                    ));
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 40, "only {checked} operations with a body");
    assert!(
        wrong.is_empty(),
        "operations that did not answer a 1.5 MiB body with a 413:\n{}",
        wrong.join("\n")
    );
    // An ordinary body is still read.
    w.api
        .post(
            "/api/embedded/v1/hubs",
            json!({"organisationId": w.org, "name": "", "primaryConnectorId": "x"}),
        )
        .await
        .error(400);
}

on_both_databases! {
    oversized_request_heads => oversized_heads;
    oversized_request_bodies => oversized_bodies;
}

/// With `--max-connections 5`, a sixth connection is not served while five are open (it waits in
/// the accept queue), and is served as soon as one of them closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_cap_holds() {
    let db = Db::new(Backend::Sqlite).await.unwrap();
    let server = Process::start(&db, &["--max-connections", "5"]);
    let target = server.url.trim_start_matches("http://").to_owned();
    let mut five = Vec::new();
    for _ in 0..5 {
        let mut s = TcpStream::connect(&target).await.unwrap();
        assert_eq!(get_healthz(&mut s).await, 200);
        five.push(s);
    }
    let mut sixth = TcpStream::connect(&target)
        .await
        .expect("the operating system queues the connection");
    sixth
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    assert!(
        tokio::time::timeout(Duration::from_millis(1500), sixth.read(&mut buf))
            .await
            .is_err(),
        "the sixth connection was not served while five were open"
    );
    // The five still are.
    assert_eq!(get_healthz(&mut five[0]).await, 200);
    drop(five.pop());
    let (status, _, _) = tokio::time::timeout(Duration::from_secs(3), read_response(&mut sixth))
        .await
        .expect("served once one closed");
    assert_eq!(status, 200);
    assert!(
        server.logs().contains("connection limit is reached"),
        "{}",
        server.logs()
    );
}

/// SIGTERM while a request is in flight: the listener stops, the request finishes with its
/// answer, then the process exits cleanly. Also: the access log names the client's address
/// (ConnectInfo reaches the application).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_finishes_requests_in_flight() {
    let db = Db::new(Backend::Sqlite).await.unwrap();
    let (org, key) = create_org(&db, "acme");
    let mut server = Process::start(&db, &[]);
    let http = reqwest::Client::new();
    // A provider that answers a token request after 2 s.
    let provider = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let token_url = format!("http://{}/token", provider.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut s, _)) = provider.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let _ = s.read(&mut buf).await;
                tokio::time::sleep(Duration::from_secs(2)).await;
                let body =
                    r#"{"access_token":"slow-token","token_type":"Bearer","expires_in":3600}"#;
                let _ = s
                    .write_all(
                        format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
                            .as_bytes(),
                    )
                    .await;
            });
        }
    });
    let scheme = json!({"id": "cc", "schemeType": "oauth2", "authorizeUrl": "", "tokenUrl": token_url, "grant": {"grantType": "client_credentials"}});
    let base = server.url.clone();
    let connector: Value = http
        .post(format!("{base}/api/connect/v1/o/{org}/protocols/http/connectors"))
        .bearer_auth(&key)
        .json(&json!({"name": "Slow", "baseUrl": "https://slow.example", "authSchemeConfigs": [scheme]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let connections = format!(
        "{base}/api/connect/v1/o/{org}/connectors/{}/connections",
        connector["id"].as_str().unwrap()
    );
    let body = json!({"name": "service account", "credentials": {"action": [{"authSchemeConfig": scheme, "credential": {"name": "client", "type": "oauth2-client",
        "data": {"clientId": "cid", "clientSecret": "csecret", "tokenUrl": token_url}}}]}, "variables": []});
    let in_flight = tokio::spawn({
        let (http, connections, key) = (http.clone(), connections.clone(), key.clone());
        async move {
            http.post(&connections)
                .bearer_auth(&key)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    tokio::time::sleep(Duration::from_millis(700)).await;
    let term = std::process::Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        TcpStream::connect(base.trim_start_matches("http://"))
            .await
            .is_err(),
        "no new connections once shutting down"
    );
    assert_eq!(
        in_flight.await.unwrap(),
        200,
        "the request in flight finished"
    );
    let status = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        loop {
            if let Some(status) = server.child.try_wait().unwrap() {
                return (status, server.logs());
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the server did not exit"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    })
    .await
    .unwrap();
    assert!(status.0.success(), "exit status {:?}", status.0);
    assert!(
        status.1.contains("shut down: in-flight requests finished"),
        "{}",
        status.1
    );
    assert!(
        status.1.contains("client=127.0.0.1:"),
        "the access log names the client: {}",
        status.1
    );
}

/// The embedded SQLite's `synchronous` pragma, read on live pool connections: FULL (2) by
/// default, NORMAL (1) when asked; the server logs what it runs with, by flag and by variable; a
/// bad value stops it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_is_durable_by_default() {
    use switchyard_store::{sqlite::SqliteStore, ConnectOptions, SqliteSynchronous};
    let dir = std::env::temp_dir().join(format!(
        "switchyard-test-{}",
        ulid::Ulid::new().to_string().to_lowercase()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    for (setting, expected) in [
        (SqliteSynchronous::Full, 2i64),
        (SqliteSynchronous::Normal, 1),
    ] {
        let url = switchyard_store::testing::sqlite_url(&dir);
        let store = SqliteStore::connect_with(
            &url,
            &ConnectOptions {
                sqlite_synchronous: setting,
            },
        )
        .await
        .unwrap();
        // Several reading connections at once, so that more than one is checked, and the one
        // writer: read-only readers, a writer that writes, and a writer pool of exactly one.
        let [reads, writes] = store.pools();
        assert_eq!(writes.options().get_max_connections(), 1);
        let mut held = Vec::new();
        for (pool, count, query_only) in [(reads, 3, 1i64), (writes, 1, 0)] {
            for _ in 0..count {
                let mut conn = pool.acquire().await.unwrap();
                let value: i64 = sqlx::query_scalar("PRAGMA synchronous")
                    .fetch_one(&mut *conn)
                    .await
                    .unwrap();
                assert_eq!(value, expected, "{setting:?}");
                let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
                    .fetch_one(&mut *conn)
                    .await
                    .unwrap();
                assert_eq!(journal, "wal");
                let read_only: i64 = sqlx::query_scalar("PRAGMA query_only")
                    .fetch_one(&mut *conn)
                    .await
                    .unwrap();
                assert_eq!(read_only, query_only);
                held.push(conn);
            }
        }
    }
    // The plain connect (the benchmark's, the tests') is the durable default.
    let store = switchyard_store::connect(&switchyard_store::testing::sqlite_url(&dir))
        .await
        .unwrap();
    assert_eq!(
        store.durability().await.unwrap(),
        "synchronous=FULL (2), journal_mode=wal"
    );

    let db = Db::new(Backend::Sqlite).await.unwrap();
    let default = Process::start(&db, &[]);
    assert!(
        default
            .logs()
            .contains("durability=synchronous=FULL (2), journal_mode=wal"),
        "{}",
        default.logs()
    );
    drop(default);
    let normal = Process::start(&db, &["--sqlite-synchronous", "normal"]);
    assert!(
        normal
            .logs()
            .contains("durability=synchronous=NORMAL (1), journal_mode=wal"),
        "{}",
        normal.logs()
    );
    drop(normal);
    let by_env = Server::start_with(&db, &[("SWITCHYARD_SQLITE_SYNCHRONOUS", "normal")]);
    assert!(
        by_env.logs().contains("synchronous=NORMAL (1)"),
        "{}",
        by_env.logs()
    );
    drop(by_env);
    let out = bin()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            &db.url,
            "--sqlite-synchronous",
            "off",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("use full or normal"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

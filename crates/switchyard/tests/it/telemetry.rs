//! OpenTelemetry: with `OTEL_EXPORTER_OTLP_ENDPOINT` set, the server exports a span per request
//! over OTLP/HTTP. The receiver is served by the test and decodes what arrives with the OTLP
//! protobuf types (`opentelemetry-proto`), as a collector would. Telemetry does not depend on
//! the database: SQLite only.

use crate::common::*;
use axum::body::Bytes;
use axum::http::{header::CONTENT_TYPE, StatusCode};
use axum::response::IntoResponse;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value::Value as Any, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the receiver got: every request's raw body, decoded.
#[derive(Default)]
struct Received {
    raw: Vec<Vec<u8>>,
    requests: Vec<ExportTraceServiceRequest>,
    paths: Vec<String>,
}

/// An OTLP/HTTP trace receiver on 127.0.0.1 (`POST /v1/traces`, protobuf); returns its base URL.
async fn receiver() -> (String, Arc<Mutex<Received>>) {
    let got = Arc::new(Mutex::new(Received::default()));
    let store = got.clone();
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri, body: Bytes| {
        let store = store.clone();
        async move {
            let mut r = store.lock().unwrap();
            r.paths.push(uri.path().to_owned());
            r.raw.push(body.to_vec());
            match ExportTraceServiceRequest::decode(body.as_ref()) {
                Ok(req) => {
                    r.requests.push(req);
                    (StatusCode::OK, [(CONTENT_TYPE, "application/x-protobuf")]).into_response()
                }
                Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a Any> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

fn text(attrs: &[KeyValue], key: &str) -> Option<String> {
    match attr(attrs, key)? {
        Any::StringValue(s) => Some(s.clone()),
        Any::IntValue(i) => Some(i.to_string()),
        other => Some(format!("{other:?}")),
    }
}

/// The `request` span whose request id is `id`, with its resource's `service.name`.
fn find(got: &Received, id: &str) -> Option<(Span, Option<String>)> {
    for req in &got.requests {
        for rs in &req.resource_spans {
            let service = rs
                .resource
                .as_ref()
                .and_then(|r| text(&r.attributes, "service.name"));
            for ss in &rs.scope_spans {
                for span in &ss.spans {
                    if text(&span.attributes, "request_id").as_deref() == Some(id) {
                        return Some((span.clone(), service));
                    }
                }
            }
        }
    }
    None
}

async fn wait_for(got: &Arc<Mutex<Received>>, id: &str) -> (Span, Option<String>) {
    for _ in 0..200 {
        if let Some(found) = find(&got.lock().unwrap(), id) {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let r = got.lock().unwrap();
    panic!(
        "no span with request_id {id} reached the receiver in 20 s ({} export requests to {:?})",
        r.requests.len(),
        r.paths
    );
}

#[tokio::test]
async fn request_spans_reach_an_otlp_receiver() {
    let (endpoint, got) = receiver().await;
    let db = Db::new(Backend::Sqlite).await.unwrap();
    let (o, key) = create_org(&db, "acme");
    let server = Server::start_with(
        &db,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            // The batch processor's delay: export within a tenth of a second, not five.
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ],
    );
    assert!(
        server.logs().contains("OpenTelemetry: exporting traces"),
        "{}",
        server.logs()
    );
    let api = Api::new(&server, &key);
    let connector = api
        .post(
            &format!("/api/connect/v1/o/{o}/protocols/http/connectors"),
            json!({"name": "CRM", "baseUrl": "https://crm.example", "authSchemeConfigs": [api_key_scheme("apikey", "X-Key")]}),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A connection whose credential is a secret: neither it nor the API key may be exported.
    let secret = "otel-must-never-see-this-3f9a";
    let created = api
        .post(
            &format!("/api/connect/v1/o/{o}/connectors/{connector}/connections"),
            json!({"name": "c", "credentials": {"action": [{"authSchemeConfig": api_key_scheme("apikey", "X-Key"), "credential": {"name": "key", "type": "string", "data": {"value": secret}}}]}, "variables": []}),
        )
        .await;
    let create_id = created.headers["x-request-id"].to_str().unwrap().to_owned();
    created.expect(200);
    let read = api
        .get(&format!("/api/connect/v1/o/{o}/connectors/{connector}"))
        .await;
    let read_id = read.headers["x-request-id"].to_str().unwrap().to_owned();
    read.expect(200);

    let (span, service) = wait_for(&got, &read_id).await;
    assert_eq!(span.name, "request");
    assert_eq!(service.as_deref(), Some("switchyard"));
    let a = &span.attributes;
    assert_eq!(
        text(a, "route").as_deref(),
        Some("/api/connect/v1/o/{organisation_id}/connectors/{connector_id}"),
        "{a:?}"
    );
    assert_eq!(
        text(a, "path"),
        Some(format!("/api/connect/v1/o/{o}/connectors/{connector}"))
    );
    assert_eq!(text(a, "method").as_deref(), Some("GET"));
    assert_eq!(text(a, "status").as_deref(), Some("200"));
    assert!(span.end_time_unix_nano >= span.start_time_unix_nano);
    assert_eq!(span.trace_id.len(), 16);

    let (span, _) = wait_for(&got, &create_id).await;
    assert_eq!(
        text(&span.attributes, "route").as_deref(),
        Some("/api/connect/v1/o/{organisation_id}/connectors/{connector_id}/connections")
    );

    // Everything that arrived, byte for byte: no secret, no key, no Authorization header.
    let got = got.lock().unwrap();
    assert!(
        got.paths.iter().all(|p| p == "/v1/traces"),
        "{:?}",
        got.paths
    );
    for body in &got.raw {
        let body = String::from_utf8_lossy(body);
        for secret in [secret, key.as_str(), MASTER_KEY, "Bearer"] {
            assert!(
                !body.contains(secret),
                "an exported span carries a secret ({secret})"
            );
        }
    }
}

#[tokio::test]
async fn a_grpc_protocol_is_refused_at_start_up() {
    let db = Db::new(Backend::Sqlite).await.unwrap();
    let out = bin()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            &db.url,
        ])
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317")
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("http/protobuf"), "{err}");
}

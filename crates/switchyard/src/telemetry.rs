//! OpenTelemetry: Switchyard's own spans (one `request` span per HTTP request, with its request
//! id, route, method, path and status, and the log events inside it) exported as traces over
//! OTLP/HTTP (protobuf) when an endpoint is configured: `--otlp-endpoint` or the standard
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (a base URL; `/v1/traces` is appended), or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (the full URL). The exporter also reads the other standard
//! variables: `OTEL_EXPORTER_OTLP_HEADERS` (for a collector's credentials),
//! `OTEL_EXPORTER_OTLP_TIMEOUT`, `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES` and the batch
//! processor's `OTEL_BSP_*`. Spans carry only what the access log carries: never a header, a
//! body or a query string, so never a secret.
use anyhow::{bail, Context};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// Flushes the spans still buffered when it is dropped (at the end of `main`).
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
    endpoint: Option<String>,
}

impl Telemetry {
    /// Says where traces go (once logging is set up, so that it is a log line like the others).
    pub fn announce(&self) {
        if let Some(endpoint) = &self.endpoint {
            tracing::info!(endpoint = %switchyard_store::mask_url(endpoint), "OpenTelemetry: exporting traces over OTLP/HTTP");
        }
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            if let Err(e) = provider.shutdown() {
                eprintln!("OpenTelemetry: the last spans could not be exported: {e}");
            }
        }
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Where traces go, if anywhere: the full URL of the traces endpoint.
fn traces_endpoint(base: Option<&str>) -> anyhow::Result<Option<String>> {
    if env("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return Ok(None);
    }
    let (url, from) = match (env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"), base) {
        (Some(url), _) => (url, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
        (None, Some(base)) if !base.trim().is_empty() => (
            format!("{}/v1/traces", base.trim().trim_end_matches('/')),
            "--otlp-endpoint (OTEL_EXPORTER_OTLP_ENDPOINT)",
        ),
        _ => return Ok(None),
    };
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        bail!("{from} must be an http:// or https:// URL");
    }
    let protocol =
        env("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL").or_else(|| env("OTEL_EXPORTER_OTLP_PROTOCOL"));
    if let Some(p) = protocol.filter(|p| p != "http/protobuf") {
        bail!("OTEL_EXPORTER_OTLP_PROTOCOL {p:?} is not supported: Switchyard exports over OTLP/HTTP with protobuf (http/protobuf, a collector's port 4318)");
    }
    Ok(Some(url))
}

/// The tracing layer that exports spans, when an endpoint is configured, and the guard that
/// flushes them at exit. Only Switchyard's own spans and events are exported (not those of the
/// libraries below it, nor of the exporter's own HTTP client, which would feed on itself).
pub fn layer<S>(base: Option<&str>) -> anyhow::Result<(Option<impl Layer<S>>, Telemetry)>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    let Some(url) = traces_endpoint(base)? else {
        return Ok((
            None,
            Telemetry {
                provider: None,
                endpoint: None,
            },
        ));
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(url.clone())
        .build()
        .context("setting up the OTLP trace exporter")?;
    let mut resource = opentelemetry_sdk::Resource::builder().with_attribute(
        opentelemetry::KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
    );
    if env("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name("switchyard");
    }
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource.build())
        .build();
    let tracer = provider.tracer("switchyard");
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_filter(tracing_subscriber::filter::filter_fn(|meta| {
            meta.target().starts_with("switchyard")
        }));
    Ok((
        Some(layer),
        Telemetry {
            provider: Some(provider),
            endpoint: Some(url),
        },
    ))
}

//! What an organisation allows around its OAuth flows and its hub page, and the checks that apply
//! it: redirect URL allowlists (organisation settings and per-hub lists), the parameters
//! `additionalParams` may not set, the origin a flow's callback page may answer, and the host
//! origins that may frame the hub page (CSP `frame-ancestors`).
//!
//! Everything here is pure: the handlers read the lists from the store and call these.
use super::common::hosted_callback;
use switchyard_domain::{Error, FieldError};
use switchyard_store::OrgId;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::http::{header, HeaderMap};

/// At most this many entries in a redirect URL or frame-ancestor list.
pub const MAX_LIST: usize = 50;

/// At most this many characters in one redirect URL.
pub const MAX_REDIRECT_URL: usize = 2048;

/// At most this many characters in one frame ancestor (an origin).
const MAX_ORIGIN: usize = 300;

/// A redirect URL as it is compared: absolute http(s), no fragment, no user info; scheme and host
/// in lower case, the default port dropped, the path's dot segments resolved (the `url` crate's
/// normal form). The error says what is wrong with it.
pub fn normalise_redirect_url(raw: &str) -> Result<String, &'static str> {
    if raw.len() > MAX_REDIRECT_URL {
        return Err("must be at most 2048 characters");
    }
    // The URL parser would drop or encode these; what is stored and sent is the text as given.
    if raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("must not contain whitespace or control characters");
    }
    let url = url::Url::parse(raw).map_err(|_| "must be an absolute http(s) URL")?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err("must be an absolute http(s) URL");
    }
    if url.fragment().is_some() {
        return Err("must not have a fragment");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry a user name or password");
    }
    Ok(url.into())
}

/// Checks a redirect URL list (organisation settings, a hub's `oauthRedirectUrls`): at most
/// [`MAX_LIST`] entries, each valid; a 400 naming every bad entry as `field[i]`. Answers the list
/// as given (entries are compared normalised).
pub fn validate_redirect_urls(field: &str, list: Vec<String>) -> Result<Vec<String>, Error> {
    if list.len() > MAX_LIST {
        return Err(Error::invalid_field(
            field,
            format!("must have at most {MAX_LIST} entries"),
        ));
    }
    let fields: Vec<FieldError> = list
        .iter()
        .enumerate()
        .filter_map(|(i, u)| {
            normalise_redirect_url(u)
                .err()
                .map(|m| FieldError::new(format!("{field}[{i}]"), m))
        })
        .collect();
    if fields.is_empty() {
        Ok(list)
    } else {
        Err(list_error(field, fields))
    }
}

fn list_error(field: &str, fields: Vec<FieldError>) -> Error {
    let message = if fields.len() == 1 {
        format!("invalid {}: {}", fields[0].field, fields[0].message)
    } else {
        format!("{field} has {} invalid entries", fields.len())
    };
    Error::invalid_fields(message, fields)
}

/// Whether `given` (an initialise call's `redirectUrl`) equals, once normalised, the hosted
/// callback or one entry of `allowed`.
pub fn redirect_allowed(given: &str, allowed: &[String], hosted_callback: &str) -> bool {
    let Ok(given) = normalise_redirect_url(given) else {
        return false;
    };
    std::iter::once(hosted_callback)
        .chain(allowed.iter().map(String::as_str))
        .any(|a| normalise_redirect_url(a).is_ok_and(|a| a == given))
}

/// One frame ancestor, checked and in lower case: `http(s)://host[:port]`, the host optionally
/// `*.`-prefixed (`https://*.example.com`), as CSP source expressions allow; no path, query,
/// fragment or user info, and nothing that could end or extend the CSP header's directive.
pub fn frame_ancestor(raw: &str) -> Result<String, &'static str> {
    if raw.is_empty() {
        return Err("must not be empty");
    }
    if raw.len() > MAX_ORIGIN {
        return Err("must be at most 300 characters");
    }
    if raw
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '\'' | '"' | ';' | ','))
    {
        return Err("must not contain quotes, semicolons, commas or whitespace");
    }
    if !raw.is_ascii() {
        return Err("must be ASCII (write international host names in punycode)");
    }
    let lower = raw.to_ascii_lowercase();
    let Some((scheme, rest)) = lower.split_once("://") else {
        return Err("must be an origin such as https://app.example.com");
    };
    if !matches!(scheme, "http" | "https") {
        return Err("must be an http or https origin");
    }
    if rest.contains(['/', '?', '#']) {
        return Err("must be an origin without a path, query or fragment");
    }
    if rest.contains('@') {
        return Err("must not carry a user name or password");
    }
    let (host, port) = match rest.strip_prefix('[') {
        // A bracketed IPv6 literal has colons of its own.
        Some(v6) => {
            let Some(end) = v6.find(']') else {
                return Err("has an invalid host");
            };
            let after = &v6[end + 1..];
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p),
                None if after.is_empty() => None,
                None => return Err("has an invalid host"),
            };
            (&rest[..end + 2], port)
        }
        None => match rest.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        },
    };
    if let Some(p) = port {
        if p.is_empty()
            || p.len() > 5
            || !p.bytes().all(|b| b.is_ascii_digit())
            || !(1..=65535).contains(&p.parse::<u32>().unwrap_or(0))
        {
            return Err("has an invalid port");
        }
    }
    if !valid_host(host) {
        return Err("has an invalid host");
    }
    Ok(lower)
}

/// A DNS name (labels of letters, digits and hyphens), optionally `*.`-prefixed, an IPv4 address,
/// or a bracketed IPv6 address.
fn valid_host(host: &str) -> bool {
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.parse::<std::net::Ipv6Addr>().is_ok();
    }
    let name = host.strip_prefix("*.").unwrap_or(host);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Checks a frame-ancestor list: at most [`MAX_LIST`] entries, each a valid origin; a 400 naming
/// every bad entry as `field[i]`. Answers the entries in lower case.
pub fn validate_frame_ancestors(field: &str, list: Vec<String>) -> Result<Vec<String>, Error> {
    if list.len() > MAX_LIST {
        return Err(Error::invalid_field(
            field,
            format!("must have at most {MAX_LIST} entries"),
        ));
    }
    let mut out = Vec::with_capacity(list.len());
    let mut fields = Vec::new();
    for (i, raw) in list.iter().enumerate() {
        match frame_ancestor(raw) {
            Ok(a) => out.push(a),
            Err(m) => fields.push(FieldError::new(format!("{field}[{i}]"), m)),
        }
    }
    if fields.is_empty() {
        Ok(out)
    } else {
        Err(list_error(field, fields))
    }
}

/// The CSP `frame-ancestors` sources for an organisation's list: its entries, re-checked (they go
/// into a header), space-separated; `*` when it has none.
pub fn frame_ancestors_source(list: &[String]) -> String {
    let checked: Vec<String> = list.iter().filter_map(|a| frame_ancestor(a).ok()).collect();
    if checked.is_empty() {
        "*".to_owned()
    } else {
        checked.join(" ")
    }
}

/// The origin an `Origin` request header names, when it is exactly a serialised
/// `http(s)://host[:port]` origin (no path, not `null`); otherwise `None`.
pub fn request_origin(header: Option<&str>) -> Option<String> {
    let raw = header?.trim();
    let url = url::Url::parse(raw).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return None;
    }
    let origin = url.origin().ascii_serialization();
    raw.eq_ignore_ascii_case(&origin).then_some(origin)
}

/// The origin of Switchyard's public URL (where the hub page is served).
pub fn public_origin(public_url: &str) -> String {
    url::Url::parse(public_url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| public_url.trim_end_matches('/').to_owned())
}

/// Authorize-URL parameters the server sets itself or that could change where the code goes
/// (`response_mode`, a JAR `request`/`request_uri`), compared after [`fold`]ing.
const RESERVED_PARAMS: [&str; 12] = [
    "client_id",
    "redirect_uri",
    "redirect_url",
    "response_type",
    "response_mode",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "request",
    "request_uri",
    "prompt",
];

/// A parameter name as providers may read it: trimmed, lower case, `-` as `_`.
pub fn fold(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace('-', "_")
}

/// The reserved parameter `name` stands for, if any (`Redirect-URI` → `redirect_uri`).
pub fn reserved_param(name: &str) -> Option<&'static str> {
    let folded = fold(name);
    RESERVED_PARAMS.iter().copied().find(|r| *r == folded)
}

/// `s` safe inside HTML text and double- or single-quoted attributes.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What a flow about to start may do: the redirect URLs it may name besides the hosted callback,
/// and the origin its callback page will answer.
pub(crate) struct FlowPolicy {
    /// Whose list `allowed_redirects` is, for error messages: "the hub's", "the organisation's".
    whose: &'static str,
    allowed_redirects: Vec<String>,
    /// The `Origin` of the initialise request when it is a proper origin; Switchyard's own otherwise.
    pub opener_origin: String,
}

impl FlowPolicy {
    pub(crate) fn new(
        s: &AppState,
        whose: &'static str,
        allowed_redirects: Vec<String>,
        headers: &HeaderMap,
    ) -> Self {
        let origin = request_origin(headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()));
        Self {
            whose,
            allowed_redirects,
            opener_origin: origin.unwrap_or_else(|| public_origin(&s.public_url)),
        }
    }

    /// The organisation's `oauthRedirectUrls` (Connect v1, Platform v2, OAuth 1.0a).
    pub(crate) async fn for_organisation(
        s: &AppState,
        org: &OrgId,
        headers: &HeaderMap,
    ) -> ApiResult<Self> {
        let settings = s.store.get_organisation_settings(org).await?;
        Ok(Self::new(
            s,
            "the organisation's",
            settings.oauth_redirect_urls,
            headers,
        ))
    }

    /// The redirect URI of the flow: `given` when allowed (a 400 naming `redirectUrl` otherwise),
    /// the hosted callback when omitted.
    pub(crate) fn redirect_uri(&self, s: &AppState, given: Option<&str>) -> ApiResult<String> {
        let hosted = hosted_callback(s);
        let Some(given) = given.filter(|r| !r.is_empty()) else {
            return Ok(hosted);
        };
        if let Err(m) = normalise_redirect_url(given) {
            return Err(ApiError::invalid_field("redirectUrl", m));
        }
        if !redirect_allowed(given, &self.allowed_redirects, &hosted) {
            return Err(ApiError::invalid_field(
                "redirectUrl",
                format!(
                    "is neither Switchyard's hosted callback nor one of {} oauthRedirectUrls",
                    self.whose
                ),
            ));
        }
        Ok(given.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_urls_are_compared_normalised() {
        let hosted = "https://sy.example/oauth2/callback";
        let allowed = vec!["https://App.Example.com:443/cb?x=1".to_owned()];
        assert!(redirect_allowed(
            "https://app.example.com/cb?x=1",
            &allowed,
            hosted
        ));
        assert!(redirect_allowed(
            "HTTPS://APP.EXAMPLE.COM/a/../cb?x=1",
            &allowed,
            hosted
        ));
        assert!(
            redirect_allowed("https://sy.example/oauth2/callback", &allowed, hosted),
            "the hosted callback is always allowed"
        );
        for other in [
            "https://app.example.com/cb",
            "https://app.example.com/cb?x=2",
            "https://app.example.com/CB?x=1",
            "http://app.example.com/cb?x=1",
            "https://app.example.com:8443/cb?x=1",
            "https://evil.example/cb?x=1",
            "https://app.example.com/cb?x=1#f",
            "https://user@app.example.com/cb?x=1",
            "javascript:alert(1)",
            "/cb?x=1",
        ] {
            assert!(!redirect_allowed(other, &allowed, hosted), "{other}");
        }
    }

    #[test]
    fn redirect_url_lists() {
        assert!(
            validate_redirect_urls("l", vec!["http://127.0.0.1:62168/oauth/callback".into()])
                .is_ok()
        );
        let e = validate_redirect_urls(
            "oauthRedirectUrls",
            vec![
                "https://ok.example/".into(),
                "ftp://x.example".into(),
                "https://x.example/#f".into(),
            ],
        )
        .unwrap_err();
        let names: Vec<&str> = e.fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(names, ["oauthRedirectUrls[1]", "oauthRedirectUrls[2]"]);
        for bad in [
            "https://x.example/a\u{0}b",
            " https://x.example/",
            "https://x.example/a b",
            "https://x.example/\n",
        ] {
            assert!(normalise_redirect_url(bad).is_err(), "{bad:?}");
        }
        let long = format!("https://x.example/{}", "a".repeat(2048));
        assert_eq!(
            validate_redirect_urls("l", vec![long]).unwrap_err().fields[0].field,
            "l[0]"
        );
        let many: Vec<String> = (0..51).map(|i| format!("https://x.example/{i}")).collect();
        assert_eq!(
            validate_redirect_urls("l", many).unwrap_err().fields[0].field,
            "l"
        );
    }

    #[test]
    fn frame_ancestors() {
        for ok in [
            "https://app.example.com",
            "http://localhost:3000",
            "https://*.example.com",
            "http://127.0.0.1:8080",
            "https://[::1]:8443",
            "HTTPS://App.Example.COM",
        ] {
            assert!(frame_ancestor(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            frame_ancestor("HTTPS://App.Example.COM").unwrap(),
            "https://app.example.com"
        );
        for bad in [
            "https://a.example; script-src *",
            "'self'",
            "https://a.example'",
            "\"https://a.example\"",
            "https://a.example https://b.example",
            "https://a.example/",
            "https://a.example/path",
            "https://a.example?x",
            "ftp://a.example",
            "a.example",
            "*",
            "https://",
            "https://a.example:0",
            "https://a.example:99999",
            "https://a.example:",
            "https://*.*.example",
            "https://u@a.example",
            "https://a.example,https://b.example",
            "https://a.exa\u{0}mple",
            "https://bücher.example",
            "",
        ] {
            assert!(frame_ancestor(bad).is_err(), "{bad:?}");
        }
        let e = validate_frame_ancestors(
            "hubFrameAncestors",
            vec!["https://ok.example".into(), "https://x.example;".into()],
        )
        .unwrap_err();
        assert_eq!(e.fields[0].field, "hubFrameAncestors[1]");
        assert_eq!(frame_ancestors_source(&[]), "*");
        assert_eq!(
            frame_ancestors_source(&["https://a.example".into(), "http://localhost:3000".into()]),
            "https://a.example http://localhost:3000"
        );
    }

    #[test]
    fn request_origins() {
        assert_eq!(
            request_origin(Some("https://host.example")).as_deref(),
            Some("https://host.example")
        );
        assert_eq!(
            request_origin(Some("http://localhost:5173")).as_deref(),
            Some("http://localhost:5173")
        );
        for bad in [
            "null",
            "https://host.example/",
            "https://host.example/x",
            "file:///etc",
            "https://host.example:443",
            "",
            "https://u@h.example",
        ] {
            assert_eq!(request_origin(Some(bad)), None, "{bad}");
        }
        assert_eq!(request_origin(None), None);
        assert_eq!(
            public_origin("http://127.0.0.1:8950/"),
            "http://127.0.0.1:8950"
        );
        assert_eq!(
            public_origin("https://sy.example/base"),
            "https://sy.example"
        );
    }

    #[test]
    fn reserved_parameters_fold_case_and_separators() {
        for name in [
            "Redirect_URI",
            "redirect-uri",
            "REDIRECT_URL",
            "response_mode",
            "Response-Mode",
            "REQUEST_URI",
            "request",
            " state ",
            "Code-Challenge",
        ] {
            assert!(reserved_param(name).is_some(), "{name}");
        }
        assert_eq!(reserved_param("Prompt"), Some("prompt"));
        for name in ["access_type", "approval_prompt", "audience", "login_hint"] {
            assert_eq!(reserved_param(name), None, "{name}");
        }
    }

    #[test]
    fn escaping() {
        assert_eq!(
            html_escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}

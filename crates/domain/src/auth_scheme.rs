//! Auth scheme configs: *how* an external API authenticates (where an API key goes, OAuth URLs,
//! scopes, grant). The serde form is the v1 flat encoding, discriminated by `schemeType` and, for
//! OAuth2 grants, by `grantType`.
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthSchemeConfig {
    /// Chosen by the client; unique within the array that holds it.
    pub id: String,
    #[serde(default)]
    pub description: String,
    /// Output only: ignored on input.
    #[serde(default, skip_deserializing, skip_serializing_if = "Vec::is_empty")]
    pub validation_messages: Vec<Message>,
    #[serde(flatten)]
    pub scheme: AuthScheme,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Message {
    pub text: String,
    pub severity: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub detail: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ParamLocation {
    Query,
    Header,
    Cookie,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "schemeType")]
pub enum AuthScheme {
    #[serde(rename = "none")]
    None,
    #[serde(rename = "api-key")]
    ApiKey {
        name: String,
        #[serde(rename = "in")]
        location: ParamLocation,
    },
    #[serde(rename = "basic-auth")]
    BasicAuth,
    #[serde(rename = "oauth2")]
    OAuth2(Box<OAuth2Scheme>),
    #[serde(rename = "hmac")]
    Hmac {
        name: String,
        #[serde(rename = "in")]
        location: ParamLocation,
        algorithm: HmacAlgorithm,
        #[serde(default, rename = "digestInputs")]
        digest_inputs: Vec<String>,
    },
    #[serde(rename = "certificate")]
    Certificate,
    #[serde(rename = "oauth1")]
    OAuth1(Box<OAuth1Scheme>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HmacAlgorithm {
    Sha1,
    Sha256,
    Sha512,
}

impl AuthScheme {
    /// The `schemeType` string of this scheme.
    pub fn type_name(&self) -> &'static str {
        match self {
            AuthScheme::None => "none",
            AuthScheme::ApiKey { .. } => "api-key",
            AuthScheme::BasicAuth => "basic-auth",
            AuthScheme::OAuth2(_) => "oauth2",
            AuthScheme::Hmac { .. } => "hmac",
            AuthScheme::Certificate => "certificate",
            AuthScheme::OAuth1(_) => "oauth1",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OAuth2Scheme {
    pub authorize_url: String,
    pub token_url: String,
    #[serde(default)]
    pub scopes: Vec<OAuth2Scope>,
    #[serde(default)]
    pub default_scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_authorize_params: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_token_params: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtls_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtls_credential_id: Option<String>,
    /// PKCE (S256) on the authorization-code flow: a v2 field, accepted in v1 schemes too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkce: Option<bool>,
    pub grant: OAuth2Grant,
}

/// OAuth 1.0a (RFC 5849): the consumer key and secret, the three endpoints of the redirection
/// flow and the HMAC signature method. The consumer secret is accepted on input, moved into a
/// credential (`credentialId`), and never serialised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OAuth1Scheme {
    /// `true`: connections bring `oauth1-token` credentials (token and token secret obtained
    /// elsewhere) and the endpoints are optional; `false`: the browser flow, endpoints required.
    #[serde(default)]
    pub token_auth: bool,
    pub consumer_key: String,
    #[serde(default, skip_serializing, deserialize_with = "deserialize_secret_opt")]
    #[schema(value_type = Option<String>, write_only)]
    pub consumer_secret: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temp_credential_endpoint: Option<Endpoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_owner_authorization_endpoint: Option<Endpoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint: Option<Endpoint>,
    pub signature_method: OAuth1SignatureMethod,
    /// The credential holding the consumer secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation_id: Option<String>,
}

/// `sha1` (HMAC-SHA1) or `sha256` (HMAC-SHA256).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum OAuth1SignatureMethod {
    #[serde(rename = "sha1", alias = "HMAC-SHA1")]
    Sha1,
    #[serde(rename = "sha256", alias = "HMAC-SHA256")]
    Sha256,
}

impl OAuth1SignatureMethod {
    /// The `oauth_signature_method` value.
    pub fn oauth_name(self) -> &'static str {
        match self {
            OAuth1SignatureMethod::Sha1 => "HMAC-SHA1",
            OAuth1SignatureMethod::Sha256 => "HMAC-SHA256",
        }
    }
}

/// An OAuth 1.0a endpoint: its URL, and how the protocol parameters travel (the `Authorization`
/// header unless `parameterTransmission` says form body or query).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    pub url: String,
    /// Kept as given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub additional_param_configs: Vec<serde_json::Value>,
    /// `AUTH_STYLE_AUTHORIZATION_HEADER` (the default), `AUTH_STYLE_FORM` or `AUTH_STYLE_QUERY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter_transmission: Option<ParameterTransmission>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum ParameterTransmission {
    #[serde(rename = "AUTH_STYLE_AUTHORIZATION_HEADER")]
    AuthorizationHeader,
    #[serde(rename = "AUTH_STYLE_FORM")]
    Form,
    #[serde(rename = "AUTH_STYLE_QUERY")]
    Query,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OAuth2Scope {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "grantType")]
pub enum OAuth2Grant {
    #[serde(rename = "authorization_code")]
    AuthorizationCode(GrantSecretRef),
    #[serde(rename = "client_credentials")]
    ClientCredentials,
    #[serde(rename = "password")]
    Password(GrantSecretRef),
}

/// Where a grant's client secret lives: a credential of the organisation. The secret itself is
/// accepted on input and never serialised.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GrantSecretRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing, deserialize_with = "deserialize_secret_opt")]
    #[schema(value_type = Option<String>, write_only)]
    pub client_secret: Option<Secret>,
}

fn deserialize_secret_opt<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Secret>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(Secret::new))
}

impl AuthSchemeConfig {
    /// The credential holding this scheme's OAuth2 grant secret or OAuth 1.0a consumer secret, if
    /// it has one.
    pub fn grant_credential_id(&self) -> Option<&str> {
        match &self.scheme {
            AuthScheme::OAuth2(o) => match &o.grant {
                OAuth2Grant::AuthorizationCode(g) | OAuth2Grant::Password(g) => {
                    g.credential_id.as_deref()
                }
                OAuth2Grant::ClientCredentials => None,
            },
            AuthScheme::OAuth1(o) => o.credential_id.as_deref(),
            _ => None,
        }
    }

    /// Drops every secret the config was given (a grant's client secret, a consumer secret): for
    /// copies of a scheme that must not carry them, such as a connection's.
    pub fn clear_secrets(&mut self) {
        if let Some(g) = self.grant_secret_mut() {
            g.client_secret = None;
        }
        if let AuthScheme::OAuth1(o) = &mut self.scheme {
            o.consumer_secret = None;
        }
    }

    /// The grant's secret reference, for OAuth2 grants that carry one.
    pub fn grant_secret_mut(&mut self) -> Option<&mut GrantSecretRef> {
        match &mut self.scheme {
            AuthScheme::OAuth2(o) => match &mut o.grant {
                OAuth2Grant::AuthorizationCode(g) | OAuth2Grant::Password(g) => Some(g),
                OAuth2Grant::ClientCredentials => None,
            },
            _ => None,
        }
    }
}

/// Fields that only describe a scheme: whatever a request sends there is ignored.
const DESCRIPTIVE: [&str; 2] = ["description", "validationMessages"];
/// Secrets a request may carry inside a scheme; a connection never uses them (the organisation's
/// credential holds its grant's secret), so they are ignored too.
const IGNORED_SECRETS: [&str; 2] = ["clientSecret", "consumerSecret"];

/// The organisation's auth scheme config that a connection credential names. A credential's
/// `authSchemeConfig`, as a request sends it (v1's flat encoding), must name by `id` one of
/// `candidates` (the configs the organisation defined for the connector, hub or template), and is
/// replaced by the organisation's copy: fields the request leaves out (or sends empty) come from
/// that copy, descriptive ones are ignored, and any other field that differs (provider URLs,
/// grant, `credentialId`, scopes, where a key goes...) is an error naming it. This is what keeps an
/// end user from pointing the organisation's client secret at their own server. `path` names the
/// request's config in errors.
pub fn resolve(
    requested: &serde_json::Value,
    candidates: &[AuthSchemeConfig],
    path: &str,
) -> Result<AuthSchemeConfig, crate::FieldError> {
    use crate::FieldError;
    let known = || {
        candidates
            .iter()
            .map(|c| c.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some(id) = requested
        .get("id")
        .and_then(serde_json::Value::as_str)
        .filter(|id| !id.is_empty())
    else {
        return Err(FieldError::new(
            format!("{path}.id"),
            format!("is required: the id of one of the auth scheme configs the organisation defined ({})", known()),
        ));
    };
    let mut first_error = None;
    for candidate in candidates.iter().filter(|c| c.id == id) {
        let ours = serde_json::to_value(candidate).unwrap_or(serde_json::Value::Null);
        match first_difference(requested, &ours, path) {
            None => {
                let mut resolved = candidate.clone();
                resolved.clear_secrets();
                return Ok(resolved);
            }
            Some(at) => {
                first_error.get_or_insert_with(|| {
                    FieldError::new(
                        at,
                        format!("differs from the organisation's auth scheme config {id:?}: a connection cannot change where its credentials are sent or what they grant"),
                    )
                });
            }
        }
    }
    Err(first_error.unwrap_or_else(|| {
        FieldError::new(
            format!("{path}.id"),
            format!(
                "{id:?} is not an auth scheme config the organisation defined here ({})",
                known()
            ),
        )
    }))
}

/// A value a request may send for a field it means to leave to the organisation's copy.
fn is_blank(v: &serde_json::Value) -> bool {
    use serde_json::Value;
    match v {
        Value::Null | Value::Bool(false) => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        Value::Number(_) | Value::Bool(true) => false,
    }
}

/// The path of the first field of `requested` that is not blank, not descriptive, and not what
/// `ours` has.
fn first_difference(
    requested: &serde_json::Value,
    ours: &serde_json::Value,
    at: &str,
) -> Option<String> {
    use serde_json::Value;
    if is_blank(requested) {
        return None;
    }
    match (requested, ours) {
        (Value::Object(r), Value::Object(o)) => r.iter().find_map(|(k, rv)| {
            if DESCRIPTIVE.contains(&k.as_str()) || IGNORED_SECRETS.contains(&k.as_str()) {
                return None;
            }
            let sub = if at.is_empty() {
                k.clone()
            } else {
                format!("{at}.{k}")
            };
            match o.get(k) {
                None if is_blank(rv) => None,
                None => Some(sub),
                Some(ov) => first_difference(rv, ov, &sub),
            }
        }),
        (Value::Array(r), Value::Array(o)) if r.len() == o.len() => {
            r.iter().zip(o).enumerate().find_map(|(i, (rv, ov))| {
                if is_blank(rv) && !is_blank(ov) {
                    Some(format!("{at}[{i}]"))
                } else {
                    first_difference(rv, ov, &format!("{at}[{i}]"))
                }
            })
        }
        (r, o) if r == o => None,
        _ => Some(at.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_flat_encoding_round_trips() {
        let json = serde_json::json!({"id":"apikey","description":"API Key","schemeType":"api-key","name":"X-API-Key","in":"header"});
        let c: AuthSchemeConfig = serde_json::from_value(json.clone()).unwrap();
        assert!(matches!(
            c.scheme,
            AuthScheme::ApiKey {
                location: ParamLocation::Header,
                ..
            }
        ));
        assert_eq!(serde_json::to_value(&c).unwrap(), json);
    }

    #[test]
    fn grant_secret_is_read_but_never_written() {
        let json = serde_json::json!({"id":"o","schemeType":"oauth2","authorizeUrl":"https://a","tokenUrl":"https://t",
            "grant":{"grantType":"authorization_code","clientId":"cid","clientSecret":"shh"}});
        let mut c: AuthSchemeConfig = serde_json::from_value(json).unwrap();
        assert_eq!(
            c.grant_secret_mut()
                .unwrap()
                .client_secret
                .as_ref()
                .unwrap()
                .expose(),
            "shh"
        );
        assert!(!serde_json::to_string(&c).unwrap().contains("shh"));
    }

    #[test]
    fn oauth1_consumer_secret_is_read_but_never_written() {
        let json = serde_json::json!({"id":"o1","schemeType":"oauth1","consumerKey":"ck","consumerSecret":"shh","signatureMethod":"sha256",
            "tempCredentialEndpoint":{"url":"https://p/request"},"tokenEndpoint":{"url":"https://p/access","parameterTransmission":"AUTH_STYLE_FORM"}});
        let mut c: AuthSchemeConfig = serde_json::from_value(json).unwrap();
        let AuthScheme::OAuth1(o) = &c.scheme else {
            panic!("not oauth1")
        };
        assert_eq!(o.consumer_secret.as_ref().unwrap().expose(), "shh");
        assert_eq!(o.signature_method, OAuth1SignatureMethod::Sha256);
        assert_eq!(
            o.token_endpoint.as_ref().unwrap().parameter_transmission,
            Some(ParameterTransmission::Form)
        );
        let out = serde_json::to_value(&c).unwrap();
        assert!(!out.to_string().contains("shh"));
        assert_eq!(out["tokenAuth"], false);
        c.clear_secrets();
        let AuthScheme::OAuth1(o) = &c.scheme else {
            panic!("not oauth1")
        };
        assert!(o.consumer_secret.is_none());
        let bad = serde_json::json!({"id":"o1","schemeType":"oauth1","consumerKey":"ck","signatureMethod":"md5"});
        assert!(serde_json::from_value::<AuthSchemeConfig>(bad).is_err());
    }
}

#[cfg(test)]
mod resolve_tests {
    use super::*;
    use serde_json::json;

    fn org_schemes() -> Vec<AuthSchemeConfig> {
        let oauth = json!({"id":"oauth","description":"Sign in","schemeType":"oauth2","authorizeUrl":"https://p.example/authorize","tokenUrl":"https://p.example/token",
            "scopes":[{"name":"read","description":"Read"}],"defaultScopes":["read"],
            "grant":{"grantType":"authorization_code","credentialId":"01CRED","organisationId":"01ORG","clientId":"cid"}});
        vec![
            serde_json::from_value(oauth).unwrap(),
            serde_json::from_value(
                json!({"id":"key","schemeType":"api-key","name":"X-Key","in":"header"}),
            )
            .unwrap(),
        ]
    }

    #[test]
    fn the_organisations_copy_is_what_is_used() {
        let schemes = org_schemes();
        // Exactly what a client read: accepted.
        let read = serde_json::to_value(&schemes[0]).unwrap();
        assert_eq!(resolve(&read, &schemes, "c").unwrap(), schemes[0]);
        // Only the id, or blank fields: the rest comes from the copy.
        assert_eq!(
            resolve(&json!({"id":"oauth"}), &schemes, "c").unwrap(),
            schemes[0]
        );
        assert_eq!(
            resolve(
                &json!({"id":"oauth","tokenUrl":"","scopes":[],"pkce":false}),
                &schemes,
                "c"
            )
            .unwrap(),
            schemes[0]
        );
        // Descriptions and secrets are ignored, never stored.
        let r = resolve(
            &json!({"id":"oauth","description":"mine","grant":{"clientSecret":"x"}}),
            &schemes,
            "c",
        )
        .unwrap();
        assert_eq!(r.description, "Sign in");
        assert!(!serde_json::to_string(&r).unwrap().contains("\"x\""));
    }

    #[test]
    fn a_field_that_decides_where_credentials_go_cannot_change() {
        let schemes = org_schemes();
        let mut forged = serde_json::to_value(&schemes[0]).unwrap();
        forged["tokenUrl"] = json!("https://attacker.example/steal");
        assert_eq!(
            resolve(&forged, &schemes, "c.authSchemeConfig")
                .unwrap_err()
                .field,
            "c.authSchemeConfig.tokenUrl"
        );
        for (field, value, at) in [
            (
                "authorizeUrl",
                json!("https://evil.example"),
                "c.authorizeUrl",
            ),
            ("defaultScopes", json!(["admin"]), "c.defaultScopes[0]"),
            (
                "additionalTokenParams",
                json!("x=1"),
                "c.additionalTokenParams",
            ),
            (
                "grant",
                json!({"grantType":"password","credentialId":"01CRED"}),
                "c.grant.grantType",
            ),
            (
                "grant",
                json!({"grantType":"authorization_code","credentialId":"01OTHER"}),
                "c.grant.credentialId",
            ),
            ("schemeType", json!("api-key"), "c.schemeType"),
        ] {
            let mut r = json!({"id":"oauth"});
            r[field] = value;
            assert_eq!(resolve(&r, &schemes, "c").unwrap_err().field, at, "{field}");
        }
        let e = resolve(&json!({"id":"key","name":"Authorization"}), &schemes, "c").unwrap_err();
        assert_eq!(e.field, "c.name");
        let e = resolve(&json!({"id":"key","in":"query"}), &schemes, "c").unwrap_err();
        assert_eq!(e.field, "c.in");
    }

    #[test]
    fn an_unknown_or_missing_id_is_refused() {
        let schemes = org_schemes();
        let e = resolve(
            &json!({"id":"made-up","schemeType":"oauth2"}),
            &schemes,
            "c",
        )
        .unwrap_err();
        assert_eq!(e.field, "c.id");
        assert!(e.message.contains("oauth, key"), "{}", e.message);
        assert_eq!(
            resolve(&json!({"schemeType":"api-key"}), &schemes, "c")
                .unwrap_err()
                .field,
            "c.id"
        );
        assert_eq!(
            resolve(&json!("oauth"), &schemes, "c").unwrap_err().field,
            "c.id"
        );
    }
}

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

fn deserialize_secret_opt<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(Secret::new))
}

impl AuthSchemeConfig {
    /// The credential holding this scheme's OAuth2 grant secret or OAuth 1.0a consumer secret, if
    /// it has one.
    pub fn grant_credential_id(&self) -> Option<&str> {
        match &self.scheme {
            AuthScheme::OAuth2(o) => match &o.grant {
                OAuth2Grant::AuthorizationCode(g) | OAuth2Grant::Password(g) => g.credential_id.as_deref(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_flat_encoding_round_trips() {
        let json = serde_json::json!({"id":"apikey","description":"API Key","schemeType":"api-key","name":"X-API-Key","in":"header"});
        let c: AuthSchemeConfig = serde_json::from_value(json.clone()).unwrap();
        assert!(matches!(c.scheme, AuthScheme::ApiKey { location: ParamLocation::Header, .. }));
        assert_eq!(serde_json::to_value(&c).unwrap(), json);
    }

    #[test]
    fn grant_secret_is_read_but_never_written() {
        let json = serde_json::json!({"id":"o","schemeType":"oauth2","authorizeUrl":"https://a","tokenUrl":"https://t",
            "grant":{"grantType":"authorization_code","clientId":"cid","clientSecret":"shh"}});
        let mut c: AuthSchemeConfig = serde_json::from_value(json).unwrap();
        assert_eq!(c.grant_secret_mut().unwrap().client_secret.as_ref().unwrap().expose(), "shh");
        assert!(!serde_json::to_string(&c).unwrap().contains("shh"));
    }

    #[test]
    fn oauth1_consumer_secret_is_read_but_never_written() {
        let json = serde_json::json!({"id":"o1","schemeType":"oauth1","consumerKey":"ck","consumerSecret":"shh","signatureMethod":"sha256",
            "tempCredentialEndpoint":{"url":"https://p/request"},"tokenEndpoint":{"url":"https://p/access","parameterTransmission":"AUTH_STYLE_FORM"}});
        let mut c: AuthSchemeConfig = serde_json::from_value(json).unwrap();
        let AuthScheme::OAuth1(o) = &c.scheme else { panic!("not oauth1") };
        assert_eq!(o.consumer_secret.as_ref().unwrap().expose(), "shh");
        assert_eq!(o.signature_method, OAuth1SignatureMethod::Sha256);
        assert_eq!(o.token_endpoint.as_ref().unwrap().parameter_transmission, Some(ParameterTransmission::Form));
        let out = serde_json::to_value(&c).unwrap();
        assert!(!out.to_string().contains("shh"));
        assert_eq!(out["tokenAuth"], false);
        c.clear_secrets();
        let AuthScheme::OAuth1(o) = &c.scheme else { panic!("not oauth1") };
        assert!(o.consumer_secret.is_none());
        let bad = serde_json::json!({"id":"o1","schemeType":"oauth1","consumerKey":"ck","signatureMethod":"md5"});
        assert!(serde_json::from_value::<AuthSchemeConfig>(bad).is_err());
    }
}

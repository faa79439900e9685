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
    /// The credential holding this scheme's OAuth2 grant secret, if it has one.
    pub fn grant_credential_id(&self) -> Option<&str> {
        match &self.scheme {
            AuthScheme::OAuth2(o) => match &o.grant {
                OAuth2Grant::AuthorizationCode(g) | OAuth2Grant::Password(g) => g.credential_id.as_deref(),
                OAuth2Grant::ClientCredentials => None,
            },
            _ => None,
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
}

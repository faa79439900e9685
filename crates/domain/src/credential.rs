//! Credentials: the secrets end users supply. Each credential type has a fixed set of data fields;
//! some are secret. What is stored is split in two: the sealed whole (see the vault) and a redacted
//! view (the non-secret fields, with secret ones blanked) that reads return without decrypting.
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;
use utoipa::ToSchema;

use crate::error::{Error, FieldError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum CredentialType {
    #[serde(rename = "none")]
    None,
    #[serde(rename = "string")]
    String,
    #[serde(rename = "binary")]
    Binary,
    #[serde(rename = "basic-auth")]
    BasicAuth,
    #[serde(rename = "oauth2-client")]
    OAuth2Client,
    #[serde(rename = "oauth2-code")]
    OAuth2Code,
    #[serde(rename = "oauth2-password")]
    OAuth2Password,
    #[serde(rename = "oauth2-token")]
    OAuth2Token,
    #[serde(rename = "custom-function")]
    CustomFunction,
    #[serde(rename = "certificate")]
    Certificate,
    #[serde(rename = "jwt-bearer")]
    JwtBearer,
    /// What an OAuth 1.0a callback brings back; exchanged for an `oauth1-token` on submission.
    #[serde(rename = "oauth1")]
    OAuth1,
    #[serde(rename = "oauth1-token")]
    OAuth1Token,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Str,
    StrList,
    Bool,
    /// `[{name, value?}]`, both strings.
    ParamList,
}

/// One data field of a credential type.
struct FieldSpec {
    name: &'static str,
    required: bool,
    secret: bool,
    kind: Kind,
}

macro_rules! f {
    ($name:literal, $required:literal, $secret:literal, $kind:ident) => {
        FieldSpec {
            name: $name,
            required: $required,
            secret: $secret,
            kind: Kind::$kind,
        }
    };
}

impl CredentialType {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialType::None => "none",
            CredentialType::String => "string",
            CredentialType::Binary => "binary",
            CredentialType::BasicAuth => "basic-auth",
            CredentialType::OAuth2Client => "oauth2-client",
            CredentialType::OAuth2Code => "oauth2-code",
            CredentialType::OAuth2Password => "oauth2-password",
            CredentialType::OAuth2Token => "oauth2-token",
            CredentialType::CustomFunction => "custom-function",
            CredentialType::Certificate => "certificate",
            CredentialType::JwtBearer => "jwt-bearer",
            CredentialType::OAuth1 => "oauth1",
            CredentialType::OAuth1Token => "oauth1-token",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(Value::String(s.to_owned())).ok()
    }

    fn fields(self) -> &'static [FieldSpec] {
        match self {
            CredentialType::None => &[],
            CredentialType::String => &[f!("value", true, true, Str)],
            CredentialType::Binary => &[f!("valueBase64", true, true, Str)],
            CredentialType::BasicAuth | CredentialType::OAuth2Password => &[
                f!("username", true, false, Str),
                f!("password", true, true, Str),
            ],
            CredentialType::OAuth2Client => &[
                f!("clientId", true, false, Str),
                f!("clientSecret", true, true, Str),
                f!("authorizeUrl", false, false, Str),
                f!("tokenUrl", true, false, Str),
                f!("scopes", false, false, StrList),
                f!("additionalParams", false, false, Str),
                f!("mTLSEnabled", false, false, Bool),
                f!("mTLSCredentialId", false, false, Str),
            ],
            CredentialType::OAuth2Code => &[
                f!("code", true, true, Str),
                f!("state", true, true, Str),
                f!("redirectUrl", false, false, Str),
                f!("additionalParams", false, false, Str),
            ],
            CredentialType::OAuth2Token => &[
                f!("scopes", false, false, StrList),
                f!("accessToken", false, true, Str),
                f!("tokenType", false, false, Str),
                f!("expiresAt", false, false, Str),
                f!("refreshToken", true, true, Str),
            ],
            CredentialType::CustomFunction => &[f!("function", false, true, Str)],
            CredentialType::Certificate => &[
                f!("certificate", true, false, Str),
                f!("key", true, true, Str),
                f!("ca", false, false, Str),
            ],
            CredentialType::JwtBearer => &[
                f!("algorithm", false, false, Str),
                f!("secret", true, true, Str),
                f!("payload", false, false, Str),
                f!("expiresIn", false, false, Str),
                f!("authorizationHeaderPrefix", false, false, Str),
            ],
            CredentialType::OAuth1 => &[
                f!("state", true, true, Str),
                f!("oauthToken", true, true, Str),
                f!("oauthVerifier", true, true, Str),
            ],
            CredentialType::OAuth1Token => &[
                f!("token", true, true, Str),
                f!("tokenSecret", true, true, Str),
                f!("additionalParams", false, false, ParamList),
            ],
        }
    }
}

/// Credential data with its secrets: `Debug` prints nothing of it.
#[derive(Clone, PartialEq)]
pub struct SecretData(Map<String, Value>);

impl SecretData {
    pub fn expose(&self) -> &Map<String, Value> {
        &self.0
    }
    pub fn into_inner(self) -> Map<String, Value> {
        self.0
    }
    pub fn from_map(map: Map<String, Value>) -> Self {
        Self(map)
    }
}

impl fmt::Debug for SecretData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretData([redacted])")
    }
}

/// Checks `data` against the fields of `ty`; `path` prefixes the field names in errors (for example
/// `connections[0].credentials.action[0].credential.data`). Unknown fields are dropped, as Versori
/// ignores them.
pub fn validate_data(
    ty: CredentialType,
    data: Option<&Value>,
    path: &str,
) -> Result<SecretData, Vec<FieldError>> {
    let empty = Map::new();
    let map = match data {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(m)) => m,
        Some(_) => return Err(vec![FieldError::new(path, "must be an object")]),
    };
    let mut out = Map::new();
    let mut errors = Vec::new();
    for spec in ty.fields() {
        match map.get(spec.name) {
            None | Some(Value::Null) => {
                if spec.required {
                    errors.push(FieldError::new(
                        format!("{path}.{}", spec.name),
                        format!("is required for a {} credential", ty.as_str()),
                    ));
                }
            }
            Some(v) => {
                let ok = match spec.kind {
                    Kind::Str => v.is_string(),
                    Kind::Bool => v.is_boolean(),
                    Kind::StrList => v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
                    Kind::ParamList => v.as_array().is_some_and(|a| a.iter().all(is_param)),
                };
                if !ok {
                    let want = match spec.kind {
                        Kind::Str => "a string",
                        Kind::Bool => "a boolean",
                        Kind::StrList => "an array of strings",
                        Kind::ParamList => "an array of {name, value} objects with string values",
                    };
                    errors.push(FieldError::new(
                        format!("{path}.{}", spec.name),
                        format!("must be {want}"),
                    ));
                } else if spec.required && spec.kind == Kind::Str && v.as_str() == Some("") {
                    errors.push(FieldError::new(
                        format!("{path}.{}", spec.name),
                        "must not be empty",
                    ));
                } else {
                    out.insert(spec.name.to_owned(), v.clone());
                }
            }
        }
    }
    if ty == CredentialType::Certificate {
        use crate::pem_check::{check, PemKind};
        for (name, kind) in [
            ("certificate", PemKind::Certificates),
            ("key", PemKind::PrivateKey),
            ("ca", PemKind::Certificates),
        ] {
            if let Some(Value::String(text)) = out.get(name) {
                if text.is_empty() && name == "ca" {
                    continue;
                }
                if let Err(e) = check(text, kind, &format!("{path}.{name}")) {
                    errors.push(e);
                }
            }
        }
    }
    if ty == CredentialType::JwtBearer {
        errors.extend(check_jwt_bearer(&out, path));
    }
    if ty == CredentialType::Binary {
        if let Some(Value::String(b)) = out.get("valueBase64") {
            if !is_base64(b) {
                errors.push(FieldError::new(
                    format!("{path}.valueBase64"),
                    "is not valid base64",
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(SecretData(out))
    } else {
        Err(errors)
    }
}

/// `{name, value?}`: a non-empty string name and, when present, a string value.
fn is_param(v: &Value) -> bool {
    let Some(m) = v.as_object() else { return false };
    m.get("name")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty())
        && m.get("value").is_none_or(Value::is_string)
        && m.keys().all(|k| k == "name" || k == "value")
}

/// The signing algorithms a `jwt-bearer` credential may use (`HS256` when not given).
pub const JWT_ALGORITHMS: [&str; 6] = ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512"];

/// Decodes base64 in any of its usual alphabets, padded or not.
pub fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    use base64::Engine;
    let s = s.trim();
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|e| e.decode(s).ok())
}

/// A Go `time.Duration` string (`24h`, `30m`, `1m30s`, `1.5h`, `500ms`) in seconds; `None` when it
/// is not one or is not positive.
pub fn parse_go_duration(s: &str) -> Option<f64> {
    let mut rest = s.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total = 0.0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let n: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let (unit, len) = [("ms", 0.001), ("h", 3600.0), ("m", 60.0), ("s", 1.0)]
            .iter()
            .find(|(u, _)| rest.starts_with(u))
            .map(|(u, f)| (*f, u.len()))?;
        total += n * unit;
        rest = &rest[len..];
    }
    (total > 0.0).then_some(total)
}

/// Checks a `jwt-bearer` credential: a known algorithm, a base64 secret (for `RS*`, a PEM private
/// key once decoded), a JSON-object payload and a Go duration.
fn check_jwt_bearer(data: &Map<String, Value>, path: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let text = |k: &str| data.get(k).and_then(Value::as_str).unwrap_or_default();
    let alg = Some(text("algorithm"))
        .filter(|a| !a.is_empty())
        .unwrap_or("HS256");
    if !JWT_ALGORITHMS.contains(&alg) {
        errors.push(FieldError::new(
            format!("{path}.algorithm"),
            format!("must be one of {}", JWT_ALGORITHMS.join(", ")),
        ));
    }
    match decode_base64(text("secret")) {
        None => errors.push(FieldError::new(
            format!("{path}.secret"),
            "is not valid base64",
        )),
        Some(bytes) if alg.starts_with("RS") => {
            let pem = String::from_utf8(bytes).unwrap_or_default();
            if crate::pem_check::check(
                &pem,
                crate::pem_check::PemKind::PrivateKey,
                &format!("{path}.secret"),
            )
            .is_err()
            {
                errors.push(FieldError::new(
                    format!("{path}.secret"),
                    "must be the base64 of a PEM RSA private key for an RS algorithm",
                ));
            }
        }
        Some(bytes) if bytes.len() < 16 => errors.push(FieldError::new(
            format!("{path}.secret"),
            "must be at least 16 bytes for an HS algorithm",
        )),
        Some(_) => {}
    }
    let payload = text("payload");
    if !payload.is_empty()
        && !matches!(serde_json::from_str::<Value>(payload), Ok(Value::Object(_)))
    {
        errors.push(FieldError::new(
            format!("{path}.payload"),
            "must be a JSON object, as a string",
        ));
    }
    let expires = text("expiresIn");
    if !expires.is_empty() && parse_go_duration(expires).is_none() {
        errors.push(FieldError::new(
            format!("{path}.expiresIn"),
            "must be a duration such as 24h, 30m or 1m30s",
        ));
    }
    errors
}

fn is_base64(s: &str) -> bool {
    let s = s.trim_end_matches('=');
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'-' || b == b'_')
}

/// What a read may show of `data`: non-secret fields as they are, required secret fields as `""`,
/// optional secret fields left out.
pub fn redact(ty: CredentialType, data: &SecretData) -> Value {
    let mut out = Map::new();
    for spec in ty.fields() {
        if spec.secret {
            if spec.required {
                out.insert(spec.name.to_owned(), Value::String(String::new()));
            }
        } else if let Some(v) = data.0.get(spec.name) {
            out.insert(spec.name.to_owned(), v.clone());
        }
    }
    Value::Object(out)
}

/// A credential as reads show it: never any secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CredentialView {
    pub id: String,
    pub organisation_id: String,
    #[serde(rename = "type")]
    pub credential_type: CredentialType,
    pub name: String,
    /// The redacted data: secret values are blank or absent.
    #[schema(value_type = Object)]
    pub data: Value,
    /// `[]`: valid; absent: not validated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<String>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::time::rfc3339_opt"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<crate::time::Timestamp>,
}

/// A credential ready to be written: its redacted view and its sealed data.
#[derive(Debug, Clone)]
pub struct NewCredential {
    pub view: CredentialView,
    /// The whole data, sealed by the vault.
    pub sealed: String,
    /// The id of the vault key that sealed it.
    pub key_id: String,
}

/// A 400 listing credential data errors.
pub fn data_error(fields: Vec<FieldError>) -> Error {
    Error::invalid_fields("invalid credential data", fields)
}

#[cfg(test)]
mod jwt_bearer_tests {
    use super::*;
    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("24h"), Some(86400.0));
        assert_eq!(parse_go_duration("1m30s"), Some(90.0));
        assert_eq!(parse_go_duration("1.5h"), Some(5400.0));
        assert_eq!(parse_go_duration("500ms"), Some(0.5));
        for bad in ["", "forever", "10", "-5m", "0s", "5d"] {
            assert_eq!(parse_go_duration(bad), None, "{bad}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn redaction_blanks_required_secrets_and_drops_optional_ones() {
        let d = validate_data(
            CredentialType::OAuth2Token,
            Some(&json!({"refreshToken":"r","accessToken":"a","scopes":["x"]})),
            "data",
        )
        .unwrap();
        assert_eq!(
            redact(CredentialType::OAuth2Token, &d),
            json!({"refreshToken":"","scopes":["x"]})
        );
        let d = validate_data(
            CredentialType::BasicAuth,
            Some(&json!({"username":"u","password":"p"})),
            "data",
        )
        .unwrap();
        assert_eq!(
            redact(CredentialType::BasicAuth, &d),
            json!({"username":"u","password":""})
        );
    }

    #[test]
    fn missing_and_mistyped_fields_are_named() {
        let e = validate_data(
            CredentialType::BasicAuth,
            Some(&json!({"username":1})),
            "c.data",
        )
        .unwrap_err();
        let names: Vec<_> = e.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(names, ["c.data.username", "c.data.password"]);
        let e = validate_data(
            CredentialType::Binary,
            Some(&json!({"valueBase64":"not base64!"})),
            "d",
        )
        .unwrap_err();
        assert_eq!(e[0].field, "d.valueBase64");
    }

    #[test]
    fn oauth1_credentials() {
        let d =
            validate_data(CredentialType::OAuth1Token, Some(&json!({"token":"t","tokenSecret":"s","additionalParams":[{"name":"user_id","value":"7"}]})), "d")
                .unwrap();
        assert_eq!(
            redact(CredentialType::OAuth1Token, &d),
            json!({"token":"","tokenSecret":"","additionalParams":[{"name":"user_id","value":"7"}]})
        );
        let e = validate_data(
            CredentialType::OAuth1Token,
            Some(&json!({"token":"t","tokenSecret":"s","additionalParams":[{"value":"7"}]})),
            "d",
        )
        .unwrap_err();
        assert_eq!(e[0].field, "d.additionalParams");
        let e = validate_data(
            CredentialType::OAuth1,
            Some(&json!({"state":"s","oauthToken":"t"})),
            "d",
        )
        .unwrap_err();
        assert_eq!(e[0].field, "d.oauthVerifier");
        let d = validate_data(
            CredentialType::OAuth1,
            Some(&json!({"state":"s","oauthToken":"t","oauthVerifier":"v"})),
            "d",
        )
        .unwrap();
        assert_eq!(
            redact(CredentialType::OAuth1, &d),
            json!({"state":"","oauthToken":"","oauthVerifier":""})
        );
    }
}

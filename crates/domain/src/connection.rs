//! A connection as a request asks for it (a [`ConnectionDraft`]), whichever API face it came
//! through, and the rules it must meet before its credentials are sealed and stored
//! ([`check`]): every credential names one of the auth scheme configs the organisation defined
//! and is of a type that scheme takes; an end user's credential carries no provider URL or
//! certificate of its own; data matches its type; an expiry lies ahead; variable names are unique.
//! Pure: the caller seals what comes out.
use crate::auth_scheme::{self, AuthScheme, AuthSchemeConfig};
use crate::credential::{self, CredentialType, SecretData};
use crate::error::FieldError;
use crate::model::{ConnectionVariable, CredentialRole};
use crate::time::Timestamp;
use serde_json::Value;

/// Who asks for a connection: the organisation (an API key) may point a credential at its own
/// provider URLs; an end user (a hub session, an end-user JWT) only uses what the organisation
/// defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requester {
    Organisation,
    EndUser,
}

/// Whose connection it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// The organisation's own (Connect v1, a v2 static connection).
    Organisation,
    /// A v1 end user's, by internal id.
    EndUser(String),
    /// A v2 end user's (a dynamic connection), by internal id.
    PlatformEndUser(String),
}

impl Owner {
    /// Who owns `c`.
    pub fn of(c: &crate::model::Connection) -> Owner {
        match (&c.end_user_id, &c.platform_end_user_id) {
            (Some(u), _) => Owner::EndUser(u.clone()),
            (None, Some(u)) => Owner::PlatformEndUser(u.clone()),
            (None, None) => Owner::Organisation,
        }
    }
}

/// A connection as a request describes it. The `*_field` strings say where each part sat in the
/// request, in that API's own terms, so that every error names what the caller sent.
#[derive(Debug, Clone)]
pub struct ConnectionDraft {
    pub name: String,
    pub name_field: String,
    pub credentials: Vec<CredentialDraft>,
    pub variables: Vec<ConnectionVariable>,
    /// Where `variables` sat (`variables`, `connection.variables`).
    pub variables_field: String,
    /// A base URL override, already normalised by the face (v2); empty: the connector's.
    pub base_url: String,
}

/// One credential of a [`ConnectionDraft`].
#[derive(Debug, Clone)]
pub struct CredentialDraft {
    pub role: CredentialRole,
    /// The auth scheme config as the request sent it, in v1's flat encoding.
    pub scheme: Value,
    /// Where the scheme's fields sat (`credentials.action[0].authSchemeConfig`, or v2's
    /// `credentials[0].authSchemeConfig.oauth2`).
    pub scheme_field: String,
    pub name: String,
    pub credential_type: CredentialType,
    pub data: Option<Value>,
    pub expires_at: Option<Timestamp>,
    /// Where the credential sat (`credentials.action[0].credential`).
    pub field: String,
}

/// A credential that met the rules: the organisation's copy of its scheme, and its checked data.
#[derive(Debug, Clone)]
pub struct CheckedCredential {
    pub role: CredentialRole,
    pub scheme: AuthSchemeConfig,
    pub name: String,
    pub credential_type: CredentialType,
    pub data: SecretData,
    pub expires_at: Option<Timestamp>,
    pub field: String,
}

/// A connection that met the rules, ready to be sealed.
#[derive(Debug, Clone)]
pub struct CheckedConnection {
    pub name: String,
    pub credentials: Vec<CheckedCredential>,
    pub variables: Vec<ConnectionVariable>,
    pub base_url: String,
}

/// A new connection checked and sealed, whose `oauth2-code` (and `oauth1`) credentials still have
/// to be exchanged before it can be stored.
#[derive(Debug)]
pub struct PendingConnection {
    pub connection: crate::model::NewConnection,
    /// Where each of `connection.credentials` sat in the request, for errors.
    pub paths: Vec<String>,
}

/// The credential types that can serve `scheme` (what [`fits`] accepts), for messages and docs.
pub fn accepted(scheme: &AuthScheme) -> Vec<CredentialType> {
    use CredentialType as T;
    [
        T::None,
        T::String,
        T::Binary,
        T::BasicAuth,
        T::OAuth2Client,
        T::OAuth2Code,
        T::OAuth2Password,
        T::OAuth2Token,
        T::CustomFunction,
        T::Certificate,
        T::JwtBearer,
        T::OAuth1,
        T::OAuth1Token,
    ]
    .into_iter()
    .filter(|t| fits(scheme, *t))
    .collect()
}

/// Whether a credential of type `ty` can serve `scheme`.
pub fn fits(scheme: &AuthScheme, ty: CredentialType) -> bool {
    use CredentialType as T;
    match scheme {
        AuthScheme::None => ty == T::None,
        AuthScheme::ApiKey { .. } => ty == T::String,
        AuthScheme::BasicAuth => ty == T::BasicAuth,
        AuthScheme::OAuth2(_) => matches!(
            ty,
            T::OAuth2Client
                | T::OAuth2Code
                | T::OAuth2Password
                | T::OAuth2Token
                | T::JwtBearer
                | T::CustomFunction
        ),
        AuthScheme::Hmac { .. } => matches!(ty, T::String | T::Binary),
        AuthScheme::Certificate => ty == T::Certificate,
        // tokenAuth schemes take tokens obtained elsewhere only; the others the browser flow's
        // callback result, or imported tokens.
        AuthScheme::OAuth1(o) => ty == T::OAuth1Token || (ty == T::OAuth1 && !o.token_auth),
    }
}

/// An end user's credential may not carry its own provider URLs or mutual-TLS certificate: those
/// decide where a secret is sent, and belong to the organisation.
fn end_user_overrides(scheme: &AuthSchemeConfig, c: &CredentialDraft) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if c.credential_type != CredentialType::OAuth2Client {
        return errors;
    }
    let data = c.data.as_ref().and_then(Value::as_object);
    let text = |k: &str| {
        data.and_then(|d| d.get(k))
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    };
    if let AuthScheme::OAuth2(o) = &scheme.scheme {
        for (field, ours) in [
            ("tokenUrl", &o.token_url),
            ("authorizeUrl", &o.authorize_url),
        ] {
            if text(field).is_some_and(|v| v != ours) {
                errors.push(FieldError::new(
                    format!("{}.data.{field}", c.field),
                    format!(
                        "must be the auth scheme's {field}: only the organisation can point a \
                         credential at another provider"
                    ),
                ));
            }
        }
    }
    let mtls = data
        .and_then(|d| d.get("mTLSEnabled"))
        .and_then(Value::as_bool)
        == Some(true)
        || text("mTLSCredentialId").is_some();
    if mtls {
        errors.push(FieldError::new(
            format!("{}.data.mTLSCredentialId", c.field),
            "mutual TLS is set up by the organisation, not by an end user's credential",
        ));
    }
    errors
}

/// Checks a draft against the auth scheme configs the organisation defined for it (`schemes`:
/// the connector's or system's, or a template's) and returns what to seal, or every problem at
/// once.
pub fn check(
    draft: ConnectionDraft,
    schemes: &[AuthSchemeConfig],
    requester: Requester,
    now: Timestamp,
) -> Result<CheckedConnection, Vec<FieldError>> {
    let mut errors = Vec::new();
    if draft.name.trim().is_empty() {
        errors.push(FieldError::new(&draft.name_field, "must not be empty"));
    }
    let mut credentials = Vec::with_capacity(draft.credentials.len());
    for c in draft.credentials {
        let scheme = match auth_scheme::resolve(&c.scheme, schemes, &c.scheme_field) {
            Ok(s) => s,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        if !fits(&scheme.scheme, c.credential_type) {
            errors.push(FieldError::new(
                format!("{}.type", c.field),
                format!(
                    "a {} credential cannot serve a {} auth scheme, which takes {}",
                    c.credential_type.as_str(),
                    scheme.scheme.type_name(),
                    accepted(&scheme.scheme)
                        .iter()
                        .map(|t| t.as_str())
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
            ));
            continue;
        }
        if requester == Requester::EndUser {
            let overrides = end_user_overrides(&scheme, &c);
            if !overrides.is_empty() {
                errors.extend(overrides);
                continue;
            }
        }
        if c.expires_at.is_some_and(|e| e <= now) {
            errors.push(FieldError::new(
                format!("{}.expiresAt", c.field),
                "must be in the future",
            ));
            continue;
        }
        match credential::validate_data(
            c.credential_type,
            c.data.as_ref(),
            &format!("{}.data", c.field),
        ) {
            Ok(data) => credentials.push(CheckedCredential {
                role: c.role,
                scheme,
                name: c.name,
                credential_type: c.credential_type,
                data,
                expires_at: c.expires_at,
                field: c.field,
            }),
            Err(mut e) => errors.append(&mut e),
        }
    }
    let mut seen = std::collections::HashSet::new();
    for (i, v) in draft.variables.iter().enumerate() {
        if v.name.is_empty() || !seen.insert(v.name.as_str()) {
            errors.push(FieldError::new(
                format!("{}[{i}].name", draft.variables_field),
                "must be a non-empty name, unique in the list",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(CheckedConnection {
        name: draft.name,
        credentials,
        variables: draft.variables,
        base_url: draft.base_url,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schemes() -> Vec<AuthSchemeConfig> {
        let oauth = json!({"id": "oauth", "schemeType": "oauth2", "authorizeUrl": "https://p.example/a",
            "tokenUrl": "https://p.example/t", "grant": {"grantType": "client_credentials"}});
        vec![
            serde_json::from_value(
                json!({"id": "key", "schemeType": "api-key", "name": "X-Key", "in": "header"}),
            )
            .unwrap(),
            serde_json::from_value(oauth).unwrap(),
        ]
    }

    fn credential(scheme: Value, ty: CredentialType, data: Value) -> CredentialDraft {
        CredentialDraft {
            role: CredentialRole::Action,
            scheme,
            scheme_field: "credentials[0].authSchemeConfig".into(),
            name: "c".into(),
            credential_type: ty,
            data: Some(data),
            expires_at: None,
            field: "credentials[0].credential".into(),
        }
    }

    fn draft(credentials: Vec<CredentialDraft>) -> ConnectionDraft {
        ConnectionDraft {
            name: "crm".into(),
            name_field: "name".into(),
            credentials,
            variables: Vec::new(),
            variables_field: "variables".into(),
            base_url: String::new(),
        }
    }

    fn fields(r: Result<CheckedConnection, Vec<FieldError>>) -> Vec<String> {
        r.err()
            .unwrap_or_default()
            .into_iter()
            .map(|f| f.field)
            .collect()
    }

    #[test]
    fn a_sound_draft_keeps_the_organisations_scheme_and_checked_data() {
        let d = draft(vec![credential(
            json!({"id": "key", "description": "mine"}),
            CredentialType::String,
            json!({"value": "k"}),
        )]);
        let c = check(d, &schemes(), Requester::EndUser, crate::time::now()).unwrap();
        assert_eq!(c.credentials[0].scheme, schemes()[0]);
        assert_eq!(c.credentials[0].data.expose()["value"], "k");
    }

    #[test]
    fn every_rule_names_its_field() {
        let now = crate::time::now();
        let mut d = draft(vec![
            credential(
                json!({"id": "nope"}),
                CredentialType::String,
                json!({"value": "k"}),
            ),
            credential(json!({"id": "key"}), CredentialType::BasicAuth, json!({})),
            credential(json!({"id": "key"}), CredentialType::String, json!({})),
        ]);
        d.name = " ".into();
        d.credentials[1].field = "credentials[1].credential".into();
        d.credentials[2].field = "credentials[2].credential".into();
        d.variables = vec![
            ConnectionVariable {
                name: "a".into(),
                value: "1".into(),
            },
            ConnectionVariable {
                name: "a".into(),
                value: "2".into(),
            },
        ];
        assert_eq!(
            fields(check(d, &schemes(), Requester::Organisation, now)),
            [
                "name",
                "credentials[0].authSchemeConfig.id",
                "credentials[1].credential.type",
                "credentials[2].credential.data.value",
                "variables[1].name"
            ]
        );
        let mut expired = draft(vec![credential(
            json!({"id": "key"}),
            CredentialType::String,
            json!({"value": "k"}),
        )]);
        expired.credentials[0].expires_at = Some(now - chrono::Duration::seconds(1));
        assert_eq!(
            fields(check(expired, &schemes(), Requester::Organisation, now)),
            ["credentials[0].credential.expiresAt"]
        );
    }

    #[test]
    fn only_the_organisation_may_point_a_credential_elsewhere() {
        let now = crate::time::now();
        let client = |data: Value| {
            draft(vec![credential(
                json!({"id": "oauth"}),
                CredentialType::OAuth2Client,
                data,
            )])
        };
        let elsewhere =
            json!({"clientId": "c", "clientSecret": "s", "tokenUrl": "https://evil.example/t"});
        assert_eq!(
            fields(check(
                client(elsewhere.clone()),
                &schemes(),
                Requester::EndUser,
                now
            )),
            ["credentials[0].credential.data.tokenUrl"]
        );
        assert!(check(client(elsewhere), &schemes(), Requester::Organisation, now).is_ok());
        let same = json!({"clientId": "c", "clientSecret": "s", "tokenUrl": "https://p.example/t"});
        assert!(check(client(same), &schemes(), Requester::EndUser, now).is_ok());
        let mtls = json!({"clientId": "c", "clientSecret": "s", "tokenUrl": "https://p.example/t", "mTLSEnabled": true});
        assert_eq!(
            fields(check(client(mtls), &schemes(), Requester::EndUser, now)),
            ["credentials[0].credential.data.mTLSCredentialId"]
        );
    }
}

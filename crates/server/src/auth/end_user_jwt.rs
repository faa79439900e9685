//! End-user JWTs: `Authorization: JWT <token>`, RS256, signed by one of the organisation's
//! signing keys (the key its `iss` names: `https://versori.com/sk/<keyId>` or
//! `<public url>/sk/<keyId>`), `sub` the end user's externalId, `exp` required and within the
//! lifetime cap. Every refusal is a 401 saying why; the token itself is never logged.
use crate::error::ApiError;
use crate::state::AppState;
use jsonwebtoken::errors::ErrorKind as JwtErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;
use std::collections::HashSet;
use switchyard_domain::{is_ulid, time};
use switchyard_store::OrgId;

/// The issuer prefix Versori's documentation gives: `iss = https://versori.com/sk/<keyId>`.
pub const VERSORI_ISSUER_PREFIX: &str = "https://versori.com/sk/";

/// How far `exp` and `nbf` may be off, for clocks that disagree a little.
const LEEWAY_SECONDS: u64 = 30;

/// A verified end-user JWT: who it acts for.
#[derive(Debug, Clone)]
pub struct EndUserToken {
    /// The organisation of the signing key.
    pub org: OrgId,
    /// `sub`: the end user's externalId.
    pub external_id: String,
    pub signing_key_id: String,
}

fn refused(message: impl Into<String>) -> ApiError {
    ApiError::unauthorized(message)
}

/// The signing key id an issuer names: `https://versori.com/sk/<id>` or `<public url>/sk/<id>`.
pub fn key_id_of_issuer<'a>(iss: &'a str, public_url: &str) -> Option<&'a str> {
    let own = format!("{}/sk/", public_url.trim_end_matches('/'));
    iss.strip_prefix(VERSORI_ISSUER_PREFIX)
        .or_else(|| iss.strip_prefix(own.as_str()))
        .filter(|id| !id.is_empty())
}

#[derive(Deserialize)]
struct IssuerOnly {
    iss: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct VerifiedClaims {
    sub: Option<serde_json::Value>,
    exp: Option<serde_json::Value>,
    iat: Option<serde_json::Value>,
}

/// Refuses a token without `exp`, or one that lives longer than `max` seconds: `exp - iat` when
/// `iat` is present, and in any case `exp - now` (with the leeway, for clocks that disagree).
fn check_lifetime(
    exp: Option<&serde_json::Value>,
    iat: Option<&serde_json::Value>,
    now: i64,
    max: u64,
) -> Result<(), ApiError> {
    let exp = match exp {
        None | Some(serde_json::Value::Null) => {
            return Err(refused(format!("the JWT has no exp claim: end-user tokens must expire, at most {max} seconds after they are issued")))
        }
        Some(v) => v.as_f64().ok_or_else(|| refused("the JWT's exp claim is not a number"))?,
    };
    let max_f = max as f64;
    if let Some(iat) = iat.filter(|v| !v.is_null()) {
        let iat = iat
            .as_f64()
            .ok_or_else(|| refused("the JWT's iat claim is not a number"))?;
        if exp - iat > max_f {
            return Err(refused(format!(
                "the JWT lives too long: exp - iat must be at most {max} seconds"
            )));
        }
    }
    if exp - now as f64 > max_f + LEEWAY_SECONDS as f64 {
        return Err(refused(format!(
            "the JWT lives too long: its exp must be at most {max} seconds from now"
        )));
    }
    Ok(())
}

/// Verifies an end user's JWT (the text after `Authorization: JWT `): RS256 only, signed by the
/// signing key its `iss` names, which must still exist; `exp` required and checked, `nbf` checked
/// when present (30 s leeway); a lifetime (`exp - iat`, and `exp - now`) of at most
/// [`AppState::end_user_jwt_max_lifetime`]; `sub` required and non-empty. Every refusal is a 401
/// saying why; the token itself is never logged nor echoed.
pub async fn verify_end_user_jwt(state: &AppState, token: &str) -> Result<EndUserToken, ApiError> {
    let token = token.trim();
    if token.is_empty() {
        return Err(refused("missing token: send Authorization: JWT <token>"));
    }
    let header = jsonwebtoken::decode_header(token).map_err(|_| refused("malformed JWT"))?;
    if header.alg != Algorithm::RS256 {
        return Err(refused("the JWT must be signed with RS256"));
    }
    let unverified: IssuerOnly = jsonwebtoken::dangerous::insecure_decode_claims(token)
        .map_err(|_| refused("malformed JWT"))?;
    let iss = match unverified.iss {
        Some(serde_json::Value::String(iss)) => iss,
        Some(_) => return Err(refused("the JWT's iss claim must be a string")),
        None => {
            return Err(refused(
                "the JWT has no iss claim: it must be https://versori.com/sk/<signing key id>",
            ))
        }
    };
    let key_id = key_id_of_issuer(&iss, &state.public_url)
        .ok_or_else(|| {
            refused("the JWT's iss claim must be https://versori.com/sk/<signing key id>")
        })?
        .to_owned();
    let key = if is_ulid(&key_id) {
        state.auth_cache.signing_key(&state.store, &key_id).await?
    } else {
        None
    };
    let key =
        key.ok_or_else(|| refused("the JWT's signing key does not exist (unknown, or deleted)"))?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.required_spec_claims = HashSet::from(["iss".to_owned()]);
    validation.set_issuer(&[iss.as_str()]);
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.validate_aud = false;
    validation.leeway = LEEWAY_SECONDS;
    let claims = jsonwebtoken::decode::<VerifiedClaims>(token, &key.decoding, &validation)
        .map_err(|e| {
            refused(match e.kind() {
                JwtErrorKind::InvalidSignature => {
                    "the JWT's signature does not verify with its signing key"
                }
                JwtErrorKind::ExpiredSignature => "the JWT has expired (exp)",
                JwtErrorKind::ImmatureSignature => "the JWT is not valid yet (nbf)",
                JwtErrorKind::InvalidClaimFormat(_) => "the JWT's exp or nbf claim is not a number",
                JwtErrorKind::InvalidAlgorithm => "the JWT must be signed with RS256",
                _ => "malformed JWT",
            })
        })?
        .claims;
    check_lifetime(
        claims.exp.as_ref(),
        claims.iat.as_ref(),
        time::now().timestamp(),
        state.end_user_jwt_max_lifetime.as_secs(),
    )?;
    let external_id = match claims.sub {
        Some(serde_json::Value::String(sub)) if !sub.trim().is_empty() => sub,
        Some(serde_json::Value::String(_)) => {
            return Err(refused(
                "the JWT's sub claim (the end user's externalId) is empty",
            ))
        }
        Some(_) => {
            return Err(refused(
                "the JWT's sub claim (the end user's externalId) must be a string",
            ))
        }
        None => {
            return Err(refused(
                "the JWT has no sub claim: it must be the end user's externalId",
            ))
        }
    };
    Ok(EndUserToken {
        org: key.org.clone(),
        external_id,
        signing_key_id: key.key.id.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_name_a_key() {
        assert_eq!(
            key_id_of_issuer("https://versori.com/sk/01ABC", "http://x"),
            Some("01ABC")
        );
        assert_eq!(
            key_id_of_issuer("http://sy.example/sk/01ABC", "http://sy.example/"),
            Some("01ABC")
        );
        assert_eq!(
            key_id_of_issuer("http://sy.example/sk/01ABC", "http://sy.example"),
            Some("01ABC")
        );
        assert_eq!(
            key_id_of_issuer("https://versori.com/sk/", "http://x"),
            None
        );
        assert_eq!(
            key_id_of_issuer("https://evil.example/sk/01ABC", "http://sy.example"),
            None
        );
        assert_eq!(key_id_of_issuer("01ABC", "http://sy.example"), None);
    }

    #[test]
    fn lifetimes_are_required_and_capped() {
        use serde_json::json;
        let now = 1_700_000_000i64;
        let day = 86_400u64;
        let ok = |exp: serde_json::Value, iat: Option<serde_json::Value>| {
            check_lifetime(Some(&exp), iat.as_ref(), now, day).is_ok()
        };
        assert!(
            check_lifetime(None, None, now, day).is_err(),
            "exp is required"
        );
        assert!(check_lifetime(Some(&json!(null)), None, now, day).is_err());
        assert!(ok(json!(now + 3600), Some(json!(now))));
        assert!(ok(json!(now + 86_400), Some(json!(now))), "exactly the cap");
        assert!(
            !ok(json!(now + 86_401), Some(json!(now))),
            "exp - iat over the cap"
        );
        assert!(
            !ok(json!(now + 3600), Some(json!(now - 86_400))),
            "issued long ago for a long life"
        );
        assert!(ok(json!(now + 86_400 + 10), None), "within the leeway");
        assert!(!ok(json!(now + 2 * 86_400), None), "exp - now over the cap");
        assert!(
            !ok(json!(now + 2 * 86_400), Some(json!(now + 2 * 86_400 - 60))),
            "a future iat does not extend the cap"
        );
        assert!(
            !ok(json!(now + 60), Some(json!("yesterday"))),
            "iat must be a number"
        );
        assert!(
            ok(json!((now + 60) as f64 + 0.5), Some(json!(now as f64))),
            "numbers may have fractions"
        );
    }
}

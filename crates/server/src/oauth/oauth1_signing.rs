//! OAuth 1.0a request signing (RFC 5849 §3.4): percent-encoding, the signature base string,
//! HMAC-SHA1 and HMAC-SHA256 signatures, the `Authorization` header, and sending a signed request
//! through the egress guard with the protocol parameters where the endpoint wants them.
use super::provider::ProviderRefusal;
use crate::egress::{self, Egress, EgressError};
use base64::Engine;
use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use rand::RngCore;
use switchyard_domain::auth_scheme::{OAuth1SignatureMethod, ParameterTransmission};
use switchyard_domain::time;

// ---------------------------------------------------------------------------------------------
// RFC 5849 §3: signing requests.

/// RFC 5849 §3.6: every byte but ALPHA, DIGIT, `-`, `.`, `_` and `~` is percent-encoded, with
/// upper-case hex digits (of the UTF-8 encoding).
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED).to_string()
}

/// RFC 5849 §3.4.1: `METHOD&base-URI&normalised-parameters`. `params` are the protocol parameters
/// (without `oauth_signature` or `realm`) and any form-body parameters; the URL's query is added.
pub fn base_string(method: &str, url: &url::Url, params: &[(String, String)]) -> String {
    // §3.4.1.2: scheme and host in lower case (the url crate does that), the port only when it
    // is not the scheme's default (the url crate drops default ports), no query, no fragment.
    let host = url.host_str().unwrap_or_default();
    let base_uri = match url.port() {
        Some(port) => format!("{}://{host}:{port}{}", url.scheme(), url.path()),
        None => format!("{}://{host}{}", url.scheme(), url.path()),
    };
    // §3.4.1.3: every parameter encoded, sorted by name then value, joined.
    let mut pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (encode(&k), encode(&v)))
        .collect();
    pairs.extend(params.iter().map(|(k, v)| (encode(k), encode(v))));
    pairs.sort();
    let normalised = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        encode(&base_uri),
        encode(&normalised)
    )
}

/// RFC 5849 §3.4.2: the HMAC of the base string keyed by `consumer-secret&token-secret`, base64.
pub fn signature(
    method: OAuth1SignatureMethod,
    consumer_secret: &str,
    token_secret: &str,
    base_string: &str,
) -> String {
    let key = zeroize::Zeroizing::new(format!(
        "{}&{}",
        encode(consumer_secret),
        encode(token_secret)
    ));
    let digest = match method {
        OAuth1SignatureMethod::Sha1 => {
            let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes())
                .expect("HMAC takes keys of any length");
            mac.update(base_string.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        OAuth1SignatureMethod::Sha256 => {
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes())
                .expect("HMAC takes keys of any length");
            mac.update(base_string.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
    };
    base64::engine::general_purpose::STANDARD.encode(digest)
}

/// RFC 5849 §3.5.1: `OAuth name="value", ...`, names and values encoded.
fn authorization_header(params: &[(String, String)]) -> String {
    let fields: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{}=\"{}\"", encode(k), encode(v)))
        .collect();
    format!("OAuth {}", fields.join(", "))
}

/// Who signs: the consumer, and the token when there is one.
pub(super) struct Signer<'a> {
    pub(super) method: OAuth1SignatureMethod,
    pub(super) consumer_key: &'a str,
    pub(super) consumer_secret: &'a str,
    pub(super) token: Option<&'a str>,
    pub(super) token_secret: &'a str,
}

pub(super) enum SendError {
    /// The provider answered 4xx: only its error code and status reach the caller.
    Refused(ProviderRefusal),
    /// No usable answer (unreachable, refused by the egress guard, 5xx, too large), in
    /// Switchyard's own words.
    Unreachable(String),
}

impl Signer<'_> {
    /// The protocol parameters for one request, `extra` (`oauth_callback`, `oauth_verifier`)
    /// included, signed.
    fn sign(
        &self,
        method: &str,
        url: &url::Url,
        extra: &[(&str, &str)],
        nonce: &str,
        timestamp: &str,
    ) -> Vec<(String, String)> {
        let mut params: Vec<(String, String)> = vec![
            ("oauth_consumer_key".into(), self.consumer_key.into()),
            ("oauth_nonce".into(), nonce.into()),
            (
                "oauth_signature_method".into(),
                self.method.oauth_name().into(),
            ),
            ("oauth_timestamp".into(), timestamp.into()),
            ("oauth_version".into(), "1.0".into()),
        ];
        if let Some(t) = self.token {
            params.push(("oauth_token".into(), t.into()));
        }
        params.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let signature = signature(
            self.method,
            self.consumer_secret,
            self.token_secret,
            &base_string(method, url, &params),
        );
        params.push(("oauth_signature".into(), signature));
        params
    }

    /// POSTs a signed request to `endpoint` and reads the form-encoded answer (§2.1, §2.3).
    pub(super) async fn send(
        &self,
        http: &Egress,
        endpoint: &str,
        transmission: Option<ParameterTransmission>,
        extra: &[(&str, &str)],
    ) -> Result<Vec<(String, String)>, SendError> {
        let mut url = url::Url::parse(endpoint)
            .map_err(|_| SendError::Unreachable("the endpoint is not a URL".into()))?;
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let params = self.sign(
            "POST",
            &url,
            extra,
            &hex::encode(nonce),
            &time::now().timestamp().to_string(),
        );
        let unreachable = |e: EgressError| SendError::Unreachable(e.to_string());
        let request = match transmission.unwrap_or(ParameterTransmission::AuthorizationHeader) {
            ParameterTransmission::AuthorizationHeader => http
                .post(url.as_str())
                .map_err(unreachable)?
                .header(
                    axum::http::header::AUTHORIZATION,
                    authorization_header(&params),
                )
                .header(axum::http::header::CONTENT_LENGTH, "0"),
            ParameterTransmission::Form => {
                http.post(url.as_str()).map_err(unreachable)?.form(&params)
            }
            ParameterTransmission::Query => {
                url.query_pairs_mut().extend_pairs(params.iter());
                http.post(url.as_str())
                    .map_err(unreachable)?
                    .header(axum::http::header::CONTENT_LENGTH, "0")
            }
        };
        // Errors are reported without the URL, whose query may carry the parameters.
        let res = egress::send(request).await.map_err(unreachable)?;
        let status = res.status();
        let body = egress::read_body(res, egress::MAX_PROVIDER_BODY)
            .await
            .map_err(unreachable)?;
        let body = String::from_utf8_lossy(&body);
        if status.is_server_error() {
            return Err(SendError::Unreachable(format!(
                "the endpoint answered HTTP {}",
                status.as_u16()
            )));
        }
        let answer: Vec<(String, String)> = form_urlencoded::parse(body.trim().as_bytes())
            .into_owned()
            .collect();
        if !status.is_success() {
            let said = |k: &str| answer.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            let description = said("error_description").or_else(|| said("description"));
            return Err(SendError::Refused(ProviderRefusal::new(
                status.as_u16(),
                said("error").as_deref(),
                description.as_deref(),
            )));
        }
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn percent_encoding_is_rfc_5849s() {
        assert_eq!(encode("abcABC123-._~"), "abcABC123-._~");
        assert_eq!(encode("a b+c*%/=&"), "a%20b%2Bc%2A%25%2F%3D%26");
        assert_eq!(encode("é☃"), "%C3%A9%E2%98%83");
    }

    /// RFC 5849 §3.4.1.1's example: query, form body and protocol parameters, with repeated names
    /// and encoded characters, normalised into the signature base string.
    #[test]
    fn base_string_of_rfc_5849_section_3_4_1() {
        let url = url::Url::parse("http://EXAMPLE.COM:80/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b")
            .unwrap();
        let params = owned(&[
            ("oauth_consumer_key", "9djdj82h48djs9d2"),
            ("oauth_token", "kkk9d7dh3k39sjv7"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "137131201"),
            ("oauth_nonce", "7d8f3e4a"),
            ("c2", ""),
            ("a3", "2 q"),
        ]);
        assert_eq!(
            base_string("post", &url, &params),
            "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
        );
        let non_default_port = url::Url::parse("https://www.example.net:8080/?q=1").unwrap();
        assert!(base_string("GET", &non_default_port, &[])
            .starts_with("GET&https%3A%2F%2Fwww.example.net%3A8080%2F&"));
    }

    /// RFC 5849 §1.2's three signed requests (HMAC-SHA1): temporary credentials, token
    /// credentials, and a protected resource.
    #[test]
    fn signatures_of_rfc_5849_section_1_2() {
        let initiate = owned(&[
            ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "137131200"),
            ("oauth_nonce", "wIjqoS"),
            ("oauth_callback", "http://printer.example.com/ready"),
        ]);
        let url = url::Url::parse("https://photos.example.net/initiate").unwrap();
        assert_eq!(
            signature(
                OAuth1SignatureMethod::Sha1,
                "kd94hf93k423kf44",
                "",
                &base_string("POST", &url, &initiate)
            ),
            "74KNZJeDHnMBp0EMJ9ZHt/XKycU="
        );
        let token = owned(&[
            ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
            ("oauth_token", "hh5s93j4hdidpola"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "137131201"),
            ("oauth_nonce", "walatlh"),
            ("oauth_verifier", "hfdp7dh39dks9884"),
        ]);
        let url = url::Url::parse("https://photos.example.net/token").unwrap();
        assert_eq!(
            signature(
                OAuth1SignatureMethod::Sha1,
                "kd94hf93k423kf44",
                "hdhd0244k9j7ao03",
                &base_string("POST", &url, &token)
            ),
            "gKgrFCywp7rO0OXSjdot/IHF7IU="
        );
        let photos = owned(&[
            ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
            ("oauth_token", "nnch734d00sl2jdk"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "137131202"),
            ("oauth_nonce", "chapoH"),
        ]);
        let url =
            url::Url::parse("http://photos.example.net/photos?file=vacation.jpg&size=original")
                .unwrap();
        assert_eq!(
            signature(
                OAuth1SignatureMethod::Sha1,
                "kd94hf93k423kf44",
                "pfkkdhi9sl3r4s00",
                &base_string("GET", &url, &photos)
            ),
            "MdpQcU8iPSUjWoN/UDMsK2sui9I="
        );
    }

    #[test]
    fn signed_parameters_and_header() {
        let signer = Signer {
            method: OAuth1SignatureMethod::Sha256,
            consumer_key: "ck",
            consumer_secret: "c s",
            token: Some("t"),
            token_secret: "ts",
        };
        let url = url::Url::parse("https://p.example/access").unwrap();
        let params = signer.sign(
            "POST",
            &url,
            &[("oauth_verifier", "v")],
            "n0nce",
            "1700000000",
        );
        let names: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "oauth_consumer_key",
                "oauth_nonce",
                "oauth_signature_method",
                "oauth_timestamp",
                "oauth_version",
                "oauth_token",
                "oauth_verifier",
                "oauth_signature"
            ]
        );
        let unsigned = &params[..params.len() - 1];
        let expected = signature(
            OAuth1SignatureMethod::Sha256,
            "c s",
            "ts",
            &base_string("POST", &url, unsigned),
        );
        assert_eq!(params.last().unwrap().1, expected);
        assert_eq!(
            base64::engine::general_purpose::STANDARD
                .decode(&expected)
                .unwrap()
                .len(),
            32,
            "HMAC-SHA256"
        );
        let header = authorization_header(&owned(&[
            ("oauth_callback", "http://x/cb?state=a b"),
            ("oauth_signature", "a+b/c="),
        ]));
        assert_eq!(header, "OAuth oauth_callback=\"http%3A%2F%2Fx%2Fcb%3Fstate%3Da%20b\", oauth_signature=\"a%2Bb%2Fc%3D\"");
    }
}

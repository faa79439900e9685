//! Checks the PEM of certificate credentials: every certificate block an X.509 certificate, the key
//! one unencrypted private key (PKCS #8, PKCS #1 RSA or SEC1 EC) that decodes as DER. Errors never
//! quote the input, which is secret.
use crate::error::FieldError;
use der::Decode;

/// What a PEM field must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PemKind {
    /// One or more certificates (a chain).
    Certificates,
    /// Exactly one private key.
    PrivateKey,
}

/// Checks `text` as `kind`; `field` names it in the error.
pub fn check(text: &str, kind: PemKind, field: &str) -> Result<(), FieldError> {
    let bad = |m: String| Err(FieldError::new(field, m));
    let blocks = match pem::parse_many(text) {
        Ok(b) if !b.is_empty() => b,
        Ok(_) => return bad("is not PEM: no -----BEGIN ...----- block".into()),
        Err(e) => return bad(format!("is not PEM: {}", describe(&e))),
    };
    match kind {
        PemKind::Certificates => {
            for (i, b) in blocks.iter().enumerate() {
                if b.tag() != "CERTIFICATE" {
                    return bad(format!(
                        "block {} is a {:?}, not a CERTIFICATE",
                        i + 1,
                        b.tag()
                    ));
                }
                if x509_cert::Certificate::from_der(b.contents()).is_err() {
                    return bad(format!("block {} is not an X.509 certificate", i + 1));
                }
            }
            Ok(())
        }
        PemKind::PrivateKey => {
            if blocks.len() != 1 {
                return bad(format!(
                    "must hold exactly one private key, not {} PEM blocks",
                    blocks.len()
                ));
            }
            let b = &blocks[0];
            let ok =
                match b.tag() {
                    "PRIVATE KEY" => pkcs8::PrivateKeyInfo::from_der(b.contents()).is_ok(),
                    "RSA PRIVATE KEY" | "EC PRIVATE KEY" => {
                        der::asn1::AnyRef::from_der(b.contents()).is_ok()
                    }
                    "ENCRYPTED PRIVATE KEY" => return bad(
                        "is an encrypted private key: give it unencrypted (it is sealed at rest)"
                            .into(),
                    ),
                    other => return bad(format!("is a {other:?} block, not a PRIVATE KEY")),
                };
            if ok {
                Ok(())
            } else {
                bad(format!(
                    "is not a valid {} (its DER does not decode)",
                    b.tag()
                ))
            }
        }
    }
}

/// A PEM parse error in words, without the input.
fn describe(e: &pem::PemError) -> &'static str {
    match e {
        pem::PemError::MismatchedTags(..) => "BEGIN and END labels differ",
        pem::PemError::MalformedFraming => "malformed -----BEGIN/END----- framing",
        pem::PemError::MissingBeginTag => "no -----BEGIN ...----- line",
        pem::PemError::MissingEndTag => "no -----END ...----- line",
        pem::PemError::MissingData => "no data between BEGIN and END",
        pem::PemError::InvalidData(_) => "the data is not base64",
        _ => "unreadable",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_pem_is_refused() {
        let fake = "-----BEGIN CERTIFICATE-----\nMIIBcGFzc3dvcmQ=\n-----END CERTIFICATE-----\n";
        assert!(check(fake, PemKind::Certificates, "c").is_err());
        assert!(check("nope", PemKind::Certificates, "c").is_err());
        let key = "-----BEGIN PRIVATE KEY-----\nMIIBcGFzc3dvcmQ=\n-----END PRIVATE KEY-----\n";
        let e = check(key, PemKind::PrivateKey, "k").unwrap_err();
        assert!(
            !e.message.contains("MIIB"),
            "the input is never quoted: {}",
            e.message
        );
        assert!(check(fake, PemKind::PrivateKey, "k").is_err());
    }

    #[test]
    fn real_pem_passes() {
        let cert = include_str!("../../switchyard/tests/it/fixtures/client.crt");
        let key = include_str!("../../switchyard/tests/it/fixtures/client.key");
        let ca = include_str!("../../switchyard/tests/it/fixtures/ca.crt");
        check(cert, PemKind::Certificates, "c").unwrap();
        check(&format!("{cert}{ca}"), PemKind::Certificates, "c").unwrap();
        check(key, PemKind::PrivateKey, "k").unwrap();
        assert!(
            check(key, PemKind::Certificates, "c").is_err(),
            "a key is not a certificate"
        );
        assert!(
            check(cert, PemKind::PrivateKey, "k").is_err(),
            "a certificate is not a key"
        );
        assert!(
            check(&format!("{key}{key}"), PemKind::PrivateKey, "k").is_err(),
            "one key only"
        );
    }
}

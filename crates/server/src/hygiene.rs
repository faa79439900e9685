//! Input hygiene, the same on every route and both databases: what a request may carry in its
//! strings before any handler sees it.
//!
//! - No string (JSON value or key, path or query parameter) may hold NUL or another C0 control
//!   character; free text (descriptions) may hold tab, LF and CR, and so may other values
//!   (certificates, variables), except in names, identifiers and URLs, which hold none.
//! - Names, identifiers, URLs and descriptions have length limits.
//!
//! Each problem is a 400 naming the field; no message quotes the value, which may be a secret.
use serde_json::Value;
use switchyard_domain::{Error, FieldError};

/// Longest name (`name`, `displayName`), in characters.
pub const MAX_NAME: usize = 256;
/// Longest identifier (`externalId`, `userId`, `...Id`, `id`), in characters.
pub const MAX_ID: usize = 256;
/// Longest URL (`...Url`), in characters.
pub const MAX_URL: usize = 2048;
/// Longest free text (`description`, `summary`), in characters.
pub const MAX_TEXT: usize = 16 * 1024;
/// Longest path parameter, in characters.
pub const MAX_PATH_PARAM: usize = 512;
/// Longest query parameter value, in characters.
pub const MAX_QUERY_PARAM: usize = 1024;

/// What kind of string a JSON key holds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Name,
    Id,
    Url,
    Text,
    /// Anything else: tab, LF and CR allowed, no length limit beyond the body's.
    Other,
}

fn kind_of(key: &str) -> Kind {
    match key {
        "name" | "displayName" => Kind::Name,
        "description" | "summary" => Kind::Text,
        "id" | "externalId" => Kind::Id,
        k if k.ends_with("Id") => Kind::Id,
        k if k.ends_with("Url") || k == "url" => Kind::Url,
        _ => Kind::Other,
    }
}

/// What is wrong with `s` as a string of `kind`, if anything.
fn problem(s: &str, kind: Kind) -> Option<String> {
    let free = matches!(kind, Kind::Text | Kind::Other);
    if s.chars().any(|c| {
        c.is_ascii_control() && c != '\u{7f}' && !(free && matches!(c, '\t' | '\n' | '\r'))
    }) {
        return Some(if free {
            "must not contain NUL or other control characters (tab, LF and CR aside)".to_owned()
        } else {
            "must not contain control characters".to_owned()
        });
    }
    let max = match kind {
        Kind::Name => MAX_NAME,
        Kind::Id => MAX_ID,
        Kind::Url => MAX_URL,
        Kind::Text => MAX_TEXT,
        Kind::Other => return None,
    };
    (s.chars().count() > max).then(|| format!("must be at most {max} characters"))
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn walk(v: &Value, path: &str, kind: Kind, out: &mut Vec<FieldError>) {
    match v {
        Value::String(s) => {
            if let Some(p) = problem(s, kind) {
                out.push(FieldError::new(
                    if path.is_empty() { "body" } else { path },
                    p,
                ));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{path}[{i}]"), kind, out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                let at = join(path, k);
                if let Some(p) = problem(k, Kind::Id) {
                    out.push(FieldError::new(at.clone(), format!("the key {p}")));
                }
                walk(item, &at, kind_of(k), out);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Every hygiene problem in a JSON body, with its path.
pub fn check_json(v: &Value) -> Result<(), Error> {
    let mut fields = Vec::new();
    walk(v, "", Kind::Other, &mut fields);
    match fields.len() {
        0 => Ok(()),
        1 => Err(Error::invalid_fields(
            format!("invalid {}: {}", fields[0].field, fields[0].message),
            fields,
        )),
        n => Err(Error::invalid_fields(
            format!("the request body has {n} invalid strings"),
            fields,
        )),
    }
}

/// A path parameter: no control characters, bounded length.
pub fn check_path_param(name: &str, value: &str) -> Result<(), Error> {
    if let Some(p) = problem(value, Kind::Id) {
        if !p.starts_with("must be at most") {
            return Err(Error::invalid_field(name, p));
        }
    }
    if value.chars().count() > MAX_PATH_PARAM {
        return Err(Error::invalid_field(
            name,
            format!("must be at most {MAX_PATH_PARAM} characters"),
        ));
    }
    Ok(())
}

/// A query parameter: no control characters, bounded length.
pub fn check_query_param(name: &str, value: &str) -> Result<(), Error> {
    if let Some(p) = problem(value, Kind::Name).filter(|p| !p.starts_with("must be at most")) {
        return Err(Error::invalid_field(name, p));
    }
    if value.chars().count() > MAX_QUERY_PARAM {
        return Err(Error::invalid_field(
            name,
            format!("must be at most {MAX_QUERY_PARAM} characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(v: Value) -> Vec<String> {
        match check_json(&v) {
            Ok(()) => Vec::new(),
            Err(e) => e.fields.into_iter().map(|f| f.field).collect(),
        }
    }

    #[test]
    fn nul_and_control_characters_are_refused_where_they_do_not_belong() {
        assert_eq!(fields(json!({"name": "a\u{0}b"})), ["name"]);
        assert_eq!(fields(json!({"displayName": "tab\there"})), ["displayName"]);
        assert_eq!(fields(json!({"externalId": "a\nb"})), ["externalId"]);
        assert_eq!(
            fields(json!({"nested": [{"value": "x\u{1b}[31m"}]})),
            ["nested[0].value"]
        );
        assert_eq!(fields(json!({"a\u{0}": 1})), ["a\u{0}"]);
        // Free text and other values may hold tab, LF and CR.
        assert!(fields(json!({"description": "line one\r\n\tline two", "data": {"certificate": "-----BEGIN-----\nabc\n-----END-----\n"}})).is_empty());
        assert_eq!(fields(json!({"description": "bell\u{7}"})), ["description"]);
    }

    #[test]
    fn lengths_are_bounded_per_kind() {
        assert_eq!(fields(json!({"name": "n".repeat(MAX_NAME + 1)})), ["name"]);
        assert!(fields(json!({"name": "é".repeat(MAX_NAME)})).is_empty());
        assert_eq!(
            fields(json!({"userId": "u".repeat(MAX_ID + 1)})),
            ["userId"]
        );
        assert_eq!(
            fields(json!({"baseUrl": format!("https://{}", "a".repeat(MAX_URL))})),
            ["baseUrl"]
        );
        assert_eq!(
            fields(json!({"description": "d".repeat(MAX_TEXT + 1)})),
            ["description"]
        );
        assert!(fields(json!({"dynamicVariables": {"blob": "v".repeat(100_000)}})).is_empty());
    }

    #[test]
    fn messages_never_quote_the_value() {
        let e = check_json(&json!({"credential": {"data": {"value": "s3cret\u{0}"}}})).unwrap_err();
        assert!(
            !e.message.contains("s3cret") && !e.fields[0].message.contains("s3cret"),
            "{e:?}"
        );
        assert_eq!(e.fields[0].field, "credential.data.value");
    }

    #[test]
    fn path_and_query_parameters() {
        assert!(check_path_param("user_id", "a\u{0}b").is_err());
        assert!(check_path_param("user_id", &"u".repeat(MAX_PATH_PARAM + 1)).is_err());
        assert!(check_path_param("user_id", "customer-42@example.com").is_ok());
        assert!(check_query_param("search", "a\tb").is_err());
        assert!(check_query_param("search", "acme corp").is_ok());
    }
}

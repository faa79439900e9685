//! Every required field a request body lacks, not only the first: serde stops at the first
//! missing field, so the body's schema in the OpenAPI document (found by the Rust type's name)
//! lists the others. Used only on the error path, by [`crate::extract`].
use serde_json::Value;
use std::sync::OnceLock;

/// The served OpenAPI document as JSON, made once.
fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| serde_json::to_value(crate::openapi()).unwrap_or(Value::Null))
}

/// The schema named `#/components/schemas/<name>`, or the one `$ref` points to.
fn component(name: &str) -> Option<&'static Value> {
    document().get("components")?.get("schemas")?.get(name)
}

/// The schema `T` is described by: `v2.<Name>` for Platform API v2's types (their documented
/// names), else `<Name>`.
fn schema_of<T>() -> Option<&'static Value> {
    let full = std::any::type_name::<T>();
    if full.contains('<') {
        return None;
    }
    let name = full.rsplit("::").next()?;
    if full.contains("::platform_v2::") {
        if let Some(s) = component(&format!("v2.{name}")) {
            return Some(s);
        }
    }
    component(name)
}

/// Follows `$ref`s and merges what `allOf` and nullable `oneOf`s say about an object: its
/// required fields and its properties.
/// An object schema's required fields and its properties.
type Parts = (Vec<&'static str>, Vec<(&'static str, &'static Value)>);

fn object_parts(schema: &'static Value, depth: usize) -> Parts {
    let mut required = Vec::new();
    let mut properties = Vec::new();
    if depth > 8 {
        return (required, properties);
    }
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        if let Some(target) = r.strip_prefix("#/components/schemas/").and_then(component) {
            let (r, p) = object_parts(target, depth + 1);
            required.extend(r);
            properties.extend(p);
        }
    }
    if let Some(list) = schema.get("required").and_then(Value::as_array) {
        required.extend(list.iter().filter_map(Value::as_str));
    }
    if let Some(map) = schema.get("properties").and_then(Value::as_object) {
        properties.extend(map.iter().map(|(k, v)| (k.as_str(), v)));
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            let (r, p) = object_parts(s, depth + 1);
            required.extend(r);
            properties.extend(p);
        }
    }
    // `oneOf: [{type: null}, X]` (an optional object): X.
    if let Some(one) = schema.get("oneOf").and_then(Value::as_array) {
        let not_null: Vec<_> = one
            .iter()
            .filter(|s| s.get("type").and_then(Value::as_str) != Some("null"))
            .collect();
        if let [only] = not_null.as_slice() {
            let (r, p) = object_parts(only, depth + 1);
            required.extend(r);
            properties.extend(p);
        }
    }
    (required, properties)
}

/// The schema at `path` (serde_path_to_error's segments: field names and list indexes) below
/// `schema`.
fn schema_at(schema: &'static Value, path: &[String]) -> Option<&'static Value> {
    let mut here = schema;
    for seg in path {
        if seg.parse::<usize>().is_ok() {
            here = resolve(here)?.get("items")?;
        } else {
            let (_, props) = object_parts(here, 0);
            here = props.into_iter().find(|(k, _)| *k == seg.as_str())?.1;
        }
    }
    Some(here)
}

/// A schema with its `$ref` (and a nullable `oneOf`) followed, for `items`.
fn resolve(schema: &'static Value) -> Option<&'static Value> {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return resolve(component(r.strip_prefix("#/components/schemas/")?)?);
    }
    Some(schema)
}

/// Every required field missing from `body` at `path` (where serde found `first` missing),
/// `first` included and first; just `first` when the schema cannot be found or does not
/// require `first` (then it is not this body's schema).
pub fn all<T>(body: &Value, path: &[String], first: &str) -> Vec<String> {
    let only_first = || vec![first.to_owned()];
    let Some(schema) = schema_of::<T>().and_then(|s| schema_at(s, path)) else {
        return only_first();
    };
    let (required, _) = object_parts(schema, 0);
    if !required.contains(&first) {
        return only_first();
    }
    let mut here = body;
    for seg in path {
        here = match seg.parse::<usize>() {
            Ok(i) => &here[i],
            Err(_) => &here[seg.as_str()],
        };
    }
    let mut missing = only_first();
    for r in required {
        if r != first && here.get(r).is_none() && !missing.iter().any(|m| m == r) {
            missing.push(r.to_owned());
        }
    }
    missing
}

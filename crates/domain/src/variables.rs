//! Dynamic variables: validated against an integration's JSON Schema (draft 2020-12 by default,
//! draft-07 and others when the schema's `$schema` says so), with schema defaults applied.
use crate::error::{Error, FieldError};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// How many compiled schemas are kept. Compiling a schema costs far more than validating against
/// it (about a tenth of an activation's CPU time before this cache), and a server sees the same
/// few schemas over and over.
const COMPILED_SCHEMAS: usize = 256;

/// The compiled validator of `schema`, from a cache keyed by the schema's JSON text (so a changed
/// schema is a different key and never meets a stale validator).
fn compiled(schema: &Value) -> Result<Arc<jsonschema::Validator>, Error> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<jsonschema::Validator>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = schema.to_string();
    if let Some(v) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return Ok(v.clone());
    }
    let validator = Arc::new(jsonschema::validator_for(schema).map_err(|e| Error::internal(format!("stored variables schema is invalid: {e}")))?);
    let mut map = cache.lock().unwrap_or_else(|p| p.into_inner());
    if map.len() >= COMPILED_SCHEMAS {
        // Full: drop one entry (any); the hot schemas come straight back.
        if let Some(k) = map.keys().next().cloned() {
            map.remove(&k);
        }
    }
    map.insert(key, validator.clone());
    Ok(validator)
}

/// Checks that `schema` is a usable JSON Schema; `field` names it in the error.
pub fn check_schema(schema: &Value, field: &str) -> Result<(), Error> {
    if !schema.is_object() {
        return Err(Error::invalid_field(field, "must be a JSON Schema object"));
    }
    jsonschema::validator_for(schema).map(|_| ()).map_err(|e| Error::invalid_field(field, format!("is not a valid JSON Schema: {e}")))
}

/// Turns a JSON pointer (`/a/0/b`) into the path style of error fields (`a[0].b`) under `root`.
fn pointer_to_path(root: &str, pointer: &str) -> String {
    let mut out = root.to_owned();
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&seg);
        }
    }
    out
}

/// Validates `vars` against `schema` (if any), reporting every violation with its path under
/// `root` (for example `dynamicVariables.region`), and returns the variables with the schema's
/// defaults filled in.
pub fn validate(schema: Option<&Value>, vars: Map<String, Value>, root: &str) -> Result<Map<String, Value>, Error> {
    let Some(schema) = schema.filter(|s| !s.is_null()) else {
        if vars.is_empty() {
            return Ok(vars);
        }
        let fields =
            vars.keys().map(|k| FieldError::new(pointer_to_path(root, &format!("/{k}")), "is not defined: the integration has no variables schema")).collect();
        return Err(Error::invalid_fields("the integration defines no dynamic variables", fields));
    };
    let validator = compiled(schema)?;
    let mut value = Value::Object(vars);
    apply_defaults(schema, &mut value);
    let mut fields: Vec<FieldError> = validator
        .iter_errors(&value)
        .map(|e| {
            let pointer = e.instance_path().to_string();
            let mut path = pointer_to_path(root, &pointer);
            let message = e.to_string();
            // A missing required property is reported on its parent; name the property itself.
            if let jsonschema::error::ValidationErrorKind::Required { property } = e.kind() {
                if let Some(p) = property.as_str() {
                    path = pointer_to_path(&path, &format!("/{p}"));
                }
            }
            if let jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } = e.kind() {
                if let [one] = unexpected.as_slice() {
                    path = pointer_to_path(&path, &format!("/{one}"));
                }
            }
            FieldError::new(path, message)
        })
        .collect();
    if fields.is_empty() {
        let Value::Object(map) = value else { unreachable!("validated an object") };
        return Ok(map);
    }
    fields.dedup();
    let summary = if fields.len() == 1 {
        format!("invalid dynamic variables: {}", fields[0].message)
    } else {
        format!("invalid dynamic variables: {} problems", fields.len())
    };
    Err(Error::invalid_fields(summary, fields))
}

/// Fills in `default`s of missing object properties, recursively.
fn apply_defaults(schema: &Value, value: &mut Value) {
    let (Some(props), Some(obj)) = (schema.get("properties").and_then(Value::as_object), value.as_object_mut()) else {
        return;
    };
    for (name, sub) in props {
        match obj.get_mut(name) {
            Some(v) => apply_defaults(sub, v),
            None => {
                if let Some(d) = sub.get("default") {
                    let mut d = d.clone();
                    apply_defaults(sub, &mut d);
                    obj.insert(name.clone(), d);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({"type":"object","additionalProperties":false,"required":["region"],
            "properties":{"region":{"type":"string","enum":["eu","us"]},"batch":{"type":"integer","default":50},
            "nested":{"type":"object","properties":{"on":{"type":"boolean","default":true}}}}})
    }

    #[test]
    fn defaults_are_applied() {
        let v = validate(Some(&schema()), json!({"region":"eu","nested":{}}).as_object().unwrap().clone(), "dynamicVariables").unwrap();
        assert_eq!(Value::Object(v), json!({"region":"eu","batch":50,"nested":{"on":true}}));
    }

    #[test]
    fn every_violation_is_reported_with_its_path() {
        let e = validate(Some(&schema()), json!({"batch":"x","extra":1}).as_object().unwrap().clone(), "dynamicVariables").unwrap_err();
        let mut paths: Vec<_> = e.fields.iter().map(|f| f.field.clone()).collect();
        paths.sort();
        assert_eq!(paths, ["dynamicVariables.batch", "dynamicVariables.extra", "dynamicVariables.region"]);
    }

    #[test]
    fn a_changed_schema_is_never_checked_by_the_old_compiled_one() {
        let vars = json!({"region":"eu"}).as_object().unwrap().clone();
        validate(Some(&schema()), vars.clone(), "v").unwrap();
        // The same schema compiled again (cached) and a stricter one: each gets its own validator.
        validate(Some(&schema()), vars.clone(), "v").unwrap();
        let mut stricter = schema();
        stricter["properties"]["region"]["enum"] = json!(["us"]);
        let e = validate(Some(&stricter), vars.clone(), "v").unwrap_err();
        assert_eq!(e.fields[0].field, "v.region");
        validate(Some(&schema()), vars, "v").unwrap();
    }

    #[test]
    fn draft_07_schemas_work() {
        let s = json!({"$schema":"http://json-schema.org/draft-07/schema#","type":"object","properties":{"n":{"type":"number"}}});
        assert!(validate(Some(&s), json!({"n":"x"}).as_object().unwrap().clone(), "v").is_err());
        check_schema(&s, "variablesSchema").unwrap();
        assert!(check_schema(&json!({"type": 12}), "variablesSchema").is_err());
    }
}

//! Dynamic variables: validated against an integration's JSON Schema (draft 2020-12 by default,
//! draft-07 and others when the schema's `$schema` says so), with schema defaults applied.
use crate::error::{Error, FieldError};
use crate::schema_guard::{self, Analysis};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

pub use crate::schema_guard::{MAX_EVALUATIONS, MAX_IN_PLACE, MAX_SCHEMA_BYTES, MAX_SCHEMA_DEPTH};

/// The largest dynamic variables accepted for validation, serialized.
pub const MAX_VARIABLES_BYTES: usize = 256 * 1024;

/// How many violations one error lists (the message says how many there were).
const MAX_REPORTED: usize = 100;

/// How many compiled schemas are kept. Compiling a schema costs far more than validating against
/// it (about a tenth of an activation's CPU time before this cache), and a server sees the same
/// few schemas over and over.
const COMPILED_SCHEMAS: usize = 256;

/// How many unusable schemas are remembered (by digest), so that each costs its checks once.
const UNUSABLE_SCHEMAS: usize = 1024;

/// Whose schema it is, for the errors about it: the field that holds it and what to call it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaOwner {
    pub field: &'static str,
    pub name: &'static str,
}

/// An Embedded v1 integration's `variablesSchema`.
pub const INTEGRATION: SchemaOwner = SchemaOwner {
    field: "variablesSchema",
    name: "the integration's variables schema",
};
/// A Platform v2 project's `dynamicVariablesSchema`.
pub const PROJECT: SchemaOwner = SchemaOwner {
    field: "dynamicVariablesSchema",
    name: "the project's dynamic variables schema",
};

impl SchemaOwner {
    /// The 409 for a stored schema that cannot be used (stored before today's checks, or written
    /// into the database directly): `problem` says why.
    pub fn unusable(&self, problem: &str) -> Error {
        let mut e = Error::conflict(format!(
            "{} is unusable: {problem}; set a new one",
            self.name
        ));
        e.fields.push(FieldError::new(
            self.field,
            format!("is unusable: {problem}"),
        ));
        e
    }
}

/// A schema ready to validate against.
struct Compiled {
    validator: jsonschema::Validator,
    analysis: Analysis,
}

/// The static checks and the compilation of `schema`, or what is wrong with it.
fn compile(schema: &Value) -> Result<Compiled, String> {
    if !schema.is_object() {
        return Err("must be a JSON Schema object".to_owned());
    }
    let analysis = schema_guard::analyse(schema)?;
    // Offline: no reference may make the server fetch anything (the checks above already refuse
    // references that are not local; this holds even if they missed one).
    let validator = jsonschema::options()
        .offline()
        .build(schema)
        .map_err(|e| format!("is not a valid JSON Schema: {e}"))?;
    Ok(Compiled {
        validator,
        analysis,
    })
}

fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

fn unusable_schemas() -> &'static Mutex<HashMap<[u8; 32], String>> {
    static UNUSABLE: OnceLock<Mutex<HashMap<[u8; 32], String>>> = OnceLock::new();
    UNUSABLE.get_or_init(Default::default)
}

/// The key of `schema` in the caches: its JSON text.
pub fn schema_key(schema: &Value) -> String {
    schema.to_string()
}

/// Why the schema of this key is unusable, when it is known to be.
pub fn known_unusable(key: &str) -> Option<String> {
    unusable_schemas()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&digest(key))
        .cloned()
}

fn compiled_schemas() -> &'static Mutex<HashMap<String, Arc<Compiled>>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Compiled>>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// Remembers that the schema of this key is unusable (it failed its checks, or blew the time
/// budget), so that later requests are answered at once; its compiled validator is dropped.
pub fn mark_unusable(key: &str, problem: &str) {
    compiled_schemas()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(key);
    let mut map = unusable_schemas().lock().unwrap_or_else(|p| p.into_inner());
    if map.len() >= UNUSABLE_SCHEMAS {
        if let Some(k) = map.keys().next().copied() {
            map.remove(&k);
        }
    }
    map.insert(digest(key), problem.to_owned());
}

/// The compiled validator of `schema` (whose [`schema_key`] is `key`), from a cache keyed by the
/// schema's JSON text (so a changed schema is a different key and never meets a stale
/// validator). A schema that fails the checks is remembered as unusable.
fn compiled(schema: &Value, key: &str) -> Result<Arc<Compiled>, String> {
    let cache = compiled_schemas();
    if let Some(v) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(key) {
        return Ok(v.clone());
    }
    if let Some(problem) = known_unusable(key) {
        return Err(problem);
    }
    let compiled = match compile(schema) {
        Ok(c) => Arc::new(c),
        Err(problem) => {
            mark_unusable(key, &problem);
            return Err(problem);
        }
    };
    let mut map = cache.lock().unwrap_or_else(|p| p.into_inner());
    if map.len() >= COMPILED_SCHEMAS {
        // Full: drop one entry (any); the hot schemas come straight back.
        if let Some(k) = map.keys().next().cloned() {
            map.remove(&k);
        }
    }
    map.insert(key.to_owned(), compiled.clone());
    Ok(compiled)
}

/// Checks that `schema` is a usable JSON Schema within the limits (see [`crate::schema_guard`]);
/// `field` names it in the error. The compiled schema is kept for the validations to come.
pub fn check_schema(schema: &Value, field: &str) -> Result<(), Error> {
    compiled(schema, &schema_key(schema))
        .map(|_| ())
        .map_err(|problem| Error::invalid_field(field, problem))
}

/// The field naming the variables themselves under `root`.
fn variables_field(root: &str) -> &str {
    if root.is_empty() {
        "dynamicVariables"
    } else {
        root
    }
}

/// Refuses variables over [`MAX_VARIABLES_BYTES`] serialized (a 400 naming them).
pub fn check_size(vars: &Map<String, Value>, root: &str) -> Result<(), Error> {
    let mut size = 2 + vars.len().saturating_sub(1);
    for (k, v) in vars {
        size += serde_json::to_string(k).map(|s| s.len()).unwrap_or(0)
            + 1
            + schema_guard::serialized_len(v);
        if size > MAX_VARIABLES_BYTES {
            break;
        }
    }
    if size > MAX_VARIABLES_BYTES {
        return Err(Error::invalid_field(
            variables_field(root),
            format!("are more than {MAX_VARIABLES_BYTES} bytes serialized (256 KiB): too large to check against the schema"),
        ));
    }
    Ok(())
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
///
/// The variables must be within [`MAX_VARIABLES_BYTES`] and cost at most [`MAX_EVALUATIONS`]
/// subschema evaluations (400s naming them); a schema that fails the checks of
/// [`check_schema`] (stored before them, or written into the database directly) is the 409 of
/// [`SchemaOwner::unusable`]. This runs to completion: callers on an async runtime run it on a
/// blocking thread with a time budget.
pub fn validate(
    owner: SchemaOwner,
    schema: Option<&Value>,
    vars: Map<String, Value>,
    root: &str,
) -> Result<Map<String, Value>, Error> {
    let Some(schema) = schema.filter(|s| !s.is_null()) else {
        if vars.is_empty() {
            return Ok(vars);
        }
        let fields = vars
            .keys()
            .map(|k| {
                FieldError::new(
                    pointer_to_path(root, &format!("/{k}")),
                    "is not defined: the integration has no variables schema",
                )
            })
            .collect();
        return Err(Error::invalid_fields(
            "the integration defines no dynamic variables",
            fields,
        ));
    };
    check_size(&vars, root)?;
    let compiled =
        compiled(schema, &schema_key(schema)).map_err(|problem| owner.unusable(&problem))?;
    let mut value = Value::Object(vars);
    apply_defaults(schema, &mut value);
    if let Err(estimate) = compiled.analysis.cost(&value, MAX_EVALUATIONS) {
        return Err(Error::invalid_field(
            variables_field(root),
            format!(
                "would take more than {MAX_EVALUATIONS} subschema evaluations to check against {} (at least {estimate}): send less, or simplify the schema",
                owner.name
            ),
        ));
    }
    let errors: Vec<_> = compiled.validator.iter_errors(&value).collect();
    let problems = errors.len();
    let mut fields: Vec<FieldError> = errors
        .into_iter()
        .take(MAX_REPORTED)
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
            if let jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } =
                e.kind()
            {
                if let [one] = unexpected.as_slice() {
                    path = pointer_to_path(&path, &format!("/{one}"));
                }
            }
            FieldError::new(path, message)
        })
        .collect();
    if fields.is_empty() {
        let Value::Object(map) = value else {
            unreachable!("validated an object")
        };
        return Ok(map);
    }
    fields.dedup();
    let summary = if fields.len() == 1 {
        format!("invalid dynamic variables: {}", fields[0].message)
    } else if problems > MAX_REPORTED {
        format!(
            "invalid dynamic variables: {problems} problems (the first {MAX_REPORTED} are listed)"
        )
    } else {
        format!("invalid dynamic variables: {} problems", fields.len())
    };
    Err(Error::invalid_fields(summary, fields))
}

/// The keys of `vars` a schema does not declare (in its top-level `properties`), as errors under
/// `root`; keys in `stale` (set before the schema changed, and kept as they are) are let through
/// and returned apart, unchecked. Platform v2 refuses undeclared variables; a schema without
/// `properties` declares nothing to check against.
pub fn split_declared(
    schema: Option<&Value>,
    vars: Map<String, Value>,
    root: &str,
    stale: &std::collections::HashSet<String>,
) -> (Map<String, Value>, Map<String, Value>, Vec<FieldError>) {
    let declared: Option<std::collections::HashSet<&str>> = schema
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .map(|p| p.keys().map(String::as_str).collect());
    let (mut checked, mut kept, mut errors) = (Map::new(), Map::new(), Vec::new());
    for (k, v) in vars {
        if stale.contains(&k) {
            kept.insert(k, v);
            continue;
        }
        if declared.as_ref().is_some_and(|d| !d.contains(k.as_str())) {
            errors.push(FieldError::new(
                pointer_to_path(root, &format!("/{k}")),
                "is not declared in the project's dynamic variables schema",
            ));
        }
        checked.insert(k, v);
    }
    (checked, kept, errors)
}

/// Fills in `default`s of missing object properties, recursively.
fn apply_defaults(schema: &Value, value: &mut Value) {
    let (Some(props), Some(obj)) = (
        schema.get("properties").and_then(Value::as_object),
        value.as_object_mut(),
    ) else {
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
        let v = validate(
            INTEGRATION,
            Some(&schema()),
            json!({"region":"eu","nested":{}})
                .as_object()
                .unwrap()
                .clone(),
            "dynamicVariables",
        )
        .unwrap();
        assert_eq!(
            Value::Object(v),
            json!({"region":"eu","batch":50,"nested":{"on":true}})
        );
    }

    #[test]
    fn every_violation_is_reported_with_its_path() {
        let e = validate(
            INTEGRATION,
            Some(&schema()),
            json!({"batch":"x","extra":1}).as_object().unwrap().clone(),
            "dynamicVariables",
        )
        .unwrap_err();
        let mut paths: Vec<_> = e.fields.iter().map(|f| f.field.clone()).collect();
        paths.sort();
        assert_eq!(
            paths,
            [
                "dynamicVariables.batch",
                "dynamicVariables.extra",
                "dynamicVariables.region"
            ]
        );
    }

    #[test]
    fn a_changed_schema_is_never_checked_by_the_old_compiled_one() {
        let vars = json!({"region":"eu"}).as_object().unwrap().clone();
        validate(INTEGRATION, Some(&schema()), vars.clone(), "v").unwrap();
        // The same schema compiled again (cached) and a stricter one: each gets its own validator.
        validate(INTEGRATION, Some(&schema()), vars.clone(), "v").unwrap();
        let mut stricter = schema();
        stricter["properties"]["region"]["enum"] = json!(["us"]);
        let e = validate(INTEGRATION, Some(&stricter), vars.clone(), "v").unwrap_err();
        assert_eq!(e.fields[0].field, "v.region");
        validate(INTEGRATION, Some(&schema()), vars, "v").unwrap();
    }

    #[test]
    fn draft_07_schemas_work() {
        let s = json!({"$schema":"http://json-schema.org/draft-07/schema#","type":"object","properties":{"n":{"type":"number"}}});
        assert!(validate(
            INTEGRATION,
            Some(&s),
            json!({"n":"x"}).as_object().unwrap().clone(),
            "v"
        )
        .is_err());
        check_schema(&s, "variablesSchema").unwrap();
        assert!(check_schema(&json!({"type": 12}), "variablesSchema").is_err());
    }

    #[test]
    fn a_stored_schema_that_fails_the_checks_is_unusable_not_a_hang() {
        let cyclic =
            json!({"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"});
        let e = check_schema(&cyclic, "variablesSchema").unwrap_err();
        assert_eq!(e.fields[0].field, "variablesSchema");
        assert!(
            e.message
                .contains("$ref cycle #/$defs/a -> #/$defs/b -> #/$defs/a"),
            "{}",
            e.message
        );
        for owner in [INTEGRATION, PROJECT] {
            let e = validate(owner, Some(&cyclic), Map::new(), "dynamicVariables").unwrap_err();
            assert_eq!(e.kind, crate::ErrorKind::Conflict);
            assert_eq!(e.fields[0].field, owner.field);
            assert!(
                e.message
                    .starts_with(&format!("{} is unusable: $ref cycle", owner.name)),
                "{}",
                e.message
            );
        }
        assert!(known_unusable(&schema_key(&cyclic)).is_some());
        // A schema marked unusable (say, after blowing the time budget) stays refused.
        let slow = json!({"type": "object", "title": "slow"});
        validate(INTEGRATION, Some(&slow), Map::new(), "v").unwrap();
        mark_unusable(
            &schema_key(&slow),
            "checking variables against it took longer than 2s",
        );
        let e = validate(INTEGRATION, Some(&slow), Map::new(), "v").unwrap_err();
        assert!(e.message.contains("took longer than 2s"), "{}", e.message);
    }

    #[test]
    fn oversized_variables_are_refused() {
        let s = json!({"type": "object"});
        let mut vars = Map::new();
        vars.insert(
            "blob".into(),
            Value::String("x".repeat(MAX_VARIABLES_BYTES)),
        );
        let e = validate(INTEGRATION, Some(&s), vars.clone(), "dynamicVariables").unwrap_err();
        assert_eq!(
            (e.kind, e.fields[0].field.as_str()),
            (crate::ErrorKind::BadRequest, "dynamicVariables")
        );
        let e = validate(INTEGRATION, Some(&s), vars, "").unwrap_err();
        assert_eq!(e.fields[0].field, "dynamicVariables");
        let mut fits = Map::new();
        fits.insert(
            "blob".into(),
            Value::String("x".repeat(MAX_VARIABLES_BYTES - 20)),
        );
        validate(INTEGRATION, Some(&s), fits, "dynamicVariables").unwrap();
    }

    #[test]
    fn variables_that_would_cost_too_much_are_refused_before_validating() {
        // Every level of the value doubles the subschemas applied: 2^60 evaluations if run.
        let s = json!({"$defs":{"n":{"type":"object","allOf":[{"properties":{"x":{"$ref":"#/$defs/n"}}},{"properties":{"x":{"$ref":"#/$defs/n"}}}]}},"$ref":"#/$defs/n"});
        check_schema(&s, "variablesSchema").unwrap();
        let mut value = json!(1);
        for _ in 0..60 {
            value = json!({ "x": value });
        }
        let e = validate(
            INTEGRATION,
            Some(&s),
            value.as_object().unwrap().clone(),
            "dynamicVariables",
        )
        .unwrap_err();
        assert_eq!(e.fields[0].field, "dynamicVariables");
        assert!(e.message.contains("subschema evaluations"), "{}", e.message);
    }

    #[test]
    fn a_tree_schema_validates_nested_values() {
        let s = json!({"$defs":{"node":{"type":"object","required":["name"],"properties":{"name":{"type":"string"},
            "children":{"type":"array","items":{"$ref":"#/$defs/node"}}}}},"$ref":"#/$defs/node"});
        check_schema(&s, "variablesSchema").unwrap();
        let ok = json!({"name":"a","children":[{"name":"b","children":[{"name":"c"}]}]});
        validate(
            INTEGRATION,
            Some(&s),
            ok.as_object().unwrap().clone(),
            "dynamicVariables",
        )
        .unwrap();
        let bad = json!({"name":"a","children":[{"name":"b","children":[{"name":3}]}]});
        let e = validate(
            INTEGRATION,
            Some(&s),
            bad.as_object().unwrap().clone(),
            "dynamicVariables",
        )
        .unwrap_err();
        assert_eq!(
            e.fields[0].field,
            "dynamicVariables.children[0].children[0].name"
        );
    }

    #[test]
    fn many_violations_are_listed_up_to_a_bound() {
        let s =
            json!({"type":"object","properties":{"xs":{"type":"array","items":{"type":"string"}}}});
        let xs: Vec<Value> = (0..500).map(Value::from).collect();
        let e = validate(
            INTEGRATION,
            Some(&s),
            json!({"xs": xs}).as_object().unwrap().clone(),
            "v",
        )
        .unwrap_err();
        assert_eq!(e.fields.len(), 100);
        assert!(e.message.contains("500 problems"), "{}", e.message);
    }

    #[test]
    fn remote_references_are_refused() {
        let e = check_schema(
            &json!({"properties":{"a":{"$ref":"https://example.com/s.json"}}}),
            "variablesSchema",
        )
        .unwrap_err();
        assert!(e.message.contains("is not local"), "{}", e.message);
    }

    #[test]
    fn undeclared_keys_are_refused_and_stale_ones_kept_apart() {
        let schema = json!({"type": "object", "properties": {"region": {"type": "string"}}});
        let vars = json!({"region": "eu", "extra": 1, "old": true})
            .as_object()
            .unwrap()
            .clone();
        let stale = std::collections::HashSet::from(["old".to_owned()]);
        let (checked, kept, errors) =
            split_declared(Some(&schema), vars, "dynamicVariables", &stale);
        assert_eq!(checked.keys().collect::<Vec<_>>(), ["region", "extra"]);
        assert_eq!(kept.keys().collect::<Vec<_>>(), ["old"]);
        assert_eq!(
            errors.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(),
            ["dynamicVariables.extra"]
        );
        let (_, _, errors) = split_declared(
            Some(&json!({"type": "object"})),
            json!({"x": 1}).as_object().unwrap().clone(),
            "v",
            &stale,
        );
        assert!(
            errors.is_empty(),
            "a schema without properties declares nothing"
        );
    }
}

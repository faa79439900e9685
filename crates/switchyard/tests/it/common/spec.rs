//! Validation of response bodies against the schemas Versori's published OpenAPI specs declare.
use serde_json::{json, Value};
use std::sync::OnceLock;

fn load(file: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/versori")
        .join(file);
    let yaml: Value = serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut schemas = yaml["components"]["schemas"].clone();
    rewrite(&mut schemas);
    schemas
}

/// `#/components/schemas/X` → `#/$defs/X`. `oneOf` → `anyOf`: the spec's credential `data` is an
/// undiscriminated oneOf whose members overlap (basic-auth and oauth2-password data are the same
/// shape), so no body could match exactly one; every value must still match at least one member.
fn rewrite(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get_mut("$ref") {
                *r = r.replace("#/components/schemas/", "#/$defs/");
            }
            if let Some(one) = m.remove("oneOf") {
                m.insert("anyOf".into(), one);
            }
            m.remove("discriminator");
            // OpenAPI-style `examples` maps are not JSON Schema `examples` arrays.
            m.remove("examples");
            for (_, x) in m.iter_mut() {
                rewrite(x);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(rewrite),
        _ => {}
    }
}

pub fn embedded() -> &'static Value {
    static S: OnceLock<Value> = OnceLock::new();
    S.get_or_init(|| load("versori-embedded-api-v1.yaml"))
}

pub fn connect() -> &'static Value {
    static S: OnceLock<Value> = OnceLock::new();
    S.get_or_init(|| load("versori-connect-api-v1.yaml"))
}

/// Panics unless `instance` is valid against the spec's schema `name`.
#[track_caller]
pub fn check(defs: &Value, name: &str, instance: &Value) {
    assert!(defs.get(name).is_some(), "the spec has no schema {name}");
    let schema = json!({"$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": defs, "$ref": format!("#/$defs/{name}")});
    let validator = jsonschema::validator_for(&schema)
        .unwrap_or_else(|e| panic!("schema {name} does not compile: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "response does not match Versori's {name}:\n{}\nbody: {instance}",
        errors.join("\n")
    );
}

pub fn platform() -> &'static Value {
    static S: OnceLock<Value> = OnceLock::new();
    S.get_or_init(|| load("versori-platform-api.yaml"))
}

pub fn organisations() -> &'static Value {
    static S: OnceLock<Value> = OnceLock::new();
    S.get_or_init(|| load("versori-organisations-api-v1.yaml"))
}

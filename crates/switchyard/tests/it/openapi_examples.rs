//! The served OpenAPI document as a reader uses it: an example for every request body, each valid
//! against its own schema, and each operation's success status the one Versori's spec gives it.
use crate::common::*;
use serde_json::{json, Value};

async fn document() -> (World, Value) {
    let w = World::new(Backend::Sqlite).await.unwrap();
    let doc = w.api.get("/openapi.json").await.expect(200);
    (w, doc)
}

/// (method, path, operation) for each operation of the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if ["get", "put", "post", "patch", "delete"].contains(&method.as_str()) {
                ops.push((method.to_uppercase(), path.clone(), op.clone()));
            }
        }
    }
    ops
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_body_has_an_example_valid_against_its_schema() {
    let (_w, doc) = document().await;
    let mut bodies = 0;
    let mut problems = Vec::new();
    for (method, path, op) in operations(&doc) {
        let Some(content) = op["requestBody"]["content"].as_object() else {
            continue;
        };
        for (media, c) in content {
            bodies += 1;
            let Some(example) = c.get("example") else {
                problems.push(format!("{method} {path} ({media}): no example"));
                continue;
            };
            let schema = json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "components": doc["components"],
                "allOf": [c["schema"]],
            });
            let validator = jsonschema::validator_for(&schema)
                .unwrap_or_else(|e| panic!("{method} {path}: the schema does not compile: {e}"));
            for e in validator.iter_errors(example) {
                problems.push(format!(
                    "{method} {path}: the example is invalid: {e} at {}",
                    e.instance_path()
                ));
            }
        }
    }
    assert!(bodies >= 45, "only {bodies} request bodies");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Versori's operations, by operationId (Platform API v2's with a `v2` prefix, as Switchyard
/// names them): their success statuses.
fn versori_statuses() -> std::collections::HashMap<String, Vec<String>> {
    let mut out = std::collections::HashMap::new();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/versori");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let prefix = if path.ends_with("versori-platform-api.yaml") {
            "v2"
        } else {
            ""
        };
        let text = std::fs::read_to_string(&path).unwrap();
        let spec: Value = serde_yaml::from_str(&text).unwrap();
        for (_, item) in spec["paths"].as_object().unwrap() {
            for (_, op) in item.as_object().unwrap() {
                let (Some(id), Some(responses)) =
                    (op["operationId"].as_str(), op["responses"].as_object())
                else {
                    continue;
                };
                let mut codes: Vec<String> = responses
                    .keys()
                    .filter(|c| c.starts_with('2'))
                    .cloned()
                    .collect();
                codes.sort();
                out.entry(format!("{prefix}{id}")).or_insert(codes);
            }
        }
    }
    out
}

/// The rule the README's "Status codes" states: where Versori's spec fixes an operation's status,
/// Switchyard answers it. The known differences: CreateSigningKey (201) and ListSigningKeys
/// (200), which Versori documents as 204s with a body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_statuses_are_the_ones_versoris_spec_gives() {
    let (_w, doc) = document().await;
    let versori = versori_statuses();
    let mut compared = 0;
    let mut problems = Vec::new();
    for (method, path, op) in operations(&doc) {
        let Some(id) = op["operationId"].as_str() else {
            continue;
        };
        let Some(theirs) = versori.get(id) else {
            continue;
        };
        let mut ours: Vec<String> = op["responses"]
            .as_object()
            .unwrap()
            .keys()
            .filter(|c| c.starts_with('2'))
            .cloned()
            .collect();
        ours.sort();
        compared += 1;
        // Versori documents these two as 204s with a body; a 204 has none.
        if id == "CreateSigningKey" || id == "ListSigningKeys" {
            assert_eq!(theirs, &["204"], "{id}");
            continue;
        }
        if !theirs.is_empty() && !theirs.iter().any(|c| ours.contains(c)) {
            problems.push(format!(
                "{method} {path} ({id}): {ours:?}, Versori {theirs:?}"
            ));
        }
    }
    assert!(compared > 60, "only {compared} operations compared");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

//! An example for every request body of the OpenAPI document (`openapi_examples.json`, keyed by
//! `METHOD path`), so that a reader (or a generated client's docs) sees a body that works. The
//! integration tests check that each example validates against its own schema, and that no
//! request body lacks one.
use serde_json::{Map, Value};
use utoipa::openapi::OpenApi;

const EXAMPLES: &str = include_str!("openapi_examples.json");

fn examples() -> Map<String, Value> {
    serde_json::from_str(EXAMPLES).expect("openapi_examples.json is a JSON object")
}

/// Sets the `application/json` example of each request body the file has one for.
pub fn add(doc: &mut OpenApi) {
    for (key, example) in examples() {
        let Some((method, path)) = key.split_once(' ') else {
            continue;
        };
        let Some(item) = doc.paths.paths.get_mut(path) else {
            continue;
        };
        let op = match method {
            "GET" => item.get.as_mut(),
            "POST" => item.post.as_mut(),
            "PUT" => item.put.as_mut(),
            "PATCH" => item.patch.as_mut(),
            "DELETE" => item.delete.as_mut(),
            _ => None,
        };
        if let Some(content) = op
            .and_then(|op| op.request_body.as_mut())
            .and_then(|b| b.content.get_mut("application/json"))
        {
            content.example = Some(example);
        }
    }
}

#[cfg(test)]
mod tests {
    /// Every example names an operation with a JSON request body (a renamed route would leave
    /// its example behind otherwise).
    #[test]
    fn every_example_has_its_request_body() {
        let (_, doc) = crate::routes().split_for_parts();
        let doc = serde_json::to_value(&doc).unwrap();
        for key in super::examples().keys() {
            let (method, path) = key.split_once(' ').unwrap();
            let body = &doc["paths"][path][method.to_ascii_lowercase()]["requestBody"]["content"]
                ["application/json"];
            assert!(
                body.is_object(),
                "{key}: no such operation with a JSON body"
            );
        }
    }
}

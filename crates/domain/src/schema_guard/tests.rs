//! Unit tests of [`super`].
use super::*;
use serde_json::json;

fn refused(schema: Value) -> String {
    analyse(&schema).expect_err("refused")
}

#[test]
fn a_ref_cycle_is_refused_and_named() {
    let e = refused(
        json!({"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}),
    );
    assert_eq!(
        e,
        "$ref cycle #/$defs/a -> #/$defs/b -> #/$defs/a recurses without consuming input"
    );
    let e = refused(json!({"$ref": "#"}));
    assert_eq!(e, "$ref cycle # -> # recurses without consuming input");
}

#[test]
fn a_cycle_through_all_of_is_refused() {
    let e = refused(
        json!({"$defs":{"a":{"type":"object","allOf":[{"required":["x"]},{"$ref":"#/$defs/a"}]}},"properties":{"p":{"$ref":"#/$defs/a"}}}),
    );
    assert!(
        e.contains("#/$defs/a -> #/$defs/a/allOf/1 -> #/$defs/a"),
        "{e}"
    );
    // Through not, if/then/else, anyOf, oneOf and dependentSchemas as well.
    for applicator in [
        json!({"not": {"$ref": "#/$defs/a"}}),
        json!({"if": {"$ref": "#/$defs/a"}}),
        json!({"if": true, "then": {"$ref": "#/$defs/a"}}),
        json!({"if": true, "else": {"$ref": "#/$defs/a"}}),
        json!({"anyOf": [{"type": "string"}, {"$ref": "#/$defs/a"}]}),
        json!({"oneOf": [{"$ref": "#/$defs/a"}]}),
        json!({"dependentSchemas": {"x": {"$ref": "#/$defs/a"}}}),
        json!({"dependencies": {"x": {"$ref": "#/$defs/a"}}}),
    ] {
        let e = refused(json!({"$defs": {"a": applicator.clone()}, "$ref": "#/$defs/a"}));
        assert!(
            e.starts_with("$ref cycle #/$defs/a -> "),
            "{applicator}: {e}"
        );
    }
}

#[test]
fn a_cycle_through_an_anchor_is_refused() {
    let e = refused(json!({"$defs":{"a":{"$anchor":"node","anyOf":[{"$ref":"#node"}]}}}));
    assert_eq!(
        e,
        "$ref cycle #/$defs/a -> #/$defs/a/anyOf/0 -> #/$defs/a recurses without consuming input"
    );
    // A draft-07 fragment-only $id is an anchor too, and $dynamicRef finds $dynamicAnchor.
    refused(
        json!({"$schema":"http://json-schema.org/draft-07/schema#","definitions":{"a":{"$id":"#x","allOf":[{"$ref":"#x"}]}}}),
    );
    refused(json!({"$dynamicAnchor":"meta","allOf":[{"$dynamicRef":"#meta"}]}));
    refused(json!({"$recursiveAnchor":true,"anyOf":[{"$recursiveRef":"#"}]}));
}

#[test]
fn recursion_that_consumes_the_value_is_accepted() {
    let tree = json!({"$defs":{"node":{"type":"object","properties":{"children":{"type":"array","items":{"$ref":"#/$defs/node"}}}}},"$ref":"#/$defs/node"});
    analyse(&tree).unwrap();
    let binary = json!({"$defs":{"n":{"type":"object","properties":{"left":{"$ref":"#/$defs/n"},"right":{"$ref":"#/$defs/n"}},
        "additionalProperties":{"$ref":"#/$defs/n"},"patternProperties":{"^x":{"$ref":"#/$defs/n"}}}},"$ref":"#/$defs/n"});
    analyse(&binary).unwrap();
    let json_value = json!({"$defs":{"json":{"anyOf":[{"type":["string","number","boolean","null"]},
        {"type":"object","additionalProperties":{"$ref":"#/$defs/json"},"propertyNames":{"maxLength":64}},
        {"type":"array","items":{"$ref":"#/$defs/json"}},{"type":"array","prefixItems":[{"$ref":"#/$defs/json"}],"contains":{"$ref":"#/$defs/json"}},
        {"unevaluatedProperties":{"$ref":"#/$defs/json"},"unevaluatedItems":{"$ref":"#/$defs/json"}}]}},"$ref":"#/$defs/json"});
    analyse(&json_value).unwrap();
    // A reference used twice without a cycle, and an anchor.
    analyse(&json!({"$defs":{"s":{"$anchor":"str","type":"string"}},"properties":{"a":{"$ref":"#str"},"b":{"$ref":"#/$defs/s"}}})).unwrap();
}

#[test]
fn references_must_be_local_and_resolve() {
    for r in [
        "https://example.com/schema.json",
        "other.json#/a",
        "file:///etc/passwd",
        "//host/x",
        "urn:x",
    ] {
        let e = refused(json!({"properties":{"a":{"$ref": r}}}));
        assert!(
            e.contains("is not local") && e.contains("#/properties/a"),
            "{r}: {e}"
        );
    }
    let e = refused(json!({"$dynamicRef":"https://example.com/x"}));
    assert!(e.starts_with("$dynamicRef"), "{e}");
    let e = refused(json!({"$defs":{},"properties":{"a":{"$ref":"#/$defs/missing"}}}));
    assert!(e.contains("does not resolve"), "{e}");
    let e = refused(json!({"properties":{"a":{"$ref":"#nowhere"}}}));
    assert!(e.contains("names an anchor"), "{e}");
    // A pointer to something that is not a schema.
    refused(json!({"title":"x","properties":{"a":{"$ref":"#/title"}}}));
    // A pointer with an escaped name resolves.
    analyse(&json!({"$defs":{"a/b":{"type":"string"},"c d":{"type":"string"}},"properties":{"x":{"$ref":"#/$defs/a~1b"},"y":{"$ref":"#/$defs/c%20d"}}}))
        .unwrap();
}

#[test]
fn size_and_depth_are_bounded() {
    let mut deep = json!({"type": "string"});
    for _ in 0..40 {
        deep = json!({"properties": {"x": deep}});
    }
    // 81 levels of objects.
    assert!(refused(deep).contains("deeper than 64"));
    let mut ok = json!({"type": "string"});
    for _ in 0..31 {
        ok = json!({"properties": {"x": ok}});
    }
    analyse(&ok).unwrap();
    let big = json!({"description": "x".repeat(MAX_SCHEMA_BYTES)});
    assert!(refused(big).contains("at most 262144"));
    let fits = json!({"description": "x".repeat(MAX_SCHEMA_BYTES - 100)});
    analyse(&fits).unwrap();
}

/// `allOf: [{$ref: next}, {$ref: next}]`, `levels` times.
fn doubling(levels: usize) -> Value {
    let mut defs = serde_json::Map::new();
    for i in 0..levels {
        defs.insert(format!("l{i}"), json!({"allOf":[{"$ref":format!("#/$defs/l{}", i + 1)},{"$ref":format!("#/$defs/l{}", i + 1)}]}));
    }
    defs.insert(format!("l{levels}"), json!({"type":"object"}));
    json!({"$defs": defs, "$ref": "#/$defs/l0"})
}

#[test]
fn in_place_blow_up_is_refused() {
    analyse(&doubling(8)).unwrap();
    let e = refused(doubling(30));
    assert!(e.contains("more than 10000 subschemas"), "{e}");
}

#[test]
fn cost_follows_the_value() {
    let tree = json!({"$defs":{"node":{"type":"object","properties":{"children":{"type":"array","items":{"$ref":"#/$defs/node"}}}}},"$ref":"#/$defs/node"});
    let a = analyse(&tree).unwrap();
    let small = a.cost(&json!({"children": []}), MAX_EVALUATIONS).unwrap();
    let bigger = a
        .cost(
            &json!({"children": [{"children": [{}, {}]}, {}]}),
            MAX_EVALUATIONS,
        )
        .unwrap();
    assert!(small < bigger, "{small} {bigger}");
    // Two paths apply the next level at every level of the value: 2^60 evaluations.
    let doubling = json!({"$defs":{"n":{"allOf":[{"properties":{"x":{"$ref":"#/$defs/n"}}},{"properties":{"x":{"$ref":"#/$defs/n"}}}]}},"$ref":"#/$defs/n"});
    let a = analyse(&doubling).unwrap();
    let mut value = json!(1);
    for _ in 0..60 {
        value = json!({ "x": value });
    }
    assert!(a.cost(&value, MAX_EVALUATIONS).is_err());
    let mut shallow = json!(1);
    for _ in 0..5 {
        shallow = json!({ "x": shallow });
    }
    assert!(a.cost(&shallow, MAX_EVALUATIONS).is_ok());
}

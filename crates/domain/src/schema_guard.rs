//! Limits that keep one dynamic-variables JSON Schema from stalling the server.
//!
//! A schema is checked statically before it is compiled ([`analyse`]): its size and nesting, that
//! every reference (`$ref`, `$dynamicRef`, `$recursiveRef`) is local and resolves, and that no
//! chain of *in-place* applicators (a `$ref` target, `allOf`/`anyOf`/`oneOf` items, `not`, `if`,
//! `then`, `else`, `dependentSchemas` and draft-07 `dependencies` schemas) leads back to where it
//! started: such a cycle applies subschemas to the same value forever. Recursion through keywords
//! that descend into the value (`properties`, `items`, `additionalProperties`, ...) consumes the
//! value on the way and is allowed: a tree schema is fine.
//!
//! Two further bounds keep the work of an acyclic schema in proportion: no subschema may apply
//! more than [`MAX_IN_PLACE`] subschemas to one value (counting each path: a chain of
//! `allOf: [{$ref: next}, {$ref: next}]` doubles at every step), and before a value is validated
//! [`Analysis::cost`] bounds the subschema evaluations it would take (the same doubling can hide
//! across levels of the value), refusing more than [`MAX_EVALUATIONS`].
use serde_json::Value;
use std::collections::{BinaryHeap, HashMap};

/// The largest schema accepted, serialized.
pub const MAX_SCHEMA_BYTES: usize = 256 * 1024;
/// The deepest nesting of objects and arrays accepted in a schema.
pub const MAX_SCHEMA_DEPTH: usize = 64;
/// How many subschemas one subschema may apply to a single value through in-place applicators,
/// counting every path.
pub const MAX_IN_PLACE: u64 = 10_000;
/// How many subschema evaluations one validation may take, as estimated by [`Analysis::cost`].
pub const MAX_EVALUATIONS: u64 = 5_000_000;
/// How many reference targets a schema may have in all (an anchor defined many times multiplies
/// the edges of every reference to it).
const MAX_REF_TARGETS: usize = 100_000;
/// Bookkeeping steps [`Analysis::cost`] may take before it gives up (and refuses).
const MAX_COST_STEPS: u64 = 20_000_000;

/// One subschema and the subschemas it applies, by how they apply.
#[derive(Debug, Default)]
struct Node {
    /// To the same value: `$ref` targets and the in-place applicators.
    in_place: Vec<u32>,
    /// `properties`: to the member of that name.
    properties: Vec<(String, u32)>,
    /// `patternProperties`, `additionalProperties`, `unevaluatedProperties`: to any member.
    any_property: Vec<u32>,
    /// `prefixItems`, array-form `items`: to the element at that index.
    at_index: Vec<(usize, u32)>,
    /// `items`, `additionalItems`, `contains`, `unevaluatedItems`: to any element.
    any_item: Vec<u32>,
    /// `propertyNames`: to each member's name (a string, so nothing below it).
    names: Vec<u32>,
    /// `contentSchema`: to the decoded content of a string.
    content: Vec<u32>,
}

/// A schema's applicator graph, for bounding the cost of validating against it.
#[derive(Debug)]
pub struct Analysis {
    nodes: Vec<Node>,
    /// How many subschemas each node applies to one value through in-place applicators,
    /// itself included, counting every path.
    expansion: Vec<u64>,
    /// Each node's position in a topological order of the in-place graph (appliers first).
    rank: Vec<u32>,
}

/// Checks `schema` against the static limits and returns its applicator graph, or what is wrong
/// (a sentence without the field name).
pub fn analyse(schema: &Value) -> Result<Analysis, String> {
    let size = serialized_len(schema);
    if size > MAX_SCHEMA_BYTES {
        return Err(format!(
            "is {size} bytes serialized: at most {MAX_SCHEMA_BYTES} (256 KiB) are accepted"
        ));
    }
    let depth = depth(schema, MAX_SCHEMA_DEPTH + 1);
    if depth > MAX_SCHEMA_DEPTH {
        return Err(format!(
            "nests objects and arrays deeper than {MAX_SCHEMA_DEPTH} levels"
        ));
    }
    let mut b = Builder::new(schema);
    b.intern(String::new(), schema);
    b.walk();
    b.resolve()?;
    let Builder {
        nodes, pointers, ..
    } = b;
    let (rank, post_order) = in_place_order(&nodes, &pointers)?;
    let mut expansion = vec![1u64; nodes.len()];
    for &n in &post_order {
        let n = n as usize;
        let e = nodes[n]
            .in_place
            .iter()
            .fold(1u64, |acc, &c| acc.saturating_add(expansion[c as usize]));
        expansion[n] = e;
        if e > MAX_IN_PLACE {
            return Err(format!(
                "{} applies more than {MAX_IN_PLACE} subschemas to one value through in-place applicators ($ref, allOf, anyOf, oneOf, not, \
                 if/then/else, dependentSchemas): the same subschema reached along many paths multiplies the work",
                display_pointer(&pointers[n])
            ));
        }
    }
    Ok(Analysis {
        nodes,
        expansion,
        rank,
    })
}

/// The length of `v` serialized as compact JSON, counted without building the text.
pub fn serialized_len(v: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Count(0);
    serde_json::to_writer(&mut c, v).expect("counting never fails");
    c.0
}

/// How deeply objects and arrays nest in `v` (a scalar is 0), counted up to `cap`.
pub fn depth(v: &Value, cap: usize) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(v, 1usize)];
    while let Some((v, d)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match v {
            Value::Object(m) => Box::new(m.values()),
            Value::Array(a) => Box::new(a.iter()),
            _ => continue,
        };
        deepest = deepest.max(d);
        if deepest >= cap {
            return deepest;
        }
        stack.extend(children.map(|c| (c, d + 1)));
    }
    deepest
}

/// `#` and the JSON pointer, as references write it.
fn display_pointer(p: &str) -> String {
    format!("#{p}")
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Decodes `%XX` escapes of a URI fragment (left as they are when malformed).
fn percent_decode(s: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// How a keyword's subschemas apply.
#[derive(Clone, Copy)]
enum Applies {
    InPlace,
    AnyProperty,
    AnyItem,
    Names,
    Content,
    /// `$defs`, `definitions`: containers, applied only through references.
    Nowhere,
}

/// Keywords holding one subschema.
const SINGLE: &[(&str, Applies)] = &[
    ("not", Applies::InPlace),
    ("if", Applies::InPlace),
    ("then", Applies::InPlace),
    ("else", Applies::InPlace),
    ("additionalProperties", Applies::AnyProperty),
    ("unevaluatedProperties", Applies::AnyProperty),
    ("additionalItems", Applies::AnyItem),
    ("contains", Applies::AnyItem),
    ("unevaluatedItems", Applies::AnyItem),
    ("propertyNames", Applies::Names),
    ("contentSchema", Applies::Content),
];
/// Keywords holding a list of subschemas (array-form `items` and `prefixItems` are by index).
const LISTS: &[(&str, Applies)] = &[
    ("allOf", Applies::InPlace),
    ("anyOf", Applies::InPlace),
    ("oneOf", Applies::InPlace),
];
/// Keywords holding a map of subschemas (`properties` is by name).
const MAPS: &[(&str, Applies)] = &[
    ("dependentSchemas", Applies::InPlace),
    ("dependencies", Applies::InPlace),
    ("patternProperties", Applies::AnyProperty),
    ("$defs", Applies::Nowhere),
    ("definitions", Applies::Nowhere),
];

/// How a reference is written.
#[derive(Clone, Copy, PartialEq)]
enum RefKind {
    Ref,
    Dynamic,
    Recursive,
}

impl RefKind {
    fn keyword(self) -> &'static str {
        match self {
            RefKind::Ref => "$ref",
            RefKind::Dynamic => "$dynamicRef",
            RefKind::Recursive => "$recursiveRef",
        }
    }
}

struct Builder<'a> {
    doc: &'a Value,
    /// Whether `id` (draft-04) names resources and anchors, as `$id` does in later drafts.
    legacy_id: bool,
    nodes: Vec<Node>,
    pointers: Vec<String>,
    values: Vec<&'a Value>,
    /// The pointer of each node's resource root (the nearest enclosing schema with an `$id`).
    bases: Vec<String>,
    index: HashMap<String, u32>,
    /// Nodes still to walk.
    pending: Vec<u32>,
    /// `$anchor`, `$dynamicAnchor` and fragment-only `$id` names.
    anchors: HashMap<String, Vec<u32>>,
    dynamic_anchors: HashMap<String, Vec<u32>>,
    recursive_anchors: Vec<u32>,
    refs: Vec<(u32, RefKind, &'a str)>,
    targets: usize,
}

impl<'a> Builder<'a> {
    fn new(doc: &'a Value) -> Self {
        let legacy_id = doc
            .get("$schema")
            .and_then(Value::as_str)
            .is_some_and(|s| s.contains("draft-04") || s.contains("draft-03"));
        Builder {
            doc,
            legacy_id,
            nodes: Vec::new(),
            pointers: Vec::new(),
            values: Vec::new(),
            bases: Vec::new(),
            index: HashMap::new(),
            pending: Vec::new(),
            anchors: HashMap::new(),
            dynamic_anchors: HashMap::new(),
            recursive_anchors: Vec::new(),
            refs: Vec::new(),
            targets: 0,
        }
    }

    /// The resource root enclosing the value at `pointer` (found by walking down to it).
    fn base_of(&self, pointer: &str) -> String {
        let mut base = String::new();
        let mut at = String::new();
        let mut v = self.doc;
        for seg in pointer.split('/').skip(1) {
            if self.is_resource(v) {
                base = at.clone();
            }
            let key = seg.replace("~1", "/").replace("~0", "~");
            v = match v {
                Value::Object(m) => match m.get(&key) {
                    Some(c) => c,
                    None => break,
                },
                Value::Array(a) => match key.parse::<usize>().ok().and_then(|i| a.get(i)) {
                    Some(c) => c,
                    None => break,
                },
                _ => break,
            };
            at.push('/');
            at.push_str(seg);
        }
        base
    }

    /// Whether `v` starts a resource of its own (an `$id` that is not just an anchor).
    fn is_resource(&self, v: &Value) -> bool {
        let id = v
            .get("$id")
            .or_else(|| if self.legacy_id { v.get("id") } else { None });
        id.and_then(Value::as_str)
            .is_some_and(|s| !s.starts_with('#'))
    }

    /// The node of the subschema at `pointer`, added (to be walked) when new.
    fn intern(&mut self, pointer: String, value: &'a Value) -> u32 {
        if let Some(&i) = self.index.get(&pointer) {
            return i;
        }
        let i = self.nodes.len() as u32;
        let base = if self.is_resource(value) {
            pointer.clone()
        } else {
            self.base_of(&pointer)
        };
        self.nodes.push(Node::default());
        self.values.push(value);
        self.bases.push(base);
        self.index.insert(pointer.clone(), i);
        self.pointers.push(pointer);
        self.pending.push(i);
        i
    }

    /// Walks every pending node: its anchors, its references, and its subschemas (added as nodes).
    fn walk(&mut self) {
        while let Some(i) = self.pending.pop() {
            let Value::Object(obj) = self.values[i as usize] else {
                continue;
            };
            let at = self.pointers[i as usize].clone();
            let anchor = |map: &mut HashMap<String, Vec<u32>>, name: &str| {
                map.entry(name.to_owned()).or_default().push(i)
            };
            if let Some(a) = obj.get("$anchor").and_then(Value::as_str) {
                anchor(&mut self.anchors, a);
            }
            if let Some(a) = obj.get("$dynamicAnchor").and_then(Value::as_str) {
                anchor(&mut self.anchors, a);
                anchor(&mut self.dynamic_anchors, a);
            }
            for key in ["$id", "id"] {
                if key == "id" && !self.legacy_id {
                    continue;
                }
                if let Some(a) = obj
                    .get(key)
                    .and_then(Value::as_str)
                    .and_then(|s| s.strip_prefix('#'))
                    .filter(|a| !a.is_empty())
                {
                    anchor(&mut self.anchors, a);
                }
            }
            if obj.get("$recursiveAnchor") == Some(&Value::Bool(true)) {
                self.recursive_anchors.push(i);
            }
            for kind in [RefKind::Ref, RefKind::Dynamic, RefKind::Recursive] {
                if let Some(r) = obj.get(kind.keyword()).and_then(Value::as_str) {
                    self.refs.push((i, kind, r));
                }
            }
            let is_schema = |v: &Value| v.is_object() || v.is_boolean();
            let mut edges: Vec<(Applies, u32)> = Vec::new();
            for &(kw, applies) in SINGLE {
                if let Some(v) = obj.get(kw).filter(|v| is_schema(v)) {
                    edges.push((applies, self.intern(format!("{at}/{kw}"), v)));
                }
            }
            for &(kw, applies) in LISTS {
                if let Some(Value::Array(list)) = obj.get(kw) {
                    for (k, v) in list.iter().enumerate().filter(|(_, v)| is_schema(v)) {
                        edges.push((applies, self.intern(format!("{at}/{kw}/{k}"), v)));
                    }
                }
            }
            for &(kw, applies) in MAPS {
                if let Some(Value::Object(map)) = obj.get(kw) {
                    for (name, v) in map.iter().filter(|(_, v)| is_schema(v)) {
                        edges.push((
                            applies,
                            self.intern(format!("{at}/{kw}/{}", escape(name)), v),
                        ));
                    }
                }
            }
            if let Some(Value::Object(map)) = obj.get("properties") {
                for (name, v) in map.iter().filter(|(_, v)| is_schema(v)) {
                    let n = self.intern(format!("{at}/properties/{}", escape(name)), v);
                    self.nodes[i as usize].properties.push((name.clone(), n));
                }
            }
            for kw in ["prefixItems", "items"] {
                match obj.get(kw) {
                    Some(Value::Array(list)) => {
                        for (k, v) in list.iter().enumerate().filter(|(_, v)| is_schema(v)) {
                            let n = self.intern(format!("{at}/{kw}/{k}"), v);
                            self.nodes[i as usize].at_index.push((k, n));
                        }
                    }
                    Some(v) if kw == "items" && is_schema(v) => {
                        edges.push((Applies::AnyItem, self.intern(format!("{at}/items"), v)))
                    }
                    _ => {}
                }
            }
            let node = &mut self.nodes[i as usize];
            for (applies, n) in edges {
                match applies {
                    Applies::InPlace => node.in_place.push(n),
                    Applies::AnyProperty => node.any_property.push(n),
                    Applies::AnyItem => node.any_item.push(n),
                    Applies::Names => node.names.push(n),
                    Applies::Content => node.content.push(n),
                    Applies::Nowhere => {}
                }
            }
        }
    }

    /// Resolves every reference to the nodes it may apply (adding, and walking, subschemas only a
    /// JSON pointer reaches), as in-place edges. Pointer references go first: they can add
    /// subschemas, and so anchors, that anchor references then find.
    fn resolve(&mut self) -> Result<(), String> {
        let mut anchored = Vec::new();
        while let Some((i, kind, r)) = self.refs.pop() {
            let at = display_pointer(&self.pointers[i as usize]);
            let Some(fragment) = r.strip_prefix('#') else {
                return Err(format!(
                    "{} {r:?} at {at} is not local: only references within the schema (#/json/pointer or #anchor) are allowed",
                    kind.keyword()
                ));
            };
            let fragment = percent_decode(fragment);
            if !fragment.is_empty() && !fragment.starts_with('/') {
                anchored.push((i, kind, r, fragment));
                continue;
            }
            let mut found = Vec::new();
            let base = self.bases[i as usize].clone();
            let mut candidates = vec![format!("{base}{fragment}")];
            if !base.is_empty() {
                candidates.push(fragment.clone());
            }
            for p in candidates {
                if let Some(v) = self
                    .doc
                    .pointer(&p)
                    .filter(|v| v.is_object() || v.is_boolean())
                {
                    found.push(self.intern(p, v));
                }
            }
            if kind == RefKind::Recursive && fragment.is_empty() {
                found.extend(self.recursive_anchors.iter().copied());
            }
            if found.is_empty() {
                return Err(format!(
                    "{} {r:?} at {at} does not resolve to a subschema of this schema",
                    kind.keyword()
                ));
            }
            self.add_targets(i, found)?;
            self.walk();
        }
        // Anchors are all known now.
        for (i, kind, r, name) in anchored {
            let mut found: Vec<u32> = self.anchors.get(&name).cloned().unwrap_or_default();
            if kind != RefKind::Ref {
                found.extend(
                    self.dynamic_anchors
                        .get(&name)
                        .into_iter()
                        .flatten()
                        .copied(),
                );
                found.sort_unstable();
                found.dedup();
            }
            if found.is_empty() {
                let at = display_pointer(&self.pointers[i as usize]);
                return Err(format!(
                    "{} {r:?} at {at} names an anchor this schema does not define",
                    kind.keyword()
                ));
            }
            self.add_targets(i, found)?;
        }
        Ok(())
    }

    fn add_targets(&mut self, i: u32, found: Vec<u32>) -> Result<(), String> {
        self.targets += found.len();
        if self.targets > MAX_REF_TARGETS {
            return Err(format!("has more than {MAX_REF_TARGETS} reference targets"));
        }
        self.nodes[i as usize].in_place.extend(found);
        Ok(())
    }
}

/// A topological order of the in-place graph (each node's rank, and the nodes in post-order:
/// applied subschemas before their appliers), or the cycle found, described.
fn in_place_order(nodes: &[Node], pointers: &[String]) -> Result<(Vec<u32>, Vec<u32>), String> {
    const WHITE: u8 = 0;
    const GREY: u8 = 1;
    const BLACK: u8 = 2;
    let mut colour = vec![WHITE; nodes.len()];
    let mut post_order = Vec::with_capacity(nodes.len());
    for start in 0..nodes.len() {
        if colour[start] != WHITE {
            continue;
        }
        // (node, index of its next edge)
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        colour[start] = GREY;
        while let Some(top) = stack.last_mut() {
            let (n, next) = *top;
            if let Some(&c) = nodes[n].in_place.get(next) {
                top.1 += 1;
                let c = c as usize;
                match colour[c] {
                    WHITE => {
                        colour[c] = GREY;
                        stack.push((c, 0));
                    }
                    GREY => {
                        let from = stack
                            .iter()
                            .position(|&(s, _)| s == c)
                            .expect("a grey node is on the stack");
                        let mut chain: Vec<String> = stack[from..]
                            .iter()
                            .map(|&(s, _)| display_pointer(&pointers[s]))
                            .collect();
                        chain.push(display_pointer(&pointers[c]));
                        return Err(format!(
                            "$ref cycle {} recurses without consuming input",
                            chain.join(" -> ")
                        ));
                    }
                    _ => {}
                }
            } else {
                colour[n] = BLACK;
                post_order.push(n as u32);
                stack.pop();
            }
        }
    }
    let mut rank = vec![0u32; nodes.len()];
    for (r, &n) in post_order.iter().rev().enumerate() {
        rank[n as usize] = r as u32;
    }
    Ok((rank, post_order))
}

impl Analysis {
    /// An upper bound of the subschema evaluations validating `instance` against the schema takes
    /// (every subschema that may apply to each part of it, counted once per path that applies
    /// it), or `Err` with the count reached once it passes `limit`.
    pub fn cost(&self, instance: &Value, limit: u64) -> Result<u64, u64> {
        let mut total: u64 = 0;
        let mut steps: u64 = 0;
        let mut stack: Vec<(&Value, Vec<(u32, u64)>)> = vec![(instance, vec![(0, 1)])];
        let exceeded = |total: u64, steps: u64| total > limit || steps > MAX_COST_STEPS;
        while let Some((value, applied)) = stack.pop() {
            // Every subschema applied in place, with how many paths apply it, appliers first.
            let mut count: HashMap<u32, u64> = HashMap::new();
            let mut heap = BinaryHeap::new();
            for (n, c) in applied {
                let e = count.entry(n).or_insert(0);
                if *e == 0 {
                    heap.push(std::cmp::Reverse((self.rank[n as usize], n)));
                }
                *e = e.saturating_add(c);
            }
            let mut closure = Vec::new();
            while let Some(std::cmp::Reverse((_, n))) = heap.pop() {
                let c = count[&n];
                closure.push((n, c));
                total = total.saturating_add(c);
                steps += 1;
                for &m in &self.nodes[n as usize].in_place {
                    let e = count.entry(m).or_insert(0);
                    if *e == 0 {
                        heap.push(std::cmp::Reverse((self.rank[m as usize], m)));
                    }
                    *e = e.saturating_add(c);
                }
            }
            if exceeded(total, steps) {
                return Err(total.max(limit.saturating_add(1)));
            }
            // What applies to the parts of the value.
            match value {
                Value::Object(obj) => {
                    let mut below: HashMap<&str, HashMap<u32, u64>> = HashMap::new();
                    for &(n, c) in &closure {
                        let node = &self.nodes[n as usize];
                        for (name, m) in &node.properties {
                            if let Some((k, _)) = obj.get_key_value(name) {
                                add(below.entry(k.as_str()).or_default(), *m, c);
                                steps += 1;
                            }
                        }
                        for &m in &node.any_property {
                            for k in obj.keys() {
                                add(below.entry(k.as_str()).or_default(), m, c);
                            }
                            steps += obj.len() as u64;
                        }
                        for &m in &node.names {
                            total = total.saturating_add(
                                c.saturating_mul(self.expansion[m as usize])
                                    .saturating_mul(obj.len() as u64),
                            );
                        }
                    }
                    for (k, m) in below {
                        stack.push((&obj[k], m.into_iter().collect()));
                    }
                }
                Value::Array(items) => {
                    let mut below: HashMap<usize, HashMap<u32, u64>> = HashMap::new();
                    for &(n, c) in &closure {
                        let node = &self.nodes[n as usize];
                        for &(k, m) in &node.at_index {
                            if k < items.len() {
                                add(below.entry(k).or_default(), m, c);
                                steps += 1;
                            }
                        }
                        for &m in &node.any_item {
                            for k in 0..items.len() {
                                add(below.entry(k).or_default(), m, c);
                            }
                            steps += items.len() as u64;
                        }
                    }
                    for (k, m) in below {
                        stack.push((&items[k], m.into_iter().collect()));
                    }
                }
                _ => {}
            }
            for &(n, c) in &closure {
                for &m in &self.nodes[n as usize].content {
                    total = total.saturating_add(c.saturating_mul(self.expansion[m as usize]));
                }
            }
            if exceeded(total, steps) {
                return Err(total.max(limit.saturating_add(1)));
            }
        }
        Ok(total)
    }
}

fn add(map: &mut HashMap<u32, u64>, n: u32, c: u64) {
    let e = map.entry(n).or_insert(0);
    *e = e.saturating_add(c);
}

#[cfg(test)]
mod tests {
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
        assert_eq!(e, "$ref cycle #/$defs/a -> #/$defs/a/anyOf/0 -> #/$defs/a recurses without consuming input");
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
}

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

mod cost;
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

#[cfg(test)]
mod tests;

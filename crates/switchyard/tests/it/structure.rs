//! The house rules of docs/architecture.md, checked on the source itself: no module of any crate
//! imports, directly or around a circle, a module that imports it back, and no source file is
//! over ~600 lines. (Imports are read as text: `use crate::...`, `use super::...` and
//! `crate::a::b::item` paths in code; a `pub use` in a folder's `mod.rs` re-exports its own
//! children for outsiders, and a parent declaring its children is structure, not an import.)
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const CRATES: [&str; 5] = ["domain", "vault", "store", "server", "switchyard"];
const MAX_LINES: usize = 620;

fn crates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A file's module path within its crate: `src/api/platform_v2/activate.rs` is
/// `api::platform_v2::activate`, `src/api/mod.rs` is `api`, `src/lib.rs` the root (empty).
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if !matches!(stem, "mod" | "lib" | "main") {
        parts.push(stem.to_owned());
    }
    parts
}

/// The module paths a file imports from its own crate, resolved to absolute module paths (as
/// written; the caller maps each to the longest existing module).
fn imports(module: &[String], is_mod_file: bool, text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    // `super` of a `mod.rs` (or `lib.rs`) is its folder's parent; of `x.rs` its folder.
    let parent: Vec<String> = module[..module.len().saturating_sub(1)].to_vec();
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("//") {
            continue;
        }
        // A folder's facade re-exports of its own children are not dependencies.
        if is_mod_file
            && t.starts_with("pub use ")
            && !t.contains("crate::")
            && !t.contains("super::")
        {
            continue;
        }
        let mut rest = t;
        while let Some(i) = rest.find("crate::").or_else(|| rest.find("super::")) {
            let (abs, tail) = if rest[i..].starts_with("crate::") {
                (Vec::new(), &rest[i + "crate::".len()..])
            } else {
                // `super::super::x` climbs once per `super`.
                let mut base = parent.clone();
                let mut tail = &rest[i + "super::".len()..];
                while let Some(t2) = tail.strip_prefix("super::") {
                    base.pop();
                    tail = t2;
                }
                (base, tail)
            };
            // Only a path at a word boundary (not `switchyard_store::crate`...).
            let boundary = i == 0
                || !rest.as_bytes()[i - 1].is_ascii_alphanumeric()
                    && rest.as_bytes()[i - 1] != b'_';
            let path: Vec<String> = tail
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .next()
                .unwrap_or("")
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            if boundary {
                let mut full = abs;
                full.extend(path.clone());
                out.push(full);
                // `use super::{a, b::c}`: each braced name is a path too.
                if tail.starts_with('{') || tail.split("::").any(|s| s.starts_with('{')) {
                    let prefix_len = tail.find('{').unwrap();
                    let prefix: Vec<String> = tail[..prefix_len]
                        .split("::")
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect();
                    let inner_end = tail.find('}').unwrap_or(tail.len());
                    for name in tail[prefix_len + 1..inner_end].split(',') {
                        let name = name.trim().split(" as ").next().unwrap_or("").trim();
                        if name.is_empty() || name == "self" {
                            continue;
                        }
                        let mut p = if rest[i..].starts_with("crate::") {
                            Vec::new()
                        } else {
                            parent.clone()
                        };
                        p.extend(prefix.clone());
                        p.extend(name.split("::").map(str::to_owned));
                        out.push(p);
                    }
                }
            }
            rest = &rest[i + 6..];
        }
    }
    out
}

struct Crate {
    /// Module path -> file.
    files: BTreeMap<Vec<String>, PathBuf>,
    /// File -> the files it imports from.
    edges: BTreeMap<PathBuf, BTreeSet<PathBuf>>,
}

fn read_crate(name: &str) -> Crate {
    let src = crates_dir().join(name).join("src");
    let mut all = Vec::new();
    sources(&src, &mut all);
    let files: BTreeMap<Vec<String>, PathBuf> = all
        .iter()
        .map(|f| (module_of(&src, f), f.clone()))
        .collect();
    let mut edges: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    for file in &all {
        let module = module_of(&src, file);
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        let is_mod = matches!(stem.as_str(), "mod" | "lib" | "main");
        let text = std::fs::read_to_string(file).unwrap();
        for path in imports(&module, is_mod, &text) {
            // The longest existing module the path names.
            let mut p = path.clone();
            let target = loop {
                if let Some(f) = files.get(&p) {
                    break Some(f.clone());
                }
                if p.pop().is_none() {
                    break None;
                }
            };
            let Some(target) = target else { continue };
            if &target == file {
                continue;
            }
            // A parent declaring its children is structure: a module's own descendants are not
            // imports of it when it is their folder's `mod.rs`.
            let target_module = module_of(&src, &target);
            if is_mod && target_module.starts_with(&module) && target_module.len() > module.len() {
                continue;
            }
            edges.entry(file.clone()).or_default().insert(target);
        }
    }
    Crate { files, edges }
}

/// A circle of imports, if there is one.
fn find_cycle(edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Option<Vec<PathBuf>> {
    fn visit(
        n: &PathBuf,
        edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        state: &mut BTreeMap<PathBuf, u8>,
        stack: &mut Vec<PathBuf>,
    ) -> Option<Vec<PathBuf>> {
        state.insert(n.clone(), 1);
        stack.push(n.clone());
        for m in edges.get(n).into_iter().flatten() {
            match state.get(m).copied().unwrap_or(0) {
                1 => {
                    let from = stack.iter().position(|x| x == m).unwrap();
                    let mut cycle = stack[from..].to_vec();
                    cycle.push(m.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(m, edges, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.clone(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in edges.keys() {
        if state.get(n).copied().unwrap_or(0) == 0 {
            if let Some(c) = visit(n, edges, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn no_module_imports_around_a_circle() {
    for name in CRATES {
        let krate = read_crate(name);
        assert!(
            krate.files.len() > 1 || name == "vault",
            "{name}: no modules read"
        );
        if let Some(cycle) = find_cycle(&krate.edges) {
            let names: Vec<String> = cycle.iter().map(|p| p.display().to_string()).collect();
            panic!("crates/{name} has an import circle: {}", names.join(" -> "));
        }
    }
}

#[test]
fn the_check_finds_a_circle_when_there_is_one() {
    let a = PathBuf::from("a.rs");
    let b = PathBuf::from("b.rs");
    let mut edges = BTreeMap::new();
    edges.insert(a.clone(), BTreeSet::from([b.clone()]));
    assert!(find_cycle(&edges).is_none());
    edges.insert(b.clone(), BTreeSet::from([a.clone()]));
    assert_eq!(find_cycle(&edges).unwrap().len(), 3);
    // And imports are read: `use super::x` from a sibling, `crate::a::b` in code.
    let found = imports(
        &["api".into(), "x".into()],
        false,
        "use super::y::{Z, w};\nlet v = crate::auth::hub::f();\n",
    );
    assert!(
        found.contains(&vec!["api".to_owned(), "y".to_owned(), "Z".to_owned()]),
        "{found:?}"
    );
    assert!(
        found.contains(&vec!["auth".to_owned(), "hub".to_owned(), "f".to_owned()]),
        "{found:?}"
    );
}

#[test]
fn no_source_file_is_too_long_to_follow() {
    let mut long = Vec::new();
    for name in CRATES {
        let mut all = Vec::new();
        sources(&crates_dir().join(name).join("src"), &mut all);
        for f in all {
            let lines = std::fs::read_to_string(&f).unwrap().lines().count();
            if lines > MAX_LINES {
                long.push(format!("{} ({lines} lines)", f.display()));
            }
        }
    }
    assert!(
        long.is_empty(),
        "source files over {MAX_LINES} lines: {long:?}"
    );
}

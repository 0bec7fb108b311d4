//! The layout's rules, checked on the source: which top-level module may import which
//! (the arrows of ARCHITECTURE.md point one way: `bin → nsqd, lookupd, client →
//! registry, diskqueue → proto, reactor, http, common`), no source file that is not a
//! test file longer than 700 lines, no import circles between sibling files, and a
//! `//!` comment opening every file. Reads `src/` as text; runs nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The longest a non-test source file may be.
const MAX_LINES: usize = 700;

/// Each top-level module and the modules it may import (`crate::<name>`).
fn allowed() -> BTreeMap<&'static str, &'static [&'static str]> {
    BTreeMap::from([
        ("common", &[][..]),
        ("tls", &[][..]),
        ("proto", &["common"][..]),
        ("compress", &["common"][..]),
        ("listen", &["common"][..]),
        ("flags", &["common"][..]),
        ("logging", &["common"][..]),
        ("reactor", &["listen", "common"][..]),
        (
            "http",
            &["reactor", "listen", "logging", "tls", "common"][..],
        ),
        ("diskqueue", &["proto", "common"][..]),
        ("registry", &["diskqueue", "proto", "tls", "common"][..]),
        (
            "client",
            &[
                "http", "proto", "compress", "tls", "flags", "logging", "common",
            ][..],
        ),
        (
            "lookupd",
            &[
                "http", "reactor", "listen", "proto", "flags", "logging", "common",
            ][..],
        ),
        (
            "nsqd",
            &[
                "registry",
                "diskqueue",
                "http",
                "reactor",
                "listen",
                "proto",
                "compress",
                "tls",
                "flags",
                "logging",
                "common",
            ][..],
        ),
        (
            "nsqadmin",
            &[
                "http", "listen", "proto", "tls", "flags", "logging", "common",
            ][..],
        ),
        ("program", &["flags", "logging", "common"][..]),
    ])
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file under `src/` belongs to (`bin` for programs).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("under src");
    let first = rel.components().next().expect("non-empty path");
    let name = first.as_os_str().to_string_lossy();
    name.trim_end_matches(".rs").to_string()
}

/// The crate modules `text` refers to as `crate::<name>` in code (comments skipped).
fn imports(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.insert(name);
            }
            rest = after;
        }
    }
    found
}

fn is_test_file(file: &Path) -> bool {
    file.file_name().is_some_and(|n| n == "tests.rs")
        || file.components().any(|c| c.as_os_str() == "tests")
}

fn sources() -> (PathBuf, Vec<PathBuf>) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    (src, files)
}

/// What `lib.rs` itself defines (the NSQ version and the `--version` line): every
/// room may use it, as it depends on nothing.
const ROOT_ITEMS: [&str; 2] = ["NSQ_VERSION", "version_line"];

#[test]
fn modules_import_only_what_lies_below_them() {
    let (src, files) = sources();
    let allowed = allowed();
    let mut wrong = Vec::new();
    for file in &files {
        let module = module_of(&src, file);
        if module == "bin" || module == "lib" {
            continue;
        }
        let Some(may) = allowed.get(module.as_str()) else {
            wrong.push(format!(
                "{}: module `{module}` is not in the table of tests/architecture.rs",
                file.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(file).expect("read source");
        for import in imports(&text) {
            if import != module
                && !may.contains(&import.as_str())
                && !ROOT_ITEMS.contains(&import.as_str())
            {
                wrong.push(format!(
                    "{}: `{module}` imports `crate::{import}`",
                    file.display()
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "arrows pointing up:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn lookupd_imports_nothing_of_nsqd() {
    let (src, files) = sources();
    for file in files.iter().filter(|f| module_of(&src, f) == "lookupd") {
        let text = std::fs::read_to_string(file).expect("read source");
        assert!(
            !imports(&text).contains("nsqd"),
            "{} imports crate::nsqd",
            file.display()
        );
    }
}

#[test]
fn no_source_file_is_longer_than_700_lines() {
    let (_, files) = sources();
    let long: Vec<String> = files
        .iter()
        .filter(|f| !is_test_file(f))
        .filter_map(|f| {
            let lines = std::fs::read_to_string(f)
                .expect("read source")
                .lines()
                .count();
            (lines > MAX_LINES).then(|| format!("{}: {lines} lines", f.display()))
        })
        .collect();
    assert!(
        long.is_empty(),
        "split these by concern (at most {MAX_LINES} lines):\n{}",
        long.join("\n")
    );
}

#[test]
fn architecture_md_names_every_source_folder() {
    let (src, _) = sources();
    let doc = std::fs::read_to_string(src.join("../ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let mut dirs = Vec::new();
    let mut todo = vec![src.clone()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                let rel = path.strip_prefix(&src).expect("under src");
                dirs.push(format!("{}/", rel.display()));
                todo.push(path);
            }
        }
    }
    assert!(dirs.len() > 10, "the walk saw too few folders: {dirs:?}");
    let missing: Vec<&String> = dirs.iter().filter(|d| !doc.contains(d.as_str())).collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md should name these folders (as `path/` relative to src): {missing:?}"
    );
}

#[test]
fn every_source_file_opens_with_a_doc_comment() {
    let (_, files) = sources();
    let bare: Vec<String> = files
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).expect("read source");
            !text.trim_start().starts_with("//!")
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        bare.is_empty(),
        "open these with a //! comment saying what the file owns:\n{}",
        bare.join("\n")
    );
}

/// The sibling units of a folder: its `.rs` files (but `mod.rs`, `lib.rs`, `main.rs` and
/// `tests.rs`) and its sub-folders, by name.
fn units(dir: &Path) -> BTreeMap<String, Vec<PathBuf>> {
    let mut out: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("dir entry").path();
        let name = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if path.is_dir() {
            let mut files = Vec::new();
            rust_files(&path, &mut files);
            files.retain(|f| !is_test_file(f));
            out.insert(name, files);
        } else if path.extension().is_some_and(|e| e == "rs")
            && !["mod", "lib", "main", "tests"].contains(&name.as_str())
        {
            out.insert(name, vec![path]);
        }
    }
    out
}

/// True when `line` names `path` as a whole path segment (`path`, then no more
/// identifier characters).
fn mentions(line: &str, path: &str) -> bool {
    line.match_indices(path).any(|(at, _)| {
        let next = line[at + path.len()..].chars().next();
        let before = line[..at].chars().next_back();
        !next.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            && !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    })
}

/// The first names of a braced import after `head` (`super::{a, b::C}` gives a, b).
fn braced_names(line: &str, head: &str) -> BTreeSet<String> {
    let head = head.trim_end_matches('{').trim_end_matches("::");
    let Some(at) = line.find(&format!("{head}::{{")) else {
        return BTreeSet::new();
    };
    let inner = &line[at + head.len() + 3..];
    let inner = inner.split('}').next().unwrap_or("");
    inner
        .split(',')
        .filter_map(|part| part.trim().split("::").next())
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .collect()
}

/// A cycle among the sibling units of `dir` (`prefix`: the folder's path as the
/// crate names it, e.g. `crate::nsqd::`), if any.
fn sibling_cycle(dir: &Path, prefix: &str) -> Option<Vec<String>> {
    let units = units(dir);
    let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (name, files) in &units {
        for file in files {
            let text = std::fs::read_to_string(file).expect("read source");
            let direct = file.parent() == Some(dir);
            for line in text.lines().map(|l| l.split("//").next().unwrap_or("")) {
                for other in units.keys().filter(|o| *o != name) {
                    let named = mentions(line, &format!("{prefix}{other}"))
                        || (direct && mentions(line, &format!("super::{other}")))
                        || (direct && braced_names(line, "super::{").contains(other))
                        || braced_names(line, prefix.trim_end_matches(':')).contains(other);
                    if named {
                        edges.entry(name).or_default().insert(other);
                    }
                }
            }
        }
    }
    // Depth-first search for a back edge.
    fn visit<'a>(
        node: &'a str,
        edges: &BTreeMap<&'a str, BTreeSet<&'a str>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| *n == node) {
            let mut cycle: Vec<String> = path[at..].iter().map(|s| s.to_string()).collect();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if !done.insert(node) {
            return None;
        }
        path.push(node);
        for next in edges.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for start in edges.keys() {
        if let Some(c) = visit(start, &edges, &mut Vec::new(), &mut done) {
            return Some(c);
        }
    }
    None
}

#[test]
fn no_import_circles_between_sibling_files() {
    let (src, _) = sources();
    let mut dirs = vec![src.clone()];
    let mut cycles = Vec::new();
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                dirs.push(path);
            }
        }
        let rel = dir.strip_prefix(&src).expect("under src");
        let mut prefix = String::from("crate::");
        // A program's folder (src/bin/<name>/) is the root of its own crate.
        if rel
            .components()
            .next()
            .is_none_or(|c| c.as_os_str() != "bin")
        {
            for c in rel.components() {
                prefix.push_str(&c.as_os_str().to_string_lossy());
                prefix.push_str("::");
            }
        }
        if let Some(cycle) = sibling_cycle(&dir, &prefix) {
            cycles.push(format!("{}: {}", dir.display(), cycle.join(" -> ")));
        }
    }
    assert!(cycles.is_empty(), "import circles:\n{}", cycles.join("\n"));
}

#[test]
fn the_checks_see_an_upward_import() {
    // The scanner itself: an import in code counts, one in a comment does not.
    let text = "use crate::nsqd::stats;\n// crate::client is only mentioned\nlet x = crate::proto::MAGIC; // crate::lookupd";
    let found = imports(text);
    assert_eq!(
        found,
        BTreeSet::from(["nsqd".to_string(), "proto".to_string()])
    );
}

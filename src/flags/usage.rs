//! The help text, in the layout of Go's `flag.PrintDefaults`.

use super::spec::{FlagKind, FlagSpec};

/// Help text in the layout of Go's `flag.Usage`: `Usage of <program>:` and then
/// every flag, sorted by name, as `  -name type` with the indented usage and
/// `(default ...)` unless the default is the type's zero value.
pub fn usage(program: &str, specs: &[FlagSpec]) -> String {
    let mut sorted: Vec<&FlagSpec> = specs.iter().collect();
    sorted.sort_by_key(|s| s.name);
    let mut out = format!("Usage of {program}:\n");
    for spec in sorted {
        let mut line = format!("  -{}", spec.name);
        let placeholder = match spec.kind {
            FlagKind::Bool => "",
            FlagKind::String => "string",
            FlagKind::Int => "int",
            FlagKind::Uint => "uint",
            FlagKind::Float => "float",
            FlagKind::Duration => "duration",
            FlagKind::List => "value",
        };
        if !placeholder.is_empty() {
            line.push(' ');
            line.push_str(placeholder);
        }
        line.push_str(if line.len() <= 4 { "\t" } else { "\n    \t" });
        line.push_str(&spec.usage.replace('\n', "\n    \t"));
        if !is_zero_value(spec) {
            match spec.kind {
                FlagKind::String => line.push_str(&format!(" (default {:?})", spec.default)),
                _ => line.push_str(&format!(" (default {})", spec.default)),
            }
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn is_zero_value(spec: &FlagSpec) -> bool {
    let zero = match spec.kind {
        FlagKind::Bool => "false",
        FlagKind::Int | FlagKind::Uint | FlagKind::Float => "0",
        FlagKind::Duration => "0s",
        FlagKind::String | FlagKind::List => "",
    };
    spec.default.is_empty() || spec.default == zero
}

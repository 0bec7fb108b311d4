//! Test helpers for programs' option parsers.

use super::Invocation;

type ParseArgs<T> = fn(&[String]) -> Result<Invocation<T>, String>;

fn call<T>(parse: ParseArgs<T>, args: &[&str]) -> Result<Invocation<T>, String> {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    parse(&args)
}

/// The options `args` give; fails the test unless they mean "run".
pub(crate) fn run<T: std::fmt::Debug>(parse: ParseArgs<T>, args: &[&str]) -> T {
    match call(parse, args) {
        Ok(Invocation::Run(opts)) => *opts,
        other => panic!("expected Run, got {other:?}"),
    }
}

/// The error `args` give; fails the test unless they are refused.
pub(crate) fn err<T: std::fmt::Debug>(parse: ParseArgs<T>, args: &[&str]) -> String {
    match call(parse, args) {
        Err(e) => e,
        other => panic!("expected an error, got {other:?}"),
    }
}

/// What `args` mean.
pub(crate) fn parse<T>(parse: ParseArgs<T>, args: &[&str]) -> Result<Invocation<T>, String> {
    call(parse, args)
}

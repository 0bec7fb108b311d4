//! nsqlookupd: placeholder while the program is being written.
fn main() {
    eprintln!("nsqlookupd: not built yet");
    std::process::exit(1);
}

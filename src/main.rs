//! The `wasiwheel` command-line binary.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| p.to_str().map(str::to_string))
        .unwrap_or_else(|| "wasiwheel".to_string());
    std::process::exit(wasiwheel::cli::main(args, vec![exe]));
}

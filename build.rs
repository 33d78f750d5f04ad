//! Records the host target triple so that native builds can hand it to `cc`.
fn main() {
    println!(
        "cargo:rustc-env=WASIWHEEL_HOST_TRIPLE={}",
        std::env::var("TARGET").expect("cargo sets TARGET for build scripts")
    );
    println!("cargo:rerun-if-changed=build.rs");
}

//! Exception-enabled C++ runtimes for a WASI SDK: libunwind (LLVM's wasm
//! unwinder, `libunwind/src/Unwind-wasm.c`), libc++abi and libc++ built with
//! WebAssembly exception handling in the standardized exnref encoding (the
//! only one wasmtime runs), and the compiler that emits it.
//!
//! An SDK that ships them (official wasi-sdk 33: `lib/<triple>/eh/`) is used
//! as it is. For one that does not (Debian's wasm32 libc++ is built with
//! `-fno-exceptions`), wasiwheel builds them once from the LLVM source of
//! the SDK's LLVM major (Debian's `llvm-toolchain-N` source package, pinned by
//! sha256) with LLVM's own runtimes CMake build, into the cache
//! (`cxx-eh/…`, keyed by every input), with the same `__config_site` choices
//! as the SDK's own libc++ (no threads, no filesystem, ABI version 2).
//!
//! The exnref compiler is the SDK's clang when it is LLVM 20 or newer, else
//! a newer clang of the host (Debian's `clang-22`) used with the SDK's
//! sysroot: the wasi-libc ABI, which the wheel tag names, stays the SDK's.
//!
//! It provisions and describes; it never compiles a project's code.

use std::process::Command;

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use crate::error::{Error, IoContext, Result};
use crate::model::target::WasiTarget;
use crate::progress;
use crate::toolchain::cache;
use crate::toolchain::sdk::WasiSdk;
use crate::toolchain::sources::{self, DebianSource, Origin, PinnedFile, Wanted};

/// Compiler flags for C++ with exceptions in the exnref encoding
/// (`-fwasm-exceptions`; LLVM's `-wasm-use-legacy-eh=false`).
pub const CXX_EH_FLAGS: &[&str] = &["-fwasm-exceptions", "-mllvm", "-wasm-use-legacy-eh=false"];

/// wasi-libc's pthread emulation, which libc++'s thread support is built on:
/// the define that declares `pthread_create` and friends (their
/// single-threaded stubs come from CPython's own in a relinked interpreter,
/// from `libwasi-emulated-pthread` in the cross environment's programs).
pub const PTHREAD_DEFINE: &str = "_WASI_EMULATED_PTHREAD";

/// The oldest LLVM major whose clang emits the exnref encoding.
pub const MIN_EXNREF_LLVM: u32 = 20;

/// Host clangs (Debian's layout, `/usr/lib/llvm-N/bin`) tried, newest
/// first, when the SDK's own clang is older than [`MIN_EXNREF_LLVM`].
pub const HOST_EXNREF_LLVMS: &[u32] = &[22, 21, 20];

/// A compiler that emits WebAssembly exception handling in the exnref encoding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExnrefCompiler {
    /// The C compiler.
    pub clang: Utf8PathBuf,
    /// The C++ compiler.
    pub clangxx: Utf8PathBuf,
    /// Its LLVM major.
    pub llvm: u32,
    /// True when it is the SDK's own clang (which sets target and sysroot
    /// itself); false for a host clang, which gets `--sysroot` of the SDK.
    pub sdk_own: bool,
}

impl ExnrefCompiler {
    /// The arguments that make it compile for `target` against `sdk`'s
    /// sysroot (none for the SDK's own clang beyond the target).
    pub fn target_args(&self, sdk: &WasiSdk, target: WasiTarget) -> Vec<String> {
        let mut v = vec![format!("--target={}", target.triple())];
        if !self.sdk_own {
            v.push(format!("--sysroot={}", sdk.sysroot()));
        }
        v
    }
}

/// The LLVM major of `sdk`'s clang, from its `VERSION` record (`19.1.7` → 19).
pub fn sdk_llvm_major(sdk: &WasiSdk) -> Option<u32> {
    sdk.identity.llvm_version.as_deref()?.split('.').next()?.parse().ok()
}

/// The exnref compiler for `sdk`: its own clang when it is LLVM
/// [`MIN_EXNREF_LLVM`] or newer, else the newest host clang of
/// [`HOST_EXNREF_LLVMS`] that is installed; `None` when there is none.
pub fn exnref_compiler(sdk: &WasiSdk) -> Option<ExnrefCompiler> {
    let own = sdk_llvm_major(sdk).unwrap_or(0);
    if own >= MIN_EXNREF_LLVM {
        return Some(ExnrefCompiler { clang: sdk.clang(), clangxx: sdk.clangxx(), llvm: own, sdk_own: true });
    }
    HOST_EXNREF_LLVMS.iter().find_map(|&n| {
        let bin = Utf8PathBuf::from(format!("/usr/lib/llvm-{n}/bin"));
        (bin.join("clang").is_file() && bin.join("clang++").exists()).then(|| ExnrefCompiler {
            clang: bin.join("clang"),
            clangxx: bin.join("clang++"),
            llvm: n,
            sdk_own: false,
        })
    })
}

/// An exception-enabled C++ runtime for one SDK and target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CxxRuntime {
    /// The libc++ headers to compile against (`…/c++/v1`).
    pub include: Utf8PathBuf,
    /// The directory of `libc++.a`, `libc++abi.a` and `libunwind.a`.
    pub libdir: Utf8PathBuf,
    /// The compiler to compile C++ with.
    pub compiler: ExnrefCompiler,
    /// Where it came from, for `sdk list` and messages: `the SDK's eh/
    /// sysroot` or the cache entry's path.
    pub origin: String,
}

impl CxxRuntime {
    /// Compiler arguments for C++ against this runtime: target and sysroot
    /// ([`ExnrefCompiler::target_args`]), these headers instead of the
    /// SDK's, and [`CXX_EH_FLAGS`].
    pub fn cxx_compile_args(&self, sdk: &WasiSdk, target: WasiTarget) -> Vec<String> {
        let mut v = self.compiler.target_args(sdk, target);
        v.extend(["-nostdinc++".to_string(), "-isystem".to_string(), self.include.to_string()]);
        v.extend(CXX_EH_FLAGS.iter().map(|s| s.to_string()));
        // libc++'s thread support calls wasi-libc's pthread API, whose
        // thread-creating part is declared only with the emulation.
        v.push(format!("-D{PTHREAD_DEFINE}"));
        v
    }

    /// Linker arguments (for the SDK's clang driver) that take this
    /// runtime's libraries before the SDK's: `-L<libdir>` and `-lunwind`
    /// (clang++ itself adds `-lc++ -lc++abi`).
    pub fn link_args(&self) -> Vec<String> {
        vec![format!("-L{}", self.libdir), "-lunwind".to_string()]
    }
}

/// The libraries every runtime has.
const LIBRARIES: &[&str] = &["libc++.a", "libc++abi.a", "libunwind.a"];

/// The official SDK's own runtime (`share/wasi-sysroot/lib/<triple>/eh/`),
/// if it ships one.
fn sdk_own_runtime(sdk: &WasiSdk, target: WasiTarget) -> Option<CxxRuntime> {
    let libdir = sdk.sysroot().join("lib").join(target.sysroot_subdir()).join("eh");
    let include = sdk.sysroot().join("include").join(target.sysroot_subdir()).join("c++/v1");
    let compiler = exnref_compiler(sdk).filter(|c| c.sdk_own)?;
    (LIBRARIES.iter().all(|l| libdir.join(l).is_file()) && include.is_dir()).then(|| CxxRuntime {
        include,
        libdir: libdir.clone(),
        compiler,
        origin: format!("the SDK's own ({libdir})"),
    })
}

/// A pinned LLVM source release: the Debian source package whose upstream
/// tarball holds libunwind, libcxxabi and libcxx.
#[derive(Debug, Clone, Copy)]
pub struct LlvmSource {
    /// LLVM major it serves.
    pub major: u32,
    /// Full version (`19.1.7`).
    pub version: &'static str,
    /// `package=version` for `apt-get source --download-only`.
    pub debian_spec: &'static str,
    /// The suite that serves it.
    pub suite: &'static str,
    /// The upstream tarball and its sha256.
    pub pin: PinnedFile,
}

/// The LLVM sources wasiwheel knows (docs/toolchains.md).
pub const LLVM_SOURCES: &[LlvmSource] = &[
    LlvmSource {
        major: 19,
        version: "19.1.7",
        debian_spec: "llvm-toolchain-19=1:19.1.7-3",
        suite: "trixie",
        pin: PinnedFile {
            file: "llvm-toolchain-19_19.1.7.orig.tar.xz",
            sha256: "ae498f3bc58ae2d9f64ef5f0c035c4240152bf015a5b7738b15c22e93bdc97ce",
        },
    },
    LlvmSource {
        major: 22,
        version: "22.1.8",
        debian_spec: "llvm-toolchain-22=1:22.1.8-1~deb13u5",
        suite: "trixie",
        pin: PinnedFile {
            file: "llvm-toolchain-22_22.1.8.orig.tar.xz",
            sha256: "b49b9277aef97616320b2da259e1f8174c65b0ce2fbe2e8629644a97693402fe",
        },
    },
];

/// Identifies the build recipe of [`build`] in cache keys: a change to the
/// flags or the steps is a new key.
const RECIPE: &str =
    "cxx-eh/2 (runtimes cmake: libc++ threads on wasi-libc's pthread stubs, filesystem and fstreams, ABI 2, \
     exnref, PIC, __cpp_exception tag)";

/// What a built runtime records about itself (`RECORD.json`): the sha256 of
/// each library, checked on every lookup, so that a damaged entry is found
/// and rebuilt.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    recipe: String,
    llvm_source: String,
    compiler: ExnrefCompiler,
    libraries: Vec<(String, String)>,
}

/// How a runtime for `sdk` and `target` would be built: the source, the
/// compiler, and the cache entry it would live in.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The LLVM source.
    pub source: LlvmSource,
    /// The compiler.
    pub compiler: ExnrefCompiler,
    /// The cache entry (`cxx-eh/<name>`).
    pub entry: Utf8PathBuf,
}

/// Plan the runtime build for `sdk` and `target`.
///
/// Errors: [`Error::Toolchain`] when no exnref compiler is installed (naming
/// the Debian packages that give one) or no LLVM source of the SDK's major is
/// pinned.
pub fn plan(sdk: &WasiSdk, target: WasiTarget) -> Result<Plan> {
    let compiler = exnref_compiler(sdk).ok_or_else(|| {
        Error::Toolchain(format!(
            "{} has clang {} which emits only the legacy WebAssembly exception encoding, and no clang {}+ is \
             installed to emit exnref: install Debian's `clang-22 lld-22` (or use WASI SDK 33), or build with \
             `-C cxx-exceptions=false`",
            sdk.identity,
            sdk.identity.llvm_version.as_deref().unwrap_or("?"),
            MIN_EXNREF_LLVM
        ))
    })?;
    let major = sdk_llvm_major(sdk).unwrap_or(0);
    let source = *LLVM_SOURCES.iter().find(|s| s.major == major).ok_or_else(|| {
        Error::Toolchain(format!(
            "wasiwheel has no pinned LLVM {major} source to build exception-enabled C++ runtimes for {} (known: \
             LLVM {}); build with `-C cxx-exceptions=false`",
            sdk.identity,
            LLVM_SOURCES.iter().map(|s| s.version).collect::<Vec<_>>().join(", ")
        ))
    })?;
    let libc = sdk.sysroot().join("lib").join(target.sysroot_subdir()).join("libc.a");
    let key = format!(
        "{RECIPE}\n{:?}\n{}\n{}\n{:?}\n{}",
        sdk.identity,
        crate::files::sha256_file(&libc)?,
        source.pin.sha256,
        compiler,
        compiler_version(&compiler.clang)
    );
    let key = &crate::files::sha256_hex(key.as_bytes())[..12];
    let entry = cache::dir("cxx-eh")?.join(format!(
        "wasi-sdk-{}-{}-libcxx-{}-{key}",
        sdk.identity.major,
        target.triple(),
        source.version
    ));
    Ok(Plan { source, compiler, entry })
}

fn compiler_version(clang: &Utf8Path) -> String {
    Command::new(clang)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).lines().next().unwrap_or("").to_string())
        .unwrap_or_default()
}

/// The state of a cache entry.
enum EntryState {
    Missing,
    Damaged(String),
    Good(CxxRuntime),
}

fn check_entry(plan: &Plan) -> EntryState {
    let record = plan.entry.join("RECORD.json");
    if !plan.entry.exists() {
        return EntryState::Missing;
    }
    let Some(rec) = std::fs::read_to_string(&record).ok().and_then(|t| serde_json::from_str::<Record>(&t).ok()) else {
        return EntryState::Damaged(format!("{record} is missing or unreadable"));
    };
    for (name, sha) in &rec.libraries {
        let p = plan.entry.join("lib").join(name);
        match crate::files::sha256_file(&p) {
            Ok(s) if &s == sha => {}
            Ok(_) => return EntryState::Damaged(format!("{p} does not match its sha256 in {record}")),
            Err(_) => return EntryState::Damaged(format!("{p} is missing")),
        }
    }
    let include = plan.entry.join("include/c++/v1");
    if !include.join("__config_site").is_file() {
        return EntryState::Damaged(format!("{include}/__config_site is missing"));
    }
    EntryState::Good(CxxRuntime {
        include,
        libdir: plan.entry.join("lib"),
        compiler: plan.compiler.clone(),
        origin: plan.entry.to_string(),
    })
}

/// The exception-enabled C++ runtime of `sdk` for `target` if it is there:
/// the SDK's own, or a complete, undamaged cache entry. Builds nothing.
pub fn find(sdk: &WasiSdk, target: WasiTarget) -> Option<CxxRuntime> {
    if let Some(rt) = sdk_own_runtime(sdk, target) {
        return Some(rt);
    }
    let plan = plan(sdk, target).ok()?;
    match check_entry(&plan) {
        EntryState::Good(rt) => Some(rt),
        _ => None,
    }
}

/// Whether `sdk` has an exception-enabled C++ runtime for `target`, for
/// `wasiwheel sdk list`: `Ok(where it is)`, or `Err(why not)`: not built
/// yet (with what it would be built from and how) or not possible here
/// (the reason of [`plan`]).
pub fn describe(sdk: &WasiSdk, target: WasiTarget) -> std::result::Result<String, String> {
    if let Some(why) = target_limit(target) {
        return Err(why.to_string());
    }
    if let Some(rt) = find(sdk, target) {
        return Ok(rt.origin);
    }
    match plan(sdk, target) {
        Ok(p) => Err(format!(
            "not built yet (from LLVM {} with {}; built on first use, or by `wasiwheel sdk install`)",
            p.source.version, p.compiler.clang
        )),
        Err(e) => Err(e.to_string()),
    }
}

/// The exception-enabled C++ runtime of `sdk` for `target`: [`find`], else
/// built now ([`build`]) and cached. A damaged cache entry (a library whose
/// sha256 is not its record's, a missing record or header) is removed and
/// built again.
///
/// Errors: as [`plan`] and [`build`].
pub fn ensure(sdk: &WasiSdk, target: WasiTarget) -> Result<CxxRuntime> {
    if let Some(rt) = sdk_own_runtime(sdk, target) {
        return Ok(rt);
    }
    let plan = plan(sdk, target)?;
    let _lock = cache::lock(&format!("cxx-eh-{}", plan.entry.file_name().unwrap_or("entry")))?;
    match check_entry(&plan) {
        EntryState::Good(rt) => return Ok(rt),
        EntryState::Damaged(why) => {
            progress::status(&format!(
                "the cached C++ runtime at {} is damaged ({why}): building it again",
                plan.entry
            ));
            cache::remove_entry(&plan.entry)?;
        }
        EntryState::Missing => {}
    }
    build(sdk, target, &plan)?;
    match check_entry(&plan) {
        EntryState::Good(rt) => Ok(rt),
        EntryState::Damaged(why) => Err(Error::Toolchain(format!("the C++ runtime just built is incomplete: {why}"))),
        EntryState::Missing => Err(Error::Toolchain(format!("the C++ runtime was not stored at {}", plan.entry))),
    }
}

/// The runtime a build compiles C++ against: with `wanted` (the
/// `cxx-exceptions` setting), [`ensure`]d, provisioned on first use; `None`
/// when not wanted, or when this SDK and host cannot have one, which is said
/// once on the build's output with the reason (C++ is then compiled with
/// `-fno-exceptions`, and code that throws is refused with a hint).
///
/// Errors: as [`build`], when the runtime can be built here but building it fails.
pub fn for_build(sdk: &WasiSdk, target: WasiTarget, wanted: bool) -> Result<Option<CxxRuntime>> {
    if !wanted {
        return Ok(None);
    }
    if let Some(why) = target_limit(target) {
        progress::status(&format!(
            "C++ is compiled with -fno-exceptions and setjmp/longjmp is refused for {target}: {why}"
        ));
        return Ok(None);
    }
    if sdk_own_runtime(sdk, target).is_none() {
        if let Err(why) = plan(sdk, target) {
            progress::status(&format!(
                "C++ is compiled with -fno-exceptions, so code that throws will not build: {why}"
            ));
            return Ok(None);
        }
    }
    ensure(sdk, target).map(Some)
}

/// Why `target` cannot use WebAssembly exception handling whatever the SDK,
/// or `None`. wasm32-wasip2 extensions are dylibs for componentize-py,
/// which links them into its component with wasi-sdk's no-exception
/// `libc++.so`/`libc++abi.so` (the SDK's `lib/wasm32-wasip2/noeh`, see its
/// build.rs) and ships neither libunwind nor libsetjmp: the `__cpp_exception`
/// tag, `_Unwind_*` and `__wasm_setjmp` such a dylib imports would be
/// missing there.
pub fn target_limit(target: WasiTarget) -> Option<&'static str> {
    match target {
        WasiTarget::P2 => Some(
            "its extensions are dylibs that componentize-py links with wasi-sdk's no-exception libc++.so and \
             libc++abi.so (lib/wasm32-wasip2/noeh) and without libunwind or libsetjmp, so a dylib that throws or \
             jumps could not be loaded there; build for wasm32-wasip1 (`wasiwheel component` links its \
             extensions with exception-enabled runtimes) or compile the code without exceptions",
        ),
        WasiTarget::P1 => None,
    }
}

/// The exnref compiler that C calling setjmp/longjmp is compiled with
/// (by the cross-build's `sjlj_compiler`): needs no C++ runtime,
/// only [`exnref_compiler`] and wasi-libc's `libsetjmp`. `None` when not
/// `wanted` (`-C cxx-exceptions=false`), for a [`target_limit`]ed target,
/// or when no exnref compiler is installed.
pub fn for_sjlj(sdk: &WasiSdk, target: WasiTarget, wanted: bool) -> Option<ExnrefCompiler> {
    if !wanted || target_limit(target).is_some() {
        return None;
    }
    exnref_compiler(sdk)
}

/// What the runtime's C++ sources of LLVM 22+ see for `copy_file_range`, which
/// WASI does not have: a call that fails with `ENOSYS`, after which libc++
/// copies with streams (its `copy_file_impl`).
const COPY_FILE_RANGE_STANDIN: &str = "#include <errno.h>\n#include <sys/types.h>\n\
    static inline ssize_t copy_file_range(int in_fd, off_t *in_off, int out_fd, off_t *out_off, size_t len,\n\
    unsigned flags) {\n  (void)in_fd; (void)in_off; (void)out_fd; (void)out_off; (void)len; (void)flags;\n\
    errno = ENOSYS;\n  return -1;\n}\n";

/// Run `cmd` with its output appended to `log` ([`crate::toolchain::logged_step`]).
fn run_logged(cmd: Command, log: &Utf8Path, what: &str) -> Result<()> {
    crate::toolchain::logged_step(cmd, log, false, "the exception-enabled C++ runtimes", what)
}

/// Build libunwind, libc++abi and libc++ for `sdk` and `target` as `plan`
/// says, into its cache entry: fetch the pinned LLVM source (upstream
/// tarball from Debian), unpack the runtimes' directories, configure LLVM's
/// `runtimes` CMake project for WASI with the exnref compiler (Ninja, or
/// make), build and install, add the `__cpp_exception` tag definition to
/// `libunwind.a` (LLVM 21+ compilers leave it to the runtime; LLVM 19's
/// libunwind does not define it), and write `RECORD.json`. The work happens in
/// a staging directory that is renamed into place only when complete; on
/// any failure nothing is left in the cache but the downloaded source.
///
/// Errors: [`Error::Toolchain`] when `cmake` is not installed (naming the
/// packages), the source cannot be fetched, or a step fails (with its log's
/// last lines).
pub fn build(sdk: &WasiSdk, target: WasiTarget, plan: &Plan) -> Result<()> {
    let cmake = crate::toolchain::which("cmake").ok_or_else(|| {
        Error::Toolchain(
            "building exception-enabled C++ runtimes needs CMake (3.20 or newer) and Ninja or make: install \
             Debian's `cmake ninja-build` (or `pip install cmake ninja`), or build with `-C cxx-exceptions=false`"
                .into(),
        )
    })?;
    let ninja = crate::toolchain::which("ninja");
    let wanted = Wanted {
        what: format!("LLVM {} source", plan.source.version),
        pin: plan.source.pin,
        origin: Origin {
            urls: Vec::new(),
            debian: Some(DebianSource {
                spec: plan.source.debian_spec.to_string(),
                suite: plan.source.suite,
                file: plan.source.pin.file.to_string(),
            }),
        },
    };
    let tarball = sources::fetch("llvm", &[wanted])?.remove(0);
    let parent = cache::dir("cxx-eh")?;
    let name = plan.entry.file_name().unwrap_or("entry").to_string();
    let staging = crate::files::staging_dir(&parent, &name)?;
    let out = Utf8Path::from_path(staging.path()).expect("cache paths are UTF-8").to_path_buf();
    // The build tree: removed when this function returns, whatever happens.
    let work_dir = crate::files::staging_dir(&parent, &format!("{name}-work"))?;
    let work = Utf8Path::from_path(work_dir.path()).expect("cache paths are UTF-8").to_path_buf();
    let log = work.join("build.log");
    let jobs = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let step = progress::Step::start(format!(
        "building exception-enabled libunwind, libc++abi and libc++ (LLVM {}, {}) for {} {target} (once; about \
         a minute on 2 cores)",
        plan.source.version, plan.compiler.clang, sdk.identity
    ));
    step.set("unpacking the LLVM source (runtimes, libunwind, libcxxabi, libcxx, cmake)");
    // The tarball's top directory is its name without `.orig.tar.xz` (`llvm-toolchain-19_19.1.7`).
    let top = plan.source.pin.file.trim_end_matches(".orig.tar.xz").to_string();
    let mut tar = Command::new("tar");
    tar.arg("-xJf").arg(tarball.as_str()).arg("-C").arg(work.as_str());
    tar.args(["--wildcards", "--exclude=*/test", "--exclude=*/benchmarks"]);
    for d in
        ["runtimes", "libunwind", "libcxxabi", "libcxx", "cmake", "llvm/cmake", "llvm/utils/llvm-lit", "third-party"]
    {
        tar.arg(format!("{top}/{d}"));
    }
    if plan.source.major >= 22 {
        // libc++'s floating-point from_chars uses LLVM libc's shared headers.
        tar.arg(format!("{top}/libc"));
    }
    run_logged(tar, &log, &format!("tar -xJf {tarball}"))?;
    let src = work.join(&top);
    if !src.join("runtimes/CMakeLists.txt").is_file() {
        return Err(Error::Toolchain(format!("{tarball} has no {top}/runtimes/CMakeLists.txt: not an LLVM source")));
    }
    // CMake knows no WASI platform before 3.31; LLVM's runtimes only need it to exist.
    let platform = work.join("cmake-modules/Platform");
    std::fs::create_dir_all(&platform).context(|| format!("cannot create {platform}"))?;
    std::fs::write(platform.join("WASI.cmake"), "set(WASI 1)\nset(UNIX 1)\nset(CMAKE_EXECUTABLE_SUFFIX \".wasm\")\n")
        .context(|| format!("cannot write {platform}/WASI.cmake"))?;
    let flags = {
        let mut f = plan.compiler.target_args(sdk, target);
        f.extend(CXX_EH_FLAGS.iter().map(|s| s.to_string()));
        f.push("-fPIC".into());
        f.push(format!("-D{PTHREAD_DEFINE}"));
        f.join(" ")
    };
    let mut cxx_flags = flags.clone();
    if plan.source.major >= 22 {
        // libc++ 22 calls copy_file_range on musl, which wasi-libc lacks; its
        // std::filesystem::copy_file falls back to streams on ENOSYS.
        let h = work.join("wasi_copy_file_range.h");
        std::fs::write(&h, COPY_FILE_RANGE_STANDIN).context(|| format!("cannot write {h}"))?;
        cxx_flags.push_str(&format!(" -include {h}"));
    }
    let ar = sdk.ar();
    let build_dir = work.join("build");
    step.set("configuring LLVM's runtimes (CMake)");
    let mut c = Command::new(&cmake);
    c.arg("-S").arg(src.join("runtimes").as_str()).arg("-B").arg(build_dir.as_str());
    c.args(if ninja.is_some() { ["-G", "Ninja"] } else { ["-G", "Unix Makefiles"] });
    let defs: Vec<(&str, String)> = vec![
        ("CMAKE_MODULE_PATH", work.join("cmake-modules").to_string()),
        ("CMAKE_SYSTEM_NAME", "WASI".into()),
        ("CMAKE_SYSTEM_VERSION", "1".into()),
        ("CMAKE_SYSTEM_PROCESSOR", "wasm32".into()),
        ("CMAKE_BUILD_TYPE", "Release".into()),
        ("CMAKE_C_COMPILER", plan.compiler.clang.to_string()),
        ("CMAKE_CXX_COMPILER", plan.compiler.clangxx.to_string()),
        ("CMAKE_AR", ar.to_string()),
        ("CMAKE_RANLIB", sdk.root.join("bin/llvm-ranlib").to_string()),
        ("CMAKE_C_COMPILER_WORKS", "ON".into()),
        ("CMAKE_CXX_COMPILER_WORKS", "ON".into()),
        ("CMAKE_C_COMPILER_TARGET", target.triple().into()),
        ("CMAKE_CXX_COMPILER_TARGET", target.triple().into()),
        ("CMAKE_SYSROOT", sdk.sysroot().to_string()),
        ("CMAKE_C_FLAGS", flags.clone()),
        ("CMAKE_CXX_FLAGS", cxx_flags),
        ("CMAKE_INSTALL_PREFIX", out.to_string()),
        ("CMAKE_POSITION_INDEPENDENT_CODE", "ON".into()),
        ("LLVM_ENABLE_RUNTIMES", "libunwind;libcxxabi;libcxx".into()),
        ("LLVM_COMPILER_CHECKED", "ON".into()),
        ("UNIX", "ON".into()),
        // std::mutex, std::recursive_mutex, std::call_once and friends on
        // wasi-libc's pthread API (single-threaded stubs on wasm32-wasip1;
        // std::thread's pthread_create fails at run time, as CPython's does).
        ("LIBCXX_ENABLE_THREADS", "ON".into()),
        ("LIBCXX_HAS_PTHREAD_API", "ON".into()),
        ("LIBCXX_ENABLE_SHARED", "OFF".into()),
        ("LIBCXX_ENABLE_EXCEPTIONS", "ON".into()),
        ("LIBCXX_ENABLE_FILESYSTEM", "ON".into()),
        ("LIBCXX_CXX_ABI", "libcxxabi".into()),
        ("LIBCXX_HAS_MUSL_LIBC", "ON".into()),
        ("LIBCXX_ABI_VERSION", "2".into()),
        ("LIBCXX_INCLUDE_TESTS", "OFF".into()),
        ("LIBCXX_INCLUDE_BENCHMARKS", "OFF".into()),
        ("LIBCXX_ENABLE_ABI_LINKER_SCRIPT", "OFF".into()),
        ("LIBCXXABI_ENABLE_EXCEPTIONS", "ON".into()),
        ("LIBCXXABI_ENABLE_SHARED", "OFF".into()),
        ("LIBCXXABI_ENABLE_THREADS", "OFF".into()),
        ("LIBCXXABI_USE_LLVM_UNWINDER", "ON".into()),
        ("LIBCXXABI_INCLUDE_TESTS", "OFF".into()),
        ("LIBUNWIND_ENABLE_SHARED", "OFF".into()),
        ("LIBUNWIND_ENABLE_THREADS", "OFF".into()),
        ("LIBUNWIND_INCLUDE_TESTS", "OFF".into()),
        ("LIBUNWIND_USE_COMPILER_RT", "ON".into()),
        // Without these libunwind's export macro becomes `__declspec` on wasm, and
        // assertions need its logging functions.
        ("LIBUNWIND_HIDE_SYMBOLS", "ON".into()),
        ("LIBUNWIND_ENABLE_ASSERTIONS", "OFF".into()),
    ];
    for (k, v) in defs {
        c.arg(format!("-D{k}={v}"));
    }
    run_logged(c, &log, "cmake (configuring LLVM's runtimes for WASI)")?;
    step.set(&format!("compiling libunwind, libc++abi and libc++ ({jobs} jobs)"));
    let mut b = Command::new(&cmake);
    b.arg("--build").arg(build_dir.as_str()).arg("-j").arg(jobs.to_string());
    b.args(["--target", "install-unwind", "install-cxxabi", "install-cxx"]);
    run_logged(b, &log, "cmake --build (compiling and installing the runtimes)")?;
    step.set("adding the __cpp_exception tag to libunwind.a");
    let lib = out.join("lib");
    let tag_src = work.join("cpp_exception_tag.S");
    // The tag C++ `throw` and `catch` refer to: one i32 (the exception object's address).
    std::fs::write(&tag_src, ".globl __cpp_exception\n.tagtype __cpp_exception i32\n__cpp_exception:\n")
        .context(|| format!("cannot write {tag_src}"))?;
    let tag_obj = work.join("cpp_exception_tag.o");
    let mut cc = Command::new(&plan.compiler.clang);
    cc.args(plan.compiler.target_args(sdk, target)).args(["-mexception-handling", "-c"]);
    cc.arg(tag_src.as_str()).arg("-o").arg(tag_obj.as_str());
    run_logged(cc, &log, "compiling the __cpp_exception tag")?;
    let unwind = lib.join("libunwind.a");
    // libunwind's register save/restore sources are empty for wasm; their
    // members are not wasm objects and would make wasm-ld warn on every link.
    let mut del = Command::new(&ar);
    del.arg("d").arg(unwind.as_str()).args(["UnwindRegistersRestore.S.o", "UnwindRegistersSave.S.o"]);
    run_logged(del, &log, "llvm-ar d libunwind.a")?;
    let mut add = Command::new(&ar);
    add.arg("rsD").arg(unwind.as_str()).arg(tag_obj.as_str());
    run_logged(add, &log, "llvm-ar rs libunwind.a")?;
    for l in LIBRARIES {
        if !lib.join(l).is_file() {
            return Err(Error::Toolchain(format!("the runtimes build installed no {l} in {lib} (log: see above)")));
        }
    }
    let record = Record {
        recipe: RECIPE.into(),
        llvm_source: format!("{} ({}, sha256 {})", plan.source.version, plan.source.pin.file, plan.source.pin.sha256),
        compiler: plan.compiler.clone(),
        libraries: LIBRARIES
            .iter()
            .map(|l| Ok((l.to_string(), crate::files::sha256_file(&lib.join(l))?)))
            .collect::<Result<_>>()?,
    };
    let rec = out.join("RECORD.json");
    std::fs::write(&rec, serde_json::to_string_pretty(&record).expect("serializable"))
        .context(|| format!("cannot write {rec}"))?;
    crate::files::commit(staging, &plan.entry)?;
    step.done();
    Ok(())
}

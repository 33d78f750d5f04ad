//! One definition for the symbols that CPython and wasi-libc both define.
//!
//! A target CPython built without wasi-libc's pthread emulation (CPython's own
//! WASI build: `HAVE_PTHREAD_STUBS`) defines a minimal pthread API of its own
//! in libpython's `thread.o` (CPython's `Python/thread_pthread_stubs.h`:
//! `pthread_mutex_*`, `pthread_cond_*` but `broadcast`, `pthread_key_*`,
//! `pthread_create`, `pthread_exit`, …). wasi-libc defines the same names in
//! `libc.a` and `libwasi-emulated-pthread.a`. A linker takes an archive member
//! whole, and WASI SDK 25's wasi-libc keeps several functions in one member:
//! `condvar.o` defines every `pthread_cond_*`, `stub-pthreads-good.o` both
//! `pthread_once` and `pthread_exit`. So an extension compiled with
//! `-D_WASI_EMULATED_PTHREAD` that calls one function CPython lacks
//! (`pthread_cond_broadcast`, `pthread_once`) pulls in a member whose other
//! definitions duplicate CPython's, and wasm-ld stops with "duplicate symbol".
//! (SDK 33's wasi-libc, like musl upstream, has one function per member.)
//!
//! The rule: where CPython's archives (libpython and CPython's own static
//! libraries) define a symbol strongly, that definition serves the whole
//! program, the interpreter and every extension alike; wasi-libc's copy in a
//! member becomes weak, so the member adds only what CPython lacks. Why this
//! one definition:
//!
//! * It is what the link already gives, without conflict, whenever the
//!   extension needs nothing beyond what CPython defines (every call then
//!   binds to CPython's), and what one-function members give: the result no
//!   longer depends on how a wasi-libc release groups functions into members.
//! * CPython was built and tested with its definitions and keeps state in them
//!   (its thread-local keys live in `_PyRuntime`); the relinked interpreter
//!   behaves as the unrelinked one, whatever the extensions pull in.
//! * A strong definition beats weak ones whatever the order of the inputs, so
//!   exactly one strong definition is left for each name.
//!
//! The alternatives are worse: `--allow-multiple-definition` keeps whichever
//! definition comes first on the command line and hides every other duplicate
//! too; weakening CPython's copies instead would switch the interpreter to
//! wasi-libc's implementation (whose `pthread_cond_wait` traps, and whose
//! `pthread_cond_timedwait` refuses a mutex CPython's `pthread_mutex_lock`
//! locked) only in the relinks that happen to pull such a member in.
//!
//! How: each member of wasi-libc's archives (the SDK sysroot's `lib*.a` for
//! the target, the C++ runtime aside) that strongly defines a symbol CPython's
//! archives strongly define, and defines something CPython does not (a member
//! without the latter is never needed), is copied with those symbols' binding
//! made weak ([`objlink::rewrite_symbols`]: only the `linking` section's
//! symbol table changes) into one archive, which the relink puts after
//! CPython's archives and before wasi-libc's libraries. lld takes a lazily
//! linked symbol from the first archive on its command line that defines it,
//! so an undefined `pthread_cond_broadcast` fetches the weakened copy, never
//! the original member (every name of which the copy defines too). The archive
//! is cached under the cache's `overlap/`, keyed by the content of every input.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use camino::{Utf8Path, Utf8PathBuf};
use object::read::archive::ArchiveFile;
use serde::{Deserialize, Serialize};
use wasmparser::SymbolFlags;

use crate::crossbuild::objlink;
use crate::error::{Error, IoContext, Result};
use crate::model::target::WasiTarget;
use crate::toolchain::cache;
use crate::toolchain::sdk::WasiSdk;

/// Identifies how [`libc_overlap`] derives its archive, in its cache key.
const RECIPE: &str = "libc-overlap/2";

/// A member of a wasi-libc archive that strongly defines symbols CPython's archives define too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateMember {
    /// The wasi-libc archive's file name (`libc.a`).
    pub archive: String,
    /// The member's name (`condvar.o`).
    pub member: String,
    /// The symbols whose CPython definitions serve instead of the member's, sorted.
    pub symbols: Vec<String>,
}

impl DuplicateMember {
    fn describe(&self) -> String {
        format!("{}({}): {}", self.archive, self.member, self.symbols.join(", "))
    }
}

/// What [`libc_overlap`] found for one target CPython and SDK.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overlap {
    /// The archive of weakened copies, to link after CPython's archives and
    /// before wasi-libc's libraries; `None` when no member needs one.
    #[serde(skip)]
    pub archive: Option<Utf8PathBuf>,
    /// The members copied weakened into [`Overlap::archive`] (they define
    /// something CPython lacks too), in archive and member order.
    pub weakened: Vec<DuplicateMember>,
    /// The members every global definition of which CPython's archives have:
    /// never linked (CPython's archives come first and win), left alone.
    pub unneeded: Vec<DuplicateMember>,
}

impl Overlap {
    /// What was found, one member after another
    /// (`libc.a(condvar.o): pthread_cond_init, …`), for verbose output.
    pub fn describe(&self) -> String {
        let list = |v: &[DuplicateMember]| v.iter().map(DuplicateMember::describe).collect::<Vec<_>>().join("; ");
        let mut s =
            format!("CPython's definitions serve for what wasi-libc's members also define: {}", list(&self.weakened));
        if !self.unneeded.is_empty() {
            s.push_str(&format!(" (never linked, CPython has all they define: {})", list(&self.unneeded)));
        }
        s
    }
}

/// The members of the `ar` archive `data` (GNU, BSD and COFF variants, read
/// with the `object` crate), without its symbol index and name table:
/// (name, contents). `what` names the archive in errors.
///
/// Errors: [`Error::Toolchain`] when `data` is not an archive, is a thin
/// archive (its members are separate files) or is cut short.
fn ar_members<'a>(data: &'a [u8], what: &str) -> Result<Vec<(String, &'a [u8])>> {
    let bad =
        |why: &dyn std::fmt::Display| Error::Toolchain(format!("{what} is not an archive wasiwheel can read: {why}"));
    let archive = ArchiveFile::parse(data).map_err(|e| bad(&e))?;
    if archive.is_thin() {
        return Err(bad(&"it is a thin archive (its members are separate files)"));
    }
    archive
        .members()
        .map(|m| {
            let m = m.map_err(|e| bad(&e))?;
            Ok((String::from_utf8_lossy(m.name()).into_owned(), m.data(data).map_err(|e| bad(&e))?))
        })
        .collect()
}

/// True for a relocatable WebAssembly object (not LLVM bitcode, not an empty member).
fn is_wasm(contents: &[u8]) -> bool {
    contents.starts_with(b"\0asm")
}

/// wasi-libc's archives for `target` in `sdk`'s sysroot: every `lib*.a` but
/// the C++ runtime's (`libc++*`, `libunwind*`), sorted by name.
///
/// Errors: [`Error::Toolchain`] when the sysroot has no library directory for `target`.
fn libc_archives(sdk: &WasiSdk, target: WasiTarget) -> Result<Vec<Utf8PathBuf>> {
    let dir = sdk.sysroot().join("lib").join(target.sysroot_subdir());
    let rd = std::fs::read_dir(&dir).map_err(|e| {
        Error::Toolchain(format!(
            "the WASI SDK at {} has no libraries for {target} ({dir}: {e}): reinstall it with `wasiwheel sdk install`",
            sdk.root
        ))
    })?;
    let mut out: Vec<Utf8PathBuf> = rd
        .flatten()
        .filter_map(|e| Utf8PathBuf::from_path_buf(e.path()).ok())
        .filter(|p| {
            let n = p.file_name().unwrap_or("");
            n.starts_with("lib") && n.ends_with(".a") && !n.starts_with("libc++") && !n.starts_with("libunwind")
        })
        .collect();
    out.sort();
    Ok(out)
}

/// The names CPython's `archives` define strongly (defined, global, not weak).
///
/// Errors: [`Error::Io`] when an archive cannot be read; [`Error::Toolchain`]
/// when one is not an archive or holds a malformed WebAssembly object.
fn strong_definitions(archives: &[Utf8PathBuf]) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for a in archives {
        let data = std::fs::read(a).context(|| format!("cannot read {a}"))?;
        for (member, contents) in ar_members(&data, a.as_str())? {
            if !is_wasm(contents) {
                continue;
            }
            for s in objlink::symbols(contents, &format!("{a}({member})"))? {
                if s.is_defined_global() && !s.flags.contains(SymbolFlags::BINDING_WEAK) {
                    out.extend(s.name.map(str::to_string));
                }
            }
        }
    }
    Ok(out)
}

/// What one wasi-libc member duplicates of CPython's definitions.
struct Duplicates {
    /// The names it defines strongly that CPython's archives define strongly, sorted.
    symbols: Vec<String>,
    /// Its copy with those names made weak, when it defines something else
    /// too (so that a link may need it); `None` when CPython has all it defines.
    weakened: Option<Vec<u8>>,
}

/// What the member `contents` (named `what` in errors) duplicates of
/// `cpython`'s names; `None` when it strongly defines none of them.
///
/// Errors: as [`objlink::symbols`].
fn duplicates(contents: &[u8], cpython: &BTreeSet<String>, what: &str) -> Result<Option<Duplicates>> {
    let syms = objlink::symbols(contents, what)?;
    let dup = |s: &objlink::Symbol<'_>| {
        s.is_defined_global()
            && !s.flags.contains(SymbolFlags::BINDING_WEAK)
            && s.name.is_some_and(|n| cpython.contains(n))
    };
    let symbols: Vec<String> = syms
        .iter()
        .filter(|s| dup(s))
        .filter_map(|s| s.name.map(str::to_string))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if symbols.is_empty() {
        return Ok(None);
    }
    let adds = syms.iter().any(|s| s.is_defined_global() && !s.name.is_some_and(|n| cpython.contains(n)));
    if !adds {
        return Ok(Some(Duplicates { symbols, weakened: None }));
    }
    let (object, _) = objlink::rewrite_symbols(contents, what, false, |s| {
        if dup(s) {
            (s.flags | SymbolFlags::BINDING_WEAK, None)
        } else {
            (s.flags, None)
        }
    })?;
    Ok(Some(Duplicates { symbols, weakened: Some(object) }))
}

/// The wasi-libc members of `sdk` (for `target`) that duplicate definitions
/// of CPython's archives `cpython` (libpython, then CPython's own static
/// libraries), those that need it weakened into one archive as the module
/// docs describe, from the cache when the same inputs were seen before.
///
/// Errors: [`Error::Io`] when an input cannot be read or the cache written;
/// [`Error::Toolchain`] when an input is not an archive of WebAssembly objects
/// wasiwheel can read (naming it), or the SDK's `llvm-ar` fails.
pub fn libc_overlap(sdk: &WasiSdk, target: WasiTarget, cpython: &[Utf8PathBuf], verbose: bool) -> Result<Overlap> {
    let libc = libc_archives(sdk, target)?;
    let mut key = format!("{RECIPE}\n{target}\n");
    for a in cpython.iter().chain(&libc) {
        key.push_str(&format!("{} {}\n", a.file_name().unwrap_or(""), crate::files::sha256_file(a)?));
    }
    let key = &crate::files::sha256_hex(key.as_bytes())[..24];
    let dest = cache::dir("overlap")?.join(key);
    let report = dest.join("overlap.json");
    let cached = |report: &Utf8Path| {
        let text = std::fs::read_to_string(report).ok()?;
        let found: Overlap = serde_json::from_str(&text).ok()?;
        Some(Overlap { archive: Some(dest.join("overlap.a")).filter(|a| a.exists()), ..found })
    };
    if let Some(found) = cached(&report) {
        return Ok(found);
    }
    let staging = crate::files::staging_dir(&cache::dir("overlap")?, key)?;
    let s = Utf8Path::from_path(staging.path()).expect("UTF-8").to_path_buf();
    let found = write_overlap(sdk, &libc, &strong_definitions(cpython)?, &s, verbose)?;
    std::fs::write(s.join("overlap.json"), serde_json::to_vec_pretty(&found).expect("serialisable"))
        .context(|| format!("cannot write {s}/overlap.json"))?;
    if crate::files::commit(staging, &dest).is_err() && !report.exists() {
        return Err(Error::Other(format!("cannot store wasi-libc's weakened members at {dest}")));
    }
    cached(&report).ok_or_else(|| Error::Other(format!("cannot read back {report}")))
}

/// Write `dir/overlap.a`, the weakened copies of the members of `libc` that
/// duplicate `cpython`'s strong definitions and define something else too
/// (no archive when none do). Returns what was found (without the archive's path).
fn write_overlap(
    sdk: &WasiSdk,
    libc: &[Utf8PathBuf],
    cpython: &BTreeSet<String>,
    dir: &Utf8Path,
    verbose: bool,
) -> Result<Overlap> {
    let mut found = Overlap::default();
    let mut files = Vec::new();
    let mut taken: BTreeMap<String, usize> = BTreeMap::new();
    for a in libc {
        let data = std::fs::read(a).context(|| format!("cannot read {a}"))?;
        let archive = a.file_name().unwrap_or("").to_string();
        for (member, contents) in ar_members(&data, a.as_str())? {
            if !is_wasm(contents) {
                continue;
            }
            let Some(d) = duplicates(contents, cpython, &format!("{a}({member})"))? else { continue };
            let Some(object) = d.weakened else {
                found.unneeded.push(DuplicateMember { archive: archive.clone(), member, symbols: d.symbols });
                continue;
            };
            // Unique file names (llvm-ar stores base names): `libc.condvar.o`.
            let stem = archive.trim_end_matches(".a");
            let n = taken.entry(format!("{stem}.{member}")).or_insert(0);
            *n += 1;
            let file = dir.join(if *n == 1 { format!("{stem}.{member}") } else { format!("{stem}.{n}.{member}") });
            std::fs::write(&file, object).context(|| format!("cannot write {file}"))?;
            files.push(file);
            found.weakened.push(DuplicateMember { archive: archive.clone(), member, symbols: d.symbols });
        }
    }
    if files.is_empty() {
        return Ok(found);
    }
    let out = dir.join("overlap.a");
    let mut cmd = Command::new(sdk.ar());
    cmd.arg("qcsD").arg(&out).args(files.iter().map(|f| f.as_str()));
    if verbose {
        crate::progress::status(&format!("{cmd:?}"));
    }
    let o = cmd.output().map_err(|e| Error::Toolchain(format!("cannot run {}: {e}", sdk.ar())))?;
    if !o.status.success() {
        return Err(Error::ToolFailed {
            what: "archiving wasi-libc's members with CPython's duplicates weakened".into(),
            status: o.status.to_string(),
            output: String::from_utf8_lossy(&o.stderr).trim_end().to_string(),
            command: format!("{cmd:?}"),
        });
    }
    for f in &files {
        let _ = std::fs::remove_file(f);
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_members_are_read() {
        // A GNU archive by hand: a symbol index, a long-name table, a long and a short name.
        let mut a = b"!<arch>\n".to_vec();
        let mut member = |name: &str, body: &[u8]| {
            a.extend(format!("{name:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n", 0, 0, 0, 644, body.len()).as_bytes());
            a.extend(body);
            if body.len() % 2 == 1 {
                a.push(b'\n');
            }
        };
        member("/", b"\0\0\0\0");
        member("//", b"a-very-long-member-name.o/\n");
        member("/0", b"long");
        member("short.o/", b"odd");
        member("#1/8", b"bsd.o\0\0\0data");
        let members = ar_members(&a, "t.a").unwrap();
        let got: Vec<(&str, &[u8])> = members.iter().map(|(n, d)| (n.as_str(), *d)).collect();
        assert_eq!(
            got,
            vec![("a-very-long-member-name.o", &b"long"[..]), ("short.o", &b"odd"[..]), ("bsd.o", &b"data"[..])]
        );
        let e = ar_members(b"!<thin>\n", "thin.a").unwrap_err().to_string();
        assert!(e.contains("thin.a is not an archive") && e.contains("thin archive"), "{e}");
        let e = ar_members(b"PK\x03\x04", "z.a").unwrap_err().to_string();
        assert!(e.starts_with("z.a is not an archive wasiwheel can read"), "{e}");
    }

    /// The cached SDK 25 equivalent, or `None` (skipped, with a message)
    /// outside CI; in CI (`CI` set) its absence fails the test.
    fn sdk() -> Option<WasiSdk> {
        let root = crate::toolchain::cache::root().expect("cache root").join("sdk/wasi-sdk-25-debian");
        if !root.join("bin/clang").exists() {
            let why = format!("missing test input {root} (.ci/setup installs the WASI SDK 25 equivalent)");
            assert!(std::env::var_os("CI").is_none(), "{why}");
            eprintln!("skipped: {why}");
            return None;
        }
        Some(WasiSdk::open(&root).expect("open the SDK"))
    }

    /// CPython's pthread stubs in miniature (as `Python/thread_pthread_stubs.h`):
    /// what libpython's `thread.o` defines besides wasi-libc.
    const STUBS: &str = "#include <pthread.h>\n#include <stdlib.h>\n\
        int pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *a) { return 0; }\n\
        int pthread_cond_destroy(pthread_cond_t *c) { return 0; }\n\
        int pthread_cond_signal(pthread_cond_t *c) { return 0; }\n\
        int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m) { return 0; }\n\
        int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *t) { return 0; }\n\
        int pthread_mutex_lock(pthread_mutex_t *m) { return 0; }\n\
        int pthread_mutex_unlock(pthread_mutex_t *m) { return 0; }\n\
        _Noreturn void pthread_exit(void *r) { exit(7); }\n";

    /// An extension's calls: a function CPython lacks from each conflicting
    /// wasi-libc member (`pthread_cond_broadcast`, `pthread_once`) beside
    /// CPython's own; the exit status tells whose `pthread_cond_wait` ran.
    const PROGRAM: &str = "#include <pthread.h>\n\
        static pthread_once_t once = PTHREAD_ONCE_INIT;\nstatic int n;\nstatic void init(void) { n++; }\n\
        int main(void) {\n  pthread_cond_t c; pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;\n\
          int r = pthread_cond_init(&c, 0) + pthread_mutex_lock(&m) + pthread_cond_broadcast(&c);\n\
          pthread_once(&once, init); pthread_once(&once, init);\n\
          r += pthread_cond_signal(&c) + pthread_cond_wait(&c, &m) + pthread_mutex_unlock(&m);\n\
          return r == 0 && n == 1 ? 42 : 1;\n}\n";

    fn compile(sdk: &WasiSdk, dir: &Utf8Path, name: &str, code: &str) -> Utf8PathBuf {
        let src = dir.join(name);
        std::fs::write(&src, code).unwrap();
        let obj = dir.join(format!("{name}.o"));
        let o = Command::new(sdk.clang())
            .args(["--target=wasm32-wasip1", "-O1", "-D_WASI_EMULATED_PTHREAD", "-c"])
            .arg(&src)
            .arg("-o")
            .arg(&obj)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        obj
    }

    /// The duplicates of SDK 25 are found and weakened; the program that
    /// does not link against plain wasi-libc links with the weakened
    /// members, and CPython's definition is the one that runs.
    #[cfg(feature = "run")]
    #[test]
    fn duplicates_of_cpython_definitions_are_weakened() {
        let Some(sdk) = sdk() else { return };
        let tmp = tempfile::tempdir().unwrap();
        let dir = Utf8Path::from_path(tmp.path()).unwrap();
        let thread = compile(&sdk, dir, "thread.c", STUBS);
        let libpython = dir.join("libfakepython.a");
        let o = Command::new(sdk.ar()).arg("qcsD").arg(&libpython).arg(&thread).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let main = compile(&sdk, dir, "main.c", PROGRAM);
        let link = |extra: Option<&Utf8Path>, out: &str| {
            let mut cmd = Command::new(sdk.clang());
            cmd.arg("--target=wasm32-wasip1").arg(&main).arg(&libpython);
            cmd.args(extra).arg("-lwasi-emulated-pthread").arg("-o").arg(dir.join(out));
            cmd.output().unwrap()
        };
        let o = link(None, "plain.wasm");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains("duplicate symbol: pthread_cond_init"), "{err}");
        assert!(err.contains("duplicate symbol: pthread_exit"), "{err}");

        let found = libc_overlap(&sdk, WasiTarget::P1, std::slice::from_ref(&libpython), false).unwrap();
        let names: Vec<String> = found.weakened.iter().map(|m| format!("{}({})", m.archive, m.member)).collect();
        assert_eq!(names, ["libc.a(condvar.o)", "libc.a(stub-pthreads-good.o)"], "{found:?}");
        let condvar = &found.weakened[0].symbols;
        assert_eq!(condvar, &["pthread_cond_destroy", "pthread_cond_init", "pthread_cond_signal", "pthread_cond_wait"]);
        assert_eq!(found.weakened[1].symbols, ["pthread_exit"]);
        assert!(found.describe().contains("libc.a(condvar.o): pthread_cond_destroy, pthread_cond_init"));
        // Only the binding changed: the weakened copy keeps the member's other definitions.
        let archive = found.archive.clone().expect("an archive of weakened members");
        let data = std::fs::read(&archive).unwrap();
        let members = ar_members(&data, archive.as_str()).unwrap();
        assert_eq!(members.len(), 2);
        let syms = objlink::symbols(members[0].1, "condvar").unwrap();
        let flags = |n: &str| syms.iter().find(|s| s.name == Some(n)).unwrap_or_else(|| panic!("{n}")).flags;
        assert!(flags("pthread_cond_init").contains(SymbolFlags::BINDING_WEAK));
        assert!(!flags("pthread_cond_broadcast").contains(SymbolFlags::BINDING_WEAK));
        wasmparser::Validator::new().validate_all(members[0].1).unwrap();
        // The same inputs again: from the cache.
        assert_eq!(libc_overlap(&sdk, WasiTarget::P1, std::slice::from_ref(&libpython), false).unwrap(), found);

        let o = link(Some(&archive), "one.wasm");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        // CPython's pthread_cond_wait returns 0 (wasi-libc's traps: no other thread can signal).
        let spec = crate::runtime::wasm::RunSpec { args: vec!["one".into()], env: vec![], dirs: vec![] };
        assert_eq!(crate::runtime::wasm::run_module(&dir.join("one.wasm"), &spec).unwrap(), 42);
    }

    /// Nothing CPython lacks, nothing to weaken: a member whose every
    /// definition CPython has is never fetched, and SDK 33's one-function
    /// members are all of that kind.
    #[test]
    fn members_that_add_nothing_are_left_alone() {
        let Some(sdk) = sdk() else { return };
        let tmp = tempfile::tempdir().unwrap();
        let dir = Utf8Path::from_path(tmp.path()).unwrap();
        let only = compile(&sdk, dir, "only.c", "int pthread_mutex_init(void *m, const void *a) { return 0; }\n");
        let data = std::fs::read(&only).unwrap();
        let cpython: BTreeSet<String> = ["pthread_mutex_init".to_string()].into();
        let d = duplicates(&data, &cpython, "only.o").unwrap().expect("a duplicate");
        assert_eq!(d.symbols, ["pthread_mutex_init"]);
        assert!(d.weakened.is_none());
        let none: BTreeSet<String> = ["pthread_spin_init".to_string()].into();
        assert!(duplicates(&data, &none, "only.o").unwrap().is_none());
        let both = compile(
            &sdk,
            dir,
            "both.c",
            "int pthread_mutex_init(void *m, const void *a) { return 0; }\n\
             int pthread_spin_init(void *m, int s) { return 0; }\n",
        );
        let d = duplicates(&std::fs::read(&both).unwrap(), &cpython, "both.o").unwrap().expect("a duplicate");
        assert_eq!(d.symbols, ["pthread_mutex_init"]);
        let syms = objlink::symbols(d.weakened.as_deref().expect("a weakened copy"), "both.o").unwrap();
        let weak = |n: &str| syms.iter().any(|s| s.name == Some(n) && s.flags.contains(SymbolFlags::BINDING_WEAK));
        assert!(weak("pthread_mutex_init") && !weak("pthread_spin_init"));
    }
}

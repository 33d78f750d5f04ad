//! The C libraries behind standard-library modules that a WASI CPython lacks
//! without them (`zlib`, `_bz2`, `_lzma`, `_sqlite3`): their pinned source
//! archives (Debian trixie source packages), checking the sources a user
//! gives against the pins, and building them as static libraries with the
//! SDK that builds CPython, into a prefix that CPython's `configure` is
//! pointed at (its `ZLIB_CFLAGS`/`ZLIB_LIBS`, … variables).
//!
//! The libraries are built by direct compiles of the files their own build
//! systems would compile (no autotools or CMake runs for the target), with
//! the configuration those would find for wasm32-wasip1 (no threads, no
//! assembly). SQLite's amalgamation (`sqlite3.c`) is generated natively from
//! Debian's source tree with its own `configure && make sqlite3.c` (host `cc`
//! and `tclsh`), since Debian ships the full tree rather than the amalgamation.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use crate::error::{did_you_mean, Error, IoContext, Result};
use crate::toolchain::sdk::WasiSdk;
use crate::toolchain::sources::PinnedFile;
use crate::toolchain::sources::{self, DebianSource, Origin, Wanted};

/// A C library that a standard-library module needs, with its pinned sources.
#[derive(Debug)]
pub struct Library {
    /// The name used on the command line (`--with-source NAME=FILE`) and in records.
    pub name: &'static str,
    /// Upstream version.
    pub version: &'static str,
    /// The standard-library extension modules it enables.
    pub modules: &'static [&'static str],
    /// The Debian source package (`name=version`) the files come from.
    pub debian_package: &'static str,
    /// The upstream source (Debian's `.orig` tarball).
    pub orig: PinnedFile,
    /// Debian's packaging tarball with the patches in [`Library::patches`], if any are applied.
    pub debian: Option<PinnedFile>,
    /// Patches from `debian/patches/` applied to the upstream source (security and bug fixes
    /// to library code; the others only touch packaging, programs or manuals).
    pub patches: &'static [&'static str],
    /// The prefix of CPython's `configure` variables (`{PREFIX}_CFLAGS`, `{PREFIX}_LIBS`).
    pub configure_var: &'static str,
    /// The static library written, e.g. `libz.a`.
    pub archive: &'static str,
}

impl Library {
    /// The pinned files this library needs: the upstream source, then Debian's patches.
    pub fn files(&self) -> Vec<PinnedFile> {
        std::iter::once(self.orig).chain(self.debian).collect()
    }
}

/// The pins: one table of every library, version and source sha256
/// (Debian trixie: zlib 1:1.3.dfsg+really1.3.1-1, bzip2 1.0.8-6,
/// xz-utils 5.8.1-1+deb13u1, sqlite3 3.46.1-7+deb13u2).
pub const LIBRARIES: &[Library] = &[
    Library {
        name: "zlib",
        version: "1.3.1",
        modules: &["zlib"],
        debian_package: "zlib=1:1.3.dfsg+really1.3.1-1",
        orig: PinnedFile {
            file: "zlib_1.3.dfsg+really1.3.1.orig.tar.gz",
            sha256: "60dd315c07f616887caa029408308a018ace66e3d142726a97db164b3b8f69fb",
        },
        debian: None,
        patches: &[],
        configure_var: "ZLIB",
        archive: "libz.a",
    },
    Library {
        name: "bzip2",
        version: "1.0.8",
        modules: &["_bz2"],
        debian_package: "bzip2=1.0.8-6",
        orig: PinnedFile {
            file: "bzip2_1.0.8.orig.tar.gz",
            sha256: "ab5a03176ee106d3f0fa90e381da478ddae405918153cca248e682cd0c4a2269",
        },
        debian: None,
        patches: &[],
        configure_var: "BZIP2",
        archive: "libbz2.a",
    },
    Library {
        name: "xz",
        version: "5.8.1",
        modules: &["_lzma"],
        debian_package: "xz-utils=5.8.1-1+deb13u1",
        orig: PinnedFile {
            file: "xz-utils_5.8.1.orig.tar.xz",
            sha256: "0b54f79df85912504de0b14aec7971e3f964491af1812d83447005807513cd9e",
        },
        debian: Some(PinnedFile {
            file: "xz-utils_5.8.1-1+deb13u1.debian.tar.xz",
            sha256: "0e48427971a9ce674ddbba26e34ac1dd009c683f3816ce17852d99dc7b0a8e46",
        }),
        patches: &["0001-liblzma-Fix-a-buffer-overflow-in-lzma_index_append.patch"],
        configure_var: "LIBLZMA",
        archive: "liblzma.a",
    },
    Library {
        name: "sqlite3",
        version: "3.46.1",
        modules: &["_sqlite3"],
        debian_package: "sqlite3=3.46.1-7+deb13u2",
        orig: PinnedFile {
            file: "sqlite3_3.46.1.orig.tar.xz",
            sha256: "d0cdd2ece271b29e7ce18095745d892517ee26d0f270065b3a25c2e9eb11639c",
        },
        debian: Some(PinnedFile {
            file: "sqlite3_3.46.1-7+deb13u2.debian.tar.xz",
            sha256: "59d33bc436258603702bb051d645743ab03612b82f79e7c7d638c65127c21261",
        }),
        patches: &[
            "41-fix_a_bug_in_the_NOT_NULL-IS_NULL_optimization.patch",
            "50-CVE-2025-29087.patch",
            "51-CVE-2025-29088.patch",
            "52-CVE-2025-6965.patch",
            "53-CVE-2025-7709.patch",
            "54-CVE-2026-11822_CVE-2026-11824.patch",
        ],
        configure_var: "LIBSQLITE3",
        archive: "libsqlite3.a",
    },
];

/// Bumped whenever the way the libraries are built changes (flags, file
/// lists), so that cached CPythons built the old way are not reused.
const RECIPE: u32 = 1;

/// What wasiwheel records about a library it built into a target CPython
/// (`libraries` in `wasiwheel-python.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LibraryRecord {
    /// The library (`zlib`, `bzip2`, `xz`, `sqlite3`).
    pub name: String,
    /// Its upstream version.
    pub version: String,
    /// The standard-library modules it enables.
    pub modules: Vec<String>,
    /// sha256 of each source archive it was built from, upstream source first.
    pub sources: Vec<String>,
}

/// The library sources chosen for one CPython build, checked against the pins.
#[derive(Debug, Clone, Default)]
pub struct DepSources {
    /// Each chosen library with its files, in the order of [`Library::files`].
    pub chosen: Vec<(&'static Library, Vec<Utf8PathBuf>)>,
}

impl DepSources {
    /// The records of the chosen libraries (what the built CPython will carry).
    pub fn records(&self) -> Vec<LibraryRecord> {
        self.chosen
            .iter()
            .map(|(l, _)| LibraryRecord {
                name: l.name.into(),
                version: l.version.into(),
                modules: l.modules.iter().map(|m| m.to_string()).collect(),
                sources: l.files().iter().map(|f| f.sha256.to_string()).collect(),
            })
            .collect()
    }

    /// The libraries not chosen (their modules will be missing).
    pub fn missing(&self) -> Vec<&'static Library> {
        LIBRARIES.iter().filter(|l| !self.chosen.iter().any(|(c, _)| c.name == l.name)).collect()
    }

    /// A short key of the chosen sources (their sha256s and the build recipe),
    /// for the cache entry of a CPython built with them; `None` when none are chosen.
    pub fn key(&self) -> Option<String> {
        key_of(&self.records())
    }
}

/// The cache key of a CPython built with `records` (see [`DepSources::key`]).
pub fn key_of(records: &[LibraryRecord]) -> Option<String> {
    if records.is_empty() {
        return None;
    }
    let mut text = format!("recipe {RECIPE}\n");
    for r in records {
        text.push_str(&format!("{} {} {}\n", r.name, r.version, r.sources.join(" ")));
    }
    Some(crate::files::sha256_hex(text.as_bytes())[..12].to_string())
}

/// The library called `name`, or an error naming the known ones.
fn library(name: &str) -> Result<&'static Library> {
    LIBRARIES.iter().find(|l| l.name == name).ok_or_else(|| {
        let names: Vec<&str> = LIBRARIES.iter().map(|l| l.name).collect();
        // A module's name (`lzma`, `_bz2`) names its library too.
        let by_module = LIBRARIES.iter().find(|l| l.modules.iter().any(|m| m.trim_start_matches('_') == name));
        let hint = by_module
            .map(|l| l.name)
            .or_else(|| did_you_mean(name, names.iter().copied()))
            .map(|n| format!(" (did you mean `{n}`?)"))
            .unwrap_or_default();
        Error::Other(format!(
            "--with-source {name}=…: unknown library `{name}`{hint}; the known ones are {}",
            names.join(", ")
        ))
    })
}

/// How the pinned files of `lib` read in an error message.
fn describe_pins(lib: &Library) -> String {
    lib.files().iter().map(|f| format!("{} (sha256 {})", f.file, f.sha256)).collect::<Vec<_>>().join(" and ")
}

/// Choose and check the library sources for a CPython build, before anything
/// is built.
///
/// `given` are `--with-source NAME=FILE` pairs: FILE must be one of the
/// pinned files of library NAME, told by its sha256 (so its file name does
/// not matter); a library with Debian patches needs both its files. `dir`
/// (`--with-sources DIR`) is searched for the pinned file names of every
/// library not given explicitly; a library none of whose files are there is
/// left out (its modules will be missing).
///
/// Errors: [`Error::Other`] naming the option (`--with-source NAME=FILE`,
/// `--with-sources DIR`) for an unknown library, a missing file, a file
/// whose sha256 matches no pin of its library (naming the file, its sha256
/// and the expected ones), or a library with only some of its files.
pub fn choose_sources(given: &[(String, Utf8PathBuf)], dir: Option<&Utf8Path>) -> Result<DepSources> {
    let mut files: BTreeMap<&'static str, Vec<Option<Utf8PathBuf>>> = BTreeMap::new();
    for (name, path) in given {
        let lib = library(name)?;
        let err = |message: String| Error::Other(format!("--with-source {name}={path}: {message}"));
        if !path.is_file() {
            return Err(err(format!("{path} does not exist (expected {})", describe_pins(lib))));
        }
        let sha = crate::files::sha256_file(path)?;
        let pins = lib.files();
        let Some(i) = pins.iter().position(|p| p.sha256 == sha) else {
            return Err(err(format!(
                "{path} (sha256 {sha}) is not a pinned source of {name} {}: expected {}",
                lib.version,
                describe_pins(lib)
            )));
        };
        let slot = files.entry(lib.name).or_insert_with(|| vec![None; pins.len()]);
        slot[i] = Some(path.clone());
    }
    if let Some(d) = dir {
        if !d.is_dir() {
            return Err(Error::Other(format!(
                "--with-sources {d}: not a directory (give the directory .ci/fetch-stdlib-sources fills)"
            )));
        }
        let not_given: Vec<&'static Library> = LIBRARIES.iter().filter(|l| !files.contains_key(l.name)).collect();
        for lib in not_given {
            let pins = lib.files();
            let found: Vec<Option<Utf8PathBuf>> =
                pins.iter().map(|p| Some(d.join(p.file)).filter(|f| f.is_file())).collect();
            if found.iter().all(Option::is_none) {
                continue;
            }
            for (p, f) in pins.iter().zip(&found) {
                if let Some(f) = f {
                    let sha = crate::files::sha256_file(f)?;
                    if sha != p.sha256 {
                        return Err(Error::Other(format!(
                            "--with-sources {d}: {f} has sha256 {sha}, but {} {} is pinned to sha256 {}: fetch it \
                             again (.ci/fetch-stdlib-sources) or remove it",
                            lib.name, lib.version, p.sha256
                        )));
                    }
                }
            }
            files.insert(lib.name, found);
        }
    }
    let mut chosen = Vec::new();
    for lib in LIBRARIES {
        let Some(fs) = files.remove(lib.name) else { continue };
        let pins = lib.files();
        let mut paths = Vec::new();
        for (p, f) in pins.iter().zip(fs) {
            match f {
                Some(f) => paths.push(f),
                None => {
                    return Err(Error::Other(format!(
                        "{} {} also needs {} (sha256 {}) from Debian's {}: give it as `--with-source {}=FILE` (or \
                         put it in the --with-sources directory)",
                        lib.name, lib.version, p.file, p.sha256, lib.debian_package, lib.name
                    )))
                }
            }
        }
        chosen.push((lib, paths));
    }
    Ok(DepSources { chosen })
}

/// The Debian suite the library pins come from.
const SUITE: &str = "trixie";

/// Fetch every library's pinned files (from Debian's source packages) into
/// the cache's `sources/stdlib/` under their Debian names, the directory
/// that [`choose_sources`] takes; returns it.
///
/// Errors: as [`sources::fetch`]: a file that cannot be fetched or whose
/// sha256 is not the pin, naming it.
pub fn fetch_pinned() -> Result<Utf8PathBuf> {
    let wanted: Vec<Wanted> = LIBRARIES
        .iter()
        .flat_map(|lib| {
            lib.files().into_iter().map(move |pin| Wanted {
                what: format!("{} {} ({})", lib.name, lib.version, pin.file),
                pin,
                origin: Origin {
                    urls: Vec::new(),
                    debian: Some(DebianSource {
                        spec: lib.debian_package.to_string(),
                        suite: SUITE,
                        file: pin.file.into(),
                    }),
                },
            })
        })
        .collect();
    sources::fetch("stdlib", &wanted)?;
    sources::dir("stdlib")
}

/// The built libraries: the `configure` variables that point CPython at
/// their prefix (`include/`, `lib/*.a`).
#[derive(Debug, Clone)]
pub struct BuiltDeps {
    /// `{VAR}_CFLAGS` / `{VAR}_LIBS` for CPython's `configure` (for the WASI host configure only:
    /// the native build Python must not see them).
    pub configure_env: Vec<(String, String)>,
}

/// Is `tool` on `PATH`?
fn on_path(tool: &str) -> bool {
    crate::toolchain::which(tool).is_some()
}

/// The host tools the build of `sources` needs, checked before anything is
/// built.
///
/// Errors: [`Error::Toolchain`] naming the missing tool and the library that needs it.
pub fn check_host_tools(sources: &DepSources) -> Result<()> {
    for (lib, _) in &sources.chosen {
        let mut need = vec!["tar"];
        if !lib.patches.is_empty() {
            need.push("patch");
        }
        if lib.name == "sqlite3" {
            need.extend(["tclsh", "make", "cc"]);
        }
        for t in need {
            if !on_path(t) {
                return Err(Error::Toolchain(format!(
                    "building {} {} needs `{t}` on PATH{}: install it, or leave {} out",
                    lib.name,
                    lib.version,
                    if t == "tclsh" { " (SQLite generates its amalgamation with it; Debian: tcl)" } else { "" },
                    lib.name
                )));
            }
        }
    }
    Ok(())
}

/// One compile: a C file of a library into an object.
struct Job {
    lib: &'static str,
    src: Utf8PathBuf,
    obj: Utf8PathBuf,
    flags: Vec<String>,
}

/// Unpack `archive` into `dest` (created) and return the one directory it holds.
fn unpack(archive: &Utf8Path, dest: &Utf8Path, log: &Utf8Path) -> Result<Utf8PathBuf> {
    std::fs::create_dir_all(dest).context(|| format!("cannot create {dest}"))?;
    let mut c = Command::new("tar");
    c.args(["-xf", archive.as_str(), "-C", dest.as_str()]);
    super::build_step(c, log, false, &format!("tar -xf {archive}"))?;
    let dirs: Vec<Utf8PathBuf> = std::fs::read_dir(dest)
        .context(|| format!("cannot read {dest}"))?
        .flatten()
        .filter_map(|e| Utf8PathBuf::from_path_buf(e.path()).ok())
        .filter(|p| p.is_dir())
        .collect();
    match dirs.as_slice() {
        [one] => Ok(one.clone()),
        _ => Ok(dest.to_path_buf()),
    }
}

/// `zconf.h` as zlib's `./configure` installs it on a system with `unistd.h`
/// and `stdarg.h` (it turns their `#ifdef HAVE_…` guards into `#if 1`).
fn configured_zconf(text: &str) -> String {
    text.lines()
        .map(|l| {
            if (l.starts_with("#ifdef HAVE_UNISTD_H") || l.starts_with("#ifdef HAVE_STDARG_H")) && l.contains("may be")
            {
                let rest = l.split_once("/*").map(|(_, r)| r).unwrap_or("*/");
                format!("#if 1    /*{}", rest.replace("may be", "was"))
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// liblzma's `config.h` for wasm32-wasip1 (what its CMake/autotools build finds there, minus threads).
const LIBLZMA_CONFIG: &str = include_str!("liblzma-config.h");

/// SQLite's compile-time options. sqlite3.c switches to its WASI mode by itself
/// when `__wasi__` is defined (no WAL, no mmap, single-threaded, `unix-dotfile`
/// locking); the options say so explicitly and turn on the usual extensions.
const SQLITE_FLAGS: &[&str] = &[
    "-DSQLITE_THREADSAFE=0",
    "-DSQLITE_OMIT_LOAD_EXTENSION",
    "-DSQLITE_OMIT_WAL",
    "-DSQLITE_MAX_MMAP_SIZE=0",
    "-DSQLITE_ENABLE_FTS4",
    "-DSQLITE_ENABLE_FTS5",
    "-DSQLITE_ENABLE_RTREE",
    "-DSQLITE_ENABLE_MATH_FUNCTIONS",
    "-DSQLITE_ENABLE_DBSTAT_VTAB",
    "-DSQLITE_TEMP_STORE=2",
    "-DHAVE_USLEEP=1",
    "-DHAVE_LOCALTIME_R=1",
    "-DHAVE_GMTIME_R=1",
    "-DHAVE_STRCHRNUL=1",
];

/// liblzma's C files (xz's `src/liblzma`, single-threaded, every filter).
fn liblzma_files(s: &Utf8Path) -> Vec<Utf8PathBuf> {
    let l = s.join("src/liblzma");
    let mut v = vec![s.join("src/common/tuklib_physmem.c")];
    let groups: &[(&str, &[&str])] = &[
        ("check", &["check", "crc32_fast", "crc64_fast", "sha256"]),
        (
            "common",
            &[
                "block_util",
                "common",
                "easy_preset",
                "filter_common",
                "hardware_physmem",
                "index",
                "stream_flags_common",
                "string_conversion",
                "vli_size",
                "alone_encoder",
                "block_buffer_encoder",
                "block_encoder",
                "block_header_encoder",
                "easy_buffer_encoder",
                "easy_encoder",
                "easy_encoder_memusage",
                "filter_buffer_encoder",
                "filter_encoder",
                "filter_flags_encoder",
                "index_encoder",
                "stream_buffer_encoder",
                "stream_encoder",
                "stream_flags_encoder",
                "vli_encoder",
                "microlzma_encoder",
                "alone_decoder",
                "auto_decoder",
                "block_buffer_decoder",
                "block_decoder",
                "block_header_decoder",
                "easy_decoder_memusage",
                "file_info",
                "filter_buffer_decoder",
                "filter_decoder",
                "filter_flags_decoder",
                "index_decoder",
                "index_hash",
                "stream_buffer_decoder",
                "stream_decoder",
                "stream_flags_decoder",
                "vli_decoder",
                "microlzma_decoder",
                "lzip_decoder",
            ],
        ),
        (
            "lzma",
            &[
                "lzma_encoder",
                "lzma_encoder_optimum_fast",
                "lzma_encoder_optimum_normal",
                "fastpos_table",
                "lzma2_encoder",
                "lzma_decoder",
                "lzma2_decoder",
                "lzma_encoder_presets",
            ],
        ),
        ("lz", &["lz_encoder", "lz_encoder_mf", "lz_decoder"]),
        ("rangecoder", &["price_table"]),
        ("delta", &["delta_common", "delta_encoder", "delta_decoder"]),
        (
            "simple",
            &[
                "simple_coder",
                "simple_encoder",
                "simple_decoder",
                "x86",
                "arm",
                "armthumb",
                "arm64",
                "powerpc",
                "ia64",
                "sparc",
                "riscv",
            ],
        ),
    ];
    for (dir, names) in groups {
        v.extend(names.iter().map(|n| l.join(dir).join(format!("{n}.c"))));
    }
    v
}

/// Copy `files` (relative to `from`) into `to`.
fn copy_into(from: &Utf8Path, files: &[&str], to: &Utf8Path) -> Result<()> {
    std::fs::create_dir_all(to).context(|| format!("cannot create {to}"))?;
    for f in files {
        let src = from.join(f);
        let name = Utf8Path::new(f).file_name().unwrap_or(f);
        std::fs::copy(&src, to.join(name)).context(|| format!("cannot copy {src} to {to}"))?;
    }
    Ok(())
}

/// A file the unpacked source of `lib` must have.
fn require(lib: &Library, archive: &Utf8Path, path: Utf8PathBuf) -> Result<Utf8PathBuf> {
    if path.exists() {
        Ok(path)
    } else {
        Err(Error::Toolchain(format!("{archive} is not the source of {} {}: it has no {path}", lib.name, lib.version)))
    }
}

/// Build the libraries of `sources` for wasm32-wasip1 with `sdk` as static
/// libraries into `work/prefix` (`lib/lib*.a`, `include/`), unpacking and
/// patching their sources under `work`, with `jobs` compilers at a time.
/// `step` shows the phases; `log` collects the output of the host tools.
///
/// Errors: [`Error::Toolchain`] when a source archive is not what it should
/// be or a host tool (`tar`, `patch`, SQLite's native `configure`/`make`)
/// fails, with the tail of `log`; [`Error::CompileFailed`] with the
/// compiler's diagnostics; [`Error::ToolFailed`] when archiving fails.
pub fn build(
    sources: &DepSources,
    sdk: &WasiSdk,
    work: &Utf8Path,
    jobs: usize,
    step: &crate::progress::Step,
    log: &Utf8Path,
) -> Result<BuiltDeps> {
    let prefix = work.join("prefix");
    let include = prefix.join("include");
    let lib_dir = prefix.join("lib");
    for d in [&include, &lib_dir] {
        std::fs::create_dir_all(d).context(|| format!("cannot create {d}"))?;
    }
    let mut all_jobs: Vec<Job> = Vec::new();
    for (lib, files) in &sources.chosen {
        step.set(&format!("unpacking {} {}", lib.name, lib.version));
        let orig = &files[0];
        let s = unpack(orig, &work.join("src").join(lib.name), log)?;
        if let Some(deb) = files.get(1) {
            let d = unpack(deb, &work.join("debian").join(lib.name), log)?;
            let patches = if d.join("patches").is_dir() { d.join("patches") } else { d.join("debian/patches") };
            for p in lib.patches {
                let patch = require(lib, deb, patches.join(p))?;
                let mut c = Command::new("patch");
                c.args(["-p1", "--batch", "--forward", "-i", patch.as_str()]).current_dir(&s);
                super::build_step(c, log, false, &format!("patch -p1 -i {patch} (in {s})"))?;
            }
        }
        let obj = work.join("obj").join(lib.name);
        std::fs::create_dir_all(&obj).context(|| format!("cannot create {obj}"))?;
        let mut add = |srcs: Vec<Utf8PathBuf>, flags: Vec<String>| -> Result<()> {
            for (i, src) in srcs.into_iter().enumerate() {
                let src = require(lib, orig, src)?;
                let stem = src.file_stem().unwrap_or("x").to_string();
                all_jobs.push(Job {
                    lib: lib.name,
                    obj: obj.join(format!("{i:03}-{stem}.o")),
                    src,
                    flags: flags.clone(),
                });
            }
            Ok(())
        };
        let inc = |d: &Utf8Path| format!("-I{d}");
        match lib.name {
            "zlib" => {
                let names = [
                    "adler32", "compress", "crc32", "deflate", "gzclose", "gzlib", "gzread", "gzwrite", "infback",
                    "inffast", "inflate", "inftrees", "trees", "uncompr", "zutil",
                ];
                // As zlib's ./configure would find: unistd.h and stdarg.h exist.
                add(
                    names.iter().map(|n| s.join(format!("{n}.c"))).collect(),
                    vec!["-DHAVE_UNISTD_H".into(), "-DHAVE_STDARG_H".into(), inc(&s)],
                )?;
                copy_into(&s, &["zlib.h"], &include)?;
                let zconf = require(lib, orig, s.join("zconf.h"))?;
                let text = std::fs::read_to_string(&zconf).context(|| format!("cannot read {zconf}"))?;
                std::fs::write(include.join("zconf.h"), configured_zconf(&text))
                    .context(|| format!("cannot write {include}/zconf.h"))?;
            }
            "bzip2" => {
                let names = ["blocksort", "huffman", "crctable", "randtable", "compress", "decompress", "bzlib"];
                add(names.iter().map(|n| s.join(format!("{n}.c"))).collect(), vec!["-D_FILE_OFFSET_BITS=64".into()])?;
                copy_into(&s, &["bzlib.h"], &include)?;
            }
            "xz" => {
                let cfg = work.join("liblzma-config");
                std::fs::create_dir_all(&cfg).context(|| format!("cannot create {cfg}"))?;
                std::fs::write(cfg.join("config.h"), LIBLZMA_CONFIG).context(|| format!("cannot write {cfg}"))?;
                let l = s.join("src/liblzma");
                let mut flags = vec!["-DHAVE_CONFIG_H".to_string(), "-DNDEBUG".into(), "-std=gnu11".into(), inc(&cfg)];
                for d in ["api", "common", "check", "lz", "rangecoder", "lzma", "delta", "simple"] {
                    flags.push(inc(&l.join(d)));
                }
                flags.push(inc(&s.join("src/common")));
                add(liblzma_files(&s), flags)?;
                copy_into(&l.join("api"), &["lzma.h"], &include)?;
                let api = require(lib, orig, l.join("api/lzma"))?;
                let mut headers: Vec<String> = std::fs::read_dir(&api)
                    .context(|| format!("cannot read {api}"))?
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().to_string())
                    .filter(|n| n.ends_with(".h"))
                    .collect();
                headers.sort();
                copy_into(&api, &headers.iter().map(String::as_str).collect::<Vec<_>>(), &include.join("lzma"))?;
            }
            "sqlite3" => {
                step.set("generating the SQLite amalgamation (native configure + make sqlite3.c)");
                let amalg = work.join("sqlite-amalgamation");
                std::fs::create_dir_all(&amalg).context(|| format!("cannot create {amalg}"))?;
                let mut c = Command::new(require(lib, orig, s.join("configure"))?);
                c.args(["--disable-tcl"]).current_dir(&amalg);
                super::build_step(c, log, false, "SQLite's configure (native, for the amalgamation)")?;
                let mut c = Command::new("make");
                c.args(["sqlite3.c", "sqlite3.h", "sqlite3ext.h"]).current_dir(&amalg);
                super::build_step(c, log, false, "make sqlite3.c (the SQLite amalgamation)")?;
                add(vec![amalg.join("sqlite3.c")], SQLITE_FLAGS.iter().map(|f| f.to_string()).collect())?;
                copy_into(&amalg, &["sqlite3.h", "sqlite3ext.h"], &include)?;
            }
            other => unreachable!("no build recipe for {other}"),
        }
    }
    // The largest compiles (sqlite3.c) first, so they overlap the many small ones.
    all_jobs.sort_by_key(|j| std::cmp::Reverse(std::fs::metadata(&j.src).map(|m| m.len()).unwrap_or(0)));
    step.set(&format!("compiling {} C files for wasm32-wasip1 with WASI SDK {}", all_jobs.len(), sdk.identity.major));
    compile_all(sdk, &all_jobs, jobs)?;
    let mut configure_env = Vec::new();
    for (lib, _) in &sources.chosen {
        let mut objs: Vec<Utf8PathBuf> = all_jobs.iter().filter(|j| j.lib == lib.name).map(|j| j.obj.clone()).collect();
        objs.sort();
        let out = lib_dir.join(lib.archive);
        let mut c = Command::new(sdk.ar());
        c.arg("rcsD").arg(out.as_str()).args(objs.iter().map(|o| o.as_str()));
        let o = c.output().map_err(|e| Error::Toolchain(format!("cannot run {}: {e}", sdk.ar())))?;
        if !o.status.success() {
            return Err(Error::ToolFailed {
                what: format!("archiving {out}"),
                status: o.status.to_string(),
                output: String::from_utf8_lossy(&o.stderr).trim_end().to_string(),
                command: format!("{} rcsD {out} …", sdk.ar()),
            });
        }
        // Archives by absolute path: they land in CPython's MODLIBS as such,
        // and wasiwheel copies them into the prefix (lib/wasiwheel-static) to
        // relink python.wasm. SQLite's configure also runs AC_CHECK_LIB
        // link tests that add -lsqlite3, hence its -L.
        let libs = if lib.name == "sqlite3" { format!("-L{lib_dir} {out}") } else { out.to_string() };
        configure_env.push((format!("{}_CFLAGS", lib.configure_var), format!("-I{include}")));
        configure_env.push((format!("{}_LIBS", lib.configure_var), libs));
    }
    Ok(BuiltDeps { configure_env })
}

/// Compile `jobs` with the SDK's clang, `parallel` at a time.
///
/// Errors: [`Error::CompileFailed`] for the first compile that fails.
fn compile_all(sdk: &WasiSdk, jobs: &[Job], parallel: usize) -> Result<()> {
    let next = AtomicUsize::new(0);
    let failed: Mutex<Option<Error>> = Mutex::new(None);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..parallel.max(1) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(j) = jobs.get(i) else { break };
                if failed.lock().map(|f| f.is_some()).unwrap_or(true) {
                    break;
                }
                let mut c = Command::new(sdk.clang());
                c.arg("--target=wasm32-wasip1")
                    .arg(format!("--sysroot={}", sdk.sysroot()))
                    .args(["-O2", "-g0"])
                    .args(&j.flags)
                    .args(["-c", j.src.as_str(), "-o", j.obj.as_str()]);
                let res = c.output();
                let err = match res {
                    Ok(o) if o.status.success() => None,
                    Ok(o) => Some(Error::CompileFailed {
                        source_file: j.src.clone(),
                        status: o.status.to_string(),
                        diagnostics: String::from_utf8_lossy(&o.stderr).trim_end().to_string(),
                        hint: String::new(),
                        command: format!("{c:?}"),
                    }),
                    Err(e) => Some(Error::Toolchain(format!("cannot run {}: {e}", sdk.clang()))),
                };
                if let Some(e) = err {
                    if let Ok(mut f) = failed.lock() {
                        f.get_or_insert(e);
                    }
                    break;
                }
            });
        }
    });
    if let Some(e) = failed.into_inner().ok().flatten() {
        return Err(e);
    }
    crate::progress::status(&format!(
        "compiled {} C files of the standard library's C libraries in {:.1}s",
        jobs.len(),
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zconf_as_configure_writes_it() {
        let t = "#ifdef HAVE_UNISTD_H    /* may be set to #if 1 by ./configure */\n#  define Z_HAVE_UNISTD_H\n\
                 #ifdef HAVE_STDARG_H    /* may be set to #if 1 by ./configure */\n";
        let out = configured_zconf(t);
        assert_eq!(
            out,
            "#if 1    /* was set to #if 1 by ./configure */\n#  define Z_HAVE_UNISTD_H\n\
             #if 1    /* was set to #if 1 by ./configure */\n"
        );
    }

    #[test]
    fn pins_are_sha256_and_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for l in LIBRARIES {
            for f in l.files() {
                assert_eq!(f.sha256.len(), 64, "{}", f.file);
                assert!(f.sha256.chars().all(|c| c.is_ascii_hexdigit()), "{}", f.file);
                assert!(seen.insert(f.sha256), "{} pinned twice", f.file);
            }
            assert_eq!(l.patches.is_empty(), l.debian.is_none(), "{}", l.name);
        }
    }

    #[test]
    fn bad_sources_are_refused_naming_the_pin() {
        let d = tempfile::tempdir().unwrap();
        let dir = Utf8Path::from_path(d.path()).unwrap();
        let f = dir.join("zlib.tar.gz");
        std::fs::write(&f, b"not zlib").unwrap();
        let e = choose_sources(&[("zlib".into(), f.clone())], None).unwrap_err().to_string();
        assert!(e.contains(f.as_str()) && e.contains(LIBRARIES[0].orig.sha256), "{e}");
        let e = choose_sources(&[("zlibb".into(), f.clone())], None).unwrap_err().to_string();
        assert!(e.contains("did you mean `zlib`"), "{e}");
        let e = choose_sources(&[("lzma".into(), f.clone())], None).unwrap_err().to_string();
        assert!(e.contains("did you mean `xz`"), "{e}");
        let e = choose_sources(&[("zlib".into(), dir.join("missing.tar.gz"))], None).unwrap_err().to_string();
        assert!(e.contains("does not exist"), "{e}");
        // In a directory: a pinned name with other content is refused, nothing found means left out.
        std::fs::write(dir.join(LIBRARIES[1].orig.file), b"not bzip2").unwrap();
        let e = choose_sources(&[], Some(dir)).unwrap_err().to_string();
        assert!(e.contains(LIBRARIES[1].orig.sha256) && e.contains(LIBRARIES[1].orig.file), "{e}");
        std::fs::remove_file(dir.join(LIBRARIES[1].orig.file)).unwrap();
        let none = choose_sources(&[], Some(dir)).unwrap();
        assert!(none.chosen.is_empty() && none.key().is_none());
        assert_eq!(none.missing().len(), LIBRARIES.len());
    }

    #[test]
    fn fetch_script_has_the_same_pins() {
        let script = include_str!("../../../.ci/fetch-stdlib-sources");
        for l in LIBRARIES {
            for f in l.files() {
                let line = format!("{} {} {}", l.debian_package, f.file, f.sha256);
                assert!(script.contains(&line), "{} not pinned in the script", f.file);
            }
        }
    }

    #[test]
    fn key_changes_with_the_sources() {
        let mut r = vec![LibraryRecord {
            name: "zlib".into(),
            version: "1.3.1".into(),
            modules: vec!["zlib".into()],
            sources: vec![LIBRARIES[0].orig.sha256.into()],
        }];
        let a = key_of(&r).unwrap();
        r[0].sources[0] = "0".repeat(64);
        assert_ne!(a, key_of(&r).unwrap());
        assert!(key_of(&[]).is_none());
    }
}

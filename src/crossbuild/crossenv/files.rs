//! The files of a cross environment: the wrapper scripts, the target's
//! sysconfigdata with wasiwheel's tools in it, a meson cross file, a CMake
//! toolchain file, and the environment variables the backend runs with.

use std::collections::BTreeMap;

use camino::{Utf8Path, Utf8PathBuf};

use super::{BackendKind, Context, CONTEXT_VAR};
use crate::error::{Error, IoContext, Result};
use crate::toolchain::python::TargetPython;

/// What [`write`] made: the wrappers' directory, the meson cross file and the
/// environment of the backend's hooks.
#[derive(Debug, Clone)]
pub struct EnvFiles {
    /// The wrappers (first on `PATH`).
    pub bin: Utf8PathBuf,
    /// The meson cross file.
    pub meson_cross: Utf8PathBuf,
    /// Variables set for the backend's hooks (not for installing requirements).
    pub env: BTreeMap<String, String>,
}

/// `s` quoted for a POSIX shell.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// `s` as a Python/meson single-quoted string literal.
fn py_str(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// The target's `_sysconfigdata_*.py` file.
///
/// Errors: [`Error::Toolchain`] when the prefix has none.
pub fn sysconfigdata_file(python: &TargetPython) -> Result<Utf8PathBuf> {
    let dir = python.prefix.join(format!("lib/python{}", python.version));
    let rd = std::fs::read_dir(&dir).context(|| format!("cannot read {dir}"))?;
    let mut found: Vec<Utf8PathBuf> = rd
        .flatten()
        .filter_map(|e| Utf8PathBuf::from_path_buf(e.path()).ok())
        .filter(|p| {
            p.file_name().is_some_and(|n| n.starts_with("_sysconfigdata_") && n.ends_with(".py") && n.contains("wasi"))
        })
        .collect();
    found.sort();
    found.pop().ok_or_else(|| Error::Toolchain(format!("{dir} has no _sysconfigdata_*wasi*.py")))
}

/// Write the wrappers, sysconfigdata, cross and toolchain files into `work`
/// for `ctx` and return them with the hooks' environment. `self_command`
/// runs wasiwheel; `kind` decides which compiler variables are exported
/// (meson and CMake take their compilers from their own files, and read
/// `CC` as the build machine's compiler).
///
/// Errors: [`Error::Io`] when a file cannot be written; [`Error::Toolchain`]
/// when the target has no sysconfigdata.
pub fn write(
    work: &Utf8Path,
    ctx: &Context,
    python: &TargetPython,
    self_command: &[String],
    kind: BackendKind,
) -> Result<EnvFiles> {
    let context = work.join("context.json");
    std::fs::write(&context, serde_json::to_vec_pretty(ctx).expect("serialisable"))
        .context(|| format!("cannot write {context}"))?;
    let bin = work.join("bin");
    std::fs::create_dir_all(&bin).context(|| format!("cannot create {bin}"))?;
    let invoke: Vec<String> = self_command.iter().map(|s| sh_quote(s)).collect();
    let mut names: Vec<(&str, &str)> = vec![
        ("wasm32-wasi-cc", "cc"),
        ("wasm32-wasi-c++", "c++"),
        ("wasm32-wasi-ar", "ar"),
        ("wasm32-wasi-ranlib", "ranlib"),
        (super::rust::LINKER_SCRIPT, "rust-ld"),
        (super::rust::RUSTC_WRAPPER_SCRIPT, "rustc-wrap"),
    ];
    if kind == BackendKind::Setuptools {
        // Programs setup.py files call by name.
        names.extend([
            ("cc", "cc"),
            ("gcc", "cc"),
            ("clang", "cc"),
            ("c++", "c++"),
            ("g++", "c++"),
            ("clang++", "c++"),
            ("ar", "ar"),
            ("ranlib", "ranlib"),
        ]);
    }
    for (file, sub) in &names {
        let p = bin.join(file);
        let script = format!(
            "#!/bin/sh\n# wasiwheel's {sub} wrapper for {target}\n{CONTEXT_VAR}={ctx}\nexport \
             {CONTEXT_VAR}\nexec {} {sub} \"$@\"\n",
            invoke.join(" "),
            target = ctx.target,
            ctx = sh_quote(context.as_str()),
        );
        std::fs::write(&p, script).context(|| format!("cannot write {p}"))?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755))
            .context(|| format!("cannot make {p} executable"))?;
    }
    // The target interpreter, run under wasiwheel: CMake's FindPython asks
    // it for its version, pointer size and SOABI (the host's would answer
    // for the host).
    let target_python = bin.join("wasm32-wasi-python");
    let script = format!(
        "#!/bin/sh\n# the target CPython, run by wasiwheel\nexec {} run --python-prefix {} -- \"$@\"\n",
        invoke.join(" "),
        sh_quote(python.prefix.as_str())
    );
    std::fs::write(&target_python, script).context(|| format!("cannot write {target_python}"))?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&target_python, std::fs::Permissions::from_mode(0o755))
            .context(|| format!("cannot make {target_python} executable"))?;
    }
    let cc = bin.join("wasm32-wasi-cc");
    let cxx = bin.join("wasm32-wasi-c++");
    let ar = bin.join("wasm32-wasi-ar");
    let ranlib = bin.join("wasm32-wasi-ranlib");

    // The target's sysconfigdata, with the tools replaced.
    let src = sysconfigdata_file(python)?;
    let module = src.file_stem().expect("a .py file").to_string();
    let sysconfig_dir = work.join("sysconfig");
    std::fs::create_dir_all(&sysconfig_dir).context(|| format!("cannot create {sysconfig_dir}"))?;
    let mut text = std::fs::read_to_string(&src).context(|| format!("cannot read {src}"))?;
    let include = ctx.include.as_str();
    let libdir = python.prefix.join("lib");
    let overrides: Vec<(&str, String)> = vec![
        ("CC", cc.to_string()),
        ("CXX", cxx.to_string()),
        ("LDSHARED", format!("{cc} -shared")),
        ("LDCXXSHARED", format!("{cxx} -shared")),
        ("BLDSHARED", format!("{cc} -shared")),
        ("AR", ar.to_string()),
        ("ARFLAGS", "rcs".into()),
        ("CCSHARED", "-fPIC".into()),
        ("LDFLAGS", String::new()),
        ("CPPFLAGS", String::new()),
        ("INCLUDEPY", include.to_string()),
        ("CONFINCLUDEPY", include.to_string()),
        ("INCLUDEDIR", python.prefix.join("include").to_string()),
        ("LIBDIR", libdir.to_string()),
        ("LIBPL", libdir.join(format!("python{}/config", python.version)).to_string()),
        ("prefix", python.prefix.to_string()),
        ("exec_prefix", python.prefix.to_string()),
        // sysconfig.get_paths()' `include` and `platinclude` (meson's python
        // dependency and scikit-build-core read them, besides INCLUDEPY):
        // the target's, not the host interpreter's base prefix. Set from
        // build_time_vars, which sysconfig applies after its own values.
        ("installed_base", python.prefix.to_string()),
        ("installed_platbase", python.prefix.to_string()),
    ];
    text.push_str("\n# wasiwheel's cross environment: its compiler wrappers and the target's headers\n");
    text.push_str("build_time_vars.update({\n");
    for (k, v) in &overrides {
        text.push_str(&format!("    {}: {},\n", py_str(k), py_str(v)));
    }
    text.push_str("})\n");
    let dest = sysconfig_dir.join(format!("{module}.py"));
    std::fs::write(&dest, text).context(|| format!("cannot write {dest}"))?;

    // meson-python: a cross file.
    let q = |p: &Utf8Path| py_str(p.as_str());
    let exe_wrapper: Vec<String> = self_command.iter().map(|s| py_str(s)).chain([py_str("exec")]).collect();
    let meson_cross = work.join("meson-cross.ini");
    let strip = ctx.sdk.join("bin/llvm-strip");
    let meson = format!(
        "# wasiwheel's meson cross file for {target}\n[binaries]\nc = [{cc}]\ncpp = [{cxx}]\nar = [{ar}]\nranlib = \
         [{ranlib}]\nstrip = [{strip}]\nexe_wrapper = [{exe}]\n\n[host_machine]\nsystem = 'wasi'\ncpu_family = \
         'wasm32'\ncpu = 'wasm32'\nendian = 'little'\n\n[properties]\nneeds_exe_wrapper = true\nsys_root = {sysroot}\n",
        target = ctx.target,
        cc = q(&cc),
        cxx = q(&cxx),
        ar = q(&ar),
        ranlib = q(&ranlib),
        strip = q(&strip),
        exe = exe_wrapper.join(", "),
        sysroot = py_str(ctx.sdk.join("share/wasi-sysroot").as_str()),
    );
    std::fs::write(&meson_cross, meson).context(|| format!("cannot write {meson_cross}"))?;

    // scikit-build-core: a CMake toolchain file and a WASI platform module.
    let platform_dir = work.join("cmake/Platform");
    std::fs::create_dir_all(&platform_dir).context(|| format!("cannot create {platform_dir}"))?;
    let platform = "# wasiwheel: WASI as a platform with shared modules (wasm dylibs made by its wrappers)\n\
        include(Platform/UnixPaths)\n\
        set(CMAKE_EXECUTABLE_SUFFIX \".wasm\")\n\
        set(CMAKE_SHARED_LIBRARY_PREFIX \"lib\")\nset(CMAKE_SHARED_LIBRARY_SUFFIX \".so\")\n\
        set(CMAKE_SHARED_MODULE_PREFIX \"lib\")\nset(CMAKE_SHARED_MODULE_SUFFIX \".so\")\n\
        set(CMAKE_STATIC_LIBRARY_PREFIX \"lib\")\nset(CMAKE_STATIC_LIBRARY_SUFFIX \".a\")\n\
        set(CMAKE_DL_LIBS \"\")\n\
        set_property(GLOBAL PROPERTY TARGET_SUPPORTS_SHARED_LIBS TRUE)\n\
        foreach(lang C CXX)\n\
          set(CMAKE_SHARED_LIBRARY_CREATE_${lang}_FLAGS \"-shared\")\n\
          set(CMAKE_SHARED_MODULE_CREATE_${lang}_FLAGS \"-shared\")\n\
          set(CMAKE_${lang}_COMPILE_OPTIONS_PIC \"-fPIC\")\n\
          set(CMAKE_${lang}_COMPILE_OPTIONS_PIE \"-fPIC\")\n\
          set(CMAKE_SHARED_LIBRARY_${lang}_FLAGS \"-fPIC\")\n\
        endforeach()\n";
    let pf = platform_dir.join("WASI.cmake");
    std::fs::write(&pf, platform).context(|| format!("cannot write {pf}"))?;
    let emulator: Vec<&str> = self_command.iter().map(String::as_str).chain(["exec"]).collect();
    let cmake_toolchain = work.join("wasi-toolchain.cmake");
    let soabi = python.vars.get("SOABI").cloned().unwrap_or_default();
    let cmake = format!(
        "# wasiwheel's CMake toolchain file for {target}\n\
         list(APPEND CMAKE_MODULE_PATH \"{modules}\")\n\
         set(CMAKE_SYSTEM_NAME WASI)\nset(CMAKE_SYSTEM_VERSION 1)\nset(CMAKE_SYSTEM_PROCESSOR wasm32)\n\
         set(CMAKE_C_COMPILER \"{cc}\")\nset(CMAKE_CXX_COMPILER \"{cxx}\")\n\
         set(CMAKE_AR \"{ar}\" CACHE FILEPATH \"\")\nset(CMAKE_RANLIB \"{ranlib}\" CACHE FILEPATH \"\")\n\
         set(CMAKE_CROSSCOMPILING_EMULATOR \"{emulator}\")\n\
         set(CMAKE_FIND_ROOT_PATH \"{sysroot}\" \"{prefix}\")\n\
         set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)\nset(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)\n\
         set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)\nset(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)\n\
         set(Python_EXECUTABLE \"{target_python}\")\nset(Python3_EXECUTABLE \"{target_python}\")\n\
         set(Python_INCLUDE_DIR \"{include}\")\nset(Python3_INCLUDE_DIR \"{include}\")\n\
         set(Python_SOABI \"{soabi}\")\nset(Python3_SOABI \"{soabi}\")\n",
        target = ctx.target,
        modules = work.join("cmake"),
        emulator = emulator.join(";"),
        sysroot = ctx.sdk.join("share/wasi-sysroot"),
        prefix = python.prefix,
    );
    std::fs::write(&cmake_toolchain, cmake).context(|| format!("cannot write {cmake_toolchain}"))?;

    let mut env = BTreeMap::new();
    env.insert("_PYTHON_SYSCONFIGDATA_NAME".to_string(), module);
    env.insert("_PYTHON_HOST_PLATFORM".into(), "wasi-0.0.0-wasm32".into());
    env.insert("PYTHONPATH".into(), sysconfig_dir.to_string());
    env.insert(CONTEXT_VAR.into(), context.to_string());
    match kind {
        BackendKind::Setuptools => {
            env.insert("CC".into(), cc.to_string());
            env.insert("CXX".into(), cxx.to_string());
            env.insert("LDSHARED".into(), format!("{cc} -shared"));
            env.insert("LDCXXSHARED".into(), format!("{cxx} -shared"));
            env.insert("AR".into(), ar.to_string());
            env.insert("ARFLAGS".into(), "rcs".into());
        }
        BackendKind::Cmake => {
            env.insert("CMAKE_TOOLCHAIN_FILE".into(), cmake_toolchain.to_string());
            // scikit-build-core installs with `--strip` by default; a stripped
            // dylib is no longer the one the linker wrapper recorded (with its
            // static archive), and the wrapper's link already drops DWARF.
            env.insert("SKBUILD_INSTALL_STRIP".into(), "false".into());
        }
        BackendKind::Meson | BackendKind::Maturin => {}
    }
    // Rust, for any backend that runs cargo (maturin, setuptools-rust).
    env.extend(super::rust::env(ctx, python, &bin)?);
    Ok(EnvFiles { bin, meson_cross, env })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(sh_quote("a'b"), "'a'\\''b'");
        assert_eq!(py_str("a'b\\c"), "'a\\'b\\\\c'");
    }
}

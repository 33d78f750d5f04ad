//! `[tool.wasiwheel]`: extension modules, package discovery settings, sdist
//! globs and the component table.

use camino::Utf8PathBuf;
use toml_edit::Item;

use super::{component_keys, ext_keys, tool_keys, ExtModuleConfig, Reader, ToolConfig};
use crate::error::Result;
use crate::model::entry::Entry;
use crate::model::lang::{is_cxx_source, Language};
use crate::model::names::is_extension_name;

/// The `[tool.wasiwheel]` table, validated.
pub(super) fn parse_tool(r: &Reader, item: &Item) -> Result<ToolConfig> {
    let t = item.as_table_like().ok_or_else(|| r.err(item.span(), "tool.wasiwheel", "must be a table"))?;
    r.check_keys(t, "tool.wasiwheel", &tool_keys(), item.span())?;
    let mut tool = ToolConfig::default();
    if let Some(ps) = t.get("python-source") {
        tool.python_source = Some(r.string(ps, "tool.wasiwheel.python-source")?.into());
    }
    if let Some(p) = t.get("packages") {
        tool.packages = Some(r.string_list(p, "tool.wasiwheel.packages")?);
    }
    if let Some(c) = t.get("component") {
        let ct = c.as_table_like().ok_or_else(|| r.err(c.span(), "tool.wasiwheel.component", "must be a table"))?;
        r.check_keys(ct, "tool.wasiwheel.component", &component_keys(), c.span())?;
        if let Some(e) = ct.get("entry") {
            let entry = r.string(e, "tool.wasiwheel.component.entry")?;
            Entry::parse(&entry).map_err(|m| r.err(e.span(), "tool.wasiwheel.component.entry", m))?;
            tool.component_entry = Some(entry);
        }
        if let Some(v) = ct.get("wit-path") {
            tool.component_wit_path = Some(r.string(v, "tool.wasiwheel.component.wit-path")?.into());
        }
        if let Some(v) = ct.get("world") {
            tool.component_world = Some(r.string(v, "tool.wasiwheel.component.world")?);
        }
        if let Some(v) = ct.get("app") {
            tool.component_app = Some(r.string(v, "tool.wasiwheel.component.app")?);
        }
        if let Some(m) = ct.get("include-modules") {
            let names = r.string_list(m, "tool.wasiwheel.component.include-modules")?;
            for n in &names {
                let valid = !n.is_empty()
                    && n.split('.').all(|p| {
                        p.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
                            && p.chars().all(|c| c.is_alphanumeric() || c == '_')
                    });
                if !valid {
                    return Err(r.err(
                        m.span(),
                        "tool.wasiwheel.component.include-modules",
                        format!("has `{n}`, which is not a dotted module name"),
                    ));
                }
            }
            tool.component_include_modules = names;
        }
    }
    if let Some(v) = t.get("version-file") {
        tool.version_file = Some(r.string(v, "tool.wasiwheel.version-file")?.into());
    }
    for (key, field) in [("include", &mut tool.include), ("exclude", &mut tool.exclude)] {
        if let Some(v) = t.get(key) {
            let globs = r.string_list(v, &format!("tool.wasiwheel.{key}"))?;
            for g in &globs {
                if let Err(e) = glob::Pattern::new(g) {
                    return Err(r.err(
                        v.span(),
                        &format!("tool.wasiwheel.{key}"),
                        format!("has `{g}`, which is not a valid glob: {e}"),
                    ));
                }
                if g.starts_with('/') || g.split('/').any(|c| c == "..") {
                    return Err(r.err(
                        v.span(),
                        &format!("tool.wasiwheel.{key}"),
                        format!("has `{g}`: globs are relative to the project root, without `..`"),
                    ));
                }
            }
            *field = globs;
        }
    }
    if let Some(ext) = t.get("ext-modules") {
        let tables: Vec<(Option<std::ops::Range<usize>>, &dyn toml_edit::TableLike)> =
            if let Some(aot) = ext.as_array_of_tables() {
                aot.iter().map(|t| (t.span(), t as &dyn toml_edit::TableLike)).collect()
            } else if let Some(arr) = ext.as_array() {
                arr.iter()
                    .map(|v| {
                        v.as_inline_table()
                            .map(|t| (v.span(), t as &dyn toml_edit::TableLike))
                            .ok_or_else(|| r.err(v.span(), "tool.wasiwheel.ext-modules", "must be an array of tables"))
                    })
                    .collect::<Result<_>>()?
            } else {
                return Err(r.err(
                    ext.span(),
                    "tool.wasiwheel.ext-modules",
                    "must be an array of tables ([[tool.wasiwheel.ext-modules]])",
                ));
            };
        let mut seen = std::collections::BTreeSet::new();
        for (i, (span, et)) in tables.into_iter().enumerate() {
            tool.ext_modules.push(parse_ext_module(r, i, span, et, &mut seen)?);
        }
    }
    Ok(tool)
}

/// One `[[tool.wasiwheel.ext-modules]]` table (the `i`th, at `span`);
/// `seen` holds the names of the tables before it, to refuse duplicates.
fn parse_ext_module(
    r: &Reader,
    i: usize,
    span: Option<std::ops::Range<usize>>,
    et: &dyn toml_edit::TableLike,
    seen: &mut std::collections::BTreeSet<String>,
) -> Result<ExtModuleConfig> {
    let k = format!("tool.wasiwheel.ext-modules[{i}]");
    r.check_keys(et, &k, &ext_keys(), span.clone())?;
    let name_item = et.get("name").ok_or_else(|| {
        r.err(span.clone(), &format!("{k}.name"), "is missing: give the dotted module name, e.g. `pkg._core`")
    })?;
    let name = r.string(name_item, &format!("{k}.name"))?;
    let valid = is_extension_name(&name);
    if !valid {
        return Err(r.err(
            name_item.span(),
            &format!("{k}.name"),
            format!("`{name}` is not a dotted Python module name like `pkg._core`"),
        ));
    }
    if !seen.insert(name.clone()) {
        return Err(r.err(name_item.span(), &format!("{k}.name"), format!("`{name}` is declared twice")));
    }
    let sources_item = et
        .get("sources")
        .ok_or_else(|| r.err(span.clone(), &format!("{k}.sources"), "is missing: list the C/C++ source files"))?;
    let sources: Vec<Utf8PathBuf> =
        r.string_list(sources_item, &format!("{k}.sources"))?.into_iter().map(Utf8PathBuf::from).collect();
    if sources.is_empty() {
        return Err(r.err(sources_item.span(), &format!("{k}.sources"), "is empty: list at least one source file"));
    }
    let list = |key: &str| -> Result<Vec<String>> {
        et.get(key).map(|v| r.string_list(v, &format!("{k}.{key}"))).transpose().map(Option::unwrap_or_default)
    };
    let include_dirs = list("include-dirs")?.into_iter().map(Utf8PathBuf::from).collect();
    let defines = list("defines")?;
    for d in &defines {
        let macro_name = d.split('=').next().unwrap_or("");
        if macro_name.is_empty() || !macro_name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(r.err(
                et.get("defines").and_then(|v| v.span()),
                &format!("{k}.defines"),
                format!("`{d}` is not `NAME` or `NAME=VALUE`"),
            ));
        }
    }
    let libraries = list("libraries")?;
    let language = match et.get("language") {
        Some(l) => match r.string(l, &format!("{k}.language"))?.as_str() {
            "c" => Language::C,
            "c++" | "cxx" | "cpp" => Language::Cxx,
            other => {
                return Err(r.err(
                    l.span(),
                    &format!("{k}.language"),
                    format!("`{other}` is not a language: use \"c\" or \"c++\""),
                ))
            }
        },
        None if sources.iter().any(|s| is_cxx_source(s)) => Language::Cxx,
        None => Language::C,
    };
    let py_limited_api = match et.get("py-limited-api") {
        Some(v) => {
            let s = r.string(v, &format!("{k}.py-limited-api"))?;
            let ok =
                s.strip_prefix("cp3").map(|m| !m.is_empty() && m.chars().all(|c| c.is_ascii_digit())).unwrap_or(false);
            if !ok {
                return Err(r.err(
                    v.span(),
                    &format!("{k}.py-limited-api"),
                    format!("`{s}` is not a limited-API version like `cp39`"),
                ));
            }
            Some(s)
        }
        None => None,
    };
    let extra_compile_args = list("extra-compile-args")?;
    let extra_link_args = list("extra-link-args")?;
    let optional = match et.get("optional") {
        Some(v) => v.as_bool().ok_or_else(|| r.err(v.span(), &format!("{k}.optional"), "must be true or false"))?,
        None => false,
    };
    Ok(ExtModuleConfig {
        name,
        sources,
        include_dirs,
        defines,
        libraries,
        language,
        py_limited_api,
        extra_compile_args,
        extra_link_args,
        optional,
    })
}

//! The one definition of `[tool.wasiwheel]`'s keys: the JSON schema (draft-07)
//! that wasiwheel offers validate-pyproject, from which the reader's lists of
//! allowed keys are taken too. `docs/configuration.md` is tested against it.

use std::sync::OnceLock;

use serde_json::{json, Value};

/// The JSON schema (draft-07) of `[tool.wasiwheel]`.
pub fn tool_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "$id": "https://wasiwheel.invalid/schema/tool.wasiwheel.json",
            "title": "[tool.wasiwheel]",
            "description": "wasiwheel's static build configuration (see docs/configuration.md).",
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "ext-modules": {
                    "description": "Extension modules to build, one table each.",
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": false,
                        "required": ["name", "sources"],
                        "properties": {
                            "name": {
                                "description": "Dotted module name, e.g. pkg._core.",
                                "type": "string",
                                "pattern": "^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*$"
                            },
                            "sources": {
                                "description": "C/C++ sources relative to the project root.",
                                "type": "array", "minItems": 1, "items": {"type": "string"}
                            },
                            "include-dirs": {
                                "description": "Include directories relative to the project root.",
                                "type": "array", "items": {"type": "string"}
                            },
                            "defines": {
                                "description": "NAME or NAME=VALUE preprocessor definitions.",
                                "type": "array", "items": {"type": "string", "pattern": "^[A-Za-z0-9_]+(=.*)?$"}
                            },
                            "libraries": {"description": "Libraries to link \
                                (-l).", "type": "array", "items": {"type": "string"}},
                            "language": {"description": "Source language.", "enum": ["c", "c++", "cxx", "cpp"]},
                            "extra-compile-args": {
                                "description": "Extra compiler arguments, after wasiwheel's own.",
                                "type": "array", "items": {"type": "string"}
                            },
                            "extra-link-args": {
                                "description": "Extra linker arguments (-Wl,... is passed on to wasm-ld for WASI).",
                                "type": "array", "items": {"type": "string"}
                            },
                            "optional": {
                                "description": "true: a failed build of this module gives a wheel without it and a \
                                    warning.",
                                "type": "boolean"
                            },
                            "py-limited-api": {
                                "description": "Build for the limited API of this CPython, e.g. cp39.",
                                "type": "string", "pattern": "^cp3[0-9]+$"
                            }
                        }
                    }
                },
                "backend": {
                    "description": "A PEP 517 backend (module:object, e.g. maturin) that builds the project, run by \
                        wasiwheel in its cross environment for WASI targets and called as it is for the host; no \
                        other key of this table applies then.",
                    "type": "string",
                    "pattern": "^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*(:[A-Za-z_][A-Za-z0-9_.]*)?$"
                },
                "python-source": {
                    "description": "Directory holding the Python packages (default: src if it exists, else the root).",
                    "type": "string"
                },
                "packages": {
                    "description": "Top-level packages/modules to include (default: discovered).",
                    "type": "array", "items": {"type": "string"}
                },
                "version-file": {"description": "Python file whose __version__ = \"...\" gives a dynamic \
                    version.", "type": "string"},
                "include": {"description": "Globs of extra files for the \
                    sdist.", "type": "array", "items": {"type": "string"}},
                "exclude": {"description": "Globs of files to leave out of the \
                    sdist.", "type": "array", "items": {"type": "string"}},
                "component": {
                    "description": "Settings of the component artifact (-C artifact=component).",
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "entry": {
                            "description":
                                "The function the component runs, e.g. pkg.cli:main (default: the only console \
                                    script).",
                            "type": "string",
                            "pattern": "^[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_.]*$"
                        },
                        "wit-path": {
                            "description":
                                "A .wit file or a directory of them (with deps/), relative to the project: the \
                                    component implements a world of it instead of running `entry`.",
                            "type": "string"
                        },
                        "world": {
                            "description": "The world the component implements, e.g. wasi:http/proxy@0.2.0 \
                                (default: the package's only world).",
                            "type": "string"
                        },
                        "app": {
                            "description": "The module whose classes implement the world's exports (as \
                                componentize-py's `componentize APP`).",
                            "type": "string",
                            "pattern": "^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*$"
                        },
                        "include-modules": {
                            "description":
                                "Modules the component keeps even when no import statement reachable from the \
                                    entry names them (imported dynamically), e.g. [\"email.mime.text\"].",
                            "type": "array", "items": {"type": "string"}
                        }
                    }
                }
            }
        })
    })
}

/// The keys of the schema object at `pointer` (a JSON pointer into
/// [`tool_schema`] naming an object with `properties`), in schema order.
pub fn keys_at(pointer: &str) -> Vec<&'static str> {
    tool_schema()
        .pointer(pointer)
        .and_then(|v| v.get("properties"))
        .and_then(Value::as_object)
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

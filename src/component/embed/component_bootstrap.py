"""Run once while a wasiwheel component is initialized (under wizer, at build
time): CPython imports the entry module from the bundle (a zip preopened only
then), and ``seal`` keeps what the component can import at run time.

What ``seal`` keeps, as compiled bytecode (``marshal``, zlib-compressed) in
memory, so that the snapshot holds it and the component needs no files at
run time: the modules reachable from what is imported at that point (the entry
module among them), the ``include-modules`` of the project and a few modules
CPython itself imports lazily (``traceback`` for printing exceptions,
``_strptime``). Reachable means named by an import statement: every import of
the project's own files (also inside functions), and the module-level imports
of the standard library's (the imports that run when the module is imported,
not those inside its functions). Modules already imported need nothing kept.
No source is kept. The other bundled modules are named only, so that
importing one fails with an ImportError that says why.

Without pre-initialization (``preinit`` off in the bundle's settings) this runs
at every start and imports stay served by zipimport from the preopened zip.
"""

import sys, zipimport

# importlib's ModuleSpec without importing anything: importing
# importlib.machinery inside find_spec, when nothing has imported it yet,
# would ask this finder for importlib.machinery, and so on without end.
_ModuleSpec = type(sys.__spec__)

_ZIP = "/wasiwheel-bundle/bundle.zip"
_SETTINGS = "wasiwheel-component.txt"
# Imported lazily by CPython's C code, so no import statement names them;
# and the codecs most often looked up by name (codecs.lookup imports them by name).
_ALWAYS = (
    "traceback",
    "_strptime",
    "linecache",
    "encodings.ascii",
    "encodings.latin_1",
    "encodings.utf_8_sig",
    "encodings.utf_16",
    "encodings.utf_32",
    "encodings.cp1252",
    "encodings.cp437",
    "encodings.idna",
    "encodings.unicode_escape",
    "encodings.raw_unicode_escape",
)


def _bundle():
    """The zipimporter of the bundle: the one that imported from it, as a new
    one would stat the zip, and the freed stat result (host inode and change
    times) would leave bytes that differ from build to build in the snapshot."""
    found = sys.path_importer_cache.get(_ZIP)
    return found if isinstance(found, zipimport.zipimporter) else zipimport.zipimporter(_ZIP)


def _settings():
    text = _bundle().get_data(_SETTINGS).decode()
    out = {"preinit": "1", "include": [], "project": set()}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == "include":
            out["include"].append(value)
        elif key == "project":
            out["project"].add(value)
        elif key:
            out[key] = value
    return out


class WasiwheelBundleImporter:
    """Serves the modules whose bytecode was kept in the component."""

    _code = {}
    _left_out = frozenset()

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        found = cls._code.get(name)
        if found is None:
            if name in cls._left_out:
                raise ModuleNotFoundError(
                    f"No module named {name!r}: wasiwheel left it out of this component, since no import "
                    "statement reachable from the entry module names it; list it in "
                    "[tool.wasiwheel.component] include-modules",
                    name=name,
                )
            return None
        is_pkg, file, _ = found
        spec = _ModuleSpec(name, cls, origin="/bundle/" + file, is_package=is_pkg)
        spec.has_location = True
        if is_pkg:
            spec.submodule_search_locations = ["/bundle/" + file.rsplit("/", 1)[0]]
        return spec

    @staticmethod
    def create_module(spec):
        return None

    @classmethod
    def exec_module(cls, module):
        exec(cls.get_code(module.__spec__.name), module.__dict__)

    @classmethod
    def get_code(cls, name):
        import marshal

        found = cls._code.get(name)
        if found is None:
            return None  # imported at build time: no code kept
        blob = found[2]
        if blob[:1] == b"z":
            import zlib

            blob = zlib.decompress(blob[1:])
        else:
            blob = blob[1:]
        return marshal.loads(blob)

    @classmethod
    def is_package(cls, name):
        found = cls._code.get(name)
        if found is None:
            return hasattr(sys.modules.get(name), "__path__")
        return found[0]

    @classmethod
    def get_source(cls, name):
        # Only bytecode is kept: tracebacks and inspect.getsource have no source lines.
        return None


def _imports(tree, name, is_pkg, everywhere):
    """The modules the import statements of `tree` (module `name`) may load:
    every statement when `everywhere`, else those that run when the module is
    imported (not inside functions, nor under `if __name__ == "__main__"` or
    `if TYPE_CHECKING`)."""
    import ast

    package = name if is_pkg else name.rpartition(".")[0]
    found = set()

    def absolute(level, module):
        if not level:
            return module
        base = package.split(".")
        if level > 1:
            base = base[: -(level - 1)] if level - 1 < len(base) else []
        base = ".".join(base)
        if not base:
            return None
        return base + "." + module if module else base

    def skipped_if(test):
        if isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__":
            return any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators)
        return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        )

    def visit(node):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for a in child.names:
                    found.add(a.name)
            elif isinstance(child, ast.ImportFrom):
                mod = absolute(child.level, child.module)
                if mod:
                    found.add(mod)
                    for a in child.names:
                        if a.name != "*":
                            found.add(mod + "." + a.name)
            elif not everywhere and isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            elif isinstance(child, ast.If) and skipped_if(child.test):
                for c in child.orelse:
                    visit(ast.Module(body=[c], type_ignores=[]))
            else:
                visit(child)

    visit(tree)
    return found


def _keep(settings, zi):
    """Compile what the component keeps; return (kept: name → (is_pkg, file,
    blob)) and the names of the bundled modules left out. What sealing itself
    imports (ast and its imports) counts as imported: forgetting it would
    leave its freed objects in the snapshot and its bytecode kept anyway."""
    import ast, marshal

    try:
        import zlib
    except ImportError:
        zlib = None
    imported = sys.modules
    modules = {}
    for key in zi._get_files():
        path = key.replace("\\", "/")
        if not path.endswith(".py"):
            continue
        parts = path[:-3].split("/")
        if parts[-1] == "__init__":
            modules[".".join(parts[:-1])] = (True, path)
        else:
            modules.setdefault(".".join(parts), (False, path))
    todo = list(imported) + list(settings["include"]) + list(_ALWAYS)
    reached = set()
    while todo:
        name = todo.pop()
        if name in reached:
            continue
        # Importing a.b imports a, also when a.b is not Python source (an
        # extension module, or a name that is not a module at all).
        parts = name.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))
        if name not in modules:
            continue
        reached.add(name)
        is_pkg, path = modules[name]
        source = zi.get_data(path)
        tree = ast.parse(source, "/bundle/" + path)
        todo.extend(_imports(tree, name, is_pkg, path in settings["project"]))
        if name in imported:
            continue
        code = marshal.dumps(compile(tree, "/bundle/" + path, "exec", dont_inherit=True))
        del tree, source
        if zlib is not None:
            code = b"z" + zlib.compress(code, 9)
        else:
            code = b"m" + code
        modules[name] = (is_pkg, path, code)
    kept = {n: modules[n] for n in reached if n not in imported}
    left_out = frozenset(n for n in modules if n not in reached and n not in imported)
    return kept, left_out


def seal():
    """Called once the entry module is imported: keep what the component may
    import (see the module's docstring), and serve imports from memory.
    True when it did (pre-initialization), False without pre-initialization."""
    import gc

    settings = _settings()
    if settings["preinit"] != "1":
        return False
    zi = _bundle()
    kept, left_out = _keep(settings, zi)
    WasiwheelBundleImporter._code = kept
    WasiwheelBundleImporter._left_out = left_out
    del zi
    path_finders = [m for m in sys.meta_path if getattr(m, "__name__", "") == "PathFinder"]
    others = [m for m in sys.meta_path if getattr(m, "__name__", "") != "PathFinder"]
    sys.meta_path[:] = others[:2] + [WasiwheelBundleImporter] + others[2:] + path_finders
    sys.path[:] = [p for p in sys.path if not p.startswith("/wasiwheel-bundle")]
    sys.path_importer_cache.clear()
    zipimport._zip_directory_cache.clear()
    for m in list(sys.modules.values()):
        spec = getattr(m, "__spec__", None)
        if spec is not None and str(getattr(spec, "origin", "") or "").startswith("/wasiwheel-bundle"):
            spec.loader = WasiwheelBundleImporter
            m.__loader__ = WasiwheelBundleImporter
    gc.collect()
    return True


def fresh_start(environ_items, argv):
    """Called by the component's main at every start, before the entry runs:
    give this instance what must not come from the build-time snapshot.

    - ``os.environ`` and ``os.environb`` become the host's environment
      (``environ_items``: the ``b"NAME=VALUE"`` strings of wasi-libc's
      ``environ``); they share ``posix.environ``'s dict, rebuilt in place.
    - The ``random`` module's global generator is reseeded from the host's
      entropy (WASI ``random_get`` through ``os.urandom``), and tempfile's
      name sequence restarts, if they were imported at build time.
    - ``sys.argv`` is the run's ``argv``.
    """
    import posix

    data = posix.environ
    data.clear()
    for item in environ_items:
        name, sep, value = item.partition(b"=")
        if sep:
            data[name] = value
    if "random" in sys.modules:
        sys.modules["random"].seed()
    if "tempfile" in sys.modules:
        sys.modules["tempfile"]._name_sequence = None
    sys.argv = list(argv)

"""Run once while a wasiwheel component is pre-initialized: move the bundled
Python sources into memory and serve imports from there, so that the
snapshot holds them and the component needs no files at run time."""

import sys, zipfile
from importlib.machinery import ModuleSpec

with open("/wasiwheel-bundle/bundle.zip", "rb") as f:
    _zf = zipfile.ZipFile(f)
    _SOURCES = {i.filename: _zf.read(i) for i in _zf.infolist() if i.filename.endswith(".py")}
_MODULES = {}
for _path in _SOURCES:
    _parts = _path[:-3].split("/")
    if _parts[-1] == "__init__":
        _MODULES[".".join(_parts[:-1])] = (True, _path)
    else:
        _MODULES.setdefault(".".join(_parts), (False, _path))

class WasiwheelBundleImporter:
    """Serves modules from the sources baked into the component."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        found = _MODULES.get(name)
        if found is None:
            return None
        is_pkg, file = found
        spec = ModuleSpec(name, cls, origin="/bundle/" + file, is_package=is_pkg)
        spec.has_location = True
        if is_pkg:
            spec.submodule_search_locations = ["/bundle/" + file.rsplit("/", 1)[0]]
        return spec

    @staticmethod
    def create_module(spec):
        return None

    @classmethod
    def exec_module(cls, module):
        file = _MODULES[module.__spec__.name][1]
        exec(compile(_SOURCES[file], "/bundle/" + file, "exec"), module.__dict__)

    @classmethod
    def get_source(cls, name):
        found = _MODULES.get(name)
        return _SOURCES[found[1]].decode("utf-8", "replace") if found else None

_meta = [m for m in sys.meta_path if getattr(m, "__name__", "") != "PathFinder"]
sys.meta_path[:] = _meta[:2] + [WasiwheelBundleImporter] + _meta[2:] + [m for m in sys.meta_path if getattr(m, "__name__", "") == "PathFinder"]
sys.path[:] = [p for p in sys.path if not p.startswith("/wasiwheel-bundle")]
sys.path_importer_cache.clear()
for _m in list(sys.modules.values()):
    if getattr(getattr(_m, "__spec__", None), "origin", "") and str(_m.__spec__.origin).startswith("/wasiwheel-bundle"):
        _m.__loader__ = WasiwheelBundleImporter
del _zf, _path, _parts, _meta


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

"""wasiwheel: a PEP 517 build backend for WebAssembly/WASI (and native) wheels.

Projects select it with::

    [build-system]
    requires = ["wasiwheel"]
    build-backend = "wasiwheel"

A project that another backend builds (maturin, setuptools, meson-python,
scikit-build-core) gets wasiwheel's cross environment for WASI targets by
naming that backend in ``[tool.wasiwheel] backend = "maturin"`` and listing
it in ``requires`` beside wasiwheel; for the host its hooks are called as
they are.

The hooks below only marshal arguments to the native module
``wasiwheel._wasiwheel`` (Rust). A failed build raises ``SystemExit`` with a
message that names the file, key or setting at fault: frontends show the
message without a traceback.
"""

from __future__ import annotations

import sys
from typing import Dict, List, Mapping, Optional, Sequence, Union

from . import _wasiwheel as _native

__version__ = _native.__version__

__all__ = [
    "build_wheel",
    "build_sdist",
    "get_requires_for_build_wheel",
    "get_requires_for_build_sdist",
    "prepare_metadata_for_build_wheel",
    "build_editable",
    "get_requires_for_build_editable",
    "prepare_metadata_for_build_editable",
]

ConfigSettings = Optional[Mapping[str, Union[str, Sequence[str], None]]]


def _config(config_settings: ConfigSettings) -> Dict[str, List[str]]:
    """Normalise PEP 517 ``config_settings`` (values are a string, a list of
    strings when a key is repeated, or None) to ``{key: [values]}``."""
    out: Dict[str, List[str]] = {}
    for key, value in (config_settings or {}).items():
        if value is None:
            values: List[str] = [""]
        elif isinstance(value, str):
            values = [value]
        else:
            values = [str(v) for v in value]
        out[str(key)] = values
    return out


def _call(func, *args):
    """Call a native hook; turn its BuildError into SystemExit(message)."""
    try:
        return func(*args)
    except _native.BuildError as e:
        raise SystemExit(f"wasiwheel: error: {e}") from None


def get_requires_for_build_wheel(config_settings: ConfigSettings = None) -> List[str]:
    """PEP 517: extra requirements to build a wheel: none for wasiwheel's own
    builds (it validates the config settings, so that an unknown ``-C`` key
    fails early); for a project whose ``tool.wasiwheel.backend`` names the
    backend that builds it, that backend's answer."""
    return _call(_native.get_requires, "wheel", _config(config_settings), sys.executable)


def get_requires_for_build_sdist(config_settings: ConfigSettings = None) -> List[str]:
    """PEP 517: extra requirements to build an sdist (as for a wheel)."""
    return _call(_native.get_requires, "sdist", _config(config_settings), sys.executable)


def prepare_metadata_for_build_wheel(metadata_directory: str, config_settings: ConfigSettings = None) -> str:
    """PEP 517: write ``{name}-{version}.dist-info`` into ``metadata_directory``
    (the same METADATA that ``build_wheel`` writes) and return its name."""
    return _call(_native.prepare_metadata_for_build_wheel, metadata_directory, _config(config_settings), sys.executable)


def build_wheel(
    wheel_directory: str, config_settings: ConfigSettings = None, metadata_directory: Optional[str] = None
) -> str:
    """PEP 517: build a wheel of the project in the current directory into
    ``wheel_directory`` and return its file name. ``-C target=wasm32-wasi``
    (or ``WASIWHEEL_TARGET``) makes a WASI wheel."""
    return _call(_native.build_wheel, wheel_directory, _config(config_settings), sys.executable)


def build_sdist(sdist_directory: str, config_settings: ConfigSettings = None) -> str:
    """PEP 517: build the sdist (``{name}-{version}.tar.gz``, PEP 625) into
    ``sdist_directory`` and return its file name."""
    return _call(_native.build_sdist, sdist_directory, _config(config_settings), sys.executable)


def get_requires_for_build_editable(config_settings: ConfigSettings = None) -> List[str]:
    """PEP 660: extra requirements to build an editable wheel (as for a wheel)."""
    return _call(_native.get_requires, "editable", _config(config_settings), sys.executable)


def prepare_metadata_for_build_editable(metadata_directory: str, config_settings: ConfigSettings = None) -> str:
    """PEP 660: the same metadata as ``prepare_metadata_for_build_wheel``."""
    return _call(_native.prepare_metadata_for_build_wheel, metadata_directory, _config(config_settings), sys.executable)


def build_editable(
    wheel_directory: str, config_settings: ConfigSettings = None, metadata_directory: Optional[str] = None
) -> str:
    """PEP 660: build an editable wheel (native builds only): extension modules
    are built in place, and a ``.pth`` file puts the project's Python source
    directory on ``sys.path``. Returns the wheel's file name."""
    return _call(_native.build_editable, wheel_directory, _config(config_settings), sys.executable)

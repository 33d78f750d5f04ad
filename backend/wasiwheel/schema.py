"""The JSON schema of ``[tool.wasiwheel]``, offered to validate-pyproject
through its ``validate_pyproject.tool_schema`` entry point. The schema is
defined once, in Rust (``src/pep517/pyproject/schema.rs``), which also takes
its list of allowed keys from it."""

import json
from typing import Any, Dict

from . import _wasiwheel as _native


def tool_schema(tool_name: str = "wasiwheel") -> Dict[str, Any]:
    """Return the JSON schema (draft-07) of ``[tool.<tool_name>]`` as a dict.

    validate-pyproject calls this with the tool's name; wasiwheel has one table.
    Raises ``KeyError`` for any other name."""
    if tool_name != "wasiwheel":
        raise KeyError(f"wasiwheel provides no schema for [tool.{tool_name}]")
    return json.loads(_native.tool_schema_json())

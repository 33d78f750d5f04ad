"""The JSON schema of ``[tool.wasiwheel]``, offered to validate-pyproject
through its ``validate_pyproject.tool_schema`` entry point."""

import json
from importlib import resources
from typing import Any, Dict


def tool_schema(tool_name: str = "wasiwheel") -> Dict[str, Any]:
    """Return the JSON schema (draft-07) of ``[tool.<tool_name>]`` as a dict.

    validate-pyproject calls this with the tool's name; wasiwheel has one table.
    Raises ``KeyError`` for any other name."""
    if tool_name != "wasiwheel":
        raise KeyError(f"wasiwheel provides no schema for [tool.{tool_name}]")
    return json.loads(resources.files(__package__).joinpath("schema.json").read_text(encoding="utf-8"))

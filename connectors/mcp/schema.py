"""What an MCP server sends us, checked before a model sees it: tool names, input schemas, results.

A server is outside our control: its tool names may not be valid model-API names, its schemas may
not be JSON Schema, its results may be huge or not text. Everything here is pure (no I/O).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

MAX_SCHEMA_BYTES = 64_000
MAX_DESCRIPTION = 1_000
MAX_RESULT_CHARS = 100_000
NAME_LIMIT = 64  # what model APIs accept for a function name
_NOT_NAME = re.compile(r"[^A-Za-z0-9_-]+")


def tool_name(server: str, tool: str) -> str:
    """``SERVER_TOOL`` with only ``[A-Za-z0-9_-]``, at most 64 characters (a long or changed name
    gets a short hash of the original so two tools never end up with one name)."""
    clean = _NOT_NAME.sub("_", tool).strip("_") or "tool"
    name = f"{server}_{clean}"
    if clean != tool or len(name) > NAME_LIMIT:
        digest = hashlib.sha256(tool.encode()).hexdigest()[:6]
        name = f"{name[:NAME_LIMIT - 7]}_{digest}"
    return name


def schema_problem(schema: Any) -> str | None:
    """Why ``schema`` cannot be a tool's argument schema (a JSON Schema object), else None."""
    if not isinstance(schema, dict):
        return f"the input schema is a {type(schema).__name__}, not a JSON object"
    size = len(json.dumps(schema, default=str))
    if size > MAX_SCHEMA_BYTES:
        return f"the input schema has {size:,} bytes, over the limit of {MAX_SCHEMA_BYTES:,}"
    if schema.get("type", "object") != "object":
        return f"the input schema's type is {schema.get('type')!r}; tool arguments must be an object"
    props = schema.get("properties", {})
    if not isinstance(props, dict) or not all(isinstance(v, dict | bool) for v in props.values()):
        return "the input schema's 'properties' is not an object of schemas"
    outside = _outside_ref(schema)
    if outside is not None:
        return (f"the input schema refers to {outside!r}; only references inside the schema "
                "('#/...') are allowed (nothing is fetched)")
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        return "the input schema's 'required' is not a list of names"
    try:
        validator_class(schema).check_schema(schema)
    except Exception as exc:  # noqa: BLE001 - jsonschema's SchemaError, or a broken $schema
        return f"the input schema is not valid JSON Schema: {getattr(exc, 'message', exc)}"
    return None


def _outside_ref(node: Any, depth: int = 0) -> str | None:
    """The first ``$ref`` (or ``$dynamicRef``) that does not point inside the schema."""
    if depth > 64:
        return "(a schema nested over 64 levels)"
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("$ref", "$dynamicRef") and not str(value).startswith("#"):
                return str(value)
            found = _outside_ref(value, depth + 1)
            if found is not None:
                return found
    elif isinstance(node, list):
        for value in node:
            found = _outside_ref(value, depth + 1)
            if found is not None:
                return found
    return None


def validator_class(schema: dict[str, Any]) -> Any:
    from jsonschema import Draft202012Validator
    from jsonschema.validators import validator_for

    return validator_for(schema, default=Draft202012Validator)


def arguments_validator(schema: dict[str, Any]) -> Any:
    """A validator for calls (local ``$ref`` only: nothing is fetched)."""
    from referencing import Registry

    return validator_class(schema)(schema, registry=Registry())


def first_error(validator: Any, args: dict[str, Any]) -> str | None:
    from jsonschema.exceptions import best_match

    error = best_match(validator.iter_errors(args))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path)
    return f"{where}: {error.message}" if where else str(error.message)


def model_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema as models get it: an object with properties (MCP allows leaving them out)."""
    out = {"type": "object", **schema}
    out.setdefault("properties", {})
    return out


def description(server: str, tool: Any) -> str:
    """The server's description of a tool (text from outside: cut short, chat-template tokens
    and our data-block tags made harmless), with where the tool comes from."""
    from framework.tools.untrusted import neutralise

    text = neutralise((tool.description or getattr(tool, "title", None) or tool.name or "").strip())
    if len(text) > MAX_DESCRIPTION:
        text = text[:MAX_DESCRIPTION] + "..."
    return f"{text} (tool {tool.name!r} of MCP server {server!r})".strip()


def _part(block: Any) -> str:
    kind = getattr(block, "type", "")
    if kind == "text":
        return str(block.text)
    if kind == "resource":
        inner = block.resource
        return str(getattr(inner, "text", None) or f"[resource {inner.uri}]")
    if kind == "resource_link":
        return f"[resource {block.uri}]"
    mime = getattr(block, "mime_type", None) or "unknown type"
    return f"[{kind or 'content'} ({mime}) not shown]"


def result_text(result: Any) -> str:
    """A call result as text: its text parts joined; structured content as JSON when the result
    has no text; cut at :data:`MAX_RESULT_CHARS`."""
    text = "\n".join(_part(b) for b in result.content or [])
    if not text.strip() and result.structured_content is not None:
        text = json.dumps(result.structured_content, ensure_ascii=False, default=str)
    if len(text) > MAX_RESULT_CHARS:
        text = text[:MAX_RESULT_CHARS] + f"\n[... cut at {MAX_RESULT_CHARS:,} characters]"
    return text

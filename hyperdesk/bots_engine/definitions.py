"""What a bot is made of — code, input schema, configuration — checked before it is stored.

The server never runs a user's code in its own process: code is only *compiled* here (a syntax
check) and executed later inside the sandbox. The input schema must itself be a valid JSON Schema,
and the configuration is validated against it both on save and on start, with one error per
field so the browser can show each next to its input.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from hyperdesk.errors import InvalidInput

MAX_CODE_BYTES = 256 * 1024
MAX_SCHEMA_BYTES = 64 * 1024
MAX_CONFIG_BYTES = 64 * 1024
#: JSON nested deeper than this is refused before any validator recurses into it.
MAX_JSON_DEPTH = 32


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


def invalid(code: str, message: str, errors: list[FieldError] | None = None) -> InvalidInput:
    extra: dict[str, Any] = {}
    if errors:
        extra["errors"] = [e.to_dict() for e in errors]
    return InvalidInput(message, code=code, extra=extra)


def check_code(code: str) -> None:
    """Refuse code that is too large or does not compile; never executes it."""
    size = len(code.encode("utf-8", errors="surrogatepass"))
    if size > MAX_CODE_BYTES:
        raise invalid(
            "CODE_TOO_LARGE",
            f"Bot code is limited to {MAX_CODE_BYTES // 1024} KiB; this is {size // 1024} KiB.",
            [FieldError("code", "too large")],
        )
    if "\x00" in code:
        raise invalid(
            "CODE_INVALID", "Bot code must not contain NUL characters.", [FieldError("code", "NUL")]
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarnings are the author's business
            compile(code, "<bot>", "exec", dont_inherit=True)
    except SyntaxError as exc:
        where = f"line {exc.lineno}" + (f", column {exc.offset}" if exc.offset else "")
        raise invalid(
            "CODE_SYNTAX",
            f"The code does not compile: {exc.msg} ({where}).",
            [FieldError("code", f"{exc.msg} ({where})")],
        ) from None
    except (ValueError, RecursionError, MemoryError, OverflowError) as exc:
        # Pathological nesting or literals: refused the same way, without crashing the request.
        raise invalid(
            "CODE_SYNTAX",
            f"The code does not compile: {exc.__class__.__name__}.",
            [FieldError("code", exc.__class__.__name__)],
        ) from None
    if "class Bot" not in code:
        raise invalid(
            "CODE_NO_BOT_CLASS",
            "The code must define `class Bot` (see the bot contract in docs/bots.md).",
            [FieldError("code", "no `class Bot`")],
        )


def _depth(value: Any, limit: int = MAX_JSON_DEPTH) -> int:
    stack: list[tuple[Any, int]] = [(value, 1)]
    deepest = 0
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest


def _check_json_size(value: Any, *, name: str, max_bytes: int) -> None:
    if _depth(value) > MAX_JSON_DEPTH:
        raise invalid(
            f"{name.upper()}_TOO_DEEP",
            f"The {name.replace('_', ' ')} is nested deeper than {MAX_JSON_DEPTH} levels.",
            [FieldError(name, "too deep")],
        )
    size = len(json.dumps(value, separators=(",", ":")).encode())
    if size > max_bytes:
        raise invalid(
            f"{name.upper()}_TOO_LARGE",
            f"The {name.replace('_', ' ')} is limited to {max_bytes // 1024} KiB.",
            [FieldError(name, "too large")],
        )


def check_schema(schema: dict[str, Any]) -> Draft202012Validator:
    """The schema must be a JSON Schema (draft 2020-12) describing an object."""
    _check_json_size(schema, name="input_schema", max_bytes=MAX_SCHEMA_BYTES)
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
        raise invalid(
            "INVALID_SCHEMA",
            f"The input schema is not a valid JSON Schema: {exc.message} at {where}.",
            [FieldError("input_schema", f"{exc.message} at {where}")],
        ) from None
    if schema.get("type", "object") != "object":
        raise invalid(
            "INVALID_SCHEMA",
            'The input schema must describe an object ("type": "object").',
            [FieldError("input_schema", 'must have "type": "object"')],
        )
    # Remote references would make the server fetch URLs while validating: refuse them.
    if _has_remote_ref(schema):
        raise invalid(
            "INVALID_SCHEMA",
            "The input schema may only use local references (#/...).",
            [FieldError("input_schema", "remote $ref")],
        )
    return Draft202012Validator(schema)


def _has_remote_ref(value: Any) -> bool:
    if isinstance(value, dict):
        ref = value.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            return True
        return any(_has_remote_ref(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_remote_ref(v) for v in value)
    return False


def _field_errors(error: Any) -> list[FieldError]:
    """One error per input field; a missing required property is reported at that property."""
    path = "config" + "".join(f".{p}" for p in error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        return [FieldError(f"{path}.{name}", "is required") for name in missing]
    return [FieldError(path, error.message)]


def check_config(schema: dict[str, Any], config: dict[str, Any]) -> None:
    """Validate `config` against `schema`; every violated field is reported, not just the first."""
    _check_json_size(config, name="config", max_bytes=MAX_CONFIG_BYTES)
    validator = check_schema(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if not errors:
        return
    field_errors = [e for error in errors[:50] for e in _field_errors(error)]
    message = "; ".join(f"{e.field}: {e.message}" for e in field_errors[:5])
    raise invalid(
        "INVALID_CONFIG", f"The configuration does not match the schema: {message}", field_errors
    )

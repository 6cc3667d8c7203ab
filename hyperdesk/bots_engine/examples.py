"""The example bots shipped in the checkout's `examples/bots/`, offered as starting points.

Each example is three files side by side: `<name>.py` (the bot), `<name>.schema.json` (its input
schema) and `<name>.config.json` (a sample configuration). They are read from the checkout next to
the package, so a server running from an installed checkout serves the very files its docs and
tests use; a package installed without the checkout has none, and says so instead of answering an
empty list that would look like "there are no examples".
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hyperdesk.errors import ServiceUnavailable

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples" / "bots"


@dataclass(frozen=True)
class BotExample:
    name: str
    title: str
    description: str
    code: str
    input_schema: dict[str, Any]
    config: dict[str, Any]


def load_examples(directory: Path = EXAMPLES_DIR) -> list[BotExample]:
    """Every complete example in `directory`, by name; `EXAMPLES_MISSING` when there are none."""
    if not directory.is_dir():
        raise _missing()
    examples = [
        _load(code)
        for code in sorted(directory.glob("*.py"))
        if _sibling(code, "schema").is_file() and _sibling(code, "config").is_file()
    ]
    if not examples:
        raise _missing()
    return examples


def _missing() -> ServiceUnavailable:
    return ServiceUnavailable(
        "The example bots are not installed on this server: they live in the checkout's "
        "examples/bots directory, next to the hyperdesk package.",
        code="EXAMPLES_MISSING",
    )


def _sibling(code: Path, kind: str) -> Path:
    return code.with_name(f"{code.stem}.{kind}.json")


def _load(code_path: Path) -> BotExample:
    code = code_path.read_text(encoding="utf-8")
    # The docstring is read from the syntax tree: an example is parsed, never imported or run.
    docstring = ast.get_docstring(ast.parse(code)) or ""
    return BotExample(
        name=code_path.stem,
        title=code_path.stem.replace("_", " ").capitalize(),
        description=docstring.split("\n\n", 1)[0].replace("\n", " ").strip(),
        code=code,
        input_schema=json.loads(_sibling(code_path, "schema").read_text(encoding="utf-8")),
        config=json.loads(_sibling(code_path, "config").read_text(encoding="utf-8")),
    )

"""The paper exchange and the protocol rules stand on their own: neither imports the client."""

from __future__ import annotations

import ast
from pathlib import Path

import hyperdesk

PACKAGE = Path(hyperdesk.__file__).parent
CLIENT_SIDE = ("exchange", "trading", "http", "accounts", "wallets", "actors", "bots_engine")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def _client_imports(package: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted((PACKAGE / package).rglob("*.py")):
        bad = [
            name
            for name in _imports(path)
            if any(name.startswith(f"hyperdesk.{side}") for side in CLIENT_SIDE)
        ]
        if bad:
            found[str(path.relative_to(PACKAGE))] = sorted(bad)
    return found


def test_the_paper_exchange_imports_nothing_of_the_client():
    assert _client_imports("paper") == {}


def test_the_protocol_rules_import_nothing_of_either_side():
    assert _client_imports("protocol") == {}
    assert not any(
        name.startswith("hyperdesk.paper")
        for path in (PACKAGE / "protocol").rglob("*.py")
        for name in _imports(path)
    )

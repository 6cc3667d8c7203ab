"""hyperdesk.bots runs inside the sandbox, where only the standard library exists."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import hyperdesk.bots
from hyperdesk.sandbox.python_home import base_executable

BOTS_PACKAGE = Path(hyperdesk.bots.__file__).parent


def test_every_import_in_the_bot_package_is_stdlib_or_the_package_itself() -> None:
    offenders = []
    for path in sorted(BOTS_PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if not (name.startswith("hyperdesk.bots") or top in sys.stdlib_module_names):
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []


def test_the_copied_runtime_imports_under_an_isolated_interpreter(tmp_path: Path) -> None:
    """Only the copied package on sys.path, no site-packages: what the sandbox gives it."""
    runtime = tmp_path / "runtime"
    shutil.copytree(BOTS_PACKAGE, runtime / "hyperdesk" / "bots")
    (runtime / "hyperdesk" / "__init__.py").write_text("")
    script = (
        "import sys; sys.path[:] = [p for p in sys.path if 'site-packages' not in p];"
        f"sys.path.insert(0, {str(runtime)!r});"
        "import hyperdesk.bots.runtime, hyperdesk.bots.api, hyperdesk.bots.__main__;"
        "print(sorted(m for m in sys.modules if m.startswith('hyperdesk')))"
    )
    result = subprocess.run(
        [str(base_executable()), "-I", "-S", "-B", "-c", script],
        env={},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(
        [
            "hyperdesk",
            "hyperdesk.bots",
            "hyperdesk.bots.__main__",
            "hyperdesk.bots.api",
            "hyperdesk.bots.limits",
            "hyperdesk.bots.runtime",
            "hyperdesk.bots.wire",
        ]
    )

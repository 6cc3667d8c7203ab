"""Test fixtures shared by the whole suite (each plugin module holds one concern)."""

pytest_plugins = [
    "tests.fixtures.database",
    "tests.fixtures.app",
    "tests.fixtures.paper",
]

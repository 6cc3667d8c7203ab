"""Test fixtures shared by the whole suite (each plugin module holds one concern)."""

pytest_plugins = [
    "tests.fixtures.database",
    "tests.fixtures.paper",
    "tests.fixtures.app",
]

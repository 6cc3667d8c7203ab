"""Test fixtures shared by the whole suite."""

pytest_plugins = ["tests.fixtures.paper"]

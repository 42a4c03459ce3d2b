"""Browser tier (a package so its conftest and helpers do not clash with tests/conftest.py)."""

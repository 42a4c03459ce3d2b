"""Maintainer scripts (run from the repository root)."""

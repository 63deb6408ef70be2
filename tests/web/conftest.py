"""Fixtures for the shell's pages: the logged-in client per persona of the resident pages' tests."""

from tests.residents.conftest import household, login  # noqa: F401  (pytest fixtures)

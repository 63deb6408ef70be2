"""Stage ``contracts`` (written once the contracts app's models are settled)."""

from __future__ import annotations


def available() -> bool:
    return False


def build_contracts(ctx) -> None:
    raise RuntimeError("contracts stage not available")

"""Stage ``programmes`` (written once the programmes app's models are settled)."""

from __future__ import annotations


def available() -> bool:
    return False


def build_programmes(ctx) -> None:
    raise RuntimeError("programmes stage not available")

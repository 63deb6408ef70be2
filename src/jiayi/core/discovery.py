"""Filling registries from the apps that own their content.

A registry (the indicator catalogue, the diagnosis groups, the contract service items, the synth
stages) is a plain module-level table with a ``register()`` function; the content comes from a module
of a conventional name in each app — ``indicators.py``, ``diagnoses.py``, ``service_items.py`` — that
calls ``register()`` when imported, as Django's admin does with ``admin.py``. :func:`autodiscover`
imports that module of every installed app, and of every folder directly inside an installed app
(a programme folder declares its content the same way whether or not it is an app of its own).
Nothing here names an app.
"""

from __future__ import annotations

import importlib
import os
import pkgutil

__all__ = ["autodiscover"]

_DONE: dict[str, tuple[str, ...]] = {}


def _candidates(module: str) -> list[str]:
    from django.apps import apps

    out: list[str] = []
    for config in apps.get_app_configs():
        out.append(f"{config.name}.{module}")
        path = getattr(config.module, "__path__", None)
        for info in pkgutil.iter_modules(path or ()):
            if info.ispkg and os.path.exists(os.path.join(path[0], info.name, f"{module}.py")):
                out.append(f"{config.name}.{info.name}.{module}")
    return list(dict.fromkeys(out))


def autodiscover(module: str) -> tuple[str, ...]:
    """Import ``<app>.<module>`` and ``<app>.<folder>.<module>`` wherever they exist (once per name;
    the apps must be loaded). Returns the modules imported."""
    if module in _DONE:
        return _DONE[module]
    _DONE[module] = ()  # a module imported below may ask again
    found: list[str] = []
    for name in _candidates(module):
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        found.append(name)
    _DONE[module] = tuple(found)
    return _DONE[module]

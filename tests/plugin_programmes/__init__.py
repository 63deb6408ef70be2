"""Test-only programmes, one of each kind, installed only by the test settings (tests/settings.py).

Each folder is everything a programme needs: an app config, its declaration (``programme.py``), its
rules and rule set, and its English catalogue. Nothing outside its folder names it: that is what
tests/programmes/test_plugins.py checks.
"""

#!/usr/bin/env python
"""Django's command-line utility; `jiayi` (the console script) is the same thing."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

from jiayi.cli import main  # noqa: E402

if __name__ == "__main__":
    main(sys.argv[1:])

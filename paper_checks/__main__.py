"""``python -m paper_checks``: the same as ``rdpc check``."""

import sys

from .cli import main

__all__: list[str] = []

if __name__ == "__main__":
    sys.exit(main())

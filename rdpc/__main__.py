"""``python -m rdpc``: the same as the ``rdpc`` console script."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())

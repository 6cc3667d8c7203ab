"""Start Hyperdesk with defaults that need no configuration: `python main.py`."""

import sys

from hyperdesk.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))

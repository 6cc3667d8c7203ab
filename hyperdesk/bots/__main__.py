"""`python -m hyperdesk.bots '<json config>'`: run the bot runtime (see hyperdesk.bots.runtime)."""

import sys

from hyperdesk.bots.runtime import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""`python -m chainoftrust` runs the CLI."""

import sys

from chainoftrust.cli import main

sys.exit(main())

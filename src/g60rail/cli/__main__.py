"""``python -m g60rail.cli``: the ``g60rail`` command."""

import sys

from g60rail.cli import main

sys.exit(main())

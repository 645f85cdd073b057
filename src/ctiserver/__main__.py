"""`python -m ctiserver`: the same command line as `ctiserver`."""

from __future__ import annotations

import sys

from ctiserver.cli import main

sys.exit(main())

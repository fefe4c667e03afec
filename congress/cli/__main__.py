"""`python -m congress.cli …`: the same as the `congress` command."""

import sys

from congress.cli import main

sys.exit(main())

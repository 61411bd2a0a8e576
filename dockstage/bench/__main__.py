"""`python -m dockstage.bench`."""

import sys

from dockstage.bench.run import main

sys.exit(main())

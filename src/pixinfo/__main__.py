"""``python -m pixinfo`` (used by ``torchrun -m pixinfo train ...``)."""

import sys

from pixinfo.cli import main

sys.exit(main())

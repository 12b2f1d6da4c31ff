"""``python -m survey`` is the ``survey`` console command (see :mod:`survey.cli`)."""
import sys

from .cli import main

sys.exit(main())

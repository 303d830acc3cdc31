"""`python -m falls_eval DIR [--json] [--loso]`: score the fall detector on MobiFall-layout recordings."""

import sys

from falls_eval.report import main

sys.exit(main())

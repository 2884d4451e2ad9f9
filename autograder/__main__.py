"""python -m autograder: the same command as `rnnkit` (autograder/cli.py)."""
import sys

from .cli import main

sys.exit(main())

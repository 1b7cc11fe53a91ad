"""`python -m gdcore`: the same command as `gdcore` (and what torchrun starts with -m)."""
import sys

from .cli import main

sys.exit(main())

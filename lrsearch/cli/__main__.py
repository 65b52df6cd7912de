"""``python -m lrsearch.cli``."""

from lrsearch.cli import console_main

console_main()

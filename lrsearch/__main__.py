"""``python -m lrsearch``."""

from lrsearch.cli import console_main

console_main()

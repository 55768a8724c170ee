"""``python -m flopaudit``."""

from flopaudit.cli.app import main

main()

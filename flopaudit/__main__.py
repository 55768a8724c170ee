"""``python -m flopaudit``."""

from flopaudit.cli.app import main

if __name__ == "__main__":  # not when a spawned child process re-imports the main module
    main()

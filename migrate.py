#!/usr/bin/env python3
"""`python migrate.py migrate [--dsn ...]` — the same commands as the `crm360` CLI."""

from crm360.cli import main

if __name__ == "__main__":
    main()

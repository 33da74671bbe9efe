"""crm360 — a Customer-360 CRM layer that lives in PostgreSQL.

The Python package is deliberately thin: it starts an embedded server, applies the
versioned SQL, parses source exports and COPYs them in, and prints what the SQL
functions return. Everything that decides what the data means lives in SQL.
"""

__version__ = "0.1.0"

"""Storage: SQLAlchemy models and engine set-up (SQLite by default, PostgreSQL in production)."""

"""Services at home over SQLite and the real PostgreSQL: the care record's fixtures (example installation, clock)."""

from tests.integration.care.conftest import client, clock, database_url, services  # noqa: F401

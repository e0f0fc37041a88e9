"""The repositories, written once in SQL that both SQLite and PostgreSQL run."""

"""The SQLite backend: one file in DATA_DIR, one process at a time."""

"""The PostgreSQL backend: a connection pool; several Iris processes may share the database."""

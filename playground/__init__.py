"""Emulators of the services Iris talks to, for the tests and the benchmark."""

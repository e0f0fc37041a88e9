"""Emulators of the four provider APIs on loopback HTTP: the tests' fakes, the playground's demo."""

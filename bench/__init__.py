"""The benchmark: the real bot in its own process against loopback fakes, played by many users."""

"""What more than one feature answers the same way: a stale button, the ⭐ favorite."""

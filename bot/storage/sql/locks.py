"""Keys of the transactions that may run in parallel on PostgreSQL (`SqlDatabase.transaction`).

PostgreSQL hashes a key to 32 bits (`hashtext`): two keys that collide only take turns.
"""

from __future__ import annotations


def user_lock(user_id: int) -> str:
    """The transaction key of one user's rows (their jobs' admission and limits, rate hits,
    preferences)."""
    return f"user:{user_id}"


def quota_lock(key: str) -> str:
    """The transaction key of one quota's hits."""
    return f"quota:{key}"

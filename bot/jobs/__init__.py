"""Durable generation and describe jobs: stored before any provider call, resumed after restarts."""

"""Durable state: the Store interface (base.py) and one module per engine."""

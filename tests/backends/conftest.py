"""The store fixtures of the contract tests (one store per engine), shared by the modules here."""

from .test_store_contract import factory, store  # noqa: F401  (fixtures)

"""Fixtures of the reliability tests live in tests/conftest.py (`loads`, `sessions`): the Spark and H2O
reliability tests beside their engines' tests use them too."""

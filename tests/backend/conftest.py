"""Backend tests use the real-anvil fixtures of tests/conftest.py."""

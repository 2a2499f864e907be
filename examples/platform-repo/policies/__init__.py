"""ACME's own checkov policies (loaded by `tfgen check --policies policies` and by tests/test_policies.py)."""

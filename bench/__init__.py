"""Benchmarks of the studio under load: ``python -m bench`` (see bench/README.md). Not tests:
they print figures and assert nothing."""

"""Benchmarks: every optimisation measured side by side against what it replaces.

Run with ``make bench`` (or ``python -m bench --help``). Not part of the product:
nothing in the apps imports from here.
"""

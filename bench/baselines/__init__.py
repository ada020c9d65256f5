"""What the optimisations replaced, rebuilt faithfully so they can be measured today.

These views exist only under the bench's URL configuration (``bench.urls``), never in
the product's.
"""

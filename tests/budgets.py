"""Query budgets shared by the API tests.

Every authenticated API request spends these before the view's own queries. Tests
name each query in a comment and build the total from these constants, so a change
to authentication or tenant resolution changes one line here, not every test.
Measured requests are made after a warm-up request (caches warm).
"""

# 1: DRF TokenAuthentication loads the token with its user (one join).
AUTH_QUERIES = 1
# 1: the user's membership, joined with the business and its settings.
TENANT_QUERIES = 1

REQUEST_OVERHEAD = AUTH_QUERIES + TENANT_QUERIES

"""Query budgets shared by the API tests.

Every authenticated API request spends these before the view's own queries. Tests
name each query in a comment and build the total from these constants, so a change
to authentication or tenant resolution changes one line here, not every test.

Measured requests are made after a warm-up request by the same user for the same
business: the tenant caches (businesses/cache.py) are then warm, which is how a
server spends its requests. The caches are emptied before every test (conftest.py).
A test that changes a Business, its settings or a Membership after a request must
let the change commit for the cache to see it: wrap the change in
``django_capture_on_commit_callbacks(execute=True)``, as production commits.
"""

# 1: DRF TokenAuthentication loads the token with its user (one join).
AUTH_QUERIES = 1
# 0: the user's memberships and the business with its settings come from the caches.
TENANT_QUERIES = 0

REQUEST_OVERHEAD = AUTH_QUERIES + TENANT_QUERIES

# A cold request (first of its user, or after a change) resolves its tenant with
# 1 the user's memberships, 2 the business joined with its settings.
COLD_TENANT_QUERIES = 2

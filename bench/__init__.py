"""`just bench`: the GraphQL API against a plain Starlette + asyncpg floor, in one run.

Not a test: it prints figures (requests/s, p50, p99, the ratio) and never asserts a time.
"""

"""The bottom layer: helpers every process may import. It imports nothing of ours, so the
worker can use it without loading the API's libraries (Strawberry, SQLAlchemy, redis)."""

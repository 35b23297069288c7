"""The map function library, one module per group; ``registry`` holds the contract."""

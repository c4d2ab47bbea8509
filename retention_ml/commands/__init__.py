"""One module per ``retention-ml`` subcommand; each defines ``register(app)``."""

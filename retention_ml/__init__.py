"""retention-ml: turnover risk for children's social workers in English councils.

Predictions support a conversation with a worker; they never decide anything
about a person.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]

"""slmlab: a laboratory for cross-lingual spoken language models."""

__version__ = "0.1.0"

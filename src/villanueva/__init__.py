"""villanueva: character-level language models that learn a list of names and invent new ones."""

__version__ = "0.1.0"

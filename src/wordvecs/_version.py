"""The version of wordvecs, in a module of its own so that any module can name it without
importing the package's face (``wordvecs/__init__.py``, whose lazy table reaches every room)."""

__version__ = "0.1.0"

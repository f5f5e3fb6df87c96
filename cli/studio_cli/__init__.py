"""The `studio` command line: a light client of Studio's REST API (no Django import)."""

__version__ = "0.1.0"

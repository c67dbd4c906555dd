"""digest: a static site generator for research digests."""

# The one place the version is written (pyproject.toml reads it from here); a plain
# string, because looking it up in the installed metadata costs every command 20 ms.
__version__ = "0.1.0"

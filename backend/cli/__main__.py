"""``python -m backend.cli``: the same as ``yinqi``."""

from backend.cli import main

main(prog_name="yinqi")

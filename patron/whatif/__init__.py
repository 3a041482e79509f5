"""What if: a draft program replayed over recorded history (docs/whatif.md)."""

# The engine first: when `make install` compiled it, the replay's walk is served from the same
# build (patron/engine/native.py, COMPILED), which the engine's activation makes importable.
import patron.engine  # noqa: F401

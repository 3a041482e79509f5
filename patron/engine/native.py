"""Which pricing engine runs: the mypyc-compiled one, or the pure-Python source.

`scripts/build_engine.py` (run by `make install`) compiles `COMPILED` with mypyc into a
directory of the virtualenv, never beside the source: `<sys.prefix>/patron-engine/<key>/`,
where `<key>` is a hash of every source file of this package (the exact bytes compiled), the
Python version and the extension ABI. At import, `patron.engine` computes the key of the
source files as they are now and uses the compiled modules only from the directory of that
very key, through an import hook that serves just those module names from just those files.
An edited source, a new file, another Python: another key, no such directory, the pure-Python
source runs. So a stale binary can never be imported; the next `make install` builds anew.

`PATRON_ENGINE_PURE=1` forces the pure-Python engine. `patron.engine.ENGINE` says which one
is in use ("compiled" or "pure") and `patron.engine.ENGINE_REASON` why.

Standard library only: this runs on every import of the engine, in production too.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

# Compiled, in this order of import. Their data classes live in pricing_data, which stays
# plain Python (see its docstring); points and stored_value are not on the quoting path. The
# what-if replay's walk (pure Python too, no Django: contract replay-pure) calls the engine a
# million times a replay, so it is compiled with it, against its types.
COMPILED = ("patron.engine.money", "patron.engine.pricing", "patron.whatif.replay")
# Imported as the engine activates; the rest are served from the build when first imported
# (the engine does not import a module floors above it).
ACTIVATED = COMPILED[:2]
# Sources beside the package's own, relative to `patron/`: hashed and compiled with it.
COMPANIONS = ("whatif/replay.py",)
GROUP = "patron_engine"  # mypyc's shared library for the group: `patron_engine__mypyc`
SHARED_LIBRARY = f"{GROUP}__mypyc"
PACKAGE_DIR = Path(__file__).resolve().parent
MANIFEST = "manifest.json"
PURE_VARIABLE = "PATRON_ENGINE_PURE"


def build_root() -> Path:
    """Where builds go: inside the virtualenv, so a binary never outlives its interpreter's
    environment and is never on sys.path."""
    return Path(sys.prefix) / "patron-engine"


def source_hashes(package_dir: Path = PACKAGE_DIR) -> dict[str, str]:
    """sha256 of every source file of the package, by file name, and of its companions (by
    their path under `patron/`, when there). All of them, not only the compiled ones: the
    compiled code was built against the types the others declare."""
    hashes = {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(package_dir.glob("*.py"))
    }
    for relative in COMPANIONS:
        companion = package_dir.parent / relative
        if companion.is_file():
            hashes[relative] = hashlib.sha256(companion.read_bytes()).hexdigest()
    return hashes


def build_key(hashes: Mapping[str, str]) -> str:
    """Names the build of these exact sources for this interpreter."""
    identity = {
        "sources": dict(sorted(hashes.items())),
        "python": sys.version,
        "abi": importlib.machinery.EXTENSION_SUFFIXES[0],
        "modules": list(COMPILED),
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Selection:
    engine: str  # "compiled" or "pure"
    reason: str
    modules: Mapping[str, Path]  # module name -> extension file (empty for pure)


def select(
    package_dir: Path = PACKAGE_DIR,
    root: Path | None = None,
    environ: Mapping[str, str] = os.environ,
) -> Selection:
    """The compiled engine if a build of exactly these sources is there, else pure Python."""
    if environ.get(PURE_VARIABLE, "") not in ("", "0"):
        return Selection("pure", f"{PURE_VARIABLE} is set", {})
    hashes = source_hashes(package_dir)
    directory = (root if root is not None else build_root()) / build_key(hashes)
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError):
        return Selection("pure", "no compiled build of these sources (make install builds)", {})
    # The directory name is the key already; checking file by file as well costs nothing
    # and names what changed if the key scheme were ever broken.
    if manifest.get("sources") != hashes:
        return Selection("pure", "the build's sources differ from these", {})
    modules = {name: directory / relative for name, relative in manifest["modules"].items()}
    if set(modules) != {*COMPILED, SHARED_LIBRARY} or not all(
        path.is_file() for path in modules.values()
    ):
        return Selection("pure", "the build is incomplete", {})
    return Selection("compiled", f"built by mypyc into {directory}", modules)


class _CompiledFinder(importlib.abc.MetaPathFinder):
    """Serves the compiled modules, by exact name, from the files of one checked build."""

    def __init__(self, modules: Mapping[str, Path]) -> None:
        self.modules = dict(modules)

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        file = self.modules.get(fullname)
        if file is None:
            return None
        loader = importlib.machinery.ExtensionFileLoader(fullname, str(file))
        return importlib.util.spec_from_file_location(fullname, file, loader=loader)


def activate(selection: Selection) -> Selection:
    """Import the compiled modules now (all or none); any failure leaves pure Python."""
    if selection.engine != "compiled":
        return selection
    finder = _CompiledFinder(selection.modules)
    sys.meta_path.insert(0, finder)
    try:
        for name in ACTIVATED:
            module = importlib.import_module(name)
            if not _is_compiled(module):
                raise ImportError(f"{name} came from {module.__file__}")
    except Exception as error:  # noqa: BLE001 - whatever broke, the source still works
        sys.meta_path.remove(finder)
        for name in (*COMPILED, SHARED_LIBRARY):
            sys.modules.pop(name, None)
        return Selection("pure", f"the compiled engine failed to load: {error}", {})
    return selection


def _is_compiled(module: ModuleType) -> bool:
    return str(getattr(module, "__file__", "")).endswith(
        tuple(importlib.machinery.EXTENSION_SUFFIXES)
    )


def load_pure(package_dir: Path = PACKAGE_DIR, prefix: str = "patron.engine._pure") -> ModuleType:
    """The pure-Python `pricing` (with its own pure `money`) as a separate module, beside a
    compiled one in the same process, so tests can compare the two. It shares
    `pricing_data`, so both engines take and return the same classes."""
    money = _load_source(f"{prefix}.money", package_dir / "money.py")
    # pricing.py imports `patron.engine.money`: let it find the pure one while it loads.
    saved = sys.modules.get("patron.engine.money")
    sys.modules["patron.engine.money"] = money
    try:
        return _load_source(f"{prefix}.pricing", package_dir / "pricing.py")
    finally:
        if saved is not None:
            sys.modules["patron.engine.money"] = saved
        else:
            sys.modules.pop("patron.engine.money", None)


def _load_source(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module

"""Load oscrypto on OpenSSL 3.0.10 and later, where its libcrypto version check fails.

pyas2lib signs and encrypts with oscrypto. oscrypto 1.3.0 (the last release)
reads libcrypto's version with the pattern ``\\b(\\d\\.\\d\\.\\d[a-z]*)\\b``, which
cannot match a two-digit patch number: on "OpenSSL 3.0.19" importing it raises
``LibraryNotFoundError: Error detecting the version of libcrypto`` (oscrypto
issues #75 and #78; fixed on its master branch with ``\\d+``, never released).

``install()`` puts an import hook in front of ``sys.meta_path`` for the two
modules that hold the check (``oscrypto._openssl._libcrypto_cffi`` and
``_libcrypto_ctypes``). The hook loads the installed file's own source with only
that pattern widened to ``\\d+`` — the upstream fix — so everything else is the
released code. When a fixed oscrypto is installed the pattern is not found and
the module loads unchanged. It must run before oscrypto's OpenSSL backend is
first imported; ``atomnb.b2b.as2`` calls it before it imports pyas2lib.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from types import CodeType, ModuleType

__all__ = ["PATCHED_MODULES", "install"]

#: The modules whose version check is widened.
PATCHED_MODULES = frozenset(
    {"oscrypto._openssl._libcrypto_cffi", "oscrypto._openssl._libcrypto_ctypes"}
)
_OLD = rb"'\\b(\\d\\.\\d\\.\\d[a-z]*)\\b'"
_NEW = rb"'\\b(\\d+\\.\\d+\\.\\d+[a-z]*)\\b'"


class _WidenedLoader(importlib.machinery.SourceFileLoader):
    """The installed file, with the version pattern widened; never cached as bytecode."""

    def get_code(self, fullname: str) -> CodeType:
        source = self.get_data(self.path).replace(_OLD, _NEW)
        code: CodeType = compile(source, self.path, "exec", dont_inherit=True)
        return code


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in PATCHED_MODULES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
            return spec
        return importlib.util.spec_from_file_location(
            fullname, spec.origin, loader=_WidenedLoader(fullname, spec.origin)
        )


def install() -> None:
    """Put the hook in place (once); harmless when oscrypto is already fixed or loaded."""
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Finder())

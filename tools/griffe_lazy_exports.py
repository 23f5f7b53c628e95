"""A griffe extension for the API pages: the names `wordvecs` exports lazily.

`wordvecs/__init__.py` imports some public names on first use (its `_LAZY` table, so that
`import wordvecs` stays light); static analysis cannot see them. This reads the table and adds
each name to the package as an alias of its target, so `::: wordvecs.build_matrix` documents
the function wherever the module that holds it lives.
"""

from __future__ import annotations

import ast
from typing import Any

import griffe


class LazyExports(griffe.Extension):
    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        if pkg.path != "wordvecs":
            return
        table = ast.literal_eval(str(pkg.members["_LAZY"].value))
        for name, (module, attr) in table.items():
            pkg.set_member(name, griffe.Alias(name, f"{module}.{attr}", parent=pkg))

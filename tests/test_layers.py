"""Layers import downward only: a module may import its own package and the layers below it,
never a layer above, nor a peer package of its own layer (runtime and training stay
independent, as do video and metrics). Imports inside functions count too."""
from __future__ import annotations

import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# installed package -> folder in the repository (see pyproject.toml [tool.setuptools.package-dir])
FOLDERS = {"munit_fast": "munit_fast", "munit_fast.kernels": "kernels", "munit_fast.export": "export",
           "munit_fast.training": "training"}
LAYERS = [  # lowest first; a layer's modules are named by prefix
    ["munit_fast.errors"],
    ["munit_fast.config", "munit_fast.files", "munit_fast.memory", "munit_fast.devices", "munit_fast.demo_model"],
    ["munit_fast.images", "munit_fast.capture"],
    ["munit_fast.kernels"],
    ["munit_fast.model"],
    ["munit_fast.checkpoint"],
    ["munit_fast.model_folder"],
    ["munit_fast.data"],
    ["munit_fast.export"],
    ["munit_fast.runtime", "munit_fast.training"],
    ["munit_fast.video", "munit_fast.metrics"],
    ["munit_fast.cli"],
]
FACADE = {"munit_fast", "munit_fast.__main__"}  # the package's own entry points may import anything


def _modules():
    for package, folder in FOLDERS.items():
        base = os.path.join(ROOT, folder)
        for dirpath, dirnames, files in os.walk(base):
            if package == "munit_fast":  # the other folders are their own packages
                dirnames[:] = [d for d in dirnames if d not in ("kernels", "export", "training", "assets")]
            for name in files:
                if name.endswith(".py"):
                    relative = os.path.relpath(os.path.join(dirpath, name), base)[:-3].replace(os.sep, ".")
                    module = package if relative == "__init__" else f"{package}.{relative}"
                    yield module.removesuffix(".__init__"), os.path.join(dirpath, name), name == "__init__.py"


def _rank(module: str):
    """(layer index, owning prefix) of a munit_fast module."""
    best = None
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > len(best[1])):
                best = (index, prefix)
    return best


def _imports(module: str, path: str, is_package: bool):
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    package = module if is_package else module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            yield target, node.lineno
            for alias in node.names:  # "from munit_fast import kernels" imports munit_fast.kernels
                yield f"{target}.{alias.name}", node.lineno


def test_every_import_points_down():
    violations = []
    modules = list(_modules())
    assert len(modules) > 80  # the walk found the package
    for module, path, is_package in modules:
        if module in FACADE:
            continue
        mine = _rank(module)
        assert mine is not None, f"{module} belongs to no layer: add it to LAYERS"
        for target, line in _imports(module, path, is_package):
            if not target.startswith("munit_fast.") or target in FACADE:
                continue
            theirs = _rank(target)
            if theirs is None:
                continue  # "from munit_fast.x import name" where name is not a module
            upward = theirs[0] > mine[0]
            sideways = theirs[0] == mine[0] and theirs[1] != mine[1]
            if upward or sideways:
                violations.append(f"{os.path.relpath(path, ROOT)}:{line} {module} imports {target}")
    assert not violations, "imports that point up or sideways:\n" + "\n".join(sorted(set(violations)))

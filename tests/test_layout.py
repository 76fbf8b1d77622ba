# SPDX-License-Identifier: GPL-3.0-or-later
"""The layout rules of docs/layout.md, checked on the source tree (no imports executed).

- no import cycle among the project's modules (lazy imports inside functions count too),
- no module imports an operator module except ``blender/operators/__init__.py`` (registration),
- only ``blender/`` and the root ``__init__.py`` import bpy,
- only ``training/``, ``restyle/``'s training module and the doctor (its report) import torch,
- no source file over 700 lines outside ``tools/``.
"""

import ast
import os

from conftest import ROOT

PACKAGE = "reenact"
SKIP_DIRS = {"tests", "dist", "out", "build", "wheels", "docs", "models", "requirements", "__pycache__"}
MAX_LINES = 700


def _sources():
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in SKIP_DIRS)
        for fn in sorted(filenames):
            if fn.endswith(".py"):
                path = os.path.join(dirpath, fn)
                rel = os.path.relpath(path, ROOT)
                parts = rel[:-3].split(os.sep)
                if parts[-1] == "__init__":
                    parts = parts[:-1]
                yield path, rel, ".".join([PACKAGE] + parts)


def _modules():
    return {name: (path, rel) for path, rel, name in _sources()}


def _resolve(module, node, is_package):
    """Absolute module names one import statement refers to."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    base = module if is_package else module.rpartition(".")[0]
    for _ in range(max(node.level - 1, 0)):
        base = base.rpartition(".")[0]
    target = node.module or ""
    if node.level:
        target = base + ("." + target if target else "")
    # `from pkg import name`: name may be a module of pkg, else an attribute of pkg
    return [target] + ["{}.{}".format(target, a.name) for a in node.names]


def import_graph():
    mods = _modules()
    graph = {}
    for name, (path, rel) in mods.items():
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read(), filename=rel)
        is_package = rel.endswith("__init__.py")
        deps = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _resolve(name, node, is_package):
                    if target in mods and target != name:
                        deps.add(target)
        graph[name] = deps
    return graph


def _cycles(graph):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _without_parent_packages(graph):
    """A package's ``__init__`` importing its own submodules is not a cycle with them."""
    g = {}
    for v, deps in graph.items():
        g[v] = {d for d in deps if not v.startswith(d + ".")}
    return g


def test_the_checker_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle():
    assert _cycles(_without_parent_packages(import_graph())) == []


def test_no_module_imports_an_operator_module():
    graph = import_graph()
    ops = "reenact.blender.operators"
    offenders = [
        (v, d) for v, deps in graph.items() for d in deps
        if d.startswith(ops + ".") and v != ops and not d.endswith(".common")
    ]
    assert offenders == []


def _imports_of(path):
    with open(path, encoding="utf-8") as fh:
        tree = ast.parse(fh.read())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_bpy_only_in_the_blender_glue():
    offenders = [rel for path, rel, name in _sources()
                 if "bpy" in _imports_of(path)
                 and not (rel == "__init__.py" or rel.startswith("blender" + os.sep) or rel.startswith("tools" + os.sep))]
    assert offenders == []


def test_torch_only_in_training_code():
    allowed = ("training" + os.sep, "tools" + os.sep, "bench" + os.sep, os.path.join("restyle", "train"), "doctor.py")
    offenders = [rel for path, rel, name in _sources()
                 if "torch" in _imports_of(path) and not rel.startswith(allowed)]
    assert offenders == []


def test_no_long_files_outside_tools():
    long = []
    for path, rel, name in _sources():
        if rel.startswith("tools" + os.sep):
            continue
        with open(path, encoding="utf-8") as fh:
            n = sum(1 for _ in fh)
        if n > MAX_LINES:
            long.append((rel, n))
    assert long == []


def test_every_package_is_in_the_wheel():
    """pyproject.toml lists every package and the files the code loads from beside it (before
    2026-12-05 restyle, farm and the bundled training weights were missing: a wheel install
    failed on every command, and `reenact train` started from scratch)."""
    import tomllib

    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as fh:
        tool = tomllib.load(fh)["tool"]["setuptools"]
    packages = {name for path, rel, name in _sources()
                if os.path.basename(path) == "__init__.py" and not rel.startswith("tests")}
    assert packages - set(tool["packages"]) == set()
    data = tool["package-data"]["reenact"]
    for pattern in ("models/*.pt", "models/*.onnx", "models/*.npz", "farm/flamenco/*.js", "blender_manifest.toml"):
        assert pattern in data, pattern

"""Print the import cycles among symba's modules, one per line; exit 1 if there is any.

Every import counts, also one inside a function: a lazy import that only dodges a cycle is
still a cycle.  ``from package import submodule`` counts as importing the submodule.
Usage: ``python tools/import_cycles.py [SRC]`` (default: src).
"""

import ast
import pathlib
import sys
from collections import defaultdict


def module_files(root: pathlib.Path) -> dict[str, pathlib.Path]:
    files = {}
    for path in root.rglob("*.py"):
        name = ".".join(path.with_suffix("").relative_to(root).parts)
        files[name.removesuffix(".__init__")] = path
    return files


def import_graph(root: pathlib.Path) -> dict[str, set[str]]:
    files = module_files(root)
    edges = defaultdict(set)
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                submodules = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in files]
                targets = submodules if len(submodules) == len(node.names) else [base, *submodules]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            edges[name].update(t for t in targets if t in files and t != name)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


if __name__ == "__main__":
    found = cycles(import_graph(pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "src")))
    for component in found:
        print(" <-> ".join(component))
    sys.exit(1 if found else 0)

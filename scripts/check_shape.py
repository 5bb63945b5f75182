"""Fails when a module or a function of mailflow has grown past what a reader can hold.

    python scripts/check_shape.py [DIR ...]     (default: the mailflow/ package beside scripts/)

Prints one line per offender, `path: N lines (limit 400)` for a module and
`path:line: function NAME is N lines (limit 60)` for a function or method (NAME is dotted
through its classes and enclosing functions; line is its `def`), and exits 1 when there is
any, 0 when there is none. Nested functions and methods are checked on their own, and
also count towards the lines of the function that holds them.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

MAX_MODULE_LINES = 400
"""A module is read as a whole: past about 400 lines a reader can no longer keep in their
head what it holds and what it leaves to others, and it should be split by what it does."""

MAX_FUNCTION_LINES = 60
"""A function is read in one go: about 60 lines, decorators to last line, is what fits on
one screen and in one's head at once; a longer one hides steps that deserve names."""

DEFAULT_ROOT = Path(__file__).resolve().parent.parent / "mailflow"

_Function = ast.FunctionDef | ast.AsyncFunctionDef


def _functions(node: ast.AST, prefix: str = "") -> Iterator[tuple[str, _Function]]:
    """Every function and method under node, nested ones included, with a dotted name."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, _Function):
            name = f"{prefix}{child.name}"
            yield name, child
            yield from _functions(child, f"{name}.")
        elif isinstance(child, ast.ClassDef):
            yield from _functions(child, f"{prefix}{child.name}.")
        else:
            yield from _functions(child, prefix)


def _function_lines(function: _Function) -> int:
    first = min([function.lineno, *(d.lineno for d in function.decorator_list)])
    last = function.end_lineno or function.lineno
    return last - first + 1


def check_file(path: Path, shown: str) -> list[str]:
    """The problems of one module; shown is how its path is printed."""
    source = path.read_text(encoding="utf-8")
    problems = []
    lines = len(source.splitlines())
    if lines > MAX_MODULE_LINES:
        problems.append(f"{shown}: {lines} lines (limit {MAX_MODULE_LINES})")
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        return [*problems, f"{shown}:{exc.lineno}: cannot be parsed: {exc.msg}"]
    for name, function in _functions(tree):
        length = _function_lines(function)
        if length > MAX_FUNCTION_LINES:
            problems.append(
                f"{shown}:{function.lineno}: function {name} is {length} lines (limit {MAX_FUNCTION_LINES})"
            )
    return problems


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def check(root: Path) -> list[str]:
    """The problems of every .py file under root (or of root itself, if it is a file)."""
    paths = [root] if root.is_file() else sorted(root.rglob("*.py"))
    problems = []
    for path in paths:
        if "__pycache__" not in path.parts:
            problems.extend(check_file(path, _shown(path)))
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    roots = [Path(arg) for arg in args] or [DEFAULT_ROOT]
    missing = [root for root in roots if not root.exists()]
    if missing:
        print(f"check_shape: no such file or directory: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    problems = [problem for root in roots for problem in check(root)]
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

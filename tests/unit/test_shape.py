"""scripts/check_shape.py: modules up to 400 lines and functions up to 60 pass, longer ones fail."""

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_shape.py"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_shape", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


check_shape = _load_script()


def function_source(name: str, lines: int, *, indent: str = "", decorated: bool = False,
                    is_async: bool = False) -> str:
    """A function of exactly `lines` lines, its decorator (if any) and `def` included."""
    head = [f"{indent}@staticmethod"] if decorated else []
    head.append(f"{indent}{'async ' if is_async else ''}def {name}() -> int:")
    steps = [f"{indent}    x += 1"] * (lines - len(head) - 2)
    body = [f"{indent}    x = 0", *steps, f"{indent}    return x"]
    text = "\n".join(head + body) + "\n"
    assert len(text.splitlines()) == lines
    return text


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def run(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    status = check_shape.main([str(root)])
    return status, capsys.readouterr().out.splitlines()


def test_the_limits_are_400_and_60() -> None:
    assert (check_shape.MAX_MODULE_LINES, check_shape.MAX_FUNCTION_LINES) == (400, 60)


def test_a_400_line_module_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "pkg/ok.py", "x = 1\n" * 400)
    assert run(tmp_path, capsys) == (0, [])


def test_a_401_line_module_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "pkg/long.py", "x = 1\n" * 401)
    assert run(tmp_path, capsys) == (1, [f"{path}: 401 lines (limit 400)"])


def test_a_60_line_function_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = function_source("fits", 60) + "\n\n" + function_source("fits_async", 60, is_async=True)
    write(tmp_path, "m.py", text)
    assert run(tmp_path, capsys) == (0, [])


def test_a_61_line_function_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "m.py", "import os\n\n\n" + function_source("too_long", 61))
    assert run(tmp_path, capsys) == (1, [f"{path}:4: function too_long is 61 lines (limit 60)"])


def test_a_decorator_counts_towards_the_function(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fits = function_source("fits", 60, indent="    ", decorated=True)
    too_long = function_source("too_long", 61, indent="    ", decorated=True)
    path = write(tmp_path, "m.py", f"class Box:\n{fits}\n{too_long}")
    # Line 1 is the class, 2-61 the fitting method, 62 blank, 63 the decorator, 64 the def.
    assert run(tmp_path, capsys) == (1, [f"{path}:64: function Box.too_long is 61 lines (limit 60)"])


def test_methods_and_nested_functions_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inner = function_source("inner", 61, indent="        ")
    method = function_source("run", 61, indent="        ", is_async=True)
    text = (
        "def outer() -> None:\n" + inner + "\n\n"
        "class Outer:\n    class Inner:\n" + method
    )
    path = write(tmp_path, "m.py", text)
    status, out = run(tmp_path, capsys)
    assert status == 1
    assert out == [
        f"{path}:1: function outer is 62 lines (limit 60)",
        f"{path}:2: function outer.inner is 61 lines (limit 60)",
        f"{path}:67: function Outer.Inner.run is 61 lines (limit 60)",
    ]


def test_every_module_under_the_tree_is_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "a/__init__.py", "")
    first = write(tmp_path, "a/b/deep.py", "x = 1\n" * 401)
    second = write(tmp_path, "z.py", function_source("f", 61))
    write(tmp_path, "a/__pycache__/stale.py", "x = 1\n" * 500)
    write(tmp_path, "notes.txt", "x\n" * 500)
    assert run(tmp_path, capsys) == (1, [
        f"{first}: 401 lines (limit 400)",
        f"{second}:1: function f is 61 lines (limit 60)",
    ])


def test_a_missing_directory_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert check_shape.main([str(tmp_path / "nowhere")]) == 2
    assert "no such file or directory" in capsys.readouterr().err


def test_the_script_runs_as_a_command(tmp_path: Path) -> None:
    write(tmp_path, "long.py", "x = 1\n" * 401)
    failing = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True, text=True)
    assert failing.returncode == 1
    assert "long.py: 401 lines (limit 400)" in failing.stdout
    write(tmp_path, "long.py", "x = 1\n")
    passing = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True, text=True)
    assert (passing.returncode, passing.stdout) == (0, "")

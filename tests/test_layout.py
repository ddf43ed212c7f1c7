"""The architecture's rules (DESIGN.md), enforced: import direction, shared error codes,
and that the distribution installs and runs from a wheel and from an editable install."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STDLIB = set(sys.stdlib_module_names) | {"__future__"}


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every absolute import in a file, with its line (relative imports stay in-package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level and node.level > 0:
                found.append((node.lineno, "." * node.level + (node.module or "")))
            elif node.module:
                found.append((node.lineno, node.module))
    return found


def _py_files(folder: str) -> list[Path]:
    files = sorted((ROOT / folder).rglob("*.py"))
    assert files, f"{folder}/ has no Python files"
    return files


def test_spec_imports_only_the_standard_library_and_itself() -> None:
    bad = []
    for path in _py_files("spec"):
        for line, name in _imports(path):
            if name.startswith("."):
                bad.append(f"{path.name}:{line} relative import {name} (use chainoftrust.spec.*)")
            elif name.startswith("chainoftrust."):
                if not name.startswith("chainoftrust.spec"):
                    bad.append(f"{path.name}:{line} imports {name}")
            elif name.split(".")[0] not in STDLIB:
                bad.append(f"{path.name}:{line} imports non-stdlib {name}")
    assert not bad, "spec must be stdlib-only:\n" + "\n".join(bad)


def test_impl_never_imports_spec_or_proofs() -> None:
    bad = [
        f"{path.name}:{line} imports {name}"
        for path in _py_files("impl")
        for line, name in _imports(path)
        if name.startswith(("chainoftrust.spec", "chainoftrust.proofs", "."))
        or name.split(".")[0] in {"spec", "proofs", "z3", "hypothesis"}
    ]
    assert not bad, "impl must not import spec, proofs, z3 or hypothesis:\n" + "\n".join(bad)


def test_the_rule_checker_sees_a_violation(tmp_path: Path) -> None:
    """The checks above could fail: a file with a forbidden import is caught."""
    sample = tmp_path / "x.py"
    sample.write_text("import numpy\nfrom chainoftrust.impl import pcr\n", encoding="utf-8")
    names = [name for _, name in _imports(sample)]
    assert names == ["numpy", "chainoftrust.impl"]
    assert "numpy" not in STDLIB


def test_error_codes_are_shared_by_spec_and_impl() -> None:
    from chainoftrust.impl.errors import ErrorCode as ImplCode
    from chainoftrust.spec.errors import ErrorCode as SpecCode

    spec_codes = {c.name: c.value for c in SpecCode}
    impl_codes = {c.name: c.value for c in ImplCode}
    assert spec_codes == impl_codes
    for name, value in spec_codes.items():
        assert name == value, "codes are their own names"
        assert value.isupper() and value.replace("_", "").isalpha(), value


def test_error_roots_are_distinct_per_package() -> None:
    from chainoftrust.impl import errors as ie
    from chainoftrust.spec import errors as se

    for sub in ("MalformedInputError", "TpmRefusalError", "UsageError"):
        assert issubclass(getattr(se, sub), se.SpecError)
        assert issubclass(getattr(ie, sub), ie.ImplError)
        assert not issubclass(getattr(se, sub), ie.ImplError)


def _fresh_venv(where: Path) -> Path:
    venv.EnvBuilder(with_pip=True, clear=True).create(where)
    return where / "bin"


def _run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, **kw)  # type: ignore[call-overload]


@pytest.mark.slow
def test_wheel_installs_into_a_fresh_venv_and_runs(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)]
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("chainoftrust-*.whl")
    bindir = _fresh_venv(tmp_path / "venv")
    # no dependencies: the CLI's help and the stdlib-only spec must work without them
    inst = _run([str(bindir / "python"), "-m", "pip", "install", "-q", "--no-deps", str(wheel)])
    assert inst.returncode == 0, inst.stderr
    helped = _run([str(bindir / "chainoftrust"), "--help"], cwd=tmp_path)
    assert helped.returncode == 0, helped.stderr
    assert "pcr" in helped.stdout and "prove" in helped.stdout and "vectors" in helped.stdout
    spec_only = _run(
        [str(bindir / "python"), "-c", "import chainoftrust.spec.pcr, chainoftrust.spec.predict"],
        cwd=tmp_path,
    )
    assert spec_only.returncode == 0, (
        "the spec must import with the stdlib alone: " + spec_only.stderr
    )


@pytest.mark.slow
def test_editable_install_into_a_fresh_venv_runs(tmp_path: Path) -> None:
    bindir = _fresh_venv(tmp_path / "venv")
    inst = _run(
        [str(bindir / "python"), "-m", "pip", "install", "-q", "--no-deps", "-e", str(ROOT)]
    )
    assert inst.returncode == 0, inst.stderr
    helped = _run([str(bindir / "chainoftrust"), "--help"], cwd=tmp_path)
    assert helped.returncode == 0, helped.stderr
    where = _run(
        [str(bindir / "python"), "-c", "import chainoftrust.spec as s; print(s.__file__)"],
        cwd=tmp_path,
    )
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).parent == ROOT / "spec"

"""Traceability (STYLE.md section 2): every public spec function names its document.

Every public function of every public module of chainoftrust.spec has a docstring whose
first line is `Spec: <KEY> <locator> - <title>`, with KEY from SPECIFICATION_VERSIONS;
in the PCR modules (pcr, selection, predict, references) so does every public method
and property of a public class (e.g. Tpm.extend); and spec/REFERENCES.md lists exactly
the same keys.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import types
from collections.abc import Iterator
from pathlib import Path

import chainoftrust.spec
from chainoftrust.spec.references import SPECIFICATION_VERSIONS

EXPECTED_KEYS = {
    "TPM2-P1",
    "TPM2-P2",
    "TPM2-P3",
    "PTP",
    "PFP",
    "TCG-ALG",
    "FIPS-180-4",
    "FIPS-202",
    "GBT-32905",
    "MSREF",
    "LINUX-IMA",
    "PROJECT",
    "RFC-8017",
    "RFC-6979",
    "RFC-8032",
    "FIPS-186-5",
    "FIPS-198-1",
    "SP-800-186",
    "SEC-1",
    "X-690",
    "RFC-5480",
    "RFC-3279",
    "RFC-7468",
    "RFC-7517",
    "RFC-7518",
}
REFERENCES_MD = Path(chainoftrust.spec.__file__).with_name("REFERENCES.md")


def _spec_line(doc: str | None) -> re.Match[str] | None:
    first = (doc or "").strip().splitlines()[0] if (doc or "").strip() else ""
    return re.match(r"^Spec: (\S+) \S.* - \S", first)


PCR_MODULES = {"pcr", "selection", "predict", "references"}


def _public_callables(module: types.ModuleType, *, methods: bool) -> Iterator[tuple[str, object]]:
    """Public functions defined in the module; with `methods`, also public methods and
    properties of its public classes."""
    for name, obj in vars(module).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isfunction(obj):
            yield f"{module.__name__}.{name}", obj
        elif methods and inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if attr.startswith("_"):
                    continue
                if isinstance(member, property):
                    yield f"{module.__name__}.{name}.{attr}", member.fget
                elif inspect.isfunction(member):
                    yield f"{module.__name__}.{name}.{attr}", member


def _violations(module: types.ModuleType, *, methods: bool = True) -> list[str]:
    bad = []
    for where, obj in _public_callables(module, methods=methods):
        match = _spec_line(getattr(obj, "__doc__", None))
        if match is None:
            bad.append(f"{where}: docstring does not start with 'Spec: <KEY> <locator> - <title>'")
        elif match.group(1) not in SPECIFICATION_VERSIONS:
            bad.append(f"{where}: unknown KEY {match.group(1)!r}")
    return bad


def _spec_modules() -> list[types.ModuleType]:
    names = sorted(
        info.name
        for info in pkgutil.iter_modules(chainoftrust.spec.__path__)
        if not info.ispkg and not info.name.startswith("_")  # private modules are not public
    )
    assert names, "chainoftrust.spec has no modules"
    return [importlib.import_module(f"chainoftrust.spec.{name}") for name in names]


def test_specification_versions_lists_the_project_keys() -> None:
    assert set(SPECIFICATION_VERSIONS) == EXPECTED_KEYS
    for key, version in SPECIFICATION_VERSIONS.items():
        assert version.strip(), key


def test_references_md_lists_the_same_keys() -> None:
    text = REFERENCES_MD.read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| ([A-Z0-9-]+) \|", text, flags=re.MULTILINE)) - {"KEY"}
    assert rows == EXPECTED_KEYS


def test_references_md_pins_msref_commits() -> None:
    text = REFERENCES_MD.read_text(encoding="utf-8")
    assert "microsoft/ms-tpm-20-ref" in text
    assert re.search(r"`[0-9a-f]{40}`", text)


def test_every_public_spec_function_names_its_document() -> None:
    bad = [line for module in _spec_modules() for line in _violations(module, methods=False)]
    assert not bad, "\n".join(bad)


def test_every_public_pcr_method_names_its_document() -> None:
    modules = [m for m in _spec_modules() if m.__name__.rsplit(".", 1)[1] in PCR_MODULES]
    assert len(modules) == len(PCR_MODULES)
    bad = [line for module in modules for line in _violations(module, methods=True)]
    assert not bad, "\n".join(bad)
    # the Tpm methods are among those checked
    checked = {where for m in modules for where, _ in _public_callables(m, methods=True)}
    assert "chainoftrust.spec.pcr.Tpm.extend" in checked
    assert "chainoftrust.spec.pcr.Tpm.started" in checked


def test_the_checker_sees_violations() -> None:
    """Negative control: a module with a bare function and an unknown key is caught."""
    module = types.ModuleType("fake_spec_module")
    source = (
        "def bare():\n    'no spec line'\n"
        "def unknown():\n    'Spec: RFC-1 1.2 - not a key here'\n"
        "def good():\n    'Spec: TPM2-P3 22.2 TPM2_PCR_Extend - extend'\n"
        "class Thing:\n"
        "    @property\n    def value(self):\n        'nothing'\n"
        "    def method(self):\n        pass\n"
    )
    exec(compile(source, "fake_spec_module", "exec"), module.__dict__)
    bad = _violations(module)
    assert len(bad) == 4, bad
    assert any("unknown KEY 'RFC-1'" in line for line in bad)

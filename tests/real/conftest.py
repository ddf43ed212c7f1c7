"""Fixtures of the real-TPM tests: one swtpm process per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import require_tools
from tests.real.swtpm import TOOLS, Swtpm


@pytest.fixture(scope="module")
def swtpm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Swtpm]:
    """A running swtpm (fresh state directory), shared by the tests of one module; every
    `run_document` call starts from a freshly initialised TPM."""
    require_tools(*TOOLS)
    with Swtpm(tmp_path_factory.mktemp("swtpm")) as tpm:
        yield tpm

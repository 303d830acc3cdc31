"""Phone numbers in the provisioning file are written once in E.164, and a non-number is refused with the file."""

from __future__ import annotations

import pytest

from server.errors import ProvisionError
from server.provision import load_file

FILE = """
caregivers:
  - {code: C1, name: 李明, phone: "{caregiver}"}
residents:
  - {code: R1, name: 李𠀀芳, phone: "(010) 6600-0001", caregivers: [C1]}
staff:
  - {username: duty, password: anxin-demo-pw, phone: "+86 138 0013 8000"}
"""


def test_numbers_as_typed_are_stored_in_e164(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(FILE.replace("{caregiver}", "+86 139 0013 9000"), encoding="utf-8")
    data = load_file(path)
    assert data.caregivers[0].phone == "+8613900139000"
    assert data.residents[0].phone == "+861066000001"
    assert data.staff[0].phone == "+8613800138000"


@pytest.mark.parametrize("bad", ["ask the neighbour", "139 0013 900"])
def test_a_caregiver_number_that_cannot_be_dialled_refuses_the_file(tmp_path, bad):
    path = tmp_path / "p.yaml"
    path.write_text(FILE.replace("{caregiver}", bad), encoding="utf-8")
    with pytest.raises(ProvisionError) as exc:
        load_file(path)
    assert repr(bad) in str(exc.value) and "caregivers.0.phone" in str(exc.value)

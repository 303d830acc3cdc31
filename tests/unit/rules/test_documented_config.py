"""The configuration shown in docs/rules.md and examples/gateway.yaml is valid and means what it says."""

import re
from pathlib import Path

import yaml

from anxin.rules_document import RulesConfig, parse_rules
from gateway.config import load_settings

ROOT = Path(__file__).resolve().parents[3]


def test_the_documented_full_configuration_is_the_defaults():
    text = (ROOT / "docs/rules.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(rules:.*?)```", text, re.S)
    assert block, "docs/rules.md lost its configuration example"
    documented = parse_rules(yaml.safe_load(block.group(1))["rules"])
    # Everything but the example's own per-resident target and door list is the built-in default.
    assert (
        documented.model_copy(
            update={
                "blood_pressure": documented.blood_pressure.model_copy(update={"residents": {}}),
                "night": documented.night.model_copy(update={"doors": []}),
            }
        )
        == RulesConfig()
    )


def test_the_example_gateway_file_loads():
    settings = load_settings(ROOT / "examples/gateway.yaml")
    cfg = parse_rules(settings.rules)
    assert cfg.blood_pressure.limits_for("R001").warning_systolic == 150
    assert cfg.blood_pressure.limits_for("R002").warning_systolic == 160

"""docs/home.md lists every sentence the home can say, in both languages, with its priority."""

from pathlib import Path

from gateway.home.speech import priority_of
from gateway.rules import messages

DOC = (Path(__file__).resolve().parents[3] / "docs" / "home.md").read_text(encoding="utf-8")


def test_every_prompt_is_documented_in_both_languages() -> None:
    for key, forms in messages.MESSAGES.items():
        row = f"| `{key}` | {priority_of(key).name.lower()} | {forms['zh-CN']} | {forms['en']} |"
        assert row in DOC, f"docs/home.md is missing or out of date for {key}"

"""axe-core (npm package, tests/integration/package.json) injected into a page: accessibility violations."""

from __future__ import annotations

from pathlib import Path

import pytest

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"


def violations(page) -> list[dict]:  # type: ignore[no-untyped-def]
    """Every WCAG 2 A/AA violation axe-core finds on the page as it is now: rule id and the elements.

    axe-core is the test's script, not the app's: open the page in a context with `bypass_csp=True`, or the
    server's Content-Security-Policy (script-src 'self') refuses it, as it should refuse any injected script.
    """
    if not AXE.exists():
        pytest.fail("axe-core is not installed: run `npm install --prefix tests/integration` (scripts/test.sh does)")
    page.add_script_tag(path=str(AXE))
    return page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
    }""")


SERIOUS = ("serious", "critical")


def assert_no_serious_violations(page) -> None:  # type: ignore[no-untyped-def]
    """Fail on any serious or critical axe-core violation on the page as it is now (what the issue asks)."""
    found = [v for v in violations(page) if v["impact"] in SERIOUS]
    assert found == [], f"axe-core on {page.url}: {found}"

"""Write docs/console.png: the managers' console's year at a glance, on the browser test's own stage.

Usage (needs Debian's chromium and chromium-driver, and the dev requirements):
    python scripts/console_screenshot.py [OUTPUT.png]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.scenarios.console_stage import ConsoleStage, chromium_driver, missing_browser, seed_year  # noqa: E402
from tests.scenarios.test_console_browser import OCT_2021, sign_in  # noqa: E402


def main(argv: list[str]) -> int:
    if why := missing_browser():
        print(f"cannot take the screenshot: {why}", file=sys.stderr)
        return 1
    target = Path(argv[1]) if len(argv) > 1 else ROOT / "docs" / "console.png"
    with tempfile.TemporaryDirectory(prefix="ita-console-shot-") as folder:
        work = Path(folder)
        stage = ConsoleStage(work / "site", OCT_2021)
        driver = chromium_driver(work / "profile", width=1280, height=1250)
        try:
            seed_year(stage)
            sign_in(stage, driver)
            target.parent.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(target))
        finally:
            driver.quit()
            stage.close()
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))

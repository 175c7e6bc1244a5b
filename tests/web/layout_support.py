"""Layout checks the screens' browser tests share: what reaches past a narrow screen, and a
screenshot of only what the viewport shows (a long list is too tall a page to look at)."""

from __future__ import annotations

from playwright.async_api import Page

from tests.web.support import ARTIFACTS


async def wider_than_the_screen(page: Page) -> list[str]:
    """The screen's elements reaching past the viewport's right edge (the header's navigation
    is the shell's, app.css's, and left out)."""
    wide: list[str] = await page.evaluate(
        """() => [...document.querySelectorAll("main *")]
          .filter((element) => element.getBoundingClientRect().right > window.innerWidth + 0.5)
          .map((element) => `${element.tagName}.${element.className}`)"""
    )
    return wide


async def visible_screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=path)
    print(f"screenshot: {path}")  # where to look (pytest -s shows it)

"""The home page of La Suite Meet's frontend, served by meet."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import Session


def test_the_home_page_renders_with_no_console_error(session: Session) -> None:
    visitor = session.person("visitor")
    visitor.page.goto("/")
    expect(visitor.page.get_by_role("heading", name="Simple and Secure Video Conferencing")).to_be_visible()
    expect(visitor.page.get_by_role("link", name="Login")).to_be_visible()
    visitor.page.wait_for_load_state("networkidle")
    session.step("home")
    assert visitor.problems() == []
    assert visitor.csp_violations() == []

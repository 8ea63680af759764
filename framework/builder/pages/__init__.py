"""The builder's pages: one module per page, each with ``render() -> None``. The navigation
(titles, icons, paths) and page links live in :mod:`framework.builder.nav`."""

from framework.builder.nav import SECTIONS, PageInfo, link, navigation

__all__ = ["SECTIONS", "PageInfo", "link", "navigation"]

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.errors import ConfigError
from retrieval.settings import SiteSettings, SiteStyle, load_settings
from retrieval.sites import SiteMap, page_path, section_url

FLASK = "https://flask.palletsprojects.com/en/stable/"
PYDANTIC = "https://docs.pydantic.dev/latest/"


def site_map(style: SiteStyle, base: str = FLASK, folder: str = "docs") -> SiteMap:
    return SiteMap([SiteSettings(folder=folder, base=base, style=style)])


@pytest.mark.parametrize(
    ("style", "source", "expected"),
    [
        ("sphinx", "docs/intents.rst", "intents.html"),
        ("sphinx", "docs/index.rst", "index.html"),
        ("sphinx", "docs/patterns/celery.rst", "patterns/celery.html"),
        ("sphinx-dirhtml", "docs/intents.rst", "intents/"),
        ("sphinx-dirhtml", "docs/patterns/index.rst", "patterns/"),
        ("sphinx-dirhtml", "docs/index.rst", ""),
        ("mkdocs", "docs/concepts/models.md", "concepts/models/"),
        ("mkdocs", "docs/concepts/index.md", "concepts/"),
        ("mkdocs", "docs/index.md", ""),
        ("mkdocs", "docs/README.md", ""),
        ("docusaurus", "docs/guides/setup.mdx", "guides/setup"),
        ("docusaurus", "docs/01-guides/02-setup.md", "guides/setup"),
        ("docusaurus", "docs/guides/index.md", "guides"),
        ("docusaurus", "docs/guides/guides.md", "guides"),
        ("plain", "docs/pages/faq.html", "pages/faq.html"),
        ("mkdocs", "docs/my notes/first draft.md", "my%20notes/first%20draft/"),
    ],
)
def test_each_style_turns_a_file_path_into_its_page(
    style: SiteStyle, source: str, expected: str
) -> None:
    assert site_map(style).page_url(source) == FLASK + expected


def test_the_section_anchor_is_the_fragment() -> None:
    page = site_map("sphinx").page_url("docs/intents.rst")
    assert section_url(page, "privileged-intents") == f"{FLASK}intents.html#privileged-intents"
    mkdocs = site_map("mkdocs", PYDANTIC).page_url("docs/concepts/models.md")
    assert section_url(mkdocs, "fields") == f"{PYDANTIC}concepts/models/#fields"
    assert section_url(page, "") == f"{FLASK}intents.html"  # text before the first heading
    assert section_url(None, "fields") is None


def test_front_matter_url_and_slug_win_over_the_path_rule() -> None:
    sites = site_map("mkdocs", PYDANTIC)
    absolute = {"url": "https://elsewhere.example/page"}
    assert sites.page_url("docs/a.md", absolute) == "https://elsewhere.example/page"
    assert sites.page_url("docs/a.md", {"url": "/moved/here/"}) == f"{PYDANTIC}moved/here/"
    assert sites.page_url("docs/guide/a.md", {"slug": "/start"}) == f"{PYDANTIC}start/"
    assert sites.page_url("docs/guide/a.md", {"slug": "begin"}) == f"{PYDANTIC}guide/begin/"
    docusaurus = site_map("docusaurus", "https://docs.example.org/docs/")
    assert (
        docusaurus.page_url("docs/x/intro.mdx", {"slug": "/"}) == "https://docs.example.org/docs/"
    )
    # an absolute front matter url is used even outside any mapped folder
    assert SiteMap().page_url("notes/a.md", absolute) == "https://elsewhere.example/page"


def test_files_outside_every_site_keep_their_own_url() -> None:
    sites = site_map("sphinx")
    assert sites.page_url("notes/todo.md") is None
    assert sites.page_url("docsx/intents.rst") is None  # a folder name is not a prefix match
    assert sites.page_url("notes/todo.md", fallback="https://x.org/t") == "https://x.org/t"


def test_the_deepest_folder_wins_and_an_empty_folder_maps_everything() -> None:
    sites = SiteMap(
        [
            SiteSettings(folder="", base="https://all.example/", style="plain"),
            SiteSettings(folder="flask/docs", base=FLASK, style="sphinx"),
        ]
    )
    assert sites.page_url("flask/docs/config.rst") == f"{FLASK}config.html"
    assert sites.page_url("readme.txt") == "https://all.example/readme.txt"


def test_page_path_slug_is_read_from_the_base_or_the_file_folder() -> None:
    assert page_path("a/b.rst", "sphinx", slug="/c/d") == "c/d.html"
    assert page_path("a/b.rst", "sphinx", slug="e") == "a/e.html"


def test_sites_setting_from_a_settings_file(tmp_path: Path) -> None:
    config = tmp_path / "s.toml"
    config.write_text(
        "[documents]\nsites = [\n"
        f'  {{ folder = "flask/docs/", base = "{FLASK[:-1]}", style = "sphinx" }},\n'
        f'  {{ folder = "pydantic", base = "{PYDANTIC}", style = "mkdocs" }},\n'
        "]\n"
    )
    sites = load_settings(config_file=config).documents.sites
    assert [(s.folder, s.base, s.style) for s in sites] == [
        ("flask/docs", FLASK, "sphinx"),
        ("pydantic", PYDANTIC, "mkdocs"),
    ]


@pytest.mark.parametrize(
    ("sites", "message"),
    [
        ('[{ folder = "docs", base = "flask.example" }]', "base must start with http"),
        ('[{ folder = "docs", base = "https://a.example/", style = "hugo" }]', "style"),
        (
            '[{ folder = "docs", base = "https://a.example/" }, '
            '{ folder = "docs/", base = "https://b.example/" }]',
            "each folder may be mapped once, but got 'docs' twice",
        ),
    ],
)
def test_bad_sites_name_the_problem(tmp_path: Path, sites: str, message: str) -> None:
    config = tmp_path / "s.toml"
    config.write_text(f"[documents]\nsites = {sites}\n")
    with pytest.raises(ConfigError, match=message):
        load_settings(config_file=config)

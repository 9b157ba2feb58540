from monitor.extract.article import Extracted, ExtractFailure, extract_html
from monitor.resources import seeds_dir

URL = "https://www.middleeasteye.net/news/un-syria-peace-envoy-travels-moscow"


def test_seed_page_main_text_and_metadata():
    result = extract_html((seeds_dir() / "mee-syria-envoy.html").read_bytes(), URL)
    assert isinstance(result, Extracted)
    assert result.title == "UN Syria peace envoy travels to Moscow"
    assert result.site_name == "Middle East Eye"
    assert result.published is not None and result.published.year == 2015
    assert result.text.startswith("The UN peace envoy to Syria will meet")
    assert result.text.endswith("it would boycott the proposed talks.")
    for boilerplate in ("Stay informed", "Sign up", "Middle East Eye delivers", "Skip to main"):
        assert boilerplate not in result.text


def test_page_in_a_legacy_charset():
    paragraph = "Le médiateur de l'ONU s'est rendu à Genève après l'accord de cessez-le-feu. " * 4
    html = (
        '<html><head><meta charset="windows-1252"><title>Genève</title></head><body><article>'
        f"<h1>Genève</h1><p>{paragraph}</p><p>{paragraph}</p></article></body></html>"
    ).encode("windows-1252")
    result = extract_html(html, "https://example.org/a")
    assert isinstance(result, Extracted)
    assert "médiateur" in result.text and "Genève" in result.text


def test_hostile_and_empty_pages_fail_cleanly():
    for body in (b"", b"\x00\xff\xfe" * 1000, b"<html><body></body></html>", b"<<<>>>" * 10_000):
        assert isinstance(extract_html(body, "https://example.org/a"), ExtractFailure)


def test_deeply_nested_page_does_not_crash():
    html = "<html><body>" + "<div>" * 5000 + "text " * 100 + "</div>" * 5000 + "</body></html>"
    result = extract_html(html.encode(), "https://example.org/a")
    assert isinstance(result, (Extracted, ExtractFailure))


async def test_extraction_in_a_process_pool_and_its_time_limit():
    from monitor.extract.article import ExtractionPool, extract

    html = (seeds_dir() / "mee-syria-envoy.html").read_bytes()
    pool = ExtractionPool(1)
    try:
        result = await extract(pool, html, URL)
        assert isinstance(result, Extracted) and "40,000 people" in result.text
        gave_up = await extract(pool, html, URL, timeout=0.000001)
        assert gave_up == ExtractFailure("extract: gave up after 1e-06s (its process was stopped)")
        # the overrunning page's process was stopped and the pool started again: it works
        assert pool.rebuilds == 1
        assert isinstance(await extract(pool, html, URL), Extracted)
    finally:
        pool.shutdown()


def _die() -> None:
    import os

    os._exit(1)


async def test_a_pool_whose_process_died_heals():
    import asyncio

    from monitor.extract.article import ExtractionPool, extract

    html = (seeds_dir() / "mee-syria-envoy.html").read_bytes()
    pool = ExtractionPool(1)
    try:
        assert isinstance(await extract(pool, html, URL), Extracted)
        # a process of the pool dies (the OOM killer, a segfault in lxml): the pool is broken
        dying = asyncio.get_running_loop().run_in_executor(pool._pool, _die)
        await asyncio.gather(dying, return_exceptions=True)
        failed = await extract(pool, html, URL)
        assert failed == ExtractFailure(
            "extract: the extraction process died (the pool was restarted)"
        )
        # and later pages extract again, instead of failing for good
        assert isinstance(await extract(pool, html, URL), Extracted) and pool.rebuilds == 1
    finally:
        pool.shutdown()

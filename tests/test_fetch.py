"""The fetcher against a real HTTP server on 127.0.0.1 that misbehaves on purpose."""
from __future__ import annotations

import gzip
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import replace
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest

from tests.support.collector import MB, make_settings
from tests.support.servers import FixtureServer, Reply, Request
from worker.errors import PermanentFetchError, TransientFetchError
from worker.feeds import parse_feed
from worker.fetch import Fetcher
from worker.model import Source

FEEDS = Path(__file__).parent / "fixtures" / "feeds"


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    with FixtureServer() as srv:
        yield srv


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    with Fetcher(make_settings()) as f:
        yield f


def one_line(exc: pytest.ExceptionInfo[Exception]) -> str:
    message = str(exc.value)
    assert "\n" not in message and message
    return message


# -- the ordinary path ---------------------------------------------------------------------------

def test_get_returns_body_headers_and_final_url(server: FixtureServer, fetcher: Fetcher) -> None:
    server.route("/a.html", "<html>안녕</html>", headers={"Content-Type": "text/html; charset=utf-8",
                                                        "ETag": '"v1"', "Cache-Control": "max-age=600"})
    r = fetcher.get(server.url("/a.html"))
    assert (r.status, r.content.decode(), r.etag, r.max_age) == (200, "<html>안녕</html>", '"v1"', 600.0)
    assert r.headers["content-type"] == "text/html; charset=utf-8" and not r.not_modified
    assert r.url == server.url("/a.html")
    sent = [q for q in server.requests if q.path == "/a.html"][0]
    assert sent.headers["user-agent"].startswith("policywatch/")
    assert "gzip" in sent.headers["accept-encoding"]


def test_conditional_get_gives_not_modified(server: FixtureServer, fetcher: Fetcher) -> None:
    def handler(req: Request) -> Reply:
        if req.headers.get("if-none-match") == '"v1"' or req.headers.get("if-modified-since"):
            return Reply(304, headers={"Cache-Control": "max-age=60"})
        return Reply(200, b"<rss/>", {"ETag": '"v1"', "Last-Modified": "Thu, 06 Feb 2025 04:31:00 GMT"})
    server.route("/feed.xml", handler=handler)
    first = fetcher.get(server.url("/feed.xml"), purpose="feed")
    again = fetcher.get(server.url("/feed.xml"), etag=first.etag, purpose="feed")
    assert again.not_modified and again.status == 304 and again.content == b""
    assert again.etag == '"v1"' and again.max_age == 60.0  # the validator sent is kept
    by_date = fetcher.get(server.url("/feed.xml"), last_modified=first.last_modified, purpose="feed")
    assert by_date.not_modified and by_date.last_modified == "Thu, 06 Feb 2025 04:31:00 GMT"


def test_expires_header_gives_max_age(server: FixtureServer, fetcher: Fetcher) -> None:
    server.route("/e", "x", headers={"Expires": formatdate(time.time() + 300, usegmt=True)})
    assert 290 <= (fetcher.get(server.url("/e")).max_age or 0) <= 301
    server.route("/n", "x", headers={"Cache-Control": "no-cache", "Expires": "0"})
    assert fetcher.get(server.url("/n")).max_age == 0.0


def test_gzip_and_deflate_bodies_are_decoded(server: FixtureServer, fetcher: Fetcher) -> None:
    text = "한국어 기사 본문 " * 200
    server.route("/gz", gzip.compress(text.encode()), headers={"Content-Encoding": "gzip"})
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    server.route("/raw", raw.compress(text.encode()) + raw.flush(), headers={"Content-Encoding": "deflate"})
    server.route("/zl", zlib.compress(text.encode()), headers={"Content-Encoding": "deflate"})
    for path in ("/gz", "/raw", "/zl"):
        assert fetcher.get(server.url(path)).content.decode() == text


def test_redirect_is_followed_to_the_final_url(server: FixtureServer, fetcher: Fetcher) -> None:
    server.route("/old", status=301, headers={"Location": "/new"})
    server.route("/new", "moved here")
    r = fetcher.get(server.url("/old"))
    assert r.content == b"moved here" and r.url == server.url("/new")


# -- status errors -------------------------------------------------------------------------------

def test_429_is_transient_with_retry_after(server: FixtureServer, fetcher: Fetcher) -> None:
    server.route("/busy", "slow down", status=429, headers={"Retry-After": "120"})
    with pytest.raises(TransientFetchError) as exc:
        fetcher.get(server.url("/busy"), purpose="feed")
    assert exc.value.status == 429 and exc.value.retry_after == 120.0
    assert "429" in one_line(exc) and server.url("/busy") in str(exc.value)


def test_503_with_http_date_retry_after(server: FixtureServer, fetcher: Fetcher) -> None:
    server.route("/down", status=503, headers={"Retry-After": formatdate(time.time() + 120, usegmt=True)})
    with pytest.raises(TransientFetchError) as exc:
        fetcher.get(server.url("/down"))
    assert exc.value.status == 503 and 110 <= (exc.value.retry_after or 0) <= 121


def test_500_is_transient(server: FixtureServer, fetcher: Fetcher) -> None:
    server.route("/boom", "Internal Server Error", status=500)
    with pytest.raises(TransientFetchError) as exc:
        fetcher.get(server.url("/boom"))
    assert exc.value.status == 500 and "server error (500)" in one_line(exc)


def test_404_is_permanent_and_message_hides_the_query(server: FixtureServer, fetcher: Fetcher) -> None:
    with pytest.raises(PermanentFetchError) as exc:
        fetcher.get(server.url("/missing?token=SECRET123"))
    assert exc.value.status == 404 and "not found (404)" in one_line(exc)
    assert "SECRET123" not in str(exc.value) and server.url("/missing") in str(exc.value)


# -- a misbehaving connection --------------------------------------------------------------------

def test_slow_response_times_out(server: FixtureServer, fetcher: Fetcher) -> None:
    release = threading.Event()

    def slow(_req: Request) -> Reply:
        release.wait(2.0)
        return Reply(200, b"late")
    server.route("/slow", handler=slow)
    started = time.monotonic()
    with pytest.raises(TransientFetchError) as exc:
        fetcher.get(server.url("/slow"))
    release.set()
    assert "timed out" in one_line(exc) and time.monotonic() - started < 1.5


def test_truncated_body_is_transient(server: FixtureServer, fetcher: Fetcher) -> None:
    server.route("/cut", handler=lambda _req: Reply(200, headers={"Content-Length": "5000"},
                                                    chunks=[b"<html>only the start"]))
    with pytest.raises(TransientFetchError) as exc:
        fetcher.get(server.url("/cut"))
    assert "broke off" in one_line(exc)


def test_cut_off_gzip_body_is_transient(server: FixtureServer, fetcher: Fetcher) -> None:
    body = gzip.compress(("기사 " * 5000).encode())
    server.route("/cutgz", body[: len(body) // 2], headers={"Content-Encoding": "gzip"})
    with pytest.raises(TransientFetchError) as exc:
        fetcher.get(server.url("/cutgz"))
    assert "cut off" in one_line(exc)


def test_huge_streamed_body_stops_at_the_cap(server: FixtureServer, fetcher: Fetcher) -> None:
    sent = [0]

    def fifty_megabytes() -> Iterator[bytes]:
        for _ in range(50 * 16):  # 50 MB in 64 KiB chunks, no Content-Length
            sent[0] += 64 * 1024
            yield b"x" * (64 * 1024)
    server.route("/huge", handler=lambda _req: Reply(200, chunks=fifty_megabytes()))
    with pytest.raises(PermanentFetchError) as exc:
        fetcher.get(server.url("/huge"))
    assert "1,048,576 byte limit" in one_line(exc)
    time.sleep(0.1)  # let the server notice the closed socket
    assert sent[0] < 12 * MB  # stopped early: the cap plus what socket buffers held


def test_declared_huge_length_is_refused_before_reading(server: FixtureServer, fetcher: Fetcher) -> None:
    server.route("/big", handler=lambda _req: Reply(200, headers={"Content-Length": str(2 * 1024 * MB)},
                                                    chunks=iter([b"x" * 1024])))
    with pytest.raises(PermanentFetchError) as exc:
        fetcher.get(server.url("/big"))
    assert "limit" in one_line(exc)


def test_gzip_bomb_stops_at_the_decoded_cap(server: FixtureServer, fetcher: Fetcher) -> None:
    z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    bomb = b"".join(z.compress(b"\0" * MB) for _ in range(16)) + z.flush()  # 16 MB -> ~16 kB
    assert len(bomb) < 64 * 1024
    server.route("/bomb", bomb, headers={"Content-Encoding": "gzip", "Content-Type": "text/html"})
    with pytest.raises(PermanentFetchError) as exc:
        fetcher.get(server.url("/bomb"))
    assert "byte limit" in one_line(exc)


def test_slow_drip_body_hits_the_overall_deadline(server: FixtureServer) -> None:
    ticks = iter(range(0, 10_000))  # a clock that advances one second per reading
    chunks = [b"y" * (100 * 1024)] * 5
    server.route("/drip", handler=lambda _req: Reply(200, chunks=iter(chunks)))
    with Fetcher(make_settings(), clock=lambda: float(next(ticks))) as f:
        with pytest.raises(TransientFetchError) as exc:
            f.get(server.url("/drip"))
    assert "too slow" in one_line(exc)


def test_unsupported_content_encoding(server: FixtureServer, fetcher: Fetcher) -> None:
    server.route("/br", b"\x1b\x00", headers={"Content-Encoding": "br"})
    with pytest.raises(PermanentFetchError, match="unsupported Content-Encoding 'br'"):
        fetcher.get(server.url("/br"))


# -- redirects -----------------------------------------------------------------------------------

def test_redirect_loop(server: FixtureServer, fetcher: Fetcher) -> None:
    server.route("/a", status=302, headers={"Location": "/b"})
    server.route("/b", status=302, headers={"Location": "/a"})
    with pytest.raises(PermanentFetchError) as exc:
        fetcher.get(server.url("/a"))
    assert "redirect loop" in one_line(exc)
    assert len([q for q in server.requests if q.path in ("/a", "/b")]) == 2


def test_too_many_redirects(server: FixtureServer, fetcher: Fetcher) -> None:
    for i in range(10):
        server.route(f"/r{i}", status=307, headers={"Location": f"/r{i + 1}"})
    with pytest.raises(PermanentFetchError) as exc:
        fetcher.get(server.url("/r0"))
    assert "more than 3 redirects" in one_line(exc)


def test_redirect_to_another_scheme_is_refused(server: FixtureServer, fetcher: Fetcher) -> None:
    server.route("/ftp", status=302, headers={"Location": "ftp://127.0.0.1/file"})
    with pytest.raises(PermanentFetchError, match="only http:// and https://"):
        fetcher.get(server.url("/ftp"))
    with pytest.raises(PermanentFetchError, match="only http:// and https://"):
        fetcher.get("file:///etc/passwd")


# -- private addresses ---------------------------------------------------------------------------

def recording_client() -> tuple[httpx.Client, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"should never be asked")
    return httpx.Client(transport=httpx.MockTransport(handle)), seen


def test_feed_item_linking_a_private_address_is_never_fetched(server: FixtureServer) -> None:
    feed = (FEEDS / "private_link.xml").read_bytes()
    server.route("/feed.xml", feed, headers={"Content-Type": "application/rss+xml"})
    with Fetcher(make_settings()) as f:
        entries = parse_feed(f.get(server.url("/feed.xml"), purpose="feed").content,
                             Source(name="t", url=server.url("/feed.xml")))
    assert entries[0].url == "http://10.0.0.1/admin"
    client, seen = recording_client()
    with Fetcher(make_settings(), client) as f:
        with pytest.raises(PermanentFetchError) as exc:
            f.get(entries[0].url)
    assert "private or local address (10.0.0.1)" in one_line(exc)
    assert "POLICYWATCH_ALLOW_PRIVATE_HOSTS" in str(exc.value)
    assert seen == []  # refused before any connection


def test_name_resolving_to_a_private_address_is_refused() -> None:
    client, seen = recording_client()
    resolve = lambda host, port: ["192.168.1.20"]  # noqa: E731 - the DNS answer of a rebinding attack
    with Fetcher(make_settings(), client, resolve=resolve) as f:
        with pytest.raises(PermanentFetchError, match=r"news\.example is a private or local address"):
            f.get("https://news.example/article/1")
    assert seen == []


def test_redirect_to_a_private_address_is_refused(server: FixtureServer, fetcher: Fetcher) -> None:
    server.route("/jump", status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    with pytest.raises(PermanentFetchError, match="169.254.169.254"):
        fetcher.get(server.url("/jump"))


def test_loopback_is_refused_unless_allowed(server: FixtureServer) -> None:
    server.route("/ok", "fine")
    with Fetcher(make_settings(allow=())) as f:
        with pytest.raises(PermanentFetchError, match="private or local address"):
            f.get(server.url("/ok"))
        with pytest.raises(PermanentFetchError, match="localhost"):
            f.get(f"http://localhost:{server.port}/ok")
    with Fetcher(make_settings(allow=("127.0.0.0/8",))) as f:
        assert f.get(server.url("/ok")).content == b"fine"


# -- robots.txt ----------------------------------------------------------------------------------

def test_robots_txt_disallows_pages_but_not_feeds(server: FixtureServer, fetcher: Fetcher) -> None:
    # the group naming our product token applies, and then the "*" group does not
    server.route("/robots.txt", "User-agent: *\nDisallow: /\n\nUser-agent: policywatch\nDisallow: /private/\n")
    server.route("/private/article.html", "secret")
    server.route("/news/1.html", "public")
    server.route("/private/feed.xml", "<rss/>")
    with pytest.raises(PermanentFetchError) as exc:
        fetcher.get(server.url("/private/article.html"))
    assert "robots.txt" in one_line(exc)
    assert fetcher.get(server.url("/news/1.html")).content == b"public"
    assert fetcher.get(server.url("/private/feed.xml"), purpose="feed").content == b"<rss/>"
    assert [q.path for q in server.requests].count("/robots.txt") == 1  # cached per host
    assert "/private/article.html" not in [q.path for q in server.requests]


def test_missing_robots_txt_allows(server: FixtureServer, fetcher: Fetcher) -> None:
    server.route("/news/1.html", "public")
    assert fetcher.get(server.url("/news/1.html")).content == b"public"


def test_broken_robots_txt_server_allows(server: FixtureServer, fetcher: Fetcher) -> None:
    server.route("/robots.txt", "oops", status=500)
    server.route("/news/1.html", "public")
    assert fetcher.get(server.url("/news/1.html")).content == b"public"


def test_robots_can_be_switched_off(server: FixtureServer) -> None:
    server.route("/robots.txt", "User-agent: *\nDisallow: /\n")
    server.route("/p", "page")
    with Fetcher(make_settings(respect_robots=False)) as f:
        assert f.get(server.url("/p")).content == b"page"


# -- politeness ----------------------------------------------------------------------------------

def test_requests_to_one_host_are_spaced(server: FixtureServer) -> None:
    server.route("/x", "x")
    naps: list[float] = []
    settings = make_settings(per_host_delay_seconds=2.0, respect_robots=False)
    with Fetcher(settings, clock=lambda: 100.0, sleep=naps.append) as f:
        for _ in range(3):
            f.get(server.url("/x"))
    assert naps == [2.0, 4.0]  # a frozen clock: each request waits for its turn


def test_per_host_concurrency_is_limited(server: FixtureServer) -> None:
    active, peak, lock = [0], [0], threading.Lock()

    def handler(_req: Request) -> Reply:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.05)
        with lock:
            active[0] -= 1
        return Reply(200, b"ok")
    server.route("/c", handler=handler)
    with Fetcher(make_settings(per_host_concurrency=1, respect_robots=False)) as f:
        threads = [threading.Thread(target=f.get, args=(server.url("/c"),)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert peak[0] == 1 and len(server.requests) == 4


def test_caller_headers_are_sent(server: FixtureServer, fetcher: Fetcher) -> None:
    server.route("/api", "{}")
    fetcher.get(server.url("/api"), purpose="api", headers={"X-Naver-Client-Id": "abc"})
    assert server.requests[-1].headers["x-naver-client-id"] == "abc"


def test_caller_headers_do_not_follow_a_redirect_to_another_origin() -> None:
    with FixtureServer() as api, FixtureServer() as other:
        other.route("/landing", "elsewhere")
        api.route("/search", status=302, headers={"Location": other.url("/landing")})
        with Fetcher(make_settings()) as f:
            r = f.get(api.url("/search"), purpose="api", headers={"X-Naver-Client-Secret": "s3cret"})
    assert r.content == b"elsewhere"
    assert api.requests[-1].headers["x-naver-client-secret"] == "s3cret"
    assert "x-naver-client-secret" not in other.requests[-1].headers
    assert other.requests[-1].headers["user-agent"].startswith("policywatch/")


def test_response_is_frozen(server: FixtureServer, fetcher: Fetcher) -> None:
    server.route("/f", "x")
    r = fetcher.get(server.url("/f"))
    with pytest.raises(Exception):
        r.status = 500  # type: ignore[misc]
    assert replace(r, status=201).status == 201

"""A real browser against the local API Gateway: CORS allows exactly what the template allows.

Headless Chromium (Debian's ``chromium`` package) loads a page from one local origin (a small static server on
127.0.0.1) whose script calls an HTTP API served by ``strata serve`` on another origin with ``fetch``. The page writes
the outcome into its DOM and ``chromium --dump-dom`` prints it: ``OK <status> <body>`` when the browser let the script
read the answer, ``BLOCKED ...`` when CORS stopped it. The browser is the judge, not our own reading of headers.

Chromium missing: skipped on a developer's machine, a failure in CI (``CI`` or ``STRATA_REQUIRE_CHROMIUM`` set):
``.ci/run`` installs it (apt-get, when run as root on Debian) and requires it.
"""
from __future__ import annotations

import html
import http.server
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from deploy_helpers import env_for, strata
from gateway_helpers import api_url
from strata_testkit import start_serve, stop_serve

pytestmark = pytest.mark.slow

BROWSER_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage")
VIRTUAL_TIME_MS = 20000     # virtual time: pending network requests hold it, so this is a ceiling, not a wait

HANDLER = """import json
def handler(event, context):
    return {"statusCode": 200, "headers": {"x-exposed": "seen", "x-hidden": "unseen"},
            "body": json.dumps({"method": event["requestContext"]["http"]["method"], "path": event["rawPath"]})}
"""

TEMPLATE = """AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src
      AutoPublishAlias: live
      Events:
        Any:
          Type: HttpApi
          Properties: {{ApiId: !Ref Http, Path: /hello, Method: ANY}}
  Http:
    Type: AWS::Serverless::HttpApi
    Properties:
      CorsConfiguration:
        AllowOrigins: ["{allowed}"]
        AllowHeaders: [x-custom]
        AllowMethods: [GET, PUT]
        ExposeHeaders: [x-exposed]
        MaxAge: 0
"""

PAGE = """<!doctype html><html><body><pre id="out">pending</pre><script>
(async () => {{
  const out = document.getElementById("out");
  try {{
    const r = await fetch({url!s}, {{method: {method!s}, headers: {headers!s}}});
    const body = await r.text();
    out.textContent = "OK " + r.status + " " + body + " exposed=" + r.headers.get("x-exposed")
      + " hidden=" + r.headers.get("x-hidden");
  }} catch (e) {{
    out.textContent = "BLOCKED " + e;
  }}
}})();
</script></body></html>"""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI") or os.environ.get("STRATA_REQUIRE_CHROMIUM"):
            pytest.fail("chromium is not installed: .ci/run installs Debian's chromium package (apt-get)")
        pytest.skip("chromium is not installed (apt-get install chromium); CI runs this test")
    return found


class _Pages(http.server.BaseHTTPRequestHandler):
    """``/page?url=...&method=...&header=name:value``: a page whose script fetches ``url``."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        import json

        query = parse_qs(urlsplit(self.path).query)
        headers = dict(h.split(":", 1) for h in query.get("header", []))
        body = PAGE.format(url=json.dumps(query["url"][0]), method=json.dumps(query.get("method", ["GET"])[0]),
                           headers=json.dumps(headers)).encode()
        self.send_response(200)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's signature
        pass


def _origin_server() -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    browser = chromium()
    allowed, denied = _origin_server(), _origin_server()
    allowed_origin = f"http://127.0.0.1:{allowed.server_address[1]}"
    root = tmp_path_factory.mktemp("browser")
    app, home = root / "corsapp", root / "home"
    (app / "src").mkdir(parents=True)
    (app / "src" / "app.py").write_text(HANDLER)
    (app / "template.yaml").write_text(TEMPLATE.format(allowed=allowed_origin))
    strata(app, home, "deploy", env=env_for(home), timeout=300)
    process = start_serve(home)
    try:
        url = api_url(home, "corsapp", "Http", "$default")
        yield {"browser": browser, "api": url, "allowed": allowed, "denied": denied, "profile": root / "profile"}
    finally:
        stop_serve(process)
        allowed.shutdown()
        denied.shutdown()


def browse(setup: dict[str, object], origin: str, path: str, method: str = "GET",
           header: str | None = None) -> str:
    """What the page at ``origin`` shows after fetching ``path`` from the API."""
    server = setup[origin]
    assert isinstance(server, http.server.ThreadingHTTPServer)
    page = f"http://127.0.0.1:{server.server_address[1]}/page?url={setup['api']}{path}&method={method}"
    if header:
        page += f"&header={header}"
    argv = [str(setup["browser"]), *BROWSER_FLAGS, f"--user-data-dir={setup['profile']}",
            f"--virtual-time-budget={VIRTUAL_TIME_MS}", "--dump-dom", page]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    found = re.search(r'<pre id="out">(.*?)</pre>', proc.stdout, re.DOTALL)
    assert found, f"chromium printed no page (exit {proc.returncode}): {proc.stdout[-500:]} {proc.stderr[-2000:]}"
    return html.unescape(found.group(1))


def test_allowed_origin_reads_the_answer_and_only_exposed_headers(setup: dict[str, object]) -> None:
    shown = browse(setup, "allowed", "/hello")
    assert shown.startswith("OK 200 "), shown
    assert '"method": "GET"' in shown and '"path": "/hello"' in shown
    assert "exposed=seen" in shown and "hidden=null" in shown


def test_allowed_origin_preflighted_request_with_allowed_method_and_header(setup: dict[str, object]) -> None:
    shown = browse(setup, "allowed", "/hello", method="PUT", header="x-custom:1")
    assert shown.startswith("OK 200 "), shown
    assert '"method": "PUT"' in shown


def test_other_origin_is_blocked_by_the_browser(setup: dict[str, object]) -> None:
    shown = browse(setup, "denied", "/hello")
    assert shown.startswith("BLOCKED TypeError"), shown


def test_header_or_method_the_template_does_not_allow_is_blocked(setup: dict[str, object]) -> None:
    assert browse(setup, "allowed", "/hello", header="x-other:1").startswith("BLOCKED"), "header x-other"
    assert browse(setup, "allowed", "/hello", method="DELETE").startswith("BLOCKED"), "method DELETE"

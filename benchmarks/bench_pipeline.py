"""One full pass of the real pipeline over many sources served from 127.0.0.1, on SQLite and
PostgreSQL: wall time, articles per second, CPU seconds per article, peak memory, and memory as
the articles accumulate (it must stay flat).

    .venv/bin/python benchmarks/bench_pipeline.py                      # 500 sources x 20 entries, both stores
    .venv/bin/python benchmarks/bench_pipeline.py --sources 50 --backend sqlite --workers 4 --claim-processes 0
    .venv/bin/python benchmarks/bench_pipeline.py --profile prof.out   # cProfile of the pass

The site runs in a separate process (its CPU is not counted): ``/feed/<i>.xml`` is an RSS feed of
``--entries`` items and ``/article/<i>/<j>.html`` a Korean news page whose text is drawn from
sentence templates with varied actors, numbers and clauses, so that no two articles are
near-duplicates (the pipeline drops those). Each backend runs in its own child process, on a fresh
store that has learned the seeds first. Alerts are stored in the outbox, not delivered.

CPU seconds and memory include the claim-reading processes (``--claim-processes``): each loads
its own Kiwi model. Below the table, the CPU per article in each quarter of the pass is split
between this process with its children and the PostgreSQL server's live processes (mostly the
worker's own backends), so a rate that falls as the store grows shows on which side the work grew. The pipeline holds the GIL for its Python work while Kiwi's analysis and
the database drivers release it, so in one process the articles per second are bounded by about
1 / (Python CPU seconds per article); ``--claim-processes 1`` moves claim reading to the other core.
"""
from __future__ import annotations

import argparse
from concurrent.futures import ThreadPoolExecutor
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from email.utils import format_datetime
from datetime import UTC, datetime, timedelta
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing import Process, Queue
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_ADMIN_URL = os.environ.get("POLICYWATCH_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
TARGET_ARTICLES_PER_SECOND = 30.0

# --- the generated site ------------------------------------------------------------------------

ACTORS = ["과학기술정보통신부", "산업통상자원부", "개인정보보호위원회", "금융위원회", "공정거래위원회", "미국 상무부",
          "인도 정부", "일본 정부", "대만 정부", "호주 정부", "이탈리아 정부", "유럽연합", "서울시", "경기도", "국회",
          "한국은행", "기획재정부", "방송통신위원회", "국가정보원", "행정안전부"]
COMPANIES = ["삼성전자", "SK하이닉스", "LG전자", "네이버", "카카오", "엔비디아", "화웨이", "딥시크", "TSMC", "인텔",
             "퀄컴", "AMD", "마이크론", "구글", "마이크로소프트", "오픈AI", "메타", "애플", "아마존", "바이두"]
TARGETS = ["딥시크", "엔비디아 칩 수출", "반도체 수출 통제", "중국산 AI", "화웨이", "AI 기본법"]
METRICS = ["매출", "영업이익", "투자 규모", "연구개발비", "시장 점유율", "수출액", "출하량", "직원 수", "가입자 수",
           "데이터센터 용량", "보조금", "예산", "순이익", "시가총액", "생산량"]
UNITS = [("억 원", 1), ("조 원", 1), ("만 달러", 1), ("억 달러", 1), ("%", 1), ("명", 1), ("개", 1), ("배", 1)]
QUALIFIERS = ["", "약 ", "", "", "최대 "]
SUPPORT = ["도입하기로 했다", "허용하기로 결정했다", "사용을 권고했다", "지원하겠다고 밝혔다", "승인했다"]
OPPOSE = ["금지하기로 했다", "차단했다", "사용을 제한하기로 했다", "서비스를 중단시켰다", "규제하겠다고 밝혔다"]
NEUTRAL = ["검토하고 있다", "동향을 주시하고 있다", "도입을 고려하고 있다", "신중한 입장을 보였다"]
PLACES = ["서울", "판교", "수원", "대전", "부산", "워싱턴", "베이징", "도쿄", "타이베이", "뉴델리", "브뤼셀", "실리콘밸리"]
FILLERS = [
    "{place}에서 열린 간담회에서 {company} 관계자는 {metric} 전망에 대해 말을 아꼈다.",
    "업계에서는 {company}의 이번 결정이 {place} 지역 공급망에 적지 않은 영향을 줄 것으로 보고 있다.",
    "전문가들은 {target} 문제가 장기화할 경우 {metric}에 부담이 될 수 있다고 지적했다.",
    "{company}는 {place}에 새 연구소를 세우고 인공지능 반도체 개발 인력을 늘리고 있다.",
    "한 증권사 연구원은 {company}의 {metric} 흐름이 다음 분기에도 이어질지 지켜봐야 한다고 말했다.",
    "{actor}는 이와 관련해 {place}에서 관계 기관 회의를 열고 대응 방안을 논의했다.",
    "생성형 AI 경쟁이 치열해지면서 {company}와 {company2}의 협력 여부에도 관심이 쏠린다.",
    "시장조사업체는 {place} 소비자들의 인공지능 서비스 이용이 빠르게 늘고 있다고 분석했다.",
    "{company2} 측은 {target}에 대한 공식 입장을 아직 내놓지 않았다.",
    "정부 관계자는 {target} 관련 후속 조치를 {place} 현지 상황을 보며 결정하겠다고 설명했다.",
]


NOUNS = ["공급망", "데이터센터", "전력망", "반도체 장비", "클라우드", "보안 인증", "개인정보", "인재 양성", "표준화",
         "수출 물량", "설비 투자", "연구 인력", "오픈소스", "규제 샌드박스", "세액 공제", "스타트업", "파운드리",
         "메모리", "자율주행", "로봇", "통신망", "위성", "배터리", "양자컴퓨터", "디지털 전환", "저작권"]
SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
SYLLABLES = "민서준도현지우하윤재석영수진호성은경태훈혜연동규상철"
TITLES = ["장관", "차관", "대표", "부사장", "연구원", "교수", "위원장", "실장", "센터장", "의원"]


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(SYLLABLES) for _ in range(2))


def _quote(rng: random.Random) -> str:
    a, b, c = rng.sample(NOUNS, 3)
    return (f"{_person(rng)} {rng.choice(TITLES)}은 “{_person(rng)}{rng.choice(SYLLABLES)} 사업의 {a}과 {b} 분야에서 "
            f"{rng.randint(2, 40)}개 과제를 "
            f"{rng.choice(['추진', '점검', '재검토', '확대', '정비'])}하고 {c} 문제도 함께 풀겠다”고 말했다.")


def _amount(rng: random.Random) -> str:
    unit, _ = rng.choice(UNITS)
    if unit in ("%", "배"):
        return f"{rng.randint(1, 99)}.{rng.randint(0, 9)}{unit}"
    return f"{rng.randint(2, 9999):,}{unit}"


def article_text(i: int, j: int) -> tuple[str, list[str]]:
    """The title and paragraphs of article ``j`` of source ``i`` (the same every time)."""
    rng = random.Random(i * 100_003 + j)
    company, company2 = rng.sample(COMPANIES, 2)
    # about a third of the articles name a watched target (and raise alerts); the rest are on the
    # topics only, as on a real tech desk
    target = rng.choice(TARGETS) if rng.random() < 0.3 else rng.choice(["클라우드 보안", "전력 수급", "인재 유출"])
    actor = rng.choice(ACTORS)
    year = rng.choice([2024, 2025, 2026])
    sentences = []
    for _ in range(rng.randint(3, 5)):
        c = rng.choice(COMPANIES)
        sentences.append(f"{c}의 {year}년 {rng.choice(METRICS)}은 {rng.choice(QUALIFIERS)}{_amount(rng)}으로 "
                         f"{rng.choice(['집계됐다', '나타났다', '추산된다', '전년보다 늘었다', '전년보다 줄었다'])}.")
    for _ in range(rng.randint(1, 3)):
        verb = rng.choice(rng.choice([SUPPORT, OPPOSE, NEUTRAL]))
        sentences.append(f"{rng.choice(ACTORS)}는 {rng.randint(1, 28)}일 {target}{rng.choice(['을', '를'])} "
                         f"{verb}.".replace("를 사용을", "의 사용을").replace("을 사용을", "의 사용을"))
    for _ in range(rng.randint(8, 12)):
        sentences.append(_quote(rng))
    for _ in range(rng.randint(2, 4)):
        sentences.append(rng.choice(FILLERS).format(place=rng.choice(PLACES), company=rng.choice(COMPANIES),
                                                    company2=company2, metric=rng.choice(METRICS),
                                                    target=target, actor=actor))
    rng.shuffle(sentences)
    paragraphs = [" ".join(sentences[k:k + 3]) for k in range(0, len(sentences), 3)]
    title = f"{company} {rng.choice(METRICS)} {_amount(rng)}… {actor} '{target}' {rng.choice(['대응', '논의', '결정'])} #{i}-{j}"
    return title, paragraphs


def page(i: int, j: int, published: datetime) -> bytes:
    title, paragraphs = article_text(i, j)
    body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return f"""<!doctype html><html lang="ko"><head><meta charset="utf-8"><title>{escape(title)} - 벤치일보</title>
<meta property="og:title" content="{escape(title)}">
<meta property="article:published_time" content="{published.isoformat()}"></head>
<body><header><nav><a href="/">홈</a> <a href="/it">IT</a> <a href="/policy">정책</a></nav></header>
<main><article><h1>{escape(title)}</h1><div class="byline">김기자 reporter@bench.example</div>
<div class="article-body">{body}</div></article></main>
<aside><h3>많이 본 뉴스</h3><ol><li><a href="/1">주요 뉴스 하나</a></li><li><a href="/2">주요 뉴스 둘</a></li></ol></aside>
<footer>(주)벤치일보 | 서울시 중구 세종대로 1 | Copyright © 2025 벤치일보. All rights reserved.</footer></body></html>""".encode()


def feed(base: str, i: int, entries: int, published: datetime) -> bytes:
    items = "".join(
        f"<item><title>{escape(article_text(i, j)[0])}</title><link>{base}/article/{i}/{j}.html</link>"
        f"<guid>{base}/article/{i}/{j}.html</guid><pubDate>{format_datetime(published - timedelta(minutes=j))}</pubDate></item>"
        for j in range(entries))
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>벤치일보 {i}</title>'
            f"<link>{base}/</link>{items}</channel></rss>").encode()


def serve(port_queue: Queue, entries: int) -> None:
    """The site, in its own process; puts its port on ``port_queue``."""
    published = datetime(2025, 4, 2, 10, 0, tzinfo=UTC)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            parts = self.path.split("?", 1)[0].strip("/").split("/")
            body, ctype, status = b"not found", "text/plain", 404
            try:
                if parts == ["robots.txt"]:
                    body, ctype, status = b"User-agent: *\nAllow: /\n", "text/plain", 200
                elif len(parts) == 2 and parts[0] == "feed":
                    body, ctype, status = feed(base, int(parts[1].split(".")[0]), entries, published), \
                        "application/rss+xml; charset=utf-8", 200
                elif len(parts) == 3 and parts[0] == "article":
                    body, ctype, status = page(int(parts[1]), int(parts[2].split(".")[0]), published), \
                        "text/html; charset=utf-8", 200
            except ValueError:
                pass
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.request_queue_size = 128
    port_queue.put(httpd.server_address[1])
    httpd.serve_forever()


# --- one backend, in a child process -------------------------------------------------------------

def _status_mb(pid: int | str, field: str) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _children() -> list[int]:
    """The claim-reading worker processes (and any other child) of this process."""
    import multiprocessing
    return [p.pid for p in multiprocessing.active_children() if p.pid is not None]


def rss_mb() -> float:
    """Resident memory of this process and its children (the claim processes load Kiwi too)."""
    return _status_mb("self", "VmRSS") + sum(_status_mb(pid, "VmRSS") for pid in _children())


def peak_mb() -> float:
    """Peak resident memory of this process plus that of each child."""
    return _status_mb("self", "VmHWM") + sum(_status_mb(pid, "VmHWM") for pid in _children())


def _stat_seconds(pid: int | str) -> tuple[str, float]:
    """A process's name and CPU time (user + system), from /proc."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            head, rest = fh.read().rsplit(")", 1)
        fields = rest.split()
        return head.split("(", 1)[1], (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return "", 0.0


def server_cpu_seconds() -> float:
    """CPU time of the live PostgreSQL processes on this machine: the database's share of the work,
    which this process's CPU time leaves out. The worker's pooled backends, the writer and the
    checkpointer live through the pass; an autovacuum worker's time is lost when it exits."""
    return sum(seconds for name, seconds in map(_stat_seconds, filter(str.isdigit, os.listdir("/proc")))
               if name.startswith("postgres"))


def cpu_seconds() -> float:
    """CPU time of this process and of its live children (user + system)."""
    total = time.process_time()
    tick = os.sysconf("SC_CLK_TCK")
    for pid in _children():
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        except OSError:
            pass
    return total


def run_one(backend: str, url: str, sources: int, entries: int, workers: int, port: int,
            profile: str | None, claim_processes: int = 0) -> dict[str, Any]:
    from worker import metrics
    from worker.cli import database_connections
    from worker.claims.lexicon import load_lexicon
    from worker.pipeline import Pipeline, outbox_sink
    from worker.settings import load_settings
    from worker.store import queries
    from worker.store.db import Database

    tmp = Path(tempfile.mkdtemp(prefix="pw-bench-"))
    cfg = tmp / "config"
    shutil.copytree(ROOT / "config", cfg)
    (cfg / "sources.yaml").write_text("sources:\n" + "".join(
        f"  - {{name: bench-{i:03d}, outlet: 벤치일보, url: 'http://127.0.0.1:{port}/feed/{i}.xml'}}\n"
        for i in range(sources)), encoding="utf-8")
    text = (cfg / "settings.yaml").read_text(encoding="utf-8")
    text = (text.replace("per_host_delay_seconds: 1.0", "per_host_delay_seconds: 0")
            .replace("per_host_concurrency: 2", f"per_host_concurrency: {max(2, workers * 2)}")
            .replace("respect_robots: true", "respect_robots: false")
            .replace('listen: "127.0.0.1:9464"', 'listen: ""'))
    (cfg / "settings.yaml").write_text(text, encoding="utf-8")
    env = {"POLICYWATCH_CONFIG": str(cfg), "POLICYWATCH_DATA_DIR": str(tmp / "data"),
           "POLICYWATCH_DATABASE_URL": url, "POLICYWATCH_ALLOW_PRIVATE_HOSTS": "127.0.0.1"}
    settings = load_settings(env)
    db = Database(settings.database_url, connections=database_connections(settings))
    db.migrate()
    from worker.claims.pool import ClaimPool
    reader = ClaimPool(settings.config_dir, claim_processes) if claim_processes else None
    pipeline = Pipeline(settings, db, load_lexicon(settings.config_dir), sink=outbox_sink(settings, deliver=False),
                        reader=reader)
    if reader is not None:
        with ThreadPoolExecutor(claim_processes) as warm:  # start the processes: not part of the pass
            list(warm.map(reader, ["워밍업 1만 원."] * claim_processes * 2))
    pipeline.ensure_baseline()  # loads Kiwi too: not part of the pass

    # (articles done, RSS MB, seconds since the start, our CPU s, PostgreSQL CPU s) at each quarter
    samples: list[tuple[int, float, float, float, float]] = []
    done = threading.Event()
    total = sources * entries

    def sample() -> None:
        marks = sorted({max(1, total * q // 4) for q in (1, 2, 3, 4)})
        while marks and not done.wait(0.2):
            n = int(metrics.value("policywatch_articles_total", status="new")
                    + metrics.value("policywatch_articles_total", status="duplicate"))
            while marks and n >= marks[0]:
                samples.append((marks.pop(0), rss_mb(), time.perf_counter() - wall0, cpu_seconds() - cpu0,
                                server_cpu_seconds() - server0))

    sampler = threading.Thread(target=sample, daemon=True)
    rss_before = rss_mb()
    cpu0, wall0, server0 = cpu_seconds(), time.perf_counter(), server_cpu_seconds()
    sampler.start()
    if profile:
        import cProfile
        prof = cProfile.Profile()
        prof.enable()
    if profile:  # cProfile sees only its own thread: the sources are polled one after the other
        reports = [pipeline.refresh_source(source) for source in settings.sources]
    else:
        reports = pipeline.run_once(workers=workers)
    if profile:
        prof.disable()
        prof.dump_stats(profile)
    wall, cpu = time.perf_counter() - wall0, cpu_seconds() - cpu0
    done.set()
    sampler.join()
    if len(samples) < 4:  # the last quarter ended after the sampler's last look
        samples.append((total, rss_mb(), wall, cpu, server_cpu_seconds() - server0))
    peak = peak_mb()
    with db.session() as session:
        counts = queries.counts(session)
    # every page read goes through extraction and claims; a near-duplicate is then stored as such
    articles = int(metrics.value("policywatch_articles_total", status="new")
                   + metrics.value("policywatch_articles_total", status="duplicate"))
    db.dispose()
    pipeline.close()
    shutil.rmtree(tmp, ignore_errors=True)
    return {"backend": backend, "workers": workers, "sources": sources, "entries": entries,
            "articles": articles, "duplicates": int(metrics.value("policywatch_articles_total", status="duplicate")),
            "failed_pages": int(metrics.value("policywatch_articles_total", status="failed")),
            "failing_sources": sum(not r.ok for r in reports), "figures": counts["figures"] - 0,
            "positions": counts["positions"], "alerts": counts["alerts"], "wall_s": wall, "cpu_s": cpu,
            "per_s": articles / wall if wall else 0.0, "cpu_per_article": cpu / articles if articles else 0.0,
            "rss_before_mb": rss_before, "peak_rss_mb": peak,
            "rss_marks": samples, "rss_end_mb": rss_mb()}


def pg_database() -> tuple[str, Any]:
    from sqlalchemy import create_engine, text

    name = f"pw_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", drop


def table(rows: list[dict[str, Any]]) -> str:
    head = (f"{'store':10} {'workers':>7} {'articles':>8} {'wall s':>8} {'art/s':>7} {'CPU s/art':>9} "
            f"{'peak MB':>8} {'RSS MB at 1/4,2/4,3/4,4/4':>26} {'art/s in each quarter':>22} {'dup':>5} {'fail':>4} "
            f"{'figures':>7} {'positions':>9} {'alerts':>6}")
    lines, per_quarter = [head, "-" * len(head)], []
    for r in rows:
        marks = sorted(r["rss_marks"])
        rss = "/".join(f"{mark[1]:.0f}" for mark in marks) or "-"
        rates, ours, server, last = [], [], [], (0, 0.0, 0.0, 0.0)
        for n, _, t, cpu, db in marks:
            done = n - last[0]
            rates.append(f"{done / (t - last[1]):.1f}" if t > last[1] else "-")
            ours.append(f"{(cpu - last[2]) / done * 1000:.0f}" if done else "-")
            server.append(f"{(db - last[3]) / done * 1000:.0f}" if done else "-")
            last = (n, t, cpu, db)
        per_quarter.append(f"{r['backend']:10} CPU ms/article in each quarter: this process and its children "
                           f"{'/'.join(ours)}; PostgreSQL processes {'/'.join(server)}")
        lines.append(f"{r['backend']:10} {r['workers']:>7} {r['articles']:>8} {r['wall_s']:>8.1f} {r['per_s']:>7.1f} "
                     f"{r['cpu_per_article']:>9.4f} {r['peak_rss_mb']:>8.0f} {rss:>26} {'/'.join(rates) or '-':>22} "
                     f"{r['duplicates']:>5} {r['failed_pages']:>4} {r['figures']:>7} {r['positions']:>9} {r['alerts']:>6}")
    return "\n".join(lines + [""] + per_quarter)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=500)
    parser.add_argument("--entries", type=int, default=20)
    parser.add_argument("--workers", type=int, default=8,
                        help="sources polled at once (fetch.sources_at_once; its default is 8)")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the pass (one backend)")
    parser.add_argument("--claim-processes", type=int, default=1,
                        help="claims read in this many processes (claims.processes; its default is 1)")
    parser.add_argument("--child", nargs=3, metavar=("BACKEND", "URL", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        backend, url, port = args.child
        result = run_one(backend, url, args.sources, args.entries, args.workers, int(port), args.profile,
                         args.claim_processes)
        print("RESULT " + json.dumps(result))
        return 0

    ports: Queue = Queue()
    site = Process(target=serve, args=(ports, args.entries), daemon=True)
    site.start()
    port = ports.get(timeout=10)
    rows = []
    try:
        for backend in (["sqlite", "postgresql"] if args.backend == "both" else [args.backend]):
            drop = None
            with tempfile.TemporaryDirectory(prefix="pw-bench-db-") as tmp:
                if backend == "sqlite":
                    url = f"sqlite:///{Path(tmp) / 'bench.db'}"
                else:
                    url, drop = pg_database()
                cmd = [sys.executable, __file__, "--sources", str(args.sources), "--entries", str(args.entries),
                       "--workers", str(args.workers), "--claim-processes", str(args.claim_processes),
                       "--child", backend, url, str(port)]
                if args.profile:
                    cmd += ["--profile", f"{args.profile}.{backend}"]
                try:
                    child = subprocess.run(cmd, capture_output=True, text=True, check=False)
                finally:
                    if drop:
                        drop()
            line = next((ln for ln in child.stdout.splitlines() if ln.startswith("RESULT ")), None)
            if line is None:
                print(f"{backend}: failed\n{child.stderr[-3000:]}", file=sys.stderr)
                continue
            rows.append(json.loads(line[7:]))
            print(f"{backend}: done in {rows[-1]['wall_s']:.0f} s: {line[7:]}", file=sys.stderr, flush=True)
    finally:
        site.terminate()
    print(table(rows))
    slow = [r for r in rows if r["per_s"] < TARGET_ARTICLES_PER_SECOND]
    if slow:
        print(f"below the target of {TARGET_ARTICLES_PER_SECOND:.0f} articles/s: "
              + ", ".join(r["backend"] for r in slow))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The consolidated conformance report: the document an auditor signs against.

    scripts/conformance-report.py [--reports reports/conformance] [--expect default debian12 edge backup ...]

Reads every <reports>/<run>/results.json (written by tests/conformance/plugin.py at the
end of each pytest run: make unit, make preflight, each Molecule scenario's verify, the
read-only audit) and writes <reports>/REPORT.md, REPORT.html (one self-contained,
printable file) and REPORT.json. For each control of the catalogue: its verdict in
every run and on every host, where it was proven (run, host, test) and the evidence.

The consolidated verdict of a control:
- KHÔNG ĐẠT / FAIL when it failed in any run on any host;
- else CHƯA CHỨNG MINH / NOT PROVEN when any run left it unproven on a host, or when no
  run found proves it at all (its proving scenario did not run, or proves nothing);
- else ĐẠT / PASS when at least one run proved it (every test ran and passed);
- else KHÔNG ÁP DỤNG / N/A: declared not applicable, with the declared reasons, on every
  host that looked at it.
"Not in this run" pointers in a run's host report are never counted either way.

A control whose production behaviour the lab switches off (its `lab_switches:` in the
catalogue) is marked next to its verdict, "(lab: var=value in run/host, ... — production
path not run in any run)", for each switch that no run passed with production's value
(a run whose inventory keeps the role default, as molecule/backup does for
dovecot_password_scheme, lifts the mark for that switch).

Exit status: 0 when every control is PASS or N/A, 1 when any is FAIL or NOT PROVEN
(each named on the terminal), so that `make test` cannot hide it. It says which runs it
found, and with --expect which expected runs are missing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conformance.catalogue import catalogue, runs_of_suites, suite_of  # noqa: E402

LABEL = {"pass": "ĐẠT / PASS", "fail": "KHÔNG ĐẠT / FAIL", "not_proven": "CHƯA CHỨNG MINH / NOT PROVEN",
         "n/a": "KHÔNG ÁP DỤNG / N/A", "elsewhere": "NGOÀI LẦN CHẠY NÀY / NOT IN THIS RUN"}
ORDER = ("fail", "not_proven", "pass", "n/a")


def load_runs(reports: pathlib.Path) -> dict[str, dict]:
    runs = {}
    for path in sorted(reports.glob("*/results.json")):
        runs[path.parent.name] = json.loads(path.read_text(encoding="utf-8"))
    return runs


def lab_switches_of(switches: list[str], seen: list[dict]) -> list[dict]:
    """[{var, values, where}] for each switch that no run passed with production's value, with the
    lab values it ran with and where (run/host). Hosts whose values are unknown (None) count neither way."""
    known = [s for s in seen if s.get("lab_switches") is not None]
    out = []
    for var in switches:
        if any(s["verdict"] == "pass" and var not in {m["var"] for m in s["lab_switches"]} for s in known):
            continue
        marked = [(s, m) for s in known for m in s["lab_switches"] if m["var"] == var]
        if marked:
            out.append({"var": var, "values": sorted({m["value"] for _, m in marked}),
                        "where": [f"{s['run']}/{s['host']}" for s, _ in marked]})
    return out


def lab_note(marks: list[dict]) -> str:
    if not marks:
        return ""
    return ("(lab: " + "; ".join(f"{m['var']}={' / '.join(m['values'])} in {', '.join(m['where'])}" for m in marks)
            + " — production path not run in any run / chưa lần chạy nào chạy như trên máy chủ thật)")


def consolidate(runs: dict[str, dict]) -> dict:
    controls = catalogue()
    suites = runs_of_suites()
    out = {}
    for cid in controls:
        seen = []  # one entry per run and host that judged the control
        for run, data in runs.items():
            for host, hd in data.get("hosts", {}).items():
                v = hd.get("controls", {}).get(cid)
                if v is not None:
                    seen.append({"run": run, "host": host, **v})
        verdicts = {s["verdict"] for s in seen}
        if "fail" in verdicts:
            verdict = "fail"
        elif "not_proven" in verdicts:
            verdict = "not_proven"
        elif "pass" in verdicts:
            verdict = "pass"
        elif "n/a" in verdicts:
            verdict = "n/a"
        else:
            verdict = "not_proven"
        proven = [{"run": s["run"], "host": s["host"], "test": t["test"], "evidence": t.get("evidence", [])}
                  for s in seen if s["verdict"] == "pass" for t in s["tests"] if t["state"] == "pass"]
        problems = [{"run": s["run"], "host": s["host"], "verdict": s["verdict"],
                     "why": "; ".join(f"{t['test']}: {t.get('why', '')}" for t in s["tests"]
                                      if t["state"] in ("fail", "not_proven"))
                            or (s.get("note") or {}).get("en", "")}
                    for s in seen if s["verdict"] in ("fail", "not_proven")]
        na = [{"run": s["run"], "host": s["host"], "reason": s.get("na_reason") or {}}
              for s in seen if s["verdict"] == "n/a"]
        where = sorted({r for t in controls[cid].tests for r in suites.get(suite_of(t.split("::")[0]), [])})
        out[cid] = {"verdict": verdict, "runs": {f"{s['run']}/{s['host']}": s["verdict"] for s in seen},
                    "proven": proven, "problems": problems, "not_applicable": na,
                    "lab_switches": lab_switches_of(controls[cid].lab_switches, seen),
                    "why": "" if seen and verdict != "not_proven" or problems
                    else "no run found proves it / không lần chạy nào chứng minh"
                    + (f" (its tests run in / phép kiểm chạy ở: {', '.join(where)})" if where else "")}
    return out


def _md(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def where_lines(v: dict) -> list[str]:
    lines = [f"{p['run']} / {p['host']} / {p['test']}" + (f": {'; '.join(p['evidence'])}" if p["evidence"] else "")
             for p in v["proven"]]
    lines += [f"{LABEL[p['verdict']]} — {p['run']} / {p['host']}: {p['why']}" for p in v["problems"]]
    lines += [f"N/A — {n['run']} / {n['host']}: {n['reason'].get('vi', '')} / {n['reason'].get('en', '')}"
              for n in v["not_applicable"]]
    if v["why"]:
        lines.append(v["why"])
    return lines


def write(reports: pathlib.Path, runs: dict, result: dict, missing: list[str]) -> None:
    controls = catalogue()
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    counts = {s: sum(1 for v in result.values() if v["verdict"] == s) for s in ORDER}
    marked = sum(1 for v in result.values() if v["lab_switches"])
    found = ", ".join(f"{r} ({d.get('generated', '?')})" for r, d in runs.items()) or "none / không có"
    summary = ", ".join(f"{LABEL[s]} {counts[s]}" for s in ORDER) + f" (of {len(result)} controls / biện pháp)"
    md = [
        "# Báo cáo tuân thủ tổng hợp / Consolidated conformance report", "",
        f"- Lập lúc / Generated: {now}",
        f"- Các lần chạy đã đọc / Runs found: {found}",
        f"- Lần chạy dự kiến nhưng thiếu / Expected runs missing: {', '.join(missing) or '—'}",
        f"- Kết quả / Result: {summary}",
        "- ĐẠT/PASS: đã chứng minh ở ít nhất một lần chạy và không lần chạy nào thất bại hay bỏ dở / proven in "
        "at least one run (every test ran and passed) and failed or left unproven in none. KHÔNG ĐẠT/FAIL: thất "
        "bại ở một lần chạy / failed in a run. CHƯA CHỨNG MINH/NOT PROVEN: bị bỏ qua, xfail, không chạy, hoặc "
        "không lần chạy nào chứng minh / skipped, xfailed, never ran, or proven by no run found. KHÔNG ÁP "
        "DỤNG/N/A: chỉ khi danh mục khai báo, kèm lý do / only where the catalogue declares it, with the reason.",
        f"- (lab: …) cạnh kết quả / next to a verdict ({marked}): không lần chạy nào chạy biện pháp với giá trị vận "
        "hành của biến (mặc định của role), chỉ với giá trị phòng thử nghiệm; chỉ máy chủ thật chứng minh được phần "
        "đó (playbooks/audit.yml trên máy chủ đó) / no run ran the control with production's value of the switch "
        "(the role default), only with the lab's: only a real server proves that part (playbooks/audit.yml there).",
        "",
        "| Mã / ID | Biện pháp / Control | Nguồn / Source | Kết quả / Result | "
        "Chứng minh ở đâu và bằng chứng / Where proven and evidence |",
        "|---|---|---|---|---|"]
    for cid, v in result.items():
        c = controls[cid]
        note = lab_note(v["lab_switches"])
        md.append(f"| {cid} | {_md(c.title_vi)}<br>{_md(c.title_en)} | {_md(', '.join(c.source))} | "
                  f"**{LABEL[v['verdict']]}**{'<br>' + _md(note) if note else ''} | {_md(c.how)}<br>"
                  + "<br>".join(_md(x) for x in where_lines(v)) + " |")
    (reports / "REPORT.md").write_text("\n".join(md) + "\n", encoding="utf-8")

    e = html.escape
    rows = []
    for cid, v in result.items():
        c = controls[cid]
        items = "".join(f"<li>{e(x)}</li>" for x in where_lines(v))
        note = lab_note(v["lab_switches"])
        lab = f'<br><span class="lab">{e(note)}</span>' if note else ""
        rows.append(f'<tr class="{e(v["verdict"].replace("/", ""))}"><td>{e(cid)}</td>'
                    f'<td>{e(c.title_vi)}<br><i>{e(c.title_en)}</i></td><td>{e(", ".join(c.source))}</td>'
                    f'<td><b>{e(LABEL[v["verdict"]])}</b>{lab}</td><td>{e(c.how)}<ul>{items}</ul></td></tr>')
    page = f"""<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8">
<title>Báo cáo tuân thủ tổng hợp / Consolidated conformance report</title>
<style>
body {{ font-family: sans-serif; font-size: 10pt; margin: 1.5em; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border: 1px solid #888; padding: 4px; vertical-align: top; text-align: left; }}
th {{ background: #ddd; }}
tr.pass td:nth-child(4) {{ background: #d8f0d8; }}
tr.fail td:nth-child(4) {{ background: #f4c7c7; }}
tr.not_proven td:nth-child(4) {{ background: #f8e3b0; }}
tr.na td:nth-child(4) {{ background: #e4e4e4; }}
ul {{ margin: 0.3em 0 0 1em; padding: 0; }}
.lab {{ font-size: 90%; font-style: italic; }}
.sign td {{ height: 4em; }}
@media print {{ body {{ margin: 0; font-size: 8pt; }} tr {{ page-break-inside: avoid; }}
  thead {{ display: table-header-group; }} }}
</style></head><body>
<h1>Báo cáo tuân thủ tổng hợp / Consolidated conformance report</h1>
<h2>Tóm tắt / Summary</h2>
<ul>
<li>Lập lúc / Generated: {e(now)}</li>
<li>Các lần chạy đã đọc / Runs found: {e(found)}</li>
<li>Lần chạy dự kiến nhưng thiếu / Expected runs missing: {e(', '.join(missing) or '—')}</li>
<li>Kết quả / Result: {e(summary)}</li>
</ul>
<p>{e(md[6].removeprefix('- '))}</p>
<p>{e(md[7].removeprefix('- '))}</p>
<h2>Các biện pháp / Controls</h2>
<table><thead><tr><th>Mã / ID</th><th>Biện pháp / Control</th><th>Nguồn / Source</th><th>Kết quả / Result</th>
<th>Cách kiểm, nơi chứng minh và bằng chứng / Method, where proven and evidence</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
<h2>Xác nhận / Sign-off</h2>
<table class="sign"><tr><th>Người kiểm tra / Auditor</th><th>Ngày / Date</th><th>Chữ ký / Signature</th></tr>
<tr><td></td><td></td><td></td></tr></table>
</body></html>
"""
    (reports / "REPORT.html").write_text(page, encoding="utf-8")
    (reports / "REPORT.json").write_text(json.dumps(
        {"generated": now, "runs_found": list(runs), "runs_missing": missing, "controls": result},
        ensure_ascii=False, indent=1), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=pathlib.Path, default=ROOT / "reports" / "conformance")
    parser.add_argument("--expect", nargs="*", default=[], help="runs that should be there (missing ones are named)")
    args = parser.parse_args(argv)
    args.reports.mkdir(parents=True, exist_ok=True)
    runs = load_runs(args.reports)
    missing = [r for r in args.expect if r not in runs]
    result = consolidate(runs)
    write(args.reports, runs, result, missing)
    print(f"conformance: runs found: {', '.join(runs) or 'none'}"
          + (f"; expected but missing: {', '.join(missing)}" if missing else ""))
    bad = [(cid, v) for cid, v in result.items() if v["verdict"] in ("fail", "not_proven")]
    for cid, v in bad:
        where = "; ".join(f"{p['run']}/{p['host']}: {p['why']}" for p in v["problems"]) or v["why"]
        print(f"{'FAIL' if v['verdict'] == 'fail' else 'NOT PROVEN'} {cid}: {where}"[:600])
    counts = {s: sum(1 for v in result.values() if v["verdict"] == s) for s in ORDER}
    print(f"conformance: {', '.join(f'{s} {n}' for s, n in counts.items())} -> "
          f"{args.reports / 'REPORT.md'}, {args.reports / 'REPORT.html'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

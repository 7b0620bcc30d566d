"""Append the picker's worst-case CPU (picker_worst_case.json) and the concurrent-save results
(concurrent_saves_<database>.json) to bench/results/SUMMARY.md, with PASS/FAIL. Run by scripts/bench.sh."""

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    lines = ["", "## Robustness (issue 17)", ""]
    picker = RESULTS / "picker_worst_case.json"
    if picker.exists():
        p = json.loads(picker.read_text())
        o = p["overall_cpu_ms"]
        verdict = "PASS" if p["pass"] else "FAIL"
        lines.append(
            f"- Picker, worst case, CPU per uncached request over {o['n']} adversarial requests "
            f"({p['parts_in_catalogue']} parts, {p['database']}): p50 {o['p50']} ms, p99 {o['p99']} ms, "
            f"max {o['max']} ms; budget p99 < {p['budget']['p99_ms']:g} ms: **{verdict}**"
        )
        for name, row in p["states"].items():
            lines.append(
                f"  - {name} ({row['state_chars']} chars): p99 {row['cpu_ms']['p99']} ms, lists cut "
                f"{row['lists_cut']}/{row['requests']}; configurator page p99 {row['configurator_page_cpu_ms']['p99']} ms"
            )
    else:
        lines.append("- Picker worst case: not measured (picker_worst_case.json missing)")
    for database in ("sqlite", "postgresql"):
        path = RESULTS / f"concurrent_saves_{database}.json"
        if not path.exists():
            lines.append(f"- Concurrent saves on {database}: not measured")
            continue
        c = json.loads(path.read_text())
        total = sum(c["requests"].values())
        verdict = "PASS" if c["server_errors"] == 0 and c.get("revisions_kept", True) else "FAIL"
        lines.append(
            f"- Concurrent saves on {database}: {total} requests at once ({c['requests']}), statuses "
            f"{c['status_counts']}, {c['server_errors']} server errors, wall {c['wall_s']} s, latency p50 "
            f"{c['latency_ms']['p50']} ms / max {c['latency_ms']['max']} ms: **{verdict}**"
        )
    summary = RESULTS / "SUMMARY.md"
    with summary.open("a") as out:
        out.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

"""Citation markers and answer quality of a rag app, from ``openbuilder eval`` run folders.

    PYTHONPATH=. python -m framework.cli.main eval apps/kb_qa --out /tmp/ev-after
    PYTHONPATH=. python benchmarks/rag_citations.py /tmp/ev-before /tmp/ev-after [--k 3]

Per run and model: the share of answers with at least one valid ``[n]`` marker (a number within
the ``k`` sources given whose citation says ``"cited": true``), split into markers the model wrote
and markers the answer step inferred (citations with ``"inferred": true``); the share of all
markers in the answers that are valid; mean answer token F1 (all cases, and the answerable ones);
the share of unanswerable cases answered "I do not know"; p50 latency. Reads results.json only.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from framework.eval.metrics import is_refusal, percentile

MARK = re.compile(r"\[(\d{1,3})\]")


def stats(results: dict[str, Any], model: str, k: int) -> dict[str, float]:
    n = written = inferred = marks = valid_marks = 0
    f1_all: list[float] = []
    f1_ans: list[float] = []
    idk: list[float] = []
    latency: list[float] = []
    for case in results["cases"]:
        r = case["results"][model]
        n += 1
        found = [int(m) for m in MARK.findall(r["answer"])]
        cited = {c["index"]: c for c in r["citations"] if c.get("cited")}
        ok = [m for m in found if 1 <= m <= k and m in cited]
        marks += len(found)
        valid_marks += len(ok)
        if ok:
            if any(not cited[m].get("inferred") for m in ok):
                written += 1
            else:
                inferred += 1
        f1 = r["metrics"].get("answer_f1")
        if f1 is not None:
            f1_all.append(f1)
            (idk if "unanswerable" in case["tags"] else f1_ans).append(f1)
        if "unanswerable" in case["tags"]:
            idk[-1] = float(is_refusal(r["answer"]) or "not provide" in r["answer"].lower())
        latency.append(r["latency_s"])
    return {"cases": n, "marker_share": (written + inferred) / n, "model_marker_share": written / n,
            "inferred_marker_share": inferred / n,
            "valid_marker_share": valid_marks / marks if marks else float("nan"),
            "answer_f1": sum(f1_all) / len(f1_all), "answer_f1_answerable": sum(f1_ans) / len(f1_ans),
            "unanswerable_declined": sum(idk) / len(idk) if idk else float("nan"),
            "latency_p50_s": percentile(latency, 50) or 0.0}


def main(argv: list[str]) -> None:
    k = 3
    if "--k" in argv:
        i = argv.index("--k")
        k = int(argv[i + 1])
        argv = argv[:i] + argv[i + 2:]
    rows = []
    for folder in argv:
        results = json.loads((Path(folder) / "results.json").read_text())
        for model in results["models"]:
            rows.append({"run": folder, "model": model, **stats(results, model, k)})
    keys = [key for key in rows[0] if key not in ("run", "model")]
    print("".ljust(24) + "".join(Path(row["run"]).name[:14].rjust(15) for row in rows))
    for key in keys:
        cells = (f"{row[key]:.3f}" if isinstance(row[key], float) else str(row[key])
                 for row in rows)
        print(key.ljust(24) + "".join(cell.rjust(15) for cell in cells))
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])

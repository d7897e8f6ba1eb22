#!/usr/bin/env python3
"""Regenerates the text seed corpora in tests/fuzz/corpus/ from the shipped data.

Usage: python3 scripts/fuzz-seeds.py [ENVELOPES_OUT]
The recordings in tests/data/agent-runs/ are shrunk (every string cut to 400 characters, every list to 24 items, JSON
written compactly) so the corpus stays small and under the harnesses' -max_len while keeping the
structure the importers walk. scripts/fuzz-seeds runs this and then make_seeds for the binary
seeds (log segments, encoded payloads). Deterministic: the same data gives the same files.
"""
import hashlib
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "tests/data/agent-runs")
CORPUS = os.path.join(ROOT, "tests/fuzz/corpus")
CAP = 400


def shrink(v):
    if isinstance(v, str):
        return v[:CAP]
    if isinstance(v, list):
        return [shrink(x) for x in v[:24]]
    if isinstance(v, dict):
        return {k: shrink(x) for k, x in v.items()}
    return v


def compact(v):
    return json.dumps(shrink(v), ensure_ascii=False, separators=(",", ":"))


def put(harness, name, data):
    d = os.path.join(CORPUS, harness)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def load(rel):
    with open(os.path.join(DATA, rel), encoding="utf-8") as f:
        return f.read()


def main():
    # Importers: every shipped recording, shrunk; a multi-run JSONL gives its first run.
    for rel in ["openhands/basic.json", "openhands/basic_gui_mode.json",
                "openhands/wrong_initial_state.json"]:
        put("import_openhands_fuzz", os.path.basename(rel), compact(json.loads(load(rel))))
    lines = load("openhands/output.jsonl").splitlines()[:1]
    put("import_openhands_fuzz", "output.jsonl", "\n".join(compact(json.loads(l)) for l in lines) + "\n")
    for rel in sorted(os.listdir(os.path.join(DATA, "swe-agent"))):
        put("import_swe_agent_fuzz", rel, compact(json.loads(load("swe-agent/" + rel))))
    put("import_swe_agent_fuzz", "github_issue.traj.json", compact(json.loads(load("github_issue.traj.json"))))
    for rel in sorted(os.listdir(os.path.join(DATA, "otel"))):
        put("import_otlp_fuzz", rel, compact(json.loads(load("otel/" + rel))))
    envelopes = [compact(json.loads(l)) for l in load("mini-swe-agent-github_issue.jsonl").splitlines() if l.strip()]
    put("import_jsonl_fuzz", "mini-swe-agent.jsonl", "\n".join(envelopes) + "\n")
    put("import_jsonl_fuzz", "one-event.jsonl", envelopes[0] + "\n")

    # schema_fuzz, even mode byte: one envelope per input (the JSONL above and docs/events.md).
    with open(os.path.join(ROOT, "docs/events.md"), encoding="utf-8") as f:
        for block in re.findall(r"```json\n(.*?)```", f.read(), re.S):
            try:
                v = json.loads(block)
            except json.JSONDecodeError:
                continue
            if isinstance(v, dict) and "stream" in v:
                v.pop("lsn", None)
                v.pop("time", None)
                envelopes.append(compact(v))
    for e in envelopes:
        put("schema_fuzz", "envelope-" + hashlib.sha1(e.encode()).hexdigest()[:12], b"\0" + e.encode())
    if len(sys.argv) > 1:
        with open(sys.argv[1], "w", encoding="utf-8") as f:
            f.write("\n".join(envelopes) + "\n")

    # query_fuzz: every statement the docs show after a `tink> ` prompt or in `tink shell -c`.
    queries = set()
    for name in sorted(os.listdir(os.path.join(ROOT, "docs"))):
        with open(os.path.join(ROOT, "docs", name), encoding="utf-8") as f:
            text = f.read()
        queries.update(m.strip() for m in re.findall(r"^tink> (.+)$", text, re.M))
        queries.update(m.strip() for m in re.findall(r'tink shell -c "([^"]+)"', text))
    for q in sorted(queries):
        if not q.startswith("."):
            put("query_fuzz", "q-" + hashlib.sha1(q.encode()).hexdigest()[:12], q)


if __name__ == "__main__":
    main()

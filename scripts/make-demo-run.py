#!/usr/bin/env python3
"""Converts the shipped mini-swe-agent trajectory into Tinkerbell JSONL envelopes.

Used once to produce tests/data/agent-runs/mini-swe-agent-github_issue.jsonl (committed), which
scripts/demo appends. The proper importers (`tink import`) come with the canvas issue; this file
keeps the demo's data honest: every event comes from the recorded run, nothing is invented.
Usage: scripts/make-demo-run.py tests/data/agent-runs/github_issue.traj.json > OUT.jsonl
"""
import json
import re
import sys

RUN = "mini-swe-agent-github-issue"
TASK = "1"
STREAM = f"run/{RUN}/task/{TASK}"


def event(n, stream, type_, data):
    return {"id": f"{RUN}/{n}", "stream": stream, "type": type_, "run": RUN, "data": data}


def main(path):
    msgs = json.load(open(path, encoding="utf-8"))
    out = []
    n = 0

    def emit(stream, type_, data):
        nonlocal n
        n += 1
        out.append(event(n, stream, type_, data))

    task_text = next(m["content"] for m in msgs if m["role"] == "user")
    emit(f"run/{RUN}", "run.started",
         {"name": "github issue: SyntaxError in missing_colon.py", "agent": "mini-swe-agent",
          "task": task_text[:2000]})
    emit(STREAM, "task.created", {"task": TASK, "name": "solve the GitHub issue"})
    emit(STREAM, "task.ready", {"task": TASK})
    emit(STREAM, "task.started", {"task": TASK})
    pending = None
    step = 0
    for m in msgs[2:]:
        if m["role"] == "assistant":
            step += 1
            emit(STREAM, "llm.response", {"task": TASK, "content": m["content"], "call_id": f"llm-{step}"})
            cmd = re.search(r"```mswea_bash_command\n(.*?)\n```", m["content"], re.S)
            if cmd:
                pending = f"step-{step}"
                emit(STREAM, "tool.call", {"task": TASK, "tool": "bash", "call_id": pending,
                                           "args": {"command": cmd.group(1)}})
        elif m["role"] == "user" and pending:
            rc = re.search(r"<returncode>(-?\d+)</returncode>", m["content"])
            body = re.search(r"<output>\n?(.*?)</output>", m["content"], re.S)
            if rc is None:  # the last message is the submitted patch, not a command's output
                emit(STREAM, "note", {"task": TASK, "kind": "final_patch", "text": m["content"]})
                continue
            code = int(rc.group(1))
            emit(STREAM, "tool.result", {"task": TASK, "tool": "bash", "call_id": pending,
                                         "exit_code": code,
                                         "output": body.group(1) if body else m["content"]})
            pending = None
    emit(STREAM, "task.succeeded", {"task": TASK})
    emit(f"run/{RUN}", "run.finished", {"status": "succeeded"})
    for e in out:
        print(json.dumps(e, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1])

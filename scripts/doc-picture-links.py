#!/usr/bin/env python3
"""Puts the section "The run, drawn" into every scenario page (docs/scenarios/NAME.md), with
the pictures docs/pictures/NAME/ holds (scripts/doc-pictures.sh makes them). Idempotent:
the section is replaced when it is there, else it goes before the page's first `## `."""
import os, re, sys
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
os.chdir(root)
for page in sorted(os.listdir("docs/scenarios")):
    if not page.endswith(".md"):
        continue
    name = page[:-3]
    pics = f"docs/pictures/{name}"
    if not os.path.isdir(pics):
        sys.exit(f"{pics} is missing: run scripts/doc-pictures.sh first")
    lines = [
        "## The run, drawn",
        "",
        f"![Space-time diagram of {name}: one lane per subtask, simulated processing time from left to right]"
        f"(../pictures/{name}/space_time.png)",
        "",
    ]
    for f in sorted(os.listdir(pics)):
        m = re.fullmatch(r"event_time_(.+)\.png", f)
        if m:
            lines += [
                f"![Event-time diagram of window operator {m.group(1)}: each record at its arrival "
                f"(x) and its timestamp (y), the watermark, the windows]"
                f"(../pictures/{name}/{f})",
                "",
            ]
    lines += [
        f"`streamlab run scenarios/{name}.toml --out out/{name}` draws these into",
        f"`out/{name}/report.html`, where hovering a mark says what it is — see",
        "[reading the run report](../run-report.md).",
        "",
    ]
    section = "\n".join(lines)
    path = f"docs/scenarios/{page}"
    text = open(path).read()
    old = re.search(r"## The run, drawn\n.*?(?=\n## |\Z)", text, re.S)
    if old:
        text = text[: old.start()] + section.rstrip("\n") + "\n" + text[old.end():]
    else:
        i = text.find("\n## ")
        i = len(text) if i < 0 else i + 1
        text = text[:i] + section + "\n" + text[i:]
    open(path, "w").write(text)

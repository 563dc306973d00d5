#!/usr/bin/python3
"""Server CPU time from /proc: utime + stime of a process and all its live descendants.

A process's own figures cover all its threads (pipy's I/O threads, Node's workers); the
descendants add nginx's worker processes to its master. Read before and after a
measurement, the difference divided by the requests served is the CPU per request.
"""

import os


def _stat(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            text = f.read()
    except OSError:
        return None
    # the command name (field 2) may hold spaces; the rest follows its closing parenthesis
    fields = text[text.rindex(")") + 2:].split()
    ppid, utime, stime = int(fields[1]), int(fields[11]), int(fields[12])
    return ppid, utime + stime


def cpu_seconds(pid):
    """CPU seconds used so far by `pid` and its descendants; None when pid is gone."""
    children = {}
    ticks = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        st = _stat(int(entry))
        if st is None:
            continue
        children.setdefault(st[0], []).append(int(entry))
        ticks[int(entry)] = st[1]
    if pid not in ticks:
        return None
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += ticks.get(p, 0)
        todo.extend(children.get(p, []))
    return total / os.sysconf("SC_CLK_TCK")

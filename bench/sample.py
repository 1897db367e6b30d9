"""Samples a run and its target once a second without starting a process.

Usage: sample.py RUN_PID NGINX_PID_FILE CPU_OUT

Until RUN_PID exits, appends a line "UNIX_SECONDS OURS THEIRS" to CPU_OUT
each second: the user + system clock ticks used so far by RUN_PID and its
children (wasmload's coordinator and workers), and by nginx's master and
its workers. At the end prints the peak of the run's processes' resident
memory, summed, in KiB. It reads /proc and starts no process, so that
sampling takes next to nothing from the load it measures (starting the
usual tools, about twenty processes a second, took 3% of the two cores in
a 100,000-user run).
"""
import os
import sys
import time

PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def stat(pid):
    """(parent pid, ticks used, resident pages) of a live process, or None
    once it has exited (a zombie too: its parent has not reaped it yet)."""
    try:
        with open(f"/proc/{pid}/stat") as file:
            # The command name may hold spaces; the fields after it do not.
            fields = file.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    if fields[0] == "Z":
        return None
    return int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[21])


def families(*parents):
    """For each pid in `parents`, the stats of it and of its children, from
    one pass over /proc."""
    found = [[] for _ in parents]
    for entry in filter(str.isdigit, os.listdir("/proc")):
        fields = stat(int(entry))
        for parent, group in zip(parents, found):
            if fields and parent in (int(entry), fields[0]):
                group.append(fields)
    return found


def main():
    run, nginx_pid_file, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    peak = 0
    with open(out, "a") as cpu:
        while stat(run):
            try:
                with open(nginx_pid_file) as file:
                    master = int(file.read())
            except (OSError, ValueError):
                master = 0
            # Not 0 for a missing nginx: init's parent is 0.
            ours, theirs = families(run, master or None)
            peak = max(peak, sum(pages for _, _, pages in ours) * PAGE_KIB)
            ticks = [sum(used for _, used, _ in group) for group in (ours, theirs)]
            print(int(time.time()), *ticks, file=cpu, flush=True)
            time.sleep(1)
    print(peak)


main()

"""What the MPI fault tests assert of a report after rank 2 was killed or stopped (a helper, not a test)."""


def ranks(subject):
    """'ranks 2-3,5' -> {2, 3, 5}."""
    out = set()
    for part in subject.removeprefix("ranks ").split(","):
        a, _, b = part.partition("-")
        out.update(range(int(a), int(b or a) + 1))
    return out


def timeout_ranks(report, action):
    """The ranks the one bench.timeout finding names; rank 2 must be among them. SIGKILL makes the
    launcher end the job: a rank it ended before that rank had answered (a loaded machine starts
    ranks late) is named too, with the launcher as the cause. Otherwise rank 2 alone."""
    ids = [(f["id"], f["subject"]) for f in report["findings"]]
    timeouts = [f for f in report["findings"] if f["id"] == "bench.timeout"]
    assert len(timeouts) == 1, ids
    named = ranks(timeouts[0]["subject"])
    assert 2 in named, ids
    if named != {2}:
        assert action == "kill" and "launcher ended the job" in timeouts[0]["message"], timeouts[0]
    return named, timeouts[0]["subject"]

"""Background jobs never swallow a failure."""

import logging

from ui.jobs import JobRunner


def boom():
    raise ValueError("the database said no")


def test_a_failing_job_without_an_error_callback_reaches_the_sink(qtbot, caplog):
    jobs = JobRunner(threads=1)
    with caplog.at_level(logging.ERROR, logger="ui.jobs"), qtbot.waitSignal(jobs.unhandled, timeout=5000) as sink:
        jobs.submit(boom, lambda _r: None)
    assert sink.args == ["ValueError: the database said no"]
    assert any("the database said no" in r.getMessage() and "Traceback" in r.getMessage() for r in caplog.records)
    jobs.wait(5000)


def test_a_failure_with_its_own_callback_goes_there_only(qtbot):
    jobs = JobRunner(threads=1)
    seen = []
    with qtbot.assertNotEmitted(jobs.unhandled, wait=300), qtbot.waitCallback(timeout=5000) as failed:
        jobs.submit(boom, None, failed)
    seen.append(str(failed.args[0]))
    assert seen == ["the database said no"]
    jobs.wait(5000)

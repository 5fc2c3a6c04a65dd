"""The benchmark harness: what every study shares.

- :mod:`~benchmarks.harness.process`: the runner, one fresh process per run (timeout, thread
  limits, environment, wall time and load around the run);
- :mod:`~benchmarks.harness.worker`: the one worker those processes run, which calls a
  study's function and answers with its result, peak memory and versions;
- :mod:`~benchmarks.harness.records`: the one record format (provenance once per batch) and
  the latest run per study key;
- :mod:`~benchmarks.harness.environment`: provenance (commit, machine, versions, command);
- :mod:`~benchmarks.harness.peers`: every peer method, defined once;
- :mod:`~benchmarks.harness.studies`: every study, its records and how its page is made.

Each study (``benchmarks/*.py``) keeps only what is its own: its data sets, its methods and
its report.
"""

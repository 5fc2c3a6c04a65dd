"""The benchmark harness: what every study shares.

- :mod:`~benchmarks.harness.process`: the runner, one fresh process per run (timeout, thread
  limits, environment, wall time and load around the run);
- :mod:`~benchmarks.harness.worker`: the one worker those processes run, which calls a
  study's function and answers with its result, peak memory and versions;
- :mod:`~benchmarks.harness.records`: the one record format (provenance once per batch) and
  the latest run per study key;
- :mod:`~benchmarks.harness.environment`: provenance (commit, machine, versions, command);
- :mod:`~benchmarks.harness.peers`: every peer method, defined once;
- :mod:`~benchmarks.harness.study`: a study's declaration (:class:`~benchmarks.harness.study
  .Study`: axes, parameters, records, page) and the one runner and command line of them all;
- :mod:`~benchmarks.harness.studies`: the registry of every study.

Each study (``benchmarks/*.py``) declares ``STUDY`` and keeps only what is its own: its data
sets, the function one run calls and its report.
"""

"""The pipeline wing: the live build, the job, the dbt runner, history reuse, gold and its cache, parity checks, the Spark engine, the schedule."""

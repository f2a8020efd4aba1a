"""Runs one streaming SQL case on real Apache Flink (PyFlink, `apache-flink` 2.3) and prints
its result rows as JSON lines — the golden output tests/flink-sql-golden/ keeps.

Usage: python run_case.py CASE.json  (with the venv that /work/shared/tools/flink-oracle/setup
makes: ~/.cache/flink-oracle/venv/bin/python).

CASE.json: {"rows": [{"player": "ann", "n": 1, "ts": 1000}, …] (in arrival order),
            "bound_ms": 2000, "sql": "SELECT … FROM clicks …"}
The rows are a bounded, ordered DataStream (parallelism 1) with timestamps from `ts`; the table
`clicks` has columns player STRING, n BIGINT, ts BIGINT and the rowtime `rt` (the record's
timestamp as TIMESTAMP_LTZ(3)) with the DDL watermark `rt - INTERVAL 'bound' SECOND`, emitted
periodically (Flink's default). The cases avoid late rows, whose fate would depend on when a
periodic watermark falls between rows; `DESCRIPTOR(ts)` in the SQL is run as `DESCRIPTOR(rt)`.
Output columns that are timestamps (window_start, window_end) are printed as epoch ms."""
import json, sys
from pyflink.common import Types, WatermarkStrategy, Row
from pyflink.common.watermark_strategy import TimestampAssigner
from pyflink.datastream import StreamExecutionEnvironment
from pyflink.table import StreamTableEnvironment, Schema


class TsAssigner(TimestampAssigner):
    def extract_timestamp(self, value, record_timestamp):
        return value[2]


def main(path):
    case = json.load(open(path))
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(1)
    t_env = StreamTableEnvironment.create(env)
    t_env.get_config().set("table.local-time-zone", "UTC")
    rows = [Row(r["player"], r["n"], r["ts"]) for r in case["rows"]]
    ds = env.from_collection(
        rows, type_info=Types.ROW_NAMED(
            ["player", "n", "ts"], [Types.STRING(), Types.LONG(), Types.LONG()]
        )
    )
    # Timestamps only: the watermark is the table's, from its SQL expression.
    ws = WatermarkStrategy.no_watermarks().with_timestamp_assigner(TsAssigner())
    ds = ds.assign_timestamps_and_watermarks(ws)
    t = t_env.from_data_stream(
        ds,
        Schema.new_builder()
        .column("player", "STRING")
        .column("n", "BIGINT")
        .column("ts", "BIGINT")
        .column_by_metadata("rt", "TIMESTAMP_LTZ(3)", "rowtime")
        .watermark("rt", f"rt - INTERVAL '{case['bound_ms'] / 1000:.3f}' SECOND")
        .build(),
    )
    t_env.create_temporary_view("clicks", t)
    # streamlab's time attribute is the BIGINT `ts`; Flink's the TIMESTAMP_LTZ `rt`.
    result = t_env.execute_sql(case["sql"].replace("DESCRIPTOR(ts)", "DESCRIPTOR(rt)"))
    with result.collect() as it:
        for row in it:
            vals = []
            for v in row:
                if hasattr(v, "timestamp"):
                    vals.append(int(round(v.timestamp() * 1000)))
                else:
                    vals.append(v)
            print(json.dumps({"kind": str(row.get_row_kind()), "row": vals}))


if __name__ == "__main__":
    main(sys.argv[1])

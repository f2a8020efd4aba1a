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
Output columns that are timestamps (window_start, window_end) are printed as epoch ms.

More tables: "tables": {"orders": {"rows": [...], "bound_ms": 1000}, …} next to (or instead
of) "rows"; each table's columns are its first row's keys, typed by their values (a string is
STRING, a number BIGINT), with the time column `ts` and the rowtime `rt` as for `clicks`.
"flink_sql", when given, is what Flink runs instead of "sql" (e.g. `a.rt` where streamlab's
interval join reads `a.ts`: Flink compares time attributes, streamlab the BIGINT column)."""
import json, sys
from pyflink.common import Types, WatermarkStrategy, Row
from pyflink.common.watermark_strategy import TimestampAssigner
from pyflink.datastream import StreamExecutionEnvironment
from pyflink.table import StreamTableEnvironment, Schema


def table(env, t_env, name, rows, bound_ms):
    """Registers `rows` (dicts in arrival order) as the view `name` with the rowtime `rt`."""
    cols = list(rows[0].keys())
    types = [Types.STRING() if isinstance(rows[0][c], str) else Types.LONG() for c in cols]
    sql_types = ["STRING" if isinstance(rows[0][c], str) else "BIGINT" for c in cols]
    ts_at = cols.index("ts")

    class Ts(TimestampAssigner):
        def extract_timestamp(self, value, record_timestamp):
            return value[ts_at]

    ds = env.from_collection(
        [Row(*[r[c] for c in cols]) for r in rows], type_info=Types.ROW_NAMED(cols, types)
    )
    # Timestamps only: the watermark is the table's, from its SQL expression.
    ws = WatermarkStrategy.no_watermarks().with_timestamp_assigner(Ts())
    ds = ds.assign_timestamps_and_watermarks(ws)
    schema = Schema.new_builder()
    for c, ty in zip(cols, sql_types):
        schema = schema.column(c, ty)
    schema = (
        schema.column_by_metadata("rt", "TIMESTAMP_LTZ(3)", "rowtime")
        .watermark("rt", f"rt - INTERVAL '{bound_ms / 1000:.3f}' SECOND")
        .build()
    )
    t_env.create_temporary_view(name, t_env.from_data_stream(ds, schema))


def main(path):
    case = json.load(open(path))
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(1)
    t_env = StreamTableEnvironment.create(env)
    t_env.get_config().set("table.local-time-zone", "UTC")
    if "rows" in case:
        table(env, t_env, "clicks", case["rows"], case["bound_ms"])
    for name, t in case.get("tables", {}).items():
        table(env, t_env, name, t["rows"], t["bound_ms"])
    if "flink_sql" in case:
        result = t_env.execute_sql(case["flink_sql"])
    else:
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

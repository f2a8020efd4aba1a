#!/usr/bin/env python3
"""Checks flink-diff's comparison rules without Flink: python3 tools/flink-diff/test_flink_diff.py"""
import importlib.machinery, importlib.util, os, unittest

here = os.path.dirname(os.path.abspath(__file__))
loader = importlib.machinery.SourceFileLoader("flink_diff", os.path.join(here, "flink-diff"))
spec = importlib.util.spec_from_loader("flink_diff", loader)
fd = importlib.util.module_from_spec(spec)
loader.exec_module(fd)
n = lambda rows: [fd.norm(r) for r in rows]


class Rules(unittest.TestCase):
    def test_same_rows_in_another_order_across_keys_are_the_same(self):
        ours = n([["a", 0, 5, 1], ["b", 0, 5, 2], ["a", 5, 10, 3]])
        flink = [n([["b", 0, 5, 2]]), n([["a", 0, 5, 1], ["a", 5, 10, 3]])]
        self.assertIsNone(fd.compare_collect(ours, flink, 0))

    def test_another_order_within_a_key_differs(self):
        ours = n([["a", 0, 5, 1], ["a", 5, 10, 3]])
        flink = [n([["a", 5, 10, 3], ["a", 0, 5, 1]])]
        d = fd.compare_collect(ours, flink, 0)
        self.assertIn("for key 'a' row 0", d)
        self.assertIsNone(fd.compare_collect(ours, flink, None))

    def test_a_missing_row_differs_and_is_named(self):
        d = fd.compare_collect(n([["a", 1], ["a", 2]]), [n([["a", 1]])], 0)
        self.assertIn("streamlab only: ['a', 2.0]", d)

    def test_numbers_compare_by_value(self):
        self.assertIsNone(fd.compare_collect(n([["a", 2]]), [n([["a", 2.0]])], 0))

    def test_an_upsert_sink_compares_its_final_table(self):
        flink = [n([["to", 1], ["be", 1], ["to", 2]])]
        self.assertIsNone(fd.compare_upsert(n([["to", 2], ["be", 1]]), flink, 0))
        self.assertIsNotNone(fd.compare_upsert(n([["to", 1], ["be", 1]]), flink, 0))

    def test_the_sql_scripts_timestamps_read_as_epoch_milliseconds(self):
        self.assertEqual(fd.sql_value("1970-01-01 00:00:05", "TIMESTAMP(3)"), 5000)
        self.assertEqual(fd.sql_value("1970-01-01T00:00:05.250", "TIMESTAMP(3)"), 5250)
        self.assertEqual(fd.sql_value("1970-01-01T00:00", "TIMESTAMP(3)"), 0)
        self.assertEqual(fd.sql_value("1970-01-01 00:00:01Z", "TIMESTAMP_LTZ(3)"), 1000)

    def test_printed_changelog_rows_keep_their_row_kind(self):
        sink = {"name": "per_player", "connector": "print", "types": ["STRING", "BIGINT"]}
        out = "per_player> +I[ann, 1]\nother> +I[x, 9]\nper_player> -U[ann, 1]\nper_player> +U[ann, 2]\n"
        rows, err = fd.sql_rows("/nonexistent", out, sink)
        self.assertIsNone(err)
        self.assertEqual(rows, n([["+I", "ann", 1], ["-U", "ann", 1], ["+U", "ann", 2]]))
        # a changelog compares in order within its key: a retraction after its update differs
        ours = n([["+I", "ann", 1], ["+U", "ann", 2], ["-U", "ann", 1]])
        self.assertIsNotNone(fd.compare_collect(ours, [rows], 1))
        rows, err = fd.sql_rows("/nonexistent", "per_player> +I[a, b, 1]\n", sink)
        self.assertIn("cannot split", err)

    def test_a_sql_vertex_is_its_sources_stateful_operators_and_sinks(self):
        name = "GlobalWindowAggregate[6] -> Calc[7] -> StreamingFileWriter -> end: Writer"
        desc = "[6]:GlobalWindowAggregate(groupBy=[player], window=[CUMULATE(slice_end=[$slice_end], max_size=[6 s], step=[2 s])], select=[])\n+- [7]:Calc(select=[a])\n"
        self.assertEqual(fd.sql_key(name, desc), ("WindowAggregate CUMULATE groupBy=[player]", "sink"))
        self.assertEqual(fd.sql_key("Source: clicks[1] -> (Calc[2] -> LocalWindowAggregate[4], Calc[9])"),
                         ("source:clicks",))
        # an operator the comparison does not know never agrees
        self.assertEqual(fd.sql_key("Rank[3]"), ("operator:Rank",))

    def test_chains_pair_by_key_and_parallelism(self):
        ours = [(("a",), 1, "a"), (("b", "c"), 2, "b -> c")]
        rows = fd.pair_chains(ours, [(("b", "c"), 2, "B"), (("a",), 1, "A")])
        self.assertTrue(all(same for _, _, same in rows))
        self.assertIsNone(fd.first_difference(rows))
        rows = fd.pair_chains(ours, [(("b", "c"), 1, "B"), (("a",), 1, "A")])
        self.assertEqual([same for _, _, same in rows], [True, False])
        self.assertIn("streamlab chain b -> c (p2), Flink vertex B (p1)", fd.first_difference(rows))
        # a vertex left over (Flink reuses, streamlab plans twice: the other way round)
        rows = fd.pair_chains(ours[:1], [(("a",), 1, "A"), (("x",), 1, "X")])
        self.assertEqual(rows[-1], (None, (("x",), 1, "X"), False))


if __name__ == "__main__":
    unittest.main()

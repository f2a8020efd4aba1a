//! Every kind of bad input gives a clear message — file:line:column, the offending text, what
//! would be valid — and exit status 2, from every subcommand; never a panic.

use crate::assert_run;
use crate::util::{scratch, streamlab};

/// `(file under tests/bad, position, message parts)`.
const CASES: &[(&str, &str, &[&str])] = &[
    (
        "cep_not_followed_by_last.toml",
        ":19:55",
        &["NotFollowedBy is not supported without windowTime as a last part of a Pattern!"],
    ),
    (
        "sql_append_only_sink.toml",
        ":11:15",
        &[
            "Table sink 'default_catalog.default_database.totals' doesn't support consuming update changes which is produced by node GroupAggregate(groupBy=[player], select=[player, SUM(n) AS total])",
        ],
    ),
    (
        "sql_unknown_column.toml",
        ":14:46",
        &["unknown field `nn`; known fields: player, n, ts (did you mean `n`?)"],
    ),
    (
        "transaction_timeout_above_broker_max.toml",
        ":18:23",
        &[
            "sink `to_kafka`: the transaction timeout is larger than the maximum value allowed by the broker (as configured by transaction.max.timeout.ms)",
            "transaction_max_timeout (15 min, Kafka's default)",
        ],
    ),
    (
        "savepoint_after_input_end.toml",
        ":3:6",
        &["this savepoint at 25.000 s comes after the input ends (at 20.000 s)"],
    ),
    (
        "rescale_above_max_parallelism.toml",
        ":4:24",
        &[
            "The state for task sums can not be restored. The maximum parallelism (128) of the restored state is lower than the configured parallelism (200).",
        ],
    ),
    (
        "rescale_changed_max_parallelism.toml",
        ":4:19",
        &[
            "Failed to rollback to checkpoint/savepoint Checkpoint Metadata. Max parallelism mismatch between checkpoint/savepoint state and new program. Cannot map operator readings with max parallelism 128 to new program with max parallelism 256.",
        ],
    ),
    (
        "rescale_not_enough_slots.toml",
        ":4:24",
        &[
            "NoResourceAvailableException",
            "The job needs 8 slots but the cluster has 4",
        ],
    ),
    (
        "rescale_unknown_operator.toml",
        ":4:23",
        &[
            "unknown operator `sum` in rescale.parallelism",
            "known operators: readings, sums, out",
        ],
    ),
    (
        "unaligned_at_least_once.toml",
        ":5:13",
        &["unaligned checkpoints require exactly_once mode"],
    ),
    (
        "aligned_timeout_without_unaligned.toml",
        ":4:19",
        &[
            "aligned_timeout switches an aligned checkpoint to unaligned",
            "add unaligned = true",
        ],
    ),
    (
        "checkpoint_interval_too_small.toml",
        ":3:12",
        &["Checkpoint interval must be larger than or equal to 10 ms"],
    ),
    (
        "fault_unknown_task_manager.toml",
        ":7:16",
        &["there is no TaskManager 2", "numbered 0 to 1"],
    ),
    (
        "fault_unknown_operator.toml",
        ":4:12",
        &[
            "unknown operator `countz` in a fault",
            "known operators: s, counts, out",
        ],
    ),
    (
        "fault_after_job_end.toml",
        ":6:1",
        &["comes after limits.max_sim_time (60.000 s): the run stops before it"],
    ),
    (
        "exactly_once_without_checkpoints.toml",
        ":8:1",
        &["exactly-once (two-phase commit), but checkpointing is off"],
    ),
    (
        "dstream_interval_zero.toml",
        ":13:11",
        &[
            "a DStream batch interval of 0 is not possible",
            "variant = \"structured\"",
        ],
    ),
    (
        "unknown_output_mode.toml",
        ":12:15",
        &[
            "unknown output mode `upsert`",
            "\"append\", \"update\", \"complete\"",
        ],
    ),
    (
        "unknown_field.toml",
        ":11:1",
        &[
            "unknown field `paralelism`",
            "expected one of",
            "`parallelism`",
        ],
    ),
    (
        "wrong_type.toml",
        ":11:15",
        &["wrong type: found string \"two\", expected an integer"],
    ),
    (
        "unknown_input.toml",
        ":17:9",
        &[
            "unknown input `clickz` in operator `count`",
            "known streams: clicks, views, count",
        ],
    ),
    ("cycle.toml", ":17:9", &["the job has a cycle: b → a → b"]),
    (
        "parallelism_zero.toml",
        ":11:15",
        &["parallelism of `out` must be at least 1, found 0"],
    ),
    (
        "parallelism_above_max.toml",
        ":14:15",
        &["the parallelism of `out` (16) is larger than its max parallelism (8)"],
    ),
    (
        "forward_parallelism_change.toml",
        ":12:15",
        &[
            "Forward partitioning does not allow change of parallelism",
            "such as broadcast, rebalance, shuffle or global",
        ],
    ),
    (
        "not_enough_slots.toml",
        ":6:15",
        &[
            "NoResourceAvailableException",
            "needs 4 slots but the cluster has 2",
        ],
    ),
    (
        "malformed_duration.toml",
        ":2:18",
        &[
            "malformed duration `10 sex`",
            "unknown unit `sex`",
            "ns, us, ms, s, min, h, d",
        ],
    ),
    (
        "malformed_expression.toml",
        ":12:19",
        &["malformed expression", "amount > * 3"],
    ),
    (
        "unknown_field_in_expression.toml",
        ":12:36",
        &[
            "unknown field `amont`",
            "known fields: user, amount",
            "did you mean `amount`",
        ],
    ),
    ("empty.toml", ":1:1", &["the scenario file is empty"]),
    (
        "window_size_zero.toml",
        ":19:38",
        &["the window size must be more than zero"],
    ),
    (
        "slide_zero.toml",
        ":19:53",
        &["the slide must be more than zero"],
    ),
    (
        "negative_lateness.toml",
        ":20:20",
        &["allowed_lateness", "`-2 s`", "cannot be negative"],
    ),
    (
        "session_gap_zero.toml",
        ":19:36",
        &["the session gap must be more than zero"],
    ),
    (
        "idleness_zero.toml",
        ":6:79",
        &["idleness must be more than zero", "withIdleness"],
    ),
    (
        "partition_not_integer.toml",
        ":8:13",
        &["the partition field `user` must hold integers, but it is string"],
    ),
    (
        "window_select_without_expr.toml",
        ":22:10",
        &[
            "`select` is for function = \"expr\", not `sum`",
            "`sum` takes `field`",
        ],
    ),
    (
        "window_expr_with_field.toml",
        ":21:9",
        &["`expr` takes no `field`"],
    ),
    (
        "trigger_count_on_time_trigger.toml",
        ":20:42",
        &[
            "`count` is not an option of the event_time trigger",
            "takes no options but `purging`",
        ],
    ),
    (
        "trigger_interval_on_count_trigger.toml",
        ":20:51",
        &[
            "`interval` is not an option of the count trigger",
            "the count trigger takes `count`",
        ],
    ),
    (
        "evictor_size_on_count_evictor.toml",
        ":20:47",
        &[
            "`size` is not an option of a count evictor",
            "a count evictor takes `count`",
        ],
    ),
    (
        "evictor_count_on_time_evictor.toml",
        ":20:50",
        &[
            "`count` is not an option of a time evictor",
            "a time evictor takes `size`",
        ],
    ),
    (
        "count_window_evictor.toml",
        ":20:11",
        &["a count window takes no `evictor`", "type = \"global\""],
    ),
    (
        "watermarks_none_with_bound.toml",
        ":6:58",
        &["`max_out_of_orderness` means nothing for strategy = \"none\""],
    ),
    (
        "watermarks_none_with_alignment.toml",
        ":6:53",
        &["`alignment_group` means nothing for strategy = \"none\""],
    ),
    (
        "per_event_interval_without_idleness.toml",
        ":6:99",
        &[
            "a per-event (punctuated) generator emits a watermark after every record",
            "only sets how often `idleness` is checked",
        ],
    ),
    (
        "window_join_without_timestamps.toml",
        ":27:8",
        &["the window join `joined` reads records without timestamps from source `clicks`"],
    ),
    (
        "interval_join_without_timestamps.toml",
        ":27:8",
        &["the interval join `joined` reads records without timestamps from source `impressions`"],
    ),
    (
        "process_without_timestamps.toml",
        ":14:8",
        &[
            "the process function `too_long` (long_ride_alert, which uses event-time timers) reads records without timestamps from source `rides`",
        ],
    ),
    (
        "window_join_size_not_a_duration.toml",
        ":32:38",
        &["the window size must be a duration like \"5 s\""],
    ),
    (
        "window_join_gap_expr_one_side.toml",
        ":32:52",
        &[
            "for the left input's records: unknown field `user`",
            "computes the gap for the records of both inputs",
        ],
    ),
    (
        "operator_without_input.toml",
        ":10:8",
        &[
            "operator `double` has no `input`",
            "name the stream it reads",
        ],
    ),
    (
        "expression_too_long.toml",
        ":13:21",
        &["expression too long: 5000 terms, at most 500"],
    ),
    (
        "expression_nested_too_deeply.toml",
        ":13:42",
        &["expression nested too deeply: 3000 levels of parentheses, at most 32"],
    ),
    (
        "parallelism_too_wide.toml",
        ":7:15",
        &[
            "the job cannot fit in limits.max_memory (4 GiB): its 30000 tasks and 100010000 network channels alone need about 47.8 GiB",
        ],
    ),
    (
        "sliding_window_cannot_fit.toml",
        ":14:1",
        &[
            "every record of `w` belongs to 8640000000 sliding windows (size / slide): the state of one record alone (about 772.5 GiB) cannot fit in limits.max_memory (4 GiB)",
        ],
    ),
    (
        "integer_too_large.toml",
        ":4:9",
        &[
            "integer too large: 99999999999999999999",
            "the largest integer is 9223372036854775807",
        ],
    ),
    (
        "duplicate_key.toml",
        ":6:1",
        &["duplicate key `count`: it is already set on line 4"],
    ),
    (
        "every_type_error.toml",
        ":13:10",
        &[
            "`+` needs numbers, but `user` is a string",
            "tests/bad/every_type_error.toml:19:10",
            "`AND` needs booleans, but `n` is an int",
            "2 errors",
        ],
    ),
    (
        "deployment_per_job_on_kubernetes.toml",
        ":3:8",
        &[
            "Flink has no per-job mode on kubernetes (native)",
            "per-job mode does not exist on Kubernetes",
        ],
    ),
    (
        "slot_request_timeout_zero.toml",
        ":4:24",
        &["deployment.slot_request_timeout must be longer than 0"],
    ),
    (
        "chaos_without_end.toml",
        ":2:1",
        &[
            "--chaos needs to know when the faulty phase ends: the input has no known end",
            "give [chaos] an `until`",
        ],
    ),
];

/// Scenarios that run but very likely do not do what their author meant: a warning with its
/// position, exit status 0.
const WARNINGS: &[(&str, &str, &[&str])] = &[
    (
        "transaction_timeout_within_interval.toml",
        ":13:1",
        &[
            "sink `to_kafka` commits at each checkpoint, every 10 s, but its transaction_timeout is 10 s",
        ],
    ),
    (
        "unread_operator.toml",
        ":7:1",
        &["no sink reads the output of `doubled`: its results are computed and dropped"],
    ),
    (
        "faults_without_checkpointing.toml",
        ":14:1",
        &["the job has faults but no checkpointing: nothing is restored after a failure"],
    ),
    (
        "exactly_once_interval_longer_than_job.toml",
        ":11:1",
        &[
            "sink `out` is exactly-once and commits at each checkpoint, but the checkpoint interval (1 min) is longer than the input (5.000 s)",
        ],
    ),
    (
        "exactly_once_sink_at_least_once_checkpoints.toml",
        ":12:1",
        &[
            "sink `out` is exactly-once, but checkpoints are at_least_once",
            "it gives duplicates",
        ],
    ),
    (
        "sliding_window_many_windows.toml",
        ":14:1",
        &["every record of `w` belongs to 200000 sliding windows (size / slide)"],
    ),
    (
        "restart_zero_delay_unlimited.toml",
        ":8:9",
        &["0 delay and unlimited attempts"],
    ),
    (
        "slide_larger_than_size.toml",
        ":19:52",
        &[
            "the slide (10000 ms) is larger than the window size (5000 ms)",
            "belong to none",
        ],
    ),
    (
        "event_time_without_watermarks.toml",
        ":15:8",
        &[
            "source `clicks` emits no watermarks",
            "windows of `counts` will never fire until the input ends",
        ],
    ),
    (
        "processing_time_instant_sources.toml",
        ":16:8",
        &[
            "`counts` uses processing-time timers, but its sources are bounded and have no `rate`",
            "never fire",
        ],
    ),
    (
        "event_time_with_no_watermarks_strategy.toml",
        ":16:8",
        &[
            "source `clicks` emits no watermarks (strategy = \"none\")",
            "windows of `counts` will never fire until the input ends",
        ],
    ),
    (
        "event_time_with_watermark_interval_zero.toml",
        ":16:8",
        &[
            "source `clicks` emits no watermark before the end of its input (its watermark interval is 0 ms)",
            "windows of `counts` will never fire until the input ends",
        ],
    ),
    (
        "idleness_interval_zero.toml",
        ":9:99",
        &[
            "`idleness` never takes effect here: [job] auto_watermark_interval is 0 ms",
            "onPeriodicEmit",
        ],
    ),
    (
        "window_join_without_watermarks.toml",
        ":28:8",
        &[
            "source `clicks` emits no watermarks",
            "the windows of the window join `joined` will never fire until the input ends",
        ],
    ),
    (
        "process_without_watermarks.toml",
        ":15:8",
        &[
            "source `rides` emits no watermarks",
            "the event-time timers of `too_long` will never fire until the input ends",
        ],
    ),
    (
        "window_join_slide_larger_than_size.toml",
        ":32:52",
        &["the slide (10000 ms) is larger than the window size (5000 ms)"],
    ),
    (
        "lateness_on_global_window.toml",
        ":21:20",
        &[
            "allowed_lateness has no effect on a global window",
            "never ends",
        ],
    ),
    (
        "lateness_on_count_window.toml",
        ":20:20",
        &[
            "allowed_lateness has no effect on a count window",
            "never ends",
        ],
    ),
];

#[test]
fn every_listed_mistake_is_reported_with_its_position_by_every_command() {
    for (file, pos, parts) in CASES {
        let path = format!("tests/bad/{file}");
        for cmd in ["validate", "plan", "run"] {
            let out = streamlab(&[cmd, &path]);
            assert_run!(out, exit = 2, &format!("{path}{pos}"));
            for p in *parts {
                assert_run!(out, exit = 2, *p);
            }
        }
    }
}

#[test]
fn every_listed_pitfall_is_warned_about_with_its_position() {
    for (file, pos, parts) in WARNINGS {
        let path = format!("tests/bad/{file}");
        for cmd in ["validate", "plan", "run"] {
            let out = streamlab(&[cmd, &path]);
            assert_run!(out, exit = 0, "warning:", &format!("{path}{pos}"));
            for p in *parts {
                assert_run!(out, exit = 0, *p);
            }
        }
    }
}

#[test]
fn a_missing_file_is_named() {
    assert_run!(
        streamlab(&["run", "scenarios/nope.toml"]),
        exit = 2,
        "cannot read scenario file `scenarios/nope.toml`: no such file"
    );
}

#[test]
fn an_unreadable_file_is_named() {
    let dir = scratch("unreadable");
    let d = dir.join("a-directory.toml");
    std::fs::create_dir_all(&d).unwrap();
    let p = d.display().to_string();
    assert_run!(
        streamlab(&["validate", &p]),
        exit = 2,
        "cannot read scenario file",
        "it is a directory"
    );
}

#[test]
fn a_file_that_is_not_text_is_reported() {
    let dir = scratch("binary");
    let p = dir.join("bin.toml");
    std::fs::write(&p, [b'n', b'a', 0xff, 0xfe, b'\n']).unwrap();
    assert_run!(
        streamlab(&["validate", &p.display().to_string()]),
        exit = 2,
        "not valid UTF-8",
        "bin.toml:1:3"
    );
}

#[test]
fn several_mistakes_are_all_listed() {
    let dir = scratch("several");
    let p = dir.join("s.toml");
    std::fs::write(
        &p,
        "[[source]]\nname = \"a\"\nkind = \"generator\"\ncount = 5\nfields.x = { kind = \"key\", count = 2 }\n\
         [[operator]]\nname = \"m\"\nkind = \"map\"\ninput = \"a\"\nparallelism = 0\nselect = { y = \"z + 1\" }\n\
         [[sink]]\nname = \"out\"\ninput = \"mm\"\n",
    )
    .unwrap();
    let out = streamlab(&["validate", &p.display().to_string()]);
    assert_run!(
        out,
        exit = 2,
        "unknown field `z`",
        "unknown input `mm`",
        "must be at least 1",
        "3 errors"
    );
}

#[test]
fn every_file_in_tests_bad_is_checked() {
    let dir = crate::util::root().join("tests/bad");
    for e in std::fs::read_dir(&dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            CASES.iter().chain(WARNINGS).any(|(f, _, _)| *f == name)
                || ELSEWHERE.contains(&name.as_str()),
            "tests/bad/{name} is not listed in CASES, WARNINGS or ELSEWHERE"
        );
    }
}

/// Files checked by a test of their own below.
const ELSEWHERE: &[&str] = &[
    "input_over_max_records.toml",
    "generator_count_huge.toml",
    "memory_limit_reached.toml",
    "fault_after_phase_never_struck.toml",
];

#[test]
fn an_input_larger_than_max_records_is_announced_by_validate() {
    // 2 rows × 4294967295: with the default limit of 50 million records.
    let out = streamlab(&["validate", "tests/bad/input_over_max_records.toml"]);
    assert_run!(
        out,
        exit = 0,
        "tests/bad/input_over_max_records.toml:2:1",
        "warning: the input holds 8589934590 records, more than limits.max_records (50000000): the run will stop there"
    );
}

#[test]
fn a_run_past_max_records_stops_with_exit_1_the_message_and_the_seed() {
    let started = std::time::Instant::now();
    let out = streamlab(&["run", "tests/bad/generator_count_huge.toml", "--seed", "5"]);
    assert_run!(
        out,
        exit = 1,
        "STOPPED: the sources produced more than 200000 records (limits.max_records)",
        "streamlab run tests/bad/generator_count_huge.toml --seed 5"
    );
    assert!(started.elapsed().as_secs() < 30, "{:?}", started.elapsed());
}

#[test]
fn a_run_past_max_memory_stops_with_exit_1_and_a_clear_message() {
    let out = streamlab(&["run", "tests/bad/memory_limit_reached.toml"]);
    assert_run!(
        out,
        exit = 1,
        "passed 64 MiB (limits.max_memory)",
        "the run's estimated memory",
        "streamlab run tests/bad/memory_limit_reached.toml --seed 0"
    );
}

#[test]
fn a_fault_that_never_struck_spells_its_phase_as_the_file_does() {
    let out = streamlab(&["run", "tests/bad/fault_after_phase_never_struck.toml"]);
    assert_run!(
        out,
        exit = 0,
        "tests/bad/fault_after_phase_never_struck.toml:17:1: the fault never struck (after pre-commit of checkpoint 99)"
    );
    let (so, se) = crate::util::texts(&out);
    assert!(
        !so.contains("PreCommit") && !se.contains("PreCommit"),
        "{so}\n{se}"
    );
}

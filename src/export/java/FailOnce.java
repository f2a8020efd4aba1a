package streamlab;

import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.types.Row;

/** Injects the scenario's failure: passes records through and throws once, in the first
 *  attempt of source subtask 0, at its record number `at` (0-based). After the restart
 *  (attempt number 1 and up) it never throws again. */
public class FailOnce extends RichMapFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    private final long at;
    private long seen;

    public FailOnce(long at) { this.at = at; }

    @Override
    public Row map(Row r) {
        if (getRuntimeContext().getTaskInfo().getAttemptNumber() == 0
                && getRuntimeContext().getTaskInfo().getIndexOfThisSubtask() == 0
                && seen++ == at) {
            throw new RuntimeException("streamlab: injected failure at record " + at + " (as the scenario's fault)");
        }
        return r;
    }
}

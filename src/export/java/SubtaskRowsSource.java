package streamlab;

import java.util.List;
import org.apache.flink.streaming.api.functions.source.legacy.RichParallelSourceFunction;
import org.apache.flink.types.Row;

/** A bounded source whose subtask i reads `PREFIX.i.tsv`: the records streamlab's generator
 *  drew for source subtask i, in order, each line ending with the record's event time (ms),
 *  which the source attaches to the record (`collectWithTimestamp`). */
public class SubtaskRowsSource extends RichParallelSourceFunction<Row> {
    private static final long serialVersionUID = 1L;
    private final String prefix, types;
    private volatile boolean running = true;

    public SubtaskRowsSource(String prefix, String types) {
        this.prefix = prefix;
        this.types = types;
    }

    @Override
    public void run(SourceContext<Row> ctx) throws Exception {
        int me = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        List<Row> rows = Rows.read(prefix + "." + me + ".tsv", types + "L");
        int n = types.length();
        for (Row r : rows) {
            if (!running) return;
            Row out = new Row(n);
            for (int i = 0; i < n; i++) out.setField(i, r.getField(i));
            synchronized (ctx.getCheckpointLock()) {
                ctx.collectWithTimestamp(out, (Long) r.getField(n));
            }
        }
    }

    @Override
    public void cancel() { running = false; }
}

package streamlab;

import java.util.List;
import org.apache.flink.streaming.api.functions.source.legacy.RichParallelSourceFunction;
import org.apache.flink.types.Row;

/** A bounded source of a scenario's rows, replayed `repeat` times. Each subtask emits its share
 *  in file order, as streamlab deals them: row number i (counting replays) goes to subtask
 *  `i % parallelism`, or, with a partition field, to `value % parallelism` (a Kafka partition). */
public class RowsSource extends RichParallelSourceFunction<Row> {
    private static final long serialVersionUID = 1L;
    private final String path, types;
    private final long repeat;
    private final int partitionField;
    private volatile boolean running = true;

    public RowsSource(String path, String types, long repeat, int partitionField) {
        this.path = path;
        this.types = types;
        this.repeat = repeat;
        this.partitionField = partitionField;
    }

    @Override
    public void run(SourceContext<Row> ctx) throws Exception {
        List<Row> rows = Rows.read(path, types);
        int p = getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks();
        int me = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        long i = 0;
        for (long rep = 0; rep < repeat && running; rep++) {
            for (Row r : rows) {
                if (!running) return;
                long owner = partitionField >= 0 ? (Long) r.getField(partitionField) % p : i % p;
                i++;
                if (owner != me) continue;
                synchronized (ctx.getCheckpointLock()) {
                    ctx.collect(Row.copy(r));
                }
            }
        }
    }

    @Override
    public void cancel() { running = false; }
}

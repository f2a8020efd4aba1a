package streamlab;

import java.util.List;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.source.legacy.RichParallelSourceFunction;
import org.apache.flink.types.Row;

/** A bounded source of a scenario's rows, replayed `repeat` times. Each subtask emits its share
 *  in file order, as streamlab deals them: row number i of the file goes to subtask
 *  `i % parallelism`, or, with a partition field, to `value mod parallelism` (a Kafka
 *  partition); every replay deals them the same way. */
public class RowsSource extends RichParallelSourceFunction<Row> implements CheckpointedFunction {
    private static final long serialVersionUID = 1L;
    private final String path, types;
    private final long repeat;
    private final int partitionField;
    private volatile boolean running = true;
    /** Records of this subtask emitted so far: its offset, checkpointed, so that a restore
     *  replays from the checkpoint, not from the start. */
    private long offset;
    private transient ListState<Long> offsetState;

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
        long mine = 0;
        for (long rep = 0; rep < repeat && running; rep++) {
            long i = 0;
            for (Row r : rows) {
                if (!running) return;
                long owner = partitionField >= 0 ? Math.floorMod((Long) r.getField(partitionField), (long) p) : i % p;
                i++;
                if (owner != me) continue;
                if (mine++ < offset) continue;
                synchronized (ctx.getCheckpointLock()) {
                    ctx.collect(Row.copy(r));
                    offset++;
                }
            }
        }
    }

    @Override
    public void cancel() { running = false; }

    @Override
    public void snapshotState(FunctionSnapshotContext ctx) throws Exception {
        offsetState.update(java.util.Collections.singletonList(offset));
    }

    @Override
    public void initializeState(FunctionInitializationContext ctx) throws Exception {
        offsetState = ctx.getOperatorStateStore().getListState(new ListStateDescriptor<>("offset", Types.LONG));
        offset = 0;
        for (Long o : offsetState.get()) offset = o;
    }
}

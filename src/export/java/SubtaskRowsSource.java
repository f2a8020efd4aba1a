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

/** A bounded source whose subtask i reads `PREFIX.i.tsv`: the records streamlab's generator
 *  drew for source subtask i, in order, each line ending with the record's event time (ms),
 *  which the source attaches to the record (`collectWithTimestamp`). */
public class SubtaskRowsSource extends RichParallelSourceFunction<Row> implements CheckpointedFunction {
    private static final long serialVersionUID = 1L;
    private final String prefix, types;
    private volatile boolean running = true;
    /** Records of this subtask emitted so far: its offset, checkpointed, so that a restore
     *  replays from the checkpoint, not from the start. */
    private long offset;
    private transient ListState<Long> offsetState;

    public SubtaskRowsSource(String prefix, String types) {
        this.prefix = prefix;
        this.types = types;
    }

    @Override
    public void run(SourceContext<Row> ctx) throws Exception {
        int me = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        List<Row> rows = Rows.read(prefix + "." + me + ".tsv", types + "L");
        int n = types.length();
        for (int k = (int) offset; k < rows.size(); k++) {
            Row r = rows.get(k);
            if (!running) return;
            Row out = new Row(n);
            for (int i = 0; i < n; i++) out.setField(i, r.getField(i));
            synchronized (ctx.getCheckpointLock()) {
                ctx.collectWithTimestamp(out, (Long) r.getField(n));
                offset++;
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

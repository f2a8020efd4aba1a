package streamlab;

import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.streaming.api.windowing.windows.Window;
import org.apache.flink.types.Row;
import org.apache.flink.util.Collector;

/** A keyed window's result row, as streamlab's: the key (unless the reduced record holds it),
 *  window_start and window_end (time windows), then the aggregate's columns. */
public class EmitWindow<W extends Window> extends ProcessWindowFunction<Row, Row, Object, W> {
    private static final long serialVersionUID = 1L;
    private final WindowAgg agg;
    private final boolean withKey;

    public EmitWindow(WindowAgg agg, boolean withKey) { this.agg = agg; this.withKey = withKey; }

    @Override
    public void process(Object key, Context ctx, Iterable<Row> accs, Collector<Row> out) {
        for (Row acc : accs) out.collect(EmitAll.row(withKey ? key : null, withKey, ctx.window(), agg.result(acc)));
    }
}

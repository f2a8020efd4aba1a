package streamlab;

import java.util.ArrayList;
import java.util.List;
import org.apache.flink.streaming.api.functions.windowing.ProcessAllWindowFunction;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.streaming.api.windowing.windows.Window;
import org.apache.flink.types.Row;
import org.apache.flink.util.Collector;

/** A non-keyed window's (windowAll) result row: window_start and window_end (time windows),
 *  then the aggregate's columns. */
public class EmitAll<W extends Window> extends ProcessAllWindowFunction<Row, Row, W> {
    private static final long serialVersionUID = 1L;
    private final WindowAgg agg;

    public EmitAll(WindowAgg agg) { this.agg = agg; }

    @Override
    public void process(Context ctx, Iterable<Row> accs, Collector<Row> out) {
        for (Row acc : accs) out.collect(row(null, false, ctx.window(), agg.result(acc)));
    }

    static Row row(Object key, boolean withKey, Window w, Object[] result) {
        List<Object> f = new ArrayList<>();
        if (withKey) f.add(key);
        if (w instanceof TimeWindow) {
            f.add(((TimeWindow) w).getStart());
            f.add(((TimeWindow) w).getEnd());
        }
        for (Object o : result) f.add(o);
        return Row.of(f.toArray());
    }
}

package streamlab;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.types.Row;
import org.apache.flink.util.Collector;

/** flink-training's long ride alert, as streamlab's: per ride, the first of its START and END
 *  events is kept in value state (is START, timestamp, already alerted); a START registers an
 *  event-time timer at its timestamp + timeout, which alerts (key, start timestamp) unless the
 *  END came first. An END that comes first and a START more than timeout before it alert too. */
public class LongRideAlert extends KeyedProcessFunction<Object, Row, Row> {
    private static final long serialVersionUID = 1L;
    private final int isStart;
    private final long timeout;
    private transient ValueState<Row> first;

    public LongRideAlert(int isStart, long timeout) { this.isStart = isStart; this.timeout = timeout; }

    @Override
    public void open(OpenContext ctx) {
        first = getRuntimeContext().getState(new ValueStateDescriptor<>("first", Types.ROW(Types.BOOLEAN, Types.LONG, Types.BOOLEAN)));
    }

    @Override
    public void processElement(Row in, Context ctx, Collector<Row> out) throws Exception {
        long ts = ctx.timestamp() == null ? 0L : ctx.timestamp();
        boolean start = (Boolean) in.getField(isStart);
        Row f = first.value();
        if (f == null) {
            first.update(Row.of(start, ts, false));
            if (start) ctx.timerService().registerEventTimeTimer(ts + timeout);
            return;
        }
        boolean firstStart = (Boolean) f.getField(0);
        long firstTs = (Long) f.getField(1);
        boolean alerted = (Boolean) f.getField(2);
        if (!alerted) {
            Object key = ctx.getCurrentKey();
            if (start) {
                if (firstTs - ts > timeout) out.collect(Row.of(key, ts));
            } else {
                ctx.timerService().deleteEventTimeTimer(firstTs + timeout);
                if (firstStart && ts - firstTs > timeout) out.collect(Row.of(key, firstTs));
            }
        }
        first.clear();
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<Row> out) throws Exception {
        Row f = first.value();
        if (f != null) {
            out.collect(Row.of(ctx.getCurrentKey(), f.getField(1)));
            first.update(Row.of(f.getField(0), f.getField(1), true));
        }
    }
}

package streamlab;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.types.Row;
import org.apache.flink.util.Collector;

/** A rolling count per key: emits (key, records seen for the key so far) for every record. */
public class RollingCount extends KeyedProcessFunction<Object, Row, Row> {
    private static final long serialVersionUID = 1L;
    private transient ValueState<Long> count;

    @Override
    public void open(OpenContext ctx) {
        count = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Types.LONG));
    }

    @Override
    public void processElement(Row in, Context ctx, Collector<Row> out) throws Exception {
        Long c = count.value();
        long n = c == null ? 1 : c + 1;
        count.update(n);
        out.collect(Row.of(ctx.getCurrentKey(), n));
    }
}

package streamlab;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.cep.functions.PatternProcessFunction;
import org.apache.flink.cep.functions.TimedOutPartialMatchHandler;
import org.apache.flink.types.Row;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/** A CEP match or timed-out partial match as streamlab's row: (key, first event's timestamp,
 *  last event's timestamp, number of events). Timed-out partial matches go to `timeouts`
 *  when it is set, else they are dropped. */
public class CepSummary extends PatternProcessFunction<Row, Row> implements TimedOutPartialMatchHandler<Row> {
    private static final long serialVersionUID = 1L;
    private final KeySelector<Row, Object> key;
    private final int tsField;
    private final OutputTag<Row> timeouts;

    public CepSummary(KeySelector<Row, Object> key, int tsField, OutputTag<Row> timeouts) {
        this.key = key;
        this.tsField = tsField;
        this.timeouts = timeouts;
    }

    private Row row(Map<String, List<Row>> m) throws Exception {
        List<Row> all = new ArrayList<>();
        for (List<Row> l : m.values()) all.addAll(l);
        long start = Long.MAX_VALUE, end = Long.MIN_VALUE;
        for (Row e : all) {
            long t = X.l(e, tsField);
            start = Math.min(start, t);
            end = Math.max(end, t);
        }
        return Row.of(key.getKey(all.get(0)), start, end, (long) all.size());
    }

    @Override
    public void processMatch(Map<String, List<Row>> match, Context ctx, Collector<Row> out) throws Exception {
        out.collect(row(match));
    }

    @Override
    public void processTimedOutMatch(Map<String, List<Row>> match, Context ctx) throws Exception {
        if (timeouts != null) ctx.output(timeouts, row(match));
    }
}

package streamlab;

import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.types.Row;

/** A window's incremental aggregation, as streamlab computes it. The accumulator is a row of
 *  the input's arity + 2: the reduced record (sum, min, max, reduce: the first record with the
 *  aggregated field(s) updated), then the count, then the float sum (avg). */
public class WindowAgg implements AggregateFunction<Row, Row, Row> {
    private static final long serialVersionUID = 1L;
    /** sum | min | max | count | avg | reduce */
    private final String kind;
    private final int field, arity;
    private final Reducer reducer;

    public WindowAgg(String kind, int field, int arity, Reducer reducer) {
        this.kind = kind;
        this.field = field;
        this.arity = arity;
        this.reducer = reducer;
    }

    @Override
    public Row createAccumulator() {
        Row a = new Row(arity + 2);
        a.setField(arity, 0L);
        a.setField(arity + 1, 0.0);
        return a;
    }

    @Override
    public Row add(Row in, Row acc) {
        long n = (Long) acc.getField(arity);
        if (n == 0) {
            for (int i = 0; i < arity; i++) acc.setField(i, in.getField(i));
        } else {
            fold(acc, in);
        }
        acc.setField(arity, n + 1);
        if (kind.equals("avg")) acc.setField(arity + 1, (Double) acc.getField(arity + 1) + X.d(in, field));
        return acc;
    }

    private void fold(Row acc, Row in) {
        switch (kind) {
            case "sum": acc.setField(field, X.add(acc.getField(field), in.getField(field))); break;
            case "min": if (X.compare(in.getField(field), acc.getField(field)) < 0) acc.setField(field, in.getField(field)); break;
            case "max": if (X.compare(in.getField(field), acc.getField(field)) > 0) acc.setField(field, in.getField(field)); break;
            case "reduce": {
                Row r = reducer.reduce(acc, in);
                for (int i = 0; i < arity; i++) acc.setField(i, r.getField(i));
                break;
            }
            default: break;
        }
    }

    @Override
    public Row getResult(Row acc) { return acc; }

    @Override
    public Row merge(Row a, Row b) {
        long na = (Long) a.getField(arity), nb = (Long) b.getField(arity);
        if (nb == 0) return a;
        if (na == 0) return b;
        fold(a, b);
        a.setField(arity, na + nb);
        a.setField(arity + 1, (Double) a.getField(arity + 1) + (Double) b.getField(arity + 1));
        return a;
    }

    /** The result columns of an accumulator. */
    public Object[] result(Row acc) {
        long n = (Long) acc.getField(arity);
        switch (kind) {
            case "count": return new Object[] {n};
            case "avg": return new Object[] {(Double) acc.getField(arity + 1) / n};
            case "reduce": {
                Object[] o = new Object[arity];
                for (int i = 0; i < arity; i++) o[i] = acc.getField(i);
                return o;
            }
            default: return new Object[] {acc.getField(field)};
        }
    }
}

package streamlab;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import org.apache.flink.types.Row;

/** Helpers the generated expressions call: typed field reads and the few functions of
 *  streamlab's expression language that Java has no one-call equivalent for. */
public final class X {
    private X() {}

    public static long l(Row r, int i) { Object v = r.getField(i); return v instanceof Double ? (long) (double) (Double) v : (Long) v; }
    public static double d(Row r, int i) { Object v = r.getField(i); return v instanceof Long ? (double) (Long) v : (Double) v; }
    public static String s(Row r, int i) { return (String) r.getField(i); }
    public static boolean b(Row r, int i) { return (Boolean) r.getField(i); }

    /** SQL ROUND: half away from zero. */
    public static double round(double x) { return x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5); }

    public static String lower(String s) { return s.toLowerCase(Locale.ROOT); }
    public static String upper(String s) { return s.toUpperCase(Locale.ROOT); }
    public static long length(String s) { return s.codePointCount(0, s.length()); }

    /** `x IN (…)`: numbers compare by value (1 = 1.0). */
    public static boolean in(Object x, Object... list) {
        for (Object v : list) {
            if (v instanceof Number && x instanceof Number) {
                if (((Number) v).doubleValue() == ((Number) x).doubleValue()) return true;
            } else if (v.equals(x)) return true;
        }
        return false;
    }

    /** `split(text)` (Java's `\W+`, as Flink's WordCount tokenizer) or `split(text, 'd')`; empty pieces dropped. */
    public static List<String> split(String s, String delimiter) {
        String[] parts = delimiter == null ? s.split("\\W+") : s.split(Pattern.quote(delimiter), -1);
        List<String> out = new ArrayList<>();
        for (String p : parts) if (!p.isEmpty()) out.add(p);
        return out;
    }

    /** A reduce's new value for a float field stays a float when the expression gives an integer. */
    public static Object widen(Object old, Object v) {
        if (old instanceof Double && v instanceof Long) return (double) (Long) v;
        return v;
    }

    /** Sum of two values of one field (long arithmetic wraps, as Java's). */
    public static Object add(Object a, Object b) {
        if (a instanceof Long && b instanceof Long) return (Long) a + (Long) b;
        return ((Number) a).doubleValue() + ((Number) b).doubleValue();
    }

    /** Order of two values of one field (numbers by value, strings by compareTo, false < true). */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public static int compare(Object a, Object b) {
        if (a instanceof Long && b instanceof Long) return Long.compare((Long) a, (Long) b);
        if (a instanceof Number && b instanceof Number) {
            int c = Double.compare(((Number) a).doubleValue(), ((Number) b).doubleValue());
            return Double.isNaN(((Number) a).doubleValue()) || Double.isNaN(((Number) b).doubleValue()) ? 0 : c;
        }
        return ((Comparable) a).compareTo(b);
    }
}

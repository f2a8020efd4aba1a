package streamlab;

import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.sink.legacy.RichSinkFunction;
import org.apache.flink.types.Row;

/** Writes every row it receives as one JSON array per line to `DIR/NAME/part-SUBTASK.jsonl`,
 *  in the order the subtask receives them (what `tools/flink-diff` reads). */
public class FileRowSink extends RichSinkFunction<Row> {
    private static final long serialVersionUID = 1L;
    private final String dir, name;
    private transient BufferedWriter out;

    public FileRowSink(String dir, String name) { this.dir = dir; this.name = name; }

    @Override
    public void open(OpenContext ctx) throws Exception {
        Path d = Paths.get(dir, name);
        Files.createDirectories(d);
        int me = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        out = Files.newBufferedWriter(d.resolve("part-" + me + ".jsonl"), StandardCharsets.UTF_8);
    }

    @Override
    public void invoke(Row r, Context ctx) throws Exception {
        out.write(json(r));
        out.write('\n');
    }

    @Override
    public void close() throws Exception {
        if (out != null) out.close();
    }

    static String json(Row r) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < r.getArity(); i++) {
            if (i > 0) b.append(',');
            Object v = r.getField(i);
            if (v instanceof String) quote(b, (String) v);
            else if (v instanceof Double && (((Double) v).isNaN() || ((Double) v).isInfinite())) quote(b, v.toString());
            else b.append(v);
        }
        return b.append(']').toString();
    }

    static void quote(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        b.append('"');
    }
}

package streamlab;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.types.Row;

/** Reads a source's rows from the data file `streamlab export` wrote: one row per line, fields
 *  separated by tabs; `types` has one letter per field (L long, D double, S string, B boolean).
 *  In strings, `\t`, `\n`, `\r` and `\\` are escaped. */
public final class Rows {
    private Rows() {}

    public static List<Row> read(String path, String types) throws IOException {
        List<Row> rows = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(Paths.get(path), StandardCharsets.UTF_8)) {
            String line;
            while ((line = in.readLine()) != null) {
                String[] parts = line.split("\t", -1);
                if (parts.length != types.length()) throw new IOException(path + ": expected " + types.length() + " fields: " + line);
                Row r = new Row(types.length());
                for (int i = 0; i < parts.length; i++) r.setField(i, parse(types.charAt(i), parts[i]));
                rows.add(r);
            }
        }
        return rows;
    }

    static Object parse(char t, String s) {
        switch (t) {
            case 'L': return Long.parseLong(s);
            case 'D': return Double.parseDouble(s);
            case 'B': return Boolean.parseBoolean(s);
            default: return unescape(s);
        }
    }

    static String unescape(String s) {
        if (s.indexOf('\\') < 0) return s;
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char n = s.charAt(++i);
                b.append(n == 't' ? '\t' : n == 'n' ? '\n' : n == 'r' ? '\r' : n);
            } else b.append(c);
        }
        return b.toString();
    }
}

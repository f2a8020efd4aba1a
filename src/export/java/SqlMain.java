package streamlab;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableResult;

/**
 * Runs the Flink SQL script {@code sql/job.sql} on a local MiniCluster (or, packaged, with
 * {@code flink run}): every statement through {@link TableEnvironment#executeSql}, in order;
 * the statement set of INSERTs is one job, awaited until its bounded input ends.
 *
 * <p>Arguments: {@code --script FILE} (default {@code sql/job.sql}), {@code --data DIR} and
 * {@code --out DIR} (default {@code data} and {@code out-sql}, apart from {@code Main}'s
 * {@code out}): the script's paths {@code 'data/…'} and {@code 'out/…'} are read from and
 * written to these directories. The SQL client's {@code SET 'key' = 'value'} lines become the
 * TableEnvironment's configuration ({@code executeSql} does not take them).
 */
public class SqlMain {
    private static final java.util.regex.Pattern SET =
            java.util.regex.Pattern.compile("(?is)SET\\s+'([^']*)'\\s*=\\s*'([^']*)'");

    public static void main(String[] args) throws Exception {
        String script = "sql/job.sql", data = "data", out = "out-sql";
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--script")) script = args[++i];
            else if (args[i].equals("--data")) data = args[++i];
            else if (args[i].equals("--out")) out = args[++i];
        }
        String text = Files.readString(Path.of(script))
                .replace("'data/", "'" + Path.of(data).toAbsolutePath() + "/")
                .replace("'out/", "'" + Path.of(out).toAbsolutePath() + "/");
        TableEnvironment t = TableEnvironment.create(EnvironmentSettings.inStreamingMode());
        for (String statement : statements(text)) {
            java.util.regex.Matcher set = SET.matcher(statement.strip());
            if (set.matches()) {
                // the SQL client's SET: a TableEnvironment takes it as configuration
                t.getConfig().getConfiguration().setString(set.group(1), set.group(2));
                continue;
            }
            TableResult r = t.executeSql(statement);
            if (r.getJobClient().isPresent()) r.await();
        }
    }

    /** The script's statements: each ends with a `;` at the end of a line; a statement set
     *  (`EXECUTE STATEMENT SET BEGIN … END;`) is one statement. `--` comment lines are dropped. */
    static List<String> statements(String text) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean inSet = false;
        for (String line : text.split("\n", -1)) {
            String l = line.strip();
            if (cur.length() == 0 && (l.isEmpty() || l.startsWith("--"))) continue;
            cur.append(line).append('\n');
            String upper = l.toUpperCase();
            if (upper.startsWith("EXECUTE STATEMENT SET") || upper.startsWith("BEGIN STATEMENT SET")) inSet = true;
            boolean end = inSet ? upper.equals("END;") : l.endsWith(";");
            if (end) {
                String s = cur.toString().strip();
                out.add(s.substring(0, s.length() - 1));
                cur.setLength(0);
                inSet = false;
            }
        }
        if (!cur.toString().isBlank()) out.add(cur.toString().strip());
        return out;
    }
}

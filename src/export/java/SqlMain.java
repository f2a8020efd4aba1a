package streamlab;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.jobgraph.JobVertex;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.api.bridge.java.StreamStatementSet;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.types.Row;

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
 *
 * <p>{@code --plan}: instead of running, Flink's SQL planner translates the statement set into
 * a StreamGraph on a {@link StreamExecutionEnvironment} (configured with the script's
 * {@code SET}s, as the run is), and the JobGraph's vertices (chains) are printed as JSON lines
 * {@code ["name", parallelism, "description"]}, as {@code Main --plan} prints the DataStream
 * job's (the description: the planner's operators with their arguments, {@code [6]:WindowAggregate(…)}).
 * The job is not executed.
 */
public class SqlMain {
    private static final java.util.regex.Pattern SET =
            java.util.regex.Pattern.compile("(?is)SET\\s+'([^']*)'\\s*=\\s*'([^']*)'");

    public static void main(String[] args) throws Exception {
        String script = "sql/job.sql", data = "data", out = "out-sql";
        boolean plan = false;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--script")) script = args[++i];
            else if (args[i].equals("--data")) data = args[++i];
            else if (args[i].equals("--out")) out = args[++i];
            else if (args[i].equals("--plan")) plan = true;
        }
        String text = Files.readString(Path.of(script))
                .replace("'data/", "'" + Path.of(data).toAbsolutePath() + "/")
                .replace("'out/", "'" + Path.of(out).toAbsolutePath() + "/");
        if (plan) {
            printJobGraph(statements(text));
            return;
        }
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

    /** `--plan`: the JobGraph Flink's planner builds for the script's statement set, its
     *  vertices printed as JSON lines; nothing runs. */
    static void printJobGraph(List<String> statements) throws Exception {
        Configuration conf = new Configuration();
        List<String> rest = new ArrayList<>();
        for (String statement : statements) {
            java.util.regex.Matcher set = SET.matcher(statement.strip());
            if (set.matches()) conf.setString(set.group(1), set.group(2));
            else rest.add(statement);
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        StreamTableEnvironment t = StreamTableEnvironment.create(env);
        StreamStatementSet inserts = t.createStatementSet();
        for (String statement : rest) {
            String upper = statement.strip().toUpperCase();
            if (upper.startsWith("EXECUTE STATEMENT SET") || upper.startsWith("BEGIN STATEMENT SET")) {
                String body = statement.strip();
                body = body.substring(body.toUpperCase().indexOf("BEGIN") + "BEGIN".length(),
                        body.toUpperCase().lastIndexOf("END"));
                for (String insert : body.split(";\\s*\\n")) {
                    if (!insert.isBlank()) inserts.addInsertSql(insert.strip());
                }
            } else if (upper.startsWith("INSERT")) {
                inserts.addInsertSql(statement);
            } else {
                t.executeSql(statement);
            }
        }
        inserts.attachAsDataStream();
        JobGraph g = env.getStreamGraph(false).getJobGraph();
        for (JobVertex v : g.getVerticesSortedTopologicallyFromSources()) {
            System.out.println(FileRowSink.json(Row.of(v.getName(), (long) v.getParallelism(), v.getOperatorPrettyName())));
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

package streamlab;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import org.apache.flink.api.common.typeutils.base.StringSerializer;
import org.apache.flink.api.common.typeutils.base.VoidSerializer;
import org.apache.flink.streaming.api.functions.sink.legacy.TwoPhaseCommitSinkFunction;
import org.apache.flink.types.Row;

/** An exactly-once file sink by two-phase commit: each transaction is a hidden file
 *  `DIR/NAME/.txn-…`, written as rows come, pre-committed at the checkpoint and committed —
 *  renamed to `part-SUBTASK-SEQ.jsonl` — when the checkpoint completes; a failure aborts
 *  (deletes) the transactions not committed. Needs checkpointing (the final checkpoint at the
 *  end of a bounded input commits the last transaction). */
public class ExactlyOnceFileSink extends TwoPhaseCommitSinkFunction<Row, String, Void> {
    private static final long serialVersionUID = 1L;
    private final String dir, name;

    public ExactlyOnceFileSink(String dir, String name) {
        super(StringSerializer.INSTANCE, VoidSerializer.INSTANCE);
        this.dir = dir;
        this.name = name;
    }

    @Override
    protected String beginTransaction() throws IOException {
        Path d = Paths.get(dir, name);
        Files.createDirectories(d);
        int me = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        // nanoTime orders the transactions of one JVM (the MiniCluster's) by when they began
        return d.resolve(String.format(".txn-%d-%020d", me, System.nanoTime())).toString();
    }

    @Override
    protected void invoke(String txn, Row r, Context ctx) throws IOException {
        Files.write(Paths.get(txn), (FileRowSink.json(r) + "\n").getBytes(StandardCharsets.UTF_8),
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    @Override
    protected void preCommit(String txn) {}

    @Override
    protected void commit(String txn) {
        Path p = Paths.get(txn);
        if (!Files.exists(p)) return; // committed before (a commit may be retried after a restore)
        String base = p.getFileName().toString().substring(".txn-".length());
        try {
            Files.move(p, p.resolveSibling("part-" + base + ".jsonl"), StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    @Override
    protected void abort(String txn) {
        try {
            Files.deleteIfExists(Paths.get(txn));
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }
}

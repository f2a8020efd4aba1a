package streamlab;

import java.io.Serializable;
import org.apache.flink.types.Row;

/** A reduce written as expressions over `acc.*` (the accumulated record) and the new record. */
@FunctionalInterface
public interface Reducer extends Serializable {
    Row reduce(Row acc, Row in);
}

package streamlab;

import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.types.Row;

/** Flink's BoundedOutOfOrdernessWatermarks (watermark = max timestamp − bound − 1), emitted
 *  after every record instead of on the wall-clock period, so the job is deterministic: a
 *  bounded source reads as fast as it can, while the scenario's source is paced so that a
 *  periodic watermark follows every record (or it asks for per-event emission). */
public class PerEventWatermarks implements WatermarkGenerator<Row> {
    private final long bound;
    private long max = Long.MIN_VALUE;
    private long last = Long.MIN_VALUE;

    public PerEventWatermarks(long bound) { this.bound = bound; }

    @Override
    public void onEvent(Row event, long ts, WatermarkOutput out) {
        if (ts > max) max = ts;
        long wm = max == Long.MIN_VALUE ? Long.MIN_VALUE : max - bound - 1;
        if (wm > last) {
            last = wm;
            out.emitWatermark(new Watermark(wm));
        }
    }

    @Override
    public void onPeriodicEmit(WatermarkOutput out) {}
}

// Runs a CEP pattern on real Apache Flink 2.3 (flink-cep, local MiniCluster, parallelism 1) and
// prints every match and every timed-out partial match — the golden cases streamlab's
// `pattern` operator is compared with (tests/flink-golden-cep/). Usage: see ./run.
//
// Input (stdin): one event a line, `key,c0,c1,timestamp_ms` in arrival order: c0 and c1 say
// whether the event satisfies step 0's and step 1's condition (evaluated by the caller, so the
// harness needs no expression language).
// Watermarks: after every event, max timestamp seen - out_of_orderness - 1 (Flink's
// BoundedOutOfOrderness formula, emitted per event so the run is deterministic).
// Pattern (argument 1), over the conditions c0 and c1:
//   times3        begin("a").where(c0).times(3)            times3c  the same .consecutive()
//   warm_hot      begin("a").where(c0).next("b").where(c1)
//   warm_then_hot begin("a").where(c0).followedBy("b").where(c1)
//   any_hot       begin("a").where(c0).followedByAny("b").where(c1)
//   oom_hot       begin("a").where(c0).oneOrMore().followedBy("b").where(c1)
//   oom_greedy_hot  the same with .greedy()      oom_comb_hot  with .allowCombinations()
//   oom_consec_hot  with .consecutive()          more2_hot  .timesOrMore(2) instead
//   oom_until     begin("a").where(c0).oneOrMore().until(c1)
//   range_hot     begin("a").where(c0).times(2, 3).followedBy("b").where(c1)
//   range0_hot    begin("a").where(c0).times(0, 2).followedBy("b").where(c1)
//   opt_begin_hot begin("a").where(c0).optional().followedBy("b").where(c1)
//   warm_opt      begin("a").where(c0).followedBy("b").where(c1).optional()
//   warm_opt_warm begin("a").where(c0).followedBy("b").where(c1).optional().followedBy("c").where(c0)
//   not_next      begin("a").where(c0).notNext("x").where(c1)
//   not_next_warm begin("a").where(c0).notNext("x").where(c1).followedBy("b").where(c0)
//   not_fol_warm  begin("a").where(c0).notFollowedBy("x").where(c1).followedBy("b").where(c0)
//   not_fol_end   begin("a").where(c0).notFollowedBy("x").where(c1)   (needs within)
// Argument 2: within (ms); argument 3: skip (no_skip | skip_to_next | skip_past_last_event |
// skip_to_first:NAME | skip_to_last:NAME); argument 4: out-of-orderness (ms); optional
// argument 5 `late`: late events to a side output (sideOutputLateData).
// Output lines: `match,key,start,end,events`, `timeout,key,start,end,events` and
// `late,key,c0,c1,timestamp`.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkGeneratorSupplier;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeHint;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.api.java.tuple.Tuple4;
import org.apache.flink.cep.CEP;
import org.apache.flink.cep.PatternStream;
import org.apache.flink.cep.functions.PatternProcessFunction;
import org.apache.flink.cep.functions.TimedOutPartialMatchHandler;
import org.apache.flink.cep.nfa.aftermatch.AfterMatchSkipStrategy;
import org.apache.flink.cep.pattern.Pattern;
import org.apache.flink.cep.pattern.conditions.SimpleCondition;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

public class CepOracle {
    /** key, step 0's condition, step 1's condition, timestamp. */
    public static class Ev extends Tuple4<String, Boolean, Boolean, Long> {
        public Ev() {}
        public Ev(String k, Boolean c0, Boolean c1, Long t) { super(k, c0, c1, t); }
    }

    static final OutputTag<String> TIMED_OUT = new OutputTag<String>("timed-out") {};
    static final OutputTag<Ev> LATE = new OutputTag<Ev>("late-data", TypeInformation.of(new TypeHint<Ev>() {})) {};

    static String row(Map<String, List<Ev>> m) {
        List<Ev> all = new ArrayList<>();
        for (List<Ev> l : m.values()) all.addAll(l);
        long start = Long.MAX_VALUE, end = Long.MIN_VALUE;
        for (Ev e : all) { start = Math.min(start, e.f3); end = Math.max(end, e.f3); }
        return all.get(0).f0 + "," + start + "," + end + "," + all.size();
    }

    public static class Fn extends PatternProcessFunction<Ev, String>
            implements TimedOutPartialMatchHandler<Ev> {
        @Override
        public void processMatch(Map<String, List<Ev>> match, Context ctx, Collector<String> out) {
            out.collect("match," + row(match));
        }
        @Override
        public void processTimedOutMatch(Map<String, List<Ev>> match, Context ctx) {
            ctx.output(TIMED_OUT, "timeout," + row(match));
        }
    }

    public static class PerEvent implements WatermarkStrategy<Ev> {
        final long ooo;
        PerEvent(long ooo) { this.ooo = ooo; }
        @Override
        public WatermarkGenerator<Ev> createWatermarkGenerator(WatermarkGeneratorSupplier.Context c) {
            return new WatermarkGenerator<Ev>() {
                long max = Long.MIN_VALUE + ooo + 1;
                public void onEvent(Ev e, long ts, WatermarkOutput o) {
                    max = Math.max(max, ts);
                    o.emitWatermark(new Watermark(max - ooo - 1));
                }
                public void onPeriodicEmit(WatermarkOutput o) {}
            };
        }
    }

    public static void main(String[] args) throws Exception {
        String kind = args[0];
        long within = Long.parseLong(args[1]);
        AfterMatchSkipStrategy skip;
        if (args[2].equals("skip_past_last_event")) skip = AfterMatchSkipStrategy.skipPastLastEvent();
        else if (args[2].equals("skip_to_next")) skip = AfterMatchSkipStrategy.skipToNext();
        else if (args[2].startsWith("skip_to_first:")) skip = AfterMatchSkipStrategy.skipToFirst(args[2].substring(14));
        else if (args[2].startsWith("skip_to_last:")) skip = AfterMatchSkipStrategy.skipToLast(args[2].substring(13));
        else if (args[2].equals("no_skip")) skip = AfterMatchSkipStrategy.noSkip();
        else throw new IllegalArgumentException("skip: " + args[2]);
        boolean late = args.length > 4 && args[4].equals("late");
        long ooo = Long.parseLong(args[3]);
        List<Ev> events = new ArrayList<>();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        for (String line; (line = in.readLine()) != null; ) {
            line = line.trim();
            if (line.isEmpty() || line.startsWith("#")) continue;
            String[] p = line.split(",");
            events.add(new Ev(p[0], Boolean.parseBoolean(p[1]), Boolean.parseBoolean(p[2]), Long.parseLong(p[3])));
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        env.getConfig().setAutoWatermarkInterval(0);
        TypeInformation<Ev> type = TypeInformation.of(new TypeHint<Ev>() {});
        DataStream<Ev> src = env.fromData(events, type)
                .assignTimestampsAndWatermarks(
                        new PerEvent(ooo).withTimestampAssigner((e, t) -> e.f3));
        Pattern<Ev, Ev> pattern;
        SimpleCondition<Ev> c0 = new SimpleCondition<Ev>() {
            public boolean filter(Ev e) { return e.f1; }
        };
        SimpleCondition<Ev> c1 = new SimpleCondition<Ev>() {
            public boolean filter(Ev e) { return e.f2; }
        };
        switch (kind) {
            case "times3":
                pattern = Pattern.<Ev>begin("a", skip).where(c0).times(3);
                break;
            case "times3c":
                pattern = Pattern.<Ev>begin("a", skip).where(c0).times(3).consecutive();
                break;
            case "warm_hot":   // next: strict contiguity
                pattern = Pattern.<Ev>begin("a", skip).where(c0).next("b").where(c1);
                break;
            case "warm_then_hot":   // followedBy: relaxed contiguity
                pattern = Pattern.<Ev>begin("a", skip).where(c0).followedBy("b").where(c1);
                break;
            case "any_hot":
                pattern = Pattern.<Ev>begin("a", skip).where(c0).followedByAny("b").where(c1);
                break;
            case "oom_hot":
                pattern = Pattern.<Ev>begin("a", skip).where(c0).oneOrMore().followedBy("b").where(c1);
                break;
            case "oom_greedy_hot":
                pattern = Pattern.<Ev>begin("a", skip).where(c0).oneOrMore().greedy().followedBy("b").where(c1);
                break;
            case "oom_comb_hot":
                pattern = Pattern.<Ev>begin("a", skip).where(c0).oneOrMore().allowCombinations().followedBy("b").where(c1);
                break;
            case "oom_consec_hot":
                pattern = Pattern.<Ev>begin("a", skip).where(c0).oneOrMore().consecutive().followedBy("b").where(c1);
                break;
            case "more2_hot":
                pattern = Pattern.<Ev>begin("a", skip).where(c0).timesOrMore(2).followedBy("b").where(c1);
                break;
            case "oom_until":
                pattern = Pattern.<Ev>begin("a", skip).where(c0).oneOrMore().until(c1);
                break;
            case "range_hot":
                pattern = Pattern.<Ev>begin("a", skip).where(c0).times(2, 3).followedBy("b").where(c1);
                break;
            case "range0_hot":
                pattern = Pattern.<Ev>begin("a", skip).where(c0).times(0, 2).followedBy("b").where(c1);
                break;
            case "opt_begin_hot":
                pattern = Pattern.<Ev>begin("a", skip).where(c0).optional().followedBy("b").where(c1);
                break;
            case "warm_opt":
                pattern = Pattern.<Ev>begin("a", skip).where(c0).followedBy("b").where(c1).optional();
                break;
            case "warm_opt_warm":
                pattern = Pattern.<Ev>begin("a", skip).where(c0).followedBy("b").where(c1).optional().followedBy("c").where(c0);
                break;
            case "not_next":
                pattern = Pattern.<Ev>begin("a", skip).where(c0).notNext("x").where(c1);
                break;
            case "not_next_warm":
                pattern = Pattern.<Ev>begin("a", skip).where(c0).notNext("x").where(c1).followedBy("b").where(c0);
                break;
            case "not_fol_warm":
                pattern = Pattern.<Ev>begin("a", skip).where(c0).notFollowedBy("x").where(c1).followedBy("b").where(c0);
                break;
            case "not_fol_end":
                pattern = Pattern.<Ev>begin("a", skip).where(c0).notFollowedBy("x").where(c1);
                break;
            default:
                throw new IllegalArgumentException("unknown kind " + kind + " (see the header comment)");
        }
        pattern = pattern.within(Duration.ofMillis(within));
        PatternStream<Ev> ps = CEP.pattern(src.keyBy((KeySelector<Ev, String>) e -> e.f0), pattern);
        if (late) ps = ps.sideOutputLateData(LATE);
        SingleOutputStreamOperator<String> matches = ps.process(new Fn());
        DataStream<String> all = matches.union(matches.getSideOutput(TIMED_OUT));
        if (late) {
            all = all.union(matches.getSideOutput(LATE).map(
                    e -> "late," + e.f0 + "," + e.f1 + "," + e.f2 + "," + e.f3).returns(Types.STRING));
        }
        List<String> lines = new ArrayList<>();
        try (CloseableIterator<String> it = all.executeAndCollect("cep-oracle")) {
            while (it.hasNext()) lines.add(it.next());
        }
        Collections.sort(lines);
        for (String l : lines) System.out.println(l);
    }
}

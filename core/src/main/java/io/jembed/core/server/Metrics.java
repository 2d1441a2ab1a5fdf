package io.jembed.core.server;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * Counters, gauges and histograms written in Prometheus' text exposition format (version 0.0.4)
 * for {@code GET /metrics}. Lock-free on the request path: each series is adders; a scrape
 * reads them without stopping writers, so one scrape may see a request counted and its duration
 * not yet (Prometheus tolerates that).
 */
final class Metrics {

    /** TEI's duration buckets: 1e-5 * 1.5^k seconds for k = 1..35 (15 us to 14.6 s). */
    static final double[] SECONDS = exponential(0.00001 * 1.5, 1.5, 35);

    /** Powers of two 2^0 .. 2^maxExponent, those at most limit (TEI's size and token buckets). */
    static double[] powersOfTwo(int maxExponent, long limit) {
        int count = 0;
        while (count <= maxExponent && (1L << count) <= limit) {
            count++;
        }
        return exponential(1, 2, Math.max(count, 1));
    }

    private final List<Family> families = new ArrayList<>();

    Counter counter(String name, String help) {
        return add(new Counter(name, help, null));
    }

    /** A counter family with one label, e.g. te_request_failure{err="validation"}. */
    Counter counter(String name, String help, String label) {
        return add(new Counter(name, help, label));
    }

    Histogram histogram(String name, String help, double[] buckets) {
        return add(new Histogram(name, help, buckets));
    }

    /** A gauge read at scrape time. */
    void gauge(String name, String help, LongSupplier value) {
        add(new Gauge(name, help, value));
    }

    private synchronized <F extends Family> F add(F family) {
        families.add(family);
        return family;
    }

    /** Every family, in registration order. */
    synchronized String scrape() {
        StringBuilder out = new StringBuilder(4096);
        for (Family family : families) {
            out.append("# HELP ").append(family.name).append(' ').append(family.help).append('\n');
            out.append("# TYPE ").append(family.name).append(' ').append(family.type()).append('\n');
            family.write(out);
        }
        return out.toString();
    }

    private static double[] exponential(double start, double factor, int count) {
        double[] buckets = new double[count];
        for (int i = 0; i < count; i++) {
            buckets[i] = start * Math.pow(factor, i);
        }
        return buckets;
    }

    private abstract static sealed class Family permits Counter, Histogram, Gauge {
        final String name;
        final String help;

        Family(String name, String help) {
            this.name = name;
            this.help = help;
        }

        abstract String type();

        abstract void write(StringBuilder out);
    }

    /** A counter with at most one label. */
    static final class Counter extends Family {
        private final Map<String, LongAdder> series = new ConcurrentHashMap<>();
        private final String label;

        Counter(String name, String help, String label) {
            super(name, help);
            this.label = label;
        }

        void increment() {
            series.computeIfAbsent("", k -> new LongAdder()).increment();
        }

        void increment(String labelValue) {
            series.computeIfAbsent(labelValue, k -> new LongAdder()).increment();
        }

        @Override
        String type() {
            return "counter";
        }

        @Override
        void write(StringBuilder out) {
            if (series.isEmpty() && label == null) {
                out.append(name).append(" 0\n");
            }
            series.forEach((value, count) -> {
                out.append(name);
                if (label != null && !value.isEmpty()) {
                    out.append('{').append(label).append("=\"").append(escape(value)).append("\"}");
                }
                out.append(' ').append(count.sum()).append('\n');
            });
        }
    }

    /** Cumulative buckets, sum and count, as Prometheus histograms are. */
    static final class Histogram extends Family {
        private final double[] bounds;
        private final LongAdder[] counts;
        private final DoubleAdder sum = new DoubleAdder();
        private final LongAdder count = new LongAdder();

        Histogram(String name, String help, double[] bounds) {
            super(name, help);
            this.bounds = bounds.clone();
            this.counts = new LongAdder[bounds.length];
            for (int i = 0; i < counts.length; i++) {
                counts[i] = new LongAdder();
            }
        }

        void observe(double value) {
            for (int i = 0; i < bounds.length; i++) {
                if (value <= bounds[i]) {
                    counts[i].increment();
                    break;
                }
            }
            sum.add(value);
            count.increment();
        }

        void observeNanos(long nanos) {
            observe(nanos / 1e9);
        }

        @Override
        String type() {
            return "histogram";
        }

        @Override
        void write(StringBuilder out) {
            long cumulative = 0;
            for (int i = 0; i < bounds.length; i++) {
                cumulative += counts[i].sum();
                out.append(name).append("_bucket{le=\"").append(number(bounds[i])).append("\"} ").append(cumulative)
                        .append('\n');
            }
            long total = count.sum();
            out.append(name).append("_bucket{le=\"+Inf\"} ").append(Math.max(total, cumulative)).append('\n');
            out.append(name).append("_sum ").append(number(sum.sum())).append('\n');
            out.append(name).append("_count ").append(Math.max(total, cumulative)).append('\n');
        }
    }

    static final class Gauge extends Family {
        private final LongSupplier value;

        Gauge(String name, String help, LongSupplier value) {
            super(name, help);
            this.value = value;
        }

        @Override
        String type() {
            return "gauge";
        }

        @Override
        void write(StringBuilder out) {
            out.append(name).append(' ').append(value.getAsLong()).append('\n');
        }
    }

    private static String number(double value) {
        if (value == Math.rint(value) && Math.abs(value) < 1e15) {
            return Long.toString((long) value);
        }
        return String.format(Locale.ROOT, "%s", value);
    }

    private static String escape(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}

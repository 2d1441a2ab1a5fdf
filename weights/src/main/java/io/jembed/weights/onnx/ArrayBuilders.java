package io.jembed.weights.onnx;

import java.util.Arrays;

/** Append-only primitive arrays for repeated protobuf fields, which may arrive one value at a time. */
final class ArrayBuilders {

    private ArrayBuilders() {
    }

    static final class Longs {
        private long[] values = new long[8];
        private int size;

        void addAll(long[] more) {
            if (size + more.length > values.length) {
                values = Arrays.copyOf(values, Math.max(values.length * 2, size + more.length));
            }
            System.arraycopy(more, 0, values, size, more.length);
            size += more.length;
        }

        long[] toArray() {
            return Arrays.copyOf(values, size);
        }
    }

    static final class Floats {
        private float[] values = new float[8];
        private int size;

        void addAll(float[] more) {
            if (size + more.length > values.length) {
                values = Arrays.copyOf(values, Math.max(values.length * 2, size + more.length));
            }
            System.arraycopy(more, 0, values, size, more.length);
            size += more.length;
        }

        float[] toArray() {
            return Arrays.copyOf(values, size);
        }
    }

    static final class Doubles {
        private double[] values = new double[8];
        private int size;

        void addAll(double[] more) {
            if (size + more.length > values.length) {
                values = Arrays.copyOf(values, Math.max(values.length * 2, size + more.length));
            }
            System.arraycopy(more, 0, values, size, more.length);
            size += more.length;
        }

        double[] toArray() {
            return Arrays.copyOf(values, size);
        }
    }
}

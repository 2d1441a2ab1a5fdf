package io.jembed.core.kernels;

/** Argument checks shared by the kernel implementations; all failures are caller mistakes. */
final class Checks {

    private Checks() {
    }

    /** {@code array[off, off + n)} must exist. */
    static void range(String kernel, String name, float[] array, int off, int n) {
        if (array == null) {
            throw new IllegalArgumentException(kernel + ": expected array " + name + ", found null");
        }
        if (n < 0 || off < 0 || off > array.length - n) {
            throw new IllegalArgumentException(kernel + ": expected " + name + "[" + off + ", " + off + " + " + n
                    + ") within its " + array.length + " floats, found it out of bounds");
        }
    }

    /** Rows {@code base[off + t * stride + j]}, t in [0, rows), j in [0, n), must exist. */
    static void strided(String kernel, String name, float[] array, int off, int stride, int rows, int n) {
        if (array == null) {
            throw new IllegalArgumentException(kernel + ": expected array " + name + ", found null");
        }
        if (rows < 0 || n < 0 || stride < n) {
            throw new IllegalArgumentException(kernel + ": expected rows >= 0 and stride >= " + n + " for "
                    + name + ", found rows=" + rows + ", stride=" + stride);
        }
        long last = rows == 0 || n == 0 ? off : off + (long) (rows - 1) * stride + n;
        if (off < 0 || last > array.length) {
            throw new IllegalArgumentException(kernel + ": expected " + rows + " rows of " + n + " at " + name
                    + "[" + off + " + t * " + stride + "] within its " + array.length
                    + " floats, found the last ending at " + last);
        }
    }

    static void positive(String kernel, String name, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(kernel + ": expected " + name + " >= 1, found " + value);
        }
    }
}

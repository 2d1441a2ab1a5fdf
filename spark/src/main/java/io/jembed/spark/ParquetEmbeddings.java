package io.jembed.spark;

import java.nio.file.Path;
import java.util.Iterator;

import org.apache.spark.sql.SparkSession;

import io.jembed.core.index.Embeddings;

/**
 * Parquet rows for {@code jembed index --from-embeddings} (found by core through ServiceLoader):
 * read by Spark itself in a local session of one thread, each row as Spark's JSON of it, so every
 * column type the job wrote comes back as the JSON the index stores.
 */
public final class ParquetEmbeddings implements Embeddings.Format {

    @Override
    public String name() {
        return "parquet";
    }

    @Override
    public Embeddings.CloseableIterator<String> rows(Path dir) {
        boolean ours = SparkSession.getActiveSession().isEmpty() && SparkSession.getDefaultSession().isEmpty();
        SparkSession.Builder builder = SparkSession.builder();
        if (ours) {
            builder.master("local[1]");
        }
        SparkSession spark = builder.appName("jembed index --from-embeddings")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .getOrCreate();
        Iterator<String> rows = spark.read().parquet(dir.toString()).toJSON().toLocalIterator();
        return new Embeddings.CloseableIterator<>() {
            @Override
            public boolean hasNext() {
                return rows.hasNext();
            }

            @Override
            public String next() {
                return rows.next();
            }

            @Override
            public void close() {
                if (ours) {
                    spark.stop();
                }
            }
        };
    }
}

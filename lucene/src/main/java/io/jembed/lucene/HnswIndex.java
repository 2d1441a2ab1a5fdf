package io.jembed.lucene;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;

import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.NumericDocValues;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.util.FixedBitSet;

import io.jembed.core.index.FlatIndex;
import io.jembed.core.index.IndexType;
import io.jembed.core.index.Quantization;
import io.jembed.core.index.TopK;
import io.jembed.core.index.VectorIndex;
import io.jembed.core.index.VectorStore;
import io.jembed.core.kernels.WorkerPool;

/**
 * Search over the hnsw type's segments: per segment, Lucene's kNN query on its graph for
 * {@code ef} candidates (pre-filtered to the rows not excluded), each candidate re-scored exactly
 * from the store's float32 row, the same dot product flat computes; rows added since the last
 * commit (no graph yet) are scanned exactly. The best k of all, ties by lower row, as flat.
 *
 * <p>So a score is always flat's score for that row, bit for bit; what hnsw may do is miss a row
 * flat would have returned (recall below 1), less often with a larger ef.
 *
 * <p>Several queries run on the pool's threads, one query per task; a graph walk is sequential.
 */
final class HnswIndex implements VectorIndex {

    /** One segment's Lucene index: its reader, and per leaf each Lucene document's segment row. */
    private record Graph(long segment, int firstRow, int rows, DirectoryReader reader, IndexSearcher searcher,
                         int[][] docToRow) {
    }

    private final VectorStore store;
    private final WorkerPool pool;
    private final FlatIndex tail;
    private final List<Graph> graphs;
    /** Rows from here on have no graph: the tail, scanned exactly. */
    private final int firstTailRow;
    private final int defaultEf;
    /** The accept sets last made, for the exclusion set they were made from (the store reuses one until it changes). */
    private volatile Object[] acceptCache = {null, null};

    private HnswIndex(VectorStore store, WorkerPool pool, List<Graph> graphs, int firstTailRow, int defaultEf) {
        this.store = store;
        this.pool = pool;
        this.tail = FlatIndex.over(store, pool);
        this.graphs = graphs;
        this.firstTailRow = firstTailRow;
        this.defaultEf = defaultEf;
    }

    static HnswIndex open(IndexType.Context context, Map<String, String> settings) throws IOException {
        List<Graph> graphs = new ArrayList<>();
        int firstTailRow = 0;
        try {
            for (IndexType.SegmentRows segment : context.segments()) {
                if (segment.files() == null) {
                    throw new IOException("hnsw segment " + segment.id() + ": expected its graph directory, found none");
                }
                graphs.add(openGraph(segment));
                firstTailRow = segment.firstRow() + segment.rows();
            }
        } catch (IOException | RuntimeException e) {
            for (Graph graph : graphs) {
                closeQuietly(graph);
            }
            throw e;
        }
        return new HnswIndex(context.store(), context.pool(), List.copyOf(graphs), firstTailRow,
                Integer.parseInt(settings.get("ef")));
    }

    private static Graph openGraph(IndexType.SegmentRows segment) throws IOException {
        DirectoryReader reader = DirectoryReader.open(FSDirectory.open(segment.files()));
        try {
            if (reader.maxDoc() != segment.rows() || reader.numDeletedDocs() != 0) {
                throw new IOException("hnsw segment " + segment.id() + " graph " + segment.files() + ": expected "
                        + segment.rows() + " rows and no deletions, found " + reader.maxDoc() + " documents, "
                        + reader.numDeletedDocs() + " deleted");
            }
            List<LeafReaderContext> leaves = reader.leaves();
            int[][] docToRow = new int[leaves.size()][];
            int[] seen = new int[segment.rows()];
            for (LeafReaderContext leaf : leaves) {
                int maxDoc = leaf.reader().maxDoc();
                int[] rows = new int[maxDoc];
                NumericDocValues values = leaf.reader().getNumericDocValues(HnswIndexType.ROW_FIELD);
                for (int doc = 0; doc < maxDoc; doc++) {
                    long row = values != null && values.advanceExact(doc) ? values.longValue() : -1;
                    if (row < 0 || row >= segment.rows() || seen[(int) row]++ != 0) {
                        throw new IOException("hnsw segment " + segment.id() + " graph: expected each row 0 to "
                                + (segment.rows() - 1) + " once, found " + (row < 0 ? "a document without one"
                                : "row " + row + (row < segment.rows() ? " twice" : "")));
                    }
                    rows[doc] = (int) row;
                }
                docToRow[leaf.ord] = rows;
            }
            IndexSearcher searcher = new IndexSearcher(reader);
            searcher.setQueryCache(null);
            return new Graph(segment.id(), segment.firstRow(), segment.rows(), reader, searcher, docToRow);
        } catch (IOException | RuntimeException e) {
            reader.close();
            throw e;
        }
    }

    @Override
    public String type() {
        return HnswIndexType.NAME;
    }

    @Override
    public int dimension() {
        return store.dimension();
    }

    @Override
    public Quantization quantization() {
        return store.quantization();
    }

    @Override
    public int size() {
        return store.size();
    }

    @Override
    public List<List<Hit>> search(float[][] queries, int k, BitSet excluded) {
        return search(queries, k, excluded, 0);
    }

    @Override
    public List<List<Hit>> search(float[][] queries, int k, BitSet excluded, int candidates) {
        if (k < 1) {
            throw new IllegalArgumentException("k: expected >= 1, found " + k);
        }
        if (candidates < 0) {
            throw new IllegalArgumentException("ef: expected >= 1 (0: the index's default), found " + candidates);
        }
        float[][] unit = new float[queries.length][];
        for (int j = 0; j < queries.length; j++) {
            unit[j] = store.unitQuery(queries.length == 1 ? "query" : "query " + j, queries[j]);
        }
        int ef = Math.max(k, candidates == 0 ? defaultEf : candidates);
        AcceptedRows[] accepted = accepted(excluded);
        List<List<Hit>> tailHits = firstTailRow < store.size()
                ? tail.searchFrom(firstTailRow, queries, k, excluded) : null;
        @SuppressWarnings("unchecked")
        List<Hit>[] results = new List[queries.length];
        if (queries.length == 1) {
            results[0] = searchOne(unit[0], k, ef, accepted, tailHits == null ? List.of() : tailHits.get(0));
        } else {
            pool.parallelFor(queries.length, j -> results[j] = searchOne(unit[j], k, ef, accepted,
                    tailHits == null ? List.of() : tailHits.get(j)));
        }
        return List.of(results);
    }

    private List<Hit> searchOne(float[] query, int k, int ef, AcceptedRows[] accepted, List<Hit> tailHits) {
        TopK best = new TopK(k);
        for (Hit hit : tailHits) {
            best.offer(hit.position(), hit.score());
        }
        for (int g = 0; g < graphs.size(); g++) {
            Graph graph = graphs.get(g);
            if (accepted[g] != null && accepted[g].isEmpty()) {
                continue;
            }
            try {
                TopDocs found = graph.searcher().search(
                        new KnnFloatVectorQuery(HnswIndexType.VECTOR_FIELD, query, ef, accepted[g]), ef);
                List<LeafReaderContext> leaves = graph.reader().leaves();
                for (ScoreDoc hit : found.scoreDocs) {
                    LeafReaderContext leaf = leaves.get(org.apache.lucene.index.ReaderUtil.subIndex(hit.doc, leaves));
                    int row = graph.firstRow() + graph.docToRow()[leaf.ord][hit.doc - leaf.docBase];
                    best.offer(row, store.score(query, row));
                }
            } catch (IOException e) {
                throw new UncheckedIOException("hnsw segment " + graph.segment() + ": reading its graph failed", e);
            }
        }
        return best.sorted();
    }

    /** Per graph: null to accept every row, else the accept set of its rows not excluded. */
    private AcceptedRows[] accepted(BitSet excluded) {
        AcceptedRows[] none = new AcceptedRows[graphs.size()];
        if (excluded == null || excluded.isEmpty()) {
            return none;
        }
        Object[] cached = acceptCache;
        if (cached[0] == excluded) {
            return (AcceptedRows[]) cached[1];
        }
        AcceptedRows[] sets = new AcceptedRows[graphs.size()];
        for (int g = 0; g < graphs.size(); g++) {
            Graph graph = graphs.get(g);
            int from = graph.firstRow();
            int to = from + graph.rows();
            int firstExcluded = excluded.nextSetBit(from);
            if (firstExcluded < 0 || firstExcluded >= to) {
                continue;
            }
            FixedBitSet[] perLeaf = new FixedBitSet[graph.docToRow().length];
            for (int leaf = 0; leaf < perLeaf.length; leaf++) {
                int[] docToRow = graph.docToRow()[leaf];
                FixedBitSet bits = new FixedBitSet(docToRow.length);
                for (int doc = 0; doc < docToRow.length; doc++) {
                    if (!excluded.get(from + docToRow[doc])) {
                        bits.set(doc);
                    }
                }
                perLeaf[leaf] = bits;
            }
            sets[g] = new AcceptedRows(perLeaf);
        }
        acceptCache = new Object[] {excluded, sets};
        return sets;
    }

    private static void closeQuietly(Graph graph) {
        try {
            graph.reader().close();
        } catch (IOException e) {
            // Closing a reader releases mappings; nothing to recover from.
        }
    }

    @Override
    public void close() {
        for (Graph graph : graphs) {
            closeQuietly(graph);
        }
        tail.close();
    }
}

package io.jembed.lucene;

import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.search.ConstantScoreScorer;
import org.apache.lucene.search.ConstantScoreWeight;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.QueryVisitor;
import org.apache.lucene.search.ScoreMode;
import org.apache.lucene.search.ScorerSupplier;
import org.apache.lucene.search.Weight;
import org.apache.lucene.util.BitSetIterator;
import org.apache.lucene.util.FixedBitSet;

/**
 * The documents of one graph that a search may return (not deleted, passing the filter), as the
 * filter of a {@link org.apache.lucene.search.KnnFloatVectorQuery}: Lucene then walks the graph
 * keeping only these, or scores them exactly when they are few (its pre-filtered kNN).
 */
final class AcceptedRows extends Query {

    /** Per leaf (by ord) the accepted documents. */
    private final FixedBitSet[] perLeaf;
    private final boolean empty;

    AcceptedRows(FixedBitSet[] perLeaf) {
        this.perLeaf = perLeaf;
        boolean none = true;
        for (FixedBitSet bits : perLeaf) {
            none &= bits.cardinality() == 0;
        }
        this.empty = none;
    }

    /** Whether no document is accepted (the graph need not be searched). */
    boolean isEmpty() {
        return empty;
    }

    @Override
    public Weight createWeight(IndexSearcher searcher, ScoreMode scoreMode, float boost) {
        return new ConstantScoreWeight(this, boost) {
            @Override
            public ScorerSupplier scorerSupplier(LeafReaderContext context) {
                FixedBitSet bits = perLeaf[context.ord];
                ConstantScoreScorer scorer = new ConstantScoreScorer(score(), scoreMode,
                        new BitSetIterator(bits, bits.cardinality()));
                return new Weight.DefaultScorerSupplier(scorer);
            }

            @Override
            public boolean isCacheable(LeafReaderContext context) {
                return false;
            }
        };
    }

    @Override
    public String toString(String field) {
        return "AcceptedRows";
    }

    @Override
    public void visit(QueryVisitor visitor) {
        visitor.visitLeaf(this);
    }

    // Made per search and never cached: identity is the only equality that means anything.
    @Override
    public boolean equals(Object other) {
        return this == other;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(this);
    }
}

package io.jembed.tokenizer;

import java.util.List;

/**
 * The post-processor: wraps one or two token sequences in special tokens with type ids, as the
 * reference's TemplateProcessing (BERT: "[CLS] $A [SEP]" and "[CLS] $A [SEP] $B:1 [SEP]:1"), and
 * decides how many tokens of each sequence survive truncation.
 */
final class TemplateProcessing {

    /** One element of a template: a special token's ids, or sequence A or B. */
    record Piece(Kind kind, int[] specialIds, int typeId) {
    }

    enum Kind {
        SPECIAL, SEQUENCE_A, SEQUENCE_B
    }

    private final List<Piece> single;
    private final List<Piece> pair;

    TemplateProcessing(List<Piece> single, List<Piece> pair) {
        this.single = List.copyOf(single);
        this.pair = List.copyOf(pair);
    }

    /** BERT's template with the given [CLS] and [SEP] ids. */
    static TemplateProcessing bert(int clsId, int sepId) {
        Piece cls = new Piece(Kind.SPECIAL, new int[] {clsId}, 0);
        return new TemplateProcessing(
                List.of(cls, new Piece(Kind.SEQUENCE_A, null, 0), new Piece(Kind.SPECIAL, new int[] {sepId}, 0)),
                List.of(cls, new Piece(Kind.SEQUENCE_A, null, 0), new Piece(Kind.SPECIAL, new int[] {sepId}, 0),
                        new Piece(Kind.SEQUENCE_B, null, 1), new Piece(Kind.SPECIAL, new int[] {sepId}, 1)));
    }

    /** No special tokens (tokenizer.json without a post_processor). */
    static TemplateProcessing none() {
        return new TemplateProcessing(List.of(new Piece(Kind.SEQUENCE_A, null, 0)),
                List.of(new Piece(Kind.SEQUENCE_A, null, 0), new Piece(Kind.SEQUENCE_B, null, 1)));
    }

    /** Special tokens the template adds to one sequence or a pair. */
    int addedTokens(boolean isPair) {
        int count = 0;
        for (Piece piece : isPair ? pair : single) {
            count += piece.kind() == Kind.SPECIAL ? piece.specialIds().length : 0;
        }
        return count;
    }

    /**
     * The reference's longest-first truncation of a pair to maxTokens (special tokens excluded):
     * returns the tokens kept of {first, second}. If both fit nothing is cut; otherwise the shorter
     * keeps its length if the longer then gets at least as much, and else both get half, the odd
     * token going to the longer one (the first when they tie).
     */
    static int[] longestFirst(int first, int second, int maxTokens) {
        if (first + second <= maxTokens) {
            return new int[] {first, second};
        }
        boolean swapped = first > second;
        int n1 = swapped ? second : first;
        int n2 = n1 > maxTokens ? n1 : Math.max(n1, maxTokens - n1);
        if (n1 + n2 > maxTokens) {
            n1 = maxTokens / 2;
            n2 = n1 + maxTokens % 2;
        }
        int keepFirst = swapped ? n2 : n1;
        int keepSecond = swapped ? n1 : n2;
        return new int[] {Math.min(first, keepFirst), Math.min(second, keepSecond)};
    }

    /** Assembles the encoding from countA tokens of a from fromA on (and the first countB of b, for a pair). */
    Encoding apply(TokenList a, int fromA, int countA, TokenList b, int countB, Vocabulary vocabulary,
                   boolean truncated) {
        List<Piece> template = b == null ? single : pair;
        int length = addedTokens(b != null) + countA + (b == null ? 0 : countB);
        int[] ids = new int[length];
        int[] typeIds = new int[length];
        int[] starts = new int[length];
        int[] ends = new int[length];
        int at = 0;
        for (Piece piece : template) {
            if (piece.kind() == Kind.SPECIAL) {
                for (int id : piece.specialIds()) {
                    ids[at] = id;
                    typeIds[at] = piece.typeId();
                    at++;
                }
                continue;
            }
            TokenList tokens = piece.kind() == Kind.SEQUENCE_A ? a : b;
            int from = piece.kind() == Kind.SEQUENCE_A ? fromA : 0;
            int count = piece.kind() == Kind.SEQUENCE_A ? countA : countB;
            System.arraycopy(tokens.ids, from, ids, at, count);
            System.arraycopy(tokens.starts, from, starts, at, count);
            System.arraycopy(tokens.ends, from, ends, at, count);
            if (piece.typeId() != 0) {
                java.util.Arrays.fill(typeIds, at, at + count, piece.typeId());
            }
            at += count;
        }
        return new Encoding(ids, typeIds, starts, ends, vocabulary, truncated);
    }
}

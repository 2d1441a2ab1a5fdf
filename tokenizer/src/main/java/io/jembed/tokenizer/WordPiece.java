package io.jembed.tokenizer;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Hugging Face's WordPiece model ({@code models/wordpiece/mod.rs}): greedy longest-match-first
 * over the vocabulary, pieces after the first prefixed with {@code continuing_subword_prefix}
 * ("##"). A word of more than {@code max_input_chars_per_word} code points, or with a stretch no
 * piece matches, becomes a single unknown token spanning the whole word.
 *
 * <p>The vocabulary is a trie over UTF-16 chars, so the longest match from a position is one walk
 * that stops where the trie does (at most the longest token, 18 chars for BERT) instead of the
 * reference's lookup of every shorter substring; continuation pieces start from the node reached
 * by the prefix. Each node's edges are sorted by char: a scan for small fan-outs, a binary search
 * for large ones, and a direct table for ASCII at the two roots.
 */
final class WordPiece {

    private static final int ROOT = 0;
    private static final int NONE = -1;
    private static final int SCAN_LIMIT = 8;

    private final int unknownId;
    private final int maxInputCharsPerWord;

    /** Edges of node n are edgeChar/edgeTarget[edgeStart[n] .. edgeStart[n + 1]), sorted by char. */
    private final int[] edgeStart;
    private final char[] edgeChar;
    private final int[] edgeTarget;
    /** Token id ending at each node, or NONE. */
    private final int[] terminalId;
    private final int continuationRoot;
    private final int[] rootAscii = new int[0x80];
    private final int[] continuationAscii = new int[0x80];

    /**
     * @param vocabulary               token to id
     * @param unknownId                id of the unknown token
     * @param continuingSubwordPrefix  prefix of non-initial pieces ("##")
     * @param maxInputCharsPerWord     longer words (in code points) become the unknown token
     */
    WordPiece(Map<String, Integer> vocabulary, int unknownId, String continuingSubwordPrefix, int maxInputCharsPerWord) {
        this.unknownId = unknownId;
        this.maxInputCharsPerWord = maxInputCharsPerWord;
        TrieBuilder builder = new TrieBuilder();
        vocabulary.forEach(builder::insert);
        int nodes = builder.nodeCount;
        int edges = nodes - 1;
        // Each node but the root has one incoming edge; sort (parent, char, child) to lay out edges.
        long[] sorted = new long[edges];
        for (int child = 1; child < nodes; child++) {
            sorted[child - 1] = ((long) builder.parent[child] << 40) | ((long) builder.label[child] << 24) | child;
        }
        Arrays.sort(sorted);
        edgeStart = new int[nodes + 1];
        edgeChar = new char[edges];
        edgeTarget = new int[edges];
        for (int e = 0; e < edges; e++) {
            int parent = (int) (sorted[e] >>> 40);
            edgeChar[e] = (char) ((sorted[e] >>> 24) & 0xFFFF);
            edgeTarget[e] = (int) (sorted[e] & 0xFFFFFF);
            edgeStart[parent + 1]++;
        }
        for (int n = 0; n < nodes; n++) {
            edgeStart[n + 1] += edgeStart[n];
        }
        terminalId = Arrays.copyOf(builder.terminal, nodes);
        int node = ROOT;
        for (int i = 0; i < continuingSubwordPrefix.length() && node != NONE; i++) {
            node = child(node, continuingSubwordPrefix.charAt(i));
        }
        continuationRoot = node;
        for (char c = 0; c < 0x80; c++) {
            rootAscii[c] = child(ROOT, c);
            continuationAscii[c] = continuationRoot == NONE ? NONE : child(continuationRoot, c);
        }
    }

    /**
     * Appends the word's pieces, or one unknown token, to out. Pieces past out's limit are dropped.
     *
     * @return false once out is full
     */
    boolean tokenize(Word word, TokenList out) {
        int length = word.length;
        if (word.codePoints > maxInputCharsPerWord) {
            out.add(unknownId, word.start, word.end);
            return !out.isFull();
        }
        char[] chars = word.chars;
        int first = out.size;
        out.ensureCapacity(first + length);
        int[] ids = out.ids;
        int[] starts = out.starts;
        int[] ends = out.ends;
        int size = first;
        int start = 0;
        while (start < length) {
            int node = NONE;
            int matchEnd = NONE;
            int matchId = NONE;
            char c = chars[start];
            if (c < 0x80) {
                node = start == 0 ? rootAscii[c] : continuationAscii[c];
            } else if (start == 0 || continuationRoot != NONE) {
                node = child(start == 0 ? ROOT : continuationRoot, c);
            }
            int k = start + 1;
            while (node != NONE) {
                int id = terminalId[node];
                if (id != NONE) {
                    matchEnd = k;
                    matchId = id;
                }
                if (k == length) {
                    break;
                }
                node = child(node, chars[k++]);
            }
            if (matchEnd == NONE) {
                out.size = first;
                out.add(unknownId, word.start, word.end);
                return !out.isFull();
            }
            ids[size] = matchId;
            starts[size] = word.starts[start];
            ends[size] = word.ends[matchEnd - 1];
            size++;
            start = matchEnd;
        }
        out.size = Math.min(size, out.limit);
        return !out.isFull();
    }

    private int child(int node, char c) {
        int lo = edgeStart[node];
        int hi = edgeStart[node + 1];
        if (hi - lo <= SCAN_LIMIT) {
            for (int e = lo; e < hi; e++) {
                if (edgeChar[e] == c) {
                    return edgeTarget[e];
                }
            }
            return NONE;
        }
        hi--;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            char m = edgeChar[mid];
            if (m < c) {
                lo = mid + 1;
            } else if (m > c) {
                hi = mid - 1;
            } else {
                return edgeTarget[mid];
            }
        }
        return NONE;
    }

    /** Insertion-time trie: children found through a hash map, laid out as sorted edges afterwards. */
    private static final class TrieBuilder {
        int[] parent = new int[1024];
        char[] label = new char[1024];
        int[] terminal = new int[1024];
        int nodeCount = 1;
        private final Map<Long, Integer> children = new HashMap<>();

        TrieBuilder() {
            terminal[ROOT] = NONE;
        }

        void insert(String token, int id) {
            int node = ROOT;
            for (int i = 0; i < token.length(); i++) {
                char c = token.charAt(i);
                long key = ((long) node << 16) | c;
                Integer next = children.get(key);
                if (next == null) {
                    next = newNode(node, c);
                    children.put(key, next);
                }
                node = next;
            }
            terminal[node] = id;
        }

        private int newNode(int parentNode, char c) {
            if (nodeCount == parent.length) {
                parent = Arrays.copyOf(parent, 2 * nodeCount);
                label = Arrays.copyOf(label, 2 * nodeCount);
                terminal = Arrays.copyOf(terminal, 2 * nodeCount);
            }
            parent[nodeCount] = parentNode;
            label[nodeCount] = c;
            terminal[nodeCount] = NONE;
            return nodeCount++;
        }
    }
}

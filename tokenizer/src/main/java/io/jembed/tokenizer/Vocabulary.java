package io.jembed.tokenizer;

import java.util.Map;

/**
 * Token strings by id and ids by token, for the model's vocabulary plus any added tokens. Ids may
 * have gaps (a null token); a token listed twice keeps its last id, as in the reference.
 */
final class Vocabulary {

    private final String[] tokens;
    private final Map<String, Integer> ids;

    Vocabulary(String[] tokens, Map<String, Integer> ids) {
        this.tokens = tokens;
        this.ids = Map.copyOf(ids);
    }

    /** One more than the highest id. */
    int size() {
        return tokens.length;
    }

    /** The token of an id, or null if the id has none. */
    String token(int id) {
        return id >= 0 && id < tokens.length ? tokens[id] : null;
    }

    /** The id of a token, or -1. */
    int id(String token) {
        Integer id = ids.get(token);
        return id == null ? -1 : id;
    }

    Map<String, Integer> ids() {
        return ids;
    }
}

package io.jembed.core.index;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Which documents a search may return, by their stored fields: {@code field=value} conditions, as
 * {@code --filter} gives them. A document passes when, for every field named, one of the values
 * given for it equals one of the document's: conditions on different fields must all hold, values
 * given for the same field are alternatives ({@code lang=en lang=de} is English or German).
 *
 * <p>A field is one of the document's own fields ({@link Document#fields()}, top level); its
 * values as text are a string's text, a number's or boolean's JSON text ({@code year=2020} matches
 * {@code 2020}), or, for an array, each such element ({@code tags=a} matches {@code ["a", "b"]}).
 * A document without the field, or whose value is null or an object, does not pass.
 *
 * <p>The filter is applied before ranking: the k results are the k best of the documents that
 * pass (exactly so for flat; for hnsw the graph search keeps to those documents too).
 */
public final class DocumentFilter {

    private final Map<String, Set<String>> accepted;

    private DocumentFilter(Map<String, Set<String>> accepted) {
        this.accepted = accepted;
    }

    /**
     * A filter from {@code field=value} expressions (the value may contain '=': the first one splits).
     *
     * @throws IllegalArgumentException for none, or one without '=' or with an empty field name
     */
    public static DocumentFilter parse(List<String> expressions) {
        if (expressions.isEmpty()) {
            throw new IllegalArgumentException("filter: expected at least one field=value, found none");
        }
        Map<String, Set<String>> accepted = new LinkedHashMap<>();
        for (String expression : expressions) {
            int equals = expression.indexOf('=');
            if (equals <= 0) {
                throw new IllegalArgumentException("filter: expected field=value, found '" + expression + "'"
                        + (equals == 0 ? " (no field name)" : ""));
            }
            accepted.computeIfAbsent(expression.substring(0, equals), f -> new LinkedHashSet<>())
                    .add(expression.substring(equals + 1));
        }
        Map<String, Set<String>> frozen = new LinkedHashMap<>();
        accepted.forEach((field, values) -> frozen.put(field, Collections.unmodifiableSet(values)));
        return new DocumentFilter(Collections.unmodifiableMap(frozen));
    }

    /**
     * A filter from field names to the values accepted for each (as an HTTP request's
     * {@code "filter": {"lang": ["en", "de"], "year": 2020}} gives them).
     *
     * @throws IllegalArgumentException for no field, an empty field name, or a field with no value
     */
    public static DocumentFilter of(Map<String, List<String>> values) {
        if (values.isEmpty()) {
            throw new IllegalArgumentException("filter: expected at least one field, found none");
        }
        Map<String, Set<String>> accepted = new LinkedHashMap<>();
        values.forEach((field, texts) -> {
            if (field.isEmpty() || texts.isEmpty()) {
                throw new IllegalArgumentException("filter: expected a field name and at least one value, found "
                        + (field.isEmpty() ? "an empty field name" : "no value for '" + field + "'"));
            }
            accepted.put(field, Collections.unmodifiableSet(new LinkedHashSet<>(texts)));
        });
        return new DocumentFilter(Collections.unmodifiableMap(accepted));
    }

    /** The fields named, in the order given. */
    public Set<String> fields() {
        return accepted.keySet();
    }

    /** Whether a document passes. */
    public boolean matches(Document document) {
        for (Map.Entry<String, Set<String>> condition : accepted.entrySet()) {
            if (!matchesAny(values(document.fields().get(condition.getKey())), condition.getValue())) {
                return false;
            }
        }
        return true;
    }

    /** Whether a document whose fields have these values (per {@link #fields()}, in order) passes. */
    boolean matches(List<String[]> valuesPerField) {
        int f = 0;
        for (Set<String> wanted : accepted.values()) {
            if (!matchesAny(valuesPerField.get(f++), wanted)) {
                return false;
            }
        }
        return true;
    }

    private static boolean matchesAny(String[] values, Set<String> wanted) {
        for (String value : values) {
            if (wanted.contains(value)) {
                return true;
            }
        }
        return false;
    }

    private static final String[] NONE = new String[0];

    /** A field value's texts, as matched: see the class documentation. */
    static String[] values(JsonNode value) {
        if (value == null || value.isNull() || value.isObject()) {
            return NONE;
        }
        if (!value.isArray()) {
            return new String[] {value.isTextual() ? value.textValue() : value.toString()};
        }
        List<String> texts = new ArrayList<>();
        for (JsonNode element : value) {
            if (element.isValueNode() && !element.isNull()) {
                texts.add(element.isTextual() ? element.textValue() : element.toString());
            }
        }
        return texts.toArray(NONE);
    }

    @Override
    public String toString() {
        List<String> parts = new ArrayList<>();
        accepted.forEach((field, values) -> values.forEach(v -> parts.add(field + "=" + v)));
        return String.join(" ", parts);
    }
}

package io.jembed.core.server;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.jembed.tokenizer.TruncationDirection;

/**
 * A request's JSON body, read the way TEI's serde types read it: unknown fields ignored, a
 * missing or null optional field meaning its default, a field of the wrong type a 422 naming the
 * field, expected and found.
 */
final class RequestBody {

    /**
     * One input: a text, or token ids as the encoder is to see them. TEI's untagged
     * {@code Input}: a string or an id array is one input, an array of those a batch; so
     * {@code [1, 2, 3]} is one input of three ids.
     */
    record Input(String text, int[] ids) {
        boolean isText() {
            return text != null;
        }

        /** Unicode code points (x-compute-characters). */
        int characters() {
            return text == null ? 0 : text.codePointCount(0, text.length());
        }
    }

    /** Inputs and whether the request sent a batch (te_request_count{method}). */
    record Inputs(List<Input> items, boolean batch) {
        int size() {
            return items.size();
        }
    }

    private final JsonNode root;

    private RequestBody(JsonNode root) {
        this.root = root;
    }

    /**
     * Parses a body; malformed JSON is a 400 saying where, a body that is not a JSON object a 422.
     */
    static RequestBody parse(ObjectMapper mapper, byte[] body) {
        JsonNode root;
        try {
            root = mapper.readTree(body);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            throw new ApiException(400, ApiException.Type.MALFORMED,
                    "Failed to parse the request body as JSON" + where + ": " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw new ApiException(400, ApiException.Type.MALFORMED, "Failed to read the request body: " + e.getMessage());
        }
        if (root == null || root.isMissingNode()) {
            throw new ApiException(400, ApiException.Type.MALFORMED,
                    "Failed to parse the request body as JSON: expected a JSON object, found an empty body");
        }
        if (!root.isObject()) {
            throw shape("the body", "a JSON object", root);
        }
        return new RequestBody(root);
    }

    JsonNode root() {
        return root;
    }

    /** A sub-object (e.g. /similarity's parameters), missing or null meaning empty. */
    RequestBody object(String field) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return new RequestBody(com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode());
        }
        if (!node.isObject()) {
            throw shape(field, "an object", node);
        }
        return new RequestBody(node);
    }

    /** {@code inputs} as TEI reads it: a string or an id array (one input), or an array of those. */
    Inputs inputs(String field, boolean idsAllowed) {
        JsonNode node = required(field);
        String expected = idsAllowed ? "a string, an array of token ids, or an array of those" : "a string or an array of strings";
        if (node.isTextual()) {
            return new Inputs(List.of(new Input(node.textValue(), null)), false);
        }
        if (!node.isArray()) {
            throw shape(field, expected, node);
        }
        if (idsAllowed && (node.isEmpty() || node.get(0).isNumber())) {
            return new Inputs(List.of(new Input(null, ids(field, node))), false);
        }
        List<Input> items = new ArrayList<>(node.size());
        int i = 0;
        for (Iterator<JsonNode> it = node.elements(); it.hasNext(); i++) {
            JsonNode element = it.next();
            if (element.isTextual()) {
                items.add(new Input(element.textValue(), null));
            } else if (idsAllowed && element.isArray()) {
                items.add(new Input(null, ids(field + "[" + i + "]", element)));
            } else {
                throw shape(field + "[" + i + "]", idsAllowed ? "a string or an array of token ids" : "a string", element);
            }
        }
        return new Inputs(items, true);
    }

    /** An array of token ids, each a whole number in [0, 2^32) as TEI's u32. */
    static int[] ids(String field, JsonNode node) {
        if (!node.isArray()) {
            throw shape(field, "an array of token ids", node);
        }
        int[] ids = new int[node.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode id = node.get(i);
            if (!id.isIntegralNumber() || id.longValue() < 0 || id.longValue() > Integer.MAX_VALUE) {
                throw shape(field + "[" + i + "]", "a token id (a whole number >= 0)", id);
            }
            ids[i] = id.intValue();
        }
        return ids;
    }

    JsonNode required(String field) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            throw new ApiException(422, ApiException.Type.VALIDATION,
                    "Failed to deserialize the JSON body into the target type: missing field `" + field + "`");
        }
        return node;
    }

    /** An optional boolean; null or missing gives the default. */
    boolean bool(String field, boolean defaultValue) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return defaultValue;
        }
        if (!node.isBoolean()) {
            throw shape(field, "true or false", node);
        }
        return node.booleanValue();
    }

    /** An optional string; null when missing or null. */
    String string(String field) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isTextual()) {
            throw shape(field, "a string", node);
        }
        return node.textValue();
    }

    /** An optional whole number in [min, max]; null when missing or null. */
    Integer integer(String field, int min, int max) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isIntegralNumber() || node.longValue() < min || node.longValue() > max) {
            throw shape(field, "a whole number from " + min + " to " + max, node);
        }
        return node.intValue();
    }

    /** TEI's truncation_direction: Right (default) or Left, either capitalised or lowercase. */
    TruncationDirection direction(String field) {
        String value = string(field);
        if (value == null) {
            return TruncationDirection.RIGHT;
        }
        return switch (value) {
            case "Right", "right" -> TruncationDirection.RIGHT;
            case "Left", "left" -> TruncationDirection.LEFT;
            default -> throw new ApiException(422, ApiException.Type.VALIDATION,
                    "Failed to deserialize the JSON body into the target type: " + field
                            + ": expected one of `Right`, `right`, `Left`, `left`, found \"" + value + "\"");
        };
    }

    /** An optional enumeration value among allowed (lowercase), e.g. encoding_format. */
    String choice(String field, String defaultValue, String... allowed) {
        String value = string(field);
        if (value == null) {
            return defaultValue;
        }
        for (String candidate : allowed) {
            if (candidate.equals(value)) {
                return value;
            }
        }
        throw new ApiException(422, ApiException.Type.VALIDATION,
                "Failed to deserialize the JSON body into the target type: " + field + ": expected one of "
                        + String.join(", ", allowed) + ", found \"" + value + "\"");
    }

    static ApiException shape(String field, String expected, JsonNode found) {
        return new ApiException(422, ApiException.Type.VALIDATION,
                "Failed to deserialize the JSON body into the target type: " + field + ": expected " + expected
                        + ", found " + describe(found));
    }

    private static String describe(JsonNode node) {
        String kind = node.getNodeType().name().toLowerCase(Locale.ROOT);
        String text = node.toString();
        return kind + " " + (text.length() > 40 ? text.substring(0, 37) + "..." : text);
    }
}

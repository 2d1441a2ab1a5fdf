package io.jembed.weights;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;

import java.io.IOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * JSON values of a safetensors header as plain Java objects, built with jackson-core's streaming
 * parser only: opening a file does not pay for initialising jackson-databind (hundreds of
 * milliseconds on a cold JVM).
 *
 * <p>Values: {@code Map<String, Object>} (key order kept; a repeated key keeps the last value, as
 * serde does inside an entry), {@code List<Object>}, {@code String}, {@code BigInteger} for integers,
 * {@code Double} for other numbers, {@code Boolean}, and {@link #NULL}.
 */
final class HeaderJson {

    /** JSON null. */
    static final Object NULL = new Object() {
        @Override
        public String toString() {
            return "null";
        }
    };

    static final JsonFactory FACTORY = JsonFactory.builder()
            // A header may legally hold one huge metadata string or tensor name.
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxStringLength((int) SafetensorsReader.MAX_HEADER_BYTES)
                    .maxNameLength((int) SafetensorsReader.MAX_HEADER_BYTES)
                    .build())
            .build();

    private HeaderJson() {
    }

    /** The value starting at the parser's current token; leaves the parser on its last token. */
    static Object readValue(JsonParser parser) throws IOException {
        JsonToken token = parser.currentToken();
        return switch (token) {
            case START_OBJECT -> {
                Map<String, Object> object = new LinkedHashMap<>();
                while (parser.nextToken() == JsonToken.FIELD_NAME) {
                    String key = parser.currentName();
                    parser.nextToken();
                    object.put(key, readValue(parser));
                }
                yield object;
            }
            case START_ARRAY -> {
                List<Object> array = new ArrayList<>();
                while (parser.nextToken() != JsonToken.END_ARRAY) {
                    array.add(readValue(parser));
                }
                yield array;
            }
            case VALUE_STRING -> parser.getText();
            case VALUE_NUMBER_INT -> parser.getBigIntegerValue();
            case VALUE_NUMBER_FLOAT -> parser.getDoubleValue();
            case VALUE_TRUE -> Boolean.TRUE;
            case VALUE_FALSE -> Boolean.FALSE;
            case VALUE_NULL -> NULL;
            default -> throw new IllegalStateException("unexpected JSON token " + token);
        };
    }

    /** JSON type name for messages: OBJECT, ARRAY, STRING, NUMBER, BOOLEAN or NULL. */
    static String typeName(Object value) {
        if (value instanceof Map) {
            return "OBJECT";
        }
        if (value instanceof List) {
            return "ARRAY";
        }
        if (value instanceof String) {
            return "STRING";
        }
        if (value instanceof Number) {
            return "NUMBER";
        }
        if (value instanceof Boolean) {
            return "BOOLEAN";
        }
        return "NULL";
    }

    /** Compact JSON text of a value, for messages. */
    static String text(Object value) {
        if (value instanceof String s) {
            return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
        }
        if (value instanceof List<?> list) {
            return list.stream().map(HeaderJson::text).collect(Collectors.joining(",", "[", "]"));
        }
        if (value instanceof Map<?, ?> map) {
            return map.entrySet().stream().map(e -> text(e.getKey()) + ":" + text(e.getValue()))
                    .collect(Collectors.joining(",", "{", "}"));
        }
        return String.valueOf(value);
    }

    /** Whether {@code value} is an integer in [0, 2^63). */
    static boolean isNonNegativeLong(Object value) {
        return value instanceof BigInteger i && i.signum() >= 0 && i.bitLength() < 64;
    }
}

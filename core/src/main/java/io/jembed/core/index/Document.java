package io.jembed.core.index;

import java.util.Iterator;
import java.util.Objects;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

/**
 * One indexed text with its id and any other fields of its JSON line, stored beside the vectors
 * in a segment's {@code documents.S.jsonl} as {@code {"id": ..., "text": ..., "fields": {...}}}: the
 * other fields in an object of their own, so a field may be called "id" or "text" too (a BEIR line
 * indexed with {@code --text-field title} keeps its "text"). Segments of format version 2 and before
 * stored the fields beside id and text; {@link #fromStoredLine} reads both.
 *
 * <p>Ids are JSON strings or integers, kept as given (so {@code 7} and {@code "7"} stay
 * distinct in the file), but as keys of an index they are compared as text ({@link #idText}). The
 * record holds copies: the nodes passed in and returned may be changed by the caller without
 * affecting it.
 *
 * @param id     a JSON string or integer
 * @param text   the text that was embedded
 * @param fields every other field of the line (an empty object when there are none)
 */
public record Document(JsonNode id, String text, ObjectNode fields) {

    static final String ID = "id";
    static final String TEXT = "text";
    static final String FIELDS = "fields";

    public Document {
        Objects.requireNonNull(id, "id");
        if (!id.isTextual() && !id.isIntegralNumber()) {
            throw new IllegalArgumentException("document id: expected a JSON string or integer, found "
                    + id.getNodeType() + " " + id);
        }
        Objects.requireNonNull(text, "text");
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new IllegalArgumentException("document " + id + " text: expected valid Unicode, found an unpaired "
                        + "surrogate at index " + i);
            }
        }
        fields = fields == null ? JsonNodeFactory.instance.objectNode() : fields.deepCopy();
        id = id.deepCopy();
    }

    /** A document with a string id and no other fields. */
    public static Document of(String id, String text) {
        return new Document(TextNode.valueOf(id), text, null);
    }

    /**
     * A document from one corpus line: {@code id} and {@code text} taken out, every other field
     * kept.
     *
     * @throws IllegalArgumentException if the line is not an object, or lacks a string {@code text}
     *                                  or a string or integer {@code id}
     */
    public static Document fromJson(JsonNode line) {
        if (line == null || !line.isObject()) {
            throw new IllegalArgumentException("document: expected a JSON object, found "
                    + (line == null ? "nothing" : line.getNodeType()));
        }
        JsonNode id = line.get(ID);
        if (id == null || !(id.isTextual() || id.isIntegralNumber())) {
            throw new IllegalArgumentException("document field 'id': expected a string or integer, found "
                    + (id == null ? "no such field" : id.getNodeType() + " " + id));
        }
        JsonNode text = line.get(TEXT);
        if (text == null || !text.isTextual()) {
            throw new IllegalArgumentException("document " + id + " field 'text': expected a string, found "
                    + (text == null ? "no such field" : text.getNodeType()));
        }
        ObjectNode fields = JsonNodeFactory.instance.objectNode();
        for (Iterator<String> names = line.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!name.equals(ID) && !name.equals(TEXT)) {
                fields.set(name, line.get(name));
            }
        }
        return new Document(id, text.textValue(), fields);
    }

    /**
     * A document from a line of a segment's documents file: nested ({@code "fields"} holds the
     * other fields, format version 3) or, for segments written before, flat as {@link #fromJson}.
     */
    static Document fromStoredLine(JsonNode line, boolean nested) {
        if (!nested) {
            return fromJson(line);
        }
        if (line == null || !line.isObject()) {
            throw new IllegalArgumentException("document: expected a JSON object, found "
                    + (line == null ? "nothing" : line.getNodeType()));
        }
        JsonNode id = line.get(ID);
        JsonNode text = line.get(TEXT);
        JsonNode fields = line.get(FIELDS);
        if (id == null || !(id.isTextual() || id.isIntegralNumber()) || text == null || !text.isTextual()
                || (fields != null && !fields.isObject()) || line.size() != (fields == null ? 2 : 3)) {
            throw new IllegalArgumentException("document: expected {\"id\": a string or integer, \"text\": a string, "
                    + "\"fields\": an object}, found fields " + line.properties().stream().map(e -> e.getKey()).toList());
        }
        return new Document(id, text.textValue(), (ObjectNode) fields);
    }

    /** The id as text: a string id as is, an integer id in decimal. */
    public String idText() {
        return id.asText();
    }

    @Override
    public JsonNode id() {
        return id.deepCopy();
    }

    @Override
    public ObjectNode fields() {
        return fields.deepCopy();
    }

    /** The document's stored line: id, text, and the other fields (in their order) under "fields". */
    public ObjectNode toJson() {
        ObjectNode line = JsonNodeFactory.instance.objectNode();
        line.set(ID, id.deepCopy());
        line.put(TEXT, text);
        line.set(FIELDS, fields.deepCopy());
        return line;
    }
}

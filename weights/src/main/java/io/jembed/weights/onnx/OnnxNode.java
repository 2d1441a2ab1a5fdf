package io.jembed.weights.onnx;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A parsed {@code NodeProto}.
 *
 * @param name       node name ("" if unnamed)
 * @param opType     operator, e.g. "MatMul"
 * @param domain     operator set domain ("" for the default ONNX domain)
 * @param inputs     input tensor names in order ("" for an omitted optional input)
 * @param outputs    output tensor names in order
 * @param attributes attributes by name, in file order
 */
public record OnnxNode(String name, String opType, String domain, List<String> inputs, List<String> outputs,
                       Map<String, OnnxAttribute> attributes) {

    public OnnxNode {
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
        attributes = Collections.unmodifiableMap(new LinkedHashMap<>(attributes));
    }

    /** The attribute of this name, if present. */
    public Optional<OnnxAttribute> attribute(String attributeName) {
        return Optional.ofNullable(attributes.get(attributeName));
    }

    /** Input {@code i}, or "" (ONNX's "omitted") if the node has fewer inputs. */
    public String input(int i) {
        return i < inputs.size() ? inputs.get(i) : "";
    }

    /** Output {@code i}, or "" if the node has fewer outputs. */
    public String output(int i) {
        return i < outputs.size() ? outputs.get(i) : "";
    }

    /** Node name if set, else its op type and first output, for messages. */
    public String describe() {
        return opType + " '" + (name.isEmpty() ? (outputs.isEmpty() ? "?" : outputs.get(0)) : name) + "'";
    }

    static OnnxNode parse(ProtoReader r, String source) throws OnnxFormatException {
        String name = "";
        String opType = "";
        String domain = "";
        List<String> inputs = new ArrayList<>();
        List<String> outputs = new ArrayList<>();
        Map<String, OnnxAttribute> attributes = new LinkedHashMap<>();
        while (r.next()) {
            switch (r.fieldNumber()) {
                case 1 -> inputs.add(r.readString());
                case 2 -> outputs.add(r.readString());
                case 3 -> name = r.readString();
                case 4 -> opType = r.readString();
                case 5 -> {
                    OnnxAttribute attribute = OnnxAttribute.parse(r.readMessage(), source);
                    attributes.put(attribute.name(), attribute);
                }
                case 7 -> domain = r.readString();
                default -> r.skip();
            }
        }
        return new OnnxNode(name, opType, domain, inputs, outputs, attributes);
    }
}

package io.jembed.weights.onnx;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SequencedMap;

/**
 * A parsed {@code GraphProto}: nodes in topological (file) order, initializers by name in file
 * order, and the names of the graph inputs and outputs; with producer/consumer lookups.
 */
public final class OnnxGraph {

    private final String name;
    private final List<OnnxNode> nodes;
    private final SequencedMap<String, OnnxTensor> initializers;
    private final List<String> inputs;
    private final List<String> outputs;
    private final int sparseInitializerCount;
    private final Map<String, OnnxNode> producers = new HashMap<>();
    private final Map<String, List<OnnxNode>> consumers = new HashMap<>();

    OnnxGraph(String name, List<OnnxNode> nodes, SequencedMap<String, OnnxTensor> initializers, List<String> inputs,
              List<String> outputs, int sparseInitializerCount) {
        this.name = name;
        this.nodes = List.copyOf(nodes);
        this.initializers = Collections.unmodifiableSequencedMap(new LinkedHashMap<>(initializers));
        this.inputs = List.copyOf(inputs);
        this.outputs = List.copyOf(outputs);
        this.sparseInitializerCount = sparseInitializerCount;
        for (OnnxNode node : this.nodes) {
            for (String output : node.outputs()) {
                producers.put(output, node);
            }
            for (String input : node.inputs()) {
                if (!input.isEmpty()) {
                    consumers.computeIfAbsent(input, k -> new ArrayList<>()).add(node);
                }
            }
        }
    }

    static OnnxGraph parse(ProtoReader r, String source) throws OnnxFormatException {
        String name = "";
        List<OnnxNode> nodes = new ArrayList<>();
        SequencedMap<String, OnnxTensor> initializers = new LinkedHashMap<>();
        List<String> inputs = new ArrayList<>();
        List<String> outputs = new ArrayList<>();
        int sparse = 0;
        while (r.next()) {
            switch (r.fieldNumber()) {
                case 1 -> nodes.add(OnnxNode.parse(r.readMessage(), source));
                case 2 -> name = r.readString();
                case 5 -> {
                    OnnxTensor tensor = OnnxTensor.parse(r.readMessage(), source);
                    if (initializers.putIfAbsent(tensor.name(), tensor) != null) {
                        throw new OnnxFormatException(OnnxFormatException.Reason.DUPLICATE_NAME, tensor.name(), source,
                                "expected unique initializer names, found this name twice");
                    }
                }
                case 11 -> inputs.add(valueInfoName(r.readMessage()));
                case 12 -> outputs.add(valueInfoName(r.readMessage()));
                case 15 -> {
                    sparse++;
                    r.skip();
                }
                default -> r.skip();
            }
        }
        return new OnnxGraph(name, nodes, initializers, inputs, outputs, sparse);
    }

    private static String valueInfoName(ProtoReader r) throws OnnxFormatException {
        String name = "";
        while (r.next()) {
            if (r.fieldNumber() == 1) {
                name = r.readString();
            } else {
                r.skip();
            }
        }
        return name;
    }

    /** Graph name. */
    public String name() {
        return name;
    }

    /** Nodes in file order (ONNX requires topological order). */
    public List<OnnxNode> nodes() {
        return nodes;
    }

    /** Initializers by name, in file order. */
    public SequencedMap<String, OnnxTensor> initializers() {
        return initializers;
    }

    /** Graph input names (some exporters also list initializers here). */
    public List<String> inputs() {
        return inputs;
    }

    /** Graph output names. */
    public List<String> outputs() {
        return outputs;
    }

    /** Number of {@code sparse_initializer} entries, which are not parsed. */
    public int sparseInitializerCount() {
        return sparseInitializerCount;
    }

    /** The node that outputs {@code tensorName}, if any. */
    public Optional<OnnxNode> producerOf(String tensorName) {
        return Optional.ofNullable(producers.get(tensorName));
    }

    /** Nodes that take {@code tensorName} as an input, in file order. */
    public List<OnnxNode> consumersOf(String tensorName) {
        return Collections.unmodifiableList(consumers.getOrDefault(tensorName, List.of()));
    }

    /**
     * The constant value of a tensor: an initializer, or the output of a Constant node with a
     * tensor {@code value}; empty if it is computed.
     */
    public Optional<OnnxTensor> constant(String tensorName) {
        OnnxTensor initializer = initializers.get(tensorName);
        if (initializer != null) {
            return Optional.of(initializer);
        }
        OnnxNode producer = producers.get(tensorName);
        if (producer != null && producer.opType().equals("Constant")) {
            return producer.attribute("value").map(OnnxAttribute::t);
        }
        return Optional.empty();
    }
}

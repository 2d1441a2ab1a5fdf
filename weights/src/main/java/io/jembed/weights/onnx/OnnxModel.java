package io.jembed.weights.onnx;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A parsed ONNX {@code ModelProto}: the fields the importer uses. Tensor data in the graph are
 * views of the byte array given to {@link #parse}, which this model keeps alive.
 *
 * @param irVersion       {@code ir_version}
 * @param producerName    {@code producer_name}, e.g. "pytorch"
 * @param producerVersion {@code producer_version}
 * @param opsetImports    operator set versions by domain ("" is the default ONNX domain)
 * @param graph           the main graph
 * @param source          file or source name used in messages
 */
public record OnnxModel(long irVersion, String producerName, String producerVersion, Map<String, Long> opsetImports,
                        OnnxGraph graph, String source) {

    public OnnxModel {
        opsetImports = Collections.unmodifiableMap(new LinkedHashMap<>(opsetImports));
    }

    /** Reads and parses an .onnx file (the whole file is read into memory). */
    public static OnnxModel read(Path onnxFile) throws IOException {
        return parse(Files.readAllBytes(onnxFile), String.valueOf(onnxFile.getFileName()));
    }

    /**
     * Parses a serialized ModelProto. The array is not copied: initializer data are views of it.
     *
     * @param source name shown in messages
     */
    public static OnnxModel parse(byte[] bytes, String source) throws OnnxFormatException {
        ProtoReader r = new ProtoReader(bytes, source);
        long irVersion = 0;
        String producerName = "";
        String producerVersion = "";
        Map<String, Long> opsets = new LinkedHashMap<>();
        OnnxGraph graph = null;
        while (r.next()) {
            switch (r.fieldNumber()) {
                case 1 -> irVersion = r.readVarint();
                case 2 -> producerName = r.readString();
                case 3 -> producerVersion = r.readString();
                case 7 -> graph = OnnxGraph.parse(r.readMessage(), source);
                case 8 -> {
                    ProtoReader opset = r.readMessage();
                    String domain = "";
                    long version = 0;
                    while (opset.next()) {
                        switch (opset.fieldNumber()) {
                            case 1 -> domain = opset.readString();
                            case 2 -> version = opset.readVarint();
                            default -> opset.skip();
                        }
                    }
                    opsets.put(domain, version);
                }
                default -> r.skip();
            }
        }
        if (graph == null) {
            throw new OnnxFormatException(OnnxFormatException.Reason.MISSING_GRAPH, null, source,
                    "expected a ModelProto with a graph (field 7), found none in " + bytes.length + " bytes");
        }
        return new OnnxModel(irVersion, producerName, producerVersion, opsets, graph, source);
    }
}

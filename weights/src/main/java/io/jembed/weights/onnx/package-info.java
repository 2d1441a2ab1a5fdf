/**
 * Importing PyTorch ONNX exports of BERT encoders into Hugging Face named weights.
 *
 * <p>{@link io.jembed.weights.onnx.ProtoReader} reads the protobuf wire format;
 * {@link io.jembed.weights.onnx.OnnxModel} parses the ModelProto parts the importer needs (graph,
 * nodes, initializers, Constant values); {@link io.jembed.weights.onnx.OnnxImporter} recovers HF
 * names and layouts and produces an {@link io.jembed.weights.onnx.OnnxImport}, which writes
 * {@code model.safetensors} and infers {@code config.json}.
 */
package io.jembed.weights.onnx;

